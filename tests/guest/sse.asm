; sse: SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2 spot checks against results
; from a real CPU (SDM Vol. 1 ch. 10-12, Vol. 2 instruction pages): packed
; and scalar float arithmetic, MIN/MAX/compare NaN rules, MXCSR rounding,
; exception flags, FTZ and DAZ, conversions, integer SIMD, shuffles,
; PCMPISTRI/PCMPESTRI/-M, CRC32 and POPCNT. The cases are in
; lib/sse_cases.inc; the expected bytes in lib/sse_expected.inc were produced
; by oracle/gen_expected.sh.
%define PROG_NAME 'sse'
%include "lib/common.inc"
%define OUTB 0x100000
%define SCRB 0x110000
CASE_TABLE equ 0x120000
%include "lib/case_macros.inc"

bits 32
main32:
  PRINT "sse: start", 10
  ; Every CPU this suite targets has SSE4.2 and POPCNT; say so if not.
  mov eax, 1
  cpuid
  mov eax, ecx
  and eax, (1 << 20) | (1 << 23) | (1 << 19) | (1 << 9) | 1
  CHECK eax, (1 << 20) | (1 << 23) | (1 << 19) | (1 << 9) | 1, 'CPUID: SSE3 SSSE3 SSE4.1 SSE4.2 POPCNT'
  mov eax, cr0
  and eax, ~0xC                 ; EM = 0, TS = 0
  or eax, 0x22                  ; MP, NE
  mov cr0, eax
  mov eax, cr4
  or eax, 0x600                 ; OSFXSR, OSXMMEXCPT
  mov cr4, eax
  fninit
  call run_cases
  mov esi, SSE_BYTES
  mov ecx, SSE_LEN
  mov edx, CASES_TOTAL
  call check_cases
  jmp pass32

run_cases:
%include "lib/sse_cases.inc"
  ret
CASES_TOTAL equ NCASES

%include "lib/case_check.inc"
%include "lib/sse_expected.inc"
; A negative TIMES count stops the build when lib/sse_expected.inc is stale
; (the cases changed): rerun oracle/gen_expected.sh.
  times -(OFF != SSE_LEN) db 0

IMAGE_END
