; Real mode on the PC board: programs the 8259 pair and the 8254 (IRQ0 at
; 1 kHz), counts IRQ0s in an IVT handler while halting, then writes the
; count to the debug console (0xE9) and exits through the exit port (0xF4).
; Loaded at 0000:1000.
bits 16
org 0x1000

start:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [8 * 4], irq0      ; IRQ0 -> vector 8 (the BIOS layout)
  mov word [8 * 4 + 2], 0
  ; 8259A initialisation (ICW1-ICW4): master at vector 8, slave at 0x70.
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x08
  out 0x21, al
  mov al, 0x70
  out 0xa1, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x02
  out 0xa1, al
  mov al, 0x01
  out 0x21, al
  out 0xa1, al
  mov al, 0xfe                ; only IRQ0
  out 0x21, al
  mov al, 0xff
  out 0xa1, al
  ; 8254 channel 0, mode 2, divisor 1193: about 1 kHz.
  mov al, 0x34
  out 0x43, al
  mov al, 1193 & 0xff
  out 0x40, al
  mov al, 1193 >> 8
  out 0x40, al
  sti
.wait:
  hlt
  cmp word [count], 10
  jb .wait
  cli
  mov al, [count]
  out 0xe9, al
  mov al, 0
  out 0xf4, al               ; exit status 1 ((0 << 1) | 1)
  hlt

irq0:
  push ax
  inc word [count]
  mov al, 0x20                ; non-specific EOI
  out 0x20, al
  pop ax
  iret

count: dw 0
