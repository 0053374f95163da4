; 32-bit protected mode: segment-load faults with their error codes, a ring
; 3 excursion entered by IRET, INT from ring 3 through a DPL 3 trap gate
; (stack switch through the 32-bit TSS), a call gate back to ring 0, and a
; task switch through a TSS descriptor. Loaded at 0000:8000. Log at 0x5000:
; {vector, error code, CS} dwords per exception; other results at 0x5400.
bits 16
org 0x8000
LOG equ 0x5000
RES equ 0x5400
start:
  cli
  xor ax, ax
  mov ds, ax
  lgdt [gdt_desc]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp 0x08:pm32

bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x7000
  mov dword [logptr], LOG
  ; IDT: exceptions 10-14 to one logger, 0x30 a DPL 3 trap gate.
  mov eax, isr_ts
  mov ebx, 10
  mov cx, 0x8e00
  call set_gate
  mov eax, isr_np
  mov ebx, 11
  call set_gate
  mov eax, isr_ss
  mov ebx, 12
  call set_gate
  mov eax, isr_gp
  mov ebx, 13
  call set_gate
  mov eax, isr_ac
  mov ebx, 17
  call set_gate
  mov eax, isr_int30
  mov ebx, 0x30
  mov cx, 0xef00               ; P, DPL 3, 32-bit trap gate
  call set_gate
  lidt [idt_desc]
  ; TSS for ring-0 stacks.
  mov dword [tss0 + 4], 0x6800  ; ESP0
  mov dword [tss0 + 8], 0x10    ; SS0
  mov word [tss0 + 102], 104    ; no I/O bitmap
  mov ax, 0x28
  ltr ax

  ; #GP(selector) for a selector past the GDT limit.
  mov dword [recover], r1
  mov ax, 0x1234
  mov ds, ax
r1:
  ; #NP(selector) for a not-present data segment.
  mov dword [recover], r2
  mov ax, 0x38
  mov ds, ax
r2:
  ; #GP(0) writing through a read-only data segment.
  mov dword [recover], r3
  mov ax, 0x40
  mov es, ax
  mov byte [es:0], 1
r3:
  mov ax, 0x10
  mov es, ax
  ; #GP(0) past a byte-granular limit (0x40 has limit 0xfff).
  mov dword [recover], r4
  mov ax, 0x40
  mov fs, ax
  mov eax, [fs:0xffe]
r4:
  ; Ring 3 by IRET, with alignment checking on (CR0.AM, EFLAGS.AC).
  mov eax, cr0
  or eax, 1 << 18
  mov cr0, eax
  push dword 0x33              ; SS (user data, RPL 3)
  push dword 0x6000            ; ESP
  push dword 0x40202           ; EFLAGS: AC, IF
  push dword 0x1b              ; CS (user code, RPL 3)
  push dword user
  iret

user:
  mov ax, 0x33
  mov ds, ax
  mov es, ax
  mov ax, cs
  mov [RES], ax                ; 0x1b
  mov dword [recover], u1
  mov eax, [RES + 1]           ; misaligned at CPL 3: #AC(0)
u1:
  int 0x30                     ; ring 0 handler, back to ring 3
  mov [RES + 4], ebx           ; set by the handler: 0x30
  call 0x48:0                  ; call gate -> kernel_gate at ring 0
  ; not reached: kernel_gate halts

kernel_gate:
  mov ax, cs
  mov [RES + 8], ax            ; 0x08
  mov eax, [esp + 4]           ; caller CS from the ring-0 stack
  mov [RES + 12], eax          ; 0x1b
  mov ax, ss
  mov [RES + 16], ax           ; 0x10 from TSS.SS0
  ; Task switch to task 2 and back.
  mov ax, 0x10
  mov ds, ax
  mov dword [tss2 + 0x20], task2      ; EIP
  mov dword [tss2 + 0x24], 0x2        ; EFLAGS
  mov dword [tss2 + 0x38], 0x6400     ; ESP
  mov word [tss2 + 0x48], 0x10        ; ES
  mov word [tss2 + 0x4c], 0x08        ; CS
  mov word [tss2 + 0x50], 0x10        ; SS
  mov word [tss2 + 0x54], 0x10        ; DS
  mov word [tss2 + 0x58], 0x10
  mov word [tss2 + 0x5c], 0x10
  mov dword [tss2 + 0x1c], 0          ; CR3 (paging is off)
  call 0x50:0                         ; CALL to the TSS: nested task
  str ax
  mov [RES + 24], ax                  ; back in 0x28
  hlt

task2:
  mov dword [RES + 20], 0x7a5c
  str bx
  mov [RES + 28], bx                  ; 0x50
  pushfd
  pop ecx
  mov [RES + 32], ecx                 ; NT set
  iret                                ; back to the caller's task

isr_int30:
  mov ebx, 0x30
  mov ax, ss
  mov [RES + 36], ax            ; 0x10: switched stack
  iret

; eax = handler, ebx = vector, cx = type/attributes.
set_gate:
  lea esi, [idt + ebx * 8]
  mov [esi], ax
  mov word [esi + 2], 0x08
  mov [esi + 4], cx
  shr eax, 16
  mov [esi + 6], ax
  ret

isr_ac:
  push 17
  jmp isr_common
isr_ts:
  push 10
  jmp isr_common
isr_np:
  push 11
  jmp isr_common
isr_ss:
  push 12
  jmp isr_common
isr_gp:
  push 13
isr_common:
  push eax
  push edi
  push ds                       ; the interrupted code's DS survives
  mov ax, 0x10
  mov ds, ax
  mov edi, [logptr]
  mov eax, [esp + 12]           ; vector
  mov [edi], eax
  mov eax, [esp + 16]           ; error code
  mov [edi + 4], eax
  mov eax, [esp + 24]           ; CS
  mov [edi + 8], eax
  add dword [logptr], 12
  mov eax, [recover]
  mov [esp + 20], eax
  pop ds
  pop edi
  pop eax
  add esp, 8
  iret

align 4
recover: dd 0
logptr: dd 0
align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff         ; 0x08 ring 0 code
  dq 0x00cf92000000ffff         ; 0x10 ring 0 data
  dq 0x00cffa000000ffff         ; 0x18 ring 3 code
  dq 0                          ; 0x20
  dw 0x67, tss0, 0x8900, 0      ; 0x28 32-bit TSS (base < 64 KiB)
  dq 0x00cff2000000ffff         ; 0x30 ring 3 data
  dq 0x00cf12000000ffff         ; 0x38 data, not present
  dq 0x0000900000000fff         ; 0x40 read-only data, limit 0xfff
  dw kernel_gate, 0x08, 0xec00, 0  ; 0x48 32-bit call gate, DPL 3
  dw 0x67, tss2, 0x8900, 0      ; 0x50 second TSS
gdt_end:
gdt_desc:
  dw gdt_end - gdt - 1
  dd gdt
align 8
idt_desc:
  dw 256 * 8 - 1
  dd idt
align 16
tss0: times 104 db 0
tss2: times 104 db 0
idt: times 256 * 8 db 0
