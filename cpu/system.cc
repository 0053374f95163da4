// Control registers, EFER, MSRs, the TSC and port I/O (SDM Vol. 3 2.5,
// 2.2.1, 4.10.4, 16.5 (I/O permission bitmap); Vol. 4 MSR list).
#include "cpu/cpu.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm {
namespace {

constexpr uint64_t kCr4Supported = cr4::kTsd | cr4::kDe | cr4::kPse | cr4::kPae | cr4::kMce |
                                   cr4::kPge | cr4::kPce | cr4::kOsfxsr | cr4::kOsxmmexcpt |
                                   cr4::kUmip | cr4::kFsgsbase | cr4::kPcide | cr4::kOsxsave |
                                   cr4::kSmep | cr4::kSmap;
constexpr uint64_t kEferSupported = efer::kSce | efer::kLme | efer::kLma | efer::kNxe;

// MSR numbers (SDM Vol. 4 Table 2-2).
namespace msr {
constexpr uint32_t kTsc = 0x10;
constexpr uint32_t kPlatformId = 0x17;
constexpr uint32_t kApicBase = 0x1b;
constexpr uint32_t kFeatureControl = 0x3a;
constexpr uint32_t kTscAdjust = 0x3b;
constexpr uint32_t kSpecCtrl = 0x48;
constexpr uint32_t kBiosSignId = 0x8b;
constexpr uint32_t kMtrrCap = 0xfe;
constexpr uint32_t kSysenterCs = 0x174;
constexpr uint32_t kSysenterEsp = 0x175;
constexpr uint32_t kSysenterEip = 0x176;
constexpr uint32_t kMcgCap = 0x179;
constexpr uint32_t kMcgStatus = 0x17a;
constexpr uint32_t kMiscEnable = 0x1a0;
constexpr uint32_t kMtrrPhysBase0 = 0x200;
constexpr uint32_t kMtrrFix64k = 0x250;
constexpr uint32_t kMtrrFix16k0 = 0x258;
constexpr uint32_t kMtrrFix16k1 = 0x259;
constexpr uint32_t kMtrrFix4k0 = 0x268;
constexpr uint32_t kPat = 0x277;
constexpr uint32_t kMtrrDefType = 0x2ff;
constexpr uint32_t kEfer = 0xc0000080;
constexpr uint32_t kStar = 0xc0000081;
constexpr uint32_t kLstar = 0xc0000082;
constexpr uint32_t kCstar = 0xc0000083;
constexpr uint32_t kSfmask = 0xc0000084;
constexpr uint32_t kFsBase = 0xc0000100;
constexpr uint32_t kGsBase = 0xc0000101;
constexpr uint32_t kKernelGsBase = 0xc0000102;
constexpr uint32_t kTscAux = 0xc0000103;
}  // namespace msr

// The fixed-range MTRR slot for an MSR number, or -1.
int FixedMtrrIndex(uint32_t index) {
  if (index == msr::kMtrrFix64k) return 0;
  if (index == msr::kMtrrFix16k0) return 1;
  if (index == msr::kMtrrFix16k1) return 2;
  if (index >= msr::kMtrrFix4k0 && index <= msr::kMtrrFix4k0 + 7) {
    return 3 + static_cast<int>(index - msr::kMtrrFix4k0);
  }
  return -1;
}

}  // namespace

Fault Cpu::ReloadPdptes(uint64_t cr0, uint64_t cr3, uint64_t cr4) {
  bool pae_paging = (cr0 & cr0::kPg) && (cr4 & cr4::kPae) && !(s.efer & efer::kLma) &&
                    !((s.efer & efer::kLme) && !(s.cr0 & cr0::kPg) && (cr0 & cr0::kPg));
  if (!pae_paging) return kOk;
  uint64_t pdpte[4];
  if (!LoadPaePdptes(cr3, *this, pdpte)) return Raise(kGp, 0);
  for (int n = 0; n < 4; ++n) s.pdpte[n] = pdpte[n];
  return kOk;
}

Fault Cpu::SetCr0(uint64_t value) {
  if (value >> 32) return Raise(kGp, 0);
  if ((value & cr0::kPg) && !(value & cr0::kPe)) return Raise(kGp, 0);
  if ((value & cr0::kNw) && !(value & cr0::kCd)) return Raise(kGp, 0);
  value |= cr0::kEt;
  uint64_t old = s.cr0;
  bool pg_on = !(old & cr0::kPg) && (value & cr0::kPg);
  bool pg_off = (old & cr0::kPg) && !(value & cr0::kPg);
  if (pg_on && (s.efer & efer::kLme)) {
    // Activating IA-32e mode (SDM Vol. 3 10.8.5): needs PAE and a CS that
    // is not a 64-bit segment yet.
    if (!(s.cr4 & cr4::kPae) || s.seg[kCs].l()) return Raise(kGp, 0);
    s.efer |= efer::kLma;
  }
  if (pg_off) {
    if (is64()) return Raise(kGp, 0);
    if (s.cr4 & cr4::kPcide) return Raise(kGp, 0);
    s.efer &= ~efer::kLma;
  }
  if ((s.efer & efer::kLma) && !(value & cr0::kPe)) return Raise(kGp, 0);
  // PDPTEs load when PG, CD or NW change with PAE paging on (SDM Vol. 3 4.4.1).
  if ((old ^ value) & (cr0::kPg | cr0::kCd | cr0::kNw)) {
    Fault f = ReloadPdptes(value, s.cr3, s.cr4);
    if (f.faulted()) {
      if (pg_on) s.efer &= ~efer::kLma;
      return f;
    }
  }
  s.cr0 = value;
  constexpr uint64_t kTlbBits = cr0::kPg | cr0::kWp | cr0::kPe | cr0::kCd;
  if ((old ^ value) & kTlbBits) FlushTlb(true);
  UpdateMode();
  return kOk;
}

Fault Cpu::SetCr3(uint64_t value) {
  bool no_flush = false;
  if (s.cr4 & cr4::kPcide) {
    no_flush = (value >> 63) != 0;
    value &= ~(1ull << 63);
  }
  if ((s.efer & efer::kLma) && (value >> kPhysAddrBits)) return Raise(kGp, 0);
  if (!(s.efer & efer::kLma)) value &= 0xffffffffull;
  X86_TRY(ReloadPdptes(s.cr0, value, s.cr4));
  s.cr3 = value;
  // MOV CR3 flushes non-global translations (SDM Vol. 3 4.10.4.1); with
  // PCIDs, bit 63 asks to keep them. Our TLB is not PCID-tagged, so keeping
  // them would be wrong for another PCID: flush anyway unless it is the
  // same address space.
  (void)no_flush;
  FlushTlb(false);
  return kOk;
}

Fault Cpu::SetCr4(uint64_t value) {
  if (value & ~kCr4Supported) return Raise(kGp, 0);
  uint64_t old = s.cr4;
  if ((s.efer & efer::kLma) && !(value & cr4::kPae)) return Raise(kGp, 0);
  if ((value & cr4::kPcide) && !(old & cr4::kPcide)) {
    if (!(s.efer & efer::kLma) || (s.cr3 & 0xfff)) return Raise(kGp, 0);
  }
  if ((old ^ value) & (cr4::kPae | cr4::kPge | cr4::kPse | cr4::kSmep | cr4::kSmap)) {
    X86_TRY(ReloadPdptes(s.cr0, s.cr3, value));
  }
  s.cr4 = value;
  if ((old ^ value) & cr4::kDe) UpdateDebugState();
  constexpr uint64_t kTlbBits = cr4::kPse | cr4::kPae | cr4::kPge | cr4::kPcide | cr4::kSmep |
                                cr4::kSmap;
  if ((old ^ value) & kTlbBits) FlushTlb(true);
  return kOk;
}

Fault Cpu::SetEfer(uint64_t value) {
  if (value & ~kEferSupported) return Raise(kGp, 0);
  // LME cannot change while paging is on; LMA is read-only.
  if ((s.cr0 & cr0::kPg) && ((value ^ s.efer) & efer::kLme)) return Raise(kGp, 0);
  value = (value & ~efer::kLma) | (s.efer & efer::kLma);
  if ((value ^ s.efer) & efer::kNxe) FlushTlb(true);
  s.efer = value;
  return kOk;
}

uint64_t Cpu::ReadTsc() const {
  uint64_t ns = env_.clock->now_ns();
  if (env_.clock->mode() == VirtualClock::Mode::kDeterministic) {
    // Instructions of the current slice are not credited to the clock yet.
    ns += (retired_ - credited_instructions) * env_.clock->ns_per_instruction();
  }
  return ns + s.msr.tsc_offset;
}

Fault Cpu::ReadMsr(uint32_t index, uint64_t& value) {
  if (env_.platform != nullptr) {
    MsrAccess a = env_.platform->ReadMsr(index, value);
    if (a == MsrAccess::kOk) return kOk;
    if (a == MsrAccess::kGp) return Raise(kGp, 0);
  }
  MsrState& m = s.msr;
  int fixed = FixedMtrrIndex(index);
  if (fixed >= 0) {
    value = m.mtrr_fixed[fixed];
    return kOk;
  }
  if (index >= msr::kMtrrPhysBase0 && index < msr::kMtrrPhysBase0 + 16) {
    value = m.mtrr_var[index - msr::kMtrrPhysBase0];
    return kOk;
  }
  switch (index) {
    case msr::kTsc: value = ReadTsc(); return kOk;
    case msr::kPlatformId: value = 0; return kOk;
    case msr::kApicBase: value = 0xfee00900; return kOk;  // No platform APIC: BSP, enabled.
    case msr::kFeatureControl: value = m.feature_control; return kOk;
    case msr::kTscAdjust: value = m.tsc_adjust; return kOk;
    case msr::kBiosSignId: value = m.ucode_rev; return kOk;
    case msr::kMtrrCap: value = m.mtrr_cap; return kOk;
    case msr::kSysenterCs: value = m.sysenter_cs; return kOk;
    case msr::kSysenterEsp: value = m.sysenter_esp; return kOk;
    case msr::kSysenterEip: value = m.sysenter_eip; return kOk;
    case msr::kMcgCap: value = 0; return kOk;
    case msr::kMcgStatus: value = m.mcg_status; return kOk;
    case msr::kMiscEnable: value = m.misc_enable; return kOk;
    case msr::kPat: value = m.pat; return kOk;
    case msr::kMtrrDefType: value = m.mtrr_def_type; return kOk;
    case msr::kEfer: value = s.efer; return kOk;
    case msr::kStar: value = m.star; return kOk;
    case msr::kLstar: value = m.lstar; return kOk;
    case msr::kCstar: value = m.cstar; return kOk;
    case msr::kSfmask: value = m.sfmask; return kOk;
    case msr::kFsBase: value = s.seg[kFs].base; return kOk;
    case msr::kGsBase: value = s.seg[kGs].base; return kOk;
    case msr::kKernelGsBase: value = m.kernel_gs_base; return kOk;
    case msr::kTscAux: value = m.tsc_aux; return kOk;
    default: return Raise(kGp, 0);
  }
}

Fault Cpu::WriteMsr(uint32_t index, uint64_t value) {
  if (env_.platform != nullptr) {
    MsrAccess a = env_.platform->WriteMsr(index, value);
    if (a == MsrAccess::kOk) return kOk;
    if (a == MsrAccess::kGp) return Raise(kGp, 0);
  }
  MsrState& m = s.msr;
  auto canonical = [&](uint64_t v) { return IsCanonical(v) ? kOk : Raise(kGp, 0); };
  int fixed = FixedMtrrIndex(index);
  if (fixed >= 0) {
    m.mtrr_fixed[fixed] = value;
    return kOk;
  }
  if (index >= msr::kMtrrPhysBase0 && index < msr::kMtrrPhysBase0 + 16) {
    m.mtrr_var[index - msr::kMtrrPhysBase0] = value;
    return kOk;
  }
  switch (index) {
    case msr::kTsc: m.tsc_offset = value - (ReadTsc() - m.tsc_offset); return kOk;
    case msr::kApicBase: return kOk;
    case msr::kFeatureControl:
      if (m.feature_control & 1) return Raise(kGp, 0);  // Locked.
      m.feature_control = value;
      return kOk;
    case msr::kTscAdjust: m.tsc_adjust = value; return kOk;
    case msr::kBiosSignId: return kOk;
    case msr::kSysenterCs: m.sysenter_cs = value & 0xffff; return kOk;
    case msr::kSysenterEsp: X86_TRY(canonical(value)); m.sysenter_esp = value; return kOk;
    case msr::kSysenterEip: X86_TRY(canonical(value)); m.sysenter_eip = value; return kOk;
    case msr::kMcgStatus: m.mcg_status = value; return kOk;
    case msr::kMiscEnable: m.misc_enable = value; return kOk;
    case msr::kPat: m.pat = value; return kOk;
    case msr::kMtrrDefType: m.mtrr_def_type = value; return kOk;
    case msr::kEfer: return SetEfer(value);
    case msr::kStar: m.star = value; return kOk;
    case msr::kLstar: X86_TRY(canonical(value)); m.lstar = value; return kOk;
    case msr::kCstar: X86_TRY(canonical(value)); m.cstar = value; return kOk;
    case msr::kSfmask: m.sfmask = value & 0xffffffffull; return kOk;
    case msr::kFsBase: X86_TRY(canonical(value)); s.seg[kFs].base = value; return kOk;
    case msr::kGsBase: X86_TRY(canonical(value)); s.seg[kGs].base = value; return kOk;
    case msr::kKernelGsBase: X86_TRY(canonical(value)); m.kernel_gs_base = value; return kOk;
    case msr::kTscAux: m.tsc_aux = value & 0xffffffffull; return kOk;
    default: return Raise(kGp, 0);
  }
}

Fault Cpu::CheckIoPermission(uint16_t port, unsigned size) {
  if (!s.protected_mode()) return kOk;
  int iopl = static_cast<int>((s.rflags & flags::kIopl) >> flags::kIoplShift);
  if (!s.v86_mode() && s.cpl() <= iopl) return kOk;
  // The I/O permission bitmap of a 32-bit TSS (SDM Vol. 3 16.5.2).
  const Segment& tr = s.seg[kTr];
  uint32_t type = tr.type();
  if (tr.unusable() || (type != 9 && type != 0xb) || tr.limit < 103) return Raise(kGp, 0);
  uint16_t base;
  X86_TRY(ReadLinear(tr.base + 102, &base, 2, Access::kRead, true));
  uint32_t byte = base + port / 8u;
  if (byte + 1 > tr.limit) return Raise(kGp, 0);
  uint16_t bits;
  X86_TRY(ReadLinear(tr.base + byte, &bits, 2, Access::kRead, true));
  uint32_t mask = ((1u << size) - 1) << (port & 7);
  if (bits & mask) return Raise(kGp, 0);
  return kOk;
}

uint64_t Cpu::PortRead(uint16_t port, unsigned size) {
  if (io_bp_active_) [[unlikely]] NoteIoAccess(port, size);
  uint64_t v = env_.pio->ReadValue(port, size);
  exits_.poll_events = true;
  return v;
}

void Cpu::PortWrite(uint16_t port, unsigned size, uint64_t value) {
  if (io_bp_active_) [[unlikely]] NoteIoAccess(port, size);
  env_.pio->WriteValue(port, size, value);
  exits_.poll_events = true;
  if (env_.memory->a20_mask() != a20_mask_) {
    // Port 0x92 / the keyboard controller moved the A20 gate.
    a20_mask_ = env_.memory->a20_mask();
    FlushTlb(true);
  }
  if (env_.platform != nullptr && env_.platform->TakeResetRequest()) {
    reset_requested_ = true;
    exits_.stop = true;
  }
}

}  // namespace x86vm
