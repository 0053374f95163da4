; paging32: 32-bit paging (SDM Vol. 3 4.3, 4.6-4.10): 4 KiB and 4 MiB (PSE)
; pages, accessed/dirty bits, CR0.WP, U/S and R/W combined across levels,
; #PF error codes and CR2, reserved bits (RSVD), INVLPG, CR3 reload, and
; global pages (CR4.PGE).
%define PROG_NAME 'paging32'
%include "lib/common.inc"
%include "lib/ring3.inc"

PD   equ 0x10000
PT0  equ 0x11000                ; 0-4 MiB identity, user, writable
PT3  equ 0x12000                ; 12-16 MiB: test pages
PT4  equ 0x13000                ; 16-20 MiB: PDE supervisor, PTEs user
PT5  equ 0x14000                ; 20-24 MiB: PDE read-only, PTEs writable

LIN_4M   equ 0x400000           ; PDE 1: 4 MiB page -> physical 8 MiB
LIN_T    equ 0xC00000           ; PDE 3: test pages
LIN_SUPD equ 0x1000000          ; PDE 4
LIN_ROD  equ 0x1400000          ; PDE 5
LIN_RSVD equ 0x1800000          ; PDE 6: 4 MiB page with a reserved bit
PHYS_T   equ 0x900000           ; physical pages behind LIN_T (via the
                                ; identity 4 MiB page at 8 MiB, PDE 2)
P equ 1
W equ 2
U equ 4
A equ 0x20
D equ 0x40
PS equ 0x80
G equ 0x100

bits 32
; pte i -> the address of PT3 entry i
%define PTE(i) (PT3 + (i) * 4)
%define PDE(i) (PD + (i) * 4)

setup:
  mov edi, PD
  xor eax, eax
  mov ecx, 5 * 1024
  rep stosd
  mov dword [PDE(0)], PT0 | P | W | U
  mov dword [PDE(1)], 0x800000 | PS | P | W | U
  mov dword [PDE(2)], 0x800000 | PS | P | W | U
  mov dword [PDE(3)], PT3 | P | W | U
  mov dword [PDE(4)], PT4 | P | W                  ; supervisor
  mov dword [PDE(5)], PT5 | P | U                  ; read-only
  mov dword [PDE(6)], 0x1800000 | (1 << 21) | PS | P | W | U
  mov edi, PT0
  mov eax, P | W | U
  mov ecx, 1024
.l:
  stosd
  add eax, 0x1000
  loop .l
  mov dword [PTE(0)], (PHYS_T + 0x0000) | P | W | U
  mov dword [PTE(1)], (PHYS_T + 0x1000) | P | U     ; read-only
  mov dword [PTE(2)], (PHYS_T + 0x2000) | P | W     ; supervisor
  mov dword [PTE(3)], 0                             ; not present
  mov dword [PTE(4)], (PHYS_T + 0x4000) | P | W | U
  mov dword [PTE(5)], (PHYS_T + 0x6000) | P | W | U | G
  mov dword [PT4], 0x1000000 | P | W | U
  mov dword [PT5], 0x1400000 | P | W | U
  ; Physical page contents (through the identity 4 MiB page, before paging
  ; the addresses are physical anyway).
  mov dword [PHYS_T + 0x4000], 0xAAAA0004
  mov dword [PHYS_T + 0x5000], 0xBBBB0005
  mov dword [PHYS_T + 0x6000], 0xAAAA0006
  mov dword [PHYS_T + 0x7000], 0xBBBB0007
  mov eax, cr4
  or eax, 0x10                  ; PSE
  mov cr4, eax
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000            ; PG (WP clear for now)
  mov cr0, eax
  ret

main32:
  PRINT "paging32: start", 10
  call ring3_setup
  call setup
  call test_large
  call test_ad
  call test_wp
  call test_faults
  call test_tlb
  mov eax, cr0
  or eax, 0x10000               ; WP for the ring-3 part too
  mov cr0, eax
  mov eax, ring3_body
  call to_ring3
  jmp pass32

test_large:
  PRINT "  4 MiB pages", 10
  mov dword [LIN_4M + 0x10], 0x4D4D4D4D
  CHECK dword [0x800010], 0x4D4D4D4D, '4 MiB page maps 4 MiB -> 8 MiB'
  mov dword [LIN_4M + 0x3FFFFC], 0x12345678
  CHECK dword [0xBFFFFC], 0x12345678, '4 MiB page: last dword'
  mov eax, [PDE(1)]
  and eax, A | D
  CHECK eax, A | D, '4 MiB PDE accessed and dirty'
  ret

test_ad:
  PRINT "  accessed and dirty bits", 10
  and dword [PTE(0)], ~(A | D)
  and dword [PDE(3)], ~A
  invlpg [LIN_T]
  mov eax, [LIN_T]
  mov eax, [PTE(0)]
  and eax, A | D
  CHECK eax, A, 'read sets A, not D'
  mov eax, [PDE(3)]
  and eax, A | D
  CHECK eax, A, 'PDE: A set (D is not a PDE bit here)'
  mov dword [LIN_T], 1
  mov eax, [PTE(0)]
  and eax, A | D
  CHECK eax, A | D, 'write sets D'
  ret

test_wp:
  PRINT "  CR0.WP", 10
  TRY
  mov dword [LIN_T + 0x1000], 0x57575757   ; read-only page, WP = 0
  ENDTRY
  EXPECT_NOFAULT 'supervisor write to read-only page with WP = 0'
  CHECK dword [PHYS_T + 0x1000], 0x57575757, 'the write landed'
  mov eax, cr0
  or eax, 0x10000
  mov cr0, eax
  TRY
.w:
  mov dword [LIN_T + 0x1004], 1
  ENDTRY
  EXPECT_FAULT 14, P | W, 'supervisor write to read-only page with WP = 1'
  CHECK dword [exc_cr2], LIN_T + 0x1004, 'CR2'
  CHECK dword [exc_eip], .w, '#PF saved EIP'
  ; R/W is the AND of the levels: PDE 5 read-only, PTE writable.
  TRY
  mov dword [LIN_ROD], 1
  ENDTRY
  EXPECT_FAULT 14, P | W, 'write under a read-only PDE with WP = 1'
  mov eax, cr0
  and eax, ~0x10000
  mov cr0, eax
  TRY
  mov dword [LIN_ROD], 1
  ENDTRY
  EXPECT_NOFAULT 'write under a read-only PDE with WP = 0'
  ret

test_faults:
  PRINT "  #PF: not present, reserved bits", 10
  TRY
  mov eax, [LIN_T + 0x3008]
  ENDTRY
  EXPECT_FAULT 14, 0, 'read not-present PTE'
  CHECK dword [exc_cr2], LIN_T + 0x3008, 'CR2 not-present PTE'
  TRY
  mov dword [0x3000000], 0
  ENDTRY
  EXPECT_FAULT 14, W, 'write under a not-present PDE'
  CHECK dword [exc_cr2], 0x3000000, 'CR2 not-present PDE'
  ; 4 MiB PDE bit 21 is reserved (SDM 4.3, Table 4-5): RSVD (bit 3) with P.
  TRY
  mov eax, [LIN_RSVD + 0x20]
  ENDTRY
%ifndef QEMU_TCG_QUIRKS         ; QEMU TCG reports RSVD without P here
  EXPECT_FAULT 14, P | 8, 'reserved bit in a 4 MiB PDE'
%else
  CHECK dword [exc_vec], 14, 'reserved bit in a 4 MiB PDE'
%endif
  CHECK dword [exc_cr2], LIN_RSVD + 0x20, 'CR2 reserved bit'
  ; Without PSE, PS is ignored: PDE 1 then names a page table at 8 MiB,
  ; whose entry 0 we make point at physical 0x900000 (PTE(0)'s page).
  mov dword [0x800000], PHYS_T | P | W | U
  mov dword [PHYS_T + 0x80], 0x5E5E5E5E
  mov eax, cr4
  and eax, ~0x10
  mov cr4, eax                  ; changing PSE flushes the TLB (SDM 4.10.4.1)
  mov eax, [LIN_4M + 0x80]
  push eax
  mov eax, cr4
  or eax, 0x10
  mov cr4, eax
  pop eax
  CHECK eax, 0x5E5E5E5E, 'CR4.PSE = 0: PS ignored, PDE points to a page table'
  ret

test_tlb:
  PRINT "  INVLPG, CR3 reload, global pages", 10
  mov eax, [LIN_T + 0x4000]
  CHECK eax, 0xAAAA0004, 'mapping before the change'
  mov dword [PTE(4)], (PHYS_T + 0x5000) | P | W | U
  invlpg [LIN_T + 0x4000]
  mov eax, [LIN_T + 0x4000]
  CHECK eax, 0xBBBB0005, 'INVLPG: the new mapping is used'
  mov dword [PTE(4)], (PHYS_T + 0x4000) | P | W | U
  mov eax, cr3
  mov cr3, eax
  mov eax, [LIN_T + 0x4000]
  CHECK eax, 0xAAAA0004, 'CR3 reload: the new mapping is used'
  ; Global page.
  mov eax, cr4
  or eax, 0x80                  ; PGE
  mov cr4, eax
  mov eax, [LIN_T + 0x5000]
  CHECK eax, 0xAAAA0006, 'global page before the change'
  mov dword [PTE(5)], (PHYS_T + 0x7000) | P | W | U | G
  mov eax, cr3
  mov cr3, eax
  ; A global translation may survive the CR3 load (it need not): report.
  mov eax, [LIN_T + 0x5000]
  cmp eax, 0xAAAA0006
  jne .flushed
  PRINT "  INFO: global TLB entry survived a CR3 reload", 10
  jmp .toggle
.flushed:
  PRINT "  INFO: global TLB entry did not survive a CR3 reload", 10
.toggle:
  ; Toggling CR4.PGE invalidates all entries, global ones too.
  mov eax, cr4
  and eax, ~0x80
  mov cr4, eax
  or eax, 0x80
  mov cr4, eax
  mov eax, [LIN_T + 0x5000]
  CHECK eax, 0xBBBB0007, 'CR4.PGE toggle flushes global entries'
  mov dword [PTE(5)], (PHYS_T + 0x6000) | P | W | U | G
  invlpg [LIN_T + 0x5000]
  mov eax, [LIN_T + 0x5000]
  CHECK eax, 0xAAAA0006, 'INVLPG flushes a global entry'
  ret

ring3_body:
  TRY
  mov eax, [LIN_T + 0x2000]
  ENDTRY
  EXPECT_FAULT 14, P | U, 'user read of a supervisor PTE'
  TRY
  mov eax, [LIN_SUPD]
  ENDTRY
  EXPECT_FAULT 14, P | U, 'user read under a supervisor PDE (user PTE)'
  TRY
  mov dword [LIN_T + 0x1000], 1
  ENDTRY
  EXPECT_FAULT 14, P | W | U, 'user write to a read-only page'
  TRY
  mov dword [LIN_ROD], 1
  ENDTRY
  EXPECT_FAULT 14, P | W | U, 'user write under a read-only PDE'
  TRY
  mov eax, [LIN_T + 0x3000]
  ENDTRY
  EXPECT_FAULT 14, U, 'user read of a not-present page'
  TRY
  mov eax, [LIN_T]
  mov dword [LIN_T + 4], eax
  ENDTRY
  EXPECT_NOFAULT 'user access to a user page'
  int 0x80

IMAGE_END
