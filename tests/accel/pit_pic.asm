; pit_pic: real mode; the 8254 (channel 0, mode 2, 1 kHz) interrupts through
; the 8259 pair (IRQ0 -> vector 8) while the CPU halts. The handler prints a
; dot per interrupt; after 20 the program prints the count and ends.
%define MAIN16
%include "lib.inc"

COUNT equ 0x500
TICKS equ 20

main16:
  mov si, R(msg_hello)
  call print16
  mov dword [COUNT], 0
  mov word [8 * 4], R(irq0)
  mov word [8 * 4 + 2], 0xF000
  ; 8259A ICW1-ICW4: master at vector 8, slave at 0x70, 8086 mode.
  mov al, 0x11
  out 0x20, al
  out 0xA0, al
  mov al, 0x08
  out 0x21, al
  mov al, 0x70
  out 0xA1, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x02
  out 0xA1, al
  mov al, 0x01
  out 0x21, al
  out 0xA1, al
  mov al, 0xFE                  ; only IRQ0
  out 0x21, al
  mov al, 0xFF
  out 0xA1, al
  ; 8254 channel 0, lobyte/hibyte, mode 2, divisor 1193: 1 kHz.
  mov al, 0x34
  out 0x43, al
  mov ax, 1193
  out 0x40, al
  mov al, ah
  out 0x40, al
  sti
.wait:
  hlt
  cmp dword [COUNT], TICKS
  jb .wait
  cli
  mov al, 0x30                  ; channel 0 mode 0: stop the periodic IRQs
  out 0x43, al
  mov si, R(msg_done)
  call print16
  mov eax, [COUNT]
  call hex16
  mov al, 10
  call put16
  jmp finish16

irq0:
  push ax
  inc dword [COUNT]
  mov al, '.'
  call put16
  cmp dword [COUNT], TICKS
  jb .eoi
  mov al, 0xFF                  ; the last one: IRQ0 masked, so the count is
  out 0x21, al                  ; exact however late CLI runs
.eoi:
  mov al, 0x20                  ; non-specific EOI
  out 0x20, al
  pop ax
  iret

msg_hello: db "pit: 8254 IRQ0 through the 8259 at 1 kHz", 10, 0
msg_done:  db 10, "pit: interrupts seen ", 0

IMAGE_END
