; sse_ring0: 64-bit ring 0 SSE2 (PXOR, MOVQ, PADDQ, PSHUFD) computing a
; checksum, printed on COM1. It prints the address of its first SSE
; instruction first: KVMs that emulate ring 0 in software cannot emulate it
; (KVM_EXIT_INTERNAL_ERROR), and the test checks the report names it.
%define MAIN64
%include "lib.inc"

%ifndef SSE_ITER
%define SSE_ITER 1000
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
  mov rsi, msg_at
  call print64
  mov rax, first_sse
  call hex64
  mov al, 10
  call put64
first_sse:
  pxor xmm1, xmm1
  mov rax, 0x0123456789ABCDEF
  mov ecx, SSE_ITER
.loop:
  movq xmm0, rax
  paddq xmm1, xmm0
  pshufd xmm1, xmm1, 0x4E
  rol rax, 7
  dec ecx
  jnz .loop
  movq rax, xmm1
  mov rsi, msg_sum
  call print64
  call hex64
  mov al, 10
  call put64
  jmp finish64

msg_hello: db "sse: SSE2 at ring 0 in long mode", 10, 0
msg_at:    db "sse: first SSE instruction at ", 0
msg_sum:   db "sse: checksum ", 0

IMAGE_END
