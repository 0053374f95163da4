// Exception and interrupt delivery (SDM Vol. 3 chapter 6, and 20.1.4 for
// real mode): the IVT, 32-bit IDT gates with privilege changes through the
// TSS, virtual-8086 exits, 64-bit IDT gates with IST, the double-fault rules
// and shutdown, and the events taken at instruction boundaries.
#include "cpu/cpu.h"
#include "devices/irq.h"

namespace x86vm {
namespace {

// Exception classes for the double-fault rules (SDM Vol. 3 Table 6-4).
enum class Class { kBenign, kContributory, kPageFault };

Class Classify(int vector) {
  switch (vector) {
    case kDe: case kTs: case kNp: case kSsFault: case kGp: return Class::kContributory;
    case kPf: return Class::kPageFault;
    default: return Class::kBenign;
  }
}

}  // namespace

Fault StackFrameWriter::Push(unsigned size, uint64_t value) {
  uint64_t mask = Cpu::AddrMask(addr_size);
  uint64_t new_rsp = (rsp - size) & mask;
  uint64_t linear;
  if (addr_size == 8) {
    linear = new_rsp;
    if (!Cpu::IsCanonical(linear)) return Raise(kSsFault, ss_error);
  } else {
    // Legacy stack: limit check (expand-down aware), 32-bit linear.
    uint64_t last = new_rsp + size - 1;
    bool expand_down = (ss.type() & seg_attr::kExpandDown) && !(ss.type() & seg_attr::kCode);
    if (expand_down) {
      uint64_t upper = ss.db() ? 0xffffffffull : 0xffffull;
      if (new_rsp <= ss.limit || last > upper) return Raise(kSsFault, ss_error);
    } else if (last > ss.limit) {
      return Raise(kSsFault, ss_error);
    }
    linear = (ss.base + new_rsp) & 0xffffffffull;
  }
  X86_TRY(cpu.WriteLinear(linear, &value, size, supervisor));
  rsp = new_rsp;
  return kOk;
}

Fault Cpu::DeliverEvent(uint8_t vector, EventKind kind, bool has_error, uint32_t error_code,
                        uint64_t return_rip) {
  event_delivered_ = true;
  bool software = kind == EventKind::kSoftware || kind == EventKind::kSoftException;
  // INT n, INT3, INTO, INT1 come here straight from their handlers; the
  // other kinds were reported by RaiseException.
  if (tracer_ != nullptr && (software || kind == EventKind::kIcebp)) [[unlikely]] {
    TraceEvent(has_error ? Raise(static_cast<Vector>(vector), error_code)
                         : Raise(static_cast<Vector>(vector)),
               kind);
  }
  uint32_t ext = software ? 0 : 1;
  uint32_t idt_error = vector * 8u + 2u + ext;
  uint64_t flags_now = s.rflags;

  if (!s.protected_mode()) {
    // Real mode: a 4-byte IVT entry, FLAGS/CS/IP pushed (SDM Vol. 3 20.1.4).
    if (vector * 4u + 3u > s.idtr.limit) return Raise(kGp, idt_error);
    uint32_t entry;
    X86_TRY(ReadLinear((s.idtr.base + vector * 4u) & 0xffffffffull, &entry, 4, Access::kRead, true));
    uint64_t saved_rsp = s.gpr[kRsp];
    Fault f = Push(2, flags_now);
    if (f.ok()) f = Push(2, s.seg[kCs].selector);
    if (f.ok()) f = Push(2, return_rip);
    if (f.faulted()) {
      s.gpr[kRsp] = saved_rsp;
      return f;
    }
    s.rflags &= ~(flags::kIf | flags::kTf | flags::kAc | flags::kRf);
    LoadSegmentReal(kCs, static_cast<uint16_t>(entry >> 16));
    s.rip = next_rip = entry & 0xffff;
    return kOk;
  }

  bool lma = (s.efer & efer::kLma) != 0;
  unsigned gate_bytes = lma ? 16 : 8;
  if (vector * gate_bytes + gate_bytes - 1 > s.idtr.limit) return Raise(kGp, idt_error);
  uint64_t gate_linear = s.idtr.base + vector * gate_bytes;
  if (!lma) gate_linear &= 0xffffffffull;
  uint64_t gate = 0, gate_hi = 0;
  X86_TRY(ReadLinear(gate_linear, &gate, 8, Access::kRead, true));
  if (lma) X86_TRY(ReadLinear(gate_linear + 8, &gate_hi, 8, Access::kRead, true));
  unsigned type = (gate >> 40) & 0x1f;  // Includes S, which must be 0.
  unsigned gate_dpl = (gate >> 45) & 3;
  bool gate_present = (gate >> 47) & 1;
  bool valid = lma ? (type == 0xe || type == 0xf)
                   : (type == 5 || type == 6 || type == 7 || type == 0xe || type == 0xf);
  if (!valid) return Raise(kGp, idt_error);
  int cpl = s.cpl();
  // INT n, INT3 and INTO honour the gate's DPL (SDM Vol. 3 6.12.1.1).
  if (software && static_cast<int>(gate_dpl) < cpl) return Raise(kGp, vector * 8u + 2u);
  if (!gate_present) return Raise(kNp, idt_error);
  if (type == 5) {
    uint16_t tss = static_cast<uint16_t>(gate >> 16);
    return TaskSwitch(tss, TaskSwitchReason::kGate, has_error, error_code, return_rip);
  }

  uint16_t target = static_cast<uint16_t>(gate >> 16);
  uint64_t offset = (gate & 0xffff) | (((gate >> 48) & 0xffff) << 16);
  if (lma) offset |= (gate_hi & 0xffffffffull) << 32;
  bool gate32 = (type & 8) != 0;
  if (!lma && !gate32) offset &= 0xffff;
  unsigned ist = lma ? (gate >> 32) & 7 : 0;
  bool trap_gate = (type & 1) != 0;

  if ((target & 0xfffc) == 0) return Raise(kGp, ext);
  uint64_t raw;
  uint16_t target_error = static_cast<uint16_t>((target & 0xfffc) | ext);
  {
    Fault f = ReadDescriptor(target, raw, kGp);
    if (f.faulted()) return Raise(kGp, target_error);
  }
  Segment cs = DescriptorToSegment(target, raw);
  bool is_code = (cs.attr & seg_attr::kS) && (cs.type() & seg_attr::kCode);
  if (!is_code || cs.dpl() > cpl) return Raise(kGp, target_error);
  if (!cs.present()) return Raise(kNp, target_error);
  if (lma && (!cs.l() || cs.db())) return Raise(kGp, target_error);
  bool conforming = (cs.type() & seg_attr::kExpandDown) != 0;
  int new_cpl = conforming ? cpl : cs.dpl();
  bool from_v86 = s.v86_mode();
  if (from_v86 && new_cpl != 0) return Raise(kGp, target_error);

  // Pick the stack.
  Segment new_ss = s.seg[kSs];
  uint64_t new_rsp = s.gpr[kRsp];
  bool stack_switch = new_cpl < cpl;
  unsigned push_size = lma ? 8 : (gate32 ? 4 : 2);
  if (lma) {
    if (stack_switch || ist != 0) {
      uint32_t tss_offset = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * new_cpl;
      const Segment& tr = s.seg[kTr];
      if (tss_offset + 7 > tr.limit) return Raise(kTs, (tr.selector & 0xfffc) | ext);
      X86_TRY(ReadLinear(tr.base + tss_offset, &new_rsp, 8, Access::kRead, true));
    }
    if (stack_switch) {
      // 64-bit mode loads a null SS with RPL = new CPL (SDM Vol. 3 6.14.4).
      new_ss = Segment{static_cast<uint16_t>(new_cpl), 0, 0,
                       seg_attr::kUnusable | (static_cast<uint32_t>(new_cpl) << seg_attr::kDplShift)};
    }
    new_rsp &= ~0xfull;  // 16-byte alignment of the frame.
  } else if (stack_switch) {
    const Segment& tr = s.seg[kTr];
    bool tss32 = (tr.type() & 8) != 0;
    uint32_t esp_offset = tss32 ? 4 + 8 * new_cpl : 2 + 4 * new_cpl;
    uint32_t ss_offset = tss32 ? 8 + 8 * new_cpl : 4 + 4 * new_cpl;
    uint16_t tr_error = static_cast<uint16_t>((tr.selector & 0xfffc) | ext);
    if (ss_offset + 1 > tr.limit) return Raise(kTs, tr_error);
    uint64_t esp = 0;
    uint16_t ss_sel = 0;
    X86_TRY(ReadLinear((tr.base + esp_offset) & 0xffffffffull, &esp, tss32 ? 4 : 2, Access::kRead, true));
    X86_TRY(ReadLinear((tr.base + ss_offset) & 0xffffffffull, &ss_sel, 2, Access::kRead, true));
    uint16_t ss_error = static_cast<uint16_t>((ss_sel & 0xfffc) | ext);
    if ((ss_sel & 0xfffc) == 0) return Raise(kTs, ext);
    if ((ss_sel & 3) != new_cpl) return Raise(kTs, ss_error);
    uint64_t ss_raw;
    {
      Fault f = ReadDescriptor(ss_sel, ss_raw, kTs);
      if (f.faulted()) return f.vector == kTs ? Raise(kTs, ss_error) : f;
    }
    new_ss = DescriptorToSegment(ss_sel, ss_raw);
    bool ss_ok = (new_ss.attr & seg_attr::kS) && !(new_ss.type() & seg_attr::kCode) &&
                 (new_ss.type() & seg_attr::kWritable) && new_ss.dpl() == new_cpl;
    if (!ss_ok) return Raise(kTs, ss_error);
    if (!new_ss.present()) return Raise(kSsFault, ss_error);
    X86_TRY(SetDescriptorAccessed(ss_sel, ss_raw));
    new_ss.attr |= seg_attr::kAccessed;
    new_rsp = esp;
  }

  // Build the frame on the chosen stack.
  unsigned addr_size = lma ? 8 : (new_ss.db() ? 4 : 2);
  StackFrameWriter w{*this, new_ss, new_rsp, addr_size, new_cpl < 3,
                     static_cast<uint16_t>(stack_switch ? ((new_ss.selector & 0xfffc) | ext) : 0)};
  if (lma || stack_switch) {
    if (from_v86) {
      X86_TRY(w.Push(push_size, s.seg[kGs].selector));
      X86_TRY(w.Push(push_size, s.seg[kFs].selector));
      X86_TRY(w.Push(push_size, s.seg[kDs].selector));
      X86_TRY(w.Push(push_size, s.seg[kEs].selector));
    }
    if (lma || stack_switch) {
      X86_TRY(w.Push(push_size, s.seg[kSs].selector));
      X86_TRY(w.Push(push_size, s.gpr[kRsp]));
    }
  }
  X86_TRY(w.Push(push_size, flags_now));
  X86_TRY(w.Push(push_size, s.seg[kCs].selector));
  X86_TRY(w.Push(push_size, return_rip));
  if (has_error) X86_TRY(w.Push(push_size, error_code));

  // The target must lie inside the new code segment.
  if (lma) {
    if (!IsCanonical(offset)) return Raise(kGp, ext);
  } else if (offset > cs.limit) {
    return Raise(kGp, ext);
  }
  X86_TRY(SetDescriptorAccessed(target, raw));
  cs.attr |= seg_attr::kAccessed;

  // Commit.
  if (from_v86) {
    for (int sr : {kEs, kDs, kFs, kGs}) s.seg[sr] = Segment{0, 0, 0, seg_attr::kUnusable};
  }
  s.seg[kSs] = new_ss;
  if (lma && stack_switch) s.seg[kSs].selector = static_cast<uint16_t>(new_cpl);
  if (addr_size == 2) {
    s.gpr[kRsp] = (s.gpr[kRsp] & ~0xffffull) | (w.rsp & 0xffff);
  } else {
    s.gpr[kRsp] = w.rsp;
  }
  cs.selector = static_cast<uint16_t>((target & 0xfffc) | new_cpl);
  s.rflags &= ~(flags::kTf | flags::kNt | flags::kVm | flags::kRf);
  if (!trap_gate) s.rflags &= ~flags::kIf;
  SetCs(cs);
  s.rip = next_rip = offset;
  return kOk;
}

// Fault-class exceptions (SDM Vol. 3 Table 6-1) push RF = 1 so the
// restarted instruction does not hit an instruction breakpoint again
// (SDM Vol. 3 18.3.1.1). #DB is excluded: its instruction-breakpoint form
// pushes RF as it is.
static bool PushesRf(int vector) {
  switch (vector) {
    case kDe: case kBr: case kUd: case kNm: case kTs: case kNp: case kSsFault: case kGp:
    case kPf: case kMf: case kAc: case kXm:
      return true;
    default:
      return false;
  }
}

void Cpu::RaiseException(Fault f, EventKind kind, uint64_t return_rip) {
  // The frame holds RFLAGS; a specialized handler before the faulting one
  // may have left them lazy.
  MaterializeFlags();
  event_delivered_ = true;
  for (;;) {
    // Reported before RF and CR2 change, so a trace shows what the
    // delivery itself changed.
    if (tracer_ != nullptr) [[unlikely]] TraceEvent(f, kind);
    if (kind == EventKind::kException && PushesRf(f.vector)) s.rflags |= flags::kRf;
    if (f.vector == kPf && kind == EventKind::kException) s.cr2 = fault_address;
    if (f.vector == kDb && kind == EventKind::kException) {
      // #DB leaves DR7.GD clear so the handler can touch debug registers.
      s.dr7 &= ~(1ull << 13);
    }
    Fault g = DeliverEvent(static_cast<uint8_t>(f.vector), kind, f.has_error_code, f.error_code,
                           return_rip);
    if (g.ok()) {
      s.halted = false;
      return;
    }
    if (f.vector == kDf && kind == EventKind::kException) {
      // A fault while delivering #DF: shutdown (SDM Vol. 3 6.15, "Interrupt 8").
      shutdown_ = true;
      exits_.stop = true;
      return;
    }
    Class first = kind == EventKind::kException ? Classify(f.vector) : Class::kBenign;
    Class second = Classify(g.vector);
    bool df = (first == Class::kContributory && second == Class::kContributory) ||
              (first == Class::kPageFault && second != Class::kBenign);
    f = df ? Raise(kDf, 0) : g;
    kind = EventKind::kException;
    return_rip = s.rip;
  }
}

bool Cpu::DeliverPendingEvents() {
  if (s.events.exception_pending) {
    // An exception recognised by another engine (state moved from KVM).
    s.events.exception_pending = false;
    Fault f = s.events.exception_has_error_code
                  ? Raise(static_cast<Vector>(s.events.exception_vector), s.events.exception_error_code)
                  : Raise(static_cast<Vector>(s.events.exception_vector));
    if (f.vector == kPf) fault_address = s.cr2;
    RaiseException(f, EventKind::kException, s.rip);
    return true;
  }
  if (env_.irq != nullptr && env_.irq->TakeNmi()) s.events.nmi_pending = true;
  if (s.events.nmi_pending && !s.events.nmi_blocked) {
    s.events.nmi_pending = false;
    s.events.nmi_blocked = true;
    s.halted = false;
    RaiseException(Raise(kNmi), EventKind::kNmi, s.rip);
    return true;
  }
  if ((s.rflags & flags::kIf) && env_.irq != nullptr && env_.irq->HasInterrupt()) {
    uint8_t vector = env_.irq->AcknowledgeInterrupt();
    s.halted = false;
    RaiseException(Raise(static_cast<Vector>(vector)), EventKind::kExternal, s.rip);
    return true;
  }
  return false;
}

}  // namespace x86vm
