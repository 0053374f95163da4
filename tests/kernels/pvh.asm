; tests/kernels/pvh.asm: a PVH ELF kernel (Xen's HVM direct-boot ABI, as
; QEMU and Linux use it): the XEN_ELFNOTE_PHYS32_ENTRY note gives the 32-bit
; entry, where EBX holds the physical address of an hvm_start_info. Built as
; ELF32 (nasm -f elf32, 4-byte note) and, with -DELF64, as ELF64 (8-byte note,
; as a Linux vmlinux has); the code is 32-bit in both. It checks the entry
; state (Xen docs/misc/pvh.pandoc) and prints what start_info holds.
; Exit value 0: every check passed.

XEN_ELFNOTE_PHYS32_ENTRY equ 18
HVM_START_MAGIC equ 0x336ec578

section .note.Xen note alloc noexec nowrite align=4
  dd 4                      ; namesz: "Xen\0"
%ifdef ELF64
  dd 8                      ; descsz
%else
  dd 4
%endif
  dd XEN_ELFNOTE_PHYS32_ENTRY
  db "Xen", 0
%ifdef ELF64
  dq _start
%else
  dd _start
%endif

%include "lib.inc"

section .text
global _start
_start:
  mov [saved_ebx], ebx      ; before anything else touches it
  mov esp, stack_top
  call serial_init
%ifdef ELF64
  PRINT `pvh test kernel (ELF64)\n`
%else
  PRINT `pvh test kernel (ELF32)\n`
%endif
  call check_entry_state
  mov eax, cr4
  PRINT 'cr4='
  call hex32
  call newline
  test eax, 0x20            ; CR4.PAE: the ABI says every CR4 bit is clear
  FAIL_IF nz, 13, 'CR4.PAE is set'

  cmp dword [bss_marker], 0
  FAIL_IF ne, 8, 'the bss is not zeroed'
  mov ebx, [saved_ebx]
  PRINT 'start_info='
  mov eax, ebx
  call hex32
  test ebx, ebx
  FAIL_IF z, 7, 'EBX is 0: no hvm_start_info'
  PRINT ' magic='
  mov eax, [ebx]
  call hex32
  cmp eax, HVM_START_MAGIC
  FAIL_IF ne, 7, 'hvm_start_info.magic is not 0x336ec578'
  PRINT ' version='
  mov eax, [ebx + 4]
  call dec32
  PRINT ' flags='
  mov eax, [ebx + 8]
  call hex32
  call newline

  ; cmdline_paddr (0: none).
  mov esi, [ebx + 24]
  test esi, esi
  jz .no_cmdline
  PRINT 'cmdline='
  mov esi, [ebx + 24]
  mov ecx, 256
  call puts_max
  call newline
.no_cmdline:

  ; Modules: {paddr, size, cmdline_paddr, reserved}, 64-bit each.
  PRINT 'nr_modules='
  mov eax, [ebx + 12]
  call dec32
  call newline
  mov edi, [ebx + 16]
  xor ebp, ebp
.mod_loop:
  cmp ebp, [ebx + 12]
  jae .mods_done
  PRINT 'mod'
  mov eax, ebp
  call dec32
  PRINT ' paddr='
  mov eax, [edi]
  mov edx, [edi + 4]
  call hex64
  PRINT ' size='
  mov eax, [edi + 8]
  call dec32
  cmp dword [edi + 16], 0
  je .no_mod_cmdline
  PRINT ' cmdline='
  mov esi, [edi + 16]
  mov ecx, 128
  call puts_max
.no_mod_cmdline:
  PRINT ' data='
  mov esi, [edi]
  mov ecx, [edi + 8]
  cmp ecx, 16
  jbe .short
  mov ecx, 16
.short:
  call puts_max
  call newline
  add edi, 32
  inc ebp
  jmp .mod_loop
.mods_done:

  PRINT 'rsdp_paddr='
  mov eax, [ebx + 32]
  mov edx, [ebx + 36]
  call hex64
  call newline

  ; Version 1: memmap_paddr, memmap_entries; entries {addr, size, type, reserved}.
  cmp dword [ebx + 4], 1
  jb .memmap_done
  PRINT 'memmap_entries='
  mov eax, [ebx + 48]
  call dec32
  call newline
  mov edi, [ebx + 40]
  mov ebp, [ebx + 48]
  cmp ebp, 8
  jbe .memmap_loop
  mov ebp, 8
.memmap_loop:
  test ebp, ebp
  jz .memmap_done
  PRINT 'memmap addr='
  mov eax, [edi]
  mov edx, [edi + 4]
  call hex64
  PRINT ' size='
  mov eax, [edi + 8]
  mov edx, [edi + 12]
  call hex64
  PRINT ' type='
  mov eax, [edi + 16]
  call dec32
  call newline
  add edi, 24
  dec ebp
  jmp .memmap_loop
.memmap_done:

  PRINT `PASS\n`
  xor eax, eax
  jmp exit

section .bss
alignb 16
a20_probe:  resd 1
bss_marker: resd 1          ; never written: must read 0
saved_ebx:  resd 1
stack:      resb 8192
stack_top:
