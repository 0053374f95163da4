; Real mode: an NMI handler (IVT vector 2) reports 'N' on port 0x700; the
; main program halts with interrupts disabled, which only an NMI can wake
; (SDM Vol. 3 8.3 "HLT"), then reports 'W' and halts for good. Also checks
; that writes to the BIOS shadow at C000:0000 are dropped once the chipset
; made it read-only (the test does that before running).
bits 16
org 0x1000
port equ 0x700

start:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [2 * 4], nmi
  mov word [2 * 4 + 2], 0
  mov ax, 0xc000
  mov es, ax
  mov byte [es:0], 0x77      ; dropped: read-only shadow
  mov al, [es:0]
  mov dx, port
  out dx, al
  hlt                        ; woken by the NMI
  mov al, 'W'
  out dx, al
  hlt

nmi:
  mov al, 'N'
  out dx, al
  iret
