// Linear-to-physical translation (SDM Vol. 3 chapter 4): 32-bit paging with
// 4 MiB pages (PSE, PSE-36), PAE paging, and 4-level paging with NX, 2 MiB and
// 1 GiB pages, global pages, accessed/dirty bits, CR0.WP, SMEP, SMAP and
// protection keys left out. A pure function over an interface to physical
// memory, so it is unit-testable without a CPU.
#ifndef X86VM_CPU_PAGING_H_
#define X86VM_CPU_PAGING_H_

#include <cstdint>

#include "cpu/fault.h"

namespace x86vm {

// Physical-address width of the modelled CPU (CPUID.80000008:EAX[7:0]).
inline constexpr int kPhysAddrBits = 39;
// Linear-address width in 4-level paging.
inline constexpr int kLinearAddrBits = 48;

// Page-table memory as the walker sees it: guest-physical 4- or 8-byte reads
// and writes (accessed/dirty updates).
class PageTableMemory {
 public:
  virtual ~PageTableMemory() = default;
  virtual uint64_t ReadPhys(uint64_t pa, int bytes) = 0;
  virtual void WritePhys(uint64_t pa, uint64_t value, int bytes) = 0;
};

// The control state that selects and tunes paging.
struct PagingControl {
  uint64_t cr0 = 0;
  uint64_t cr3 = 0;
  uint64_t cr4 = 0;
  uint64_t efer = 0;
  // PAE paging: the four PDPTE registers loaded at MOV CR3 (SDM Vol. 3
  // 4.4.1). Null reads them from memory at walk time instead.
  const uint64_t* pdpte = nullptr;
};

// Loads the four PAE PDPTEs from the table CR3 points at; false (#GP(0) for
// the caller) when a present entry has reserved bits set (SDM Vol. 3 4.4.1).
bool LoadPaePdptes(uint64_t cr3, PageTableMemory& mem, uint64_t out[4]);

// What kind of access is translated.
struct PageAccess {
  bool write = false;
  bool fetch = false;
  // A user-mode access: CPL 3 and not an implicit supervisor access
  // (descriptor tables, TSS, IDT; SDM Vol. 3 4.6).
  bool user = false;
  // An implicit supervisor access (SMAP applies regardless of EFLAGS.AC).
  bool implicit = false;
  // EFLAGS.AC, which lifts SMAP for explicit supervisor data accesses.
  bool ac = false;
};

// The result of a walk: the physical address and the combined rights.
struct Translation {
  uint64_t pa = 0;          // Physical address of the accessed byte.
  uint64_t page_bytes = 4096;
  bool user = true;         // U/S = 1 at every level.
  bool writable = true;     // R/W = 1 at every level.
  bool nx = false;          // XD = 1 at some level (only when EFER.NXE).
  bool dirty = false;       // The leaf's D bit (after this access).
  bool global = false;      // The leaf's G bit with CR4.PGE.
};

// Translates `linear`. Sets accessed bits on the entries it uses and the
// dirty bit on a permitted write; returns #PF with the SDM 4.7 error code on
// failure (the caller loads CR2).
Fault TranslateLinear(const PagingControl& ctl, PageTableMemory& mem, uint64_t linear,
                      const PageAccess& access, Translation& out);

// Checks `access` against the rights in `t` (CR0.WP, SMEP, SMAP, NX); used
// by the walk and by TLB hits that were not pre-approved. Returns the #PF.
Fault CheckPageRights(const PagingControl& ctl, const Translation& t, const PageAccess& access);

// The #PF error code for `access` (P bit and RSVD added by the caller).
uint32_t PageFaultCode(const PagingControl& ctl, const PageAccess& access);

}  // namespace x86vm

#endif  // X86VM_CPU_PAGING_H_
