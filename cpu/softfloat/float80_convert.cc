// x87 format conversions (SDM Vol. 2 FLD, FST, FILD, FIST, FISTTP, FBLD, FBSTP).
#include "cpu/softfloat/float80_convert.h"

#include <limits>

#include "cpu/softfloat/internal.h"

namespace x86vm::softfloat {

using internal::Kind;
using internal::u128;
using internal::Unpacked;

namespace {

Float80 FromUnpacked(const Unpacked& u) {
  switch (u.kind) {
    case Kind::kZero:
      return internal::F80Zero(u.sign);
    case Kind::kInfinity:
      return internal::F80Inf(u.sign);
    case Kind::kNaN:
      return Float80::Make(u.sign, 0x7FFF, u.sig);
    case Kind::kFinite:
      // Every binary32/64 value is a normal extended value.
      return Float80::Make(u.sign, static_cast<uint16_t>(u.exp + kFloat80Bias), u.sig);
    case Kind::kUnsupported:
      break;
  }
  return kFloat80Indefinite;
}

Float80 Load(const Unpacked& u, FpEnv& env) {
  env.rounded_up = false;
  if (u.IsNaN()) return internal::X87PropagateNaN(u, env);
  if (u.denormal) env.Raise(kFlagDenormal);
  return FromUnpacked(u);
}

// Shared by FST m32fp/m64fp. Returns true and sets *nan for NaN results.
bool StoreSpecial(const Unpacked& a, FpEnv& env, Unpacked* nan) {
  env.rounded_up = false;
  if (a.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    *nan = internal::UnpackF80(kFloat80Indefinite);
    return true;
  }
  if (a.IsNaN()) {
    if (a.IsSignalingNaN()) env.Raise(kFlagInvalid);
    *nan = a;
    return true;
  }
  // Stores of denormal registers raise no DE (measured on hardware).
  return false;
}

// FIST/FISTTP for an integer of `bits` bits.
int64_t ToInt(Float80 fa, int bits, RoundingMode mode, FpEnv& env) {
  env.rounded_up = false;
  const int64_t indefinite = std::numeric_limits<int64_t>::min() >> (64 - bits);
  const Unpacked a = internal::UnpackF80(fa);
  if (a.kind == Kind::kUnsupported || a.IsNaN() || a.IsInfinity()) {
    env.Raise(kFlagInvalid);
    return indefinite;
  }
  if (a.IsZero()) return 0;
  const internal::IntegerRounding r = internal::RoundToInteger(a.sign, a.exp, a.sig, mode);
  const u128 limit = (static_cast<u128>(1) << (bits - 1)) - (a.sign ? 0 : 1);
  if (r.huge || r.magnitude > limit) {
    env.Raise(kFlagInvalid);
    return indefinite;
  }
  if (r.inexact) env.Raise(kFlagPrecision);
  env.rounded_up = r.incremented;
  const uint64_t magnitude = static_cast<uint64_t>(r.magnitude);
  return a.sign ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

}  // namespace

Float80 F80FromF32(uint32_t a, FpEnv& env) { return Load(internal::UnpackF32(a, false), env); }

Float80 F80FromF64(uint64_t a, FpEnv& env) { return Load(internal::UnpackF64(a, false), env); }

X87MemoryOperand F80FromF32Operand(uint32_t a) {
  const Unpacked u = internal::UnpackF32(a, false);
  return {FromUnpacked(u), u.denormal};
}

X87MemoryOperand F80FromF64Operand(uint64_t a) {
  const Unpacked u = internal::UnpackF64(a, false);
  return {FromUnpacked(u), u.denormal};
}

uint32_t F80ToF32(Float80 fa, FpEnv& env) {
  const Unpacked a = internal::UnpackF80(fa);
  Unpacked nan;
  if (StoreSpecial(a, env, &nan)) return internal::QuietF32(nan);
  if (a.IsZero()) return internal::F32Zero(a.sign);
  if (a.IsInfinity()) return internal::F32Inf(a.sign);
  const internal::Exact x = internal::ToExact(a);
  return internal::PackF32(internal::Round(x.sign, x.exp, x.sig, internal::kF80ToF32Spec, env));
}

uint64_t F80ToF64(Float80 fa, FpEnv& env) {
  const Unpacked a = internal::UnpackF80(fa);
  Unpacked nan;
  if (StoreSpecial(a, env, &nan)) return internal::QuietF64(nan);
  if (a.IsZero()) return internal::F64Zero(a.sign);
  if (a.IsInfinity()) return internal::F64Inf(a.sign);
  const internal::Exact x = internal::ToExact(a);
  return internal::PackF64(internal::Round(x.sign, x.exp, x.sig, internal::kF80ToF64Spec, env));
}

Float80 F80FromInt(int64_t value) {
  if (value == 0) return kFloat80Zero;
  const bool sign = value < 0;
  const uint64_t magnitude = sign ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  const int lz = std::countl_zero(magnitude);
  return Float80::Make(sign, static_cast<uint16_t>(kFloat80Bias + 63 - lz), magnitude << lz);
}

int16_t F80ToI16(Float80 a, FpEnv& env) {
  return static_cast<int16_t>(ToInt(a, 16, env.rounding, env));
}
int32_t F80ToI32(Float80 a, FpEnv& env) {
  return static_cast<int32_t>(ToInt(a, 32, env.rounding, env));
}
int64_t F80ToI64(Float80 a, FpEnv& env) { return ToInt(a, 64, env.rounding, env); }
int16_t F80ToI16Truncate(Float80 a, FpEnv& env) {
  return static_cast<int16_t>(ToInt(a, 16, RoundingMode::kTowardZero, env));
}
int32_t F80ToI32Truncate(Float80 a, FpEnv& env) {
  return static_cast<int32_t>(ToInt(a, 32, RoundingMode::kTowardZero, env));
}
int64_t F80ToI64Truncate(Float80 a, FpEnv& env) {
  return ToInt(a, 64, RoundingMode::kTowardZero, env);
}

Float80 F80FromBcd(const PackedBcd& bcd) {
  uint64_t value = 0;
  for (int i = 8; i >= 0; --i) {
    value = value * 10 + (bcd[i] >> 4);
    value = value * 10 + (bcd[i] & 0xF);
  }
  Float80 r = F80FromInt(static_cast<int64_t>(value));
  if (bcd[9] & 0x80) r.sign_exponent |= 0x8000;
  return r;
}

PackedBcd F80ToBcd(Float80 fa, FpEnv& env) {
  env.rounded_up = false;
  const Unpacked a = internal::UnpackF80(fa);
  if (a.kind == Kind::kUnsupported || a.IsNaN() || a.IsInfinity()) {
    env.Raise(kFlagInvalid);
    return kBcdIndefinite;
  }
  uint64_t magnitude = 0;
  if (a.IsFinite()) {
    const internal::IntegerRounding r =
        internal::RoundToInteger(a.sign, a.exp, a.sig, env.rounding);
    if (r.huge || r.magnitude > 999999999999999999ull) {
      env.Raise(kFlagInvalid);
      return kBcdIndefinite;
    }
    if (r.inexact) env.Raise(kFlagPrecision);
    env.rounded_up = r.incremented;
    magnitude = static_cast<uint64_t>(r.magnitude);
  }
  PackedBcd bcd{};
  for (int i = 0; i < 9; ++i) {
    const uint8_t low = static_cast<uint8_t>(magnitude % 10);
    magnitude /= 10;
    const uint8_t high = static_cast<uint8_t>(magnitude % 10);
    magnitude /= 10;
    bcd[i] = static_cast<uint8_t>(high << 4 | low);
  }
  bcd[9] = a.sign ? 0x80 : 0;
  return bcd;
}

}  // namespace x86vm::softfloat
