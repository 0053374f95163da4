; REP MOVS/STOS through the bulk path: overlapping forward copies replicate
; (as element-by-element execution does), runs crossing pages, DF=1.
; Loaded at 0000:1000.
bits 16
org 0x1000
  xor ax, ax
  mov ds, ax
  mov es, ax
  cld
  mov dword [0x2000], 'ABCD'
  mov si, 0x2000
  mov di, 0x2001
  mov cx, 100
  rep movsb                    ; 0x2001..0x2064 = 'A'
  mov di, 0x2ff0
  mov eax, 0x11223344
  mov cx, 12
  rep stosd                    ; 0x2ff0..0x301f across a page boundary
  mov [0x600], di              ; 0x3020
  mov [0x602], cx              ; 0
  std
  mov si, 0x3003
  mov di, 0x4003
  mov cx, 4
  rep movsb                    ; backwards: 0x4000..0x4003 = 44 33 22 11... copy of 0x3000..0x3003
  cld
  mov [0x604], si              ; 0x2fff
  mov si, 0x5000
  mov di, 0x5002
  mov dword [0x5000], 0x0201
  mov cx, 8
  rep movsw                    ; overlapping by one word: 01 02 repeated
  ; Overlap closer than the element size: MOVSD with di = si + 1.
  mov dword [0x5100], 0x13121110
  mov dword [0x5104], 0x17161514
  mov dword [0x5108], 0x1b1a1918
  mov dword [0x510c], 0x1f1e1d1c
  mov si, 0x5100
  mov di, 0x5101
  mov cx, 3
  rep movsd
  hlt
