; A program for execution-trace tests (cpu/trace_test.cc, tests/cli):
; real-mode register and segment changes, the switch to 32-bit protected
; mode, a counted loop, and one of each event kind: #UD, #GP with an error
; code, #PF with CR2 (4 MiB identity page, nothing above), INT n, and an
; external interrupt taken after STI (the test raises vector 0x20 first).
; Loaded at 0000:8000; ends with HLT. Writes "T" to port 0xE9 at the end.
bits 16
org 0x8000
start:
  mov ax, 0x1234               ; eax=00001234
  sub ax, ax                   ; eax=00000000 rflags=00000046
  mov cx, 0x100
  mov ds, cx                   ; ds=0100 (the base follows in real mode)
  xor cx, cx
  mov ds, cx
  cli
  lgdt [gdt_desc]
  lidt [idt_desc]
  mov eax, cr0
  or al, 1
  mov cr0, eax                 ; cr0=60000011
  jmp 0x08:pm32

bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x6000
  mov ecx, 5
count:
  dec ecx
  jnz count
  ud2                          ; #UD: the handler skips it
  mov ax, 0x1230
  mov es, ax                   ; #GP(0x1230): past the GDT limit; skipped
  ; Paging: one 4 MiB page at 0, nothing above.
  mov dword [0x10000], 0x83
  mov eax, 0x10000
  mov cr3, eax
  mov eax, cr4
  or eax, 0x10                 ; PSE
  mov cr4, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov eax, [0x400000]          ; #PF, error 0, CR2 = 0x400000; skipped
  int 0x30
  sti
  nop                          ; the STI shadow; vector 0x20 arrives after it
  cli
  mov al, 'T'
  out 0xe9, al
  hlt

; Each handler resumes after the faulting instruction.
isr_ud:
  add dword [esp], 2
  iretd
isr_gp:
  add esp, 4
  add dword [esp], 2           ; mov es, ax: 8e c0
  iretd
isr_pf:
  add esp, 4
  add dword [esp], 5           ; a1 00 00 40 00
  iretd
isr_iret:
  iretd

align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff        ; 0x08 code
  dq 0x00cf92000000ffff        ; 0x10 data
gdt_end:
gdt_desc:
  dw gdt_end - gdt - 1
  dd gdt

%macro GATE 1
  dw %1, 0x08, 0x8e00, 0
%endmacro
align 8
idt:
  times 6 dq 0
  GATE isr_ud                  ; 6
  times 6 dq 0
  GATE isr_gp                  ; 13
  GATE isr_pf                  ; 14
  times 0x20 - 15 dq 0
  GATE isr_iret                ; 0x20
  times 0x30 - 0x21 dq 0
  GATE isr_iret                ; 0x30
idt_end:
idt_desc:
  dw idt_end - idt - 1
  dd idt
