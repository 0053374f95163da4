; A boot sector: prints through INT 10h teletype and exits through port 0xF4
; with 0x21 (status 0x43). Booted from a --disk by SeaBIOS or the builtin BIOS.
bits 16
org 0x7c00
  xor ax, ax
  mov ds, ax
  mov si, msg
.l: lodsb
  test al, al
  jz .d
  mov ah, 0x0e
  mov bx, 7
  int 0x10
  jmp .l
.d: mov al, 0x21
  out 0xf4, al
  hlt
msg: db "MBR says hi via INT 10h", 13, 10, 0
times 510-($-$$) db 0
dw 0xaa55
