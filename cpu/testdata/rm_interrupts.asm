; External interrupts: HLT waiting, the STI shadow. Loaded at 0000:1000.
; OUT to port 0x80 makes the test's interrupt controller raise vector 0x20.
bits 16
org 0x1000
  xor ax, ax
  mov ds, ax
  mov word [0x20 * 4], irq_handler
  mov word [0x20 * 4 + 2], 0
  xor si, si
  sti
  hlt                          ; the test raises vector 0x20 while halted
  mov [0x610], si              ; 1: one interrupt taken
  cli
  xor ax, ax
  out 0x80, al                 ; pending while IF = 0
  sti
  inc ax                       ; the STI shadow lets this one run first
  inc ax
  hlt
irq_handler:
  inc si
  mov [0x612], ax              ; AX when the interrupt arrived
  iret
