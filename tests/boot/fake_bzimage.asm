; A stand-in Linux kernel for boot-loader tests: a bzImage whose header
; (Linux boot protocol 2.06, Documentation/arch/x86/boot.rst) makes boot
; loaders treat it as Linux, and whose real-mode setup code, entered at
; (segment + 20h):0000, reports what the loader handed over on the console
; (INT 10h, mirrored to COM1 by the builtin BIOS), then ends the run through
; the exit port 0xF4 with 0x2A (exit status 85). Loaders that use the 32-bit
; protocol (GRUB's `linux`) enter the protected-mode part instead, which
; reports the same on COM1 directly.
bits 16
cpu 386
org 0

SETUP_SECTS equ 2

; Boot sector (its header fields from 0x1F1).
  times 0x1f1 - ($ - $$) db 0
setup_sects: db SETUP_SECTS
root_flags: dw 0
syssize: dd (pm_end - pm_start) / 16  ; 16-byte paragraphs of protected-mode code.
ram_size: dw 0
vid_mode: dw 0xffff
root_dev: dw 0
boot_flag: dw 0xaa55

; Setup header proper (0x200).
  jmp short setup_start
header: db "HdrS"
version: dw 0x0206
realmode_swtch: dd 0
start_sys_seg: dw 0x1000
kernel_version: dw version_string - 0x200
type_of_loader: db 0
loadflags: db 0x01            ; LOADED_HIGH: protected-mode code at 1 MiB.
setup_move_size: dw 0x8000
code32_start: dd 0x100000
ramdisk_image: dd 0
ramdisk_size: dd 0
bootsect_kludge: dd 0
heap_end_ptr: dw 0
ext_loader_ver: db 0
ext_loader_type: db 0
cmd_line_ptr: dd 0
initrd_addr_max: dd 0x37ffffff
kernel_alignment: dd 0x200000
relocatable_kernel: db 0
min_alignment: db 0
xloadflags: dw 0
cmdline_size: dd 2047

version_string: db "x86vm fake bzImage", 0

; CS = DS + 20h here; data is addressed through DS (the file's start).
setup_start:
  mov ax, cs
  sub ax, 0x20
  mov ds, ax
  mov si, msg_reached
  call print
  mov si, msg_initrd
  call print
  mov eax, [ramdisk_size]
  call hex32
  mov si, msg_cmdline
  call print
  ; The command line is below 1 MiB: reach it through FS.
  mov eax, [cmd_line_ptr]
  mov ebx, eax
  shr eax, 4
  mov fs, ax
  and bx, 0x0f
.cmdline:
  mov al, [fs:bx]
  test al, al
  jz .done
  call putc
  inc bx
  jmp .cmdline
.done:
  mov si, msg_end
  call print
  mov al, 0x2a
  out 0xf4, al
  cli
  hlt

putc:
  pusha
  mov ah, 0x0e
  mov bx, 0x0007
  int 0x10
  popa
  ret

print:                        ; DS:SI, zero-terminated.
  lodsb
  test al, al
  jz .done
  call putc
  jmp print
.done:
  ret

hex32:
  pusha
  mov cx, 8
  mov edx, eax
hex_digits:
  rol edx, 4
  mov al, dl
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .digit
  add al, 'A' - '0' - 10
.digit:
  call putc
  loop hex_digits
  popa
  ret

msg_reached: db "fake kernel: setup reached", 0
msg_initrd: db ", initrd bytes ", 0
msg_cmdline: db ", cmdline '", 0
msg_end: db "'", 13, 10, 0

  times (SETUP_SECTS + 1) * 512 - ($ - $$) db 0

; Protected-mode part, entered at code32_start by loaders that use the
; 32-bit boot protocol (GRUB's `linux`; boot.rst "32-bit boot protocol"):
; flat 4 GiB segments, paging and interrupts off, ESI = boot_params. There
; is no BIOS here, so it writes straight to COM1 (8250 at 3F8h). The code
; is position independent: a loader may place it anywhere.
bits 32
COM1 equ 0x3f8
pm_start:
  call .here
.here:
  pop ebp
  sub ebp, .here - pm_start          ; EBP = where this part was loaded.
  lea ebx, [ebp + pm_msg_reached - pm_start]
  call pm_print
  mov eax, [esi + 0x21c]             ; boot_params.hdr.ramdisk_size
  call pm_hex32
  lea ebx, [ebp + pm_msg_cmdline - pm_start]
  call pm_print
  mov ebx, [esi + 0x228]             ; boot_params.hdr.cmd_line_ptr
  call pm_print
  lea ebx, [ebp + pm_msg_end - pm_start]
  call pm_print
  mov al, 0x2a
  out 0xf4, al
  cli
  hlt

pm_putc:                             ; AL, after the transmitter is empty.
  push eax
  push edx
  mov ah, al
  mov dx, COM1 + 5
.wait:
  in al, dx
  test al, 0x20
  jz .wait
  mov dx, COM1
  mov al, ah
  out dx, al
  pop edx
  pop eax
  ret

pm_print:                            ; EBX, zero-terminated.
  push eax
.next:
  mov al, [ebx]
  test al, al
  jz .done
  call pm_putc
  inc ebx
  jmp .next
.done:
  pop eax
  ret

pm_hex32:                            ; EAX
  push ecx
  push edx
  mov edx, eax
  mov ecx, 8
.digit:
  rol edx, 4
  mov al, dl
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 'A' - '0' - 10
.out:
  call pm_putc
  loop .digit
  pop edx
  pop ecx
  ret

pm_msg_reached: db "fake kernel: 32-bit entry reached, initrd bytes ", 0
pm_msg_cmdline: db ", cmdline '", 0
pm_msg_end: db "'", 13, 10, 0

  align 16, db 0xf4
pm_end:
