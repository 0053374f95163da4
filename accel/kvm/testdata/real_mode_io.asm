; Real-mode port I/O of every size, string I/O and an IN, against the test
; target at port 0x700. Loaded at 0000:1000; ends in cli/hlt.
bits 16
org 0x1000
port equ 0x700

start:
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov dx, port
  mov al, 0x11
  out dx, al
  mov ax, 0x2233
  out dx, ax
  mov eax, 0x44556677
  out dx, eax
  in al, dx              ; the target answers 0x5a
  out dx, al
  cld
  mov si, msg
  mov cx, 5
  rep outsb              ; "hello" as one string exit
  mov di, buf
  mov cx, 2
  rep insw               ; two words from the target
  mov ax, [buf]
  out dx, ax
  mov ax, [buf + 2]
  out dx, ax
  cli
  hlt

msg: db 'hello'
buf: dw 0, 0
