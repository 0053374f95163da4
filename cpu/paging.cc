#include "cpu/paging.h"

#include "cpu/cpu_state.h"

namespace x86vm {
namespace {

constexpr uint64_t kP = 1u << 0;
constexpr uint64_t kRw = 1u << 1;
constexpr uint64_t kUs = 1u << 2;
constexpr uint64_t kA = 1u << 5;
constexpr uint64_t kD = 1u << 6;
constexpr uint64_t kPs = 1u << 7;
constexpr uint64_t kG = 1u << 8;
constexpr uint64_t kXd = 1ull << 63;
constexpr uint64_t kPhysMask = ((1ull << kPhysAddrBits) - 1) & ~0xfffull;

// Bits that must be zero in a PAE/4-level entry: above MAXPHYADDR (up to
// bit 51), and XD when EFER.NXE = 0 (SDM Vol. 3 4.4.2, 4.5.4).
uint64_t ReservedMask(const PagingControl& ctl) {
  uint64_t m = ((1ull << 52) - 1) & ~((1ull << kPhysAddrBits) - 1);
  if (!(ctl.efer & efer::kNxe)) m |= kXd;
  return m;
}

}  // namespace

bool LoadPaePdptes(uint64_t cr3, PageTableMemory& mem, uint64_t out[4]) {
  PagingControl ctl;
  uint64_t rsvd = ReservedMask(ctl) | 0x1e6 | kXd;
  for (unsigned n = 0; n < 4; ++n) {
    uint64_t e = mem.ReadPhys((cr3 & 0xffffffe0u) | (n << 3), 8);
    if ((e & kP) && (e & rsvd)) return false;
    out[n] = e;
  }
  return true;
}

uint32_t PageFaultCode(const PagingControl& ctl, const PageAccess& access) {
  uint32_t code = 0;
  if (access.write) code |= pf_error::kWrite;
  if (access.user) code |= pf_error::kUser;
  // I/D is reported only when instruction fetches can fault on their own
  // (NX with PAE/4-level paging, or SMEP; SDM Vol. 3 4.7).
  bool pae = (ctl.cr4 & cr4::kPae) != 0;
  if (access.fetch && (((ctl.efer & efer::kNxe) && pae) || (ctl.cr4 & cr4::kSmep))) {
    code |= pf_error::kFetch;
  }
  return code;
}

Fault CheckPageRights(const PagingControl& ctl, const Translation& t, const PageAccess& a) {
  bool denied = false;
  bool supervisor = !a.user;
  if (a.fetch) {
    if (t.nx) denied = true;
    // SMEP: supervisor fetches from user pages (SDM Vol. 3 4.6.1).
    if (supervisor && t.user && (ctl.cr4 & cr4::kSmep)) denied = true;
  } else {
    if (a.user && !t.user) denied = true;
    if (a.write) {
      if (a.user && !t.writable) denied = true;
      if (supervisor && !t.writable && (ctl.cr0 & cr0::kWp)) denied = true;
    }
    // SMAP: supervisor data accesses to user pages, unless EFLAGS.AC is set
    // for an explicit access.
    if (supervisor && t.user && (ctl.cr4 & cr4::kSmap) && (a.implicit || !a.ac)) denied = true;
  }
  if (!denied) return kOk;
  return Raise(kPf, PageFaultCode(ctl, a) | pf_error::kPresent);
}

Fault TranslateLinear(const PagingControl& ctl, PageTableMemory& mem, uint64_t linear,
                      const PageAccess& access, Translation& out) {
  out = Translation{};
  uint32_t code = PageFaultCode(ctl, access);
  auto not_present = [&] { return Raise(kPf, code); };
  auto reserved = [&] { return Raise(kPf, code | pf_error::kPresent | pf_error::kReserved); };
  bool pge = (ctl.cr4 & cr4::kPge) != 0;
  bool nxe = (ctl.efer & efer::kNxe) != 0;

  // Walks one level: reads the entry, checks P and reserved bits, folds
  // the rights, and sets A.
  struct Level {
    uint64_t addr;
    uint64_t entry;
    int bytes;
  };
  Level levels[4];
  int nlevels = 0;
  uint64_t pa = 0, page_bytes = 4096;
  bool leaf_global = false;

  auto fold = [&](uint64_t e) {
    if (!(e & kRw)) out.writable = false;
    if (!(e & kUs)) out.user = false;
    if (nxe && (e & kXd)) out.nx = true;
  };

  if (!(ctl.cr4 & cr4::kPae)) {
    // 32-bit paging (SDM Vol. 3 4.3).
    uint32_t lin = static_cast<uint32_t>(linear);
    uint64_t pde_addr = (ctl.cr3 & 0xfffff000u) | ((lin >> 22) << 2);
    uint64_t pde = mem.ReadPhys(pde_addr, 4);
    if (!(pde & kP)) return not_present();
    levels[nlevels++] = {pde_addr, pde, 4};
    fold(pde);
    if ((pde & kPs) && (ctl.cr4 & cr4::kPse)) {
      // 4 MiB page; PSE-36 puts PA bits 39:32 in PDE bits 20:13.
      if (pde & (1u << 21)) return reserved();
      uint64_t high = ((pde >> 13) & 0xff) << 32;
      if (high >> kPhysAddrBits) return reserved();
      pa = (pde & 0xffc00000u) | high | (lin & 0x3fffff);
      page_bytes = 4u << 20;
      leaf_global = pge && (pde & kG);
    } else {
      uint64_t pte_addr = (pde & 0xfffff000u) | (((lin >> 12) & 0x3ff) << 2);
      uint64_t pte = mem.ReadPhys(pte_addr, 4);
      if (!(pte & kP)) return not_present();
      levels[nlevels++] = {pte_addr, pte, 4};
      fold(pte);
      pa = (pte & 0xfffff000u) | (lin & 0xfff);
      leaf_global = pge && (pte & kG);
    }
  } else {
    uint64_t rsvd = ReservedMask(ctl);
    uint64_t table;
    int level;
    if (ctl.efer & efer::kLma) {
      table = ctl.cr3 & kPhysMask;
      level = 4;
    } else {
      // PAE: the PDPTE registers, loaded at MOV CR3 (SDM Vol. 3 4.4.1).
      unsigned n = (linear >> 30) & 3;
      uint64_t pdpte = ctl.pdpte ? ctl.pdpte[n]
                                 : mem.ReadPhys((ctl.cr3 & 0xffffffe0u) | (n << 3), 8);
      if (!(pdpte & kP)) return not_present();
      if (pdpte & (rsvd | 0x1e6 | kXd)) return reserved();
      table = pdpte & kPhysMask;
      level = 2;
    }
    for (;; --level) {
      int shift = 12 + 9 * (level - 1);
      uint64_t addr = table | (((linear >> shift) & 0x1ff) << 3);
      uint64_t e = mem.ReadPhys(addr, 8);
      if (!(e & kP)) return not_present();
      if (e & rsvd) return reserved();
      bool ps = (e & kPs) != 0;
      // PS is reserved in a PML4E; 1 GiB pages (PDPTE.PS) are supported.
      if (ps && level == 4) return reserved();
      levels[nlevels++] = {addr, e, 8};
      fold(e);
      if (level == 1 || ps) {
        page_bytes = 1ull << shift;
        if (ps && level > 1) {
          // Large page: PAT bit 12 and bits below the page size must be zero.
          uint64_t low = (page_bytes - 1) & ~0xfffull & ~(1ull << 12);
          if (e & low & kPhysMask) return reserved();
        }
        uint64_t frame = e & kPhysMask & ~(page_bytes - 1);
        pa = frame | (linear & (page_bytes - 1));
        leaf_global = pge && (e & kG);
        break;
      }
      table = e & kPhysMask;
    }
  }
  out.pa = pa;
  out.page_bytes = page_bytes;
  out.global = leaf_global;
  Level& leaf = levels[nlevels - 1];
  out.dirty = (leaf.entry & kD) != 0;

  // Accessed bits are set on every entry used, even when the access is then
  // refused (SDM Vol. 3 4.8).
  for (int i = 0; i < nlevels; ++i) {
    if (!(levels[i].entry & kA)) {
      levels[i].entry |= kA;
      mem.WritePhys(levels[i].addr, levels[i].entry, levels[i].bytes);
    }
  }
  X86_TRY(CheckPageRights(ctl, out, access));
  if (access.write && !out.dirty) {
    leaf.entry |= kD;
    mem.WritePhys(leaf.addr, leaf.entry, leaf.bytes);
    out.dirty = true;
  }
  return kOk;
}

}  // namespace x86vm
