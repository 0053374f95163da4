; mxcsr3: SSE enabled at ring 0, then LDMXCSR at ring 3 (which KVM runs on
; the hardware), INT 0x80 back to ring 0 and STMXCSR there, printed on COM1.
; Before going to ring 3 it executes LSL at ring 0, which KVMs that emulate
; ring 0 cannot emulate, and spins past the interpreter's window: an engine
; that cannot read MXCSR back from KVM must then keep the guest instead of
; returning it to KVM for the ring-3 part, or ring 0 would see a stale MXCSR.
%define MAIN64
%include "lib.inc"

USER_CODE  equ 0x180000         ; ring-3 code runs from RAM (see ring3.asm)
USER_STACK equ 0x200000
%ifndef SPIN
%define SPIN 100000
%endif

main64:
  mov rsi, msg_hello
  call print64
  mov rax, cr0
  and eax, ~4                   ; EM off
  or eax, 2                     ; MP on
  mov cr0, rax
  mov rax, cr4
  or eax, 0x600                 ; OSFXSR, OSXMMEXCPT (SDM Vol. 3 13.1.3)
  mov cr4, rax
  mov eax, SEL_DATA
  lsl ecx, eax                  ; the data segment's limit
  mov ecx, SPIN
.spin:
  dec ecx
  jnz .spin
  mov ecx, 0x80                 ; INT 0x80 from ring 3: DPL 3 gate
  mov rax, back_in_ring0
  mov edx, 3
  call set_gate64
  call load_idt64
  mov rsi, ring3_code
  mov rdi, USER_CODE
  mov ecx, ring3_end - ring3_code
  rep movsb
  push SEL_UDATA
  push USER_STACK
  push 0x2
  push SEL_UCODE64
  push USER_CODE
  iretq

ring3_code:
  push 0x7F80                   ; RC = toward zero, all exceptions masked
  ldmxcsr [rsp]
  mov eax, 0x3F800000           ; 1.0f / 3.0f: sets PE (inexact), bit 5
  movd xmm0, eax
  mov eax, 0x40400000
  movd xmm1, eax
  divss xmm0, xmm1
  int 0x80
  ud2
ring3_end:

back_in_ring0:
  mov rsi, msg_back
  call print64
  sub rsp, 8
  stmxcsr [rsp]
  mov eax, [rsp]
  add rsp, 8
  call hex64
  mov al, 10
  call put64
  jmp finish64

msg_hello: db "mxcsr: SSE on at ring 0, LDMXCSR and DIVSS at ring 3", 10, 0
msg_back:  db "mxcsr: ring 0 reads MXCSR ", 0

IMAGE_END
