; ring3: 64-bit ring 3 compute over memory (xorshift64 into a 64 KiB table),
; back to ring 0 through INT 0x80, then ring 0 sums the table and the
; values ring 3 left in registers. Printed on COM1. Under KVM the ring-3
; part runs on the hardware, the ring-0 part wherever KVM runs ring 0. The
; ring-3 code is copied to RAM first: the software KVM of our test machines
; faults on ring-3 instruction fetches from the read-only BIOS slot.
%define MAIN64
%include "lib.inc"

TABLE      equ 0x100000
USER_CODE  equ 0x180000         ; ring-3 code runs from RAM, not the ROM
USER_STACK equ 0x200000
%ifndef ITER
%define ITER 2000000
%endif
; R0ITER > 0 adds a ring-0 compute phase over the same table first (the
; handover test's checksum guest: ring 0 is where engines swap most).
%ifndef R0ITER
%define R0ITER 0
%endif

main64:
  mov rsi, msg_hello
  call print64
%if R0ITER > 0
  mov rax, 0x0123456789ABCDEF
  mov rdi, TABLE
  mov ecx, R0ITER
.ring0_loop:
  imul rax, rax, 6364136223846793005 & 0x7FFFFFFF
  add rax, 1442695040888963407 & 0x7FFFFFFF
  mov rdx, rax
  shr rdx, 29
  and edx, 0xFFF8
  xor [rdi + rdx], rax
  ror rax, 11
  dec ecx
  jnz .ring0_loop
  mov rsi, msg_ring0
  call print64
  call hex64
  mov al, 10
  call put64
%endif
  mov ecx, 0x80                 ; INT 0x80 from ring 3: DPL 3 gate
  mov rax, back_in_ring0
  mov edx, 3
  call set_gate64
  call load_idt64
  mov rsi, ring3_code
  mov rdi, USER_CODE
  mov ecx, ring3_end - ring3_code
  rep movsb
  ; IRETQ to ring 3: SS, RSP, RFLAGS, CS, RIP.
  push SEL_UDATA
  push USER_STACK
  push 0x2                      ; IF clear: nothing interrupts the loop
  push SEL_UCODE64
  push USER_CODE
  iretq

ring3_code:
  mov rax, 0x9E3779B97F4A7C15
  mov rdi, TABLE
  mov r8d, ITER
  xor r9, r9
.loop:
  mov rdx, rax
  shl rdx, 13
  xor rax, rdx
  mov rdx, rax
  shr rdx, 7
  xor rax, rdx
  mov rdx, rax
  shl rdx, 17
  xor rax, rdx
  mov edx, eax
  and edx, 0xFFF8
  add [rdi + rdx], rax
  add r9, rax
  dec r8d
  jnz .loop
  int 0x80
  ud2                           ; not reached
ring3_end:

back_in_ring0:
  mov r10, [rsp + 8]            ; CS of the interrupted code
  mov rsi, msg_back
  call print64
  mov rax, r10
  call hex64
  mov al, 10
  call put64
  mov rsi, msg_regs
  call print64
  mov rax, r9
  call hex64
  mov al, 10
  call put64
  xor eax, eax
  xor ecx, ecx
  mov rdi, TABLE
.sum:
  add rax, [rdi + rcx * 8]
  rol rax, 1
  inc ecx
  cmp ecx, 0x2000
  jb .sum
  mov rsi, msg_sum
  call print64
  call hex64
  mov al, 10
  call put64
  jmp finish64

msg_hello: db "ring 3: from 64-bit ring 0 through IRETQ", 10, 0
msg_ring0: db "ring 0: LCG state ", 0
msg_back:  db "ring 3: back in ring 0 by INT 0x80 from CS ", 0
msg_regs:  db "ring 3: register sum ", 0
msg_sum:   db "ring 3: table checksum ", 0

IMAGE_END
