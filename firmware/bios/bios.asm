; x86vm's builtin BIOS, guest half: a 64 KiB image for F000:0000 (mapped
; like any --bios image). It only does what must run in the guest: POST
; (stack, IVT, PIC and PIT programming) and one stub per serviced interrupt
; vector that saves the registers and traps to the emulator through an I/O
; port. Every service is C++ on the host side; the protocol and the frame
; layout are documented in bios_abi.h, whose constants abi.inc carries.
bits 16
cpu 386
%include "abi.inc"

org 0

; PIC ports and commands (Intel 8259A datasheet: ICW1-ICW4, OCW2).
%define PIC1_CMD 0x20
%define PIC1_DATA 0x21
%define PIC2_CMD 0xa0
%define PIC2_DATA 0xa1
%define PIC_EOI 0x20

; ---------------------------------------------------------------------------
; POST. Entered from the reset vector with CS = F000.
post:
  cli
  cld
  xor ax, ax
  mov ss, ax
  mov sp, kPostStackTop
  mov ds, ax
  mov es, ax

  ; Clear the IVT and the BDA (0000:0000-0000:04FF) and the EBDA.
  xor di, di
  mov cx, 0x500 / 2
  rep stosw
  mov ax, kEbdaSegment
  mov es, ax
  xor di, di
  mov cx, 0x400 / 2
  xor ax, ax
  rep stosw
  mov es, ax

  ; Every vector first gets the default handler (IRET), every IRQ vector the
  ; EOI handler of its PIC, then the serviced vectors get their stubs.
  xor di, di
  mov cx, 256
.fill_ivt:
  mov word [es:di], default_handler
  mov word [es:di + 2], kBiosSegment
  add di, 4
  loop .fill_ivt
  mov di, 0x08 * 4
  mov cx, 8
.fill_master:
  mov word [es:di], default_irq_master
  add di, 4
  loop .fill_master
  mov di, 0x70 * 4
  mov cx, 8
.fill_slave:
  mov word [es:di], default_irq_slave
  add di, 4
  loop .fill_slave
  mov si, vector_table
.set_vectors:
  cs lodsw                  ; AL = vector, AH = 0 (padding).
  cmp al, 0xff
  je .vectors_done
  movzx di, al
  shl di, 2
  cs lodsw
  mov [es:di], ax
  jmp .set_vectors
.vectors_done:
  ; INT 1Eh is a pointer to the diskette parameter table, not code.
  mov word [es:0x1e * 4], kDisketteParamsOffset

  ; The 8259 pair: master at vectors 08h-0Fh, slave at 70h-77h, cascade on
  ; IRQ 2; only the timer, the keyboard and the cascade unmasked.
  mov al, 0x11              ; ICW1: edge, cascade, ICW4 follows.
  out PIC1_CMD, al
  out PIC2_CMD, al
  mov al, 0x08              ; ICW2: vector bases.
  out PIC1_DATA, al
  mov al, 0x70
  out PIC2_DATA, al
  mov al, 0x04              ; ICW3: slave on IRQ 2 / slave identity 2.
  out PIC1_DATA, al
  mov al, 0x02
  out PIC2_DATA, al
  mov al, 0x01              ; ICW4: 8086 mode.
  out PIC1_DATA, al
  out PIC2_DATA, al
  mov al, 0xf8              ; OCW1: IRQ 0, 1, 2 unmasked.
  out PIC1_DATA, al
  mov al, 0xff
  out PIC2_DATA, al

  ; PIT channel 0: mode 3, divisor 65536 (1193182 / 65536 = 18.2 Hz).
  mov al, 0x36
  out 0x43, al
  xor al, al
  out 0x40, al
  out 0x40, al

  ; The host's half of POST: BDA/EBDA, serial port, keyboard controller,
  ; PCI, ACPI tables, video mode and banner. Called like an interrupt.
  pushf
  push cs
  push word .post_done
  push word (kKindPost << 8)
  jmp trap_common
.post_done:
  sti
  int 0x19                  ; Boot; does not return.
  int 0x18

; ---------------------------------------------------------------------------
; The trap: every serviced vector comes here with its vector word pushed
; above the caller's IRET frame (bios_abi.h, "Trap protocol").
trap_common:
  push word kActionReturn
  push dword 0
  pushad
  push ds
  push es
  push fs
  push gs
.trap:
  movzx eax, sp
  xor edx, edx
  mov dx, ss
  shl edx, 4
  add eax, edx
  mov dx, kTrapPort
  out dx, eax
  mov bp, sp
  mov ax, [bp + kFrameAction]
  cmp ax, kActionReturn
  jne .not_return
  pop gs
  pop fs
  pop es
  pop ds
  popad
  add sp, 8                 ; Scratch, action, vector word.
  iret
.not_return:
  cmp ax, kActionRetry
  je .trap
  cmp ax, kActionWait
  jne .halt
  sti
  hlt
  cli
  jmp .trap
.halt:
  cli
  hlt
  jmp .halt

%macro STUB 1
stub_%1:
  push word %1
  jmp trap_common
%endmacro

STUB 0x00                   ; Divide error: reported and halted.
STUB 0x06                   ; Invalid opcode: reported and halted.
STUB 0x10
STUB 0x11
STUB 0x12
STUB 0x13
STUB 0x15
STUB 0x16
STUB 0x18
STUB 0x19
STUB 0x1a

; IRQ 0: the host counts the tick and sends the EOI; then INT 1Ch, the user
; timer hook, as on the IBM BIOS.
irq0_entry:
  pushf
  push cs
  push word .after
  push word 0x08
  jmp trap_common
.after:
  int 0x1c
  iret

; IRQ 1: read the scan code, offer it to INT 15h AH=4Fh (the keyboard
; intercept; CF clear means it was consumed), then the host translates it
; into the BDA buffer and sends the EOI.
irq1_entry:
  push ax
  in al, 0x60
  mov ah, 0x4f
  stc
  int 0x15
  jnc .consumed
  pushf
  push cs
  push word .after
  push word 0x09
  jmp trap_common
.after:
  pop ax
  iret
.consumed:
  mov al, PIC_EOI
  out PIC1_CMD, al
  pop ax
  iret

; IRQ 8 (RTC): acknowledge by reading register C, then EOI both PICs.
irq8_entry:
  push ax
  mov al, 0x0c
  out 0x70, al
  in al, 0x71
  mov al, PIC_EOI
  out PIC2_CMD, al
  out PIC1_CMD, al
  pop ax
  iret

default_irq_slave:
  push ax
  mov al, PIC_EOI
  out PIC2_CMD, al
  out PIC1_CMD, al
  pop ax
  iret

default_irq_master:
  push ax
  mov al, PIC_EOI
  out PIC1_CMD, al
  pop ax
  iret

default_handler:
  iret

; (vector, handler) pairs for POST, ended by 0xFF.
vector_table:
  dw 0x00, stub_0x00
  dw 0x06, stub_0x06
  dw 0x08, irq0_entry
  dw 0x09, irq1_entry
  dw 0x10, stub_0x10
  dw 0x11, stub_0x11
  dw 0x12, stub_0x12
  dw 0x13, stub_0x13
  dw 0x15, stub_0x15
  dw 0x16, stub_0x16
  dw 0x18, stub_0x18
  dw 0x19, stub_0x19
  dw 0x1a, stub_0x1a
  dw 0x70, irq8_entry
  dw 0xff

; ---------------------------------------------------------------------------
; Fixed-address tables.
times kSystemConfigOffset - ($ - $$) db 0
system_config:              ; INT 15h AH=C0h (Ralf Brown's list, table 00509).
  dw 8                      ; Bytes that follow.
  db 0xfc                   ; Model: AT.
  db 0x00                   ; Submodel.
  db 0x00                   ; BIOS revision.
  db 0x74                   ; Second 8259, RTC, INT 15h/4Fh from IRQ 1, EBDA.
  db 0x40                   ; INT 16h AH=09h supported.
  db 0, 0, 0

times kDisketteParamsOffset - ($ - $$) db 0
diskette_params:            ; 1.44 MB defaults (INT 1Eh).
  db 0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08

times 0xfff0 - ($ - $$) db 0
reset_vector:               ; F000:FFF0.
  jmp kBiosSegment:post
  db "11/21/25"             ; BIOS date at F000:FFF5.
  db 0
  db 0xfc                   ; Model byte at F000:FFFE.
  db 0
