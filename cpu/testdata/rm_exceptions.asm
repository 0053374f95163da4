; Real-mode events: #DE through the IVT, a REP STOSW (a32) stopped by a #GP
; at the segment limit, and self-modifying code. Loaded at 0000:1000;
; results in 0000:0600.
bits 16
org 0x1000
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov word [0 * 4], de_handler
  mov word [0 * 4 + 2], 0
  mov word [13 * 4], gp_handler
  mov word [13 * 4 + 2], 0
  ; #DE: the handler sees IP of the DIV and skips it (2 bytes).
  mov ax, 1
  xor cl, cl
div_insn:
  div cl
  mov [0x600], bx              ; 0xde
  ; Self-modifying code: patch an immediate after it has been decoded once.
  mov cx, 2
again:
patch:
  mov al, 0x11
  mov byte [patch + 1], 0x42
  loop again
  mov [0x602], al              ; 0x42
  ; REP STOSW with 32-bit addressing runs into ES's 64 KiB limit.
  mov edi, 0xfff8
  mov ecx, 8
  mov ax, 0xabcd
  cld
rep_insn:
  a32 rep stosw
  hlt
de_handler:
  mov bx, 0xde
  mov bp, sp
  mov ax, [bp]
  mov [0x604], ax              ; faulting IP
  add word [bp], 2
  iret
gp_handler:
  mov bp, sp
  mov ax, [bp]
  mov [0x606], ax              ; IP of the REP instruction
  mov [0x608], ecx             ; remaining count
  mov [0x60c], edi
  hlt
