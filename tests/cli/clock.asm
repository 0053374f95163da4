; Prints what a guest can observe of time: PIT channel 0 counts latched
; after busy loops, the CMOS seconds, and the TSC. With --clock deterministic
; two runs must print the same line.
bits 16
org 0
start:
  mov ax, 0xf000
  mov ds, ax
  mov cx, 4
.sample:
  push cx
  mov cx, 3000
.spin: loop .spin
  mov al, 0x00            ; Latch channel 0.
  out 0x43, al
  in al, 0x40
  mov ah, al
  in al, 0x40
  xchg al, ah             ; AX = count.
  call print_hex16
  pop cx
  loop .sample
  mov al, 0x00            ; CMOS seconds.
  out 0x70, al
  in al, 0x71
  xor ah, ah
  call print_hex16
  rdtsc
  call print_hex16
  mov al, 10
  call putc
  mov al, 0
  out 0xf4, al
  cli
  hlt

print_hex16:              ; AX as four hex digits and a space.
  mov cx, 4
.digit:
  rol ax, 4
  push ax
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 7
.out:
  call putc
  pop ax
  loop .digit
  mov al, ' '
  call putc
  ret

putc:
  push dx
  mov dx, 0x3f8
  out dx, al
  pop dx
  ret

times 0xfff0 - ($ - $$) db 0
  jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
