; Real mode on the PC board: prints a line on COM1 through the 16550 (polling
; LSR.THRE), then exits through the exit port (0xF4). Loaded at 0000:1000.
bits 16
org 0x1000
com1 equ 0x3f8

start:
  cli
  xor ax, ax
  mov ds, ax
  mov dx, com1 + 3
  mov al, 0x80               ; DLAB
  out dx, al
  mov dx, com1
  mov al, 1                  ; 115200 baud
  out dx, al
  inc dx
  xor al, al
  out dx, al
  mov dx, com1 + 3
  mov al, 0x03               ; 8N1
  out dx, al
  mov si, msg
.next:
  lodsb
  test al, al
  jz .done
  mov ah, al
  mov dx, com1 + 5
.busy:
  in al, dx
  test al, 0x20              ; THR empty
  jz .busy
  mov dx, com1
  mov al, ah
  out dx, al
  jmp .next
.done:
  mov al, 1
  out 0xf4, al               ; exit status 3
  hlt

msg: db 'Hello from KVM', 13, 10, 0
