; A boot disk for the reset path: the first boot marks sector 1 (INT 13h
; AH=03h) and resets the machine through the keyboard controller; after the
; reset the BIOS runs POST again, boots the disk again, and this time the
; mark is found and the run ends through the exit port (status 0x11 * 2 + 1).
bits 16
cpu 386
org 0x7c00

%include "lib.inc"

  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ax, 0x0201            ; Read sector 1 (CHS 0/0/2).
  mov cx, 0x0002
  mov dx, 0x0080
  mov bx, 0x8000
  int 0x13
  jc .fail
  cmp dword [0x8000], 'MARK'
  je .second
  PRINT "first boot", 13, 10
  mov dword [0x8000], 'MARK'
  mov ax, 0x0301
  mov cx, 0x0002
  mov dx, 0x0080
  int 0x13
  jc .fail
  mov al, 0xfe              ; Pulse the CPU reset line.
  out 0x64, al
  cli
  hlt
.second:
  PRINT "after reset", 13, 10
  EXIT 0x11
.fail:
  PRINT "disk error", 13, 10
  EXIT 0x7f

LIB_FUNCTIONS

times 510 - ($ - $$) db 0
dw 0xaa55
