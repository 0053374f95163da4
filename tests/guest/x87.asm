; x87: the x87 FPU against bit patterns from a real CPU (SDM Vol. 1 ch. 8):
; loads and stores of every format, arithmetic in each rounding mode and
; precision control, FPREM/FPREM1, constants, FSCALE/FXTRACT/FRNDINT,
; FBLD/FBSTP, FXAM, FCOM/FUCOM/FCOMI/FUCOMI, stack overflow/underflow,
; FSAVE/FRSTOR and FXSAVE layouts, FINIT defaults, and transcendentals.
; The cases are in lib/x87_cases.inc; the expected bytes in
; lib/x87_expected.inc were produced by oracle/gen_expected.sh.
%define PROG_NAME 'x87'
%include "lib/common.inc"
%define OUTB 0x100000
%define SCRB 0x110000
CASE_TABLE equ 0x120000
%include "lib/case_macros.inc"

bits 32
main32:
  PRINT "x87: start", 10
  mov eax, cr0
  and eax, ~0xC                 ; EM = 0, TS = 0
  or eax, 0x22                  ; MP, NE
  mov cr0, eax
  mov eax, cr4
  or eax, 0x600                 ; OSFXSR, OSXMMEXCPT
  mov cr4, eax
  call run_cases
  mov esi, X87_BYTES
  mov ecx, X87_EXACT_LEN
  mov edx, CASES_TOTAL
  call check_cases
%ifdef QEMU_TCG_QUIRKS
  ; QEMU computes the transcendentals in double precision.
  PRINT "  SKIP (QEMU TCG quirk): transcendental results", 10
%else
  call check_approx
%endif
  jmp pass32

; The transcendental results: each 80-bit value must have the real CPU's
; sign and exponent and a significand within X87_APPROX_ULPS of it.
X87_APPROX_ULPS equ 1024
check_approx:
  mov edi, X87_EXACT_LEN
.loop:
  cmp edi, X87_LEN
  jae .done
  movzx eax, word [OUTB + edi + 8]
  movzx ebx, word [X87_BYTES + edi + 8]
  CHECK eax, ebx, 'transcendental: sign/exponent'
  mov eax, [OUTB + edi]
  mov edx, [OUTB + edi + 4]
  sub eax, [X87_BYTES + edi]
  sbb edx, [X87_BYTES + edi + 4]
  jns .pos
  neg eax
  adc edx, 0
  neg edx
.pos:
  test edx, edx
  jnz .bad
  cmp eax, X87_APPROX_ULPS
  ja .bad
  add edi, 10
  jmp .loop
.bad:
  mov eax, [OUTB + edi]
  mov ebx, [X87_BYTES + edi]
  push edi
  PRINT "  transcendental value off by more than X87_APPROX_ULPS at +0x", 0
  pop eax
  push eax
  sub eax, X87_EXACT_LEN
  call puthex32
  PRINT 10
  pop edi
  mov eax, [OUTB + edi]
  CHECK eax, ebx, 'transcendental: significand (low dword)'
  add edi, 10
  jmp .loop
.done:
  ret

run_cases:
%include "lib/x87_cases.inc"
  fninit
  ret
CASES_TOTAL equ NCASES

%include "lib/case_check.inc"
%include "lib/x87_expected.inc"
; A negative TIMES count stops the build when lib/x87_expected.inc is stale
; (the cases changed): rerun oracle/gen_expected.sh.
  times -(OFF != X87_LEN) db 0

IMAGE_END
