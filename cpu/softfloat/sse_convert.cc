// SSE conversions, ROUNDSS/SD and the RCPSS/RSQRTSS approximations
// (SDM Vol. 2 CVTSS2SD..CVTTSD2SI, ROUNDSS, RCPSS, RSQRTSS).
#include <limits>

#include "cpu/softfloat/sse_float.h"
#include "cpu/softfloat/sse_internal.h"

namespace x86vm::softfloat {

using internal::Exact;
using internal::F32Format;
using internal::F64Format;
using internal::u128;
using internal::Unpacked;

namespace {

// Converts between formats: From's NaNs are quieted into To, values rounded.
template <typename From, typename To>
typename To::Bits Convert(typename From::Bits fa, FpEnv& env) {
  const Unpacked a = From::Unpack(fa, env.denormals_are_zero);
  if (a.IsNaN()) {
    if (a.IsSignalingNaN()) env.Raise(kFlagInvalid);
    return To::Quiet(a);
  }
  if (a.denormal) env.Raise(kFlagDenormal);
  if (a.IsZero()) return To::Zero(a.sign);
  if (a.IsInfinity()) return To::Inf(a.sign);
  return internal::RoundInto<To>(internal::ToExact(a), env);
}

template <typename To>
typename To::Bits FromInt(int64_t value, FpEnv& env) {
  if (value == 0) return To::Zero(false);
  const bool sign = value < 0;
  const uint64_t magnitude = sign ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  return internal::RoundInto<To>(Exact{sign, 127, magnitude}, env);
}

template <typename F>
int64_t ToInt(typename F::Bits fa, int bits, bool truncate, FpEnv& env) {
  const int64_t indefinite = std::numeric_limits<int64_t>::min() >> (64 - bits);
  const Unpacked a = F::Unpack(fa, env.denormals_are_zero);
  if (a.IsNaN() || a.IsInfinity()) {
    env.Raise(kFlagInvalid);
    return indefinite;
  }
  if (a.IsZero()) return 0;
  const RoundingMode mode = truncate ? RoundingMode::kTowardZero : env.rounding;
  const internal::IntegerRounding r = internal::RoundToInteger(a.sign, a.exp, a.sig, mode);
  const u128 limit = (static_cast<u128>(1) << (bits - 1)) - (a.sign ? 0 : 1);
  if (r.huge || r.magnitude > limit) {
    env.Raise(kFlagInvalid);
    return indefinite;
  }
  if (r.inexact) env.Raise(kFlagPrecision);
  const uint64_t magnitude = static_cast<uint64_t>(r.magnitude);
  return a.sign ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

template <typename F>
typename F::Bits RoundToIntegral(typename F::Bits fa, uint8_t imm8, FpEnv& env) {
  const Unpacked a = F::Unpack(fa, env.denormals_are_zero);
  if (a.IsNaN()) {
    if (a.IsSignalingNaN()) env.Raise(kFlagInvalid);
    return F::Quiet(a);
  }
  if (a.IsZero()) return F::Zero(a.sign);
  if (a.IsInfinity()) return fa;
  const RoundingMode mode = (imm8 & 4) != 0 ? env.rounding : static_cast<RoundingMode>(imm8 & 3);
  const internal::IntegerRounding r = internal::RoundToInteger(a.sign, a.exp, a.sig, mode);
  if (r.huge || !r.inexact) return fa;
  if ((imm8 & 8) == 0) env.Raise(kFlagPrecision);
  if (r.magnitude == 0) return F::Zero(a.sign);
  FpEnv exact = env;  // an integer below 2^53 converts exactly
  return F::Pack(internal::Round(a.sign, 127, r.magnitude, F::kSpec, exact));
}

// Rounds a positive approximation to 12 significant bits (relative error
// <= 2^-12) with tiny results flushed to zero, as RCPSS/RSQRTSS do.
uint32_t PackApproximation(bool sign, const Exact& x) {
  constexpr internal::RoundSpec kApprox{12, -126, 127, false};
  FpEnv scratch;
  scratch.flush_to_zero = true;
  return internal::PackF32(internal::Round(sign, x.exp, x.sig, kApprox, scratch));
}

Unpacked One() { return internal::UnpackF32(0x3F800000u, false); }

}  // namespace

uint64_t F32ToF64(uint32_t a, FpEnv& env) {
  return internal::WithLocalFlags(env,
                                  [&](FpEnv& e) { return Convert<F32Format, F64Format>(a, e); });
}

uint32_t F64ToF32(uint64_t a, FpEnv& env) {
  return internal::WithLocalFlags(env,
                                  [&](FpEnv& e) { return Convert<F64Format, F32Format>(a, e); });
}

uint32_t I32ToF32(int32_t a, FpEnv& env) { return FromInt<F32Format>(a, env); }
uint32_t I64ToF32(int64_t a, FpEnv& env) { return FromInt<F32Format>(a, env); }
uint64_t I32ToF64(int32_t a) {
  FpEnv exact;
  return FromInt<F64Format>(a, exact);
}
uint64_t I64ToF64(int64_t a, FpEnv& env) { return FromInt<F64Format>(a, env); }

int32_t F32ToI32(uint32_t a, bool truncate, FpEnv& env) {
  return static_cast<int32_t>(ToInt<F32Format>(a, 32, truncate, env));
}
int64_t F32ToI64(uint32_t a, bool truncate, FpEnv& env) {
  return ToInt<F32Format>(a, 64, truncate, env);
}
int32_t F64ToI32(uint64_t a, bool truncate, FpEnv& env) {
  return static_cast<int32_t>(ToInt<F64Format>(a, 32, truncate, env));
}
int64_t F64ToI64(uint64_t a, bool truncate, FpEnv& env) {
  return ToInt<F64Format>(a, 64, truncate, env);
}

uint32_t F32RoundToIntegral(uint32_t a, uint8_t imm8, FpEnv& env) {
  return RoundToIntegral<F32Format>(a, imm8, env);
}
uint64_t F64RoundToIntegral(uint64_t a, uint8_t imm8, FpEnv& env) {
  return RoundToIntegral<F64Format>(a, imm8, env);
}

uint32_t F32Reciprocal(uint32_t fa) {
  const Unpacked a = internal::UnpackF32(fa, /*daz=*/true);
  if (a.IsNaN()) return internal::QuietF32(a);
  if (a.IsZero()) return internal::F32Inf(a.sign);
  if (a.IsInfinity()) return internal::F32Zero(a.sign);
  return PackApproximation(a.sign, internal::DivExact(One(), a));
}

uint32_t F32ReciprocalSqrt(uint32_t fa) {
  const Unpacked a = internal::UnpackF32(fa, /*daz=*/true);
  if (a.IsNaN()) return internal::QuietF32(a);
  if (a.IsZero()) return internal::F32Inf(a.sign);
  if (a.sign) return kF32Indefinite;
  if (a.IsInfinity()) return internal::F32Zero(false);
  const Exact root = internal::SqrtExact(a);
  Unpacked r;
  r.kind = internal::Kind::kFinite;
  r.exp = root.exp;  // root.sig's top 64 bits (bit 127 is set)
  r.sig = static_cast<uint64_t>(root.sig >> 64);
  return PackApproximation(false, internal::DivExact(One(), r));
}

}  // namespace x86vm::softfloat
