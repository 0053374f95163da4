// Conversions between integers, singles and doubles in XMM, MMX and general
// registers (SDM Vol. 2 CVTPI2PS ... CVTTSD2SI). Rounding and exceptions are
// cpu/softfloat's; invalid float-to-integer conversions give the integer
// indefinite (0x80000000 / 0x8000000000000000) with IE.
#include "cpu/exec_sse.h"
#include "cpu/softfloat/sse_float.h"

namespace x86vm {
namespace {

using sse::V128;
using softfloat::FpEnv;

// One element conversion recorded in `fl`.
template <typename T, typename F, typename... Args>
T Element(sse::FpFlags& fl, F op, Args... args) {
  FpEnv env = fl.Env();
  T r = op(args..., env);
  fl.Add(env);
  return r;
}

Fault FinishXmm(Cpu& c, const Insn& i, sse::FpFlags& fl, const V128& r) {
  X86_TRY(fl.Commit(c));
  sse::SetXmm(c, i.reg, r);
  return kOk;
}

// The integer source of CVTPI2PS/CVTPI2PD: an MMX register (which makes the
// x87-to-MMX transition) or m64 (SDM Vol. 2 CVTPI2PD: "transition ... if
// the source is an MMX register").
Fault ReadPi(Cpu& c, const Insn& i, uint64_t& v) {
  X86_TRY(CheckSse(c));
  X86_TRY(sse::CheckPendingX87(c));
  if (i.mod == 3) {
    sse::EnterMmxState(c);
    v = sse::GetMm(c, i.rm);
    return kOk;
  }
  return c.Read<uint64_t>(i.seg, c.Ea(i), v);
}

int32_t F32ToI32Round(uint32_t a, FpEnv& e) { return softfloat::F32ToI32(a, false, e); }
int32_t F32ToI32Trunc(uint32_t a, FpEnv& e) { return softfloat::F32ToI32(a, true, e); }
int32_t F64ToI32Round(uint64_t a, FpEnv& e) { return softfloat::F64ToI32(a, false, e); }
int32_t F64ToI32Trunc(uint64_t a, FpEnv& e) { return softfloat::F64ToI32(a, true, e); }

// CVT(T)PS2PI mm, xmm/m64.
template <bool kTruncate>
Fault Ps2Pi(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareSseMmx(c));
  uint64_t src;
  X86_TRY(sse::ReadWLow(c, i, 8, src));
  sse::FpFlags fl(c);
  uint64_t r = 0;
  for (int n = 0; n < 2; ++n) {
    uint32_t f = static_cast<uint32_t>(src >> (32 * n));
    int32_t v = Element<int32_t>(fl, kTruncate ? F32ToI32Trunc : F32ToI32Round, f);
    r |= uint64_t{static_cast<uint32_t>(v)} << (32 * n);
  }
  X86_TRY(fl.Commit(c));
  sse::SetMm(c, i.reg, r);
  return kOk;
}

// CVT(T)PD2PI mm, xmm/m128 (aligned).
template <bool kTruncate>
Fault Pd2Pi(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareSseMmx(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::FpFlags fl(c);
  uint64_t r = 0;
  for (int n = 0; n < 2; ++n) {
    int32_t v = Element<int32_t>(fl, kTruncate ? F64ToI32Trunc : F64ToI32Round, src.u64(n));
    r |= uint64_t{static_cast<uint32_t>(v)} << (32 * n);
  }
  X86_TRY(fl.Commit(c));
  sse::SetMm(c, i.reg, r);
  return kOk;
}

// The integer source of CVTSI2SS/SD: r/m32 or r/m64.
template <typename T>
Fault ReadEy(Cpu& c, const Insn& i, T& v) {
  X86_TRY(CheckSse(c));
  return c.ReadE<T>(i, v);
}

// CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m32 or m64.
template <typename Int, bool kDouble, bool kTruncate>
Fault FloatToGpr(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t src;
  X86_TRY(sse::ReadWLow(c, i, kDouble ? 8 : 4, src));
  sse::FpFlags fl(c);
  FpEnv env = fl.Env();
  Int r;
  if constexpr (kDouble && sizeof(Int) == 4) {
    r = softfloat::F64ToI32(src, kTruncate, env);
  } else if constexpr (kDouble) {
    r = softfloat::F64ToI64(src, kTruncate, env);
  } else if constexpr (sizeof(Int) == 4) {
    r = softfloat::F32ToI32(static_cast<uint32_t>(src), kTruncate, env);
  } else {
    r = softfloat::F32ToI64(static_cast<uint32_t>(src), kTruncate, env);
  }
  fl.Add(env);
  X86_TRY(fl.Commit(c));
  // A 32-bit destination zero-extends (SDM Vol. 1 3.4.1.1).
  c.s.gpr[i.reg] = static_cast<std::make_unsigned_t<Int>>(r);
  return kOk;
}

// CVT(T)PS2DQ xmm, xmm/m128.
template <bool kTruncate>
Fault Ps2Dq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::FpFlags fl(c);
  V128 r;
  for (int n = 0; n < 4; ++n) {
    r.set_i32(n, Element<int32_t>(fl, kTruncate ? F32ToI32Trunc : F32ToI32Round, src.u32(n)));
  }
  return FinishXmm(c, i, fl, r);
}

// CVT(T)PD2DQ xmm, xmm/m128: the high quadword of the result is zero.
template <bool kTruncate>
Fault Pd2Dq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::FpFlags fl(c);
  V128 r;
  for (int n = 0; n < 2; ++n) {
    r.set_i32(n, Element<int32_t>(fl, kTruncate ? F64ToI32Trunc : F64ToI32Round, src.u64(n)));
  }
  return FinishXmm(c, i, fl, r);
}

uint32_t I32ToF32(int32_t a, FpEnv& e) { return softfloat::I32ToF32(a, e); }
uint64_t I32ToF64(int32_t a, FpEnv&) { return softfloat::I32ToF64(a); }

}  // namespace

// CVTPI2PS xmm, mm/m64: lanes 0-1 from the two integers, 2-3 kept.
Fault Cvtpi2psVxQq(Cpu& c, const Insn& i) {
  uint64_t src;
  X86_TRY(ReadPi(c, i, src));
  sse::FpFlags fl(c);
  V128 r = sse::GetXmm(c, i.reg);
  for (int n = 0; n < 2; ++n) {
    r.set_u32(n, Element<uint32_t>(fl, I32ToF32, static_cast<int32_t>(src >> (32 * n))));
  }
  return FinishXmm(c, i, fl, r);
}

// CVTPI2PD xmm, mm/m64: exact.
Fault Cvtpi2pdVxQq(Cpu& c, const Insn& i) {
  uint64_t src;
  X86_TRY(ReadPi(c, i, src));
  V128 r;
  for (int n = 0; n < 2; ++n) {
    r.set_u64(n, softfloat::I32ToF64(static_cast<int32_t>(src >> (32 * n))));
  }
  sse::SetXmm(c, i.reg, r);
  return kOk;
}

Fault Cvtps2piPqWx(Cpu& c, const Insn& i) { return Ps2Pi<false>(c, i); }
Fault Cvttps2piPqWx(Cpu& c, const Insn& i) { return Ps2Pi<true>(c, i); }
Fault Cvtpd2piPqWx(Cpu& c, const Insn& i) { return Pd2Pi<false>(c, i); }
Fault Cvttpd2piPqWx(Cpu& c, const Insn& i) { return Pd2Pi<true>(c, i); }

Fault Cvtsi2ssVxEy32(Cpu& c, const Insn& i) {
  uint32_t v;
  X86_TRY(ReadEy<uint32_t>(c, i, v));
  sse::FpFlags fl(c);
  V128 r = sse::GetXmm(c, i.reg);
  r.set_u32(0, Element<uint32_t>(fl, softfloat::I32ToF32, static_cast<int32_t>(v)));
  return FinishXmm(c, i, fl, r);
}

Fault Cvtsi2ssVxEy64(Cpu& c, const Insn& i) {
  uint64_t v;
  X86_TRY(ReadEy<uint64_t>(c, i, v));
  sse::FpFlags fl(c);
  V128 r = sse::GetXmm(c, i.reg);
  r.set_u32(0, Element<uint32_t>(fl, softfloat::I64ToF32, static_cast<int64_t>(v)));
  return FinishXmm(c, i, fl, r);
}

Fault Cvtsi2sdVxEy32(Cpu& c, const Insn& i) {
  uint32_t v;
  X86_TRY(ReadEy<uint32_t>(c, i, v));
  V128 r = sse::GetXmm(c, i.reg);
  r.set_u64(0, softfloat::I32ToF64(static_cast<int32_t>(v)));
  sse::SetXmm(c, i.reg, r);
  return kOk;
}

Fault Cvtsi2sdVxEy64(Cpu& c, const Insn& i) {
  uint64_t v;
  X86_TRY(ReadEy<uint64_t>(c, i, v));
  sse::FpFlags fl(c);
  V128 r = sse::GetXmm(c, i.reg);
  r.set_u64(0, Element<uint64_t>(fl, softfloat::I64ToF64, static_cast<int64_t>(v)));
  return FinishXmm(c, i, fl, r);
}

Fault Cvtss2siGyWx32(Cpu& c, const Insn& i) { return FloatToGpr<int32_t, false, false>(c, i); }
Fault Cvtss2siGyWx64(Cpu& c, const Insn& i) { return FloatToGpr<int64_t, false, false>(c, i); }
Fault Cvttss2siGyWx32(Cpu& c, const Insn& i) { return FloatToGpr<int32_t, false, true>(c, i); }
Fault Cvttss2siGyWx64(Cpu& c, const Insn& i) { return FloatToGpr<int64_t, false, true>(c, i); }
Fault Cvtsd2siGyWx32(Cpu& c, const Insn& i) { return FloatToGpr<int32_t, true, false>(c, i); }
Fault Cvtsd2siGyWx64(Cpu& c, const Insn& i) { return FloatToGpr<int64_t, true, false>(c, i); }
Fault Cvttsd2siGyWx32(Cpu& c, const Insn& i) { return FloatToGpr<int32_t, true, true>(c, i); }
Fault Cvttsd2siGyWx64(Cpu& c, const Insn& i) { return FloatToGpr<int64_t, true, true>(c, i); }

// CVTPS2PD xmm, xmm/m64.
Fault Cvtps2pdVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t src;
  X86_TRY(sse::ReadWLow(c, i, 8, src));
  sse::FpFlags fl(c);
  V128 r;
  for (int n = 0; n < 2; ++n) {
    r.set_u64(n, Element<uint64_t>(fl, softfloat::F32ToF64, static_cast<uint32_t>(src >> (32 * n))));
  }
  return FinishXmm(c, i, fl, r);
}

// CVTPD2PS xmm, xmm/m128: the high quadword of the result is zero.
Fault Cvtpd2psVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::FpFlags fl(c);
  V128 r;
  for (int n = 0; n < 2; ++n) {
    r.set_u32(n, Element<uint32_t>(fl, softfloat::F64ToF32, src.u64(n)));
  }
  return FinishXmm(c, i, fl, r);
}

Fault Cvtss2sdVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t src;
  X86_TRY(sse::ReadWLow(c, i, 4, src));
  sse::FpFlags fl(c);
  V128 r = sse::GetXmm(c, i.reg);
  r.set_u64(0, Element<uint64_t>(fl, softfloat::F32ToF64, static_cast<uint32_t>(src)));
  return FinishXmm(c, i, fl, r);
}

Fault Cvtsd2ssVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t src;
  X86_TRY(sse::ReadWLow(c, i, 8, src));
  sse::FpFlags fl(c);
  V128 r = sse::GetXmm(c, i.reg);
  r.set_u32(0, Element<uint32_t>(fl, softfloat::F64ToF32, src));
  return FinishXmm(c, i, fl, r);
}

Fault Cvtdq2psVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::FpFlags fl(c);
  V128 r;
  for (int n = 0; n < 4; ++n) r.set_u32(n, Element<uint32_t>(fl, I32ToF32, src.i32(n)));
  return FinishXmm(c, i, fl, r);
}

Fault Cvtps2dqVxWx(Cpu& c, const Insn& i) { return Ps2Dq<false>(c, i); }
Fault Cvttps2dqVxWx(Cpu& c, const Insn& i) { return Ps2Dq<true>(c, i); }

// CVTDQ2PD xmm, xmm/m64: exact.
Fault Cvtdq2pdVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t src;
  X86_TRY(sse::ReadWLow(c, i, 8, src));
  sse::FpFlags fl(c);
  V128 r;
  for (int n = 0; n < 2; ++n) {
    r.set_u64(n, Element<uint64_t>(fl, I32ToF64, static_cast<int32_t>(src >> (32 * n))));
  }
  return FinishXmm(c, i, fl, r);
}

Fault Cvtpd2dqVxWx(Cpu& c, const Insn& i) { return Pd2Dq<false>(c, i); }
Fault Cvttpd2dqVxWx(Cpu& c, const Insn& i) { return Pd2Dq<true>(c, i); }

}  // namespace x86vm
