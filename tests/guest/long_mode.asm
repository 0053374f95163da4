; long_mode: IA-32e mode (SDM Vol. 3 ch. 2.5, 4.5, 5.8.8, 6.14, 9.8; Vol. 2
; SYSCALL/SYSRET/SWAPGS/CMPXCHG16B): entering long mode, 4-level paging with
; 4 KiB, 2 MiB and 1 GiB pages, canonical checks, a compatibility-mode code
; segment, a 64-bit IDT with IST stacks (#BP and a real #DF), SYSCALL/SYSRET
; to ring 3 and back, FS/GS base MSRs and SWAPGS, RDFSBASE/WRFSBASE,
; CMPXCHG16B, RIP-relative addressing, SMEP/SMAP (skipped when CPUID lacks
; them).
%define PROG_NAME 'long_mode'
%include "lib/common.inc"
%include "lib/long64.inc"

PML4  equ 0x10000
PDPT0 equ 0x11000
PD0   equ 0x12000
PT0   equ 0x13000
PDPT1 equ 0x14000
PD1   equ 0x15000

SEL_KDATA  equ 0x30
SEL_UCODE32 equ 0x38            ; STAR[63:48] base
SEL_UDATA  equ 0x40
SEL_UCODE64 equ 0x48
SEL_TSS64  equ 0x50             ; 16 bytes
TSS64      equ 0x3000
IST1_TOP   equ 0x86000
IST2_TOP   equ 0x85000

USER_BASE  equ 0x200000         ; a user 2 MiB page (code, data, stack)
USER_STACK equ 0x280000
DATA       equ 0x100000         ; supervisor scratch

MSR_EFER   equ 0xC0000080
MSR_STAR   equ 0xC0000081
MSR_LSTAR  equ 0xC0000082
MSR_FMASK  equ 0xC0000084
MSR_FSBASE equ 0xC0000100
MSR_GSBASE equ 0xC0000101
MSR_KGSBASE equ 0xC0000102

P equ 1
W equ 2
U equ 4
PS equ 0x80

[absolute 0x4000]
have_1g:    resd 1
have_cx16:  resd 1
have_fsgs:  resd 1
have_smep:  resd 1
have_smap:  resd 1
have_nx:    resd 1
k_rsp:      resq 1
k_rcx:      resq 1
k_r11:      resq 1
k_rax:      resq 1
k_flags:    resq 1
k_cs:       resd 1
k_ss:       resd 1
ist_rsp:    resq 1
ist_frame_rsp: resq 1
df_rsp:     resq 1
compat_eax: resd 1
compat_esp_delta: resd 1
saved_rsp:  resq 1
section .text

bits 32
%macro SET64 3
  mov dword [%1], %2
  mov dword [%1 + 4], %3
%endmacro

main32:
  PRINT "long_mode: start", 10
  ; Features.
  mov eax, 0x80000001
  cpuid
  mov eax, edx
  and eax, 1 << 26
  mov [have_1g], eax
  and edx, 1 << 20
  mov [have_nx], edx
  mov eax, 1
  cpuid
  and ecx, 1 << 13
  mov [have_cx16], ecx
  mov eax, 7
  xor ecx, ecx
  cpuid
  mov eax, ebx
  and eax, 1
  mov [have_fsgs], eax
  mov eax, ebx
  and eax, 1 << 7
  mov [have_smep], eax
  and ebx, 1 << 20
  mov [have_smap], ebx
  ; GDT additions.
  mov eax, SEL_KDATA
  xor ebx, ebx
  mov ecx, 0xFFFFF
  mov edx, 0xC93
  call set_gdt
  mov eax, SEL_UCODE32
  mov edx, 0xCFB
  call set_gdt
  mov eax, SEL_UDATA
  mov edx, 0xCF3
  call set_gdt
  mov eax, SEL_UCODE64
  mov edx, 0xAFB                ; L = 1, G = 1
  call set_gdt
  mov eax, SEL_TSS64
  mov ebx, TSS64
  mov ecx, 0x67
  mov edx, 0x089
  call set_gdt
  mov dword [GDT_BASE + SEL_TSS64 + 8], 0
  mov dword [GDT_BASE + SEL_TSS64 + 12], 0
  mov edi, TSS64
  xor eax, eax
  mov ecx, 0x68 / 4
  rep stosd
  mov dword [TSS64 + 4], 0x8E000          ; RSP0
  mov dword [TSS64 + 0x24], IST1_TOP      ; IST1
  mov dword [TSS64 + 0x2C], IST2_TOP      ; IST2
  mov word [TSS64 + 0x66], 0x68
  ; Page tables.
  mov edi, PML4
  xor eax, eax
  mov ecx, 6 * 1024
  rep stosd
  SET64 PML4 + 0 * 8, PDPT0 | P | W | U, 0
  SET64 PML4 + 1 * 8, PDPT1 | P | W | U, 0
  SET64 PML4 + 511 * 8, PDPT0 | P | W | U, 0
  SET64 PDPT0 + 0, PD0 | P | W | U, 0
  cmp dword [have_1g], 0
  je .no1g
  SET64 PDPT0 + 8, 0 | PS | P | W, 0       ; 1 GiB page: 1 GiB -> 0
.no1g:
  SET64 PDPT1 + 0, PD1 | P | W | U, 0
  SET64 PD1 + 0, 0x800000 | PS | P | W, 0  ; 512 GiB -> 8 MiB
  SET64 PD0 + 0, PT0 | P | W | U, 0
  SET64 PD0 + 8, USER_BASE | PS | P | W | U, 0
  mov edi, PD0 + 16
  mov eax, 0x400000 | PS | P | W
  mov ecx, 14                   ; 4 MiB .. 32 MiB, supervisor
.pd:
  mov [edi], eax
  mov dword [edi + 4], 0
  add edi, 8
  add eax, 0x200000
  loop .pd
  mov edi, PT0
  mov eax, P | W                ; 0-2 MiB identity, supervisor
  mov ecx, 512
.pt:
  mov [edi], eax
  mov dword [edi + 4], 0
  add edi, 8
  add eax, 0x1000
  loop .pt
  ; Enter IA-32e mode (SDM 9.8.5): PAE, CR3, EFER.LME, then CR0.PG.
  mov eax, cr4
  or eax, 0x20 | 0x600          ; PAE, OSFXSR, OSXMMEXCPT
  mov cr4, eax
  mov eax, PML4
  mov cr3, eax
  mov ecx, MSR_EFER
  rdmsr
  or eax, 0x101                 ; LME, SCE
  wrmsr
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  jmp SEL_CODE64:lm_entry

; Compatibility-mode code (CS = SEL_CODE32 while EFER.LMA = 1).
compat_code:
  mov eax, 5
  db 0x48                       ; DEC EAX here; a REX prefix in 64-bit mode
  nop
  mov [compat_eax], eax
  mov ecx, esp
  push eax
  sub ecx, esp
  pop eax
  mov [compat_esp_delta], ecx
  push dword SEL_CODE64
  push dword lm_compat_back
  retf

bits 64
lm_data: dq 0x0123456789ABCDEF

lm_entry:
  mov ax, SEL_KDATA
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov rsp, STACK32_TOP
  call idt64_install
  mov ax, SEL_TSS64
  ltr ax
  PRINT "  in 64-bit mode", 10
  call test_basic
  call test_paging
  call test_compat
  call test_ist
  call test_syscall
  call test_segbase
  call test_cmpxchg16b
  call test_smep_smap
  jmp pass64

; ------------------------------------------------------------ basics
test_basic:
  PRINT "  64-bit basics, RIP-relative, canonical #GP", 10
  mov ecx, MSR_EFER
  rdmsr
  and eax, 0x500
  CHECK eax, 0x500, 'EFER.LMA and LME set'
  mov ax, cs
  movzx eax, ax
  CHECK eax, SEL_CODE64, 'CS'
  mov rax, 0x123456789ABCDEF0
  add rax, rax
  mov rbx, 0x2468ACF13579BDE0
  CHECK64 rax, rbx, '64-bit add'
  mov rax, -1
  mov eax, 1                    ; 32-bit writes zero-extend
  CHECK64 rax, 1, '32-bit write zero-extends'
  mov rax, -1
  mov ax, 1                     ; 16-bit writes merge
  mov rbx, 0xFFFFFFFFFFFF0001
  CHECK64 rax, rbx, '16-bit write merges'
  mov r15d, -2
  movsxd r14, r15d
  CHECK64 r14, -2, 'movsxd r14, r15d'
  lea rax, [rel lm_data]
  mov rbx, lm_data
  CHECK64 rax, rbx, 'lea rip-relative'
  mov rax, [rel lm_data]
  mov rbx, 0x0123456789ABCDEF
  CHECK64 rax, rbx, 'rip-relative load'
  mov rax, 0x8000000000000000
  mov rdx, 1
  mov rcx, 2
  mul rcx
  CHECK64 rdx, 1, '64-bit mul high'
  CHECK64 rax, 0, '64-bit mul low'
  ; #UD for opcodes invalid in 64-bit mode.
  TRY
  db 0x06                       ; push es
  ENDTRY
  EXPECT_FAULT 6, 0, 'push es #UD in 64-bit mode'
  TRY
  db 0xCE                       ; into
  ENDTRY
  EXPECT_FAULT 6, 0, 'into #UD in 64-bit mode'
  ; Non-canonical data address: #GP(0).
  TRY
  mov rax, 0x0000800000000000
  mov rbx, [rax]
  ENDTRY
  EXPECT_FAULT 13, 0, 'non-canonical load #GP(0)'
  ; Non-canonical jump target: #GP(0) reported on the jump.
  TRY
  mov rax, 0x0000800000000000
.jmp:
  jmp rax
  ENDTRY
  EXPECT_FAULT 13, 0, 'jump to non-canonical #GP(0)'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG faults at the target instead
  mov rax, .jmp
  CHECK64 [exc_rip_64], rax, 'non-canonical jump: RIP = the jump'
%endif
  ret

; ------------------------------------------------------------ paging
test_paging:
  PRINT "  4-level paging: 2 MiB, 1 GiB, high half, #PF", 10
  mov rax, 0x8000000000
  mov dword [rax + 0x10], 0x51251251
  CHECK dword [0x800010], 0x51251251, '512 GiB -> 8 MiB 2 MiB page'
  mov dword [0x500 + 0x60], 0x77665544
  mov rax, 0xFFFFFF8000000000
  mov eax, [rax + 0x560]
  CHECK eax, 0x77665544, 'PML4[511] aliases PML4[0]'
  cmp dword [have_1g], 0
  je .no1g
  mov eax, [0x40000560]
  CHECK eax, 0x77665544, '1 GiB page'
  jmp .pf
.no1g:
  PRINT "  SKIP: no 1 GiB pages in CPUID", 10
.pf:
  TRY
  mov eax, [0x2000000]
  ENDTRY
  EXPECT_FAULT 14, 0, '#PF not-present PDE'
  TRY
  mov rax, 0x8000200008
  mov dword [rax], 1
  ENDTRY
  EXPECT_FAULT 14, W, '#PF write not-present, high address'
  mov rax, 0x8000200008
  CHECK64 [exc_cr2_64], rax, '#PF CR2 holds all 64 bits'
  ret

; ------------------------------------------------------------ compat mode
test_compat:
  PRINT "  compatibility mode", 10
  mov [saved_rsp], rsp
  push SEL_CODE32
  mov rax, compat_code
  push rax
  retfq
lm_compat_back:
  mov ax, SEL_KDATA
  mov ds, ax
  mov rsp, [saved_rsp]
  CHECK dword [compat_eax], 4, 'compat mode: 0x48 is DEC EAX'
  CHECK dword [compat_esp_delta], 4, 'compat mode: push is 4 bytes'
  mov ecx, MSR_EFER
  rdmsr
  and eax, 0x400
  CHECK eax, 0x400, 'LMA still set after compat mode'
  ret

; ------------------------------------------------------------ IST
ist_bp:
  mov [ist_rsp], rsp
  push rax
  mov rax, [rsp + 8 + 24]       ; saved RSP in the frame
  mov [ist_frame_rsp], rax
  pop rax
  iretq

ist_df:
  mov [df_rsp], rsp
  jmp isr64_8

hook_df64:
  cmp dword [exc_vec], 8
  jne .r
  mov qword [rbx + 8], SEL_CODE64  ; #DF: saved CS:RIP undefined
.r:
  ret

test_ist:
  PRINT "  IST stacks (#BP, #DF)", 10
  mov eax, 3
  mov rcx, ist_bp
  mov dx, 0x018E                ; IST 1, interrupt gate
  call set_gate64
  mov [saved_rsp], rsp
  int3
  mov rax, IST1_TOP - 40
  CHECK64 [ist_rsp], rax, '#BP handler runs on IST1'
  mov rax, [saved_rsp]
  CHECK64 [ist_frame_rsp], rax, '#BP frame holds the old RSP'
  ; A real double fault on IST2: #GP with a not-present #GP gate.
  mov eax, 8
  mov rcx, ist_df
  mov dx, 0x028E
  call set_gate64
  mov eax, 13
  mov ecx, [isr64_table + 13 * 4]
  mov dx, 0x000E                ; not present
  call set_gate64
  mov dword [exc_hook], hook_df64
  TRY
  mov ax, 0x800
  mov es, ax
  ENDTRY
  mov dword [exc_hook], 0
  mov eax, 13
  mov ecx, [isr64_table + 13 * 4]
  mov dx, 0x008E
  call set_gate64
  EXPECT_FAULT 8, 0, '#DF(0)'
  mov rax, IST2_TOP - 48
  CHECK64 [df_rsp], rax, '#DF handler runs on IST2'
  mov ax, SEL_KDATA
  mov es, ax
  ret

; ------------------------------------------------------------ SYSCALL
; Ring-3 code, copied to USER_BASE; position independent.
user_code:
  mov ax, cs
  mov [rel u_cs], ax
  mov ax, ss
  mov [rel u_ss], ax
  pushfq
  pop rax
  mov [rel u_flags], rax
  std
  mov eax, 0x5C5C
  syscall
u_after:
  jmp u_after
align 8
u_cs:    dq 0
u_ss:    dq 0
u_flags: dq 0
user_code_end:
%define UADDR(x) (USER_BASE + (x) - user_code)

syscall_entry:
  mov [k_rcx], rcx
  mov [k_r11], r11
  mov [k_rax], rax
  pushfq
  pop rax
  mov [k_flags], rax
  mov ax, cs
  movzx eax, ax
  mov [k_cs], eax
  mov ax, ss
  movzx eax, ax
  mov [k_ss], eax
  mov rsp, [k_rsp]
  cld
  ret                           ; returns from the call to enter_user

enter_user:
  mov [k_rsp], rsp
  mov rcx, USER_BASE
  mov r11, 0x3002               ; IOPL 3
  mov rsp, USER_STACK
  o64 sysret

test_syscall:
  PRINT "  SYSCALL/SYSRET", 10
  mov rsi, user_code
  mov rdi, USER_BASE
  mov ecx, user_code_end - user_code
  rep movsb
  mov ecx, MSR_STAR
  xor eax, eax
  mov edx, (SEL_UCODE32 << 16) | SEL_CODE64
  wrmsr
  mov ecx, MSR_LSTAR
  mov rax, syscall_entry
  mov rdx, rax
  shr rdx, 32
  wrmsr
  mov ecx, MSR_FMASK
  mov eax, 0x400                ; clear DF on entry
  xor edx, edx
  wrmsr
  call enter_user
  mov ax, SEL_KDATA
  mov ds, ax
  mov es, ax
  movzx eax, word [UADDR(u_cs)]
  CHECK eax, SEL_UCODE64 | 3, 'SYSRET: CS = STAR[63:48]+16 | 3'
  movzx eax, word [UADDR(u_ss)]
  CHECK eax, SEL_UDATA | 3, 'SYSRET: SS = STAR[63:48]+8 | 3'
  mov eax, [UADDR(u_flags)]
  and eax, 0x3000
  CHECK eax, 0x3000, 'SYSRET: RFLAGS from R11'
  mov rax, UADDR(u_after)
  CHECK64 [k_rcx], rax, 'SYSCALL: RCX = next RIP'
  mov eax, [k_r11]
  and eax, 0x3400
  CHECK eax, 0x3400, 'SYSCALL: R11 = RFLAGS (DF, IOPL)'
  mov eax, [k_flags]
  and eax, 0x400
  CHECK eax, 0, 'SYSCALL: FMASK cleared DF'
  CHECK dword [k_cs], SEL_CODE64, 'SYSCALL: CS = STAR[47:32]'
  CHECK dword [k_ss], SEL_KDATA, 'SYSCALL: SS = STAR[47:32]+8'
  CHECK dword [k_rax], 0x5C5C, 'SYSCALL: RAX passed through'
  ret

; ------------------------------------------------------------ FS/GS
%macro WRMSR64 2                ; msr, value (imm64 or reg)
  mov rax, %2
  mov rdx, rax
  shr rdx, 32
  mov ecx, %1
  wrmsr
%endmacro
%macro RDMSR64 1                ; -> rax
  mov ecx, %1
  rdmsr
  shl rdx, 32
  or rax, rdx
%endmacro

test_segbase:
  PRINT "  FS/GS base, SWAPGS, WRFSBASE", 10
  mov dword [DATA + 0x20], 0xF5F5F5F5
  mov dword [DATA + 0x120], 0x65656565
  WRMSR64 MSR_FSBASE, DATA
  mov eax, [fs:0x20]
  CHECK eax, 0xF5F5F5F5, 'FS base from the MSR'
  mov rbx, 0x8000000000
  WRMSR64 MSR_FSBASE, rbx
  mov eax, [fs:0x10]
  CHECK eax, 0x51251251, 'FS base above 4 GiB'
  mov ax, SEL_KDATA
  mov fs, ax                    ; a selector load sets the base from the GDT
  RDMSR64 MSR_FSBASE
  CHECK64 rax, 0, 'FS selector load resets the base'
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG accepts a non-canonical base
  TRY
  WRMSR64 MSR_FSBASE, 0x0000800000000000
  ENDTRY
  EXPECT_FAULT 13, 0, 'non-canonical FS base #GP(0)'
%endif
  WRMSR64 MSR_GSBASE, DATA
  WRMSR64 MSR_KGSBASE, DATA + 0x100
  swapgs
  mov eax, [gs:0x20]
  CHECK eax, 0x65656565, 'SWAPGS: GS base = old KERNEL_GS_BASE'
  RDMSR64 MSR_GSBASE
  CHECK64 rax, DATA + 0x100, 'SWAPGS: GS_BASE MSR'
  RDMSR64 MSR_KGSBASE
  CHECK64 rax, DATA, 'SWAPGS: KERNEL_GS_BASE MSR'
  swapgs
  mov eax, [gs:0x20]
  CHECK eax, 0xF5F5F5F5, 'SWAPGS twice'
  cmp dword [have_fsgs], 0
  jne .fsgs
  PRINT "  SKIP: no FSGSBASE in CPUID", 10
  ret
.fsgs:
  TRY
  wrfsbase rax
  ENDTRY
  EXPECT_FAULT 6, 0, 'WRFSBASE with CR4.FSGSBASE = 0 #UD'
  mov rax, cr4
  or rax, 1 << 16
  mov cr4, rax
  mov rax, DATA + 0x100
  wrfsbase rax
  rdfsbase rbx
  CHECK64 rbx, DATA + 0x100, 'RDFSBASE'
  RDMSR64 MSR_FSBASE
  CHECK64 rax, DATA + 0x100, 'WRFSBASE writes the MSR'
  mov eax, [fs:0x20]
  CHECK eax, 0x65656565, 'WRFSBASE base used'
  mov ax, SEL_KDATA
  mov fs, ax
  ret

; ------------------------------------------------------------ CMPXCHG16B
test_cmpxchg16b:
  PRINT "  CMPXCHG16B", 10
  cmp dword [have_cx16], 0
  jne .go
  PRINT "  SKIP: no CMPXCHG16B in CPUID", 10
  ret
.go:
  mov qword [DATA + 0x200], 1
  mov qword [DATA + 0x208], 2
  mov eax, 1
  mov edx, 2
  mov ebx, 3
  mov ecx, 4
  lock cmpxchg16b [DATA + 0x200]
  setz al
  movzx eax, al
  CHECK eax, 1, 'cmpxchg16b equal: ZF = 1'
  CHECK64 [DATA + 0x200], 3, 'cmpxchg16b stored RBX'
  CHECK64 [DATA + 0x208], 4, 'cmpxchg16b stored RCX'
  mov eax, 1
  mov edx, 2
  cmpxchg16b [DATA + 0x200]
  setz bl
  movzx ebx, bl
  CHECK ebx, 0, 'cmpxchg16b unequal: ZF = 0'
  CHECK64 rax, 3, 'cmpxchg16b loaded RAX'
  CHECK64 rdx, 4, 'cmpxchg16b loaded RDX'
  TRY
  cmpxchg16b [DATA + 0x208]
  ENDTRY
  EXPECT_FAULT 13, 0, 'cmpxchg16b misaligned #GP(0)'
  ret

; ------------------------------------------------------------ SMEP/SMAP
test_smep_smap:
  PRINT "  SMEP/SMAP", 10
  mov dword [USER_BASE + 0x40000], 0xABCD1234
  mov byte [USER_BASE + 0x1000], 0xC3      ; ret, in a user page
  cmp dword [have_smap], 0
  jne .smap
  PRINT "  SKIP: no SMAP in CPUID", 10
  jmp .smep_check
.smap:
  mov rax, cr4
  or rax, 1 << 21
  mov cr4, rax
  TRY
  mov eax, [USER_BASE + 0x40000]
  ENDTRY
  EXPECT_FAULT 14, P, 'SMAP: supervisor read of a user page'
  stac
  TRY
  mov eax, [USER_BASE + 0x40000]
  ENDTRY
  EXPECT_NOFAULT 'SMAP: allowed with RFLAGS.AC (STAC)'
  CHECK eax, 0xABCD1234, 'SMAP: STAC read value'
  clac
  TRY
  mov dword [USER_BASE + 0x40000], 0
  ENDTRY
  EXPECT_FAULT 14, P | W, 'SMAP: supervisor write after CLAC'
  mov rax, cr4
  and rax, ~(1 << 21)
  mov cr4, rax
.smep_check:
  cmp dword [have_smep], 0
  jne .smep
  PRINT "  SKIP: no SMEP in CPUID", 10
  ret
.smep:
  mov rax, cr4
  or rax, 1 << 20
  mov cr4, rax
  mov [saved_rsp], rsp
  TRY
  mov rax, USER_BASE + 0x1000
  call rax
  ENDTRY
  mov rsp, [saved_rsp]
  EXPECT_FAULT 14, P | 0x10, 'SMEP: supervisor fetch from a user page'
  mov rax, cr4
  and rax, ~(1 << 20)
  mov cr4, rax
  mov rax, USER_BASE + 0x1000
  call rax                      ; fine without SMEP
  ret

IMAGE_END
