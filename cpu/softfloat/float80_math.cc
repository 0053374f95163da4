// x87 transcendentals on a 128-bit intermediate (wide.h). Special-case tables
// follow SDM Vol. 2 F2XM1, FYL2X, FYL2XP1, FPATAN, FSIN, FCOS, FSINCOS, FPTAN.
#include "cpu/softfloat/float80_math.h"

#include "cpu/softfloat/constants.h"
#include "cpu/softfloat/internal.h"
#include "cpu/softfloat/wide.h"

namespace x86vm::softfloat {

using internal::Kind;
using internal::u128;
using internal::Unpacked;
using internal::UnpackF80;
using internal::WAdd;
using internal::WDiv;
using internal::WDivSmall;
using internal::Wide;
using internal::WMul;
using internal::WNegligible;
using internal::WOne;
using internal::WScale;
using internal::WSub;

namespace {

// Rounds a wide result once into the extended format.
Float80 RoundWide(const Wide& w, FpEnv& env) {
  return internal::PackF80(internal::Round(w.sign, w.exp, w.sig, internal::kF80Spec, env));
}

Wide WithSign(Wide w, bool sign) {
  w.sign = sign;
  return w;
}

Wide Pi() { return internal::kPi.ToExact(); }
Wide HalfPi() { return WScale(Pi(), -1); }

// Unsupported encodings and NaNs of one-operand instructions.
bool UnarySpecial(const Unpacked& a, FpEnv& env, Float80* out) {
  env.rounded_up = false;
  if (a.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    *out = kFloat80Indefinite;
    return true;
  }
  if (a.IsNaN()) {
    *out = internal::X87PropagateNaN(a, env);
    return true;
  }
  return false;
}

// Unsupported encodings and NaNs of two-operand instructions.
bool BinarySpecial(const Unpacked& a, const Unpacked& b, FpEnv& env, Float80* out) {
  env.rounded_up = false;
  if (a.kind == Kind::kUnsupported || b.kind == Kind::kUnsupported) {
    env.Raise(kFlagInvalid);
    *out = kFloat80Indefinite;
    return true;
  }
  if (a.IsNaN() || b.IsNaN()) {
    *out = internal::X87PropagateNaN(a, b, env);
    return true;
  }
  return false;
}

Float80 Invalid(FpEnv& env) {
  env.Raise(kFlagInvalid);
  return kFloat80Indefinite;
}

// e^y - 1 by its Taylor series; |y| < 1.
Wide Expm1Series(const Wide& y) {
  Wide sum = y;
  Wide term = y;
  for (uint32_t k = 2; k < 80; ++k) {
    term = WDivSmall(WMul(term, y), k);
    sum = WAdd(sum, term);
    if (WNegligible(term, sum)) break;
  }
  return sum;
}

// atanh(t) = t + t^3/3 + t^5/5 + ...; |t| <= 0.2.
Wide AtanhSeries(const Wide& t) {
  const Wide t2 = WMul(t, t);
  Wide sum = t;
  Wide power = t;
  for (uint32_t k = 1; k < 100; ++k) {
    power = WMul(power, t2);
    const Wide term = WDivSmall(power, 2 * k + 1);
    sum = WAdd(sum, term);
    if (WNegligible(term, sum)) break;
  }
  return sum;
}

// atan(u) = u - u^3/3 + u^5/5 - ...; |u| <= 1/16.
Wide AtanSeries(const Wide& u) {
  const Wide u2 = WMul(u, u);
  Wide sum = u;
  Wide power = u;
  for (uint32_t k = 1; k < 100; ++k) {
    power = internal::WNeg(WMul(power, u2));
    const Wide term = WDivSmall(power, 2 * k + 1);
    sum = WAdd(sum, term);
    if (WNegligible(term, sum)) break;
  }
  return sum;
}

// log2(v) for a positive finite v: v = m * 2^e with m in [sqrt(1/2), sqrt(2)),
// ln(m) = 2 atanh((m - 1) / (m + 1)).
Wide Log2(const Wide& v) {
  constexpr u128 kSqrt2Sig =
      (static_cast<u128>(0xB504F333F9DE6484ull) << 64) | 0x597D89B3754ABE9Full;
  Wide m{false, 0, v.sig};
  int32_t e = v.exp;
  if (v.sig > kSqrt2Sig) {
    m.exp = -1;
    ++e;
  }
  const Wide t = WDiv(WSub(m, WOne()), WAdd(m, WOne()));
  const Wide ln_m = WScale(AtanhSeries(t), 1);
  return WAdd(internal::WFromInt(e), WMul(ln_m, internal::kLog2E.ToExact()));
}

// atan(num / den) for positive num, den, in [0, pi/2].
Wide AtanRatio(const Wide& num, const Wide& den) {
  const bool invert = internal::WCompareMagnitude(num, den) > 0;
  const Wide t = invert ? WDiv(den, num) : WDiv(num, den);  // in [0, 1]
  // t = c + (t - c) with c = k/8 nearest to t; atan(t) = atan(c) + atan(u).
  uint32_t k = 0;
  if (t.exp >= -4) {
    const uint32_t sixteenths = static_cast<uint32_t>(t.sig >> (127 - (t.exp + 4)));
    k = (sixteenths + 1) / 2;
  }
  Wide a;
  if (k == 0) {
    a = AtanSeries(t);
  } else {
    const Wide c = WScale(internal::WFromInt(k), -3);
    const Wide u = WDiv(WSub(t, c), WAdd(WOne(), WMul(t, c)));
    a = WAdd(internal::kAtanEighths[k - 1].ToExact(), AtanSeries(u));
  }
  return invert ? WSub(HalfPi(), a) : a;
}

// sin(r) and cos(r) for |r| <= pi/4 by their Taylor series.
void SinCosSeries(const Wide& r, Wide* sin_r, Wide* cos_r) {
  const Wide r2 = WMul(r, r);
  Wide s = r;
  Wide term = r;
  for (uint32_t k = 1; k < 40; ++k) {
    term = internal::WNeg(WDivSmall(WMul(term, r2), (2 * k) * (2 * k + 1)));
    s = WAdd(s, term);
    if (WNegligible(term, s)) break;
  }
  Wide c = WOne();
  term = WOne();
  for (uint32_t k = 1; k < 40; ++k) {
    term = internal::WNeg(WDivSmall(WMul(term, r2), (2 * k - 1) * (2 * k)));
    c = WAdd(c, term);
    if (WNegligible(term, c)) break;
  }
  *sin_r = s;
  *cos_r = c;
}

// Bit i of a little-endian limb array of `n` limbs (0 beyond either end).
uint64_t Bit(const uint64_t* p, int n, int i) {
  if (i < 0 || i >= 64 * n) return 0;
  return (p[i / 64] >> (i % 64)) & 1;
}

// Bits [lo, lo + 128) of a limb array as a u128 (bits below 0 read as 0).
u128 Bits128(const uint64_t* p, int n, int lo) {
  u128 out = 0;
  for (int i = 127; i >= 0; --i) out = (out << 1) | Bit(p, n, lo + i);
  return out;
}

// Reduces |x| (finite, pi/4 < |x| < 2^63) modulo pi/2: |x| = r + q * pi/2 with
// |r| <= pi/4. |x| * 2/pi is formed exactly enough from 384 bits of 2/pi
// (the fraction keeps > 128 good bits even for the x closest to a multiple
// of pi/2).
void ReduceArgument(const Unpacked& x, Wide* r, uint32_t* quadrant) {
  constexpr int kLimbs = 7;
  uint64_t p[kLimbs] = {};
  uint64_t carry = 0;
  for (int i = 0; i < 6; ++i) {
    const u128 prod = static_cast<u128>(x.sig) * internal::kTwoOverPiLimbs[5 - i] + carry;
    p[i] = static_cast<uint64_t>(prod);
    carry = static_cast<uint64_t>(prod >> 64);
  }
  p[6] = carry;
  // |x| * 2/pi = P * 2^(exp - 447): `point` fraction bits.
  const int point = 447 - x.exp;
  uint32_t q = 0;
  for (int i = 0; i < 2; ++i) q |= static_cast<uint32_t>(Bit(p, kLimbs, point + i)) << i;
  bool negative = false;
  if (Bit(p, kLimbs, point - 1) != 0) {
    // Fraction >= 1/2: round the quotient up and take 1 - fraction.
    ++q;
    negative = true;
    uint64_t add = 1;
    for (int i = 0; i < kLimbs; ++i) {
      const uint64_t inverted = ~p[i];
      p[i] = inverted + add;
      add = (add != 0 && p[i] == 0) ? 1 : 0;
    }
  }
  // Clear the integer part, then find the fraction's leading one.
  for (int i = point; i < 64 * kLimbs; ++i) p[i / 64] &= ~(1ull << (i % 64));
  int lead = point - 1;
  while (lead >= 0 && Bit(p, kLimbs, lead) == 0) --lead;
  *quadrant = q & 3;
  if (lead < 0) {  // cannot happen for representable x (pi is irrational)
    *r = Wide{};
    return;
  }
  const Wide fraction{negative, lead - point, Bits128(p, kLimbs, lead - 127)};
  *r = WMul(fraction, HalfPi());
}

// Shared front end of FSIN/FCOS/FSINCOS/FPTAN. Returns false after setting
// *special for NaNs, infinities, zeros and out-of-range operands; otherwise
// sets sin/cos of |x| with the quadrant already applied.
struct TrigInput {
  bool handled = false;
  Float80 special;
  bool out_of_range = false;
  bool sign = false;
  Wide sin_abs;
  Wide cos_abs;
};

TrigInput PrepareTrig(Float80 fx, FpEnv& env) {
  TrigInput t;
  const Unpacked x = UnpackF80(fx);
  if (UnarySpecial(x, env, &t.special)) {
    t.handled = true;
    return t;
  }
  if (x.IsInfinity()) {
    t.special = Invalid(env);
    t.handled = true;
    return t;
  }
  if (x.IsZero()) {
    t.special = fx;
    t.handled = true;
    return t;
  }
  if (x.exp >= 63) {
    // SDM Vol. 2 FSIN: |x| >= 2^63 sets C2 and leaves ST(0) unchanged.
    t.special = fx;
    t.out_of_range = true;
    t.handled = true;
    return t;
  }
  if (x.denormal) env.Raise(kFlagDenormal);
  t.sign = x.sign;
  Wide r = internal::ToExact(x);
  r.sign = false;
  uint32_t quadrant = 0;
  if (x.exp >= 0 || (x.exp == -1 && x.sig > 0xC90FDAA22168C234ull))
    ReduceArgument(x, &r, &quadrant);
  Wide s, c;
  SinCosSeries(r, &s, &c);
  switch (quadrant) {
    case 0:
      t.sin_abs = s;
      t.cos_abs = c;
      break;
    case 1:
      t.sin_abs = c;
      t.cos_abs = internal::WNeg(s);
      break;
    case 2:
      t.sin_abs = internal::WNeg(s);
      t.cos_abs = internal::WNeg(c);
      break;
    default:
      t.sin_abs = internal::WNeg(c);
      t.cos_abs = s;
      break;
  }
  return t;
}

Wide SignedSin(const TrigInput& t) { return t.sign ? internal::WNeg(t.sin_abs) : t.sin_abs; }

}  // namespace

Float80 F80TwoToXMinus1(Float80 fx, FpEnv& env) {
  const Unpacked x = UnpackF80(fx);
  Float80 special;
  if (UnarySpecial(x, env, &special)) return special;
  if (x.IsZero()) return fx;
  if (x.IsInfinity()) return x.sign ? Float80::Make(true, 0x3FFF, 1ull << 63) : fx;
  if (x.denormal) env.Raise(kFlagDenormal);
  // The only exact results: 2^1 - 1 = 1 and 2^-1 - 1 = -1/2.
  if (x.exp == 0 && x.sig == 1ull << 63) {
    return x.sign ? Float80::Make(true, 0x3FFE, 1ull << 63) : kFloat80One;
  }
  const Wide ln2 = internal::kLnTwo.ToExact();
  const Wide wx = internal::ToExact(x);
  if (x.exp < 0) return RoundWide(Expm1Series(WMul(wx, ln2)), env);
  // Outside the architectural range: 2^x - 1 = 2^n * 2^f - 1 with n = trunc(x).
  if (x.exp >= 15) {
    return RoundWide(
        x.sign ? internal::WNeg(WOne()) : Wide{false, 1 << 16, static_cast<u128>(1) << 127}, env);
  }
  const int32_t n = static_cast<int32_t>(x.sig >> (63 - x.exp)) * (x.sign ? -1 : 1);
  const Wide f = WSub(wx, internal::WFromInt(n));
  const Wide two_to_x = WScale(WAdd(Expm1Series(WMul(f, ln2)), WOne()), n);
  return RoundWide(WSub(two_to_x, WOne()), env);
}

Float80 F80YLog2X(Float80 fx, Float80 fy, FpEnv& env) {
  const Unpacked x = UnpackF80(fx);
  const Unpacked y = UnpackF80(fy);
  Float80 special;
  if (BinarySpecial(x, y, env, &special)) return special;
  if (x.sign && !x.IsZero()) return Invalid(env);
  if (x.IsZero()) {
    if (y.IsZero()) return Invalid(env);
    // y * log2(0) = y * -inf; ZE only for finite y (SDM Vol. 2 FYL2X).
    if (!y.IsInfinity()) env.Raise(kFlagDivideByZero);
    return internal::F80Inf(!y.sign);
  }
  if (x.IsInfinity()) {
    if (y.IsZero()) return Invalid(env);
    if (y.denormal) env.Raise(kFlagDenormal);
    return internal::F80Inf(y.sign);
  }
  const bool x_is_one = x.exp == 0 && x.sig == 1ull << 63;
  if (x_is_one && y.IsInfinity()) return Invalid(env);
  if (x.denormal || y.denormal) env.Raise(kFlagDenormal);
  const bool log_negative = x.exp < 0;
  if (x_is_one) return internal::F80Zero(y.sign);
  if (y.IsInfinity()) return internal::F80Inf(y.sign != log_negative);
  if (y.IsZero()) return internal::F80Zero(y.sign != log_negative);
  if (x.sig == 1ull << 63) {
    // log2(2^k) = k makes y * k exact, but hardware (measured on Intel)
    // reports it as inexact: for k > 0 the exact value with PE (and UE if
    // tiny), for k < 0 as if |y * k| were a hair smaller.
    Wide product = WMul(internal::ToExact(y), internal::WFromInt(x.exp));
    if (x.exp < 0) {
      product.sig -= 1;
      return RoundWide(product, env);
    }
    const Float80 r = RoundWide(product, env);
    env.Raise(kFlagPrecision);
    if (r.biased_exponent() == 0) env.Raise(kFlagUnderflow);
    return r;
  }
  return RoundWide(WMul(internal::ToExact(y), Log2(internal::ToExact(x))), env);
}

Float80 F80YLog2XPlus1(Float80 fx, Float80 fy, FpEnv& env) {
  const Unpacked x = UnpackF80(fx);
  const Unpacked y = UnpackF80(fy);
  Float80 special;
  if (BinarySpecial(x, y, env, &special)) return special;
  if (x.IsZero()) {
    if (y.IsInfinity()) return Invalid(env);
    if (y.denormal) env.Raise(kFlagDenormal);
    return internal::F80Zero(x.sign != y.sign);
  }
  // Outside the architectural range: x + 1 <= 0 is treated like FYL2X.
  const Wide wx = internal::ToExact(x);
  const Wide x_plus_1 = WAdd(wx, WOne());
  if (x.sign && (x.IsInfinity() || x_plus_1.sign || internal::WIsZero(x_plus_1))) {
    const Float80 arg = x.IsInfinity() ? fx : RoundWide(x_plus_1, env);
    return F80YLog2X(arg, fy, env);
  }
  if (x.IsInfinity()) return F80YLog2X(fx, fy, env);
  if (x.denormal || y.denormal) env.Raise(kFlagDenormal);
  if (y.IsInfinity()) return internal::F80Inf(y.sign != x.sign);
  if (y.IsZero()) return internal::F80Zero(y.sign != x.sign);
  Wide log2_x_plus_1;
  if (x.exp < -2) {
    // |x| < 1/4: ln(1 + x) = 2 atanh(x / (2 + x)) keeps full relative precision.
    const Wide t = WDiv(wx, WAdd(wx, internal::WFromInt(2)));
    log2_x_plus_1 = WMul(WScale(AtanhSeries(t), 1), internal::kLog2E.ToExact());
  } else {
    log2_x_plus_1 = Log2(x_plus_1);
  }
  return RoundWide(WMul(internal::ToExact(y), log2_x_plus_1), env);
}

Float80 F80Atan2(Float80 fy, Float80 fx, FpEnv& env) {
  const Unpacked y = UnpackF80(fy);
  const Unpacked x = UnpackF80(fx);
  Float80 special;
  if (BinarySpecial(y, x, env, &special)) return special;
  if (x.denormal || y.denormal) env.Raise(kFlagDenormal);
  // SDM Vol. 2 FPATAN table: zeros and infinities give multiples of pi/4.
  Wide result;
  if (y.IsZero() || x.IsInfinity()) {
    if (y.IsInfinity()) {
      result = x.sign ? WScale(WMul(Pi(), internal::WFromInt(3)), -2) : WScale(Pi(), -2);
    } else if (!x.sign) {
      return internal::F80Zero(y.sign);
    } else {
      result = Pi();
    }
  } else if (y.IsInfinity() || x.IsZero()) {
    result = HalfPi();
  } else {
    Wide ay = internal::ToExact(y);
    Wide ax = internal::ToExact(x);
    ay.sign = ax.sign = false;
    result = AtanRatio(ay, ax);
    if (x.sign) result = WSub(Pi(), result);
  }
  return RoundWide(WithSign(result, y.sign), env);
}

Float80Trig F80Sin(Float80 x, FpEnv& env) {
  const TrigInput t = PrepareTrig(x, env);
  if (t.handled) return {t.special, t.out_of_range};
  return {RoundWide(SignedSin(t), env), false};
}

Float80Trig F80Cos(Float80 x, FpEnv& env) {
  const TrigInput t = PrepareTrig(x, env);
  if (t.handled) {
    // cos(+-0) = 1 exactly.
    if (!t.out_of_range && F80Classify(x) == X87Class::kZero) return {kFloat80One, false};
    return {t.special, t.out_of_range};
  }
  return {RoundWide(t.cos_abs, env), false};
}

Float80Trig F80Tan(Float80 x, FpEnv& env) {
  const TrigInput t = PrepareTrig(x, env);
  if (t.handled) return {t.special, t.out_of_range};
  return {RoundWide(WDiv(SignedSin(t), t.cos_abs), env), false};
}

Float80SinCos F80SinCos(Float80 x, FpEnv& env) {
  const TrigInput t = PrepareTrig(x, env);
  if (t.handled) {
    Float80 cos = t.special;
    if (!t.out_of_range && F80Classify(x) == X87Class::kZero) cos = kFloat80One;
    return {t.special, cos, t.out_of_range};
  }
  const Float80 sin = RoundWide(SignedSin(t), env);
  const bool sin_rounded_up = env.rounded_up;
  const Float80 cos = RoundWide(t.cos_abs, env);
  env.rounded_up = env.rounded_up || sin_rounded_up;
  return {sin, cos, false};
}

}  // namespace x86vm::softfloat
