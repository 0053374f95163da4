; Real mode -> 32-bit protected mode, then MMIO to the test target at
; 0xD0000000, a small loop, and a write to ROM at 0xFFFF0000 that must be
; dropped. Results go to port 0x700. Loaded at 0000:1000.
bits 16
org 0x1000
port equ 0x700
mmio equ 0xd0000000
rom equ 0xffff0000

start:
  cli
  xor ax, ax
  mov ds, ax
  lgdt [gdt_desc]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 0x08:pm_entry

bits 32
pm_entry:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x9000
  mov dx, port
  mov dword [mmio], 0xcafef00d
  mov eax, [mmio + 4]    ; the target answers 0x12345678
  out dx, eax
  xor eax, eax
  mov ecx, 100
.sum:
  add eax, ecx
  loop .sum
  out dx, eax            ; 5050
  mov byte [rom], 0x99   ; dropped: ROM
  mov al, [rom]
  out dx, al             ; still the ROM's first byte
  mov eax, cr0
  out dx, eax
  hlt

align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff  ; 0x08: code, 32-bit, 4 GiB
  dq 0x00cf92000000ffff  ; 0x10: data, 4 GiB
gdt_desc:
  dw gdt_desc - gdt - 1
  dd gdt
