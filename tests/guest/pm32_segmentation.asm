; pm32_segmentation: protected-mode segmentation (SDM Vol. 3 ch. 3 and 5):
; GDT/LDT, limits (expand-up, expand-down, 16/32-bit), #GP/#SS/#NP error
; codes, privilege checks on segment loads, conforming code, call gates with
; parameters to ring 0 from ring 3, IRET to ring 3 and back through an
; interrupt gate, LAR/LSL/VERR/VERW and ARPL.
%define PROG_NAME 'pm32_segmentation'
%include "lib/common.inc"
%include "lib/ring3.inc"

SEL_LIMITED  equ 0x48           ; data, base 1 MiB, limit 0xFFF
SEL_EXPDN32  equ 0x50           ; expand-down, B=1, limit 0xFFF
SEL_EXPDN16  equ 0x58           ; expand-down, B=0, limit 0xFFF
SEL_NP_DATA  equ 0x60           ; data, not present
SEL_CONFORM  equ 0x68           ; conforming code, DPL 0
SEL_GATE3    equ 0x70           ; call gate DPL 3 -> ring 0, 2 parameters
SEL_LDT      equ 0x78
SEL_SS_LIM   equ 0x80           ; stack data, limit 0x8FFFF
SEL_RODATA   equ 0x88           ; read-only data
SEL_XONLY    equ 0x90           ; execute-only code
SEL_DPL2     equ 0x98           ; data, DPL 2
SEL_NP_CODE  equ 0xA0           ; code, not present
SEL_GATE0    equ 0xA8           ; call gate DPL 0
LDT_BASE     equ 0x1800

F_ZF equ 0x40

[absolute 0x4000]
gt_cs:      resd 1
gt_ret_eip: resd 1
gt_ret_cs:  resd 1
gt_p0:      resd 1
gt_p1:      resd 1
gt_esp:     resd 1
gt_ss:      resd 1
r3_res:     resd 16
section .text

; ZF_IS value, 'text': ZF after the previous instruction.
%macro ZF_IS 2
  pushfd
  pop dword [lib_tmp]
  and dword [lib_tmp], F_ZF
  CHECK dword [lib_tmp], %1, %2
%endmacro

; SEG_LOAD_FAULTS sreg, selector, vector, error, 'text'
%macro SEG_LOAD_FAULTS 5
  TRY
  mov ax, %2
  mov %1, ax
  ENDTRY
  EXPECT_FAULT %3, %4, %5
%endmacro

bits 32
main32:
  PRINT "pm32_segmentation: start", 10
  call ring3_setup
  call build_gdt
  call test_limits
  call test_loads
  call test_ldt
  call test_lar
  call test_ring3
  jmp pass32

; set_call_gate: eax = selector, ebx = target offset, dl = access (0xEC/0x8C),
; dh = parameter count. Target CS is SEL_CODE32.
set_call_gate:
  push edi
  and eax, 0xFFF8
  lea edi, [GDT_BASE + eax]
  mov [edi], bx
  mov word [edi + 2], SEL_CODE32
  mov [edi + 4], dh
  mov [edi + 5], dl
  shr ebx, 16
  mov [edi + 6], bx
  pop edi
  ret

build_gdt:
  mov eax, SEL_LIMITED
  mov ebx, 0x100000
  mov ecx, 0xFFF
  mov edx, 0x493
  call set_gdt
  mov eax, SEL_EXPDN32
  mov edx, 0x497
  call set_gdt
  mov eax, SEL_EXPDN16
  mov edx, 0x097
  call set_gdt
  mov eax, SEL_NP_DATA
  xor ebx, ebx
  mov ecx, 0xFFFFF
  mov edx, 0xC13
  call set_gdt
  mov eax, SEL_CONFORM
  mov edx, 0xC9F
  call set_gdt
  mov eax, SEL_RODATA
  mov edx, 0xC91
  call set_gdt
  mov eax, SEL_XONLY
  mov edx, 0xC99
  call set_gdt
  mov eax, SEL_DPL2
  mov edx, 0xCD3
  call set_gdt
  mov eax, SEL_NP_CODE
  mov edx, 0xC1B
  call set_gdt
  mov eax, SEL_SS_LIM
  mov ecx, 0x8FFFF
  mov edx, 0x493
  call set_gdt
  mov eax, SEL_LDT
  mov ebx, LDT_BASE
  mov ecx, 0x17                 ; three entries
  mov edx, 0x082
  call set_gdt
  ; LDT: 0x04 data DPL3 base 2 MiB; 0x0C data DPL0 base 2 MiB + 4 KiB;
  ; 0x14 code DPL0 flat.
  mov edi, LDT_BASE
  mov ebx, 0x200000
  mov ecx, 0xFFFFF
  mov edx, 0x0F3
  call set_desc
  add edi, 8
  mov ebx, 0x201000
  mov edx, 0x093
  call set_desc
  add edi, 8
  xor ebx, ebx
  mov edx, 0xC9B
  call set_desc
  mov eax, SEL_GATE3
  mov ebx, gate_target
  mov dx, 0x02EC
  call set_call_gate
  mov eax, SEL_GATE0
  mov dx, 0x008C
  call set_call_gate
  mov eax, 0x81                 ; INT 0x81: DPL 0 gate, ring 3 may not use it
  mov ebx, SEL_CODE32
  mov ecx, ring3_exit
  mov edx, 0x8E
  call set_gate
  ret

; ------------------------------------------------------------ limits
test_limits:
  PRINT "  limit checks", 10
%ifdef QEMU_TCG_QUIRKS
  PRINT "  SKIP (QEMU TCG quirk): segment limit/type checks on data accesses", 10
%endif
  mov ax, SEL_LIMITED
  mov es, ax
  mov dword [es:0xFFC], 0x12345678
  CHECK dword [0x100FFC], 0x12345678, 'limited seg base'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov eax, [es:0xFFD]           ; last byte at 0x1000 > limit
  ENDTRY
  EXPECT_FAULT 13, 0, 'dword read past limit #GP(0)'
%endif
  TRY
  mov al, [es:0xFFF]
  ENDTRY
  EXPECT_NOFAULT 'byte at the limit'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov byte [es:0x1000], 1
  ENDTRY
  EXPECT_FAULT 13, 0, 'byte write past limit #GP(0)'
%endif
  ; Expand-down, B=1: valid offsets are limit+1 .. 0xFFFFFFFF.
  mov ax, SEL_EXPDN32
  mov es, ax
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov al, [es:0xFFF]
  ENDTRY
  EXPECT_FAULT 13, 0, 'expand-down: offset = limit #GP(0)'
%endif
  TRY
  mov dword [es:0x2000], 0xA5A5A5A5
  ENDTRY
  EXPECT_NOFAULT 'expand-down: offset above limit'
  CHECK dword [0x102000], 0xA5A5A5A5, 'expand-down write lands at base+off'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov eax, [es:0xFFFFFFFE]
  ENDTRY
  EXPECT_FAULT 13, 0, 'expand-down B=1: dword crossing 4 GiB #GP(0)'
%endif
  ; Expand-down, B=0: upper bound 0xFFFF.
  mov ax, SEL_EXPDN16
  mov es, ax
  TRY
  mov al, [es:0xFFFF]
  ENDTRY
  EXPECT_NOFAULT 'expand-down B=0: 0xFFFF ok'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov al, [es:0x10000]
  ENDTRY
  EXPECT_FAULT 13, 0, 'expand-down B=0: 0x10000 #GP(0)'
%endif
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov al, [es:0x800]
  ENDTRY
  EXPECT_FAULT 13, 0, 'expand-down B=0: below limit #GP(0)'
%endif
  ; Read-only data: writes #GP(0); reading works.
  mov ax, SEL_RODATA
  mov es, ax
  TRY
  mov eax, [es:0x4000]
  ENDTRY
  EXPECT_NOFAULT 'read-only data read'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov [es:0x4000], eax
  ENDTRY
  EXPECT_FAULT 13, 0, 'write to read-only data #GP(0)'
%endif
  ; Readable code in ES: reads work, writes #GP(0).
  mov ax, SEL_CODE32
  mov es, ax
  TRY
  mov eax, [es:main32]
  ENDTRY
  EXPECT_NOFAULT 'read through readable code segment'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov [es:0x4000], eax
  ENDTRY
  EXPECT_FAULT 13, 0, 'write through code segment #GP(0)'
%endif
  ; Null selector: loading is fine, using it #GP(0).
  xor ax, ax
  mov es, ax
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov eax, [es:0x4000]
  ENDTRY
  EXPECT_FAULT 13, 0, 'access through null ES #GP(0)'
%endif
  ; Stack limit: [ebp] defaults to SS; beyond the limit is #SS(0).
  mov ax, SEL_SS_LIM
  mov ss, ax
  TRY
  mov ebp, 0x8FFFC
  mov eax, [ebp]
  ENDTRY
  EXPECT_NOFAULT 'SS dword at the limit'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov ebp, 0x8FFFE
  mov eax, [ebp]
  ENDTRY
  EXPECT_FAULT 12, 0, 'SS dword past the limit #SS(0)'
%endif
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no limit/type checks on data accesses
  TRY
  mov eax, [ss:0x90000]
  ENDTRY
  EXPECT_FAULT 12, 0, 'ss: override past the limit #SS(0)'
%endif
  mov ax, SEL_DATA32
  mov ss, ax
  mov es, ax
  ret

; ------------------------------------------------------------ loads
test_loads:
  PRINT "  segment register loads (ring 0)", 10
  xor ax, ax
  lldt ax                       ; LDTR is not null after reset (SDM 9.1.1)
  SEG_LOAD_FAULTS es, 0x800, 13, 0x800, 'selector past GDT limit #GP(sel)'
  SEG_LOAD_FAULTS es, 0x000C, 13, 0x000C, 'LDT selector with null LDTR #GP(sel)'
  SEG_LOAD_FAULTS es, SEL_TSS0, 13, SEL_TSS0, 'TSS into ES #GP(sel)'
  SEG_LOAD_FAULTS es, SEL_XONLY, 13, SEL_XONLY, 'execute-only code into ES #GP(sel)'
  SEG_LOAD_FAULTS es, SEL_DPL2 | 3, 13, SEL_DPL2, 'RPL 3 > DPL 2 #GP(sel)'
  SEG_LOAD_FAULTS es, SEL_NP_DATA, 11, SEL_NP_DATA, 'not-present data #NP(sel)'
  SEG_LOAD_FAULTS ss, SEL_RODATA, 13, SEL_RODATA, 'read-only data into SS #GP(sel)'
  SEG_LOAD_FAULTS ss, SEL_DATA3, 13, 0x38, 'DPL 3 data into SS at CPL 0 #GP(sel)'
  SEG_LOAD_FAULTS ss, SEL_DATA32 | 1, 13, SEL_DATA32, 'SS with RPL != CPL #GP(sel)'
  SEG_LOAD_FAULTS ss, 0, 13, 0, 'null SS at CPL 0 #GP(0)'
  SEG_LOAD_FAULTS ss, SEL_CODE32, 13, SEL_CODE32, 'code into SS #GP(sel)'
  SEG_LOAD_FAULTS ss, SEL_NP_DATA, 12, SEL_NP_DATA, 'not-present SS #SS(sel)'
  TRY
  mov ax, SEL_DPL2
  mov es, ax
  mov ax, SEL_CODE32            ; readable code into a data register: fine
  mov es, ax
  mov ax, SEL_CONFORM
  mov fs, ax
  ENDTRY
  EXPECT_NOFAULT 'valid data-register loads'
  mov ax, SEL_DATA32
  mov es, ax
  mov fs, ax
  ; MOV to CS is #UD.
  TRY
  db 0x8E, 0xC8                 ; mov cs, ax
  ENDTRY
  EXPECT_FAULT 6, 0, 'mov cs #UD'
  ; Far JMP to a not-present code segment: #NP(sel); to DPL 3 code from
  ; CPL 0 (non-conforming, DPL != CPL): #GP(sel).
  TRY
  jmp SEL_NP_CODE:0
  ENDTRY
  EXPECT_FAULT 11, SEL_NP_CODE, 'jmp to not-present code #NP(sel)'
  TRY
  jmp SEL_CODE3:0
  ENDTRY
  EXPECT_FAULT 13, 0x30, 'jmp to DPL 3 code from CPL 0 #GP(sel)'
  TRY
  jmp SEL_RODATA:0
  ENDTRY
  EXPECT_FAULT 13, SEL_RODATA, 'jmp to a data segment #GP(sel)'
  ; Conforming code at CPL 0: CS.RPL stays 0.
  call SEL_CONFORM:conf_func
  CHECK eax, SEL_CONFORM, 'conforming code CS at CPL 0'
  ret

conf_func:
  xor eax, eax
  mov ax, cs
  retf

; ------------------------------------------------------------ LDT
test_ldt:
  PRINT "  LDT", 10
  TRY
  mov ax, SEL_DATA32
  lldt ax
  ENDTRY
  EXPECT_FAULT 13, SEL_DATA32, 'lldt with a data descriptor #GP(sel)'
  mov ax, SEL_LDT
  lldt ax
  sldt ax
  movzx eax, ax
  CHECK eax, SEL_LDT, 'sldt'
  mov ax, 0x07                  ; LDT entry 0, RPL 3
  mov es, ax
  mov dword [es:0x10], 0x11111111
  CHECK dword [0x200010], 0x11111111, 'LDT segment base 2 MiB'
  mov ax, 0x0C
  mov es, ax
  mov dword [es:0x10], 0x22222222
  CHECK dword [0x201010], 0x22222222, 'LDT segment base 2 MiB + 4 KiB'
  SEG_LOAD_FAULTS es, 0x001C, 13, 0x001C, 'selector past LDT limit #GP(sel)'
  SEG_LOAD_FAULTS es, 0x000F, 13, 0x000C, 'LDT DPL 0 with RPL 3 #GP(sel)'
  ; A far call into the LDT code segment.
  call 0x14:conf_func
  CHECK eax, 0x14, 'far call to LDT code segment'
  mov ax, SEL_DATA32
  mov es, ax
  ret

; ------------------------------------------------------------ LAR/LSL/...
test_lar:
  PRINT "  LAR/LSL/VERR/VERW/ARPL", 10
  mov eax, 0xDEADBEEF
  mov bx, SEL_CODE32
  lar eax, bx
  ZF_IS F_ZF, 'lar code32 ZF'
  and eax, 0x00F0FF00           ; bits 19:16 are undefined (SDM LAR)
  CHECK eax, 0x00C09B00, 'lar code32 access rights'
  mov bx, SEL_LIMITED
  lsl eax, bx
  ZF_IS F_ZF, 'lsl limited ZF'
  CHECK eax, 0xFFF, 'lsl byte granular'
  mov bx, SEL_DATA32
  lsl eax, bx
  CHECK eax, 0xFFFFFFFF, 'lsl page granular'
  mov bx, SEL_TSS0
  lar eax, bx
  ZF_IS F_ZF, 'lar busy TSS ZF'
  and eax, 0x00F0FF00           ; bits 19:16 are undefined (SDM LAR)
  CHECK eax, 0x00008B00, 'lar busy TSS'
  mov bx, SEL_GATE3
  lar eax, bx
  ZF_IS F_ZF, 'lar call gate ZF'
  and eax, 0x00F0FF00           ; bits 19:16 are undefined (SDM LAR)
  CHECK eax, 0x0000EC00, 'lar call gate'
  mov eax, 0x1234
  lsl eax, bx
  ZF_IS 0, 'lsl call gate ZF=0'
  CHECK eax, 0x1234, 'lsl failure leaves the destination'
  xor bx, bx
  lar eax, bx
  ZF_IS 0, 'lar null ZF=0'
  mov bx, 0x800
  lar eax, bx
  ZF_IS 0, 'lar past GDT limit ZF=0'
  mov bx, SEL_NP_DATA
  lar eax, bx
  ZF_IS F_ZF, 'lar not-present segment ZF=1'
  mov bx, SEL_CODE32
  verr bx
  ZF_IS F_ZF, 'verr readable code'
  verw bx
  ZF_IS 0, 'verw code'
  mov bx, SEL_XONLY
  verr bx
  ZF_IS 0, 'verr execute-only'
  mov bx, SEL_RODATA
  verr bx
  ZF_IS F_ZF, 'verr read-only data'
  verw bx
  ZF_IS 0, 'verw read-only data'
  mov bx, SEL_DATA32
  verw bx
  ZF_IS F_ZF, 'verw data'
  mov bx, SEL_DPL2 | 3
  verr bx
  ZF_IS 0, 'verr RPL 3 > DPL 2'
  mov bx, SEL_DPL2 | 2
  verr bx
  ZF_IS F_ZF, 'verr RPL 2 = DPL 2'
  ; ARPL raises the destination RPL to the source's.
  mov ax, 0x0010
  mov bx, 0x0033
  arpl ax, bx
  ZF_IS F_ZF, 'arpl adjusted ZF'
  movzx eax, ax
  CHECK eax, 0x0013, 'arpl result'
  mov ax, 0x0013
  mov bx, 0x0031
  arpl ax, bx
  ZF_IS 0, 'arpl unchanged ZF'
  movzx eax, ax
  CHECK eax, 0x0013, 'arpl unchanged'
  ret

; ------------------------------------------------------------ ring 3
; Call-gate target (CPL 0): records the stack the gate built, returns with
; RETF 8 (pops the two copied parameters on both stacks).
gate_target:
  mov eax, cs
  mov [gt_cs], eax
  mov eax, [esp]
  mov [gt_ret_eip], eax
  mov eax, [esp + 4]
  mov [gt_ret_cs], eax
  mov eax, [esp + 8]
  mov [gt_p0], eax
  mov eax, [esp + 12]
  mov [gt_p1], eax
  mov eax, [esp + 16]
  mov [gt_esp], eax
  mov eax, [esp + 20]
  mov [gt_ss], eax
  retf 8

test_ring3:
  PRINT "  ring 3: IRET, call gates, conforming code, privilege checks", 10
  mov eax, ring3_body
  call to_ring3
  ; The INT 0x80 frame: from CPL 3, with SS:ESP.
  CHECK dword [r3_cs], SEL_CODE3, 'INT 0x80 saved CS'
  CHECK dword [r3_ss], SEL_DATA3, 'INT 0x80 saved SS'
  CHECK dword [r3_esp], RING3_STACK, 'INT 0x80 saved ESP'
  CHECK dword [r3_eip], ring3_body.end, 'INT 0x80 saved EIP'
  mov eax, [r3_eflags]
  and eax, 0x3000
  CHECK eax, 0x3000, 'INT 0x80 saved IOPL'
  ; Call gate results.
  CHECK dword [gt_cs], SEL_CODE32, 'call gate target CS'
  CHECK dword [gt_ret_cs], SEL_CODE3, 'call gate pushed CS'
  CHECK dword [gt_ret_eip], ring3_body.gate_ret, 'call gate pushed EIP'
  CHECK dword [gt_p0], 0xBBBB0002, 'call gate copied parameter 0'
  CHECK dword [gt_p1], 0xAAAA0001, 'call gate copied parameter 1'
  CHECK dword [gt_esp], RING3_STACK - 8, 'call gate pushed caller ESP'
  CHECK dword [gt_ss], SEL_DATA3, 'call gate pushed caller SS'
  ret

ring3_body:
  ; IRET to CPL 3 loaded null into FS (DPL 0), kept GS (DPL 3).
  xor eax, eax
  mov ax, fs
  CHECK eax, 0, 'IRET to ring 3 nulls FS (DPL 0)'
  mov ax, gs
  CHECK eax, SEL_DATA3, 'IRET to ring 3 keeps GS (DPL 3)'
  mov ax, cs
  CHECK eax, SEL_CODE3, 'ring 3 CS'
  ; Call gate with two parameters.
  push dword 0xAAAA0001
  push dword 0xBBBB0002
  call SEL_GATE3 | 3:0
.gate_ret:
  mov ecx, esp
  CHECK ecx, RING3_STACK, 'RETF 8 released the parameters'
  xor eax, eax
  mov ax, cs
  CHECK eax, SEL_CODE3, 'back at CPL 3 after the gate'
  ; Conforming code runs at CPL 3: CS.RPL = 3.
  call SEL_CONFORM:conf_func
  CHECK eax, SEL_CONFORM | 3, 'conforming code keeps CPL 3'
  ; Non-conforming DPL 0 code directly: #GP(sel).
  TRY
  call SEL_CODE32:conf_func
  ENDTRY
  EXPECT_FAULT 13, SEL_CODE32, 'call to DPL 0 code from CPL 3 #GP(sel)'
  ; A DPL 0 call gate from CPL 3: #GP(gate sel).
  TRY
  call SEL_GATE0 | 3:0
  ENDTRY
  EXPECT_FAULT 13, SEL_GATE0, 'call through DPL 0 gate from CPL 3 #GP(sel)'
  ; Data loads at CPL 3.
  SEG_LOAD_FAULTS es, SEL_DATA32 | 3, 13, SEL_DATA32, 'CPL 3 loads DPL 0 data #GP(sel)'
  SEG_LOAD_FAULTS es, SEL_DPL2 | 3, 13, SEL_DPL2, 'CPL 3 loads DPL 2 data #GP(sel)'
  SEG_LOAD_FAULTS ss, SEL_DATA32 | 3, 13, SEL_DATA32, 'CPL 3 loads DPL 0 SS #GP(sel)'
  TRY
  mov ax, SEL_CONFORM           ; conforming code is readable from any CPL
  mov es, ax
  ENDTRY
  EXPECT_NOFAULT 'CPL 3 loads conforming code into ES'
  mov ax, SEL_DATA3
  mov es, ax
  ; INT through a DPL 0 gate: #GP(vector * 8 + 2).
  TRY
  int 0x81
  ENDTRY
  EXPECT_FAULT 13, 0x81 * 8 + 2, 'INT through DPL 0 gate #GP(IDT)'
  ; The fault was delivered from CPL 3: its frame had CS = 0x33.
  CHECK dword [exc_cs], SEL_CODE3, '#GP frame CS from ring 3'
  ; Privileged instructions at CPL 3.
  TRY
  mov eax, cr0
  ENDTRY
  EXPECT_FAULT 13, 0, 'mov from cr0 at CPL 3 #GP(0)'
  TRY
  hlt
  ENDTRY
  EXPECT_FAULT 13, 0, 'hlt at CPL 3 #GP(0)'
  ; LAR/VERR at CPL 3.
  mov bx, SEL_DATA32
  lar eax, bx
  ZF_IS 0, 'CPL 3 lar DPL 0 data ZF=0'
  mov bx, SEL_CONFORM
  lar eax, bx
  ZF_IS F_ZF, 'CPL 3 lar conforming code ZF=1'
  mov bx, SEL_GATE3
  lar eax, bx
  ZF_IS F_ZF, 'CPL 3 lar DPL 3 gate ZF=1'
  mov bx, SEL_DATA3
  verw bx
  ZF_IS F_ZF, 'CPL 3 verw own data'
  mov esp, RING3_STACK
  int 0x80
.end:
  FAILNOW 'returned from INT 0x80'

IMAGE_END
