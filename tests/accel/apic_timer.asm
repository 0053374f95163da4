; apic_timer: 32-bit protected mode; the local APIC timer (periodic, vector
; 0x40, 1 ms at the 1 GHz bus clock) interrupts while the CPU halts, the 8259
; masked. The handler prints a dot and writes EOI; after 10 the program
; masks the timer, prints the count and the LVT read back, and ends.
%define MAIN32
%include "lib.inc"

APIC   equ 0xFEE00000
COUNT  equ 0x500
TICKS  equ 10
VECTOR equ 0x40

main32:
  mov esi, msg_hello
  call print32
  mov dword [COUNT], 0
  mov al, 0xFF                  ; the 8259 pair masked
  out 0x21, al
  out 0xA1, al
  ; IDT entry VECTOR: a 32-bit interrupt gate to apic_irq.
  mov edi, IDT_RAM + VECTOR * 8
  mov eax, apic_irq
  mov [edi], ax
  mov word [edi + 2], SEL_CODE32
  mov word [edi + 4], 0x8E00
  shr eax, 16
  mov [edi + 6], ax
  lidt [idt_desc32]
  mov dword [APIC + 0xF0], 0x1FF          ; SVR: APIC on, spurious 0xFF
  mov dword [APIC + 0x3E0], 0xB           ; divide by 1
  mov dword [APIC + 0x320], 0x20000 | VECTOR  ; periodic
  mov dword [APIC + 0x380], 1000000       ; 1 ms
  sti
.wait:
  hlt
  cmp dword [COUNT], TICKS
  jb .wait
  cli
  mov esi, msg_done
  call print32
  mov eax, [COUNT]
  call hex32
  mov esi, msg_lvt
  call print32
  mov eax, [APIC + 0x320]
  call hex32
  mov al, 10
  call put32
  jmp finish32

apic_irq:
  push eax
  inc dword [COUNT]
  mov al, '.'
  call put32
  cmp dword [COUNT], TICKS
  jb .eoi
  mov dword [APIC + 0x320], 0x10000 | VECTOR  ; the last one: masked, so the
.eoi:                                          ; count is exact however late CLI runs
  mov dword [APIC + 0xB0], 0              ; EOI
  pop eax
  iretd

msg_hello: db "apic: local APIC timer, periodic, 1 ms", 10, 0
msg_done:  db 10, "apic: interrupts seen ", 0
msg_lvt:   db ", LVT timer ", 0

IMAGE_END
