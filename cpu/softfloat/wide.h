// A 128-bit-significand float used only inside the transcendental
// functions. Every operation truncates and ORs whatever it dropped into bit 0
// (a sticky bit), so the error stays below 2^-126 relative and, in the common
// near-exact cases (sin x ~ x, cos x ~ 1, atan t ~ t), the side of the
// truncated value the true result lies on survives to the final rounding.
// Values are internal::Exact (sign * sig * 2^(exp - 127)), normalized (bit
// 127 set) or 0.
#ifndef X86VM_CPU_SOFTFLOAT_WIDE_H_
#define X86VM_CPU_SOFTFLOAT_WIDE_H_

#include <cstdint>

#include "cpu/softfloat/internal.h"

namespace x86vm::softfloat::internal {

using Wide = Exact;

// Normalizes so bit 127 is set (zero stays zero).
Wide WNormalize(Wide a);
// The integer v exactly.
Wide WFromInt(int64_t v);
// 1.0.
inline Wide WOne() { return Wide{false, 0, static_cast<u128>(1) << 127}; }
// -a.
inline Wide WNeg(Wide a) {
  a.sign = !a.sign;
  return a;
}
// a * 2^n.
inline Wide WScale(Wide a, int32_t n) {
  if (a.sig != 0) a.exp += n;
  return a;
}
// True for zero.
inline bool WIsZero(const Wide& a) { return a.sig == 0; }
// a + b.
Wide WAdd(const Wide& a, const Wide& b);
// a - b.
inline Wide WSub(const Wide& a, const Wide& b) { return WAdd(a, WNeg(b)); }
// a * b.
Wide WMul(const Wide& a, const Wide& b);
// a / b, b nonzero.
Wide WDiv(const Wide& a, const Wide& b);
// a / d for a small positive integer d.
Wide WDivSmall(const Wide& a, uint32_t d);
// Compares |a| and |b|: -1, 0 or 1.
int WCompareMagnitude(const Wide& a, const Wide& b);
// True when a term is too small to change a sum beyond its sticky bit; series
// add that term (for its sign) and then stop.
inline bool WNegligible(const Wide& term, const Wide& sum) {
  return WIsZero(term) || (!WIsZero(sum) && term.exp < sum.exp - 132);
}

}  // namespace x86vm::softfloat::internal

#endif  // X86VM_CPU_SOFTFLOAT_WIDE_H_
