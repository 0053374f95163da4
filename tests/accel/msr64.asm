; msr64: 64-bit ring 0 WRMSR/RDMSR of the MSRs the CPU core acts on
; (SYSENTER_CS/ESP/EIP, STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE,
; TSC_AUX; SDM Vol. 4 2.1), each read back and printed, then a SYSCALL
; through LSTAR/STAR/SFMASK (SDM Vol. 2B "SYSCALL") whose handler prints
; what it sees. A KVM that refuses these MSRs must hand the accesses to the
; interpreter, never answer them with #GP or let the guest see other values.
%define MAIN64
%include "lib.inc"

%ifndef SPIN
%define SPIN 100000
%endif

main64:
  mov rsi, msg_hello
  call print64
  mov rax, gp_handler           ; a #GP prints and stops (a refused MSR)
  mov ecx, 13
  xor edx, edx
  call set_gate64
  call load_idt64
  mov rbx, msr_table + 12 * 4   ; (the #GP handler names [rbx])
  mov ecx, 0xC0000082           ; LSTAR as reset left it
  rdmsr
  shl rdx, 32
  or rax, rdx
  mov rsi, msg_reset
  call print64
  call hex64
  mov al, 10
  call put64
  mov ecx, SPIN                 ; outlast a handover window: the engines
.spin:                          ; may swap back before the writes
  dec ecx
  jnz .spin
  mov rbx, msr_table
.next:
  mov ecx, [rbx]
  test ecx, ecx
  jz .syscall
  mov eax, [rbx + 4]
  mov edx, [rbx + 8]
  wrmsr
  xor eax, eax
  xor edx, edx
  rdmsr
  shl rdx, 32
  or rax, rdx
  push rax
  mov eax, [rbx]
  call hex64
  mov al, '='
  call put64
  pop rax
  call hex64
  mov al, 10
  call put64
  add rbx, 12
  jmp .next
.syscall:
  mov ecx, 0xC0000080           ; EFER.SCE enables SYSCALL
  rdmsr
  or eax, 1
  wrmsr
  std                           ; SFMASK clears DF
  mov r12, rsp
  syscall
after_syscall:
  cld
  mov rsi, msg_back
  call print64
  mov ecx, SPIN                 ; past the window again: an engine that
.tail:                          ; cannot load the MSRs must keep the guest
  dec ecx
  jnz .tail
  mov rsi, msg_done
  call print64
  jmp finish64

syscall_handler:
  pushfq
  pop rax
  mov r13, rax
  mov ax, SEL_DATA              ; SYSCALL's SS is STAR[47:32] + 8
  mov ss, ax
  mov rsp, r12
  cld
  mov rsi, msg_sys
  call print64
  mov rax, r13
  call hex64
  mov al, ' '
  call put64
  mov rax, rcx                  ; the return RIP
  call hex64
  mov al, ' '
  call put64
  mov rax, r11                  ; the RFLAGS before
  call hex64
  mov al, 10
  call put64
  push r11
  popfq
  jmp rcx

gp_handler:
  cld
  mov rsi, msg_gp
  call print64
  mov eax, [rbx]
  call hex64
  mov al, 10
  call put64
  jmp finish64

align 4
msr_table:                      ; index, low, high
  dd 0x174, 0x0008, 0
  dd 0x175, 0x0badf00d, 0x00000000
  dd 0x176, 0x12345678, 0x00000000
  dd 0xC0000081, 0, 0x00230018  ; STAR: SYSCALL CS 0x18, SYSRET base 0x23
  dd 0xC0000082, syscall_handler, 0
  dd 0xC0000083, 0x55667788, 0xffff8000
  dd 0xC0000084, 0x400, 0       ; SFMASK: DF
  dd 0xC0000102, 0x9abcdef0, 0xffff8123
  dd 0xC0000103, 0x00000007, 0
  dd 0

msg_hello: db "msr: WRMSR/RDMSR at ring 0, then SYSCALL", 10, 0
msg_reset: db "msr: LSTAR after reset ", 0
msg_sys:   db "msr: syscall handler rflags, rcx, r11 ", 0
msg_back:  db "msr: back from syscall", 10, 0
msg_done:  db "msr: done", 10, 0
msg_gp:    db "msr: #GP on MSR ", 0

IMAGE_END
