// Test helpers: random operands biased toward the interesting corners of each
// format, and printers for failure messages.
#ifndef X86VM_CPU_SOFTFLOAT_TEST_UTIL_H_
#define X86VM_CPU_SOFTFLOAT_TEST_UTIL_H_

#include <fmt/format.h>

#include <cstdint>
#include <random>
#include <string>

#include "cpu/softfloat/float80.h"

namespace x86vm::softfloat::testing {

// Formats a Float80 as "SEEE:MMMMMMMMMMMMMMMM".
inline std::string Hex(Float80 a) {
  return fmt::format("{:04x}:{:016x}", a.sign_exponent, a.significand);
}

// Deterministic generator of test operands.
class Operands {
 public:
  explicit Operands(uint64_t seed) : rng_(seed) {}

  // Uniform 64 random bits.
  uint64_t Bits() { return rng_(); }
  // Uniform integer in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  // True with probability 1/n.
  bool OneIn(int n) { return Range(0, n - 1) == 0; }

  // A significand pattern: random, or runs of ones/zeros that stress rounding.
  uint64_t Significand() {
    switch (Range(0, 7)) {
      case 0:
        return ~0ull << Range(0, 63);
      case 1:
        return (1ull << 63) | (1ull << Range(0, 62));
      case 2:
        return (1ull << 63) | (Bits() >> Range(1, 63));
      case 3:
        return (1ull << 63) | (Bits() << Range(1, 63) >> 1);
      default:
        return Bits() | (1ull << 63);
    }
  }

  // A Float80 mixing valid classes; with `near` set the exponent is close to `near_exp`.
  Float80 F80(int near_exp = -1) {
    const bool sign = OneIn(2);
    const int pick = static_cast<int>(Range(0, 99));
    if (pick < 2) return Float80::Make(sign, 0, 0);
    if (pick < 4) return Float80::Make(sign, 0x7FFF, 1ull << 63);
    if (pick < 6)
      return Float80::Make(sign, 0x7FFF,
                           (1ull << 63) | (Bits() >> 1) | (OneIn(2) ? 1ull << 62 : 1));
    if (pick < 10) return Float80::Make(sign, 0, Bits() >> Range(1, 63));  // denormal
    if (pick < 15) return Float80::Make(sign, static_cast<uint16_t>(Range(1, 80)), Significand());
    if (pick < 20)
      return Float80::Make(sign, static_cast<uint16_t>(Range(0x7FFE - 80, 0x7FFE)), Significand());
    if (near_exp >= 0 && pick < 70) {
      const int64_t e = std::clamp<int64_t>(near_exp + Range(-70, 70), 1, 0x7FFE);
      return Float80::Make(sign, static_cast<uint16_t>(e), Significand());
    }
    if (pick < 60)
      return Float80::Make(sign, static_cast<uint16_t>(Range(0x3FFF - 200, 0x3FFF + 200)),
                           Significand());
    return Float80::Make(sign, static_cast<uint16_t>(Range(1, 0x7FFE)), Significand());
  }

  // A binary32 mixing classes like F80().
  uint32_t F32() {
    const uint32_t sign = OneIn(2) ? 0x80000000u : 0;
    const uint32_t frac = static_cast<uint32_t>(Significand() >> 41);
    const int pick = static_cast<int>(Range(0, 99));
    if (pick < 3) return sign;
    if (pick < 5) return sign | 0x7F800000u;
    if (pick < 8) return sign | 0x7F800000u | (frac == 0 ? 1 : frac);
    if (pick < 15) return sign | (frac >> Range(0, 22));
    if (pick < 22) return sign | static_cast<uint32_t>(Range(1, 30)) << 23 | frac;
    if (pick < 28) return sign | static_cast<uint32_t>(Range(0xFE - 30, 0xFE)) << 23 | frac;
    return sign | static_cast<uint32_t>(Range(1, 0xFE)) << 23 | frac;
  }

  // A binary64 mixing classes like F80().
  uint64_t F64() {
    const uint64_t sign = OneIn(2) ? 0x8000000000000000ull : 0;
    const uint64_t frac = Significand() >> 12 & 0xFFFFFFFFFFFFFull;
    const int pick = static_cast<int>(Range(0, 99));
    if (pick < 3) return sign;
    if (pick < 5) return sign | 0x7FF0000000000000ull;
    if (pick < 8) return sign | 0x7FF0000000000000ull | (frac == 0 ? 1 : frac);
    if (pick < 15) return sign | (frac >> Range(0, 51));
    if (pick < 22) return sign | static_cast<uint64_t>(Range(1, 60)) << 52 | frac;
    if (pick < 28) return sign | static_cast<uint64_t>(Range(0x7FE - 60, 0x7FE)) << 52 | frac;
    return sign | static_cast<uint64_t>(Range(1, 0x7FE)) << 52 | frac;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace x86vm::softfloat::testing

#endif  // X86VM_CPU_SOFTFLOAT_TEST_UTIL_H_
