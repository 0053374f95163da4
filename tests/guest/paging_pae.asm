; paging_pae: PAE paging (SDM Vol. 3 4.4, 4.6-4.10): 2 MiB and 4 KiB pages
; with 64-bit entries, execute-disable with EFER.NXE (#PF with the I/D bit),
; XD as a reserved bit without NXE, accessed/dirty on 2 MiB pages, the PDPTE
; registers (loaded by MOV CR3, not re-read), PDPTE reserved bits (#GP),
; INVLPG.
%define PROG_NAME 'paging_pae'
%include "lib/common.inc"

PDPT equ 0x10000
PD0  equ 0x11000                ; 0-1 GiB
PD1  equ 0x12000                ; 1-2 GiB (PDPTE register test)
PT0  equ 0x13000                ; 0-2 MiB identity
PT5  equ 0x14000                ; 10-12 MiB test pages
PD1B equ 0x15000                ; replacement for PD1

LIN_2M  equ 0x400000            ; PDE 2: 2 MiB page -> physical 8 MiB
LIN_T   equ 0xA00000            ; PDE 5: 4 KiB test pages
PHYS_T  equ 0x900000            ; behind LIN_T, reachable through PDE 4
LIN_1G  equ 0x40000000

P equ 1
W equ 2
U equ 4
A equ 0x20
D equ 0x40
PS equ 0x80
%define XD_HI 0x80000000        ; bit 63, in the high dword

EFER equ 0xC0000080

[absolute 0x4000]
saved_esp: resd 1
have_nx:   resd 1
section .text

bits 32
; set_pte64 addr, low, high
%macro SET64 3
  mov dword [%1], %2
  mov dword [%1 + 4], %3
%endmacro

exec_stub:
  mov eax, 0x600DC0DE
  ret
exec_stub_end:

setup:
  mov edi, PDPT
  xor eax, eax
  mov ecx, 6 * 1024
  rep stosd
  SET64 PDPT + 0, PD0 | P, 0
  SET64 PDPT + 8, PD1 | P, 0
  SET64 PD0 + 0 * 8, PT0 | P | W | U, 0
  SET64 PD0 + 1 * 8, 0x200000 | PS | P | W | U, 0
  SET64 PD0 + 2 * 8, 0x800000 | PS | P | W | U, 0
  SET64 PD0 + 4 * 8, 0x800000 | PS | P | W | U, 0
  SET64 PD0 + 5 * 8, PT5 | P | W | U, 0
  SET64 PD1 + 0, 0x800000 | PS | P | W | U, 0
  SET64 PD1B + 0, 0xA00000 | PS | P | W | U, 0
  mov edi, PT0
  mov eax, P | W | U
  mov ecx, 512
.l:
  mov [edi], eax
  mov dword [edi + 4], 0
  add edi, 8
  add eax, 0x1000
  loop .l
  SET64 PT5 + 0 * 8, (PHYS_T + 0x0000) | P | W | U, 0
  SET64 PT5 + 1 * 8, (PHYS_T + 0x1000) | P | W | U, XD_HI
  SET64 PT5 + 2 * 8, 0, 0
  SET64 PT5 + 3 * 8, (PHYS_T + 0x3000) | P | W | U, 0
  SET64 PT5 + 4 * 8, (PHYS_T + 0x4000) | P | W | U, XD_HI
  SET64 PT5 + 5 * 8, (PHYS_T + 0x5000) | P | W | U, 0
  ; Code in the executable and in the XD page.
  mov esi, exec_stub
  mov edi, PHYS_T + 0x1000
  mov ecx, exec_stub_end - exec_stub
  call memcpy32
  mov edi, PHYS_T + 0x3000
  call memcpy32
  mov dword [PHYS_T + 0x5000], 0xAAAA0005
  mov dword [PHYS_T + 0x6000], 0xBBBB0006
  mov dword [0x800020], 0x1111AAAA
  mov dword [0xA00020], 0x2222BBBB
  mov eax, cr4
  or eax, 0x20                  ; PAE
  mov cr4, eax
  mov eax, PDPT
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010000            ; PG, WP
  mov cr0, eax
  ret

main32:
  PRINT "paging_pae: start", 10
  mov eax, 0x80000001
  cpuid
  and edx, 1 << 20
  mov [have_nx], edx
  call setup
  call test_pages
  call test_xd_reserved
  call test_nx
  call test_pdpte
  jmp pass32

test_pages:
  PRINT "  2 MiB and 4 KiB PAE pages, A/D", 10
  mov dword [LIN_2M + 0x10], 0x2D2D2D2D
  CHECK dword [0x800010], 0x2D2D2D2D, '2 MiB page maps 4 MiB -> 8 MiB'
  mov eax, [PD0 + 2 * 8]
  and eax, A | D
  CHECK eax, A | D, '2 MiB PDE accessed and dirty'
  mov eax, [LIN_T + 0x10]
  mov eax, [PT5]
  and eax, A | D
  CHECK eax, A, '4 KiB PTE: read sets A only'
  mov dword [LIN_T + 0x10], 5
  mov eax, [PT5]
  and eax, A | D
  CHECK eax, A | D, '4 KiB PTE: write sets D'
  TRY
  mov eax, [LIN_T + 0x2000]
  ENDTRY
  EXPECT_FAULT 14, 0, 'not-present PTE'
  CHECK dword [exc_cr2], LIN_T + 0x2000, 'CR2'
  TRY
  mov eax, [0x80000000]         ; PDPTE 2 not present
  ENDTRY
  EXPECT_FAULT 14, 0, 'not-present PDPTE'
  ; INVLPG.
  CHECK dword [LIN_T + 0x5000], 0xAAAA0005, 'mapping before the change'
  SET64 PT5 + 5 * 8, (PHYS_T + 0x6000) | P | W | U, 0
  invlpg [LIN_T + 0x5000]
  CHECK dword [LIN_T + 0x5000], 0xBBBB0006, 'INVLPG: new mapping used'
  ret

test_xd_reserved:
  PRINT "  XD without EFER.NXE is a reserved bit", 10
  TRY
  mov eax, [LIN_T + 0x4000]
  ENDTRY
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG reports RSVD without P
  EXPECT_FAULT 14, P | 8, 'XD set with NXE = 0: RSVD'
%else
  CHECK dword [exc_vec], 14, 'XD set with NXE = 0: #PF'
%endif
  ret

test_nx:
  PRINT "  execute-disable (EFER.NXE)", 10
  cmp dword [have_nx], 0
  jne .go
  PRINT "  SKIP: no NX in CPUID", 10
  ret
.go:
  mov ecx, EFER
  rdmsr
  or eax, 1 << 11
  wrmsr
  ; Data reads of an XD page are fine.
  TRY
  mov eax, [LIN_T + 0x1000]
  ENDTRY
  EXPECT_NOFAULT 'read from an XD page'
  ; Executing it is #PF with P and I/D.
  mov [saved_esp], esp
  TRY
  call LIN_T + 0x1000
  ENDTRY
  mov esp, [saved_esp]
  EXPECT_FAULT 14, P | 0x10, 'fetch from an XD page: P|I'
  CHECK dword [exc_eip], LIN_T + 0x1000, 'XD fetch: saved EIP = target'
  CHECK dword [exc_cr2], LIN_T + 0x1000, 'XD fetch: CR2 = target'
  ; Fetch from a not-present page with NXE: I/D is reported.
  mov [saved_esp], esp
  TRY
  call LIN_T + 0x2000
  ENDTRY
  mov esp, [saved_esp]
  EXPECT_FAULT 14, 0x10, 'fetch from a not-present page: I'
  ; An executable page runs.
  xor eax, eax
  call LIN_T + 0x3000
  CHECK eax, 0x600DC0DE, 'code in an executable page ran'
  ; XD in a PDE applies to the whole 2 MiB page.
  or dword [PD0 + 4 * 8 + 4], XD_HI
  invlpg [PHYS_T + 0x3000]
  mov [saved_esp], esp
  TRY
  call PHYS_T + 0x3000          ; identity 2 MiB page, now XD
  ENDTRY
  mov esp, [saved_esp]
  and dword [PD0 + 4 * 8 + 4], ~XD_HI
  invlpg [PHYS_T + 0x3000]
  EXPECT_FAULT 14, P | 0x10, 'XD in a 2 MiB PDE'
  mov ecx, EFER
  rdmsr
  and eax, ~(1 << 11)
  wrmsr
  ret

test_pdpte:
  PRINT "  PDPTE registers", 10
  CHECK dword [LIN_1G + 0x20], 0x1111AAAA, 'PDPTE 1 -> PD1 -> 8 MiB'
%ifndef QEMU_TCG_QUIRKS
  ; The PDPTEs are loaded by MOV CR3; changing one in memory has no effect
  ; until the next load, even after INVLPG (SDM 4.4.1, 4.10.4.1).
  SET64 PDPT + 8, PD1B | P, 0
  invlpg [LIN_1G + 0x20]
  CHECK dword [LIN_1G + 0x20], 0x1111AAAA, 'PDPTE change invisible before MOV CR3'
%else
  PRINT "  SKIP (QEMU TCG quirk): PDPTE registers (QEMU re-reads PDPTEs)", 10
  SET64 PDPT + 8, PD1B | P, 0
%endif
  mov eax, cr3
  mov cr3, eax
  CHECK dword [LIN_1G + 0x20], 0x2222BBBB, 'PDPTE change visible after MOV CR3'
%ifndef QEMU_TCG_QUIRKS
  ; A reserved bit in a present PDPTE: MOV CR3 raises #GP(0) (SDM 4.4.1).
  SET64 PDPT + 16, PD0 | P | W, 0
  TRY
  mov eax, cr3
  mov cr3, eax
  ENDTRY
  SET64 PDPT + 16, 0, 0
  EXPECT_FAULT 13, 0, 'reserved bit in a PDPTE: MOV CR3 #GP(0)'
%endif
  ret

IMAGE_END
