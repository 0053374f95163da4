; real_mode: real-address mode behaviour (SDM Vol. 1 ch. 7, Vol. 2 instruction
; pages, Vol. 3 ch. 20): arithmetic and flags, string instructions with REP,
; BCD adjustments, MUL/DIV and #DE through the IVT, INT n/IRET, far CALL/RET,
; segment arithmetic, LIDT in real mode, unreal (big real) mode through a
; protected-mode round trip, and the A20 gate at port 0x92.
%define PROG_NAME 'real_mode'
%define REAL_MODE_MAIN
%include "lib/common.inc"

; Defined flags masks (SDM Vol. 1 3.4.3).
F_CF equ 0x001
F_PF equ 0x004
F_AF equ 0x010
F_ZF equ 0x040
F_SF equ 0x080
F_TF equ 0x100
F_IF equ 0x200
F_DF equ 0x400
F_OF equ 0x800
F_ARITH equ F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF

BUF  equ 0x4000                 ; scratch buffers (segment 0)
BUF2 equ 0x4800

; FLAGS_IS mask, value, 'text': the low FLAGS, masked, must equal value.
%macro FLAGS_IS 3
  mov word [lib_tmp + 2], 0
  pushf
  pop word [lib_tmp]
  and word [lib_tmp], %1
  CHECK dword [lib_tmp], %2, %3
%endmacro

bits 16
; Real-mode exception/interrupt stubs: push the vector, then the common part.
%macro RM_ISR 1
rm_isr_%1:
  push word %1
  jmp rm_isr_common
%endmacro
RM_ISR 0
RM_ISR 1
RM_ISR 3
RM_ISR 4
RM_ISR 5
RM_ISR 6
RM_ISR 13
RM_ISR 0x40

; Stack on entry: [bp+2] vector, [bp+4] ip, [bp+6] cs, [bp+8] flags.
rm_isr_common:
  push bp
  mov bp, sp
  push eax
  push ds
  xor ax, ax
  mov ds, ax
  movzx eax, word [bp + 2]
  mov [exc_vec], eax
  mov dword [exc_err], 0
  movzx eax, word [bp + 4]
  mov [exc_eip], eax
  movzx eax, word [bp + 6]
  mov [exc_cs], eax
  movzx eax, word [bp + 8]
  mov [exc_eflags], eax
  inc dword [exc_count]
  mov eax, [resume_eip]
  test eax, eax
  jz .ret                        ; traps and INT n return to the next insn
  mov [bp + 4], ax
.ret:
  pop ds
  pop eax
  pop bp
  add sp, 2
  iret

; Handler for INT 0x41: sets CF in the saved FLAGS, returns bx = its own
; FLAGS (IF and TF must be clear) and cx = the saved IP.
rm_int41:
  push bp
  mov bp, sp
  pushf
  pop bx
  mov cx, [bp + 2]
  or word [bp + 6], F_CF
  pop bp
  iret

; INT 0x50 through a relocated IVT (LIDT in real mode): returns ax = 0x5050.
rm_int50:
  mov ax, 0x5050
  iret

; set_ivt: al = vector, bx = handler offset in segment 0xF000.
set_ivt:
  push di
  push ax
  movzx di, al
  shl di, 2
  mov [di], bx
  mov word [di + 2], 0xF000
  pop ax
  pop di
  ret

main16:
  PRINT "real_mode: start", 10
  ; The IVT.
  mov al, 0
  mov bx, R(rm_isr_0)
  call set_ivt
  mov al, 1
  mov bx, R(rm_isr_1)
  call set_ivt
  mov al, 3
  mov bx, R(rm_isr_3)
  call set_ivt
  mov al, 4
  mov bx, R(rm_isr_4)
  call set_ivt
  mov al, 5
  mov bx, R(rm_isr_5)
  call set_ivt
  mov al, 6
  mov bx, R(rm_isr_6)
  call set_ivt
  mov al, 13
  mov bx, R(rm_isr_13)
  call set_ivt
  mov al, 0x40
  mov bx, R(rm_isr_0x40)
  call set_ivt
  mov al, 0x41
  mov bx, R(rm_int41)
  call set_ivt

  call test_arith
  call test_muldiv
  call test_bcd
  call test_string
  call test_int
  call test_far
  call test_segments
  call test_a20_unreal
  jmp pass16

; ------------------------------------------------------------ arithmetic
test_arith:
  PRINT "  arithmetic and flags", 10
  mov ax, 0x7FFF
  add ax, 1
  FLAGS_IS F_ARITH, F_OF | F_SF | F_AF | F_PF, 'add 7FFF+1 flags'
  movzx eax, ax
  CHECK eax, 0x8000, 'add 7FFF+1'

  mov al, 0
  sub al, 1
  FLAGS_IS F_ARITH, F_SF | F_AF | F_PF | F_CF, 'sub 0-1 flags'

  stc
  mov ax, 0xFFFF
  adc ax, 0
  FLAGS_IS F_ARITH, F_ZF | F_AF | F_PF | F_CF, 'adc FFFF+0+CF flags'

  stc
  mov al, 0x80
  sbb al, 0
  FLAGS_IS F_ARITH, F_OF | F_AF, 'sbb 80-0-CF flags'
  movzx eax, al
  CHECK eax, 0x7F, 'sbb 80-0-CF'

  stc
  mov al, 0xFF
  inc al                        ; INC leaves CF alone
  FLAGS_IS F_ARITH, F_ZF | F_AF | F_PF | F_CF, 'inc FF flags (CF kept)'

  mov al, 0x80
  neg al
  FLAGS_IS F_ARITH, F_OF | F_SF | F_CF, 'neg 80 flags'
  mov al, 0
  neg al
  FLAGS_IS F_ARITH, F_ZF | F_PF, 'neg 0 flags (CF=0)'

  mov al, 0xC0
  shl al, 1                     ; OF = MSB(result) xor CF; AF undefined
  FLAGS_IS F_OF | F_SF | F_ZF | F_PF | F_CF, F_SF | F_CF, 'shl C0,1 flags'

  clc
  mov al, 0x81
  rcl al, 1
  FLAGS_IS F_OF | F_CF, F_OF | F_CF, 'rcl 81,1 flags'
  movzx eax, al
  CHECK eax, 0x02, 'rcl 81,1'

  mov ax, 0x1234
  mov cl, 4
  rol ax, cl
  movzx eax, ax
  CHECK eax, 0x2341, 'rol 1234,4'
  mov ax, 0x8001
  sar ax, 1
  movzx eax, ax
  CHECK eax, 0xC000, 'sar 8001,1'
  mov al, 1
  mov cl, 0x21                  ; count masked to 5 bits: shift by 1
  shl al, cl
  movzx eax, al
  CHECK eax, 2, 'shl count masked to 5 bits'
  mov ax, 0x1234
  mov dx, 0xABCD
  shld ax, dx, 4
  movzx eax, ax
  CHECK eax, 0x234A, 'shld'

  ; PUSH SP pushes the value before the decrement (286+).
  push sp
  pop ax
  mov bx, sp
  movzx eax, ax
  movzx ebx, bx
  CHECK eax, ebx, 'push sp'

  ; CBW/CWD, XLAT, LAHF/SAHF, BSWAP, XADD, CMPXCHG.
  mov al, 0x85
  cbw
  cwd
  movzx eax, ax
  CHECK eax, 0xFF85, 'cbw'
  movzx edx, dx
  CHECK edx, 0xFFFF, 'cwd'
  mov bx, R(xlat_table)
  mov al, 3
  cs xlatb
  movzx eax, al
  CHECK eax, 0x33, 'xlat'
  mov ah, F_SF | F_ZF | F_CF | 2
  sahf
  FLAGS_IS F_SF | F_ZF | F_AF | F_PF | F_CF, F_SF | F_ZF | F_CF, 'sahf'
  mov eax, 0x12345678
  bswap eax
  CHECK eax, 0x78563412, 'bswap'
  mov ax, 5
  mov bx, 7
  xadd ax, bx
  movzx eax, ax
  CHECK eax, 12, 'xadd sum'
  movzx ebx, bx
  CHECK ebx, 5, 'xadd old'
  mov ax, 5
  mov bx, 5
  mov cx, 9
  cmpxchg bx, cx
  movzx ebx, bx
  CHECK ebx, 9, 'cmpxchg equal stores'
  mov ax, 6
  mov bx, 5
  cmpxchg bx, cx
  movzx eax, ax
  CHECK eax, 5, 'cmpxchg unequal loads ax'
  ; BSF/BSR/BT family.
  mov ax, 0x0140
  bsf cx, ax
  bsr dx, ax
  movzx ecx, cx
  movzx edx, dx
  CHECK ecx, 6, 'bsf'
  CHECK edx, 8, 'bsr'
  mov ax, 0x0140
  btc ax, 6
  FLAGS_IS F_CF, F_CF, 'btc CF'
  movzx eax, ax
  CHECK eax, 0x0100, 'btc result'
  ; SETcc and conditional moves from the flags.
  mov al, 1
  cmp al, 2
  setl bl
  setb cl
  setg dl
  movzx ebx, bl
  movzx ecx, cl
  movzx edx, dl
  CHECK ebx, 1, 'setl'
  CHECK ecx, 1, 'setb'
  CHECK edx, 0, 'setg'
  ret

xlat_table: db 0x00, 0x11, 0x22, 0x33

; ------------------------------------------------------------ MUL/DIV
test_muldiv:
  PRINT "  mul/div and #DE", 10
  mov ax, 0xFFFF
  mov bx, 0xFFFF
  mul bx
  FLAGS_IS F_OF | F_CF, F_OF | F_CF, 'mul FFFF*FFFF CF/OF'
  movzx eax, ax
  CHECK eax, 0x0001, 'mul low'
  movzx edx, dx
  CHECK edx, 0xFFFE, 'mul high'
  mov al, 3
  mov bl, 4
  mul bl
  FLAGS_IS F_OF | F_CF, 0, 'mul 3*4 CF/OF clear'
  mov ax, 0x100
  mov bx, 0x100
  imul bx
  FLAGS_IS F_OF | F_CF, F_OF | F_CF, 'imul 100*100 CF/OF'
  mov ax, 3
  mov bx, -2
  imul bx
  FLAGS_IS F_OF | F_CF, 0, 'imul 3*-2 CF/OF'
  movzx eax, ax
  CHECK eax, 0xFFFA, 'imul 3*-2 low'
  movzx edx, dx
  CHECK edx, 0xFFFF, 'imul 3*-2 high'
  mov ax, 7
  imul ax, ax, -3
  movzx eax, ax
  CHECK eax, 0xFFEB, 'imul 3-operand'

  mov dx, 1
  mov ax, 0
  mov bx, 0x10
  div bx
  movzx eax, ax
  CHECK eax, 0x1000, 'div 10000/10'
  mov dx, 0xFFFF
  mov ax, -7
  mov bx, 2
  idiv bx                       ; truncates toward zero
  movzx eax, ax
  CHECK eax, 0xFFFD, 'idiv -7/2 quotient'
  movzx edx, dx
  CHECK edx, 0xFFFF, 'idiv -7/2 remainder'
  mov ax, -7
  mov bl, 2
  idiv bl
  movzx eax, ax
  CHECK eax, 0xFFFD, 'idiv8 -7/2'
  mov edx, 0
  mov eax, 100
  mov ecx, 7
  div ecx
  CHECK eax, 14, 'div32 quotient'
  CHECK edx, 2, 'div32 remainder'

  ; #DE is a fault: the saved IP is the DIV itself (SDM Vol. 3 6.15).
  TRY
  mov ax, 1
  mov bl, 0
.de1:
  div bl
  ENDTRY
  EXPECT_FAULT 0, 0, 'div by zero #DE'
  CHECK dword [exc_eip], R(.de1), 'div by zero saved IP'
  CHECK dword [exc_cs], 0xF000, 'div by zero saved CS'
  TRY
  mov ax, 0x1000
  mov bl, 1
  div bl                        ; quotient 0x1000 does not fit AL
  ENDTRY
  EXPECT_FAULT 0, 0, 'div quotient overflow #DE'
  TRY
  mov ax, 0x8000
  mov bl, -1
  idiv bl                       ; +128 does not fit AL
  ENDTRY
  EXPECT_FAULT 0, 0, 'idiv8 -32768/-1 #DE'
  TRY
  mov dx, 0xFFFF
  mov ax, 0x8000
  mov bx, -1
  idiv bx
  ENDTRY
  EXPECT_FAULT 0, 0, 'idiv16 -32768/-1 #DE'
  TRY
  mov ax, 0x00FE
  mov bl, -1
  idiv bl                       ; 254 / -1 = -254: does not fit AL
  ENDTRY
  EXPECT_FAULT 0, 0, 'idiv8 254/-1 #DE'
  TRY
  mov ax, 0xFF80
  mov bl, 1
  idiv bl                       ; -128 / 1 = -128 fits
  ENDTRY
  EXPECT_NOFAULT 'idiv8 -128/1 fits'
  movzx eax, al
  CHECK eax, 0x80, 'idiv8 -128/1'
  ret

; ------------------------------------------------------------ BCD
test_bcd:
  PRINT "  BCD", 10
  mov al, 0x79
  add al, 0x35
  daa
  FLAGS_IS F_CF | F_AF | F_SF | F_ZF | F_PF, F_CF | F_AF | F_PF, 'daa 79+35 flags'
  movzx eax, al
  CHECK eax, 0x14, 'daa 79+35'
  mov al, 0x35
  sub al, 0x47
  das
  FLAGS_IS F_CF | F_AF | F_SF | F_ZF | F_PF, F_CF | F_AF | F_SF | F_PF, 'das 35-47 flags'
  movzx eax, al
  CHECK eax, 0x88, 'das 35-47'
  mov al, 0x99
  add al, 0x01
  daa
  FLAGS_IS F_CF | F_ZF, F_CF | F_ZF, 'daa 99+1 flags'
  movzx eax, al
  CHECK eax, 0x00, 'daa 99+1'

  mov ax, 0x0009
  add al, 8
  aaa
  FLAGS_IS F_CF | F_AF, F_CF | F_AF, 'aaa 9+8 flags'
  movzx eax, ax
  CHECK eax, 0x0107, 'aaa 9+8'
  ; AAA adds 0x106 to AX as a whole (SDM Vol. 2 AAA), so AL > 0xF9 carries
  ; into AH twice.
  mov ax, 0x00FA
  add al, 0                     ; AF = 0
  aaa
  movzx eax, ax
  CHECK eax, 0x0200, 'aaa AL=FA'
  mov ax, 0x0005
  add al, 2
  aaa
  FLAGS_IS F_CF | F_AF, 0, 'aaa 5+2 flags'
  movzx eax, ax
  CHECK eax, 0x0007, 'aaa 5+2'
  mov ax, 0x0202
  sub al, 5
  aas
  FLAGS_IS F_CF | F_AF, F_CF | F_AF, 'aas 2-5 flags'
  movzx eax, ax
  CHECK eax, 0x0107, 'aas 12-5'

  mov ax, 0x003F
  aam
  FLAGS_IS F_SF | F_ZF | F_PF, F_PF, 'aam flags'
  movzx eax, ax
  CHECK eax, 0x0603, 'aam 63'
  mov ax, 0x003F
  aam 16
  movzx eax, ax
  CHECK eax, 0x030F, 'aam 16'
  mov ax, 0x0603
  aad
  FLAGS_IS F_SF | F_ZF | F_PF, F_PF, 'aad flags'
  movzx eax, ax
  CHECK eax, 0x003F, 'aad 0603'
  mov ax, 0x030F
  aad 16
  movzx eax, ax
  CHECK eax, 0x003F, 'aad 16'
  TRY
  mov ax, 0x0012
  aam 0
  ENDTRY
  EXPECT_FAULT 0, 0, 'aam 0 #DE'
  ret

; ------------------------------------------------------------ strings
test_string:
  PRINT "  string instructions", 10
  ; Fill BUF with 0..63 (rep stosb per byte from al incrementing via loop).
  xor ax, ax
  mov es, ax
  mov di, BUF
  mov cx, 64
  xor al, al
.fill:
  stosb
  inc al
  loop .fill
  CHECK dword [BUF], 0x03020100, 'stosb fill'
  ; rep movsw forward.
  mov si, BUF
  mov di, BUF2
  mov cx, 8
  rep movsw
  movzx ecx, cx
  CHECK ecx, 0, 'rep movsw count'
  movzx esi, si
  CHECK esi, BUF + 16, 'rep movsw si'
  movzx edi, di
  CHECK edi, BUF2 + 16, 'rep movsw di'
  CHECK dword [BUF2 + 12], 0x0F0E0D0C, 'rep movsw data'
  ; Overlapping forward movsb replicates the first byte: the string
  ; instructions move one element at a time (SDM Vol. 2 MOVS).
  mov byte [BUF2], 0xAB
  mov si, BUF2
  mov di, BUF2 + 1
  mov cx, 15
  rep movsb
  CHECK dword [BUF2 + 12], 0xABABABAB, 'overlapping rep movsb'
  ; Backward (DF=1) rep movsb.
  std
  mov si, BUF + 7
  mov di, BUF2 + 7
  mov cx, 8
  rep movsb
  cld
  movzx esi, si
  CHECK esi, BUF - 1, 'std rep movsb si'
  CHECK dword [BUF2 + 4], 0x07060504, 'std rep movsb data'
  ; rep with CX = 0 does nothing.
  mov si, BUF
  mov di, BUF2
  xor cx, cx
  rep movsb
  movzx esi, si
  CHECK esi, BUF, 'rep cx=0 si unchanged'
  ; repe cmpsb stops after the first mismatch.
  mov si, BUF
  mov di, BUF2
  mov cx, 64
  mov dword [BUF2], 0x03020100
  mov dword [BUF2 + 4], 0x07FF0504
  repe cmpsb
  FLAGS_IS F_ZF | F_CF, F_CF, 'repe cmpsb flags (06 < FF)'
  movzx ecx, cx
  CHECK ecx, 64 - 7, 'repe cmpsb cx'
  movzx esi, si
  CHECK esi, BUF + 7, 'repe cmpsb si'
  ; repne scasb finds a byte.
  mov di, BUF
  mov al, 0x20
  mov cx, 64
  repne scasb
  FLAGS_IS F_ZF, F_ZF, 'repne scasb ZF'
  movzx edi, di
  CHECK edi, BUF + 0x21, 'repne scasb di'
  movzx ecx, cx
  CHECK ecx, 64 - 0x21, 'repne scasb cx'
  ; lodsw with a segment override; stosd with rep and 32-bit count.
  mov ax, BUF >> 4
  mov fs, ax
  xor si, si
  fs lodsw
  movzx eax, ax
  CHECK eax, 0x0100, 'fs lodsw'
  mov edi, BUF2
  mov eax, 0x11223344
  mov ecx, 4
  a32 rep stosd                 ; address size 32: uses ECX and EDI
  CHECK ecx, 0, 'a32 rep stosd ecx'
  CHECK dword [BUF2 + 12], 0x11223344, 'a32 rep stosd data'
  ; 16-bit addressing: DI wraps from 0xFFFF to 0 within the segment.
  mov ax, 0x0100
  mov es, ax
  mov di, 0xFFFF
  mov al, 0x5A
  stosb
  stosb
  xor ax, ax
  mov es, ax
  movzx edi, di
  CHECK edi, 1, 'stosb di wraps'
  mov al, [0x1000]              ; 0100:0000
  movzx eax, al
  CHECK eax, 0x5A, 'stosb wrapped write'
  ret

; ------------------------------------------------------------ INT/IRET
test_int:
  PRINT "  INT n / IRET / INT3 / INTO / BOUND", 10
  ; INT 0x41 clears IF/TF in the handler, pushes the next IP; IRET
  ; restores FLAGS from the stack (the handler set CF there).
  clc
  std
  int 0x41
.after41:
  pushf
  cld
  pop ax
  and ax, F_CF | F_DF
  movzx eax, ax
  CHECK eax, F_CF | F_DF, 'iret restores modified FLAGS'
  and bx, F_IF | F_TF | F_DF
  movzx ebx, bx
  CHECK ebx, F_DF, 'handler FLAGS (IF/TF clear, DF kept)'
  movzx ecx, cx
  CHECK ecx, R(.after41), 'INT pushes next IP'
  ; INT3 (one byte CC) is a trap: saved IP after it.
  mov dword [resume_eip], 0
  mov dword [exc_count], 0
  int3
.after3:
  CHECK dword [exc_vec], 3, 'int3 vector'
  CHECK dword [exc_eip], R(.after3), 'int3 saved IP'
  ; INTO with OF=1 raises vector 4 after the instruction; OF=0 does nothing.
  mov dword [exc_count], 0
  mov al, 0x7F
  add al, 1
  into
.after4:
  CHECK dword [exc_vec], 4, 'into vector'
  CHECK dword [exc_eip], R(.after4), 'into saved IP'
  mov dword [exc_count], 0
  xor al, al
  into
  CHECK dword [exc_count], 0, 'into with OF=0'
  ; BOUND out of range is a fault (#BR, vector 5).
  mov word [BUF], 10
  mov word [BUF + 2], 20
  mov ax, 15
  bound ax, [BUF]
  TRY
  mov ax, 21
.br:
  bound ax, [BUF]
  ENDTRY
  EXPECT_FAULT 5, 0, 'bound #BR'
  CHECK dword [exc_eip], R(.br), 'bound saved IP'
  ; UD2 -> #UD (vector 6).
  TRY
  ud2
  ENDTRY
  EXPECT_FAULT 6, 0, 'ud2 #UD'
  ; Software INT 0x40 through the recording stub.
  mov dword [resume_eip], 0
  int 0x40
.after40:
  CHECK dword [exc_vec], 0x40, 'int 0x40 vector'
  CHECK dword [exc_eip], R(.after40), 'int 0x40 saved IP'
  ; LIDT in real mode moves the IVT (SDM Vol. 3 20.1.4).
  mov word [0x8000 + 0x50 * 4], R(rm_int50)
  mov word [0x8000 + 0x50 * 4 + 2], 0xF000
  mov bx, R(ivt_moved)
  lidt [cs:bx]
  xor ax, ax
  int 0x50
  mov bx, R(ivt_normal)
  lidt [cs:bx]
  movzx eax, ax
  CHECK eax, 0x5050, 'int through relocated IVT'
  ; Single-step (SDM Vol. 3 17.3.1.4): no trap after the POPF that sets TF;
  ; then a trap after each instruction executed with TF set, including the
  ; POPF that clears it. Four traps, the last one saved IP = .tf_end.
  mov dword [resume_eip], 0
  mov dword [exc_count], 0
  mov dword [exc_vec], -1
  pushf
  or word [esp], F_TF
  popf
  nop
  pushf
  and word [esp], ~F_TF
  popf
.tf_end:
  CHECK dword [exc_vec], 1, 'single-step vector'
  CHECK dword [exc_count], 4, 'single-step trap count'
  CHECK dword [exc_eip], R(.tf_end), 'single-step last saved IP'
  ret

ivt_moved:  dw 0x3FF
            dd 0x8000
ivt_normal: dw 0x3FF
            dd 0

; ------------------------------------------------------------ far transfers
test_far:
  PRINT "  far call/ret/jmp", 10
  push word 0x1111
  push word 0x2222
  call FAR_SEG:0
.ret_here:
  movzx eax, ax
  CHECK eax, FAR_SEG, 'far routine CS'
  movzx ebx, bx
  CHECK ebx, R(.ret_here), 'far call pushed IP'
  movzx ecx, cx
  CHECK ecx, 0xF000, 'far call pushed CS'
  mov ax, sp
  movzx eax, ax
  CHECK eax, 0x7000 - 2, 'retf 4 popped the arguments'
  ; Far call through a memory pointer; far jmp through memory.
  mov word [BUF], far_routine2 - far_routine
  mov word [BUF + 2], FAR_SEG
  call far [BUF]
  movzx eax, ax
  CHECK eax, 0x7777, 'call far [mem]'
  mov word [BUF], R(.jmp_target)
  mov word [BUF + 2], 0xF000
  jmp far [BUF]
  FAILNOW 'jmp far [mem] fell through'
.jmp_target:
  ret

; ------------------------------------------------------------ segments
test_segments:
  PRINT "  segment arithmetic", 10
  ; 0x1234:0x0010 and 0x1235:0x0000 are the same byte (0x12350).
  mov ax, 0x1234
  mov ds, ax
  mov byte [0x0010], 0x77
  mov ax, 0x1235
  mov es, ax
  mov al, [es:0x0000]
  xor bx, bx
  mov ds, bx
  movzx eax, al
  CHECK eax, 0x77, 'seg*16+off aliasing'
  ; 16-bit effective addresses wrap at 64 KiB: [bx+2] with bx=0xFFFF is
  ; offset 1.
  mov ax, 0x2000
  mov es, ax
  mov byte [es:0x0001], 0x42
  mov bx, 0xFFFF
  mov al, [es:bx + 2]
  movzx eax, al
  CHECK eax, 0x42, '16-bit EA wraps'
  mov ax, ss
  movzx eax, ax
  CHECK eax, 0, 'ss'
  ; A segment register load in real mode sets base = selector * 16.
  mov ax, 0x0400
  mov es, ax
  mov dword [es:0], 0xCAFEBABE
  CHECK dword [0x4000], 0xCAFEBABE, 'es base = 0x4000'
%ifndef QEMU_TCG_QUIRKS
  ; Real mode still checks the 64 KiB limit: a word at offset 0xFFFF, or a
  ; 32-bit address above 0xFFFF, raises #GP (vector 13, no error code)
  ; (SDM Vol. 3 20.1.3; Vol. 2 MOV "Real-Address Mode Exceptions").
  TRY
  mov bx, 0xFFFF
  mov ax, [es:bx]
  ENDTRY
  EXPECT_FAULT 13, 0, 'word at offset FFFF #GP'
  TRY
  mov ebx, 0x10000
  mov al, [es:ebx]
  ENDTRY
  EXPECT_FAULT 13, 0, 'a32 offset above limit #GP'
%else
  PRINT "  SKIP (QEMU TCG quirk): real-mode segment limit checks", 10
%endif
  xor ax, ax
  mov es, ax
  ret

; ------------------------------------------------------------ A20 and unreal
test_a20_unreal:
  PRINT "  A20 gate and unreal mode", 10
  ; Enable A20 (port 0x92 bit 1, keep bit 0 = fast reset clear).
  in al, 0x92
  or al, 2
  and al, ~1
  out 0x92, al
  mov ax, 0xFFFF
  mov es, ax
  mov byte [0x7F00], 0x11
  mov byte [es:0x7F10], 0x22    ; physical 0x107F00
  mov al, [0x7F00]
  movzx eax, al
  CHECK eax, 0x11, 'A20 on: 0x107F00 is not 0x7F00'
  mov al, [es:0x7F10]
  movzx eax, al
  CHECK eax, 0x22, 'A20 on: 0x107F00 readback'
  ; Disable A20: bit 20 of every address is forced to 0.
  in al, 0x92
  and al, ~3
  out 0x92, al
  in al, 0x92
  and al, 2
  movzx eax, al
  CHECK eax, 0, 'port 0x92 bit 1 reads back 0'
  mov byte [es:0x7F10], 0x33
  mov al, [0x7F00]
  movzx eax, al
  CHECK eax, 0x33, 'A20 off: FFFF:7F10 wraps to 0x7F00'
  in al, 0x92
  or al, 2
  out 0x92, al
  mov al, [es:0x7F10]
  movzx eax, al
  CHECK eax, 0x22, 'A20 on again'
  xor ax, ax
  mov es, ax

  ; Unreal mode: load FS/GS with a 4 GiB data descriptor in protected
  ; mode, return to real mode; the hidden limit stays (SDM Vol. 3 20.1.?,
  ; 9.9.2: segment registers keep their cached descriptors).
  cli
  mov bx, R(boot_gdtr)
  o32 lgdt [cs:bx]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp SEL_CODE16:R(.pm16)
.pm16:
  mov ax, SEL_DATA32
  mov fs, ax
  mov gs, ax
  mov eax, cr0
  and al, ~1
  mov cr0, eax
  jmp 0xF000:R(.rm)
.rm:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov ebx, 0x200000             ; 2 MiB: only reachable with a big limit
  mov dword [fs:ebx], 0x0BADF00D
  mov dword [fs:ebx + 4], 0x12345678
  mov eax, [gs:ebx + 4]
  CHECK eax, 0x12345678, 'unreal: gs:[2 MiB+4]'
  mov eax, [fs:ebx]
  CHECK eax, 0x0BADF00D, 'unreal: fs:[2 MiB]'
  ; With A20 off, bit 20 is masked: 0x300000 aliases 0x200000.
  in al, 0x92
  and al, ~3
  out 0x92, al
  mov ebx, 0x300000
  mov eax, [fs:ebx]
  push eax
  in al, 0x92
  or al, 2
  out 0x92, al
  pop eax
  CHECK eax, 0x0BADF00D, 'unreal + A20 off: 3 MiB aliases 2 MiB'
  ; The saved selector value is whatever was loaded (0x10); reloading FS
  ; in real mode sets base = 0 again but the data is still reachable.
  mov ax, fs
  movzx eax, ax
  CHECK eax, SEL_DATA32, 'fs selector after round trip'
  ret

; A routine reached with another CS value (FAR_SEG:0 aliases the same bytes).
align 16
far_routine:
  mov ax, cs
  mov bp, sp
  mov bx, [bp]                  ; return IP
  mov cx, [bp + 2]              ; return CS
  retf 4
far_routine2:
  mov ax, 0x7777
  retf
FAR_SEG equ 0xF000 + ((far_routine - $$) >> 4)

IMAGE_END
