// Hardware task switching through 16- and 32-bit TSSs (SDM Vol. 3 7.3):
// JMP/CALL to a TSS or task gate, task gates in the IDT, and IRET with NT.
// Not available in IA-32e mode (callers check).
#include "cpu/cpu.h"

namespace x86vm {
namespace {

// Field offsets of the two TSS formats (SDM Vol. 3 Figures 7-2 and 7-11).
struct TssLayout {
  bool is32;
  uint32_t ip, flags, gpr, seg, ldt, min_limit;
  unsigned width;  // Register width in bytes.
  uint32_t SegOffset(int sr) const {
    // 32-bit: ES CS SS DS FS GS at 0x48 + 4n; 16-bit: ES CS SS DS at 34 + 2n.
    return seg + (is32 ? 4u : 2u) * static_cast<uint32_t>(sr);
  }
};

constexpr TssLayout kTss32{true, 0x20, 0x24, 0x28, 0x48, 0x60, 0x67, 4};
constexpr TssLayout kTss16{false, 14, 16, 18, 34, 42, 0x2b, 2};

}  // namespace

Fault Cpu::TaskSwitch(uint16_t selector, TaskSwitchReason reason, bool has_error,
                      uint32_t error_code, uint64_t return_rip) {
  uint16_t err = selector & 0xfffc;
  if (s.efer & efer::kLma) return Raise(kGp, err);
  if (selector & 4) return Raise(reason == TaskSwitchReason::kIret ? kTs : kGp, err);
  uint64_t raw;
  X86_TRY(ReadDescriptor(selector, raw, reason == TaskSwitchReason::kIret ? kTs : kGp));
  Segment tss = DescriptorToSegment(selector, raw);
  unsigned type = tss.type();
  // A task gate names the TSS indirectly.
  if (!(tss.attr & seg_attr::kS) && type == 5) {
    if (reason != TaskSwitchReason::kGate) {
      int cpl = s.cpl();
      if (tss.dpl() < cpl || tss.dpl() < (selector & 3)) return Raise(kGp, err);
    }
    if (!tss.present()) return Raise(kNp, err);
    selector = static_cast<uint16_t>(raw >> 16);
    err = selector & 0xfffc;
    if (selector & 4) return Raise(kGp, err);
    X86_TRY(ReadDescriptor(selector, raw, kGp));
    tss = DescriptorToSegment(selector, raw);
    type = tss.type();
  } else if (reason == TaskSwitchReason::kJump || reason == TaskSwitchReason::kCall) {
    int cpl = s.cpl();
    if (tss.dpl() < cpl || tss.dpl() < (selector & 3)) return Raise(kGp, err);
  }
  bool busy = (type & 2) != 0;
  bool is_tss = !(tss.attr & seg_attr::kS) && (type == 1 || type == 3 || type == 9 || type == 0xb);
  if (!is_tss) return Raise(reason == TaskSwitchReason::kIret ? kTs : kGp, err);
  if (reason == TaskSwitchReason::kIret ? !busy : busy) {
    return Raise(reason == TaskSwitchReason::kIret ? kTs : kGp, err);
  }
  if (!tss.present()) return Raise(kNp, err);
  const TssLayout& nl = (type & 8) ? kTss32 : kTss16;
  if (tss.limit < nl.min_limit) return Raise(kTs, err);

  // Save the outgoing task into its TSS.
  Segment old_tr = s.seg[kTr];
  const TssLayout& ol = (old_tr.type() & 8) ? kTss32 : kTss16;
  uint64_t out_flags = s.rflags;
  if (reason == TaskSwitchReason::kIret) out_flags &= ~flags::kNt;
  auto wr = [&](uint64_t base, uint32_t off, uint64_t v, unsigned n) {
    return WriteLinear((base + off) & 0xffffffffull, &v, n, true);
  };
  auto rd = [&](uint64_t base, uint32_t off, unsigned n, uint64_t& v) {
    v = 0;
    return ReadLinear((base + off) & 0xffffffffull, &v, n, Access::kRead, true);
  };
  X86_TRY(wr(old_tr.base, ol.ip, return_rip, ol.width));
  X86_TRY(wr(old_tr.base, ol.flags, out_flags, ol.width));
  for (int r = 0; r < 8; ++r) X86_TRY(wr(old_tr.base, ol.gpr + ol.width * r, s.gpr[r], ol.width));
  for (int sr = kEs; sr <= (ol.is32 ? kGs : kDs); ++sr) {
    X86_TRY(wr(old_tr.base, ol.SegOffset(sr), s.seg[sr].selector, 2));
  }

  // Read the incoming task's state before changing anything else.
  uint64_t n_ip, n_flags, n_gpr[8], n_seg[6] = {}, n_ldt, n_cr3 = 0;
  X86_TRY(rd(tss.base, nl.ip, nl.width, n_ip));
  X86_TRY(rd(tss.base, nl.flags, nl.width, n_flags));
  for (int r = 0; r < 8; ++r) X86_TRY(rd(tss.base, nl.gpr + nl.width * r, nl.width, n_gpr[r]));
  for (int sr = kEs; sr <= (nl.is32 ? kGs : kDs); ++sr) {
    X86_TRY(rd(tss.base, nl.SegOffset(sr), 2, n_seg[sr]));
  }
  X86_TRY(rd(tss.base, nl.ldt, 2, n_ldt));
  if (nl.is32) X86_TRY(rd(tss.base, 0x1c, 4, n_cr3));

  // Busy bits and the back link (SDM Vol. 3 Table 7-2).
  auto set_busy = [&](uint16_t sel, bool on) -> Fault {
    uint64_t linear = (s.gdtr.base + (sel & 0xfff8) + 5) & 0xffffffffull;
    uint8_t access;
    X86_TRY(ReadLinear(linear, &access, 1, Access::kRead, true));
    access = static_cast<uint8_t>(on ? (access | 2) : (access & ~2));
    return WriteLinear(linear, &access, 1, true);
  };
  if (reason == TaskSwitchReason::kJump || reason == TaskSwitchReason::kIret) {
    X86_TRY(set_busy(old_tr.selector, false));
  }
  if (reason != TaskSwitchReason::kIret) X86_TRY(set_busy(selector, true));
  if (reason == TaskSwitchReason::kCall || reason == TaskSwitchReason::kGate) {
    X86_TRY(wr(tss.base, 0, old_tr.selector, 2));
    n_flags |= flags::kNt;
  }
  if (!nl.is32) n_flags = (s.rflags & ~0xffffull) | (n_flags & 0xffff);

  // Switch.
  tss.attr |= 2;  // Busy.
  s.seg[kTr] = tss;
  s.cr0 |= cr0::kTs;
  if (nl.is32 && (s.cr0 & cr0::kPg)) {
    X86_TRY(ReloadPdptes(s.cr0, n_cr3, s.cr4));
    s.cr3 = n_cr3;
    FlushTlb(false);
  }
  SetRflags(n_flags);
  for (int r = 0; r < 8; ++r) {
    s.gpr[r] = nl.is32 ? (n_gpr[r] & 0xffffffffull) : ((s.gpr[r] & ~0xffffull) | (n_gpr[r] & 0xffff));
  }
  // Selectors go in first, so a fault below reports the new task's state
  // (SDM Vol. 3 7.3 step 12: faults after the commit point belong to the new task).
  for (int sr = kEs; sr <= kGs; ++sr) s.seg[sr].selector = static_cast<uint16_t>(n_seg[sr]);
  s.seg[kLdtr].selector = static_cast<uint16_t>(n_ldt);
  s.rip = next_rip = nl.is32 ? (n_ip & 0xffffffffull) : (n_ip & 0xffff);

  // LDT.
  uint16_t ldt = static_cast<uint16_t>(n_ldt);
  if ((ldt & 0xfffc) == 0) {
    s.seg[kLdtr] = Segment{ldt, 0, 0, seg_attr::kUnusable};
  } else {
    if (ldt & 4) return Raise(kTs, ldt & 0xfffc);
    uint64_t lraw;
    X86_TRY(ReadDescriptor(ldt, lraw, kTs));
    Segment lseg = DescriptorToSegment(ldt, lraw);
    if ((lseg.attr & seg_attr::kS) || lseg.type() != 2) return Raise(kTs, ldt & 0xfffc);
    if (!lseg.present()) return Raise(kTs, ldt & 0xfffc);
    s.seg[kLdtr] = lseg;
  }
  if (s.v86_mode()) {
    for (int sr = kEs; sr <= kGs; ++sr) LoadSegmentReal(sr, static_cast<uint16_t>(n_seg[sr]));
  } else {
    // CS first: its RPL is the new CPL.
    uint16_t cs_sel = static_cast<uint16_t>(n_seg[kCs]);
    int new_cpl = cs_sel & 3;
    if ((cs_sel & 0xfffc) == 0) return Raise(kTs, 0);
    uint64_t craw;
    X86_TRY(ReadDescriptor(cs_sel, craw, kTs));
    Segment cs = DescriptorToSegment(cs_sel, craw);
    if (!(cs.attr & seg_attr::kS) || !(cs.type() & seg_attr::kCode)) return Raise(kTs, cs_sel & 0xfffc);
    bool conforming = (cs.type() & seg_attr::kExpandDown) != 0;
    if (conforming ? cs.dpl() > new_cpl : cs.dpl() != new_cpl) return Raise(kTs, cs_sel & 0xfffc);
    if (!cs.present()) return Raise(kNp, cs_sel & 0xfffc);
    uint16_t ss_sel = static_cast<uint16_t>(n_seg[kSs]);
    if ((ss_sel & 0xfffc) == 0 || (ss_sel & 3) != new_cpl) return Raise(kTs, ss_sel & 0xfffc);
    uint64_t sraw;
    X86_TRY(ReadDescriptor(ss_sel, sraw, kTs));
    Segment ss = DescriptorToSegment(ss_sel, sraw);
    if (!(ss.attr & seg_attr::kS) || (ss.type() & seg_attr::kCode) ||
        !(ss.type() & seg_attr::kWritable) || ss.dpl() != new_cpl) {
      return Raise(kTs, ss_sel & 0xfffc);
    }
    if (!ss.present()) return Raise(kSsFault, ss_sel & 0xfffc);
    s.seg[kSs] = ss;
    SetCs(cs);
    for (int sr : {kEs, kDs, kFs, kGs}) {
      uint16_t sel = static_cast<uint16_t>(n_seg[sr]);
      if ((sel & 0xfffc) == 0) {
        s.seg[sr] = Segment{sel, 0, 0, seg_attr::kUnusable};
        continue;
      }
      uint64_t draw;
      X86_TRY(ReadDescriptor(sel, draw, kTs));
      Segment d = DescriptorToSegment(sel, draw);
      bool code = (d.type() & seg_attr::kCode) != 0;
      if (!(d.attr & seg_attr::kS) || (code && !(d.type() & seg_attr::kWritable))) {
        return Raise(kTs, sel & 0xfffc);
      }
      bool conf = code && (d.type() & seg_attr::kExpandDown);
      if (!conf && (d.dpl() < new_cpl || d.dpl() < (sel & 3))) return Raise(kTs, sel & 0xfffc);
      if (!d.present()) return Raise(kNp, sel & 0xfffc);
      s.seg[sr] = d;
    }
  }
  UpdateMode();
  if (next_rip > s.seg[kCs].limit) return Raise(kGp, 0);
  if (has_error) {
    X86_TRY(Push(nl.is32 ? 4 : 2, error_code));
  }
  return kOk;
}

}  // namespace x86vm
