#include "cpu/softfloat/wide.h"

namespace x86vm::softfloat::internal {

Wide WNormalize(Wide a) {
  if (a.sig == 0) return Wide{a.sign, 0, 0};
  const int lz = Clz128(a.sig);
  a.sig <<= lz;
  a.exp -= lz;
  return a;
}

Wide WFromInt(int64_t v) {
  const bool sign = v < 0;
  const uint64_t magnitude = sign ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  return WNormalize(Wide{sign, 127, magnitude});
}

int WCompareMagnitude(const Wide& a, const Wide& b) {
  if (WIsZero(a) || WIsZero(b)) return WIsZero(a) == WIsZero(b) ? 0 : WIsZero(a) ? -1 : 1;
  if (a.exp != b.exp) return a.exp < b.exp ? -1 : 1;
  if (a.sig != b.sig) return a.sig < b.sig ? -1 : 1;
  return 0;
}

Wide WAdd(const Wide& a, const Wide& b) {
  if (WIsZero(a)) return b;
  if (WIsZero(b)) return a;
  const bool a_larger = WCompareMagnitude(a, b) >= 0;
  const Wide& big = a_larger ? a : b;
  const Wide& small = a_larger ? b : a;
  const int32_t d = big.exp - small.exp;
  if (d > 129) {
    // small lies wholly below big's last bit: it only says which side of
    // big the sum is on, unless big's sticky bit already says "inexact".
    if ((big.sig & 1) != 0) return big;
    if (big.sign == small.sign) return Wide{big.sign, big.exp, big.sig | 1};
    if (big.sig == static_cast<u128>(1) << 127)
      return Wide{big.sign, big.exp - 1, ~static_cast<u128>(0)};
    return Wide{big.sign, big.exp, big.sig - 1};
  }
  // One bit of headroom for the carry; dropped bits become sticky.
  const u128 x = (big.sig >> 1) | (big.sig & 1);
  const u128 y = ShiftRightJam(small.sig, d + 1);
  Wide r{big.sign, big.exp + 1, big.sign == small.sign ? x + y : x - y};
  return WNormalize(r);
}

Wide WMul(const Wide& a, const Wide& b) {
  if (WIsZero(a) || WIsZero(b)) return Wide{a.sign != b.sign, 0, 0};
  const uint64_t a1 = static_cast<uint64_t>(a.sig >> 64), a0 = static_cast<uint64_t>(a.sig);
  const uint64_t b1 = static_cast<uint64_t>(b.sig >> 64), b0 = static_cast<uint64_t>(b.sig);
  const u128 p00 = static_cast<u128>(a0) * b0;
  const u128 p01 = static_cast<u128>(a0) * b1;
  const u128 p10 = static_cast<u128>(a1) * b0;
  const u128 p11 = static_cast<u128>(a1) * b1;
  // Middle column with its carries into the high 128 bits.
  const u128 mid = (p00 >> 64) + static_cast<uint64_t>(p01) + static_cast<uint64_t>(p10);
  const u128 hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
  const uint64_t lo_top = static_cast<uint64_t>(mid);  // bits 64..127 of the product
  const bool sticky = static_cast<uint64_t>(p00) != 0 || lo_top != 0;
  Wide r{a.sign != b.sign, a.exp + b.exp + 1, hi};
  if ((hi >> 127) == 0) {
    r.sig = (hi << 1) | (lo_top >> 63);
    --r.exp;
  }
  r.sig |= sticky ? 1 : 0;
  return r;
}

Wide WDiv(const Wide& a, const Wide& b) {
  if (WIsZero(a)) return Wide{a.sign != b.sign, 0, 0};
  // Restoring long division, one quotient bit per step.
  u128 r = a.sig;
  bool carry = false;
  u128 q = 0;
  for (int i = 0; i < 128; ++i) {
    const bool ge = carry || r >= b.sig;
    if (ge) r -= b.sig;
    q = (q << 1) | (ge ? 1 : 0);
    carry = (r >> 127) != 0;
    r <<= 1;
  }
  Wide result = WNormalize(Wide{a.sign != b.sign, a.exp - b.exp, q});
  result.sig |= (r != 0 || carry) ? 1 : 0;
  return result;
}

Wide WDivSmall(const Wide& a, uint32_t d) {
  if (WIsZero(a)) return a;
  const u128 q = a.sig / d;
  const u128 rem = a.sig % d;
  const uint64_t extra = static_cast<uint64_t>((rem << 64) / d);
  const int lz = Clz128(q);  // at most 32 for d < 2^32
  const u128 sig = lz == 0 ? q : (q << lz) | (extra >> (64 - lz));
  const bool sticky = (rem << 64) % d != 0 || (lz == 0 ? extra : extra << lz) != 0;
  return Wide{a.sign, a.exp - lz, sig | (sticky ? 1 : 0)};
}

}  // namespace x86vm::softfloat::internal
