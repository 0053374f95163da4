; Straight runs that contain memory accesses (Insn::ends_run), for
; dead_flags_test.cc: 64-bit code with loads, stores, read-modify-writes
; and PUSH/POP between register arithmetic, a store into the very next
; instruction (self-modifying code inside a run), a page fault in the
; middle of a run that the #PF handler repairs before IRETQ retries it, and
; a run of 800 instructions entered at its start and in its middle.
;
; Entered in 64-bit mode at 0x1000 with paging on (the test builds the page
; tables: 0-2 MiB identity-mapped with 4 KiB pages, PT at 0x13000, the page
; at 0x180000 not present). Results in registers at the final HLT:
;   r13 = RIP the #PF pushed minus the faulting instruction's address (0)
;   r14 = CR2 the handler saw (0x180008)
;   r15 = the bytes the patched instruction loaded, summed (0x11 + 0x11 + 0x77)
bits 64
org 0x1000

SRC equ 0x100000
DST equ 0x110000
PT equ 0x13000
HOLE equ 0x180000
STACK equ 0x8000

start:
  mov rsp, STACK
  lgdt [rel gdtr]
  lea rdi, [rel idt]
  mov rax, pf_handler
  mov [rdi + 14 * 16], ax
  mov word [rdi + 14 * 16 + 2], 0x08
  mov word [rdi + 14 * 16 + 4], 0x8e00
  shr rax, 16
  mov [rdi + 14 * 16 + 6], ax
  shr rax, 16
  mov [rdi + 14 * 16 + 8], eax
  lidt [rel idtr]

  mov rsi, SRC
  mov rdi, DST
  mov ecx, 255
.fill:
  lea rax, [rcx * 8 + 0x1234]
  imul rax, rax, 0x9e37
  mov [rsi + rcx * 8], rax
  dec ecx
  jnz .fill

  mov ecx, 255
  xor edx, edx
.loop:
  mov rax, [rsi + rcx * 8]
  add rdx, rax
  imul rax, rax, 0x9e37
  xor rax, rdx
  mov [rdi + rcx * 8], rax
  push rax
  add rbx, [rsp]
  pop r8
  add r9, r8
  movzx r10d, byte [rsi + rcx]
  add qword [rdi], r10
  cmp rax, rbx
  setb r11b
  adc r12, [rdi + 8]
  mov [rdi + 16], r12
  sub rbp, [rdi + rcx * 8]
  shr rbp, 3
  cmp rbp, [rsi]
  cmovb rbp, rdx
  mov [rsi + rcx * 8 - 8], rbp
  add r8, [rsi + rcx * 8]        ; CF only: ADC reads it
  adc r9, rdx
  sub r10, rdx                   ; ZF only: SETE reads it, ADD overwrites all
  sete r11b
  add r10, r11
  cmp r8, r9                     ; CF only
  cmovb r12, r8
  inc r12                        ; writes all but CF
  dec ecx
  jnz .loop

  ; A page fault and self-modifying code inside decoded runs: three passes
  ; over the same code (r12 = 3, 2, 1). Runs only exist from the second
  ; pass on (the first decodes the code). Pass 2 loads from HOLE + 8 in the
  ; middle of a run: #PF (not present), the handler maps the page and IRETQ
  ; retries the load. Pass 3 stores into the immediate of the very next
  ; instruction in the same run, which must then load 0x77 (passes 1 and 2
  ; store into a data byte on the same page, which holds no decoded code).
  mov r12d, 3
  xor r15d, r15d
pass:
  lea rbx, [rel scratch]
  lea rdi, [rel patched + 3]     ; past REX.B, the opcode and ModRM
  mov rsi, SRC
  mov r9, HOLE
  cmp r12d, 2
  cmove rsi, r9
  cmp r12d, 1
  cmove rbx, rdi
  mov al, 0x77
  add rdx, rax
  xor r8, rax
faulting:
  mov rcx, [rsi + 8]
  add rcx, rax
  mov [rsi + 16], rcx
  add rdx, rcx
  xor r14d, r14d
  mov [rbx], al
patched:
  add r14d, strict byte 0x11     ; straight, like the store: same run
  add r15, r14                   ; 0x11 + 0x11 + 0x77
  add rdx, r15
  dec r12d
  jnz pass

  ; A straight run of 800 instructions (runs have no length cap), entered
  ; at its start and, every other time, at an instruction 400 in.
  mov ecx, 4
long_run:
  test ecx, 1
  jz long_middle
%rep 200
  add eax, ecx
  xor edx, eax
%endrep
long_middle:
%rep 200
  add eax, edx
  xor edx, ecx
%endrep
  dec ecx
  jnz long_run

  lea r13, [rel faulting]
  neg r13
  add r13, [rel pf_rip]
  mov r14, [rel pf_cr2]
  hlt

pf_handler:
  push rax
  mov rax, cr2
  mov [rel pf_cr2], rax
  mov rax, [rsp + 16]            ; RIP (above RAX and the error code)
  mov [rel pf_rip], rax
  or qword [PT + (HOLE >> 12) * 8], 1
  invlpg [HOLE]
  pop rax
  add rsp, 8                     ; the error code
  iretq

align 8
scratch: dq 0
pf_rip: dq 0
pf_cr2: dq 0
gdt:
  dq 0
  dq 0x00af9b000000ffff          ; 0x08 64-bit code
  dq 0x00cf93000000ffff          ; 0x10 data
gdtr:
  dw 3 * 8 - 1
  dq gdt
align 16
idt:
  times 32 * 16 db 0
idtr:
  dw 32 * 16 - 1
  dq idt
