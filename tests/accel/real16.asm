; real16: real-mode compute over memory (a 32-bit LCG into a table at
; 2000:0000, then a rotating sum), printed on COM1.
%define MAIN16
%include "lib.inc"

%ifndef ITER
%define ITER 3000
%endif

main16:
  mov si, R(msg_hello)
  call print16
  mov ax, 0x2000
  mov es, ax
  xor di, di
  mov cx, 0x4000                ; clear the 32 KiB table
  xor ax, ax
  rep stosw
  mov eax, 12345
  mov cx, ITER
.loop:
  imul eax, eax, 1103515245
  add eax, 12345
  mov ebx, eax
  shr ebx, 16
  and bx, 0x7FFC
  add [es:bx], eax
  loop .loop
  xor eax, eax
  xor bx, bx
.sum:
  add eax, [es:bx]
  rol eax, 3
  add bx, 4
  cmp bx, 0x8000
  jb .sum
  mov si, R(msg_sum)
  call print16
  call hex16
  mov al, 10
  call put16
  jmp finish16

msg_hello: db "real mode: 16-bit ring 0", 10, 0
msg_sum:   db "real mode: checksum ", 0

IMAGE_END
