// Segment-register loads and descriptor-table access (SDM Vol. 3 chapter 3
// and 5.5-5.10; Vol. 2 "MOV", "POP", "LDS/LES/LFS/LGS/LSS").
#include "cpu/cpu.h"

namespace x86vm {

Segment Cpu::DescriptorToSegment(uint16_t selector, uint64_t raw) {
  Segment sg;
  sg.selector = selector;
  sg.base = ((raw >> 16) & 0xffffff) | (((raw >> 56) & 0xff) << 24);
  uint32_t limit = static_cast<uint32_t>((raw & 0xffff) | (((raw >> 48) & 0xf) << 16));
  // Descriptor bits 47:40 and 55:52 are exactly the access-rights layout.
  sg.attr = static_cast<uint32_t>(((raw >> 40) & 0xff) | (((raw >> 52) & 0xf) << 12));
  if (sg.attr & seg_attr::kG) limit = (limit << 12) | 0xfff;
  sg.limit = limit;
  return sg;
}

Fault Cpu::ReadDescriptor(uint16_t selector, uint64_t& raw, Vector error_vector) {
  uint16_t error = selector & 0xfffc;
  uint64_t base;
  uint32_t limit;
  if (selector & 4) {
    const Segment& ldt = s.seg[kLdtr];
    if (ldt.unusable() || (ldt.selector & 0xfffc) == 0) return Raise(error_vector, error);
    base = ldt.base;
    limit = ldt.limit;
  } else {
    base = s.gdtr.base;
    limit = s.gdtr.limit;
  }
  uint32_t offset = selector & 0xfff8;
  if (offset + 7 > limit) return Raise(error_vector, error);
  uint64_t linear = base + offset;
  if (!(s.efer & efer::kLma)) linear &= 0xffffffffull;
  return ReadLinear(linear, &raw, 8, Access::kRead, true);
}

Fault Cpu::ReadDescriptor16(uint16_t selector, uint64_t& lo, uint64_t& hi,
                            Vector error_vector) {
  X86_TRY(ReadDescriptor(selector, lo, error_vector));
  uint16_t error = selector & 0xfffc;
  uint64_t base = (selector & 4) ? s.seg[kLdtr].base : s.gdtr.base;
  uint32_t limit = (selector & 4) ? s.seg[kLdtr].limit : s.gdtr.limit;
  uint32_t offset = (selector & 0xfff8) + 8;
  if (offset + 7 > limit) return Raise(error_vector, error);
  return ReadLinear(base + offset, &hi, 8, Access::kRead, true);
}

Fault Cpu::SetDescriptorAccessed(uint16_t selector, uint64_t raw) {
  if (raw & (1ull << 40)) return kOk;
  uint64_t base = (selector & 4) ? s.seg[kLdtr].base : s.gdtr.base;
  uint64_t linear = base + (selector & 0xfff8) + 5;
  if (!(s.efer & efer::kLma)) linear &= 0xffffffffull;
  uint8_t access_byte = static_cast<uint8_t>((raw >> 40) | 1);
  return WriteLinear(linear, &access_byte, 1, true);
}

void Cpu::LoadSegmentReal(int seg, uint16_t selector) {
  Segment& sg = s.seg[seg];
  sg.selector = selector;
  sg.base = uint64_t{selector} << 4;
  if (s.v86_mode()) {
    // Virtual-8086 mode: 64 KiB read/write data at DPL 3 (SDM Vol. 3 20.1.1).
    sg.limit = 0xffff;
    sg.attr = 0x3 | seg_attr::kS | seg_attr::kP | (3u << seg_attr::kDplShift);
    if (seg == kCs) sg.attr |= 0x8;  // Keep CS a code segment for the checks.
  } else {
    // Real mode keeps the cached limit and attributes (unreal mode), but the
    // segment becomes usable again.
    sg.attr &= ~seg_attr::kUnusable;
    sg.attr |= seg_attr::kP | seg_attr::kS;
  }
  if (seg == kCs) UpdateMode();
}

void Cpu::SetCs(const Segment& cs) {
  s.seg[kCs] = cs;
  UpdateMode();
}

void Cpu::UpdateMode() {
  const Segment& cs = s.seg[kCs];
  if ((s.efer & efer::kLma) && cs.l() && !s.v86_mode()) mode_ = CodeMode::k64;
  else if (!s.v86_mode() && cs.db()) mode_ = CodeMode::k32;
  else mode_ = CodeMode::k16;
  rip_mask_ = mode_ == CodeMode::k64 ? ~0ull : 0xffffffffull;
  InvalidateFetch();
}

Fault Cpu::LoadSegment(int seg, uint16_t selector) {
  if (!s.protected_mode() || s.v86_mode()) {
    LoadSegmentReal(seg, selector);
    return kOk;
  }
  int cpl = s.cpl();
  int rpl = selector & 3;
  uint16_t error = selector & 0xfffc;
  if ((selector & 0xfffc) == 0) {
    if (seg == kSs) {
      // A null SS is allowed only in 64-bit mode below CPL 3 with RPL = CPL
      // (SDM Vol. 2 "MOV").
      if (!is64() || cpl == 3 || rpl != cpl) return Raise(kGp, 0);
      s.seg[kSs] = Segment{selector, 0, 0,
                           seg_attr::kUnusable | (static_cast<uint32_t>(cpl) << seg_attr::kDplShift)};
      return kOk;
    }
    s.seg[seg] = Segment{selector, 0, 0, seg_attr::kUnusable};
    return kOk;
  }
  uint64_t raw;
  X86_TRY(ReadDescriptor(selector, raw, kGp));
  Segment sg = DescriptorToSegment(selector, raw);
  uint32_t type = sg.type();
  bool code = (type & seg_attr::kCode) != 0;
  if (!(sg.attr & seg_attr::kS)) return Raise(kGp, error);
  if (seg == kSs) {
    if (rpl != cpl || code || !(type & seg_attr::kWritable) || sg.dpl() != cpl) {
      return Raise(kGp, error);
    }
    if (!sg.present()) return Raise(kSsFault, error);
  } else {
    if (code && !(type & seg_attr::kWritable)) return Raise(kGp, error);  // Execute-only.
    bool conforming = code && (type & seg_attr::kExpandDown);
    if (!conforming && (rpl > sg.dpl() || cpl > sg.dpl())) return Raise(kGp, error);
    if (!sg.present()) return Raise(kNp, error);
  }
  X86_TRY(SetDescriptorAccessed(selector, raw));
  sg.attr |= seg_attr::kAccessed;
  s.seg[seg] = sg;
  return kOk;
}

}  // namespace x86vm
