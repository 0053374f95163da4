; Real-mode smoke program: arithmetic, LOOP, REP MOVSB, LODSB, INT through
; the IVT, CALL/RET, MUL/DIV, PUSHA/POPA. Loaded at 0000:1000.
bits 16
org 0x1000
start:
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov al, 'R'
  out 0xe9, al
  xor ax, ax
  mov cx, 10
.sum:
  add ax, cx
  loop .sum
  mov [result], ax            ; 55
  mov si, msg
  mov di, buf
  mov cx, msglen
  cld
  rep movsb
  mov si, buf
  mov cx, msglen
.print:
  lodsb
  out 0xe9, al
  loop .print
  mov word [0x80*4], int80
  mov word [0x80*4+2], 0
  mov bx, 7
  int 0x80
  mov [result+2], bx          ; 21
  call func
  mov [result+4], dx          ; 0x1234
  mov ax, 1000
  mov cx, 7
  mul cx                      ; dx:ax = 7000
  add ax, 5
  div cx                      ; ax = 1000, dx = 5
  mov [result+6], ax
  mov [result+8], dx
  mov ax, 0x1111
  mov bp, 0x2222
  pusha
  xor ax, ax
  xor bp, bp
  popa
  mov [result+10], ax         ; 0x1111
  mov [result+12], bp         ; 0x2222
  mov eax, 0xfffffffe         ; 32-bit operand in real mode
  add eax, 3
  setc byte [result+14]       ; 1
  mov [result+16], eax        ; 1
  hlt
int80:
  imul bx, bx, 3
  iret
func:
  mov dx, 0x1234
  ret
msg db "hello"
msglen equ $ - msg
align 2
result: times 20 db 0
buf: times 16 db 0
