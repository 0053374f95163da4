// Integer arithmetic and logic handlers (SDM Vol. 2: ADD ... XOR, INC, DEC,
// NEG, NOT, MUL, IMUL, DIV, IDIV, shifts and rotates, SHLD/SHRD, BT*, BSF,
// BSR, TZCNT, LZCNT, POPCNT, BSWAP, BCD adjust, CBW/CWD family, flag ops).
#include <bit>

#include "cpu/exec_common.h"

namespace x86vm {
namespace {

using alu::AluOp;
using alu::ShiftOp;

// Group 1 and the classic two-operand forms. CMP never writes back.
template <AluOp op, typename T>
Fault AluEG(Cpu& c, const Insn& i) {
  T a, b = c.RegOp<T>(i, i.reg);
  if constexpr (op == AluOp::kCmp) {
    X86_TRY(c.ReadE<T>(i, a));
  } else {
    X86_TRY(ReadModifyE<T>(c, i, a));
  }
  uint64_t fl = c.s.rflags;
  T r = alu::Alu<T>(op, a, b, fl);
  if constexpr (op != AluOp::kCmp) X86_TRY(c.WriteE<T>(i, r));
  c.s.rflags = fl;
  return kOk;
}

template <AluOp op, typename T>
Fault AluGE(Cpu& c, const Insn& i) {
  T a = c.RegOp<T>(i, i.reg), b;
  X86_TRY(c.ReadE<T>(i, b));
  uint64_t fl = c.s.rflags;
  T r = alu::Alu<T>(op, a, b, fl);
  if constexpr (op != AluOp::kCmp) c.SetRegOp<T>(i, i.reg, r);
  c.s.rflags = fl;
  return kOk;
}

template <AluOp op, typename T>
Fault AluAccImm(Cpu& c, const Insn& i) {
  T a = c.Gpr<T>(kRax);
  uint64_t fl = c.s.rflags;
  T r = alu::Alu<T>(op, a, ImmAs<T>(i.imm), fl);
  if constexpr (op != AluOp::kCmp) c.SetGpr<T>(kRax, r);
  c.s.rflags = fl;
  return kOk;
}

// 80/81/83 /digit: the operation comes from ModRM.reg.
template <typename T>
Fault AluEImm(Cpu& c, const Insn& i) {
  auto op = static_cast<AluOp>(Digit(i));
  T a;
  X86_TRY(op == AluOp::kCmp ? c.ReadE<T>(i, a) : ReadModifyE<T>(c, i, a));
  uint64_t fl = c.s.rflags;
  T r = alu::Alu<T>(op, a, ImmAs<T>(i.imm), fl);
  if (op != AluOp::kCmp) X86_TRY(c.WriteE<T>(i, r));
  c.s.rflags = fl;
  return kOk;
}

template <typename T>
Fault TestEG(Cpu& c, const Insn& i) {
  T a;
  X86_TRY(c.ReadE<T>(i, a));
  alu::Logic<T>(static_cast<T>(a & c.RegOp<T>(i, i.reg)), c.s.rflags);
  return kOk;
}

template <typename T>
Fault TestEImm(Cpu& c, const Insn& i) {
  T a;
  X86_TRY(c.ReadE<T>(i, a));
  alu::Logic<T>(static_cast<T>(a & ImmAs<T>(i.imm)), c.s.rflags);
  return kOk;
}

template <typename T>
Fault TestAccImm(Cpu& c, const Insn& i) {
  alu::Logic<T>(static_cast<T>(c.Gpr<T>(kRax) & ImmAs<T>(i.imm)), c.s.rflags);
  return kOk;
}

template <typename T>
Fault IncE(Cpu& c, const Insn& i) {
  T a;
  X86_TRY(ReadModifyE<T>(c, i, a));
  uint64_t fl = c.s.rflags;
  T r = alu::Inc<T>(a, fl);
  X86_TRY(c.WriteE<T>(i, r));
  c.s.rflags = fl;
  return kOk;
}

template <typename T>
Fault DecE(Cpu& c, const Insn& i) {
  T a;
  X86_TRY(ReadModifyE<T>(c, i, a));
  uint64_t fl = c.s.rflags;
  T r = alu::Dec<T>(a, fl);
  X86_TRY(c.WriteE<T>(i, r));
  c.s.rflags = fl;
  return kOk;
}

template <typename T>
Fault IncZ(Cpu& c, const Insn& i) {
  c.SetGpr<T>(i.reg, alu::Inc<T>(c.Gpr<T>(i.reg), c.s.rflags));
  return kOk;
}

template <typename T>
Fault DecZ(Cpu& c, const Insn& i) {
  c.SetGpr<T>(i.reg, alu::Dec<T>(c.Gpr<T>(i.reg), c.s.rflags));
  return kOk;
}

template <typename T>
Fault NotE(Cpu& c, const Insn& i) {
  T a;
  X86_TRY(ReadModifyE<T>(c, i, a));
  return c.WriteE<T>(i, static_cast<T>(~a));
}

template <typename T>
Fault NegE(Cpu& c, const Insn& i) {
  T a;
  X86_TRY(ReadModifyE<T>(c, i, a));
  uint64_t fl = c.s.rflags;
  T r = alu::Neg<T>(a, fl);
  X86_TRY(c.WriteE<T>(i, r));
  c.s.rflags = fl;
  return kOk;
}

// MUL/IMUL one-operand forms: AL*src -> AX, rAX*src -> rDX:rAX.
template <bool is_signed, typename T>
Fault MulE(Cpu& c, const Insn& i) {
  T src;
  X86_TRY(c.ReadE<T>(i, src));
  T a = c.Gpr<T>(kRax);
  auto w = is_signed ? alu::Imul<T>(a, src, c.s.rflags) : alu::Mul<T>(a, src, c.s.rflags);
  if constexpr (sizeof(T) == 1) {
    c.SetGpr<uint16_t>(kRax, static_cast<uint16_t>(w.lo | (uint16_t{w.hi} << 8)));
  } else {
    c.SetGpr<T>(kRax, w.lo);
    c.SetGpr<T>(kRdx, w.hi);
  }
  return kOk;
}

// DIV/IDIV: #DE on a zero divisor or an overflowing quotient.
template <bool is_signed, typename T>
Fault DivE(Cpu& c, const Insn& i) {
  T d;
  X86_TRY(c.ReadE<T>(i, d));
  T hi, lo;
  if constexpr (sizeof(T) == 1) {
    lo = static_cast<T>(c.Gpr<uint16_t>(kRax));
    hi = static_cast<T>(c.Gpr<uint16_t>(kRax) >> 8);
  } else {
    lo = c.Gpr<T>(kRax);
    hi = c.Gpr<T>(kRdx);
  }
  auto r = is_signed ? alu::Idiv<T>(hi, lo, d) : alu::Div<T>(hi, lo, d);
  if (!r.ok) return Raise(kDe);
  if constexpr (sizeof(T) == 1) {
    c.SetGpr<uint16_t>(kRax, static_cast<uint16_t>(r.quotient | (uint16_t{r.remainder} << 8)));
  } else {
    c.SetGpr<T>(kRax, r.quotient);
    c.SetGpr<T>(kRdx, r.remainder);
  }
  return kOk;
}

// IMUL Gv,Ev / Gv,Ev,Iz / Gv,Ev,Ib: truncated signed product.
template <int form, typename T>
Fault ImulG(Cpu& c, const Insn& i) {
  T b;
  X86_TRY(c.ReadE<T>(i, b));
  T a = form == 0 ? c.Gpr<T>(i.reg) : ImmAs<T>(i.imm);
  auto w = alu::Imul<T>(a, b, c.s.rflags);
  c.SetGpr<T>(i.reg, w.lo);
  return kOk;
}

// Group 2: the count source is 1, CL or Ib.
enum CountSrc { kOne, kCl, kImm };

template <CountSrc src, typename T>
Fault ShiftE(Cpu& c, const Insn& i) {
  auto op = static_cast<ShiftOp>(Digit(i));
  unsigned count = src == kOne ? 1 : src == kCl ? c.Gpr<uint8_t>(kRcx) : static_cast<uint8_t>(i.imm);
  T a;
  X86_TRY(ReadModifyE<T>(c, i, a));
  uint64_t fl = c.s.rflags;
  T r = alu::Shift<T>(op, a, count, fl);
  X86_TRY(c.WriteE<T>(i, r));
  c.s.rflags = fl;
  return kOk;
}

template <bool left, CountSrc src, typename T>
Fault ShxdE(Cpu& c, const Insn& i) {
  unsigned count = src == kCl ? c.Gpr<uint8_t>(kRcx) : static_cast<uint8_t>(i.imm);
  T a;
  X86_TRY(ReadModifyE<T>(c, i, a));
  T b = c.Gpr<T>(i.reg);
  uint64_t fl = c.s.rflags;
  T r = left ? alu::Shld<T>(a, b, count, fl) : alu::Shrd<T>(a, b, count, fl);
  X86_TRY(c.WriteE<T>(i, r));
  c.s.rflags = fl;
  return kOk;
}

// BT/BTS/BTR/BTC (SDM Vol. 2 "BT"): op 0 test, 1 set, 2 reset, 3 complement.
// With a register bit offset and a memory operand, the offset is signed and
// selects a different operand-sized word.
template <int op, bool imm_form, typename T>
Fault BitTest(Cpu& c, const Insn& i) {
  constexpr int kBits = alu::kBits<T>;
  T value;
  uint64_t ea = 0;
  unsigned bit;
  if (imm_form) {
    bit = static_cast<unsigned>(i.imm) & (kBits - 1);
    if (i.is_mem()) ea = c.Ea(i);
  } else {
    uint64_t off = c.Gpr<T>(i.reg);
    bit = static_cast<unsigned>(off) & (kBits - 1);
    if (i.is_mem()) {
      using S = std::make_signed_t<T>;
      int64_t word = static_cast<int64_t>(static_cast<S>(off)) >> std::countr_zero(unsigned(kBits));
      ea = (c.Ea(i) + static_cast<uint64_t>(word * static_cast<int64_t>(sizeof(T)))) &
           Cpu::AddrMask(i.addrsize);
    }
  }
  if (i.is_mem()) {
    if (op != 0) X86_TRY(c.ProbeWrite(i.seg, ea, sizeof(T)));  // Read with write intent (ReadModifyE).
    X86_TRY(c.Read<T>(i.seg, ea, value));
  } else {
    value = c.Gpr<T>(i.rm);
  }
  bool old = (value >> bit) & 1;
  T mask = static_cast<T>(T{1} << bit);
  T r = value;
  if (op == 1) r = static_cast<T>(value | mask);
  if (op == 2) r = static_cast<T>(value & ~mask);
  if (op == 3) r = static_cast<T>(value ^ mask);
  if (op != 0) {
    if (i.is_mem()) X86_TRY(c.Write<T>(i.seg, ea, r));
    else c.SetGpr<T>(i.rm, r);
  }
  c.s.rflags = alu::SetFlag(c.s.rflags, flags::kCf, old);
  return kOk;
}

// Group 8 (0F BA /4-/7) picks the operation from ModRM.reg.
template <typename T>
Fault BitTestImm(Cpu& c, const Insn& i) {
  switch (Digit(i)) {
    case 4: return BitTest<0, true, T>(c, i);
    case 5: return BitTest<1, true, T>(c, i);
    case 6: return BitTest<2, true, T>(c, i);
    default: return BitTest<3, true, T>(c, i);
  }
}

// BSF/BSR: ZF = (source == 0) and the destination is left unchanged then
// (Intel behaviour; the SDM calls it undefined). Other flags follow the
// result as Intel hardware reports them: CF, OF, SF, AF, PF cleared.
template <bool reverse, typename T>
Fault BitScan(Cpu& c, const Insn& i) {
  T src;
  X86_TRY(c.ReadE<T>(i, src));
  uint64_t fl = c.s.rflags & ~flags::kStatus;
  if (src == 0) {
    fl |= flags::kZf;
  } else {
    int idx = reverse ? alu::kBits<T> - 1 - std::countl_zero(src) : std::countr_zero(src);
    c.SetGpr<T>(i.reg, static_cast<T>(idx));
  }
  c.s.rflags = fl;
  return kOk;
}

// TZCNT/LZCNT: CF = (source == 0), ZF = (result == 0) (SDM Vol. 2 "TZCNT").
template <bool leading, typename T>
Fault CountZeros(Cpu& c, const Insn& i) {
  T src;
  X86_TRY(c.ReadE<T>(i, src));
  T r = static_cast<T>(leading ? std::countl_zero(src) : std::countr_zero(src));
  uint64_t fl = c.s.rflags & ~flags::kStatus;
  if (src == 0) fl |= flags::kCf;
  if (r == 0) fl |= flags::kZf;
  c.s.rflags = fl;
  c.SetGpr<T>(i.reg, r);
  return kOk;
}

template <typename T>
Fault Popcnt(Cpu& c, const Insn& i) {
  T src;
  X86_TRY(c.ReadE<T>(i, src));
  uint64_t fl = c.s.rflags & ~flags::kStatus;
  if (src == 0) fl |= flags::kZf;
  c.s.rflags = fl;
  c.SetGpr<T>(i.reg, static_cast<T>(std::popcount(src)));
  return kOk;
}

template <typename T>
Fault Bswap(Cpu& c, const Insn& i) {
  if constexpr (sizeof(T) == 2) {
    // 16-bit BSWAP is undefined; Intel hardware zeroes the register's low word.
    c.SetGpr<uint16_t>(i.reg, 0);
  } else {
    c.SetGpr<T>(i.reg, std::byteswap(c.Gpr<T>(i.reg)));
  }
  return kOk;
}

// CBW/CWDE/CDQE.
template <typename T>
Fault Cbw(Cpu& c, const Insn&) {
  using H = UInt<sizeof(T) / 2>;
  using SH = std::make_signed_t<H>;
  using S = std::make_signed_t<T>;
  c.SetGpr<T>(kRax, static_cast<T>(static_cast<S>(static_cast<SH>(c.Gpr<H>(kRax)))));
  return kOk;
}

// CWD/CDQ/CQO.
template <typename T>
Fault Cwd(Cpu& c, const Insn&) {
  using S = std::make_signed_t<T>;
  c.SetGpr<T>(kRdx, static_cast<S>(c.Gpr<T>(kRax)) < 0 ? static_cast<T>(~T{0}) : T{0});
  return kOk;
}

template <typename T>
Fault Xadd(Cpu& c, const Insn& i) {
  T dst;
  X86_TRY(ReadModifyE<T>(c, i, dst));
  T src = c.RegOp<T>(i, i.reg);
  uint64_t fl = c.s.rflags;
  T sum = alu::Add<T>(dst, src, false, fl);
  if (i.mod == 3) {
    // SDM Vol. 2 "XADD": SRC := DEST, then DEST := TEMP, so with one
    // register as both operands the sum is what remains.
    c.SetRegOp<T>(i, i.reg, dst);
    c.SetRegOp<T>(i, i.rm, sum);
  } else {
    X86_TRY(c.WriteE<T>(i, sum));
    c.SetRegOp<T>(i, i.reg, dst);
  }
  c.s.rflags = fl;
  return kOk;
}

// CMPXCHG: the destination is always written (SDM Vol. 2 "CMPXCHG": the
// processor writes back the old value on failure).
template <typename T>
Fault Cmpxchg(Cpu& c, const Insn& i) {
  T dst;
  X86_TRY(ReadModifyE<T>(c, i, dst));
  T acc = c.RegOp<T>(i, kRax);
  uint64_t fl = c.s.rflags;
  alu::Sub<T>(acc, dst, false, fl);
  if (acc == dst) {
    X86_TRY(c.WriteE<T>(i, c.RegOp<T>(i, i.reg)));
  } else {
    if (i.is_mem()) X86_TRY(c.WriteE<T>(i, dst));
    if constexpr (sizeof(T) == 1) c.SetGpr<uint8_t>(kRax, dst);
    else c.SetGpr<T>(kRax, dst);
  }
  c.s.rflags = fl;
  return kOk;
}

}  // namespace

// ---- Exported handlers --------------------------------------------------------

#define X86_ALU_HANDLERS(Name, op)                  \
  X86_DEFINE_B(Name##EbGb, AluEG, AluOp::op)        \
  X86_DEFINE_V(Name##EvGv, AluEG, AluOp::op)        \
  X86_DEFINE_B(Name##GbEb, AluGE, AluOp::op)        \
  X86_DEFINE_V(Name##GvEv, AluGE, AluOp::op)        \
  X86_DEFINE_B(Name##ALIb, AluAccImm, AluOp::op)    \
  X86_DEFINE_V(Name##rAXIz, AluAccImm, AluOp::op)

X86_ALU_HANDLERS(Add, kAdd)
X86_ALU_HANDLERS(Or, kOr)
X86_ALU_HANDLERS(Adc, kAdc)
X86_ALU_HANDLERS(Sbb, kSbb)
X86_ALU_HANDLERS(And, kAnd)
X86_ALU_HANDLERS(Sub, kSub)
X86_ALU_HANDLERS(Xor, kXor)
X86_ALU_HANDLERS(Cmp, kCmp)

X86_DEFINE_B(Grp1EbIb, AluEImm)
X86_DEFINE_V(Grp1EvIz, AluEImm)
X86_DEFINE_V(Grp1EvIb, AluEImm)
X86_DEFINE_B(TestEbGb, TestEG)
X86_DEFINE_V(TestEvGv, TestEG)
X86_DEFINE_B(TestEbIb, TestEImm)
X86_DEFINE_V(TestEvIz, TestEImm)
X86_DEFINE_B(TestALIb, TestAccImm)
X86_DEFINE_V(TestrAXIz, TestAccImm)
X86_DEFINE_B(IncEb, IncE)
X86_DEFINE_V(IncEv, IncE)
X86_DEFINE_B(DecEb, DecE)
X86_DEFINE_V(DecEv, DecE)
X86_DEFINE_V(IncZv, IncZ)
X86_DEFINE_V(DecZv, DecZ)
X86_DEFINE_B(NotEb, NotE)
X86_DEFINE_V(NotEv, NotE)
X86_DEFINE_B(NegEb, NegE)
X86_DEFINE_V(NegEv, NegE)
X86_DEFINE_B(MulEb, MulE, false)
X86_DEFINE_V(MulEv, MulE, false)
X86_DEFINE_B(ImulEb, MulE, true)
X86_DEFINE_V(ImulEv, MulE, true)
X86_DEFINE_B(DivEb, DivE, false)
X86_DEFINE_V(DivEv, DivE, false)
X86_DEFINE_B(IdivEb, DivE, true)
X86_DEFINE_V(IdivEv, DivE, true)
X86_DEFINE_V(ImulGvEv, ImulG, 0)
X86_DEFINE_V(ImulGvEvIz, ImulG, 1)
X86_DEFINE_V(ImulGvEvIb, ImulG, 2)
X86_DEFINE_B(Grp2Eb1, ShiftE, kOne)
X86_DEFINE_V(Grp2Ev1, ShiftE, kOne)
X86_DEFINE_B(Grp2EbCL, ShiftE, kCl)
X86_DEFINE_V(Grp2EvCL, ShiftE, kCl)
X86_DEFINE_B(Grp2EbIb, ShiftE, kImm)
X86_DEFINE_V(Grp2EvIb, ShiftE, kImm)
X86_DEFINE_V(ShldEvGvIb, ShxdE, true, kImm)
X86_DEFINE_V(ShldEvGvCL, ShxdE, true, kCl)
X86_DEFINE_V(ShrdEvGvIb, ShxdE, false, kImm)
X86_DEFINE_V(ShrdEvGvCL, ShxdE, false, kCl)
X86_DEFINE_V(BtEvGv, BitTest, 0, false)
X86_DEFINE_V(BtsEvGv, BitTest, 1, false)
X86_DEFINE_V(BtrEvGv, BitTest, 2, false)
X86_DEFINE_V(BtcEvGv, BitTest, 3, false)
X86_DEFINE_V(Grp8EvIb, BitTestImm)
X86_DEFINE_V(BsfGvEv, BitScan, false)
X86_DEFINE_V(BsrGvEv, BitScan, true)
X86_DEFINE_V(TzcntGvEv, CountZeros, false)
X86_DEFINE_V(LzcntGvEv, CountZeros, true)
X86_DEFINE_V(PopcntGvEv, Popcnt)
X86_DEFINE_V(BswapZv, Bswap)
X86_DEFINE_V(CbwCwdeCdqe, Cbw)
X86_DEFINE_V(CwdCdqCqo, Cwd)
X86_DEFINE_B(XaddEbGb, Xadd)
X86_DEFINE_V(XaddEvGv, Xadd)
X86_DEFINE_B(CmpxchgEbGb, Cmpxchg)
X86_DEFINE_V(CmpxchgEvGv, Cmpxchg)

// CMPXCHG8B / CMPXCHG16B (REX.W): compare rDX:rAX with m64/m128.
Fault Cmpxchg8b16b(Cpu& c, const Insn& i) {
  uint64_t ea = c.Ea(i);
  if (i.has(insn_flags::kRexW)) {
    // CMPXCHG16B needs a 16-byte aligned operand (#GP(0)).
    if (ea & 15) return Raise(kGp, 0);
    uint64_t m[2];
    X86_TRY(c.ReadBytes(i.seg, ea, m, 16));
    bool eq = m[0] == c.s.gpr[kRax] && m[1] == c.s.gpr[kRdx];
    if (eq) {
      uint64_t n[2] = {c.s.gpr[kRbx], c.s.gpr[kRcx]};
      X86_TRY(c.WriteBytes(i.seg, ea, n, 16));
    } else {
      X86_TRY(c.WriteBytes(i.seg, ea, m, 16));
      c.s.gpr[kRax] = m[0];
      c.s.gpr[kRdx] = m[1];
    }
    c.s.rflags = alu::SetFlag(c.s.rflags, flags::kZf, eq);
    return kOk;
  }
  uint64_t m;
  X86_TRY(c.Read<uint64_t>(i.seg, ea, m));
  uint64_t cmp = (c.s.gpr[kRdx] << 32) | (c.s.gpr[kRax] & 0xffffffffull);
  bool eq = m == (cmp & ~0ull) && (m >> 32) == (c.s.gpr[kRdx] & 0xffffffffull) &&
            static_cast<uint32_t>(m) == static_cast<uint32_t>(c.s.gpr[kRax]);
  if (eq) {
    uint64_t n = (c.s.gpr[kRcx] << 32) | (c.s.gpr[kRbx] & 0xffffffffull);
    X86_TRY(c.Write<uint64_t>(i.seg, ea, n));
  } else {
    X86_TRY(c.Write<uint64_t>(i.seg, ea, m));
    c.SetGpr<uint32_t>(kRax, static_cast<uint32_t>(m));
    c.SetGpr<uint32_t>(kRdx, static_cast<uint32_t>(m >> 32));
  }
  c.s.rflags = alu::SetFlag(c.s.rflags, flags::kZf, eq);
  return kOk;
}

// ---- BCD (SDM Vol. 2 "DAA", "DAS", "AAA", "AAS", "AAM", "AAD") ----------------

Fault Daa(Cpu& c, const Insn&) {
  uint8_t al = c.Gpr<uint8_t>(kRax), old_al = al;
  uint64_t fl = c.s.rflags;
  bool old_cf = fl & flags::kCf, cf = false, af = false;
  if ((al & 0xf) > 9 || (fl & flags::kAf)) {
    cf = old_cf || al > 0xf9;
    al = static_cast<uint8_t>(al + 6);
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    al = static_cast<uint8_t>(al + 0x60);
    cf = true;
  }
  c.SetGpr<uint8_t>(kRax, al);
  fl = alu::SetSzp<uint8_t>(fl, al);
  fl = alu::SetFlag(fl, flags::kCf, cf);
  fl = alu::SetFlag(fl, flags::kAf, af);
  fl &= ~flags::kOf;  // Undefined; cleared.
  c.s.rflags = fl;
  return kOk;
}

Fault Das(Cpu& c, const Insn&) {
  uint8_t al = c.Gpr<uint8_t>(kRax), old_al = al;
  uint64_t fl = c.s.rflags;
  bool old_cf = fl & flags::kCf, cf = false, af = false;
  if ((al & 0xf) > 9 || (fl & flags::kAf)) {
    cf = old_cf || al < 6;
    al = static_cast<uint8_t>(al - 6);
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    al = static_cast<uint8_t>(al - 0x60);
    cf = true;
  }
  c.SetGpr<uint8_t>(kRax, al);
  fl = alu::SetSzp<uint8_t>(fl, al);
  fl = alu::SetFlag(fl, flags::kCf, cf);
  fl = alu::SetFlag(fl, flags::kAf, af);
  fl &= ~flags::kOf;
  c.s.rflags = fl;
  return kOk;
}

Fault Aaa(Cpu& c, const Insn&) {
  uint16_t ax = c.Gpr<uint16_t>(kRax);
  uint64_t fl = c.s.rflags;
  bool adjust = (ax & 0xf) > 9 || (fl & flags::kAf);
  if (adjust) ax = static_cast<uint16_t>(ax + 0x106);
  ax &= 0xff0f;
  c.SetGpr<uint16_t>(kRax, ax);
  fl = alu::SetFlag(fl, flags::kAf | flags::kCf, adjust);
  // SF, ZF, PF, OF are undefined; computed from AL as Intel does.
  fl = alu::SetSzp<uint8_t>(fl, static_cast<uint8_t>(ax));
  fl &= ~flags::kOf;
  c.s.rflags = fl;
  return kOk;
}

Fault Aas(Cpu& c, const Insn&) {
  uint16_t ax = c.Gpr<uint16_t>(kRax);
  uint64_t fl = c.s.rflags;
  bool adjust = (ax & 0xf) > 9 || (fl & flags::kAf);
  // SDM Vol. 2 "AAS": AX := AX - 6, then AH := AH - 1; the first step
  // borrows from AH when AL < 6 (as AAA's AX + 106H carries into it).
  if (adjust) ax = static_cast<uint16_t>(ax - 0x106);
  ax &= 0xff0f;
  c.SetGpr<uint16_t>(kRax, ax);
  fl = alu::SetFlag(fl, flags::kAf | flags::kCf, adjust);
  fl = alu::SetSzp<uint8_t>(fl, static_cast<uint8_t>(ax));
  fl &= ~flags::kOf;
  c.s.rflags = fl;
  return kOk;
}

Fault AamIb(Cpu& c, const Insn& i) {
  uint8_t base = static_cast<uint8_t>(i.imm);
  if (base == 0) return Raise(kDe);
  uint8_t al = c.Gpr<uint8_t>(kRax);
  uint8_t q = al / base, r = al % base;
  c.SetGpr<uint16_t>(kRax, static_cast<uint16_t>((q << 8) | r));
  uint64_t fl = c.s.rflags & ~flags::kStatus;
  c.s.rflags = alu::SetSzp<uint8_t>(fl, r);
  return kOk;
}

Fault AadIb(Cpu& c, const Insn& i) {
  uint8_t base = static_cast<uint8_t>(i.imm);
  uint16_t ax = c.Gpr<uint16_t>(kRax);
  uint8_t al = static_cast<uint8_t>((ax & 0xff) + (ax >> 8) * base);
  c.SetGpr<uint16_t>(kRax, al);
  uint64_t fl = c.s.rflags & ~flags::kStatus;
  c.s.rflags = alu::SetSzp<uint8_t>(fl, al);
  return kOk;
}

// ---- Flag instructions ------------------------------------------------------------

Fault Clc(Cpu& c, const Insn&) { c.s.rflags &= ~flags::kCf; return kOk; }
Fault Stc(Cpu& c, const Insn&) { c.s.rflags |= flags::kCf; return kOk; }
Fault Cmc(Cpu& c, const Insn&) { c.s.rflags ^= flags::kCf; return kOk; }
Fault Cld(Cpu& c, const Insn&) { c.s.rflags &= ~flags::kDf; return kOk; }
Fault Std(Cpu& c, const Insn&) { c.s.rflags |= flags::kDf; return kOk; }

Fault Lahf(Cpu& c, const Insn&) {
  uint64_t ah = (c.s.rflags & 0xff) | flags::kFixed1;
  c.s.gpr[kRax] = (c.s.gpr[kRax] & ~0xff00ull) | (ah << 8);
  return kOk;
}

Fault Sahf(Cpu& c, const Insn&) {
  constexpr uint64_t kMask = flags::kSf | flags::kZf | flags::kAf | flags::kPf | flags::kCf;
  uint8_t ah = static_cast<uint8_t>(c.s.gpr[kRax] >> 8);
  c.s.rflags = (c.s.rflags & ~kMask) | (ah & kMask);
  return kOk;
}

// SALC (D6, undocumented): AL = CF ? FF : 00.
Fault Salc(Cpu& c, const Insn&) {
  c.SetGpr<uint8_t>(kRax, (c.s.rflags & flags::kCf) ? 0xff : 0);
  return kOk;
}

}  // namespace x86vm
