; A boot disk that exercises the builtin BIOS's services and prints what
; they return, one labelled line each (services_test.sh compares them with
; expected values). Sector 0 is an MBR that loads the rest with INT 13h
; AH=02h (CHS), so the load itself is the first check. Run with
; --memory 64M --clock deterministic, with "hi" and a newline on stdin.
bits 16
cpu 386
org 0x7c00

%include "lib.inc"

mbr:
  cli
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7c00
  sti
  mov [boot_drive], dl
  mov ax, 0x0200 + STAGE2_SECTORS
  mov cx, 0x0002            ; Cylinder 0, sector 2.
  xor dh, dh
  mov bx, stage2
  int 0x13
  jc .fail
  jmp stage2
.fail:
  PRINT "LOAD FAIL", 13, 10
  EXIT 0x7f

LIB_FUNCTIONS

boot_drive: db 0

times 510 - ($ - $$) db 0
dw 0xaa55

; ---------------------------------------------------------------------------
stage2:
  PRINT "LOAD ok drive="
  mov al, [boot_drive]
  call hex8
  PRINT 13, 10

  ; INT 11h / 12h.
  int 0x11
  PRINT "INT11 "
  call hex16
  int 0x12
  PRINT " INT12 "
  call hex16
  PRINT 13, 10

  ; INT 15h AH=88h and E801h.
  mov ah, 0x88
  int 0x15
  PRINT "E88 "
  call hex16
  mov ax, 0xe801
  int 0x15
  PRINT " E801 "
  call hex16
  PRINT " "
  mov ax, bx
  call hex16
  PRINT " "
  mov ax, cx
  call hex16
  PRINT " "
  mov ax, dx
  call hex16
  PRINT 13, 10

  ; INT 15h E820h, every entry.
  xor ebx, ebx
.e820:
  mov eax, 0xe820
  mov edx, 0x534d4150
  mov ecx, 24
  mov di, e820_buf
  int 0x15
  jc .e820_fail
  cmp eax, 0x534d4150
  jne .e820_fail
  PRINT "E820 "
  mov eax, [e820_buf + 4]
  call hex32
  mov eax, [e820_buf]
  call hex32
  PRINT " "
  mov eax, [e820_buf + 12]
  call hex32
  mov eax, [e820_buf + 8]
  call hex32
  PRINT " "
  mov al, [e820_buf + 16]
  call hex8
  PRINT " "
  mov al, cl
  call hex8
  PRINT 13, 10
  test ebx, ebx
  jnz .e820
  jmp .e820_done
.e820_fail:
  PRINT "E820 FAIL", 13, 10
.e820_done:

  ; A20: status, off (1 MiB wraps to 0), on again, support.
  mov ax, 0x2402
  int 0x15
  PRINT "A20 "
  call hex8
  mov ax, 0x2400
  int 0x15
  mov ax, 0xffff
  mov fs, ax
  mov byte [0x600], 0x55
  mov byte [fs:0x610], 0xaa  ; 0x100600: the same byte with A20 off.
  mov al, [0x600]
  PRINT " off:"
  call hex8
  mov ax, 0x2402
  int 0x15
  PRINT "/"
  call hex8
  mov ax, 0x2401
  int 0x15
  mov byte [0x600], 0x55
  mov byte [fs:0x610], 0xaa
  mov al, [0x600]
  PRINT " on:"
  call hex8
  mov ax, 0x2402
  int 0x15
  PRINT "/"
  call hex8
  mov ax, 0x2403
  int 0x15
  PRINT " support:"
  mov ax, bx
  call hex16
  PRINT 13, 10

  ; INT 15h AH=C0h: the configuration table's model byte.
  mov ah, 0xc0
  int 0x15
  PRINT "C0 "
  mov ax, es
  call hex16
  PRINT ":"
  mov ax, bx
  call hex16
  mov al, [es:bx + 2]
  PRINT " model="
  call hex8
  PRINT 13, 10
  xor ax, ax
  mov es, ax

  ; INT 13h: EDD check, CHS geometry, disk type.
  mov ah, 0x41
  mov bx, 0x55aa
  mov dl, 0x80
  int 0x13
  PRINT "EDD "
  mov al, ah
  call hex8
  PRINT " "
  mov ax, bx
  call hex16
  PRINT " "
  mov ax, cx
  call hex16
  PRINT 13, 10
  mov ah, 0x08
  mov dl, 0x80
  int 0x13
  PRINT "GEOM "
  mov ax, cx
  call hex16
  PRINT " "
  mov ax, dx
  call hex16
  PRINT 13, 10
  mov ah, 0x15
  mov dl, 0x80
  int 0x13
  PRINT "TYPE "
  mov al, ah
  call hex8
  PRINT " "
  mov ax, cx
  call hex16
  mov ax, dx
  call hex16
  PRINT 13, 10

  ; AH=48h with the T13 EDD-3 buffer: size, CHS, sectors, key, checksum.
  mov word [params], 0x4a
  mov ah, 0x48
  mov dl, 0x80
  mov si, params
  int 0x13
  PRINT "PARAMS "
  mov ax, [params]
  call hex16
  PRINT " "
  mov eax, [params + 4]
  call hex32
  PRINT " "
  mov eax, [params + 8]
  call hex32
  PRINT " "
  mov eax, [params + 12]
  call hex32
  PRINT " "
  mov eax, [params + 16]
  call hex32
  PRINT " "
  mov ax, [params + 0x18]
  call hex16
  PRINT " "
  mov ax, [params + 0x1e]
  call hex16
  PRINT " "
  mov si, params + 0x1e     ; Bytes 1Eh-49h sum to zero.
  mov cx, 0x4a - 0x1e
  xor al, al
.sum:
  add al, [si]
  inc si
  loop .sum
  call hex8
  PRINT 13, 10

  ; AH=42h: read sector 1 (the start of this stage) and compare.
  mov dword [dap + 8], 1
  mov word [dap + 2], 1
  mov word [dap + 4], buffer
  mov word [dap + 6], 0
  mov si, dap
  mov ah, 0x42
  mov dl, 0x80
  int 0x13
  PRINT "EXTREAD "
  mov al, ah
  call hex8
  mov si, buffer
  mov di, stage2
  mov cx, 512
  repe cmpsb
  jne .ext_bad
  PRINT " same", 13, 10
  jmp .ext_done
.ext_bad:
  PRINT " DIFFERENT", 13, 10
.ext_done:

  ; AH=43h: write a pattern to LBA 100, read it back with AH=02h (CHS
  ; 0/1/38 with 16 heads and 63 sectors) and compare.
  mov si, pattern
  mov di, buffer
  mov cx, 512
  rep movsb
  mov dword [dap + 8], 100
  mov word [dap + 2], 1
  mov si, dap
  mov ax, 0x4300
  mov dl, 0x80
  int 0x13
  PRINT "EXTWRITE "
  mov al, ah
  call hex8
  mov di, buffer2
  mov cx, 512
  xor al, al
  rep stosb
  mov ax, 0x0201
  mov cx, 38                ; Cylinder 0, sector 38.
  mov dx, 0x0180            ; Head 1, drive 80h.
  mov bx, buffer2
  int 0x13
  PRINT " CHSREAD "
  mov al, ah
  call hex8
  mov si, buffer
  mov di, buffer2
  mov cx, 512
  repe cmpsb
  jne .write_bad
  PRINT " same", 13, 10
  jmp .write_done
.write_bad:
  PRINT " DIFFERENT", 13, 10
.write_done:

  ; Errors: past the end of the disk, a missing drive, no floppy.
  mov dword [dap + 8], 100000
  mov word [dap + 2], 1
  mov si, dap
  mov ah, 0x42
  mov dl, 0x80
  int 0x13
  pushf
  PRINT "ERRORS "
  popf
  call print_ah_cf
  mov ah, 0x01
  mov dl, 0x80
  int 0x13
  call print_ah_cf
  mov ah, 0x08
  mov dl, 0x81
  int 0x13
  call print_ah_cf
  mov ah, 0x15
  mov dl, 0x00
  int 0x13
  call print_ah_cf
  PRINT 13, 10

  ; INT 10h: cursor, write and read a cell, scroll, mode. Results are kept
  ; and printed afterwards: printing moves the same cursor.
  mov ah, 0x03
  xor bh, bh
  int 0x10
  push dx                   ; The teletype position, restored below.
  mov ah, 0x02
  xor bh, bh
  mov dx, 0x0a14            ; Row 10, column 20.
  int 0x10
  mov ah, 0x03
  xor bh, bh
  int 0x10
  mov [video + 0], dx
  mov ah, 0x09              ; 'Z' with attribute 1Eh at the cursor.
  mov al, 'Z'
  mov bx, 0x001e
  mov cx, 1
  int 0x10
  mov ah, 0x08
  xor bh, bh
  int 0x10
  mov [video + 2], ax
  mov ax, 0x0601            ; Scroll the whole screen up one line.
  mov bh, 0x07
  xor cx, cx
  mov dx, 0x184f
  int 0x10
  mov ah, 0x02
  xor bh, bh
  mov dx, 0x0914
  int 0x10
  mov ah, 0x08
  xor bh, bh
  int 0x10
  mov [video + 4], ax
  mov ax, 0xb800
  mov fs, ax
  mov ax, [fs:(9 * 80 + 20) * 2]
  mov [video + 6], ax
  mov ah, 0x0f
  int 0x10
  mov [video + 8], ax
  pop dx
  mov ah, 0x02
  xor bh, bh
  int 0x10
  PRINT "VIDEO cursor="
  mov ax, [video + 0]
  call hex16
  PRINT " cell="
  mov ax, [video + 2]
  call hex16
  PRINT " scrolled="
  mov ax, [video + 4]
  call hex16
  PRINT " vga="
  mov ax, [video + 6]
  call hex16
  PRINT " mode="
  mov ax, [video + 8]
  call hex16
  PRINT 13, 10

  ; INT 1Ah: RTC date and hour:minute (the deterministic clock starts at
  ; 2020-01-01 00:00:00), and the tick count moving.
  mov ah, 0x04
  int 0x1a
  PRINT "RTC "
  mov ax, cx
  call hex16
  mov ax, dx
  call hex16
  mov ah, 0x02
  int 0x1a
  PRINT " "
  mov ax, cx
  call hex16
  PRINT 13, 10
  xor ah, ah
  int 0x1a
  mov si, dx
.tick:
  hlt
  xor ah, ah
  int 0x1a
  cmp dx, si
  je .tick
  PRINT "TICKS moving", 13, 10

  ; INT 15h AH=86h: wait 200 ms, at least 3 ticks of 55 ms.
  xor ah, ah
  int 0x1a
  mov si, dx
  mov ah, 0x86
  mov cx, 0x0003
  mov dx, 0x0d40            ; 200000 us.
  int 0x15
  PRINT "WAIT "
  mov al, ah
  call hex8
  xor ah, ah
  int 0x1a
  sub dx, si
  cmp dx, 3
  jb .wait_short
  PRINT " long enough", 13, 10
  jmp .wait_done
.wait_short:
  PRINT " TOO SHORT", 13, 10
.wait_done:

  ; INT 16h: three keys typed on the serial line ("hi" and Enter).
  PRINT "KEYS"
  mov cx, 3
.key:
  xor ah, ah
  int 0x16
  PRINT " "
  call hex16
  loop .key
  PRINT 13, 10

  PRINT "DONE", 13, 10
  EXIT 0x10

; Prints " AH/CF" for the last call.
print_ah_cf:
  pushf
  PRINT " "
  mov al, ah
  call hex8
  PRINT "/"
  popf
  setc al
  call hex8
  ret

pattern:
  times 32 db "x86vm-bios-write"

align 4
dap: db 0x10, 0
  dw 0, 0, 0
  dq 0
params: times 0x4a db 0
video: times 5 dw 0
e820_buf: times 24 db 0
stage2_end:

STAGE2_SECTORS equ (stage2_end - stage2 + 511) / 512

buffer equ 0x6000
buffer2 equ 0x6400
