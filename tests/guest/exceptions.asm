; exceptions: every exception class with its error code and saved EIP (fault
; vs trap), SDM Vol. 3 ch. 6 (6.15 per-vector pages) and ch. 17 (debug):
; #DE #DB #BP #OF #BR #UD #NM #DF #TS #NP #SS #GP #PF #MF #AC #XM, the EXT
; bit, IDT limit, not-present gates, double-fault classes, RF.
%define PROG_NAME 'exceptions'
%include "lib/common.inc"
%include "lib/ring3.inc"

SEL_NP_DATA equ 0x48
PD_BASE  equ 0x10000
PT0_BASE equ 0x11000            ; 0-4 MiB identity, 4 KiB pages
PT1_BASE equ 0x12000            ; 4-8 MiB: test pages
PG_NP    equ 0x400000           ; not present
PG_RO    equ 0x401000           ; present, read-only, user
PG_SUP   equ 0x402000           ; present, writable, supervisor
PG_USER  equ 0x403000           ; present, writable, user

EF_TF equ 0x100
EF_NT equ 0x4000
EF_RF equ 0x10000
EF_AC equ 0x40000

[absolute 0x4000]
db_count:  resd 1
db_dr6:    resd 1
hook_tmp:  resd 1
fenv:      resb 32
mxcsr_tmp: resd 1
r3_res:    resd 8
section .text

bits 32
main32:
  PRINT "exceptions: start", 10
  call ring3_setup
  mov eax, SEL_NP_DATA
  xor ebx, ebx
  mov ecx, 0xFFFFF
  mov edx, 0xC13                ; data, not present
  call set_gdt
  call test_simple
  call test_debug
  call test_descriptor_faults
  call test_double_fault
  call test_fpu_sse
  call test_paging_faults
  call test_ring3
  jmp pass32

; ------------------------------------------------------------ simple ones
test_simple:
  PRINT "  #DE #BP #OF #BR #UD #GP, fault vs trap", 10
  TRY
  xor edx, edx
  mov eax, 1
  xor ecx, ecx
.de:
  div ecx
  ENDTRY
  EXPECT_FAULT 0, 0, '#DE'
  CHECK dword [exc_eip], .de, '#DE is a fault (EIP = div)'
  CHECK dword [exc_cs], SEL_CODE32, '#DE saved CS'
%ifndef QEMU_TCG_QUIRKS
  ; SDM 17.3.1.1: faults other than instruction breakpoints push RF = 1.
  mov eax, [exc_eflags]
  and eax, EF_RF
  CHECK eax, EF_RF, '#DE pushed EFLAGS.RF = 1'
%endif
  ; INT3 and INT 3 are traps: EIP after the instruction.
  TRY
  int3
.bp1:
  ENDTRY
  EXPECT_FAULT 3, 0, '#BP int3'
  CHECK dword [exc_eip], .bp1, '#BP int3 is a trap'
  TRY
  int 3
.bp2:
  ENDTRY
  CHECK dword [exc_eip], .bp2, 'int 3 (CD 03) is a trap'
  ; INTO with OF = 1: trap.
  TRY
  mov al, 0x7F
  add al, 1
  into
.of:
  ENDTRY
  EXPECT_FAULT 4, 0, '#OF'
  CHECK dword [exc_eip], .of, '#OF is a trap'
  ; BOUND: fault.
  mov dword [lib_tmp], -5
  mov dword [lib_tmp + 4], 5
  TRY
  mov eax, -6
.br:
  bound eax, [lib_tmp]
  ENDTRY
  EXPECT_FAULT 5, 0, '#BR'
  CHECK dword [exc_eip], .br, '#BR is a fault'
  ; #UD: UD2, LOCK on a non-lockable instruction, LOCK with a register
  ; destination, an undefined opcode.
  TRY
.ud:
  ud2
  ENDTRY
  EXPECT_FAULT 6, 0, '#UD ud2'
  CHECK dword [exc_eip], .ud, '#UD is a fault'
  TRY
  db 0xF0, 0x90                 ; lock nop
  ENDTRY
  EXPECT_FAULT 6, 0, '#UD lock nop'
  TRY
  db 0xF0, 0x01, 0xD8           ; lock add eax, ebx
  ENDTRY
  EXPECT_FAULT 6, 0, '#UD lock add reg,reg'
  TRY
  lock add [lib_tmp], eax       ; lockable: fine
  ENDTRY
  EXPECT_NOFAULT 'lock add mem,reg'
  TRY
  db 0x0F, 0x0B                 ; ud2 again, other spelling
  ENDTRY
  EXPECT_FAULT 6, 0, '#UD 0F 0B'
  TRY
  db 0x8C, 0xF8                 ; mov ax, sreg 7
  ENDTRY
  EXPECT_FAULT 6, 0, '#UD mov from sreg 7'
%ifndef QEMU_TCG_QUIRKS
  ; QEMU 7.2 TCG loops forever on MOV to CR4 with a reserved bit, and takes
  ; CR0.PG=1 with PE=0 (then triple faults) instead of raising #GP(0).
  ; #GP(0): reserved CR4 bit, PG without PE.
  TRY
  mov eax, cr4
  or eax, 0x80000000
  mov cr4, eax
  ENDTRY
  EXPECT_FAULT 13, 0, '#GP(0) reserved CR4 bit'
  TRY
  mov eax, cr0
  and eax, ~1
  or eax, 0x80000000
  mov cr0, eax
  ENDTRY
  EXPECT_FAULT 13, 0, '#GP(0) CR0.PG without PE'
%else
  PRINT "  SKIP (QEMU TCG quirk): #GP(0) for reserved CR4 bits / PG without PE", 10
%endif
  ; Software INT with a vector past the IDT limit: #GP(vec*8+2).
  mov word [lib_tmp], 0x27F     ; 80 gates
  mov dword [lib_tmp + 2], IDT_BASE
  lidt [lib_tmp]
  TRY
  int 0x50
  ENDTRY
  lidt [idtr32]
  EXPECT_FAULT 13, 0x50 * 8 + 2, '#GP INT past IDT limit'
  ; Not-present gate: #NP(vec*8+2), a fault (EIP = the INT).
  mov eax, 0x60
  mov ebx, SEL_CODE32
  mov ecx, isr32_0
  mov edx, 0x0E                 ; interrupt gate, P = 0
  call set_gate
  TRY
.npg:
  int 0x60
  ENDTRY
  EXPECT_FAULT 11, 0x60 * 8 + 2, '#NP not-present gate'
  CHECK dword [exc_eip], .npg, '#NP not-present gate is a fault'
  ; A hardware exception whose gate names a bad code selector: #GP with
  ; the EXT bit (bit 0) set (SDM 6.13). #UD is benign: no #DF.
  mov eax, 6
  mov ebx, 0x800
  mov ecx, isr32_6
  mov edx, 0x8E
  call set_gate
  TRY
  ud2
  ENDTRY
  mov eax, 6
  mov ebx, SEL_CODE32
  mov ecx, isr32_6
  mov edx, 0x8E
  call set_gate
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no EXT bit
  EXPECT_FAULT 13, 0x801, '#GP(sel|EXT) delivering #UD through a bad gate'
%else
  CHECK dword [exc_vec], 13, '#GP delivering #UD through a bad gate'
%endif
  ; The same through INT n: EXT = 0.
  mov eax, 0x61
  mov ebx, 0x800
  mov ecx, isr32_0
  mov edx, 0x8E
  call set_gate
  TRY
  int 0x61
  ENDTRY
  EXPECT_FAULT 13, 0x800, '#GP(sel) INT n through a bad gate'
  ret

; ------------------------------------------------------------ debug
; Hook for #DB: counts, records DR6, sets RF (instruction breakpoints),
; clears TF, and returns to the saved EIP.
hook_db:
  cmp dword [exc_vec], 1
  jne .other
  inc dword [db_count]
  mov eax, dr6
  mov [db_dr6], eax
  xor eax, eax
  mov dr6, eax
  or dword [ebx + 8], EF_RF
  and dword [ebx + 8], ~EF_TF
  mov dword [resume_eip], 0
.other:
  ret

test_debug:
  PRINT "  #DB: single-step, instruction and data breakpoints", 10
  xor eax, eax
  mov dr6, eax
  mov dword [db_count], 0
  mov dword [exc_hook], hook_db
  mov dword [exc_count], 0
  mov dword [resume_eip], 0
  pushfd
  or dword [esp], EF_TF
  popfd
  nop
.ss:
  nop
  mov dword [exc_hook], 0
  CHECK dword [db_count], 1, 'single-step: one trap'
  CHECK dword [exc_eip], .ss, 'single-step trap EIP after the nop'
  mov eax, [db_dr6]
  and eax, 0x400F
  CHECK eax, 0x4000, 'single-step DR6.BS'
  ; Instruction breakpoint (DR0, R/W = 00, LEN = 00): a fault before the
  ; instruction; RF = 1 in the image lets it run once.
  mov eax, .bp_insn
  mov dr0, eax
  mov eax, 0x00000001           ; L0
  mov dr7, eax
  mov dword [db_count], 0
  mov dword [exc_hook], hook_db
  xor ecx, ecx
.bp_insn:
  inc ecx
  xor eax, eax
  mov dr7, eax
  mov dword [exc_hook], 0
  CHECK dword [db_count], 1, 'instruction breakpoint: one #DB'
  CHECK ecx, 1, 'instruction breakpoint: instruction ran once'
  CHECK dword [exc_eip], .bp_insn, 'instruction breakpoint is a fault'
  mov eax, [db_dr6]
  and eax, 0x400F
  CHECK eax, 0x0001, 'instruction breakpoint DR6.B0'
  mov eax, [exc_eflags]
  and eax, EF_RF
  CHECK eax, 0, 'instruction breakpoint pushes RF = 0'
  ; Data write breakpoint (DR1, R/W = 01, LEN = 11): a trap after the write.
  mov eax, lib_tmp + 8
  mov dr1, eax
  mov eax, 0x00D00004           ; L1, RW1 = 01, LEN1 = 11
  mov dr7, eax
  mov dword [db_count], 0
  mov dword [exc_hook], hook_db
  mov eax, [lib_tmp + 8]        ; a read does not trigger a write breakpoint
  mov dword [lib_tmp + 8], 5
.dw:
  xor eax, eax
  mov dr7, eax
  mov dword [exc_hook], 0
  CHECK dword [db_count], 1, 'data breakpoint: one #DB'
  CHECK dword [exc_eip], .dw, 'data breakpoint is a trap'
  mov eax, [db_dr6]
  and eax, 0x400F
  CHECK eax, 0x0002, 'data breakpoint DR6.B1'
  ret

; ------------------------------------------------------------ descriptors
test_descriptor_faults:
  PRINT "  #NP #SS #TS #GP(selector)", 10
  xor ax, ax
  lldt ax
  TRY
  mov ax, SEL_NP_DATA
  mov es, ax
  ENDTRY
  EXPECT_FAULT 11, SEL_NP_DATA, '#NP(sel) loading ES'
  TRY
  mov ax, SEL_NP_DATA
  mov ss, ax
  ENDTRY
  EXPECT_FAULT 12, SEL_NP_DATA, '#SS(sel) loading SS'
  TRY
  mov ax, 0x804
  mov es, ax
  ENDTRY
  EXPECT_FAULT 13, 0x804, '#GP(sel) LDT selector past the limit'
  ; #TS: IRET with NT = 1 returns to the back-link task; a back link that
  ; is not a busy TSS raises #TS(back link) at the IRET.
  mov word [TSS0_BASE], SEL_DATA32
  TRY
  pushfd
  or dword [esp], EF_NT
  popfd
.ts:
  iretd
  ENDTRY
  pushfd
  and dword [esp], ~EF_NT
  popfd
  EXPECT_FAULT 10, SEL_DATA32, '#TS(sel) IRET to a non-TSS back link'
  CHECK dword [exc_eip], .ts, '#TS is a fault'
  ; An available (not busy) TSS as the back link: #TS too.
  mov eax, 0x50
  mov ebx, 0x3800
  mov ecx, 0x67
  mov edx, 0x089
  call set_gdt
  mov word [TSS0_BASE], 0x50
  TRY
  pushfd
  or dword [esp], EF_NT
  popfd
  iretd
  ENDTRY
  pushfd
  and dword [esp], ~EF_NT
  popfd
  mov word [TSS0_BASE], 0
  EXPECT_FAULT 10, 0x50, '#TS(sel) IRET to a non-busy TSS'
  ret

; ------------------------------------------------------------ double fault
hook_df:
  ; #DF is an abort: the saved CS:EIP is undefined. Resume in a known CS.
  cmp dword [exc_vec], 8
  jne .r
  mov dword [ebx + 4], SEL_CODE32
.r:
  ret

test_double_fault:
  PRINT "  #DF: contributory during contributory", 10
  ; Gate 13 not present: a #GP finds #NP(13*8+2|EXT) while delivering;
  ; #GP then #NP are both contributory -> #DF(0) (SDM 6.15, table 6-5).
  mov eax, 13
  mov ebx, SEL_CODE32
  mov ecx, isr32_13
  mov edx, 0x0E
  call set_gate
  mov dword [exc_hook], hook_df
  TRY
  mov ax, 0x800
  mov es, ax                    ; #GP(0x800)
  ENDTRY
  mov dword [exc_hook], 0
  mov eax, 13
  mov ebx, SEL_CODE32
  mov ecx, isr32_13
  mov edx, 0x8E
  call set_gate
  EXPECT_FAULT 8, 0, '#DF(0) for #GP with a not-present gate'
  ; #UD (benign) with a not-present gate: #NP(6*8+2+EXT), no #DF.
  mov eax, 6
  mov ebx, SEL_CODE32
  mov ecx, isr32_6
  mov edx, 0x0E
  call set_gate
  TRY
  ud2
  ENDTRY
  mov eax, 6
  mov ebx, SEL_CODE32
  mov ecx, isr32_6
  mov edx, 0x8E
  call set_gate
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no EXT bit
  EXPECT_FAULT 11, 6 * 8 + 3, '#NP(vec*8+2+EXT) for #UD with a not-present gate'
%else
  CHECK dword [exc_vec], 11, '#NP for #UD with a not-present gate'
%endif
  ret

; ------------------------------------------------------------ FPU / SSE
hook_mf:
  cmp dword [exc_vec], 16
  jne .r
  fnstenv [fenv]
  fnclex
.r:
  ret

hook_xm:
  cmp dword [exc_vec], 19
  jne .r
  stmxcsr [mxcsr_tmp]
  push dword 0x1F80
  ldmxcsr [esp]
  add esp, 4
.r:
  ret

test_fpu_sse:
  PRINT "  #NM #MF #XM", 10
  ; CR0: MP = 1, EM = 0, TS = 1, NE = 1.
  mov eax, cr0
  and eax, ~4
  or eax, 0x2A
  mov cr0, eax
  TRY
.nm:
  fld1
  ENDTRY
  EXPECT_FAULT 7, 0, '#NM fld1 with TS'
  CHECK dword [exc_eip], .nm, '#NM is a fault'
  TRY
  fwait
  ENDTRY
  EXPECT_FAULT 7, 0, '#NM wait with TS and MP'
  mov eax, cr0
  and eax, ~2
  mov cr0, eax
  TRY
  fwait
  ENDTRY
  EXPECT_NOFAULT 'wait with TS and MP = 0'
  mov eax, cr4
  or eax, 0x600                 ; OSFXSR, OSXMMEXCPT
  mov cr4, eax
  TRY
  xorps xmm0, xmm0
  ENDTRY
  EXPECT_FAULT 7, 0, '#NM SSE with TS'
  clts
  mov eax, cr0
  or eax, 4                     ; EM
  mov cr0, eax
  TRY
  fld1
  ENDTRY
  EXPECT_FAULT 7, 0, '#NM fld1 with EM'
  TRY
  xorps xmm0, xmm0
  ENDTRY
  EXPECT_FAULT 6, 0, '#UD SSE with EM'
  mov eax, cr0
  and eax, ~4
  or eax, 2
  mov cr0, eax

  ; #MF: an unmasked x87 exception is reported at the next waiting x87
  ; instruction (SDM 8.7 with CR0.NE = 1). FIP still names the FDIV.
  fninit
  push dword 0x037B             ; ZM clear
  fldcw [esp]
  add esp, 4
  fld1
  fldz
.fdiv:
  fdivp st1, st0
  mov dword [exc_hook], hook_mf
  TRY
.mf:
  fwait
  ENDTRY
  mov dword [exc_hook], 0
  EXPECT_FAULT 16, 0, '#MF'
  CHECK dword [exc_eip], .mf, '#MF at the next waiting instruction'
  movzx eax, word [fenv + 4]    ; status word
  and eax, 0x00BF
  CHECK eax, 0x0084, '#MF FSW: ES and ZE'
  CHECK dword [fenv + 12], .fdiv, '#MF FPU instruction pointer = fdiv'
%ifndef QEMU_TCG_QUIRKS
  movzx eax, word [fenv + 18]
  and eax, 0x7FF
  CHECK eax, 0x6F9, '#MF FPU opcode = DE F9'
%endif
  fninit

%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: never raises #XM
  ; #XM: unmasked SSE exception with OSXMMEXCPT: a fault at the DIVSS.
  push dword 0x1D80             ; ZM clear
  ldmxcsr [esp]
  add esp, 4
  mov dword [lib_tmp], 0x3F800000
  movss xmm0, [lib_tmp]
  xorps xmm1, xmm1
  mov dword [exc_hook], hook_xm
  TRY
.xm:
  divss xmm0, xmm1
  ENDTRY
  mov dword [exc_hook], 0
  EXPECT_FAULT 19, 0, '#XM'
  CHECK dword [exc_eip], .xm, '#XM is a fault'
  mov eax, [mxcsr_tmp]
  and eax, 0x3F
  CHECK eax, 0x04, '#XM MXCSR.ZE'
  ; Without OSXMMEXCPT the same is #UD.
  mov eax, cr4
  and eax, ~0x400
  mov cr4, eax
  push dword 0x1D80
  ldmxcsr [esp]
  add esp, 4
  TRY
  divss xmm0, xmm1
  ENDTRY
  EXPECT_FAULT 6, 0, '#UD for an unmasked SSE exception without OSXMMEXCPT'
%endif
  push dword 0x1F80
  ldmxcsr [esp]
  add esp, 4
  ret

; ------------------------------------------------------------ paging
setup_paging:
  pushad
  mov edi, PD_BASE
  xor eax, eax
  mov ecx, 3 * 1024
  rep stosd
  mov dword [PD_BASE], PT0_BASE | 7
  mov dword [PD_BASE + 4], PT1_BASE | 7
  mov edi, PT0_BASE
  mov eax, 7                    ; P, W, U
  mov ecx, 1024
.l:
  stosd
  add eax, 0x1000
  loop .l
  mov dword [PT1_BASE + 0 * 4], PG_NP                ; P = 0
  mov dword [PT1_BASE + 1 * 4], PG_RO | 5            ; P, U, read-only
  mov dword [PT1_BASE + 2 * 4], PG_SUP | 3           ; P, W, supervisor
  mov dword [PT1_BASE + 3 * 4], PG_USER | 7          ; P, W, U
  mov eax, PD_BASE
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000            ; PG, WP
  mov cr0, eax
  popad
  ret

test_paging_faults:
  PRINT "  #PF error codes and CR2 (supervisor)", 10
  call setup_paging
  TRY
  mov eax, [PG_NP + 0x10]
  ENDTRY
  EXPECT_FAULT 14, 0, '#PF read not-present (err 0)'
  CHECK dword [exc_cr2], PG_NP + 0x10, '#PF CR2'
  TRY
.w:
  mov dword [PG_NP + 0x20], 1
  ENDTRY
  EXPECT_FAULT 14, 2, '#PF write not-present (W)'
  CHECK dword [exc_eip], .w, '#PF is a fault'
  TRY
  mov dword [PG_RO + 4], 1
  ENDTRY
  EXPECT_FAULT 14, 3, '#PF supervisor write to read-only with WP (P|W)'
  CHECK dword [exc_cr2], PG_RO + 4, '#PF CR2 read-only'
  ; A page-crossing access faults on the second page: CR2 = its first byte.
  TRY
  mov eax, [PG_NP - 2]
  ENDTRY
  EXPECT_FAULT 14, 0, '#PF page-crossing read'
  CHECK dword [exc_cr2], PG_NP, '#PF page-crossing CR2 = start of the second page'
  ; Instruction fetch from a not-present page: CR2 = EIP = target. With
  ; 32-bit paging and no SMEP the I/D bit is not reported (SDM 4.7).
  TRY
  mov eax, PG_NP + 0x100
  jmp eax
  ENDTRY
  EXPECT_FAULT 14, 0, '#PF fetch not-present (32-bit paging: no I/D)'
  CHECK dword [exc_eip], PG_NP + 0x100, '#PF fetch saved EIP'
  CHECK dword [exc_cr2], PG_NP + 0x100, '#PF fetch CR2'
  ret

; ------------------------------------------------------------ ring 3
test_ring3:
  PRINT "  ring 3: #PF U bit, #AC, #GP", 10
  mov eax, cr0
  or eax, 0x40000               ; AM
  mov cr0, eax
  mov eax, ring3_body
  call to_ring3
  ret

ring3_body:
  TRY
  mov eax, [PG_SUP]
  ENDTRY
  EXPECT_FAULT 14, 5, '#PF user read of supervisor page (P|U)'
  TRY
  mov dword [PG_RO], 1
  ENDTRY
  EXPECT_FAULT 14, 7, '#PF user write to read-only page (P|W|U)'
  TRY
  mov eax, [PG_NP]
  ENDTRY
  EXPECT_FAULT 14, 4, '#PF user read of not-present page (U)'
  TRY
  mov dword [PG_USER], 1
  ENDTRY
  EXPECT_NOFAULT 'user write to user page'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG: no alignment checking
  ; #AC: CR0.AM, EFLAGS.AC, CPL 3, misaligned dword -> #AC(0), a fault.
  pushfd
  or dword [esp], EF_AC
  popfd
  TRY
.ac:
  mov eax, [PG_USER + 1]
  ENDTRY
  pushfd
  and dword [esp], ~EF_AC
  popfd
  EXPECT_FAULT 17, 0, '#AC(0) misaligned dword at CPL 3'
  CHECK dword [exc_eip], .ac, '#AC is a fault'
%endif
  TRY
  mov eax, [PG_USER + 1]        ; AC clear: no check
  ENDTRY
  EXPECT_NOFAULT 'misaligned with EFLAGS.AC = 0'
  ; #GP(0) for CLI when CPL > IOPL: ring 3 runs with IOPL 3, so drop it.
  TRY
  cli                           ; IOPL 3: allowed
  ENDTRY
  EXPECT_NOFAULT 'cli at CPL 3 with IOPL 3'
  ; INT 3 from ring 3 through a DPL 0 gate: #GP(3*8+2).
  TRY
  int3
  ENDTRY
  EXPECT_FAULT 13, 3 * 8 + 2, 'int3 at CPL 3 through a DPL 0 gate'
  int 0x80

IMAGE_END
