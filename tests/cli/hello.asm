; A minimal firmware image for command-line tests: prints a greeting on COM1
; and on the debug console, then ends through the exit port (0xF4) with the
; value 0x15 (exit status 0x2B). Loaded with --bios PATH like QEMU's -bios.
bits 16
org 0
start:
  mov ax, 0xf000
  mov ds, ax
  mov si, msg
.next:
  lodsb
  test al, al
  jz .done
  mov dx, 0x3f8
  out dx, al
  out 0xe9, al
  jmp .next
.done:
  mov al, 0x15
  out 0xf4, al
  cli
  hlt
msg: db "Hello from x86vm", 13, 10, 0

times 0xfff0 - ($ - $$) db 0
  jmp 0xf000:start          ; The reset vector at F000:FFF0.
times 0x10000 - ($ - $$) db 0
