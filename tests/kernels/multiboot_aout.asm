; tests/kernels/multiboot_aout.asm: a flat multiboot kernel (nasm -f bin)
; that tells the loader where to go with the header's address fields
; (flag 16, the "a.out kludge"): loaded at 1 MiB, bss zeroed up to bss_end.

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010003
LOAD_ADDR equ 0x100000

section .text start=LOAD_ADDR
section .rodata follows=.text align=4
section .data follows=.rodata align=4
section .bss follows=.data nobits align=16

section .text
  jmp _start                ; the header need not be first; this checks that
  align 4
mb_header:
  dd MB_MAGIC
  dd MB_FLAGS
  dd -(MB_MAGIC + MB_FLAGS)
  dd mb_header              ; header_addr
  dd LOAD_ADDR              ; load_addr
  dd image_end              ; load_end_addr
  dd bss_end                ; bss_end_addr
  dd _start                 ; entry_addr

%include "multiboot_main.inc"

section .data
  dd 0x600dda7a             ; something in .data, so the image ends past .rodata
image_end:

section .bss
bss_end:
