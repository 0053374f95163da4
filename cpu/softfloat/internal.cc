#include "cpu/softfloat/internal.h"

namespace x86vm::softfloat::internal {

u128 Isqrt128(u128 x, u128* remainder) {
  // Digit-by-digit square root, two bits of x per step.
  u128 root = 0;
  u128 bit = static_cast<u128>(1) << 126;
  while (bit > x) bit >>= 2;
  while (bit != 0) {
    if (x >= root + bit) {
      x -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  *remainder = x;
  return root;
}

namespace {

Unpacked Normalized(bool sign, int32_t exp, uint64_t sig, bool denormal) {
  Unpacked u;
  u.kind = Kind::kFinite;
  u.sign = sign;
  u.denormal = denormal;
  const int lz = std::countl_zero(sig);
  u.sig = sig << lz;
  u.exp = exp - lz;
  return u;
}

Unpacked Special(Kind kind, bool sign, uint64_t sig = 0) {
  Unpacked u;
  u.kind = kind;
  u.sign = sign;
  u.sig = sig;
  return u;
}

}  // namespace

Unpacked UnpackF80(Float80 a) {
  const bool sign = a.sign();
  const int biased = a.biased_exponent();
  const uint64_t sig = a.significand;
  const bool integer_bit = (sig >> 63) != 0;
  if (biased == 0x7FFF) {
    // Without the integer bit these are pseudo-infinity/pseudo-NaN (SDM Vol. 1 8.2.2).
    if (!integer_bit) return Special(Kind::kUnsupported, sign);
    if ((sig << 1) == 0) return Special(Kind::kInfinity, sign);
    return Special(Kind::kNaN, sign, sig);
  }
  if (biased == 0) {
    if (sig == 0) return Special(Kind::kZero, sign);
    // Denormals and pseudo-denormals (integer bit set) both have exponent 1 - bias.
    return Normalized(sign, 1 - kFloat80Bias, sig, true);
  }
  if (!integer_bit) return Special(Kind::kUnsupported, sign);  // unnormal
  return Normalized(sign, biased - kFloat80Bias, sig, false);
}

Unpacked UnpackF32(uint32_t a, bool daz) {
  const bool sign = (a >> 31) != 0;
  const int biased = (a >> 23) & 0xFF;
  const uint64_t frac = a & 0x7FFFFF;
  if (biased == 0xFF) {
    if (frac == 0) return Special(Kind::kInfinity, sign);
    return Special(Kind::kNaN, sign, (1ull << 63) | (frac << 40));
  }
  if (biased == 0) {
    if (frac == 0 || daz) return Special(Kind::kZero, sign);
    return Normalized(sign, -126, frac << 40, true);
  }
  return Normalized(sign, biased - 127, (1ull << 63) | (frac << 40), false);
}

Unpacked UnpackF64(uint64_t a, bool daz) {
  const bool sign = (a >> 63) != 0;
  const int biased = static_cast<int>((a >> 52) & 0x7FF);
  const uint64_t frac = a & 0xFFFFFFFFFFFFFull;
  if (biased == 0x7FF) {
    if (frac == 0) return Special(Kind::kInfinity, sign);
    return Special(Kind::kNaN, sign, (1ull << 63) | (frac << 11));
  }
  if (biased == 0) {
    if (frac == 0 || daz) return Special(Kind::kZero, sign);
    return Normalized(sign, -1022, frac << 11, true);
  }
  return Normalized(sign, biased - 1023, (1ull << 63) | (frac << 11), false);
}

RoundSpec X87ArithmeticSpec(PrecisionControl pc) {
  RoundSpec spec = kF80Spec;
  if (pc == PrecisionControl::kSingle) spec.precision_bits = 24;
  if (pc == PrecisionControl::kDouble) spec.precision_bits = 53;
  return spec;
}

namespace {

struct SigRound {
  u128 q = 0;  // kept bits, incremented when rounding up
  bool inexact = false;
  bool incremented = false;
};

// Keeps the top `keep` bits of the normalized sig (keep <= 64, may be <= 0).
SigRound RoundSig(u128 sig, int keep, bool sign, RoundingMode mode) {
  SigRound r;
  bool above_half = false;
  bool exactly_half = false;
  if (keep > 0) {
    const int shift = 128 - keep;
    r.q = sig >> shift;
    const u128 rest = sig & ((static_cast<u128>(1) << shift) - 1);
    const u128 half = static_cast<u128>(1) << (shift - 1);
    r.inexact = rest != 0;
    above_half = rest > half;
    exactly_half = rest == half;
  } else if (keep == 0) {
    r.inexact = true;
    exactly_half = sig == (static_cast<u128>(1) << 127);
    above_half = !exactly_half;
  } else {
    r.inexact = true;
  }
  switch (mode) {
    case RoundingMode::kNearestEven:
      r.incremented = above_half || (exactly_half && (r.q & 1) != 0);
      break;
    case RoundingMode::kDown:
      r.incremented = sign && r.inexact;
      break;
    case RoundingMode::kUp:
      r.incremented = !sign && r.inexact;
      break;
    case RoundingMode::kTowardZero:
      r.incremented = false;
      break;
  }
  r.q += r.incremented ? 1 : 0;
  return r;
}

}  // namespace

IntegerRounding RoundToInteger(bool sign, int32_t exp, uint64_t sig, RoundingMode mode) {
  IntegerRounding r;
  if (exp >= 64) {
    r.huge = true;
    return r;
  }
  if (exp >= 63) {
    r.magnitude = sig;
    return r;
  }
  const SigRound s = RoundSig(static_cast<u128>(sig) << 64, exp + 1, sign, mode);
  r.magnitude = s.q;
  r.inexact = s.inexact;
  r.incremented = s.incremented;
  return r;
}

Rounded Round(bool sign, int32_t exp, u128 sig, const RoundSpec& spec, FpEnv& env) {
  Rounded out;
  out.sign = sign;
  env.rounded_up = false;
  if (sig == 0) {
    out.exp = spec.emin;
    return out;
  }
  const int lz = Clz128(sig);
  sig <<= lz;
  exp -= lz;
  const int p = spec.precision_bits;
  const RoundingMode mode = env.rounding;

  // Tininess after rounding: the result rounded to p bits with an unbounded
  // exponent is below the smallest normal (measured on x87 and SSE hardware;
  // SDM Vol. 1 4.9.1.5 allows either).
  bool tiny =
      exp < spec.emin - 1 || (exp == spec.emin - 1 && (RoundSig(sig, p, sign, mode).q >> p) == 0);
  if (tiny && !env.Masked(kFlagUnderflow)) {
    env.Raise(kFlagUnderflow);
    if (spec.wrap) {
      // x87 with UE unmasked delivers the normalized result with the exponent
      // biased up by 6000H (SDM Vol. 1 8.5.5.2). When even that is out of
      // range (FSCALE), a signed zero with PE, whatever the rounding mode
      // (measured on Intel hardware).
      if (exp + kX87WrapBias < spec.emin) {
        env.Raise(kFlagPrecision);
        out.exp = spec.emin;
        return out;
      }
      exp += kX87WrapBias;
      tiny = false;
    } else if (!spec.x87) {
      // SSE with UE unmasked stores nothing (#XM). PE then says whether the
      // result rounded to the full precision with an unbounded exponent is
      // inexact, not the denormal rounding (measured on Intel hardware).
      const SigRound r = RoundSig(sig, p, sign, mode);
      if (r.inexact) env.Raise(kFlagPrecision);
      env.rounded_up = r.incremented;
      out.exp = spec.emin;
      return out;
    }
  }
  if (tiny && !spec.x87 && env.flush_to_zero && env.Masked(kFlagUnderflow)) {
    // SDM Vol. 1 10.2.3.3: flush-to-zero returns a signed zero, UE and PE set.
    env.Raise(kFlagUnderflow | kFlagPrecision);
    out.exp = spec.emin;
    return out;
  }

  int keep = p;
  if (exp < spec.emin) {
    const int32_t denormal_shift = spec.emin - exp;
    keep = denormal_shift > p + 1 ? -1 : p - denormal_shift;
  }
  const SigRound r = RoundSig(sig, keep, sign, mode);
  u128 q = r.q;
  int32_t e = exp;
  if (keep == p) {
    if ((q >> p) != 0) {
      q >>= 1;
      ++e;
    }
  } else {
    e = spec.emin;  // q counts units of the smallest denormal
  }
  if (r.inexact) env.Raise(kFlagPrecision);
  if (tiny && r.inexact) env.Raise(kFlagUnderflow);
  env.rounded_up = r.incremented;

  if (e > spec.emax) {
    if (spec.wrap && !env.Masked(kFlagOverflow)) {
      // SDM Vol. 1 8.5.4.2: unmasked x87 overflow delivers the rounded
      // result with the exponent biased down by 6000H. Beyond that range
      // (FSCALE) it is a signed infinity with PE and C1 set, whatever the
      // rounding mode (measured on Intel hardware).
      env.Raise(kFlagOverflow);
      e -= kX87WrapBias;
      if (e > spec.emax) {
        env.Raise(kFlagPrecision);
        env.rounded_up = true;
        out.infinity = true;
        return out;
      }
    } else if (!env.Masked(kFlagOverflow)) {
      // SSE with OE unmasked stores nothing (#XM); PE was raised above only
      // if rounding to the precision was inexact (measured on Intel
      // hardware: an exact 3 * 2^127 reports OE alone).
      env.Raise(kFlagOverflow);
      out.infinity = true;
      return out;
    } else {
      env.Raise(kFlagOverflow | kFlagPrecision);
      const bool to_infinity = mode == RoundingMode::kNearestEven ||
                               (mode == RoundingMode::kUp && !sign) ||
                               (mode == RoundingMode::kDown && sign);
      if (to_infinity) {
        out.infinity = true;
        env.rounded_up = true;
        return out;
      }
      // Largest finite value of the precision.
      env.rounded_up = false;
      out.exp = spec.emax;
      out.sig = ~0ull << (64 - p);
      return out;
    }
  }
  out.exp = e;
  out.sig = static_cast<uint64_t>(q << (64 - p));
  return out;
}

Float80 PackF80(const Rounded& r) {
  if (r.infinity) return F80Inf(r.sign);
  if ((r.sig >> 63) == 0) return Float80::Make(r.sign, 0, r.sig);
  return Float80::Make(r.sign, static_cast<uint16_t>(r.exp + kFloat80Bias), r.sig);
}

uint32_t PackF32(const Rounded& r) {
  if (r.infinity) return F32Inf(r.sign);
  uint32_t bits = r.sign ? 0x80000000u : 0;
  if ((r.sig >> 63) == 0) return bits | static_cast<uint32_t>(r.sig >> 40);
  return bits | (static_cast<uint32_t>(r.exp + 127) << 23) |
         (static_cast<uint32_t>(r.sig >> 40) & 0x7FFFFF);
}

uint64_t PackF64(const Rounded& r) {
  if (r.infinity) return F64Inf(r.sign);
  uint64_t bits = r.sign ? 0x8000000000000000ull : 0;
  if ((r.sig >> 63) == 0) return bits | (r.sig >> 11);
  return bits | (static_cast<uint64_t>(r.exp + 1023) << 52) | ((r.sig >> 11) & 0xFFFFFFFFFFFFFull);
}

Float80 QuietF80(const Unpacked& nan) {
  return Float80::Make(nan.sign, 0x7FFF, nan.sig | 0xC000000000000000ull);
}

uint32_t QuietF32(const Unpacked& nan) {
  return (nan.sign ? 0x80000000u : 0) | 0x7FC00000u |
         (static_cast<uint32_t>(nan.sig >> 40) & 0x7FFFFF);
}

uint64_t QuietF64(const Unpacked& nan) {
  return (nan.sign ? 0x8000000000000000ull : 0) | 0x7FF8000000000000ull |
         ((nan.sig >> 11) & 0xFFFFFFFFFFFFFull);
}

Float80 X87PropagateNaN(const Unpacked& a, const Unpacked& b, FpEnv& env) {
  if (a.IsSignalingNaN() || b.IsSignalingNaN()) env.Raise(kFlagInvalid);
  if (!a.IsNaN()) return QuietF80(b);
  if (!b.IsNaN()) return QuietF80(a);
  if (a.IsSignalingNaN() != b.IsSignalingNaN()) {
    return QuietF80(a.IsSignalingNaN() ? b : a);
  }
  // Same kind: the larger significand wins (SDM Vol. 1 Table 4-7); on a tie
  // the positive one.
  const uint64_t sa = a.sig | 0x4000000000000000ull;
  const uint64_t sb = b.sig | 0x4000000000000000ull;
  if (sa != sb) return QuietF80(sa > sb ? a : b);
  return QuietF80(a.sign ? b : a);
}

Float80 X87PropagateNaN(const Unpacked& a, FpEnv& env) {
  if (a.IsSignalingNaN()) env.Raise(kFlagInvalid);
  return QuietF80(a);
}

CompareResult CompareNumbers(const Unpacked& a, const Unpacked& b) {
  if (a.IsZero() && b.IsZero()) return CompareResult::kEqual;
  if (a.sign != b.sign) return a.sign ? CompareResult::kLess : CompareResult::kGreater;
  // Same sign: compare magnitudes; zeros and infinities slot in by kind.
  auto rank = [](const Unpacked& u) { return u.IsZero() ? 0 : u.IsInfinity() ? 2 : 1; };
  int cmp = 0;
  if (rank(a) != rank(b)) {
    cmp = rank(a) < rank(b) ? -1 : 1;
  } else if (rank(a) == 1) {
    if (a.exp != b.exp) {
      cmp = a.exp < b.exp ? -1 : 1;
    } else if (a.sig != b.sig) {
      cmp = a.sig < b.sig ? -1 : 1;
    }
  }
  if (a.sign) cmp = -cmp;
  return cmp < 0 ? CompareResult::kLess : cmp > 0 ? CompareResult::kGreater : CompareResult::kEqual;
}

Exact AddExact(const Unpacked& a, const Unpacked& b, bool subtract, RoundingMode mode) {
  const bool sb = b.sign != subtract;
  if (a.IsZero() && b.IsZero()) {
    Exact z;
    z.sign = a.sign == sb ? a.sign : mode == RoundingMode::kDown;
    return z;
  }
  if (a.IsZero()) return Exact{sb, b.exp, static_cast<u128>(b.sig) << 64};
  if (b.IsZero()) return ToExact(a);
  // Order by magnitude so the difference below is never negative.
  const bool a_larger = a.exp > b.exp || (a.exp == b.exp && a.sig >= b.sig);
  const Unpacked& big = a_larger ? a : b;
  const Unpacked& small = a_larger ? b : a;
  const bool big_sign = a_larger ? a.sign : sb;
  const bool small_sign = a_larger ? sb : a.sign;
  // Both at bit 126 leaves room for the carry; the 63 bits below the
  // significand plus the sticky bit are enough for any rounding.
  const u128 x = static_cast<u128>(big.sig) << 63;
  const u128 y = ShiftRightJam(static_cast<u128>(small.sig) << 63, big.exp - small.exp);
  Exact r;
  r.exp = big.exp + 1;
  r.sign = big_sign;
  if (big_sign == small_sign) {
    r.sig = x + y;
  } else {
    r.sig = x - y;
    if (r.sig == 0) r.sign = mode == RoundingMode::kDown;
  }
  return r;
}

Exact MulExact(const Unpacked& a, const Unpacked& b) {
  return Exact{a.sign != b.sign, a.exp + b.exp + 1, static_cast<u128>(a.sig) * b.sig};
}

Exact DivExact(const Unpacked& a, const Unpacked& b) {
  // 64 + 64 quotient bits from two long-division steps; the remainder is sticky.
  const u128 num = static_cast<u128>(a.sig) << 63;
  const uint64_t q1 = static_cast<uint64_t>(num / b.sig);
  const u128 r1 = num % b.sig;
  const u128 num2 = r1 << 64;
  const uint64_t q2 = static_cast<uint64_t>(num2 / b.sig);
  const bool sticky = num2 % b.sig != 0;
  return Exact{a.sign != b.sign, a.exp - b.exp,
               (static_cast<u128>(q1) << 64) | q2 | (sticky ? 1 : 0)};
}

Exact SqrtExact(const Unpacked& a) {
  // value = sig * 2^(exp - 63) = n * 2^k with k even and n in [2^126, 2^128).
  const bool odd = (a.exp & 1) != 0;
  const u128 n = static_cast<u128>(a.sig) << (odd ? 64 : 63);
  const int32_t k = a.exp - (odd ? 127 : 126);
  u128 rem;
  const u128 root = Isqrt128(n, &rem);
  // sqrt(n) lies above root + 1/2 exactly when rem > root; it is never exactly
  // halfway, so one guard bit and the sticky bit decide every rounding.
  u128 low = 0;
  if (rem > root) {
    low = (static_cast<u128>(1) << 63) | 1;
  } else if (rem != 0) {
    low = 1;
  }
  return Exact{false, k / 2 + 63, (root << 64) | low};
}

}  // namespace x86vm::softfloat::internal
