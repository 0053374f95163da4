; task_switch: hardware task switching with 32-bit TSSs (SDM Vol. 3 ch. 7):
; JMP (no nesting, busy bits moved), CALL (NT, back link, CR0.TS, IRET back),
; a task gate in the GDT, a task gate in the IDT for #DF (error code pushed on
; the new task's stack), busy-TSS #GP, #TS for a short TSS, #NP, and the
; register state saved into and loaded from the TSSs.
%define PROG_NAME 'task_switch'
%include "lib/common.inc"
%include "lib/ring3.inc"

SEL_TSS_B   equ 0x48
SEL_TSS_C   equ 0x50
SEL_TSS_DF  equ 0x58
SEL_TGATE_C equ 0x60            ; task gate in the GDT -> TSS C
SEL_TSS_SHORT equ 0x68          ; limit 0x20 < 0x67
SEL_TSS_NP  equ 0x70            ; not present
SEL_LDT_B   equ 0x78
TSS_B  equ 0x3100
TSS_C  equ 0x3200
TSS_DF equ 0x3300
TSS_X  equ 0x3400
LDT_B  equ 0x1800

; TSS field offsets (SDM Figure 7-2).
T_LINK equ 0x00
T_CR3  equ 0x1C
T_EIP  equ 0x20
T_EFL  equ 0x24
T_EAX  equ 0x28
T_ECX  equ 0x2C
T_EDX  equ 0x30
T_EBX  equ 0x34
T_ESP  equ 0x38
T_EBP  equ 0x3C
T_ESI  equ 0x40
T_EDI  equ 0x44
T_ES   equ 0x48
T_CS   equ 0x4C
T_SS   equ 0x50
T_DS   equ 0x54
T_FS   equ 0x58
T_GS   equ 0x5C
T_LDT  equ 0x60

EF_NT equ 0x4000

[absolute 0x4000]
b_eax:    resd 1
b_esi:    resd 1
b_tr:     resd 1
b_ldtr:   resd 1
b_flags:  resd 1
b_fs:     resd 1
c_flags:  resd 1
c_tr:     resd 1
c_cr0:    resd 1
c_link:   resd 1
c_runs:   resd 1
c_busy_vec: resd 1
c_busy_err: resd 1
df_err:   resd 1
df_tr:    resd 1
df_flags: resd 1
df_link:  resd 1
df_esp:   resd 1
section .text

; desc_type sel -> eax: the type/access byte of a GDT descriptor.
%macro DESC_ACCESS 1
  movzx eax, byte [GDT_BASE + %1 + 5]
%endmacro

bits 32
; init_tss: edi = TSS base, eax = EIP, ebx = ESP. Flat ring-0 segments.
init_tss:
  pushad
  push eax
  push edi
  xor eax, eax
  mov ecx, 0x68 / 4
  rep stosd
  pop edi
  pop eax
  mov [edi + T_EIP], eax
  mov [edi + T_ESP], ebx
  mov dword [edi + T_EFL], 2
  mov eax, cr3
  mov [edi + T_CR3], eax
  mov dword [edi + T_CS], SEL_CODE32
  mov dword [edi + T_SS], SEL_DATA32
  mov dword [edi + T_DS], SEL_DATA32
  mov dword [edi + T_ES], SEL_DATA32
  mov dword [edi + T_FS], SEL_DATA32
  mov dword [edi + T_GS], SEL_DATA32
  mov word [edi + 0x66], 0x68
  popad
  ret

main32:
  PRINT "task_switch: start", 10
  call ring3_setup              ; TR = TSS0 (the main task)
  ; Task B: entered by JMP, with preset registers and an LDT.
  mov edi, TSS_B
  mov eax, task_b
  mov ebx, 0x84000
  call init_tss
  mov dword [TSS_B + T_EAX], 0x11111111
  mov dword [TSS_B + T_ESI], 0x55555555
  mov dword [TSS_B + T_FS], 0
  mov dword [TSS_B + T_LDT], SEL_LDT_B
  mov eax, SEL_TSS_B
  mov ebx, TSS_B
  mov ecx, 0x67
  mov edx, 0x089
  call set_gdt
  mov eax, SEL_LDT_B
  mov ebx, LDT_B
  mov ecx, 7
  mov edx, 0x082
  call set_gdt
  mov edi, LDT_B
  xor ebx, ebx
  mov ecx, 0xFFFFF
  mov edx, 0xC93
  call set_desc
  ; Task C: entered by CALL (directly and through a task gate).
  mov edi, TSS_C
  mov eax, task_c
  mov ebx, 0x83000
  call init_tss
  mov eax, SEL_TSS_C
  mov ebx, TSS_C
  mov ecx, 0x67
  mov edx, 0x089
  call set_gdt
  mov word [GDT_BASE + SEL_TGATE_C], 0
  mov word [GDT_BASE + SEL_TGATE_C + 2], SEL_TSS_C
  mov word [GDT_BASE + SEL_TGATE_C + 4], 0x8500   ; task gate, P, DPL 0
  mov word [GDT_BASE + SEL_TGATE_C + 6], 0
  ; The #DF task, through a task gate in the IDT.
  mov edi, TSS_DF
  mov eax, task_df
  mov ebx, 0x82000
  call init_tss
  mov eax, SEL_TSS_DF
  mov ebx, TSS_DF
  mov ecx, 0x67
  mov edx, 0x089
  call set_gdt
  mov eax, 8
  mov ebx, SEL_TSS_DF
  xor ecx, ecx
  mov edx, 0x85
  call set_gate
  ; Broken TSS descriptors.
  mov eax, SEL_TSS_SHORT
  mov ebx, TSS_X
  mov ecx, 0x20
  mov edx, 0x089
  call set_gdt
  mov eax, SEL_TSS_NP
  mov ecx, 0x67
  mov edx, 0x009
  call set_gdt

  call test_jmp
  call test_call
  call test_faults
  call test_df_task
  jmp pass32

; ------------------------------------------------------------ JMP
test_jmp:
  PRINT "  JMP to a TSS and back", 10
  mov ebx, 0xB1B1B1B1
  mov ebp, 0xB2B2B2B2
  mov esi, 0xB3B3B3B3
  mov edi, 0xB4B4B4B4
  jmp SEL_TSS_B:0
.back:
  ; Our registers came back from TSS0.
  CHECK ebx, 0xB1B1B1B1, 'EBX restored from TSS0'
  CHECK ebp, 0xB2B2B2B2, 'EBP restored from TSS0'
  CHECK esi, 0xB3B3B3B3, 'ESI restored from TSS0'
  CHECK edi, 0xB4B4B4B4, 'EDI restored from TSS0'
  CHECK dword [TSS0_BASE + T_EIP], .back, 'TSS0.EIP saved = after the JMP'
  CHECK dword [TSS0_BASE + T_EBX], 0xB1B1B1B1, 'TSS0.EBX saved'
  ; What task B saw.
  CHECK dword [b_eax], 0x11111111, 'task B EAX loaded from its TSS'
  CHECK dword [b_esi], 0x55555555, 'task B ESI loaded from its TSS'
  CHECK dword [b_tr], SEL_TSS_B, 'task B TR'
  CHECK dword [b_ldtr], SEL_LDT_B, 'task B LDTR'
  CHECK dword [b_flags], 0, 'task B NT = 0 after JMP'
  CHECK dword [b_fs], 0, 'task B FS = null from its TSS'
  ; What task B left in its TSS when it jumped back.
  CHECK dword [TSS_B + T_ECX], 0xB0B0B0B0, 'TSS B.ECX saved'
  CHECK dword [TSS_B + T_EIP], task_b.after, 'TSS B.EIP saved'
  CHECK dword [TSS_B + T_LINK], 0, 'JMP writes no back link'
  ; Busy bits: JMP clears the old task's, sets the new one's.
  DESC_ACCESS SEL_TSS_B
  CHECK eax, 0x89, 'task B not busy after JMP back'
  DESC_ACCESS SEL_TSS0
  CHECK eax, 0x8B, 'TSS0 busy again'
  str ax
  movzx eax, ax
  CHECK eax, SEL_TSS0, 'TR = TSS0 again'
  sldt ax
  movzx eax, ax
  CHECK eax, 0, 'LDTR from TSS0 (null)'
  ret

task_b:
  mov [b_eax], eax
  mov [b_esi], esi
  str ax
  movzx eax, ax
  mov [b_tr], eax
  sldt ax
  movzx eax, ax
  mov [b_ldtr], eax
  pushfd
  pop eax
  and eax, EF_NT
  mov [b_flags], eax
  xor eax, eax
  mov ax, fs
  mov [b_fs], eax
  DESC_ACCESS SEL_TSS0
  CHECK eax, 0x89, 'TSS0 not busy inside task B (JMP)'
  DESC_ACCESS SEL_TSS_B
  CHECK eax, 0x8B, 'task B busy inside task B'
  mov ecx, 0xB0B0B0B0
  jmp SEL_TSS0:0
.after:
  FAILNOW 'task B resumed unexpectedly'

; ------------------------------------------------------------ CALL
test_call:
  PRINT "  CALL to a TSS, IRET back (NT, back link, TS)", 10
  mov dword [c_runs], 0
  mov ebx, 0xC1C1C1C1
  call SEL_TSS_C:0
  CHECK ebx, 0xC1C1C1C1, 'EBX restored after CALL/IRET'
  CHECK dword [c_runs], 1, 'task C ran'
  CHECK dword [c_flags], EF_NT, 'task C NT = 1'
  CHECK dword [c_link], SEL_TSS0, 'task C back link = TSS0'
  CHECK dword [c_tr], SEL_TSS_C, 'task C TR'
  CHECK dword [c_cr0], 8, 'CR0.TS set by the task switch'
  CHECK dword [c_busy_vec], 13, 'task C: CALL to busy TSS0 #GP'
  CHECK dword [c_busy_err], SEL_TSS0, 'task C: CALL to busy TSS0 #GP(sel)'
  pushfd
  pop eax
  and eax, EF_NT
  CHECK eax, 0, 'NT = 0 back in the main task'
  DESC_ACCESS SEL_TSS_C
  CHECK eax, 0x89, 'IRET cleared task C busy'
  DESC_ACCESS SEL_TSS0
  CHECK eax, 0x8B, 'TSS0 still busy'
  clts
  ; Again through the task gate in the GDT; task C continues after its
  ; IRET (its saved EIP).
  call SEL_TGATE_C:0
  CHECK dword [c_runs], 2, 'task C ran through the task gate'
  CHECK dword [c_link], SEL_TSS0, 'task gate: back link = TSS0'
  clts
  ret

task_c:
  inc dword [c_runs]
  pushfd
  pop eax
  and eax, EF_NT
  mov [c_flags], eax
  str ax
  movzx eax, ax
  mov [c_tr], eax
  mov eax, cr0
  and eax, 8
  mov [c_cr0], eax
  movzx eax, word [TSS_C + T_LINK]
  mov [c_link], eax
  DESC_ACCESS SEL_TSS0
  CHECK eax, 0x8B, 'TSS0 stays busy across CALL'
  TRY
  call SEL_TSS0:0
  ENDTRY
  mov eax, [exc_vec]
  mov [c_busy_vec], eax
  mov eax, [exc_err]
  mov [c_busy_err], eax
  iretd
  jmp task_c

; ------------------------------------------------------------ faults
test_faults:
  PRINT "  busy TSS #GP, short TSS #TS, not-present TSS #NP", 10
  TRY
  jmp SEL_TSS0:0
  ENDTRY
  EXPECT_FAULT 13, SEL_TSS0, 'JMP to the busy current TSS #GP(sel)'
  TRY
  jmp SEL_TSS_SHORT:0
  ENDTRY
  EXPECT_FAULT 10, SEL_TSS_SHORT, 'TSS limit < 0x67 #TS(sel)'
  TRY
  call SEL_TSS_NP:0
  ENDTRY
  EXPECT_FAULT 11, SEL_TSS_NP, 'not-present TSS #NP(sel)'
  ; IRET with NT = 1 to a busy back link: fine above; with the main task's
  ; own link null -> #TS? Not architecturally pinned; skipped.
  ret

; ------------------------------------------------------------ #DF task
task_df:
  pop eax                       ; the error code, pushed on this task's stack
  mov [df_err], eax
  mov [df_esp], esp
  str ax
  movzx eax, ax
  mov [df_tr], eax
  pushfd
  pop eax
  and eax, EF_NT
  mov [df_flags], eax
  movzx eax, word [TSS_DF + T_LINK]
  mov [df_link], eax
  ; Repair: make gate 13 present again and resume the main task elsewhere.
  mov eax, 13
  mov ebx, SEL_CODE32
  mov ecx, isr32_13
  mov edx, 0x8E
  call set_gate
  mov dword [TSS0_BASE + T_EIP], test_df_task.resume
  iretd
  jmp task_df

test_df_task:
  PRINT "  #DF through a task gate", 10
  mov eax, 13
  mov ebx, SEL_CODE32
  mov ecx, isr32_13
  mov edx, 0x0E                 ; not present
  call set_gate
  mov ax, 0x800
.fault:
  mov es, ax                    ; #GP -> #NP (gate) -> #DF -> task switch
  FAILNOW 'no double fault'
.resume:
  CHECK dword [df_err], 0, '#DF error code 0 on the new task stack'
  CHECK dword [df_esp], 0x82000, '#DF task ESP after popping the error code'
  CHECK dword [df_tr], SEL_TSS_DF, '#DF task TR'
  CHECK dword [df_flags], EF_NT, '#DF task NT = 1'
  CHECK dword [df_link], SEL_TSS0, '#DF task back link'
  DESC_ACCESS SEL_TSS_DF
  CHECK eax, 0x89, '#DF task not busy after IRET'
  mov ax, es
  movzx eax, ax
  CHECK eax, SEL_DATA32, 'ES unchanged by the failed load'
  clts
  ret

IMAGE_END
