; A firmware image for the --trace command-line test: a counted loop and a
; #UD whose real-mode handler skips the UD2, then the exit port (0xF4) with
; 0x15 (exit status 0x2B). Loaded with --bios PATH like QEMU's -bios.
bits 16
org 0
start:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [6 * 4], ud_handler   ; IVT entry for #UD
  mov word [6 * 4 + 2], 0xf000
  mov cx, 3
count:
  dec cx
  jnz count
  ud2
  mov al, 0x15
  out 0xf4, al
  cli
  hlt

ud_handler:                      ; Resume after the 2-byte UD2.
  push bp
  mov bp, sp
  add word [bp + 2], 2
  pop bp
  iret

times 0xfff0 - ($ - $$) db 0
  jmp 0xf000:start               ; The reset vector at F000:FFF0.
times 0x10000 - ($ - $$) db 0
