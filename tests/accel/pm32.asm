; pm32: 32-bit protected-mode compute over memory (xorshift32 into a table
; at 1 MiB, MUL/DIV mixed in, then a rotating sum), printed on COM1.
%define MAIN32
%include "lib.inc"

TABLE equ 0x100000
%ifndef ITER
%define ITER 3000
%endif

main32:
  mov esi, msg_hello
  call print32
  mov eax, 2463534242
  mov ecx, ITER
  mov edi, TABLE
.loop:
  mov edx, eax
  shl edx, 13
  xor eax, edx
  mov edx, eax
  shr edx, 17
  xor eax, edx
  mov edx, eax
  shl edx, 5
  xor eax, edx
  mov ebx, eax
  and ebx, 0xFFFC
  add [edi + ebx], eax
  dec ecx
  jnz .loop
  ; MUL/DIV on the result.
  mov ebx, 0x10001
  mul ebx
  mov ebx, 7919
  xor edx, edx
  div ebx
  mov ebp, edx
  xor eax, eax
  xor ecx, ecx
.sum:
  add eax, [edi + ecx * 4]
  rol eax, 5
  inc ecx
  cmp ecx, 0x4000
  jb .sum
  xor eax, ebp
  mov esi, msg_sum
  call print32
  call hex32
  mov al, 10
  call put32
  jmp finish32

msg_hello: db "protected mode: 32-bit ring 0", 10, 0
msg_sum:   db "protected mode: checksum ", 0

IMAGE_END
