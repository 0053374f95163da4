; Debug features in real mode: TF single-step, an instruction breakpoint
; (DR0), a data write breakpoint (DR1), and #AC staying off at CPL 0.
; Loaded at 0000:1000; results at 0000:0600.
bits 16
org 0x1000
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov word [0x616], after_write
  mov word [1 * 4], db_handler
  mov word [1 * 4 + 2], 0
  mov word [0x600], 0          ; #DB count
  ; Single-step three instructions: POPF sets TF; the trap follows the
  ; instruction after it.
  pushf
  pop ax
  or ax, 0x100
  push ax
  popf                         ; TF=1 from here
  nop                          ; #DB after this (1)
  nop                          ; (2)
  pushf                        ; (3)
  pop ax                       ; (4)
  and ax, ~0x100
  push ax
  popf                         ; (5) (6): the trap after POPF still happens
  mov bx, [0x600]
  mov [0x602], bx              ; 7 #DB in total (TF was set before each)
  ; Instruction breakpoint on `target`.
  mov word [0x600], 0
  mov eax, target
  mov dr0, eax
  mov eax, 0x1                 ; L0, execute, length 1
  mov dr7, eax
  nop
target:
  nop
  mov bx, [0x600]
  mov [0x604], bx              ; 1
  ; Data breakpoint: writes to the dword at 0x620.
  mov word [0x600], 0
  mov eax, 0x620
  mov dr1, eax
  mov eax, (0x1 << 20) | (0x3 << 22) | 0x4   ; RW1=01 (write), LEN1=11, L1
  mov dr7, eax
  mov ax, [0x620]              ; a read: no trap
  mov word [0x622], 7          ; a write inside the dword: trap
after_write:
  mov bx, [0x600]
  mov [0x606], bx              ; 1
  hlt

db_handler:
  push bp
  mov bp, sp
  inc word [0x600]
  mov eax, dr6
  mov [0x610], eax             ; last DR6
  mov ax, [bp + 2]
  mov [0x614], ax              ; last return IP
  xor eax, eax
  mov dr7, eax                 ; real-mode IRET cannot set RF: disarm instead
  mov dr6, eax
  pop bp
  iret
