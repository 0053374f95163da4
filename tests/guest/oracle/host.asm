; oracle/host.asm: runs a case file (CASES=...) natively on an x86-64 host.
; Assembled with: nasm -f elf64 -dHOST_ORACLE -DCASES='"lib/x87_cases.inc"'
; Exports run_cases() (fills out_buf) and out_len / exact_len.
default rel
bits 64
%define OUTB out_buf
%define SCRB scr_buf

section .bss
align 64
global out_buf
out_buf: resb 65536
align 64
scr_buf: resb 4096

section .text
%include "lib/case_macros.inc"
global run_cases
run_cases:
  push rbx
  push rbp
  push r12
  push r13
  push r14
  push r15
  sub rsp, 8
  stmxcsr [rsp]
  fnstcw [rsp + 4]
%include CASES
  fninit
  fldcw [rsp + 4]
  ldmxcsr [rsp]
  add rsp, 8
  pop r15
  pop r14
  pop r13
  pop r12
  pop rbp
  pop rbx
  ret

section .data
global out_len
global exact_len
out_len: dd OFF
%ifdef EXACT_END_SYM
exact_len: dd EXACT_END_SYM
%else
exact_len: dd OFF
%endif
section .note.GNU-stack noalloc noexec nowrite progbits
