// Far JMP/CALL/RET and IRET in every mode (SDM Vol. 2 "JMP", "CALL", "RET",
// "IRET"; Vol. 3 5.8 privilege-level changes and call gates).
#include "cpu/cpu.h"

namespace x86vm {
namespace {

bool IsCodeSegment(const Segment& sg) {
  return (sg.attr & seg_attr::kS) && (sg.type() & seg_attr::kCode);
}
bool IsConforming(const Segment& sg) { return (sg.type() & seg_attr::kExpandDown) != 0; }

}  // namespace

// Checks a code-segment target of a direct far JMP/CALL (SDM Vol. 2 "JMP":
// conforming DPL <= CPL, non-conforming RPL <= CPL and DPL == CPL).
static Fault CheckDirectCodeTarget(const Segment& cs, uint16_t selector, int cpl, bool lma) {
  uint16_t err = selector & 0xfffc;
  if (IsConforming(cs)) {
    if (cs.dpl() > cpl) return Raise(kGp, err);
  } else if ((selector & 3) > cpl || cs.dpl() != cpl) {
    return Raise(kGp, err);
  }
  if (!cs.present()) return Raise(kNp, err);
  if (lma && cs.l() && cs.db()) return Raise(kGp, err);
  return kOk;
}

// The target offset must fit the new CS: canonical for 64-bit code, within
// the limit otherwise.
static Fault CheckTargetOffset(const Segment& cs, uint64_t offset, bool lma) {
  if (lma && cs.l()) return Cpu::IsCanonical(offset) ? kOk : Raise(kGp, 0);
  return offset <= cs.limit ? kOk : Raise(kGp, 0);
}

Fault Cpu::FarJump(uint16_t selector, uint64_t offset, unsigned opsize) {
  if (opsize == 2) offset &= 0xffff;
  else if (opsize == 4) offset &= 0xffffffffull;
  if (!s.protected_mode() || s.v86_mode()) {
    if (offset > s.seg[kCs].limit) return Raise(kGp, 0);
    LoadSegmentReal(kCs, selector);
    next_rip = offset;
    return kOk;
  }
  bool lma = (s.efer & efer::kLma) != 0;
  int cpl = s.cpl();
  if ((selector & 0xfffc) == 0) return Raise(kGp, 0);
  uint64_t raw;
  X86_TRY(ReadDescriptor(selector, raw, kGp));
  Segment sg = DescriptorToSegment(selector, raw);
  uint16_t err = selector & 0xfffc;
  if (sg.attr & seg_attr::kS) {
    if (!IsCodeSegment(sg)) return Raise(kGp, err);
    X86_TRY(CheckDirectCodeTarget(sg, selector, cpl, lma));
    X86_TRY(CheckTargetOffset(sg, offset, lma));
    X86_TRY(SetDescriptorAccessed(selector, raw));
    sg.attr |= seg_attr::kAccessed;
    sg.selector = static_cast<uint16_t>((selector & 0xfffc) | cpl);
    SetCs(sg);
    next_rip = offset;
    return kOk;
  }
  unsigned type = sg.type();
  if (!lma && (type == 1 || type == 9 || type == 5)) {
    return TaskSwitch(selector, TaskSwitchReason::kJump, false, 0, next_rip);
  }
  // Call gate: 16-bit (type 4) or 32-bit (type C); in IA-32e mode only the
  // 16-byte 64-bit gate (type C).
  if (!(type == 0xc || (type == 4 && !lma))) return Raise(kGp, err);
  if (sg.dpl() < cpl || sg.dpl() < (selector & 3)) return Raise(kGp, err);
  if (!sg.present()) return Raise(kNp, err);
  uint64_t gate_hi = 0;
  if (lma) {
    uint64_t lo;
    X86_TRY(ReadDescriptor16(selector, lo, gate_hi, kGp));
    if (((gate_hi >> 40) & 0x1f) != 0) return Raise(kGp, err);
  }
  uint16_t target = static_cast<uint16_t>(raw >> 16);
  uint64_t target_off = (raw & 0xffff) | (type == 0xc ? ((raw >> 48) & 0xffff) << 16 : 0);
  if (lma) target_off |= (gate_hi & 0xffffffffull) << 32;
  if ((target & 0xfffc) == 0) return Raise(kGp, 0);
  uint64_t craw;
  X86_TRY(ReadDescriptor(target, craw, kGp));
  Segment cs = DescriptorToSegment(target, craw);
  uint16_t terr = target & 0xfffc;
  if (!IsCodeSegment(cs)) return Raise(kGp, terr);
  if (IsConforming(cs) ? cs.dpl() > cpl : cs.dpl() != cpl) return Raise(kGp, terr);
  if (!cs.present()) return Raise(kNp, terr);
  if (lma && (!cs.l() || cs.db())) return Raise(kGp, terr);
  X86_TRY(CheckTargetOffset(cs, target_off, lma));
  X86_TRY(SetDescriptorAccessed(target, craw));
  cs.attr |= seg_attr::kAccessed;
  cs.selector = static_cast<uint16_t>((target & 0xfffc) | cpl);
  SetCs(cs);
  next_rip = target_off;
  return kOk;
}

Fault Cpu::FarCall(uint16_t selector, uint64_t offset, unsigned opsize) {
  if (opsize == 2) offset &= 0xffff;
  else if (opsize == 4) offset &= 0xffffffffull;
  uint64_t ret = next_rip;
  if (!s.protected_mode() || s.v86_mode()) {
    if (offset > s.seg[kCs].limit) return Raise(kGp, 0);
    uint64_t saved_rsp = s.gpr[kRsp];
    Fault f = Push(opsize, s.seg[kCs].selector);
    if (f.ok()) f = Push(opsize, ret);
    if (f.faulted()) {
      s.gpr[kRsp] = saved_rsp;
      return f;
    }
    LoadSegmentReal(kCs, selector);
    next_rip = offset;
    return kOk;
  }
  bool lma = (s.efer & efer::kLma) != 0;
  int cpl = s.cpl();
  if ((selector & 0xfffc) == 0) return Raise(kGp, 0);
  uint64_t raw;
  X86_TRY(ReadDescriptor(selector, raw, kGp));
  Segment sg = DescriptorToSegment(selector, raw);
  uint16_t err = selector & 0xfffc;
  if (sg.attr & seg_attr::kS) {
    if (!IsCodeSegment(sg)) return Raise(kGp, err);
    X86_TRY(CheckDirectCodeTarget(sg, selector, cpl, lma));
    X86_TRY(CheckTargetOffset(sg, offset, lma));
    uint64_t saved_rsp = s.gpr[kRsp];
    Fault f = Push(opsize, s.seg[kCs].selector);
    if (f.ok()) f = Push(opsize, ret);
    if (f.ok()) f = SetDescriptorAccessed(selector, raw);
    if (f.faulted()) {
      s.gpr[kRsp] = saved_rsp;
      return f;
    }
    sg.attr |= seg_attr::kAccessed;
    sg.selector = static_cast<uint16_t>((selector & 0xfffc) | cpl);
    SetCs(sg);
    next_rip = offset;
    return kOk;
  }
  unsigned type = sg.type();
  if (!lma && (type == 1 || type == 9 || type == 5)) {
    return TaskSwitch(selector, TaskSwitchReason::kCall, false, 0, ret);
  }
  if (!(type == 0xc || (type == 4 && !lma))) return Raise(kGp, err);
  if (sg.dpl() < cpl || sg.dpl() < (selector & 3)) return Raise(kGp, err);
  if (!sg.present()) return Raise(kNp, err);
  uint64_t gate_hi = 0;
  if (lma) {
    uint64_t lo;
    X86_TRY(ReadDescriptor16(selector, lo, gate_hi, kGp));
    if (((gate_hi >> 40) & 0x1f) != 0) return Raise(kGp, err);
  }
  bool gate32 = type == 0xc;
  unsigned gate_size = lma ? 8 : (gate32 ? 4 : 2);
  unsigned param_count = lma ? 0 : (raw >> 32) & 0x1f;
  uint16_t target = static_cast<uint16_t>(raw >> 16);
  uint64_t target_off = (raw & 0xffff) | (gate32 ? ((raw >> 48) & 0xffff) << 16 : 0);
  if (lma) target_off |= (gate_hi & 0xffffffffull) << 32;
  if ((target & 0xfffc) == 0) return Raise(kGp, 0);
  uint64_t craw;
  X86_TRY(ReadDescriptor(target, craw, kGp));
  Segment cs = DescriptorToSegment(target, craw);
  uint16_t terr = target & 0xfffc;
  if (!IsCodeSegment(cs) || cs.dpl() > cpl) return Raise(kGp, terr);
  if (!cs.present()) return Raise(kNp, terr);
  if (lma && (!cs.l() || cs.db())) return Raise(kGp, terr);
  X86_TRY(CheckTargetOffset(cs, target_off, lma));
  int new_cpl = IsConforming(cs) ? cpl : cs.dpl();

  if (new_cpl < cpl) {
    // More privileged: switch to the stack for new_cpl from the TSS and copy
    // the gate's parameters (SDM Vol. 3 5.8.5).
    const Segment& tr = s.seg[kTr];
    Segment new_ss;
    uint64_t new_rsp = 0;
    if (lma) {
      uint32_t off = 4 + 8 * new_cpl;
      if (off + 7 > tr.limit) return Raise(kTs, tr.selector & 0xfffc);
      X86_TRY(ReadLinear(tr.base + off, &new_rsp, 8, Access::kRead, true));
      new_ss = Segment{static_cast<uint16_t>(new_cpl), 0, 0,
                       seg_attr::kUnusable | (static_cast<uint32_t>(new_cpl) << seg_attr::kDplShift)};
    } else {
      bool tss32 = (tr.type() & 8) != 0;
      uint32_t esp_off = tss32 ? 4 + 8 * new_cpl : 2 + 4 * new_cpl;
      uint32_t ss_off = tss32 ? 8 + 8 * new_cpl : 4 + 4 * new_cpl;
      if (ss_off + 1 > tr.limit) return Raise(kTs, tr.selector & 0xfffc);
      uint16_t ss_sel = 0;
      X86_TRY(ReadLinear((tr.base + esp_off) & 0xffffffffull, &new_rsp, tss32 ? 4 : 2,
                         Access::kRead, true));
      X86_TRY(ReadLinear((tr.base + ss_off) & 0xffffffffull, &ss_sel, 2, Access::kRead, true));
      uint16_t ss_err = ss_sel & 0xfffc;
      if (ss_err == 0) return Raise(kTs, 0);
      if ((ss_sel & 3) != new_cpl) return Raise(kTs, ss_err);
      uint64_t ss_raw;
      X86_TRY(ReadDescriptor(ss_sel, ss_raw, kTs));
      new_ss = DescriptorToSegment(ss_sel, ss_raw);
      if (!(new_ss.attr & seg_attr::kS) || (new_ss.type() & seg_attr::kCode) ||
          !(new_ss.type() & seg_attr::kWritable) || new_ss.dpl() != new_cpl) {
        return Raise(kTs, ss_err);
      }
      if (!new_ss.present()) return Raise(kSsFault, ss_err);
      X86_TRY(SetDescriptorAccessed(ss_sel, ss_raw));
      new_ss.attr |= seg_attr::kAccessed;
    }
    // Gather the parameters from the old stack first.
    uint64_t params[32] = {};
    for (unsigned k = 0; k < param_count; ++k) {
      X86_TRY(PeekStack(gate_size, k * gate_size, params[k]));
    }
    // Build the new frame, then commit.
    unsigned addr_size = lma ? 8 : (new_ss.db() ? 4 : 2);
    StackFrameWriter w{*this, new_ss, lma ? (new_rsp & ~0ull) : new_rsp, addr_size, true,
                       static_cast<uint16_t>(new_ss.selector & 0xfffc)};
    X86_TRY(w.Push(gate_size, s.seg[kSs].selector));
    X86_TRY(w.Push(gate_size, s.gpr[kRsp]));
    for (unsigned k = param_count; k > 0; --k) X86_TRY(w.Push(gate_size, params[k - 1]));
    X86_TRY(w.Push(gate_size, s.seg[kCs].selector));
    X86_TRY(w.Push(gate_size, ret));
    X86_TRY(SetDescriptorAccessed(target, craw));
    s.seg[kSs] = new_ss;
    if (addr_size == 2) s.gpr[kRsp] = (s.gpr[kRsp] & ~0xffffull) | (w.rsp & 0xffff);
    else s.gpr[kRsp] = w.rsp;
  } else {
    uint64_t saved_rsp = s.gpr[kRsp];
    Fault f = Push(gate_size, s.seg[kCs].selector);
    if (f.ok()) f = Push(gate_size, ret);
    if (f.ok()) f = SetDescriptorAccessed(target, craw);
    if (f.faulted()) {
      s.gpr[kRsp] = saved_rsp;
      return f;
    }
  }
  cs.attr |= seg_attr::kAccessed;
  cs.selector = static_cast<uint16_t>((target & 0xfffc) | new_cpl);
  SetCs(cs);
  next_rip = target_off;
  return kOk;
}

// Loads null into data segments the new, less privileged level may not use
// (SDM Vol. 2 "RET": ES, DS, FS, GS with DPL < CPL, unless conforming code).
static void NullInaccessibleSegments(CpuState& s, int new_cpl) {
  for (int sr : {kEs, kDs, kFs, kGs}) {
    Segment& sg = s.seg[sr];
    bool conforming_code = (sg.type() & seg_attr::kCode) && (sg.type() & seg_attr::kExpandDown);
    if (!sg.unusable() && !conforming_code && sg.dpl() < new_cpl) {
      sg = Segment{0, 0, 0, seg_attr::kUnusable};
    }
  }
}

// Checks the CS a far RET / IRET returns to.
static Fault CheckReturnCs(const Segment& cs, uint16_t selector, int cpl) {
  uint16_t err = selector & 0xfffc;
  int rpl = selector & 3;
  if (rpl < cpl) return Raise(kGp, err);
  if (!IsCodeSegment(cs)) return Raise(kGp, err);
  if (IsConforming(cs) ? cs.dpl() > rpl : cs.dpl() != rpl) return Raise(kGp, err);
  if (!cs.present()) return Raise(kNp, err);
  return kOk;
}

// Checks the SS a return to an outer level loads. A null SS is allowed when
// returning to 64-bit code below CPL 3.
static Fault CheckReturnSs(Cpu& cpu, uint16_t ss_sel, int rpl, bool to_64, Segment& ss,
                           uint64_t& raw) {
  uint16_t err = ss_sel & 0xfffc;
  if (err == 0) {
    if (!to_64 || rpl == 3) return Raise(kGp, 0);
    ss = Segment{ss_sel, 0, 0, seg_attr::kUnusable | (static_cast<uint32_t>(rpl) << seg_attr::kDplShift)};
    raw = 0;
    return kOk;
  }
  if ((ss_sel & 3) != rpl) return Raise(kGp, err);
  X86_TRY(cpu.ReadDescriptor(ss_sel, raw, kGp));
  ss = Cpu::DescriptorToSegment(ss_sel, raw);
  if (!(ss.attr & seg_attr::kS) || (ss.type() & seg_attr::kCode) ||
      !(ss.type() & seg_attr::kWritable) || ss.dpl() != rpl) {
    return Raise(kGp, err);
  }
  if (!ss.present()) return Raise(kSsFault, err);
  return kOk;
}

Fault Cpu::FarReturn(unsigned opsize, uint16_t pop_bytes) {
  uint64_t ip, cs_sel;
  X86_TRY(PeekStack(opsize, 0, ip));
  X86_TRY(PeekStack(opsize, opsize, cs_sel));
  uint16_t sel = static_cast<uint16_t>(cs_sel);
  if (!s.protected_mode() || s.v86_mode()) {
    if (ip > s.seg[kCs].limit) return Raise(kGp, 0);
    LoadSegmentReal(kCs, sel);
    AdjustRsp(2 * opsize + pop_bytes);
    next_rip = ip;
    return kOk;
  }
  bool lma = (s.efer & efer::kLma) != 0;
  int cpl = s.cpl();
  if ((sel & 0xfffc) == 0) return Raise(kGp, 0);
  uint64_t raw;
  X86_TRY(ReadDescriptor(sel, raw, kGp));
  Segment cs = DescriptorToSegment(sel, raw);
  X86_TRY(CheckReturnCs(cs, sel, cpl));
  int rpl = sel & 3;
  bool to_64 = lma && cs.l();
  X86_TRY(CheckTargetOffset(cs, ip, lma));
  if (rpl == cpl) {
    X86_TRY(SetDescriptorAccessed(sel, raw));
    cs.attr |= seg_attr::kAccessed;
    SetCs(cs);
    AdjustRsp(2 * opsize + pop_bytes);
    next_rip = ip;
    return kOk;
  }
  uint64_t new_sp, ss_sel;
  X86_TRY(PeekStack(opsize, 2 * opsize + pop_bytes, new_sp));
  X86_TRY(PeekStack(opsize, 3 * opsize + pop_bytes, ss_sel));
  Segment ss;
  uint64_t ss_raw;
  X86_TRY(CheckReturnSs(*this, static_cast<uint16_t>(ss_sel), rpl, to_64, ss, ss_raw));
  X86_TRY(SetDescriptorAccessed(sel, raw));
  if (ss_raw) X86_TRY(SetDescriptorAccessed(static_cast<uint16_t>(ss_sel), ss_raw));
  cs.attr |= seg_attr::kAccessed;
  if (ss_raw) ss.attr |= seg_attr::kAccessed;
  SetCs(cs);
  s.seg[kSs] = ss;
  if (opsize == 2) new_sp &= 0xffff;
  s.gpr[kRsp] = new_sp;
  AdjustRsp(pop_bytes);
  NullInaccessibleSegments(s, rpl);
  next_rip = ip;
  return kOk;
}

Fault Cpu::Iret(unsigned opsize) {
  s.events.nmi_blocked = false;  // IRET ends NMI blocking (SDM Vol. 3 6.7.1).
  exits_.poll_events = true;
  uint64_t ip, cs_sel, fl;
  if (!s.protected_mode()) {
    X86_TRY(PeekStack(opsize, 0, ip));
    X86_TRY(PeekStack(opsize, opsize, cs_sel));
    X86_TRY(PeekStack(opsize, 2 * opsize, fl));
    if (ip > s.seg[kCs].limit) return Raise(kGp, 0);
    uint64_t keep = flags::kVm | flags::kVif | flags::kVip;
    uint64_t changeable = opsize == 2 ? 0xffffull : (0x257fd5ull & ~keep);
    LoadSegmentReal(kCs, static_cast<uint16_t>(cs_sel));
    AdjustRsp(3 * opsize);
    SetRflags((s.rflags & ~changeable) | (fl & changeable));
    next_rip = ip;
    return kOk;
  }
  if (s.v86_mode()) {
    // Without VME, IRET in virtual-8086 mode needs IOPL 3 and leaves IOPL alone.
    if (((s.rflags & flags::kIopl) >> flags::kIoplShift) < 3) return Raise(kGp, 0);
    X86_TRY(PeekStack(opsize, 0, ip));
    X86_TRY(PeekStack(opsize, opsize, cs_sel));
    X86_TRY(PeekStack(opsize, 2 * opsize, fl));
    if (ip > s.seg[kCs].limit) return Raise(kGp, 0);
    uint64_t changeable = (opsize == 2 ? 0xffffull : 0x3f7fd5ull) &
                          ~(flags::kIopl | flags::kVm | flags::kVif | flags::kVip);
    LoadSegmentReal(kCs, static_cast<uint16_t>(cs_sel));
    AdjustRsp(3 * opsize);
    SetRflags((s.rflags & ~changeable) | (fl & changeable));
    next_rip = ip;
    return kOk;
  }
  bool lma = (s.efer & efer::kLma) != 0;
  if (s.rflags & flags::kNt) {
    if (lma) return Raise(kGp, 0);
    // Nested task: return through the TSS back link.
    uint16_t link;
    X86_TRY(ReadLinear(s.seg[kTr].base, &link, 2, Access::kRead, true));
    return TaskSwitch(link, TaskSwitchReason::kIret, false, 0, next_rip);
  }
  X86_TRY(PeekStack(opsize, 0, ip));
  X86_TRY(PeekStack(opsize, opsize, cs_sel));
  X86_TRY(PeekStack(opsize, 2 * opsize, fl));
  int cpl = s.cpl();
  if (opsize == 2) fl = (s.rflags & ~0xffffull) | (fl & 0xffff);
  if ((fl & flags::kVm) && cpl == 0 && !lma && opsize == 4) {
    // Return to virtual-8086 mode: the frame also holds ESP, SS, ES, DS, FS, GS.
    uint64_t v[6];
    for (int k = 0; k < 6; ++k) X86_TRY(PeekStack(4, 12 + 4 * k, v[k]));
    SetRflags(fl);
    for (int sr : {kEs, kDs, kFs, kGs, kSs, kCs}) {
      uint16_t sel = sr == kCs ? static_cast<uint16_t>(cs_sel)
                     : sr == kSs ? static_cast<uint16_t>(v[1])
                     : static_cast<uint16_t>(v[2 + (sr == kEs ? 0 : sr == kDs ? 1 : sr == kFs ? 2 : 3)]);
      LoadSegmentReal(sr, sel);
    }
    s.gpr[kRsp] = v[0] & 0xffffffffull;
    next_rip = ip & 0xffff;
    return kOk;
  }
  uint16_t sel = static_cast<uint16_t>(cs_sel);
  if ((sel & 0xfffc) == 0) return Raise(kGp, 0);
  uint64_t raw;
  X86_TRY(ReadDescriptor(sel, raw, kGp));
  Segment cs = DescriptorToSegment(sel, raw);
  X86_TRY(CheckReturnCs(cs, sel, cpl));
  int rpl = sel & 3;
  bool to_64 = lma && cs.l();
  if (lma && cs.l() && cs.db()) return Raise(kGp, sel & 0xfffc);
  X86_TRY(CheckTargetOffset(cs, ip, lma));
  // Which flags this IRET may change (SDM Vol. 2 "IRET").
  int iopl = static_cast<int>((s.rflags & flags::kIopl) >> flags::kIoplShift);
  uint64_t changeable = flags::kStatus | flags::kTf | flags::kDf | flags::kNt | flags::kRf |
                        flags::kAc | flags::kId;
  if (cpl <= iopl) changeable |= flags::kIf;
  if (cpl == 0) changeable |= flags::kIopl | flags::kVif | flags::kVip;
  if (opsize == 2) changeable &= 0xffff;
  uint64_t new_flags = (s.rflags & ~changeable) | (fl & changeable);

  // In 64-bit mode IRET always pops SS:RSP (SDM Vol. 2 "IRET", IA-32e mode).
  bool pop_stack = rpl != cpl || is64();
  if (!pop_stack) {
    X86_TRY(SetDescriptorAccessed(sel, raw));
    cs.attr |= seg_attr::kAccessed;
    SetCs(cs);
    AdjustRsp(3 * opsize);
    SetRflags(new_flags);
    next_rip = ip;
    return kOk;
  }
  uint64_t new_sp, ss_sel;
  X86_TRY(PeekStack(opsize, 3 * opsize, new_sp));
  X86_TRY(PeekStack(opsize, 4 * opsize, ss_sel));
  Segment ss;
  uint64_t ss_raw;
  X86_TRY(CheckReturnSs(*this, static_cast<uint16_t>(ss_sel), rpl, to_64, ss, ss_raw));
  X86_TRY(SetDescriptorAccessed(sel, raw));
  if (ss_raw) X86_TRY(SetDescriptorAccessed(static_cast<uint16_t>(ss_sel), ss_raw));
  cs.attr |= seg_attr::kAccessed;
  if (ss_raw) ss.attr |= seg_attr::kAccessed;
  SetCs(cs);
  s.seg[kSs] = ss;
  if (opsize == 2) new_sp &= 0xffff;
  else if (opsize == 4) new_sp &= 0xffffffffull;
  s.gpr[kRsp] = new_sp;
  SetRflags(new_flags);
  if (rpl > cpl) NullInaccessibleSegments(s, rpl);
  UpdateMode();
  next_rip = ip;
  return kOk;
}

}  // namespace x86vm
