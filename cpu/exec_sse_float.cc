// SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic and compares (SDM Vol. 2
// ADDPS ... MAXSD, SQRTxx, RCPxx, RSQRTxx, CMPxx, COMISx/UCOMISx, HADDxx,
// HSUBxx, ADDSUBxx, ROUNDxx, DPPS/DPPD). Element arithmetic is
// cpu/softfloat; every element runs in its own FpEnv and FpFlags decides
// between writing the result and #XM/#UD (SDM Vol. 1 11.5.2).
#include "cpu/exec_sse.h"
#include "cpu/softfloat/sse_float.h"

namespace x86vm {
namespace {

using sse::V128;
using softfloat::FpEnv;

using F32Binary = uint32_t (*)(uint32_t, uint32_t, FpEnv&);
using F64Binary = uint64_t (*)(uint64_t, uint64_t, FpEnv&);
using F32Unary = uint32_t (*)(uint32_t, FpEnv&);
using F64Unary = uint64_t (*)(uint64_t, FpEnv&);

// One element operation recorded in `fl`.
template <typename T, typename F, typename... Args>
T Element(sse::FpFlags& fl, F op, Args... args) {
  FpEnv env = fl.Env();
  T r = op(args..., env);
  fl.Add(env);
  return r;
}

// Writes `r` to the V register when no unmasked exception was raised.
Fault Finish(Cpu& c, const Insn& i, sse::FpFlags& fl, const V128& r) {
  X86_TRY(fl.Commit(c));
  sse::SetXmm(c, i.reg, r);
  return kOk;
}

// op xmm, xmm/m128 on four singles.
template <F32Binary Op>
Fault PackedPs(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  for (int n = 0; n < 4; ++n) r.set_u32(n, Element<uint32_t>(fl, Op, a.u32(n), b.u32(n)));
  return Finish(c, i, fl, r);
}

// op xmm, xmm/m128 on two doubles.
template <F64Binary Op>
Fault PackedPd(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  for (int n = 0; n < 2; ++n) r.set_u64(n, Element<uint64_t>(fl, Op, a.u64(n), b.u64(n)));
  return Finish(c, i, fl, r);
}

// op xmm, xmm/m32 on the low single; the other lanes are kept.
template <F32Binary Op>
Fault ScalarSs(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 4, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u32(0, Element<uint32_t>(fl, Op, r.u32(0), static_cast<uint32_t>(b)));
  return Finish(c, i, fl, r);
}

// op xmm, xmm/m64 on the low double; the high one is kept.
template <F64Binary Op>
Fault ScalarSd(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 8, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u64(0, Element<uint64_t>(fl, Op, r.u64(0), b));
  return Finish(c, i, fl, r);
}

template <F32Unary Op>
Fault PackedPsUnary(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 r;
  sse::FpFlags fl(c);
  for (int n = 0; n < 4; ++n) r.set_u32(n, Element<uint32_t>(fl, Op, b.u32(n)));
  return Finish(c, i, fl, r);
}

template <F64Unary Op>
Fault PackedPdUnary(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 r;
  sse::FpFlags fl(c);
  for (int n = 0; n < 2; ++n) r.set_u64(n, Element<uint64_t>(fl, Op, b.u64(n)));
  return Finish(c, i, fl, r);
}

template <F32Unary Op>
Fault ScalarSsUnary(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 4, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u32(0, Element<uint32_t>(fl, Op, static_cast<uint32_t>(b)));
  return Finish(c, i, fl, r);
}

template <F64Unary Op>
Fault ScalarSdUnary(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 8, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u64(0, Element<uint64_t>(fl, Op, b));
  return Finish(c, i, fl, r);
}

// RCPPS/RSQRTPS and the scalar forms: approximations that raise no
// exceptions (SDM Vol. 2 RCPPS).
template <uint32_t (*Op)(uint32_t)>
Fault ApproxPs(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 r;
  for (int n = 0; n < 4; ++n) r.set_u32(n, Op(b.u32(n)));
  sse::SetXmm(c, i.reg, r);
  return kOk;
}

template <uint32_t (*Op)(uint32_t)>
Fault ApproxSs(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 4, b));
  V128 r = sse::GetXmm(c, i.reg);
  r.set_u32(0, Op(static_cast<uint32_t>(b)));
  sse::SetXmm(c, i.reg, r);
  return kOk;
}

// The legacy CMPxx predicates are imm8[2:0] (SDM Vol. 2 CMPPS; the 32
// predicates are VEX only).
uint8_t Predicate(const Insn& i) { return static_cast<uint8_t>(i.imm & 7); }

uint32_t CmpF32(uint32_t a, uint32_t b, uint8_t p, FpEnv& env) {
  return softfloat::F32ComparePredicate(a, b, p, env) ? 0xffffffffu : 0;
}
uint64_t CmpF64(uint64_t a, uint64_t b, uint8_t p, FpEnv& env) {
  return softfloat::F64ComparePredicate(a, b, p, env) ? ~0ull : 0;
}

// COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF from the compare, OF SF AF zero;
// EFLAGS is left alone when the compare raises an unmasked exception.
template <bool kDouble, bool kQuiet>
Fault Comis(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, kDouble ? 8 : 4, b));
  uint64_t a = c.s.xmm[i.reg].lo;
  sse::FpFlags fl(c);
  FpEnv env = fl.Env();
  softfloat::CompareResult r =
      kDouble ? softfloat::F64Compare(a, b, kQuiet, env)
              : softfloat::F32Compare(static_cast<uint32_t>(a), static_cast<uint32_t>(b), kQuiet,
                                      env);
  fl.Add(env);
  X86_TRY(fl.Commit(c));
  c.s.rflags = (c.s.rflags & ~flags::kStatus) | softfloat::ComisEflags(r);
  return kOk;
}

uint32_t AddF32(uint32_t a, uint32_t b, FpEnv& e) { return softfloat::F32Add(a, b, e); }
uint32_t SubF32(uint32_t a, uint32_t b, FpEnv& e) { return softfloat::F32Sub(a, b, e); }
uint32_t MulF32(uint32_t a, uint32_t b, FpEnv& e) { return softfloat::F32Mul(a, b, e); }
uint64_t AddF64(uint64_t a, uint64_t b, FpEnv& e) { return softfloat::F64Add(a, b, e); }
uint64_t SubF64(uint64_t a, uint64_t b, FpEnv& e) { return softfloat::F64Sub(a, b, e); }
uint64_t MulF64(uint64_t a, uint64_t b, FpEnv& e) { return softfloat::F64Mul(a, b, e); }

// HADDPS/HSUBPS: pairs of the destination, then pairs of the source.
template <F32Binary Op>
Fault HorizontalPs(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  r.set_u32(0, Element<uint32_t>(fl, Op, a.u32(0), a.u32(1)));
  r.set_u32(1, Element<uint32_t>(fl, Op, a.u32(2), a.u32(3)));
  r.set_u32(2, Element<uint32_t>(fl, Op, b.u32(0), b.u32(1)));
  r.set_u32(3, Element<uint32_t>(fl, Op, b.u32(2), b.u32(3)));
  return Finish(c, i, fl, r);
}

template <F64Binary Op>
Fault HorizontalPd(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  r.set_u64(0, Element<uint64_t>(fl, Op, a.u64(0), a.u64(1)));
  r.set_u64(1, Element<uint64_t>(fl, Op, b.u64(0), b.u64(1)));
  return Finish(c, i, fl, r);
}

}  // namespace

#define X86VM_SSE_DEFINE_FP_BINARY(op)                                                       \
  Fault op##psVxWx(Cpu& c, const Insn& i) { return PackedPs<softfloat::F32##op>(c, i); }     \
  Fault op##pdVxWx(Cpu& c, const Insn& i) { return PackedPd<softfloat::F64##op>(c, i); }     \
  Fault op##ssVxWx(Cpu& c, const Insn& i) { return ScalarSs<softfloat::F32##op>(c, i); }     \
  Fault op##sdVxWx(Cpu& c, const Insn& i) { return ScalarSd<softfloat::F64##op>(c, i); }

X86VM_SSE_DEFINE_FP_BINARY(Add)
X86VM_SSE_DEFINE_FP_BINARY(Sub)
X86VM_SSE_DEFINE_FP_BINARY(Mul)
X86VM_SSE_DEFINE_FP_BINARY(Div)
X86VM_SSE_DEFINE_FP_BINARY(Min)
X86VM_SSE_DEFINE_FP_BINARY(Max)

Fault SqrtpsVxWx(Cpu& c, const Insn& i) { return PackedPsUnary<softfloat::F32Sqrt>(c, i); }
Fault SqrtpdVxWx(Cpu& c, const Insn& i) { return PackedPdUnary<softfloat::F64Sqrt>(c, i); }
Fault SqrtssVxWx(Cpu& c, const Insn& i) { return ScalarSsUnary<softfloat::F32Sqrt>(c, i); }
Fault SqrtsdVxWx(Cpu& c, const Insn& i) { return ScalarSdUnary<softfloat::F64Sqrt>(c, i); }

Fault RcppsVxWx(Cpu& c, const Insn& i) { return ApproxPs<softfloat::F32Reciprocal>(c, i); }
Fault RcpssVxWx(Cpu& c, const Insn& i) { return ApproxSs<softfloat::F32Reciprocal>(c, i); }
Fault RsqrtpsVxWx(Cpu& c, const Insn& i) { return ApproxPs<softfloat::F32ReciprocalSqrt>(c, i); }
Fault RsqrtssVxWx(Cpu& c, const Insn& i) { return ApproxSs<softfloat::F32ReciprocalSqrt>(c, i); }

Fault CmppsVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  for (int n = 0; n < 4; ++n) {
    r.set_u32(n, Element<uint32_t>(fl, CmpF32, a.u32(n), b.u32(n), Predicate(i)));
  }
  return Finish(c, i, fl, r);
}

Fault CmppdVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  for (int n = 0; n < 2; ++n) {
    r.set_u64(n, Element<uint64_t>(fl, CmpF64, a.u64(n), b.u64(n), Predicate(i)));
  }
  return Finish(c, i, fl, r);
}

Fault CmpssVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 4, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u32(0, Element<uint32_t>(fl, CmpF32, r.u32(0), static_cast<uint32_t>(b), Predicate(i)));
  return Finish(c, i, fl, r);
}

Fault CmpsdVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 8, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u64(0, Element<uint64_t>(fl, CmpF64, r.u64(0), b, Predicate(i)));
  return Finish(c, i, fl, r);
}

Fault ComissVxWx(Cpu& c, const Insn& i) { return Comis<false, false>(c, i); }
Fault UcomissVxWx(Cpu& c, const Insn& i) { return Comis<false, true>(c, i); }
Fault ComisdVxWx(Cpu& c, const Insn& i) { return Comis<true, false>(c, i); }
Fault UcomisdVxWx(Cpu& c, const Insn& i) { return Comis<true, true>(c, i); }

Fault HaddpsVxWx(Cpu& c, const Insn& i) { return HorizontalPs<AddF32>(c, i); }
Fault HsubpsVxWx(Cpu& c, const Insn& i) { return HorizontalPs<SubF32>(c, i); }
Fault HaddpdVxWx(Cpu& c, const Insn& i) { return HorizontalPd<AddF64>(c, i); }
Fault HsubpdVxWx(Cpu& c, const Insn& i) { return HorizontalPd<SubF64>(c, i); }

// ADDSUBPS: subtract in the even lanes, add in the odd ones.
Fault AddsubpsVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  for (int n = 0; n < 4; ++n) {
    r.set_u32(n, Element<uint32_t>(fl, (n & 1) ? AddF32 : SubF32, a.u32(n), b.u32(n)));
  }
  return Finish(c, i, fl, r);
}

Fault AddsubpdVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  r.set_u64(0, Element<uint64_t>(fl, SubF64, a.u64(0), b.u64(0)));
  r.set_u64(1, Element<uint64_t>(fl, AddF64, a.u64(1), b.u64(1)));
  return Finish(c, i, fl, r);
}

Fault RoundpsVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 r;
  sse::FpFlags fl(c);
  uint8_t imm = static_cast<uint8_t>(i.imm);
  for (int n = 0; n < 4; ++n) {
    r.set_u32(n, Element<uint32_t>(fl, softfloat::F32RoundToIntegral, b.u32(n), imm));
  }
  return Finish(c, i, fl, r);
}

Fault RoundpdVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 r;
  sse::FpFlags fl(c);
  uint8_t imm = static_cast<uint8_t>(i.imm);
  for (int n = 0; n < 2; ++n) {
    r.set_u64(n, Element<uint64_t>(fl, softfloat::F64RoundToIntegral, b.u64(n), imm));
  }
  return Finish(c, i, fl, r);
}

Fault RoundssVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 4, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u32(0, Element<uint32_t>(fl, softfloat::F32RoundToIntegral, static_cast<uint32_t>(b),
                                 static_cast<uint8_t>(i.imm)));
  return Finish(c, i, fl, r);
}

Fault RoundsdVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t b;
  X86_TRY(sse::ReadWLow(c, i, 8, b));
  V128 r = sse::GetXmm(c, i.reg);
  sse::FpFlags fl(c);
  r.set_u64(0, Element<uint64_t>(fl, softfloat::F64RoundToIntegral, b,
                                 static_cast<uint8_t>(i.imm)));
  return Finish(c, i, fl, r);
}

// DPPS: products of the lanes selected by imm8[7:4] (else +0.0), summed,
// and the sum written to the lanes selected by imm8[3:0] (SDM Vol. 2 DPPS).
// Measured on Intel hardware, beyond the SDM's pseudocode: the sum is a
// butterfly, lane j getting q[j] + q[j^2] with q[j] = p[j^1] + p[j], so
// lanes can differ in which NaN comes out; and each step is its own SIMD
// operation for exceptions: an unmasked exception in the products stops
// before the additions (whose DE, say, is then not reported).
Fault DppsVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  uint32_t p[4], q[4];
  for (int n = 0; n < 4; ++n) {
    p[n] = ((i.imm >> (4 + n)) & 1) ? Element<uint32_t>(fl, MulF32, a.u32(n), b.u32(n)) : 0;
  }
  X86_TRY(fl.EndStage(c));
  for (int n = 0; n < 4; ++n) q[n] = Element<uint32_t>(fl, AddF32, p[n ^ 1], p[n]);
  X86_TRY(fl.EndStage(c));
  for (int n = 0; n < 4; ++n) {
    uint32_t sum = Element<uint32_t>(fl, AddF32, q[n], q[n ^ 2]);
    r.set_u32(n, ((i.imm >> n) & 1) ? sum : 0);
  }
  return Finish(c, i, fl, r);
}

// DPPD: the same with two lanes, imm8[5:4] and imm8[1:0]; lane j gets
// p[j] + p[j^1] (measured, as for DPPS), after the products' stage.
Fault DppdVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 b;
  X86_TRY(sse::ReadW(c, i, b));
  V128 a = sse::GetXmm(c, i.reg), r;
  sse::FpFlags fl(c);
  uint64_t p[2];
  for (int n = 0; n < 2; ++n) {
    p[n] = ((i.imm >> (4 + n)) & 1) ? Element<uint64_t>(fl, MulF64, a.u64(n), b.u64(n)) : 0;
  }
  X86_TRY(fl.EndStage(c));
  for (int n = 0; n < 2; ++n) {
    uint64_t sum = Element<uint64_t>(fl, AddF64, p[n], p[n ^ 1]);
    r.set_u64(n, ((i.imm >> n) & 1) ? sum : 0);
  }
  return Finish(c, i, fl, r);
}

}  // namespace x86vm
