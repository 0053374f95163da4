; long64: 64-bit ring 0 compute over memory (xorshift64 into a 64 KiB table
; at 1 MiB, then a sum), printed on COM1.
%define MAIN64
%include "lib.inc"

TABLE equ 0x100000
%ifndef ITER
%define ITER 4000
%endif

main64:
  mov rsi, msg_hello
  call print64
  mov rax, 0x9E3779B97F4A7C15
  mov ecx, ITER
  mov rdi, TABLE
.loop:
  mov rdx, rax
  shl rdx, 13
  xor rax, rdx
  mov rdx, rax
  shr rdx, 7
  xor rax, rdx
  mov rdx, rax
  shl rdx, 17
  xor rax, rdx
  mov edx, eax
  and edx, 0xFFF8               ; a 64 KiB table
  add [rdi + rdx], rax
  dec ecx
  jnz .loop
  xor eax, eax
  xor ecx, ecx
.sum:
  add rax, [rdi + rcx * 8]
  rol rax, 1
  inc ecx
  cmp ecx, 0x2000
  jb .sum
  mov rsi, msg_sum
  call print64
  call hex64
  mov al, 10
  call put64
  jmp finish64

msg_hello: db "long mode: 64-bit ring 0", 10, 0
msg_sum:   db "long mode: checksum ", 0

IMAGE_END
