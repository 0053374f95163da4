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
  ; DF=1 through the bulk path: STOSD down across the page at 0x6000.
  std
  mov di, 0x6008
  mov eax, 0xcafef00d
  mov cx, 6
  rep stosd                    ; 0x5ff4..0x600b
  mov [0x606], di              ; 0x5ff0
  ; Overlapping backward copies. Words 1..8 at 0x7000 and at 0x7100.
  mov bx, 0
.fill:
  lea ax, [bx + 1]
  shl bx, 1
  mov [0x7000 + bx], ax
  mov [0x7100 + bx], ax
  shr bx, 1
  inc bx
  cmp bx, 8
  jne .fill
  mov si, 0x700e
  mov di, 0x7010
  mov cx, 8
  rep movsw                    ; destination above: a clean move up, 0x7002..0x7011 = 1..8
  mov si, 0x710e
  mov di, 0x710c
  mov cx, 7
  rep movsw                    ; destination below: 8 replicates down over 0x7100..0x710f
  ; A backward MOVSD whose first element straddles the page at 0x8000.
  mov dword [0x7200], 0x03020100
  mov dword [0x7204], 0x07060504
  mov dword [0x7208], 0x0b0a0908
  mov si, 0x7208
  mov di, 0x7ffe
  mov cx, 3
  rep movsd                    ; 0x7ff6..0x8001 = 00 01 .. 0b
  cld
  hlt
