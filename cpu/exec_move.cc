// Data movement and stack handlers (SDM Vol. 2: MOV, MOVZX, MOVSX, MOVSXD,
// LEA, XCHG, CMOVcc, SETcc, MOVBE, PUSH, POP, PUSHA, POPA, PUSHF, POPF,
// ENTER, LEAVE, XLAT, LDS/LES/LFS/LGS/LSS, BOUND, NOP).
#include <bit>

#include "cpu/exec_common.h"

namespace x86vm {
namespace {

template <typename T>
Fault MovEG(Cpu& c, const Insn& i) {
  return c.WriteE<T>(i, c.RegOp<T>(i, i.reg));
}

template <typename T>
Fault MovGE(Cpu& c, const Insn& i) {
  T v;
  X86_TRY(c.ReadE<T>(i, v));
  c.SetRegOp<T>(i, i.reg, v);
  return kOk;
}

template <typename T>
Fault MovEImm(Cpu& c, const Insn& i) {
  return c.WriteE<T>(i, ImmAs<T>(i.imm));
}

template <typename T>
Fault MovZImm(Cpu& c, const Insn& i) {
  c.SetRegOp<T>(i, i.reg, ImmAs<T>(i.imm));
  return kOk;
}

// MOV AL/rAX <-> moffs: the decoder made moffs a plain memory operand.
template <typename T>
Fault MovAccMoffs(Cpu& c, const Insn& i) {
  T v;
  X86_TRY(c.ReadE<T>(i, v));
  c.SetGpr<T>(kRax, v);
  return kOk;
}

template <typename T>
Fault MovMoffsAcc(Cpu& c, const Insn& i) {
  return c.WriteE<T>(i, c.Gpr<T>(kRax));
}

// MOVZX/MOVSX Gv, Eb/Ew.
template <typename Src, bool sign, typename T>
Fault MovExtend(Cpu& c, const Insn& i) {
  Src v;
  X86_TRY(c.ReadE<Src>(i, v));
  if constexpr (sign) {
    using SS = std::make_signed_t<Src>;
    using ST = std::make_signed_t<T>;
    c.SetGpr<T>(i.reg, static_cast<T>(static_cast<ST>(static_cast<SS>(v))));
  } else {
    c.SetGpr<T>(i.reg, static_cast<T>(v));
  }
  return kOk;
}

template <typename T>
Fault Lea(Cpu& c, const Insn& i) {
  c.SetGpr<T>(i.reg, static_cast<T>(c.Ea(i)));
  return kOk;
}

template <typename T>
Fault XchgEG(Cpu& c, const Insn& i) {
  T a;
  X86_TRY(ReadModifyE<T>(c, i, a));
  T b = c.RegOp<T>(i, i.reg);
  X86_TRY(c.WriteE<T>(i, b));
  c.SetRegOp<T>(i, i.reg, a);
  return kOk;
}

// 90+r: XCHG r, rAX; 90 itself (no REX.B) is NOP, also with F3 (PAUSE).
template <typename T>
Fault XchgZ(Cpu& c, const Insn& i) {
  if (i.reg == 0) return kOk;
  T a = c.Gpr<T>(i.reg);
  c.SetGpr<T>(i.reg, c.Gpr<T>(kRax));
  c.SetGpr<T>(kRax, a);
  return kOk;
}

// CMOVcc: the source is always read, and a 32-bit destination is always
// zero-extended in 64-bit mode even when the condition is false.
template <int cc, typename T>
Fault Cmov(Cpu& c, const Insn& i) {
  T v;
  X86_TRY(c.ReadE<T>(i, v));
  if (Condition(cc, c.s.rflags)) c.SetGpr<T>(i.reg, v);
  else if constexpr (sizeof(T) == 4) c.SetGpr<T>(i.reg, c.Gpr<T>(i.reg));
  return kOk;
}

template <int cc>
Fault Setcc(Cpu& c, const Insn& i) {
  return c.WriteE<uint8_t>(i, Condition(cc, c.s.rflags) ? 1 : 0);
}

template <typename T>
Fault MovbeLoad(Cpu& c, const Insn& i) {
  T v;
  X86_TRY(c.ReadE<T>(i, v));
  c.SetGpr<T>(i.reg, std::byteswap(v));
  return kOk;
}

template <typename T>
Fault MovbeStore(Cpu& c, const Insn& i) {
  return c.WriteE<T>(i, std::byteswap(c.Gpr<T>(i.reg)));
}

template <typename T>
Fault PushZ(Cpu& c, const Insn& i) {
  return c.Push(sizeof(T), c.Gpr<T>(i.reg));
}

template <typename T>
Fault PopZ(Cpu& c, const Insn& i) {
  uint64_t v;
  X86_TRY(c.Pop(sizeof(T), v));
  c.SetGpr<T>(i.reg, static_cast<T>(v));
  return kOk;
}

template <typename T>
Fault PushImm(Cpu& c, const Insn& i) {
  return c.Push(sizeof(T), ImmAs<T>(i.imm));
}

template <typename T>
Fault PushE(Cpu& c, const Insn& i) {
  T v;
  X86_TRY(c.ReadE<T>(i, v));
  return c.Push(sizeof(T), v);
}

// POP Ev: RSP is incremented before the destination address is computed
// (SDM Vol. 2 "POP").
template <typename T>
Fault PopE(Cpu& c, const Insn& i) {
  uint64_t v;
  uint64_t saved_rsp = c.s.gpr[kRsp];
  X86_TRY(c.Pop(sizeof(T), v));
  Fault f = c.WriteE<T>(i, static_cast<T>(v));
  if (f.faulted()) c.s.gpr[kRsp] = saved_rsp;
  return f;
}

// PUSH Sreg: recent Intel CPUs write only the selector's 16 bits into an
// operand-sized slot (SDM Vol. 2 "PUSH").
template <int seg, typename T>
Fault PushSeg(Cpu& c, const Insn& i) {
  unsigned as = c.StackAddrSize();
  uint64_t rsp = (c.s.gpr[kRsp] - sizeof(T)) & Cpu::AddrMask(as);
  X86_TRY(c.Write<uint16_t>(kSs, rsp, c.s.seg[seg].selector));
  c.AdjustRsp(-static_cast<int64_t>(sizeof(T)));
  return kOk;
}

template <int seg, typename T>
Fault PopSeg(Cpu& c, const Insn& i) {
  uint64_t v;
  X86_TRY(c.PeekStack(sizeof(T), 0, v));
  X86_TRY(c.LoadSegment(seg, static_cast<uint16_t>(v)));
  c.AdjustRsp(sizeof(T));
  if (seg == kSs) c.SetInterruptShadow(true);
  return kOk;
}

template <typename T>
Fault Pusha(Cpu& c, const Insn& i) {
  uint64_t saved = c.s.gpr[kRsp];
  T sp = c.Gpr<T>(kRsp);
  for (int r = kRax; r <= kRdi; ++r) {
    Fault f = c.Push(sizeof(T), r == kRsp ? sp : c.Gpr<T>(r));
    if (f.faulted()) {
      c.s.gpr[kRsp] = saved;
      return f;
    }
  }
  return kOk;
}

template <typename T>
Fault Popa(Cpu& c, const Insn& i) {
  T v[8];
  for (int k = 0; k < 8; ++k) {
    uint64_t x;
    X86_TRY(c.PeekStack(sizeof(T), sizeof(T) * k, x));
    v[k] = static_cast<T>(x);
  }
  for (int k = 0; k < 8; ++k) {
    int r = kRdi - k;
    if (r != kRsp) c.SetGpr<T>(r, v[k]);
  }
  c.AdjustRsp(8 * sizeof(T));
  return kOk;
}

// The IOPL-sensitive rules of PUSHF/POPF (SDM Vol. 2 "POPF").
template <typename T>
Fault Pushf(Cpu& c, const Insn& i) {
  if (c.s.v86_mode() && ((c.s.rflags & flags::kIopl) >> flags::kIoplShift) < 3) {
    return Raise(kGp, 0);
  }
  // The image has VM and RF clear.
  return c.Push(sizeof(T), c.s.rflags & ~(flags::kVm | flags::kRf));
}

template <typename T>
Fault Popf(Cpu& c, const Insn& i) {
  int iopl = static_cast<int>((c.s.rflags & flags::kIopl) >> flags::kIoplShift);
  if (c.s.v86_mode() && iopl < 3) return Raise(kGp, 0);
  uint64_t v;
  X86_TRY(c.PeekStack(sizeof(T), 0, v));
  uint64_t changeable = flags::kStatus | flags::kTf | flags::kDf | flags::kNt | flags::kAc |
                        flags::kId | flags::kIf | flags::kIopl;
  int cpl = c.s.cpl();
  if (c.s.protected_mode()) {
    if (c.s.v86_mode() || cpl > 0) changeable &= ~flags::kIopl;
    if (!c.s.v86_mode() && cpl > iopl) changeable &= ~flags::kIf;
  }
  if (sizeof(T) == 2) changeable &= 0xffff;
  uint64_t nf = (c.s.rflags & ~changeable) | (v & changeable);
  nf &= ~flags::kRf;
  c.AdjustRsp(sizeof(T));
  c.SetRflags(nf);
  return kOk;
}

template <typename T>
Fault Enter(Cpu& c, const Insn& i) {
  uint16_t size = static_cast<uint16_t>(i.imm);
  unsigned level = i.imm2 & 31;
  uint64_t saved_rsp = c.s.gpr[kRsp], saved_rbp = c.s.gpr[kRbp];
  auto fail = [&](Fault f) {
    c.s.gpr[kRsp] = saved_rsp;
    c.s.gpr[kRbp] = saved_rbp;
    return f;
  };
  unsigned as = c.StackAddrSize();
  Fault f = c.Push(sizeof(T), c.Gpr<T>(kRbp));
  if (f.faulted()) return fail(f);
  uint64_t frame = c.s.gpr[kRsp] & Cpu::AddrMask(as);
  if (level > 0) {
    uint64_t bp = c.s.gpr[kRbp];
    for (unsigned k = 1; k < level; ++k) {
      bp = (bp - sizeof(T)) & Cpu::AddrMask(as);
      T v;
      f = c.Read<T>(kSs, bp, v);
      if (f.ok()) f = c.Push(sizeof(T), v);
      if (f.faulted()) return fail(f);
    }
    f = c.Push(sizeof(T), frame);
    if (f.faulted()) return fail(f);
  }
  // The final frame must be writable (SDM: #SS if the new rSP is out of limit).
  uint64_t new_rsp = (c.s.gpr[kRsp] - size) & Cpu::AddrMask(as);
  if (size) {
    f = c.ProbeWrite(kSs, new_rsp, 1);
    if (f.faulted()) return fail(f);
  }
  c.SetGpr<T>(kRbp, static_cast<T>(frame));
  c.AdjustRsp(-static_cast<int64_t>(size));
  return kOk;
}

template <typename T>
Fault Leave(Cpu& c, const Insn& i) {
  unsigned as = c.StackAddrSize();
  uint64_t bp = c.s.gpr[kRbp] & Cpu::AddrMask(as);
  T v;
  X86_TRY(c.Read<T>(kSs, bp, v));
  uint64_t rsp = bp + sizeof(T);
  if (as == 2) c.SetGpr<uint16_t>(kRsp, static_cast<uint16_t>(rsp));
  else if (as == 4) c.SetGpr<uint32_t>(kRsp, static_cast<uint32_t>(rsp));
  else c.s.gpr[kRsp] = rsp;
  c.SetGpr<T>(kRbp, v);
  return kOk;
}

// LDS/LES/LFS/LGS/LSS Gv, Mp: offset then selector.
template <int seg, typename T>
Fault LoadFarPointer(Cpu& c, const Insn& i) {
  uint64_t ea = c.Ea(i);
  T off;
  uint16_t sel;
  X86_TRY(c.Read<T>(i.seg, ea, off));
  X86_TRY(c.Read<uint16_t>(i.seg, (ea + sizeof(T)) & Cpu::AddrMask(i.addrsize), sel));
  X86_TRY(c.LoadSegment(seg, sel));
  c.SetGpr<T>(i.reg, off);
  if (seg == kSs) c.SetInterruptShadow(true);
  return kOk;
}

template <typename T>
Fault Bound(Cpu& c, const Insn& i) {
  using S = std::make_signed_t<T>;
  uint64_t ea = c.Ea(i);
  T lo, hi;
  X86_TRY(c.Read<T>(i.seg, ea, lo));
  X86_TRY(c.Read<T>(i.seg, (ea + sizeof(T)) & Cpu::AddrMask(i.addrsize), hi));
  S idx = static_cast<S>(c.Gpr<T>(i.reg));
  if (idx < static_cast<S>(lo) || idx > static_cast<S>(hi)) return Raise(kBr);
  return kOk;
}

// MOV Ev, Sreg: a register destination gets the zero-extended selector.
template <typename T>
Fault MovEvSw(Cpu& c, const Insn& i) {
  int sr = Digit(i);
  if (sr > kGs) return Raise(kUd);
  uint16_t sel = c.s.seg[sr].selector;
  if (i.is_mem()) return c.Write<uint16_t>(i.seg, c.Ea(i), sel);
  c.SetGpr<T>(i.rm, static_cast<T>(sel));
  return kOk;
}

}  // namespace

X86_DEFINE_B(MovEbGb, MovEG)
X86_DEFINE_V(MovEvGv, MovEG)
X86_DEFINE_B(MovGbEb, MovGE)
X86_DEFINE_V(MovGvEv, MovGE)
X86_DEFINE_B(MovEbIb, MovEImm)
X86_DEFINE_V(MovEvIz, MovEImm)
X86_DEFINE_B(MovZbIb, MovZImm)
X86_DEFINE_V(MovZvIv, MovZImm)
X86_DEFINE_B(MovALOb, MovAccMoffs)
X86_DEFINE_V(MovrAXOv, MovAccMoffs)
X86_DEFINE_B(MovObAL, MovMoffsAcc)
X86_DEFINE_V(MovOvrAX, MovMoffsAcc)
X86_DEFINE_V(MovzxGvEb, MovExtend, uint8_t, false)
X86_DEFINE_V(MovzxGvEw, MovExtend, uint16_t, false)
X86_DEFINE_V(MovsxGvEb, MovExtend, uint8_t, true)
X86_DEFINE_V(MovsxGvEw, MovExtend, uint16_t, true)
X86_DEFINE_V(MovsxdGvEd, MovExtend, uint32_t, true)
X86_DEFINE_V(LeaGvM, Lea)
X86_DEFINE_B(XchgEbGb, XchgEG)
X86_DEFINE_V(XchgEvGv, XchgEG)
X86_DEFINE_V(XchgZvrAX, XchgZ)
X86_DEFINE_V(MovbeGvMv, MovbeLoad)
X86_DEFINE_V(MovbeMvGv, MovbeStore)
X86_DEFINE_V(PushZv, PushZ)
X86_DEFINE_V(PopZv, PopZ)
X86_DEFINE_V(PushIz, PushImm)
X86_DEFINE_V(PushIb, PushImm)
X86_DEFINE_V(PushEv, PushE)
X86_DEFINE_V(PopEv, PopE)
X86_DEFINE_V(PushES, PushSeg, kEs)
X86_DEFINE_V(PushCS, PushSeg, kCs)
X86_DEFINE_V(PushSS, PushSeg, kSs)
X86_DEFINE_V(PushDS, PushSeg, kDs)
X86_DEFINE_V(PushFS, PushSeg, kFs)
X86_DEFINE_V(PushGS, PushSeg, kGs)
X86_DEFINE_V(PopES, PopSeg, kEs)
X86_DEFINE_V(PopSS, PopSeg, kSs)
X86_DEFINE_V(PopDS, PopSeg, kDs)
X86_DEFINE_V(PopFS, PopSeg, kFs)
X86_DEFINE_V(PopGS, PopSeg, kGs)
X86_DEFINE_V(PushaPushad, Pusha)
X86_DEFINE_V(PopaPopad, Popa)
X86_DEFINE_V(PushfFv, Pushf)
X86_DEFINE_V(PopfFv, Popf)
X86_DEFINE_V(EnterIwIb, Enter)
X86_DEFINE_V(Leave, Leave)
X86_DEFINE_V(LesGzMp, LoadFarPointer, kEs)
X86_DEFINE_V(LdsGzMp, LoadFarPointer, kDs)
X86_DEFINE_V(LssGvMp, LoadFarPointer, kSs)
X86_DEFINE_V(LfsGvMp, LoadFarPointer, kFs)
X86_DEFINE_V(LgsGvMp, LoadFarPointer, kGs)
X86_DEFINE_V(BoundGvMa, Bound)
X86_DEFINE_V(MovEvSw, MovEvSw)

#define X86_CC_HANDLERS(cc) \
  X86_DEFINE_V(Cmov##cc, Cmov, cc) \
  Fault Set##cc(Cpu& c, const Insn& i) { return Setcc<cc>(c, i); }
X86_CC_HANDLERS(0) X86_CC_HANDLERS(1) X86_CC_HANDLERS(2) X86_CC_HANDLERS(3)
X86_CC_HANDLERS(4) X86_CC_HANDLERS(5) X86_CC_HANDLERS(6) X86_CC_HANDLERS(7)
X86_CC_HANDLERS(8) X86_CC_HANDLERS(9) X86_CC_HANDLERS(10) X86_CC_HANDLERS(11)
X86_CC_HANDLERS(12) X86_CC_HANDLERS(13) X86_CC_HANDLERS(14) X86_CC_HANDLERS(15)

// MOV Sreg, Ew: MOV to CS is #UD; MOV SS starts an interrupt shadow.
Fault MovSwEw(Cpu& c, const Insn& i) {
  int sr = Digit(i);
  if (sr == kCs || sr > kGs) return Raise(kUd);
  uint16_t sel;
  X86_TRY(c.ReadE<uint16_t>(i, sel));
  X86_TRY(c.LoadSegment(sr, sel));
  if (sr == kSs) c.SetInterruptShadow(true);
  return kOk;
}

Fault Xlat(Cpu& c, const Insn& i) {
  uint64_t ea = (c.s.gpr[kRbx] + c.Gpr<uint8_t>(kRax)) & Cpu::AddrMask(i.addrsize);
  uint8_t v;
  X86_TRY(c.Read<uint8_t>(i.seg, ea, v));
  c.SetGpr<uint8_t>(kRax, v);
  return kOk;
}

Fault Nop(Cpu&, const Insn&) { return kOk; }

}  // namespace x86vm
