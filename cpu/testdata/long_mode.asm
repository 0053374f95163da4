; Real mode -> protected mode -> 4-level paging -> 64-bit mode, then
; exceptions through a 64-bit IDT, and a SYSRET/SYSCALL round trip through
; ring 3. Loaded at 0000:8000. Results at 0x5000 (see cpu_program_test.cc),
; the 64-bit TSS at 0x4000.
bits 16
org 0x8000
RES equ 0x5000
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
  mov al, 'P'
  out 0xe9, al
  mov eax, 0x12345678
  bswap eax
  mov [RES], eax               ; 0x78563412
  ; Page tables at 0x10000: identity map 0-4 MiB with 2 MiB user pages.
  mov edi, 0x10000
  xor eax, eax
  mov ecx, 0x3000 / 4
  rep stosd
  mov dword [0x10000], 0x11007
  mov dword [0x11000], 0x12007
  mov dword [0x12000], 0x000087
  mov dword [0x12008], 0x200087
  mov eax, 0x10000
  mov cr3, eax
  mov eax, cr4
  or eax, 1 << 5
  mov cr4, eax
  mov ecx, 0xc0000080
  rdmsr
  or eax, (1 << 8) | 1
  wrmsr
  mov eax, cr0
  or eax, 1 << 31
  mov cr0, eax
  jmp 0x18:lm64

bits 64
lm64:
  mov ax, 0x20
  mov ds, ax
  mov ss, ax
  mov al, 'L'
  out 0xe9, al
  mov rax, 0x123456789abcdef0
  mov [rel res64], rax
  mov rdx, [rel res64]
  mov [RES + 8], rdx
  ; Build the IDT: vectors 0, 6, 13, 14.
  lea rdi, [rel idt]
  mov rax, isr_de
  mov ebx, 0
  call set_gate
  mov rax, isr_ud
  mov ebx, 6
  call set_gate
  mov rax, isr_gp
  mov ebx, 13
  call set_gate
  mov rax, isr_pf
  mov ebx, 14
  call set_gate
  lidt [rel idt_desc]
  mov qword [0x4004], 0x6800     ; TSS.RSP0
  mov word [0x4066], 0x68        ; I/O map base past the limit: no port access at CPL 3
  mov ax, 0x40
  ltr ax
  mov qword [rel logptr], RES + 0x100

  mov rax, after1
  mov [rel recover], rax
  ud2
after1:
  mov rax, after2
  mov [rel recover], rax
  xor edx, edx
  mov eax, 1
  xor ecx, ecx
  div ecx
after2:
  mov rax, after3
  mov [rel recover], rax
  mov rax, [0x40000000]
after3:
  mov rax, after4
  mov [rel recover], rax
  mov rax, 0x8000000000000000
  mov rbx, [rax]
after4:
  mov al, 'X'
  out 0xe9, al
  ; SYSRET to ring 3, SYSCALL back.
  mov ecx, 0xc0000081
  xor eax, eax
  mov edx, (0x28 << 16) | 0x18
  wrmsr
  mov ecx, 0xc0000082
  mov rax, syscall_entry
  mov rdx, rax
  shr rdx, 32
  wrmsr
  mov ecx, 0xc0000084
  mov eax, 0x200
  xor edx, edx
  wrmsr
  mov rsp, 0x7000
  mov rcx, user_code
  mov r11, 0x202
  o64 sysret

user_code:
  mov al, 'U'
  out 0xe9, al                  ; IOPL 0 at CPL 3: #GP, logged, skipped
  mov rax, 42
  syscall
syscall_entry:
  mov [RES + 16], rax           ; 42
  mov [RES + 24], rcx           ; return RIP (after SYSCALL)
  mov [RES + 32], r11           ; user RFLAGS
  mov ax, cs
  mov [RES + 40], ax            ; 0x18
  mov al, 'S'
  out 0xe9, al
  hlt

; rax = handler, ebx = vector, rdi = IDT base.
set_gate:
  mov rsi, rbx
  shl rsi, 4
  add rsi, rdi
  mov word [rsi], ax
  mov word [rsi + 2], 0x18
  mov word [rsi + 4], 0x8e00
  shr rax, 16
  mov word [rsi + 6], ax
  shr rax, 16
  mov dword [rsi + 8], eax
  mov dword [rsi + 12], 0
  ret

isr_de:
  push 0
  push 0
  jmp isr_common
isr_ud:
  push 0
  push 6
  jmp isr_common
isr_gp:
  push 13
  jmp isr_common
isr_pf:
  push 14
  jmp isr_common
isr_common:
  mov rax, [rsp]
  mov rbx, [rsp + 8]
  mov rdi, [rel logptr]
  mov [rdi], rax
  mov [rdi + 8], rbx
  mov rcx, cr2
  mov [rdi + 16], rcx
  mov rcx, [rsp + 24]           ; CS of the interrupted code
  mov [rdi + 24], rcx
  add qword [rel logptr], 32
  mov rax, [rsp + 24]
  test al, 3
  jnz .user
  mov rax, [rel recover]
  mov [rsp + 16], rax
  add rsp, 16
  iretq
.user:
  add qword [rsp + 16], 2       ; skip "out imm8, al"
  add rsp, 16
  iretq

align 8
res64: dq 0
recover: dq 0
logptr: dq 0
align 16
gdt:
  dq 0
  dq 0x00cf9a000000ffff   ; 0x08 32-bit code
  dq 0x00cf92000000ffff   ; 0x10 data
  dq 0x00af9a000000ffff   ; 0x18 64-bit code
  dq 0x00cf92000000ffff   ; 0x20 data
  dq 0                    ; 0x28 (32-bit user code slot, unused)
  dq 0x00cff2000000ffff   ; 0x30 user data
  dq 0x00affa000000ffff   ; 0x38 user 64-bit code
  dq 0x0000890040000067   ; 0x40 64-bit TSS at 0x4000
  dq 0
gdt_end:
gdt_desc:
  dw gdt_end - gdt - 1
  dd gdt
align 8
idt_desc:
  dw 256 * 16 - 1
  dq idt
align 16
idt: times 256 * 16 db 0
