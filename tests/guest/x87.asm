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
%ifdef QEMU_TCG_QUIRKS
  ; QEMU computes the transcendentals in double precision.
  PRINT "  SKIP (QEMU TCG quirk): transcendental bit patterns", 10
  mov ecx, X87_EXACT_LEN
%else
  mov ecx, X87_LEN
%endif
  mov edx, CASES_TOTAL
  call check_cases
  jmp pass32

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
