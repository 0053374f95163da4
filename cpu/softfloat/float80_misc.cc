// FPREM, FPREM1, FRNDINT, FSCALE, FXTRACT and the constant loads.
#include "cpu/softfloat/constants.h"
#include "cpu/softfloat/float80.h"
#include "cpu/softfloat/float80_convert.h"
#include "cpu/softfloat/internal.h"

namespace x86vm::softfloat {

using internal::Exact;
using internal::Kind;
using internal::u128;
using internal::Unpacked;
using internal::UnpackF80;

namespace {

Float80 RoundExtended(const Exact& x, FpEnv& env) {
  return internal::PackF80(internal::Round(x.sign, x.exp, x.sig, internal::kF80Spec, env));
}

Float80Remainder Remainder(Float80 fa, Float80 fb, bool ieee, FpEnv& env) {
  env.rounded_up = false;
  Float80Remainder out;
  const Unpacked a = UnpackF80(fa);
  const Unpacked b = UnpackF80(fb);
  if (a.kind == Kind::kUnsupported || b.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    out.value = kFloat80Indefinite;
    return out;
  }
  if (a.IsNaN() || b.IsNaN()) {
    out.value = internal::X87PropagateNaN(a, b, env);
    return out;
  }
  if (a.IsInfinity() || b.IsZero()) {
    env.Raise(kFlagInvalid);
    out.value = kFloat80Indefinite;
    return out;
  }
  if (a.denormal || b.denormal) env.Raise(kFlagDenormal);
  if (a.IsZero() || b.IsInfinity()) {
    // The operand itself, not rounded: no #U for a denormal (measured on
    // Intel hardware).
    out.value = fa;
    return out;
  }
  const int32_t d = a.exp - b.exp;
  if (d < (ieee ? -1 : 0)) {
    out.value = RoundExtended(internal::ToExact(a), env);
    return out;
  }
  bool sign = a.sign;
  int32_t unit_exp = b.exp;  // remainder = r * 2^(unit_exp - 64)
  uint64_t shift = 0;
  if (d >= 64) {
    // Partial reduction: the quotient is limited to N = 32 + (D mod 32) bits
    // (SDM Vol. 2 FPREM leaves N implementation-dependent in [32, 63]; this
    // is the value hardware uses, measured). Quotient bits read as zero.
    const int n = 32 + (d & 31);
    unit_exp = b.exp + (d - n);
    shift = static_cast<uint64_t>(n);
    out.incomplete = true;
  } else {
    shift = static_cast<uint64_t>(d);
  }
  // a = (A << (shift + 1)) * 2^(unit_exp - 64), b * 2^(d - n) = (B << 1) * 2^(unit_exp - 64).
  const u128 num = static_cast<u128>(a.sig) << (shift + 1);
  const u128 den = static_cast<u128>(b.sig) << 1;
  u128 q = num / den;
  u128 r = num % den;
  if (ieee && !out.incomplete && (2 * r > den || (2 * r == den && (q & 1) != 0))) {
    ++q;
    r = den - r;
    sign = !sign;
  }
  if (!out.incomplete) out.quotient_bits = static_cast<uint8_t>(q & 7);
  if (r == 0) {
    out.value = internal::F80Zero(a.sign);
    return out;
  }
  out.value = RoundExtended(Exact{sign, unit_exp + 63, r}, env);
  return out;
}

}  // namespace

Float80Remainder F80Rem(Float80 a, Float80 b, FpEnv& env) { return Remainder(a, b, false, env); }

Float80Remainder F80Rem1(Float80 a, Float80 b, FpEnv& env) { return Remainder(a, b, true, env); }

Float80 F80RoundToInt(Float80 fa, FpEnv& env) {
  env.rounded_up = false;
  const Unpacked a = UnpackF80(fa);
  if (a.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    return kFloat80Indefinite;
  }
  if (a.IsNaN()) return internal::X87PropagateNaN(a, env);
  if (!a.IsFinite()) return fa;
  if (a.denormal) env.Raise(kFlagDenormal);
  const internal::IntegerRounding r = internal::RoundToInteger(a.sign, a.exp, a.sig, env.rounding);
  if (r.huge || (!r.inexact && a.exp >= 63)) return fa;
  if (r.inexact) env.Raise(kFlagPrecision);
  env.rounded_up = r.incremented;
  if (r.magnitude == 0) return internal::F80Zero(a.sign);
  FpEnv exact = env;  // the integer always fits in 64 bits: no further flags
  return RoundExtended(Exact{a.sign, 127, r.magnitude}, exact);
}

Float80 F80Scale(Float80 fa, Float80 fb, FpEnv& env) {
  env.rounded_up = false;
  const Unpacked a = UnpackF80(fa);
  const Unpacked b = UnpackF80(fb);
  if (a.kind == Kind::kUnsupported || b.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    return kFloat80Indefinite;
  }
  if (a.IsNaN() || b.IsNaN()) return internal::X87PropagateNaN(a, b, env);
  if (b.IsInfinity()) {
    // SDM Vol. 2 FSCALE table: 0 * 2^+inf and inf * 2^-inf are invalid.
    if ((a.IsZero() && !b.sign) || (a.IsInfinity() && b.sign)) {
      env.Raise(kFlagInvalid);
      return kFloat80Indefinite;
    }
    if (a.denormal) env.Raise(kFlagDenormal);
    if (a.IsZero() || a.IsInfinity()) return fa;
    return b.sign ? internal::F80Zero(a.sign) : internal::F80Inf(a.sign);
  }
  if (a.denormal || b.denormal) env.Raise(kFlagDenormal);
  // Scaling by 2^(+-0) returns the operand itself: no #U for a denormal
  // (measured on Intel hardware; trunc(0.5) = 0 does round and signal).
  if (a.IsZero() || a.IsInfinity() || b.IsZero()) return fa;
  // trunc(b), clamped well past the point where any result over/underflows.
  int32_t n = 0;
  if (b.IsFinite() && b.exp >= 0) {
    n = b.exp >= 20 ? (1 << 20) : static_cast<int32_t>(b.sig >> (63 - b.exp));
    if (b.sign) n = -n;
  }
  Exact x = internal::ToExact(a);
  x.exp += n;
  return RoundExtended(x, env);
}

Float80Extracted F80Extract(Float80 fa, FpEnv& env) {
  env.rounded_up = false;
  const Unpacked a = UnpackF80(fa);
  switch (a.kind) {
    case Kind::kUnsupported:
      env.Raise(kFlagInvalid);
      return {kFloat80Indefinite, kFloat80Indefinite};
    case Kind::kNaN: {
      const Float80 q = internal::X87PropagateNaN(a, env);
      return {q, q};
    }
    case Kind::kZero:
      // SDM Vol. 2 FXTRACT: masked #Z gives -inf and the signed zero.
      env.Raise(kFlagDivideByZero);
      return {internal::F80Inf(true), fa};
    case Kind::kInfinity:
      return {kFloat80Infinity, fa};
    case Kind::kFinite:
      break;
  }
  if (a.denormal) env.Raise(kFlagDenormal);
  return {F80FromInt(a.exp), Float80::Make(a.sign, kFloat80Bias, a.sig)};
}

Float80 F80Constant(X87Constant which, RoundingMode rounding) {
  internal::WideConstant c = internal::kPi;
  switch (which) {
    case X87Constant::kPi:
      c = internal::kPi;
      break;
    case X87Constant::kLog2Ten:
      c = internal::kLog2Ten;
      break;
    case X87Constant::kLog2E:
      c = internal::kLog2E;
      break;
    case X87Constant::kLog10Two:
      c = internal::kLog10Two;
      break;
    case X87Constant::kLnTwo:
      c = internal::kLnTwo;
      break;
  }
  FpEnv scratch;  // constant loads raise no exceptions
  scratch.rounding = rounding;
  return RoundExtended(c.ToExact(), scratch);
}

}  // namespace x86vm::softfloat
