// x87 FPU instructions (SDM Vol. 1 chapter 8, Vol. 2 F2XM1..FYL2XP1, opcode
// map Tables ): loads and stores of every format, arithmetic,
// comparisons, the constants, transcendentals, stack control, FCMOVcc and the
// control/status word instructions. The environment instructions (FLDENV,
// FSTENV, FSAVE, FRSTOR, FXSAVE, FXRSTOR) are in exec_x87_env.cc.
//
// The arithmetic is cpu/softfloat's; this file adds the register stack, tag
// and stack-fault handling, condition codes, the masked and unmasked
// exception responses and #NM/#MF.
#include <array>
#include <cstring>

#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/float80_convert.h"
#include "cpu/softfloat/float80_math.h"
#include "cpu/x87_exec.h"

namespace x86vm {

using softfloat::CompareResult;
using softfloat::DenormalSource;
using softfloat::Float80;
using softfloat::FpEnv;
using softfloat::kFloat80Indefinite;
namespace sw = x87::sw;

// ---- The frame -----------------------------------------------------------------

Fault X87Check(const Cpu& c, bool waiting) {
  X86_TRY(CheckX87(c));
  if (waiting && (c.s.x87.fsw & sw::kEs) && (c.s.cr0 & cr0::kNe)) return Raise(kMf);
  return kOk;
}

// IA32_MISC_ENABLE bit 2: FOP follows every non-control instruction.
constexpr uint64_t kMiscEnableFopCompatibility = 1u << 2;

void X87Op::NoteInstruction() {
  fop_ = static_cast<uint16_t>(((i_.opcode & 7) << 8) | i_.modrm);
  if (c_.s.msr.misc_enable & kMiscEnableFopCompatibility) s_.fop = fop_;
  s_.fip = c_.s.rip;
  s_.fcs = c_.s.seg[kCs].selector;
  if (i_.is_mem()) {
    s_.fdp = c_.Ea(i_);
    s_.fds = c_.s.seg[i_.seg].selector;
  }
}

bool X87Op::StackFault(bool overflow) {
  s_.fsw |= sw::kIe | sw::kSf;
  SetC1(overflow);
  bool masked = (s_.fcw & sw::kIe) != 0;
  if (!masked) SignalUnmasked();
  return masked;
}

void X87Op::Underflow(int dst, bool pop) {
  if (!StackFault(false)) return;
  st_.Write(dst, kFloat80Indefinite);
  if (pop) st_.Pop();
}

bool X87Op::PushOverflows() {
  if (st_.IsEmpty(-1)) return false;
  if (StackFault(true)) st_.Push(kFloat80Indefinite);
  return true;
}

bool X87Op::Deliver(const FpEnv& env, bool store) {
  uint16_t raised = env.flags & sw::kExceptions;
  uint16_t unmasked = raised & ~s_.fcw & sw::kExceptions;
  // An invalid operation or a division by zero stops the instruction before
  // any other exception can arise (SDM Vol. 1 8.5).
  if (raised & (sw::kIe | sw::kZe)) unmasked &= sw::kIe | sw::kZe;
  if (unmasked) SignalUnmasked();
  if (raised & (sw::kIe | sw::kZe)) {
    s_.fsw |= raised;
    return unmasked == 0;
  }
  if (raised & sw::kDe) {
    s_.fsw |= sw::kDe;
    // Unmasked #D: the operands are left alone (SDM Vol. 1 8.5.2).
    if (unmasked & sw::kDe) return false;
  }
  uint16_t before = s_.fsw;
  s_.fsw |= raised;
  if ((raised & sw::kPe) && env.rounded_up) s_.fsw |= sw::kC1;
  if (store && (unmasked & (sw::kOe | sw::kUe))) {
    // Unmasked overflow or underflow with a memory destination: nothing is
    // stored, PE is not reported, C1 is cleared (SDM Vol. 1 8.5.4, 8.5.5).
    ClearC1();
    if (!(before & sw::kPe)) s_.fsw &= static_cast<uint16_t>(~sw::kPe);
    return false;
  }
  return true;
}

namespace {

// ---- Memory operands -------------------------------------------------------------

// The memory formats of x87 operands (SDM Vol. 1 4.2.2, 4.2.1, 4.7).
enum class Mem : uint8_t { kF32, kF64, kF80, kI16, kI32, kI64, kBcd };

constexpr unsigned Bytes(Mem m) {
  switch (m) {
    case Mem::kF32:
    case Mem::kI32:
      return 4;
    case Mem::kF64:
    case Mem::kI64:
      return 8;
    case Mem::kI16:
      return 2;
    case Mem::kF80:
    case Mem::kBcd:
      return 10;
  }
  return 0;
}

// Raw operand bytes, little-endian.
struct Raw {
  std::array<uint8_t, 10> b{};
  template <typename T>
  T As() const {
    T v;
    std::memcpy(&v, b.data(), sizeof(T));
    return v;
  }
  Float80 AsF80() const {
    Float80 v;
    std::memcpy(&v.significand, &b[0], 8);
    std::memcpy(&v.sign_exponent, &b[8], 2);
    return v;
  }
};

template <Mem m>
Fault ReadOperand(Cpu& c, const Insn& i, Raw& raw) {
  return c.ReadBytes(i.seg, c.Ea(i), raw.b.data(), Bytes(m));
}

template <Mem m>
Fault WriteOperand(Cpu& c, const Insn& i, const Raw& raw) {
  return c.WriteBytes(i.seg, c.Ea(i), raw.b.data(), Bytes(m));
}

template <typename T>
Raw RawOf(T v) {
  Raw r;
  std::memcpy(r.b.data(), &v, sizeof(T));
  return r;
}

Raw RawOf(Float80 v) {
  Raw r;
  std::memcpy(&r.b[0], &v.significand, 8);
  std::memcpy(&r.b[8], &v.sign_exponent, 2);
  return r;
}

// A memory source of arithmetic or a comparison, widened without raising
// anything; a binary32/64 denormal is reported so the operation raises DE
// with its own priorities.
struct Source {
  Float80 value;
  bool denormal = false;
};

template <Mem m>
Source ArithmeticSource(const Raw& raw) {
  if constexpr (m == Mem::kF32) {
    auto op = softfloat::F80FromF32Operand(raw.As<uint32_t>());
    return {op.value, op.denormal};
  } else if constexpr (m == Mem::kF64) {
    auto op = softfloat::F80FromF64Operand(raw.As<uint64_t>());
    return {op.value, op.denormal};
  } else if constexpr (m == Mem::kI16) {
    return {softfloat::F80FromInt(raw.As<int16_t>())};
  } else {
    static_assert(m == Mem::kI32);
    return {softfloat::F80FromInt(raw.As<int32_t>())};
  }
}

// ---- Arithmetic --------------------------------------------------------------------

enum class Arith : uint8_t { kAdd, kMul, kSub, kSubr, kDiv, kDivr };

// dst op src, or src op dst for the reversed forms (SDM Vol. 2 FSUBR, FDIVR).
Float80 Compute(Arith op, Float80 dst, Source src, FpEnv& env) {
  DenormalSource second{false, src.denormal}, first{src.denormal, false};
  switch (op) {
    case Arith::kAdd:
      return softfloat::F80Add(dst, src.value, env, second);
    case Arith::kMul:
      return softfloat::F80Mul(dst, src.value, env, second);
    case Arith::kSub:
      return softfloat::F80Sub(dst, src.value, env, second);
    case Arith::kSubr:
      return softfloat::F80Sub(src.value, dst, env, first);
    case Arith::kDiv:
      return softfloat::F80Div(dst, src.value, env, second);
    case Arith::kDivr:
      return softfloat::F80Div(src.value, dst, env, first);
  }
  return dst;
}

// ST(dst) = ST(dst) op src, then an optional pop.
void Arithmetic(X87Op& x, Arith op, int dst, Source src, bool src_empty, bool pop) {
  x.ClearC1();
  if (x.st().IsEmpty(dst) || src_empty) {
    x.Underflow(dst, pop);
    return;
  }
  FpEnv env = x.Env();
  Float80 r = Compute(op, x.st().St(dst), src, env);
  if (x.Deliver(env)) {
    x.st().Write(dst, r);
    if (pop) x.st().Pop();
  }
}

// FADD m32fp, FIADD m16int, ...: ST(0) = ST(0) op memory.
template <Arith op, Mem m>
Fault ArithMem(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  Raw raw;
  X86_TRY(ReadOperand<m>(c, i, raw));
  X87Op x(c, i);
  x.NoteInstruction();
  Arithmetic(x, op, 0, ArithmeticSource<m>(raw), false, false);
  x.Commit();
  return kOk;
}

// FADD ST(0), ST(i).
template <Arith op>
Fault ArithSt0Sti(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  int src = StIndex(i);
  Arithmetic(x, op, 0, {x.st().St(src)}, x.st().IsEmpty(src), false);
  x.Commit();
  return kOk;
}

// FADD ST(i), ST(0) and FADDP ST(i), ST(0).
template <Arith op, bool pop>
Fault ArithStiSt0(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  Arithmetic(x, op, StIndex(i), {x.st().St(0)}, x.st().IsEmpty(0), pop);
  x.Commit();
  return kOk;
}

// ---- Comparisons -------------------------------------------------------------------

// FCOM/FUCOM condition codes: C3 C2 C0 = 000 >, 001 <, 100 =, 111 unordered;
// C1 = 0 (SDM Vol. 2 FCOM Table 3-21).
void SetCompareCodes(X87Op& x, CompareResult r) {
  switch (r) {
    case CompareResult::kGreater:
      x.SetConditionCodes(false, false, false, false);
      break;
    case CompareResult::kLess:
      x.SetConditionCodes(false, false, false, true);
      break;
    case CompareResult::kEqual:
      x.SetConditionCodes(true, false, false, false);
      break;
    case CompareResult::kUnordered:
      x.SetConditionCodes(true, true, false, true);
      break;
  }
}

// FCOMI/FUCOMI: ZF PF CF as C3 C2 C0; OF, SF and AF cleared (SDM Vol. 2 FCOMI).
void SetCompareFlags(Cpu& c, CompareResult r) {
  uint64_t f =
      c.s.rflags & ~(flags::kZf | flags::kPf | flags::kCf | flags::kOf | flags::kSf | flags::kAf);
  switch (r) {
    case CompareResult::kGreater:
      break;
    case CompareResult::kLess:
      f |= flags::kCf;
      break;
    case CompareResult::kEqual:
      f |= flags::kZf;
      break;
    case CompareResult::kUnordered:
      f |= flags::kZf | flags::kPf | flags::kCf;
      break;
  }
  c.s.rflags = f;
}

// Compares ST(0) with `b` into C3 C2 C0 and pops `pops` times. The
// condition codes are set even when an unmasked exception stops the pops (an
// empty operand compares unordered), as Intel hardware does.
void Compare(X87Op& x, Source b, bool b_empty, bool quiet, int pops) {
  x.ClearC1();
  CompareResult r = CompareResult::kUnordered;
  bool complete;
  if (x.st().IsEmpty(0) || b_empty) {
    complete = x.StackFault(false);
  } else {
    FpEnv env = x.Env();
    r = softfloat::F80Compare(x.st().St(0), b.value, quiet, env, {false, b.denormal});
    complete = x.Deliver(env);
  }
  SetCompareCodes(x, r);
  if (complete) {
    for (int n = 0; n < pops; ++n) x.st().Pop();
  }
}

// FCOM m32fp, FICOMP m16int, ...
template <Mem m, int pops>
Fault CompareMem(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  Raw raw;
  X86_TRY(ReadOperand<m>(c, i, raw));
  X87Op x(c, i);
  x.NoteInstruction();
  Compare(x, ArithmeticSource<m>(raw), false, false, pops);
  x.Commit();
  return kOk;
}

// FCOM ST(i), FUCOMP ST(i), FCOMPP, FUCOMPP (those two compare with ST(1)).
template <bool quiet, int pops, int fixed_index = -1>
Fault CompareSti(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  int src = fixed_index >= 0 ? fixed_index : StIndex(i);
  Compare(x, {x.st().St(src)}, x.st().IsEmpty(src), quiet, pops);
  x.Commit();
  return kOk;
}

// FCOMI, FCOMIP, FUCOMI, FUCOMIP: the result goes to EFLAGS, as for Compare.
// C1 is left alone unless the stack underflows (measured on Intel hardware).
template <bool quiet, bool pop>
Fault CompareToFlags(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  int src = StIndex(i);
  CompareResult r = CompareResult::kUnordered;
  bool complete;
  if (x.st().IsEmpty(0) || x.st().IsEmpty(src)) {
    complete = x.StackFault(false);
  } else {
    FpEnv env = x.Env();
    r = softfloat::F80Compare(x.st().St(0), x.st().St(src), quiet, env);
    complete = x.Deliver(env);
  }
  SetCompareFlags(c, r);
  if (complete && pop) x.st().Pop();
  x.Commit();
  return kOk;
}

// ---- Loads ---------------------------------------------------------------------------

// FLD m32fp/m64fp/m80fp, FILD, FBLD: push the converted operand.
template <Mem m>
Fault LoadMem(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  Raw raw;
  X86_TRY(ReadOperand<m>(c, i, raw));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  if (!x.PushOverflows()) {
    FpEnv env = x.Env();
    Float80 v;
    if constexpr (m == Mem::kF32) {
      v = softfloat::F80FromF32(raw.As<uint32_t>(), env);
    } else if constexpr (m == Mem::kF64) {
      v = softfloat::F80FromF64(raw.As<uint64_t>(), env);
    } else if constexpr (m == Mem::kF80) {
      v = raw.AsF80();  // Loaded as is: no #IA even for an SNaN (SDM Vol. 2 FLD).
    } else if constexpr (m == Mem::kI16) {
      v = softfloat::F80FromInt(raw.As<int16_t>());
    } else if constexpr (m == Mem::kI32) {
      v = softfloat::F80FromInt(raw.As<int32_t>());
    } else if constexpr (m == Mem::kI64) {
      v = softfloat::F80FromInt(raw.As<int64_t>());
    } else {
      softfloat::PackedBcd bcd;
      std::memcpy(bcd.data(), raw.b.data(), 10);
      v = softfloat::F80FromBcd(bcd);
    }
    // An unmasked #D still loads the value (measured on Intel hardware);
    // an unmasked #IA (SNaN) does not.
    bool load = x.Deliver(env) || !(env.flags & softfloat::kFlagInvalid);
    if (load) x.st().Push(v);
  }
  x.Commit();
  return kOk;
}

// FLD ST(i): pushes a copy. An empty ST(i) is an underflow, checked before
// overflow, whose masked response pushes the indefinite QNaN even onto a
// full register (measured on Intel hardware).
Fault LoadSti(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  int src = StIndex(i);
  if (x.st().IsEmpty(src)) {
    if (x.StackFault(false)) x.st().Push(kFloat80Indefinite);
  } else if (!x.PushOverflows()) {
    x.st().Push(x.st().St(src));
  }
  x.Commit();
  return kOk;
}

// FLD1, FLDZ (exact) and FLDPI & co. (the 66-bit constant rounded with RC;
// SDM Vol. 2 FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ).
template <int which>  // 0..4: X87Constant; 5: +1.0; 6: +0.0
Fault LoadConstant(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  if (!x.PushOverflows()) {
    Float80 v;
    if constexpr (which == 5) {
      v = softfloat::kFloat80One;
    } else if constexpr (which == 6) {
      v = softfloat::kFloat80Zero;
    } else {
      v = softfloat::F80Constant(static_cast<softfloat::X87Constant>(which), x.Env().rounding);
    }
    x.st().Push(v);
  }
  x.Commit();
  return kOk;
}

// ---- Stores --------------------------------------------------------------------------

// What a store of an empty ST(0) writes under a masked underflow: the QNaN,
// integer or packed BCD indefinite (SDM Vol. 1 4.8.3.7, Table 4-3, 4.7).
template <Mem m>
Raw IndefiniteOf() {
  if constexpr (m == Mem::kF32)
    return RawOf<uint32_t>(0xFFC00000u);
  else if constexpr (m == Mem::kF64)
    return RawOf<uint64_t>(0xFFF8000000000000ull);
  else if constexpr (m == Mem::kF80)
    return RawOf(kFloat80Indefinite);
  else if constexpr (m == Mem::kI16)
    return RawOf<uint16_t>(0x8000);
  else if constexpr (m == Mem::kI32)
    return RawOf<uint32_t>(0x80000000u);
  else if constexpr (m == Mem::kI64)
    return RawOf<uint64_t>(0x8000000000000000ull);
  else {
    Raw r;
    std::memcpy(r.b.data(), softfloat::kBcdIndefinite.data(), 10);
    return r;
  }
}

template <Mem m, bool truncate>
Raw Convert(Float80 v, FpEnv& env) {
  if constexpr (m == Mem::kF32) {
    return RawOf(softfloat::F80ToF32(v, env));
  } else if constexpr (m == Mem::kF64) {
    return RawOf(softfloat::F80ToF64(v, env));
  } else if constexpr (m == Mem::kF80) {
    return RawOf(v);  // Stored as is, no exceptions.
  } else if constexpr (m == Mem::kI16) {
    return RawOf(truncate ? softfloat::F80ToI16Truncate(v, env) : softfloat::F80ToI16(v, env));
  } else if constexpr (m == Mem::kI32) {
    return RawOf(truncate ? softfloat::F80ToI32Truncate(v, env) : softfloat::F80ToI32(v, env));
  } else if constexpr (m == Mem::kI64) {
    return RawOf(truncate ? softfloat::F80ToI64Truncate(v, env) : softfloat::F80ToI64(v, env));
  } else {
    softfloat::PackedBcd bcd = softfloat::F80ToBcd(v, env);
    Raw r;
    std::memcpy(r.b.data(), bcd.data(), 10);
    return r;
  }
}

// FST/FSTP m32fp/m64fp/m80fp, FIST(P), FISTTP, FBSTP.
template <Mem m, bool pop, bool truncate = false>
Fault StoreMem(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  Raw out;
  bool write;
  if (x.st().IsEmpty(0)) {
    write = x.StackFault(false);
    out = IndefiniteOf<m>();
  } else {
    FpEnv env = x.Env();
    out = Convert<m, truncate>(x.st().St(0), env);
    write = x.Deliver(env, /*store=*/true);
  }
  if (write) {
    X86_TRY(WriteOperand<m>(c, i, out));
    if (pop) x.st().Pop();
  }
  x.Commit();
  return kOk;
}

// FST ST(i), FSTP ST(i) (and the FSTP1/FSTP8/FSTP9 aliases).
template <bool pop, bool empty_just_pops = false>
Fault StoreSti(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  int dst = StIndex(i);
  if (x.st().IsEmpty(0) && empty_just_pops) {
    x.st().Pop();
  } else if (x.st().IsEmpty(0)) {
    x.Underflow(dst, pop);
  } else {
    x.st().Write(dst, x.st().St(0));
    if (pop) x.st().Pop();
  }
  x.Commit();
  return kOk;
}

// ---- One-operand instructions on ST(0) ---------------------------------------------------

// Runs `f(ST(0), env) -> Float80` with the usual underflow and exception
// handling, writing the result back to ST(0).
template <typename F>
Fault UnaryOp(Cpu& c, const Insn& i, F f) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  if (x.st().IsEmpty(0)) {
    x.Underflow(0, false);
  } else {
    FpEnv env = x.Env();
    Float80 r = f(x.st().St(0), env);
    if (x.Deliver(env)) x.st().Write(0, r);
  }
  x.Commit();
  return kOk;
}

// Same for an operation of ST(0) and ST(1) whose result replaces ST(0).
template <typename F>
Fault BinaryOp(Cpu& c, const Insn& i, F f) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  if (x.st().IsEmpty(0) || x.st().IsEmpty(1)) {
    x.Underflow(0, false);
  } else {
    FpEnv env = x.Env();
    Float80 r = f(x.st().St(0), x.st().St(1), env);
    if (x.Deliver(env)) x.st().Write(0, r);
  }
  x.Commit();
  return kOk;
}

// FYL2X, FYL2XP1, FPATAN: f(ST(0), ST(1)) replaces ST(1), then a pop.
template <typename F>
Fault BinaryPopOp(Cpu& c, const Insn& i, F f) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  if (x.st().IsEmpty(0) || x.st().IsEmpty(1)) {
    x.Underflow(1, true);
  } else {
    FpEnv env = x.Env();
    Float80 r = f(x.st().St(0), x.st().St(1), env);
    if (x.Deliver(env)) {
      x.st().Pop();
      x.st().Write(0, r);
    }
  }
  x.Commit();
  return kOk;
}

// FSIN, FCOS: C2 = 1 and ST(0) unchanged when |x| >= 2^63.
template <softfloat::Float80Trig (*f)(Float80, FpEnv&)>
Fault TrigOp(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  x.SetC2(false);
  if (x.st().IsEmpty(0)) {
    x.Underflow(0, false);
  } else {
    FpEnv env = x.Env();
    softfloat::Float80Trig r = f(x.st().St(0), env);
    if (r.out_of_range) {
      x.SetC2(true);
    } else if (x.Deliver(env)) {
      x.st().Write(0, r.value);
    }
  }
  x.Commit();
  return kOk;
}

// The stack checks of FPTAN, FSINCOS and FXTRACT, which replace ST(0) and
// push: underflow on an empty ST(0), overflow on a full ST(-1); the masked
// response leaves two indefinite QNaNs. Returns true when the instruction
// must stop.
bool ReplaceAndPushFaults(X87Op& x) {
  bool underflow = x.st().IsEmpty(0);
  if (!underflow && x.st().IsEmpty(-1)) return false;
  if (x.StackFault(!underflow)) {
    x.st().Write(0, kFloat80Indefinite);
    x.st().Push(kFloat80Indefinite);
  }
  return true;
}

}  // namespace

// ---- Handlers --------------------------------------------------------------------------

#define X87_ARITH(Name, op)                                                                 \
  Fault Name##M32fp(Cpu& c, const Insn& i) { return ArithMem<Arith::op, Mem::kF32>(c, i); } \
  Fault Name##M64fp(Cpu& c, const Insn& i) { return ArithMem<Arith::op, Mem::kF64>(c, i); } \
  Fault Name##St0Sti(Cpu& c, const Insn& i) { return ArithSt0Sti<Arith::op>(c, i); }        \
  Fault Name##StiSt0(Cpu& c, const Insn& i) { return ArithStiSt0<Arith::op, false>(c, i); } \
  Fault Name##pStiSt0(Cpu& c, const Insn& i) { return ArithStiSt0<Arith::op, true>(c, i); }
#define X87_IARITH(Name, op)                                                                 \
  Fault Name##M16int(Cpu& c, const Insn& i) { return ArithMem<Arith::op, Mem::kI16>(c, i); } \
  Fault Name##M32int(Cpu& c, const Insn& i) { return ArithMem<Arith::op, Mem::kI32>(c, i); }
X87_ARITH(Fadd, kAdd)
X87_ARITH(Fmul, kMul)
X87_ARITH(Fsub, kSub)
X87_ARITH(Fsubr, kSubr)
X87_ARITH(Fdiv, kDiv)
X87_ARITH(Fdivr, kDivr)
X87_IARITH(Fiadd, kAdd)
X87_IARITH(Fimul, kMul)
X87_IARITH(Fisub, kSub)
X87_IARITH(Fisubr, kSubr)
X87_IARITH(Fidiv, kDiv)
X87_IARITH(Fidivr, kDivr)
#undef X87_ARITH
#undef X87_IARITH

Fault FcomM32fp(Cpu& c, const Insn& i) { return CompareMem<Mem::kF32, 0>(c, i); }
Fault FcompM32fp(Cpu& c, const Insn& i) { return CompareMem<Mem::kF32, 1>(c, i); }
Fault FcomM64fp(Cpu& c, const Insn& i) { return CompareMem<Mem::kF64, 0>(c, i); }
Fault FcompM64fp(Cpu& c, const Insn& i) { return CompareMem<Mem::kF64, 1>(c, i); }
Fault FicomM16int(Cpu& c, const Insn& i) { return CompareMem<Mem::kI16, 0>(c, i); }
Fault FicompM16int(Cpu& c, const Insn& i) { return CompareMem<Mem::kI16, 1>(c, i); }
Fault FicomM32int(Cpu& c, const Insn& i) { return CompareMem<Mem::kI32, 0>(c, i); }
Fault FicompM32int(Cpu& c, const Insn& i) { return CompareMem<Mem::kI32, 1>(c, i); }
Fault FcomSti(Cpu& c, const Insn& i) { return CompareSti<false, 0>(c, i); }
Fault FcompSti(Cpu& c, const Insn& i) { return CompareSti<false, 1>(c, i); }
Fault Fcompp(Cpu& c, const Insn& i) { return CompareSti<false, 2, 1>(c, i); }
Fault FucomSti(Cpu& c, const Insn& i) { return CompareSti<true, 0>(c, i); }
Fault FucompSti(Cpu& c, const Insn& i) { return CompareSti<true, 1>(c, i); }
Fault Fucompp(Cpu& c, const Insn& i) { return CompareSti<true, 2, 1>(c, i); }
Fault FcomiSt0Sti(Cpu& c, const Insn& i) { return CompareToFlags<false, false>(c, i); }
Fault FcomipSt0Sti(Cpu& c, const Insn& i) { return CompareToFlags<false, true>(c, i); }
Fault FucomiSt0Sti(Cpu& c, const Insn& i) { return CompareToFlags<true, false>(c, i); }
Fault FucomipSt0Sti(Cpu& c, const Insn& i) { return CompareToFlags<true, true>(c, i); }

// FTST: ST(0) against +0.0, IE on any NaN (SDM Vol. 2 FTST).
Fault Ftst(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  Compare(x, {softfloat::kFloat80Zero}, false, false, 0);
  x.Commit();
  return kOk;
}

// FXAM: the class of ST(0) in C3 C2 C0 and its sign in C1; never faults
// (SDM Vol. 2 FXAM). An empty register still reports the sign of whatever
// the physical register holds.
Fault Fxam(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  Float80 v = x.st().St(0);
  auto cls = x.st().IsEmpty(0) ? softfloat::X87Class::kEmpty : softfloat::F80Classify(v);
  unsigned bits = static_cast<unsigned>(cls);  // C3 C2 C0
  x.SetConditionCodes(bits & 4, bits & 2, v.sign(), bits & 1);
  x.Commit();
  return kOk;
}

Fault FldM32fp(Cpu& c, const Insn& i) { return LoadMem<Mem::kF32>(c, i); }
Fault FldM64fp(Cpu& c, const Insn& i) { return LoadMem<Mem::kF64>(c, i); }
Fault FldM80fp(Cpu& c, const Insn& i) { return LoadMem<Mem::kF80>(c, i); }
Fault FildM16int(Cpu& c, const Insn& i) { return LoadMem<Mem::kI16>(c, i); }
Fault FildM32int(Cpu& c, const Insn& i) { return LoadMem<Mem::kI32>(c, i); }
Fault FildM64int(Cpu& c, const Insn& i) { return LoadMem<Mem::kI64>(c, i); }
Fault FbldM80bcd(Cpu& c, const Insn& i) { return LoadMem<Mem::kBcd>(c, i); }
Fault FldSti(Cpu& c, const Insn& i) { return LoadSti(c, i); }
Fault Fldpi(Cpu& c, const Insn& i) { return LoadConstant<0>(c, i); }
Fault Fldl2t(Cpu& c, const Insn& i) { return LoadConstant<1>(c, i); }
Fault Fldl2e(Cpu& c, const Insn& i) { return LoadConstant<2>(c, i); }
Fault Fldlg2(Cpu& c, const Insn& i) { return LoadConstant<3>(c, i); }
Fault Fldln2(Cpu& c, const Insn& i) { return LoadConstant<4>(c, i); }
Fault Fld1(Cpu& c, const Insn& i) { return LoadConstant<5>(c, i); }
Fault Fldz(Cpu& c, const Insn& i) { return LoadConstant<6>(c, i); }

Fault FstM32fp(Cpu& c, const Insn& i) { return StoreMem<Mem::kF32, false>(c, i); }
Fault FstpM32fp(Cpu& c, const Insn& i) { return StoreMem<Mem::kF32, true>(c, i); }
Fault FstM64fp(Cpu& c, const Insn& i) { return StoreMem<Mem::kF64, false>(c, i); }
Fault FstpM64fp(Cpu& c, const Insn& i) { return StoreMem<Mem::kF64, true>(c, i); }
Fault FstpM80fp(Cpu& c, const Insn& i) { return StoreMem<Mem::kF80, true>(c, i); }
Fault FistM16int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI16, false>(c, i); }
Fault FistpM16int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI16, true>(c, i); }
Fault FistM32int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI32, false>(c, i); }
Fault FistpM32int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI32, true>(c, i); }
Fault FistpM64int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI64, true>(c, i); }
Fault FisttpM16int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI16, true, true>(c, i); }
Fault FisttpM32int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI32, true, true>(c, i); }
Fault FisttpM64int(Cpu& c, const Insn& i) { return StoreMem<Mem::kI64, true, true>(c, i); }
Fault FbstpM80bcd(Cpu& c, const Insn& i) { return StoreMem<Mem::kBcd, true>(c, i); }
Fault FstSti(Cpu& c, const Insn& i) { return StoreSti<false>(c, i); }
Fault FstpSti(Cpu& c, const Insn& i) { return StoreSti<true>(c, i); }

// FSTP1 (D9 D8+i, undocumented): FSTP ST(i), except that an empty ST(0) is
// not a stack underflow: the stack is just popped (measured on Intel
// hardware; the DD and DF forms do fault).
Fault Fstp1Sti(Cpu& c, const Insn& i) { return StoreSti<true, true>(c, i); }

// FXCH: the masked response to an empty operand exchanges the indefinite
// QNaN in its place (SDM Vol. 2 FXCH).
Fault FxchSti(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  int j = StIndex(i);
  bool e0 = x.st().IsEmpty(0), ej = x.st().IsEmpty(j);
  Float80 a = e0 ? kFloat80Indefinite : x.st().St(0);
  Float80 b = ej ? kFloat80Indefinite : x.st().St(j);
  if (!(e0 || ej) || x.StackFault(false)) {
    x.st().Write(j, a);
    x.st().Write(0, b);
  }
  x.Commit();
  return kOk;
}

// FCHS, FABS: sign operations, exact and quiet even for SNaNs.
Fault Fchs(Cpu& c, const Insn& i) {
  return UnaryOp(c, i, [](Float80 v, FpEnv&) {
    v.sign_exponent ^= 0x8000;
    return v;
  });
}
Fault Fabs(Cpu& c, const Insn& i) {
  return UnaryOp(c, i, [](Float80 v, FpEnv&) {
    v.sign_exponent &= 0x7FFF;
    return v;
  });
}
Fault Fsqrt(Cpu& c, const Insn& i) { return UnaryOp(c, i, softfloat::F80Sqrt); }
Fault Frndint(Cpu& c, const Insn& i) { return UnaryOp(c, i, softfloat::F80RoundToInt); }
Fault F2xm1(Cpu& c, const Insn& i) { return UnaryOp(c, i, softfloat::F80TwoToXMinus1); }
Fault Fscale(Cpu& c, const Insn& i) { return BinaryOp(c, i, softfloat::F80Scale); }
Fault Fyl2x(Cpu& c, const Insn& i) { return BinaryPopOp(c, i, softfloat::F80YLog2X); }
Fault Fyl2xp1(Cpu& c, const Insn& i) { return BinaryPopOp(c, i, softfloat::F80YLog2XPlus1); }
// FPATAN: arctan(ST(1) / ST(0)).
Fault Fpatan(Cpu& c, const Insn& i) {
  return BinaryPopOp(
      c, i, [](Float80 x, Float80 y, FpEnv& env) { return softfloat::F80Atan2(y, x, env); });
}
Fault Fsin(Cpu& c, const Insn& i) { return TrigOp<softfloat::F80Sin>(c, i); }
Fault Fcos(Cpu& c, const Insn& i) { return TrigOp<softfloat::F80Cos>(c, i); }

// FPTAN: tan(ST(0)) replaces ST(0), then 1.0 is pushed (a NaN operand pushes
// the NaN again); C2 = 1 with nothing changed for |x| >= 2^63.
Fault Fptan(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  x.SetC2(false);
  if (!ReplaceAndPushFaults(x)) {
    FpEnv env = x.Env();
    softfloat::Float80Trig r = softfloat::F80Tan(x.st().St(0), env);
    if (r.out_of_range) {
      x.SetC2(true);
    } else if (x.Deliver(env)) {
      x.st().Write(0, r.value);
      x.st().Push(softfloat::F80IsNaN(r.value) ? r.value : softfloat::kFloat80One);
    }
  }
  x.Commit();
  return kOk;
}

// FSINCOS: sin replaces ST(0), cos is pushed.
Fault Fsincos(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  x.SetC2(false);
  if (!ReplaceAndPushFaults(x)) {
    FpEnv env = x.Env();
    softfloat::Float80SinCos r = softfloat::F80SinCos(x.st().St(0), env);
    if (r.out_of_range) {
      x.SetC2(true);
    } else if (x.Deliver(env)) {
      x.st().Write(0, r.sin);
      x.st().Push(r.cos);
    }
  }
  x.Commit();
  return kOk;
}

// FXTRACT: the exponent replaces ST(0), the significand is pushed.
Fault Fxtract(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  if (!ReplaceAndPushFaults(x)) {
    FpEnv env = x.Env();
    softfloat::Float80Extracted r = softfloat::F80Extract(x.st().St(0), env);
    if (x.Deliver(env)) {
      x.st().Write(0, r.exponent);
      x.st().Push(r.significand);
    }
  }
  x.Commit();
  return kOk;
}

namespace {

// FPREM/FPREM1: C2 = 1 for a partial reduction; when complete, C0 C3 C1 are
// the low three quotient bits (SDM Vol. 2 FPREM). A NaN result leaves C0/C3.
template <bool ieee>
Fault PartialRemainder(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  x.SetC2(false);
  if (x.st().IsEmpty(0) || x.st().IsEmpty(1)) {
    x.Underflow(0, false);
  } else {
    FpEnv env = x.Env();
    softfloat::Float80Remainder r = ieee ? softfloat::F80Rem1(x.st().St(0), x.st().St(1), env)
                                         : softfloat::F80Rem(x.st().St(0), x.st().St(1), env);
    if (x.Deliver(env)) {
      if (!softfloat::F80IsNaN(r.value)) {
        bool done = !r.incomplete;
        unsigned q = r.quotient_bits;
        x.SetConditionCodes(done && (q & 2), r.incomplete, done && (q & 1), done && (q & 4));
      }
      x.st().Write(0, r.value);
    }
  }
  x.Commit();
  return kOk;
}

// FINCSTP/FDECSTP: TOP moves, tags stay; C1 = 0.
template <int delta>
Fault MoveTop(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  x.st().SetTop(x.st().top() + delta);
  x.Commit();
  return kOk;
}

// FFREE ST(i) and the FFREEP alias (free, then pop). Both clear C1 (the SDM
// leaves it undefined; Intel hardware clears it).
template <bool pop>
Fault FreeSti(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.ClearC1();
  x.st().Free(StIndex(i));
  if (pop) x.st().Pop();
  x.Commit();
  return kOk;
}

// FCMOVcc ST(0), ST(i): `cc` is the Jcc condition code (SDM Vol. 2 FCMOVcc).
// C1 changes only on a stack underflow (measured on Intel hardware).
template <int cc>
Fault Fcmov(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  int src = StIndex(i);
  if (x.st().IsEmpty(0) || x.st().IsEmpty(src)) {
    x.Underflow(0, false);
  } else if (Condition(cc, c.s.rflags)) {
    x.st().Write(0, x.st().St(src));
  }
  x.Commit();
  return kOk;
}

}  // namespace

Fault Fprem(Cpu& c, const Insn& i) { return PartialRemainder<false>(c, i); }
Fault Fprem1(Cpu& c, const Insn& i) { return PartialRemainder<true>(c, i); }
Fault Fincstp(Cpu& c, const Insn& i) { return MoveTop<1>(c, i); }
Fault Fdecstp(Cpu& c, const Insn& i) { return MoveTop<-1>(c, i); }
Fault FfreeSti(Cpu& c, const Insn& i) { return FreeSti<false>(c, i); }
Fault FfreepSti(Cpu& c, const Insn& i) { return FreeSti<true>(c, i); }
Fault Fcmovb(Cpu& c, const Insn& i) { return Fcmov<2>(c, i); }
Fault Fcmovnb(Cpu& c, const Insn& i) { return Fcmov<3>(c, i); }
Fault Fcmove(Cpu& c, const Insn& i) { return Fcmov<4>(c, i); }
Fault Fcmovne(Cpu& c, const Insn& i) { return Fcmov<5>(c, i); }
Fault Fcmovbe(Cpu& c, const Insn& i) { return Fcmov<6>(c, i); }
Fault Fcmovnbe(Cpu& c, const Insn& i) { return Fcmov<7>(c, i); }
Fault Fcmovu(Cpu& c, const Insn& i) { return Fcmov<10>(c, i); }
Fault Fcmovnu(Cpu& c, const Insn& i) { return Fcmov<11>(c, i); }

// FNOP: a waiting no-op that still records itself as the last instruction.
Fault Fnop(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  X87Op x(c, i);
  x.NoteInstruction();
  x.Commit();
  return kOk;
}

// FNENI, FNDISI, FNSETPM (DB E0, E1, E4): 8087/287 controls that later FPUs
// execute as no-ops without waiting.
Fault FnopLegacy(Cpu& c, const Insn&) { return X87Check(c, false); }

// Reserved encodings in the escape space: #NM first, then #UD.
Fault X87Reserved(Cpu& c, const Insn&) {
  X86_TRY(CheckX87(c));
  return Raise(kUd);
}

// ---- Control and status words ------------------------------------------------------------

Fault Fninit(Cpu& c, const Insn&) {
  X86_TRY(X87Check(c, false));
  x87::Initialize(c.s.x87);
  return kOk;
}

// FNCLEX: clears the exception flags, SF, ES and B (SDM Vol. 2 FCLEX).
Fault Fnclex(Cpu& c, const Insn&) {
  X86_TRY(X87Check(c, false));
  c.s.x87.fsw &= static_cast<uint16_t>(~(sw::kExceptions | sw::kSf | sw::kEs | sw::kB));
  return kOk;
}

// FLDCW: a newly unmasked pending exception sets ES (reported at the next
// waiting instruction; SDM Vol. 2 FLDCW).
Fault FldcwM2byte(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  uint16_t v;
  X86_TRY(c.Read<uint16_t>(i.seg, c.Ea(i), v));
  c.s.x87.fcw = static_cast<uint16_t>((v & x87::kControlWordBits) | 0x40);
  c.s.x87.fsw = x87::SummarizedStatusWord(c.s.x87.fsw, c.s.x87.fcw);
  return kOk;
}

Fault FnstcwM2byte(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, false));
  return c.Write<uint16_t>(i.seg, c.Ea(i), c.s.x87.fcw);
}

Fault FnstswM2byte(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, false));
  return c.Write<uint16_t>(i.seg, c.Ea(i), c.s.x87.fsw);
}

Fault FnstswAx(Cpu& c, const Insn&) {
  X86_TRY(X87Check(c, false));
  c.SetGpr<uint16_t>(kRax, c.s.x87.fsw);
  return kOk;
}

// WAIT/FWAIT: #NM only when CR0.MP and CR0.TS are both set (SDM Vol. 3
// Table 2-2), then a pending unmasked exception is reported (#MF).
Fault Fwait(Cpu& c, const Insn&) {
  if ((c.s.cr0 & cr0::kMp) && (c.s.cr0 & cr0::kTs)) return Raise(kNm);
  if ((c.s.x87.fsw & sw::kEs) && (c.s.cr0 & cr0::kNe)) return Raise(kMf);
  return kOk;
}

}  // namespace x86vm
