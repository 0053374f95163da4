; tests/kernels/multiboot_elf.asm: a multiboot ELF kernel (nasm -f elf32,
; linked at 1 MiB by kernel.ld). The header asks for page-aligned modules
; (flag 0) and memory information (flag 1); no address fields, so the loader
; uses the ELF program headers.

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003

section .multiboot progbits alloc noexec nowrite align=4
  dd MB_MAGIC
  dd MB_FLAGS
  dd -(MB_MAGIC + MB_FLAGS)

%include "multiboot_main.inc"
