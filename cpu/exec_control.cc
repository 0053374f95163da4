// Control transfer handlers (SDM Vol. 2: Jcc, JMP, CALL, RET, LOOP, JrCXZ,
// INT n, INT3, INTO, INT1, IRET, far JMP/CALL/RET).
#include "cpu/exec_common.h"

namespace x86vm {
namespace {

template <int cc, typename T>
Fault Jcc(Cpu& c, const Insn& i) {
  if (!Condition(cc, c.s.rflags)) return kOk;
  return c.BranchNear(c.next_rip + i.imm, sizeof(T));
}

template <typename T>
Fault JmpRel(Cpu& c, const Insn& i) {
  return c.BranchNear(c.next_rip + i.imm, sizeof(T));
}

template <typename T>
Fault CallRel(Cpu& c, const Insn& i) {
  uint64_t ret = c.next_rip;
  X86_TRY(c.BranchNear(c.next_rip + i.imm, sizeof(T)));
  Fault f = c.Push(sizeof(T), ret);
  if (f.faulted()) c.next_rip = ret;
  return f;
}

template <typename T>
Fault CallE(Cpu& c, const Insn& i) {
  T target;
  X86_TRY(c.ReadE<T>(i, target));
  uint64_t ret = c.next_rip;
  X86_TRY(c.BranchNear(target, sizeof(T)));
  Fault f = c.Push(sizeof(T), ret);
  if (f.faulted()) c.next_rip = ret;
  return f;
}

template <typename T>
Fault JmpE(Cpu& c, const Insn& i) {
  T target;
  X86_TRY(c.ReadE<T>(i, target));
  return c.BranchNear(target, sizeof(T));
}

template <bool has_imm, typename T>
Fault RetNear(Cpu& c, const Insn& i) {
  uint64_t target;
  X86_TRY(c.PeekStack(sizeof(T), 0, target));
  X86_TRY(c.BranchNear(target, sizeof(T)));
  c.AdjustRsp(sizeof(T) + (has_imm ? static_cast<uint16_t>(i.imm) : 0));
  return kOk;
}

// LOOP/LOOPE/LOOPNE/JrCXZ: the count register is selected by the address size.
template <int kind, typename T>
Fault Loop(Cpu& c, const Insn& i) {
  uint64_t count = CountReg(c, i);
  bool take;
  if (kind == 3) {
    take = count == 0;
  } else {
    count = (count - 1) & Cpu::AddrMask(i.addrsize);
    SetCountReg(c, i, count);
    bool zf = (c.s.rflags & flags::kZf) != 0;
    take = count != 0 && (kind == 2 || (kind == 1 ? zf : !zf));
  }
  if (!take) return kOk;
  return c.BranchNear(c.next_rip + i.imm, sizeof(T));
}

// JMP/CALL far through memory (FF /5, FF /3): offset then selector.
template <bool call, typename T>
Fault FarIndirect(Cpu& c, const Insn& i) {
  uint64_t ea = c.Ea(i);
  T off;
  uint16_t sel;
  X86_TRY(c.Read<T>(i.seg, ea, off));
  X86_TRY(c.Read<uint16_t>(i.seg, (ea + sizeof(T)) & Cpu::AddrMask(i.addrsize), sel));
  return call ? c.FarCall(sel, off, sizeof(T)) : c.FarJump(sel, off, sizeof(T));
}

template <typename T>
Fault JmpAp(Cpu& c, const Insn& i) {
  return c.FarJump(i.imm2, i.imm, sizeof(T));
}

template <typename T>
Fault CallAp(Cpu& c, const Insn& i) {
  return c.FarCall(i.imm2, i.imm, sizeof(T));
}

template <bool has_imm, typename T>
Fault RetFar(Cpu& c, const Insn& i) {
  return c.FarReturn(sizeof(T), has_imm ? static_cast<uint16_t>(i.imm) : 0);
}

template <typename T>
Fault IretHandler(Cpu& c, const Insn& i) {
  return c.Iret(sizeof(T));
}

}  // namespace

#define X86_JCC_HANDLERS(cc) X86_DEFINE_V(Jcc##cc, Jcc, cc)
X86_JCC_HANDLERS(0) X86_JCC_HANDLERS(1) X86_JCC_HANDLERS(2) X86_JCC_HANDLERS(3)
X86_JCC_HANDLERS(4) X86_JCC_HANDLERS(5) X86_JCC_HANDLERS(6) X86_JCC_HANDLERS(7)
X86_JCC_HANDLERS(8) X86_JCC_HANDLERS(9) X86_JCC_HANDLERS(10) X86_JCC_HANDLERS(11)
X86_JCC_HANDLERS(12) X86_JCC_HANDLERS(13) X86_JCC_HANDLERS(14) X86_JCC_HANDLERS(15)

X86_DEFINE_V(JmpJ, JmpRel)
X86_DEFINE_V(CallJz, CallRel)
X86_DEFINE_V(CallEv, CallE)
X86_DEFINE_V(JmpEv, JmpE)
X86_DEFINE_V(RetNear, RetNear, false)
X86_DEFINE_V(RetNearIw, RetNear, true)
X86_DEFINE_V(LoopneJb, Loop, 0)
X86_DEFINE_V(LoopeJb, Loop, 1)
X86_DEFINE_V(LoopJb, Loop, 2)
X86_DEFINE_V(JrcxzJb, Loop, 3)
X86_DEFINE_V(CallFarMp, FarIndirect, true)
X86_DEFINE_V(JmpFarMp, FarIndirect, false)
X86_DEFINE_V(JmpFarAp, JmpAp)
X86_DEFINE_V(CallFarAp, CallAp)
X86_DEFINE_V(RetFar, RetFar, false)
X86_DEFINE_V(RetFarIw, RetFar, true)
X86_DEFINE_V(Iret, IretHandler)

// INT n: in virtual-8086 mode IOPL < 3 is #GP(0) (no VME; SDM Vol. 3 20.3.3).
Fault IntIb(Cpu& c, const Insn& i) {
  if (c.s.v86_mode() && ((c.s.rflags & flags::kIopl) >> flags::kIoplShift) < 3) {
    return Raise(kGp, 0);
  }
  return c.DeliverEvent(static_cast<uint8_t>(i.imm), EventKind::kSoftware, false, 0, c.next_rip);
}

Fault Int3(Cpu& c, const Insn&) {
  return c.DeliverEvent(kBp, EventKind::kSoftException, false, 0, c.next_rip);
}

Fault Into(Cpu& c, const Insn&) {
  if (!(c.s.rflags & flags::kOf)) return kOk;
  return c.DeliverEvent(kOf, EventKind::kSoftException, false, 0, c.next_rip);
}

Fault Int1(Cpu& c, const Insn&) {
  return c.DeliverEvent(kDb, EventKind::kIcebp, false, 0, c.next_rip);
}

}  // namespace x86vm
