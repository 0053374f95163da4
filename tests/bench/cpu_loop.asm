; cpu_loop: a CPU-bound guest for measuring interpreter speed in guest MIPS.
;
; A flat 64 KiB firmware image (QEMU's -bios format, like tests/guest): it
; enters 64-bit mode with 4-level paging (2 MiB pages), runs ITERS iterations
; of a loop shaped like compiled kernel code (loads, stores, ALU, IMUL, a
; call/ret with push/pop, LEA, CMOV, a two-way branch), prints a checksum on
; the debug console (port 0xE9) so runs on different engines can be compared,
; and writes 0 to the exit port 0xF4 (x86vm --exit-port 0xf4 and QEMU's
; isa-debug-exit both exit with status 1).
;
; Every iteration retires exactly INSNS_PER_ITER instructions (both arms of
; the branch have the same length), so a run retires ITERS * INSNS_PER_ITER
; instructions plus a fixed prologue of a few hundred; bench scripts time an
; ITERS=0 image too and subtract it (process start-up, machine setup).
;
; With -DMPI the measured loop is instead the Linux kernel's
; mpihelp_addmul_1 inner loop as Debian's compiler emits it (generic C
; umul_ppmm: four 32x32 IMULs, ADD/ADC carries, CMP+CMOV/SETB, shifts,
; [base+index*8] loads and stores, ADD+JNE closing the loop), copied from a
; trace of the direct boot, where such loops retire about half of all
; instructions. An iteration is one limb; the image walks 1024-limb vectors,
; so ITERS is rounded down to a multiple of 1024 and each vector adds
; MPI_OUTER_INSNS instructions (0.01 %, left out of the count).
;
; Assemble: nasm -f bin -DITERS=50000000 -o cpu_loop.bin cpu_loop.asm
%ifndef ITERS
%define ITERS 50000000
%endif
INSNS_PER_ITER equ 24            ; keep in sync with the loop below
MPI_INSNS_PER_ITER equ 37        ; keep in sync with the MPI loop below
MPI_OUTER_INSNS equ 4

DEBUGCON  equ 0xE9
EXIT_PORT equ 0xF4
PML4      equ 0x10000            ; PML4, PDPT, PD: identity map of 0-1 GiB
PDPT      equ 0x11000
PD        equ 0x12000
STACK_TOP equ 0x90000
SRC       equ 0x200000           ; 8 KiB read by the loop
DST       equ 0x300000           ; 8 KiB written by the loop

org 0xF0000
%define R(x) ((x) - $$)        ; offset in the image (CS = 0xF000)

bits 16
align 8
gdt:
  dq 0
  dq 0x00CF9B000000FFFF          ; 0x08 code32 flat
  dq 0x00CF93000000FFFF          ; 0x10 data flat
  dq 0x00AF9B000000FFFF          ; 0x18 code64
gdt_end:
gdtr:
  dw gdt_end - gdt - 1
  dd gdt

start16:
  cli
  in al, 0x92                    ; A20 on
  or al, 2
  out 0x92, al
  o32 lgdt [cs:R(gdtr)]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp dword 0x08:start32

bits 32
start32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, STACK_TOP
  mov edi, PML4                  ; clear the three tables
  xor eax, eax
  mov ecx, 3 * 1024
  rep stosd
  mov dword [PML4], PDPT | 3
  mov dword [PDPT], PD | 3
  mov edi, PD                    ; 512 x 2 MiB pages, present + writable + PS
  mov eax, 0x83
  mov ecx, 512
.pd:
  mov [edi], eax
  add edi, 8
  add eax, 0x200000
  loop .pd
  mov eax, cr4
  or eax, 0x20                   ; PAE
  mov cr4, eax
  mov eax, PML4
  mov cr3, eax
  mov ecx, 0xC0000080            ; EFER.LME
  rdmsr
  or eax, 0x100
  wrmsr
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  jmp 0x18:start64

bits 64
start64:
  mov rsp, STACK_TOP
  mov rdi, SRC                   ; source data: i * 0x9E3779B97F4A7C15
  mov rax, 0x9E3779B97F4A7C15
  xor edx, edx
  mov ecx, 1024
.fill:
  mov [rdi], rdx
  add rdx, rax
  add rdi, 8
  dec ecx
  jnz .fill
  mov rsi, SRC
  mov rdi, DST
  xor ecx, ecx
  xor edx, edx
  xor r10d, r10d
  xor r11d, r11d
%ifdef MPI
  mov r10, DST                   ; res_ptr
  mov r11, SRC                   ; s1_ptr
  mov r9, 0x9E3779B97F4A7C15     ; s2_limb, split into 32-bit halves
  mov r8d, r9d
  shr r9, 32
  mov rbx, 0x100000000
  xor esi, esi                   ; carry limb
  mov r15, ITERS / 1024
  test r15, r15
  jz .mpi_done
.mpi_vector:                     ; MPI_OUTER_INSNS per 1024 limbs
  mov edi, -1024
  mov rbp, -1024
.mpi_limb:                       ; 37 instructions per limb
  movsxd rax, edi
  sub rax, rbp
  mov rcx, [r11 + rax * 8]
  lea r12, [rax * 8]
  mov rdx, rcx
  mov ecx, ecx
  shr rdx, 32
  mov rax, rcx
  imul rax, r8
  mov r13, rdx
  imul r13, r8
  imul rcx, r9
  imul rdx, r9
  mov r14, rax
  mov eax, eax
  shr r14, 32
  add rcx, r13
  add rcx, r14
  mov r14, rdx
  add rdx, rbx
  cmp rcx, r13
  mov r13, rcx
  cmovae rdx, r14
  add rax, rsi
  shl r13, 32
  add rax, r13
  cmp rax, rsi
  setb sil
  add r12, r10
  shr rcx, 32
  movzx esi, sil
  add rax, [r12]
  adc rsi, rcx
  mov [r12], rax
  add rsi, rdx
  add edi, 1
  jne .mpi_limb
  dec r15
  jnz .mpi_vector
.mpi_done:                       ; checksum: carry ^ res[0] ^ res[1023]
  mov rax, rsi
  xor rax, [DST]
  xor rax, [DST + 8 * 1023]
  jmp .print
%endif
  mov r8, ITERS
  test r8, r8
  jz .done
; The measured loop: 14 instructions here + 10 in leaf = 24 per iteration.
.loop:
  mov rax, [rsi + rcx * 8]       ; 1
  add rdx, rax                   ; 2
  imul rax, rax, 0x9E37          ; 3
  xor rax, rdx                   ; 4
  mov [rdi + rcx * 8], rax       ; 5
  call leaf                      ; 6 (+10 in leaf)
  add ecx, 1                     ; 7
  and ecx, 1023                  ; 8
  cmp ecx, 512                   ; 9
  jb .low                        ; 10
  add r10, rax                   ; 11 (upper half)
  jmp .joined                    ; 12
.low:
  sub r10, rax                   ; 11 (lower half)
  nop                            ; 12
.joined:
  dec r8                         ; 13
  jnz .loop                      ; 14
.done:
  mov rax, r11                   ; checksum: r11 ^ r10 ^ rdx
  xor rax, r10
  xor rax, rdx
.print:
  call puthex64
  mov al, 10
  out DEBUGCON, al
  xor eax, eax
  out EXIT_PORT, eax
.halt:
  hlt
  jmp .halt

leaf:
  push rbx                       ; 1
  mov rbx, rax                   ; 2
  shr rbx, 3                     ; 3
  lea rax, [rax + rbx * 2 + 7]   ; 4
  cmp rax, rdx                   ; 5
  cmovb rax, rdx                 ; 6
  movzx ebx, al                  ; 7
  add r11, rbx                   ; 8
  pop rbx                        ; 9
  ret                            ; 10

; puthex64: rax as 16 hex digits on the debug console.
puthex64:
  mov r9, rax
  mov ecx, 16
.digit:
  rol r9, 4
  mov eax, r9d
  and eax, 0xF
  add eax, '0'
  cmp eax, '9'
  jbe .out
  add eax, 'A' - '0' - 10
.out:
  out DEBUGCON, al
  loop .digit
  ret

  times 0xFFF0 - ($ - $$) db 0xF4
bits 16
  jmp 0xF000:R(start16)
  times 0x10000 - ($ - $$) db 0
