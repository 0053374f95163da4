; 32-bit paging (INVLPG, accessed/dirty bits, #PF error codes and CR2 with
; CR0.WP) and a virtual-8086 excursion (INT n at IOPL 0 traps to the #GP
; monitor with the v86 segments on the ring-0 stack). Loaded at 0000:8000.
; Log at 0x5000: {vector, error, CR2} dwords; results at 0x5400.
bits 16
org 0x8000
LOG equ 0x5000
RES equ 0x5400
PD equ 0x10000
PT0 equ 0x11000
PT1 equ 0x12000
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
  mov eax, isr_gp
  mov ebx, 13
  call set_gate
  mov eax, isr_pf
  mov ebx, 14
  call set_gate
  lidt [idt_desc]
  mov dword [tss0 + 4], 0x6800
  mov dword [tss0 + 8], 0x10
  mov word [tss0 + 102], 104
  mov ax, 0x28
  ltr ax
  ; Identity-map 0-4 MiB with user pages; 4 MiB+ through PT1.
  mov edi, PD
  xor eax, eax
  mov ecx, 0x3000 / 4
  rep stosd
  mov dword [PD], PT0 | 7
  mov dword [PD + 4], PT1 | 7
  mov edi, PT0
  mov eax, 7
  mov ecx, 1024
.fill:
  stosd
  add eax, 0x1000
  loop .fill
  mov dword [0x20000], 0x1111
  mov dword [0x21000], 0x2222
  mov dword [PT1], 0x20000 | 3      ; 0x400000 -> 0x20000, supervisor RW
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000                ; PG | WP
  mov cr0, eax

  mov eax, [0x400000]
  mov [RES], eax                    ; 0x1111
  mov dword [PT1], 0x21000 | 3
  invlpg [0x400000]
  mov eax, [0x400000]
  mov [RES + 4], eax                ; 0x2222 after INVLPG
  mov dword [0x400004], 5           ; sets D
  mov eax, [PT1]
  mov [RES + 8], eax                ; 0x21063: A and D set
  ; Read-only page: a supervisor write faults with CR0.WP.
  mov dword [PT1], 0x21000 | 1
  invlpg [0x400000]
  mov dword [recover], r1
  mov dword [0x400008], 1
r1:
  ; Not present.
  mov dword [recover], r2
  mov eax, [0x401000]
r2:
  ; Virtual-8086 mode at 0000:0x3000 with IOPL 0.
  mov esi, v86_code
  mov edi, 0x3000
  mov ecx, v86_end - v86_code
  rep movsb
  push dword 0                      ; GS
  push dword 0                      ; FS
  push dword 0x0040                 ; DS
  push dword 0x0050                 ; ES
  push dword 0                      ; SS
  push dword 0x2ff0                 ; ESP
  push dword 0x00020002             ; EFLAGS: VM
  push dword 0                      ; CS
  push dword 0x3000                 ; EIP
  iret

v86_code:
bits 16
  mov ax, 0x1234
  int 0x21                          ; IOPL 0: #GP(0) to the monitor
v86_end:
bits 32

isr_gp:
  ; Ring-0 frame from v86: error, EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
  mov ax, 0x10
  mov ds, ax
  mov eax, [esp]
  mov [RES + 12], eax               ; error code 0
  mov eax, [esp + 4]
  mov [RES + 16], eax               ; EIP of INT: 0x3003
  mov eax, [esp + 12]
  mov [RES + 20], eax               ; EFLAGS with VM
  mov eax, [esp + 24]
  mov [RES + 24], eax               ; ES 0x50
  mov eax, [esp + 28]
  mov [RES + 28], eax               ; DS 0x40
  mov ax, ss
  mov [RES + 32], ax                ; 0x10 from the TSS
  hlt

isr_pf:
  push eax
  push edi
  mov edi, [logptr]
  mov dword [edi], 14
  mov eax, [esp + 8]
  mov [edi + 4], eax
  mov eax, cr2
  mov [edi + 8], eax
  add dword [logptr], 12
  mov eax, [recover]
  mov [esp + 12], eax
  pop edi
  pop eax
  add esp, 4
  iret

set_gate:
  lea esi, [idt + ebx * 8]
  mov [esi], ax
  mov word [esi + 2], 0x08
  mov word [esi + 4], 0x8e00
  shr eax, 16
  mov [esi + 6], ax
  ret

align 4
recover: dd 0
logptr: dd 0
align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
  dq 0
  dq 0
  dw 0x67, tss0, 0x8900, 0      ; 0x28
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
idt: times 256 * 8 db 0
