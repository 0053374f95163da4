#include "cpu/simd/compare_logic.h"

#include <cstdint>

#include "cpu/simd/lanes.h"

namespace x86vm::simd {
namespace {

using internal::Map;

// Compare results are all ones (-1 truncated to the lane) or zero.
constexpr auto kEqual = [](auto x, auto y) { return x == y ? -1 : 0; };
constexpr auto kGreater = [](auto x, auto y) { return x > y ? -1 : 0; };
constexpr auto kAnd = [](uint64_t x, uint64_t y) { return x & y; };
constexpr auto kAndNot = [](uint64_t x, uint64_t y) { return ~x & y; };
constexpr auto kOr = [](uint64_t x, uint64_t y) { return x | y; };
constexpr auto kXor = [](uint64_t x, uint64_t y) { return x ^ y; };

// Collects the top bit of each T lane of v, lane i into bit i.
template <typename T>
uint32_t SignMask(const Xmm& v) {
  uint32_t mask = 0;
  for (int i = 0; i < 16 / static_cast<int>(sizeof(T)); ++i) {
    if (v.Lane<T>(i) < 0) mask |= 1u << i;
  }
  return mask;
}

}  // namespace

Xmm Pcmpeqb(const Xmm& a, const Xmm& b) { return Map<uint8_t>(a, b, kEqual); }
uint64_t Pcmpeqb(uint64_t a, uint64_t b) { return Map<uint8_t>(a, b, kEqual); }
Xmm Pcmpeqw(const Xmm& a, const Xmm& b) { return Map<uint16_t>(a, b, kEqual); }
uint64_t Pcmpeqw(uint64_t a, uint64_t b) { return Map<uint16_t>(a, b, kEqual); }
Xmm Pcmpeqd(const Xmm& a, const Xmm& b) { return Map<uint32_t>(a, b, kEqual); }
uint64_t Pcmpeqd(uint64_t a, uint64_t b) { return Map<uint32_t>(a, b, kEqual); }
Xmm Pcmpeqq(const Xmm& a, const Xmm& b) { return Map<uint64_t>(a, b, kEqual); }
Xmm Pcmpgtb(const Xmm& a, const Xmm& b) { return Map<int8_t>(a, b, kGreater); }
uint64_t Pcmpgtb(uint64_t a, uint64_t b) { return Map<int8_t>(a, b, kGreater); }
Xmm Pcmpgtw(const Xmm& a, const Xmm& b) { return Map<int16_t>(a, b, kGreater); }
uint64_t Pcmpgtw(uint64_t a, uint64_t b) {
  return Map<int16_t>(a, b, kGreater);
}
Xmm Pcmpgtd(const Xmm& a, const Xmm& b) { return Map<int32_t>(a, b, kGreater); }
uint64_t Pcmpgtd(uint64_t a, uint64_t b) {
  return Map<int32_t>(a, b, kGreater);
}
Xmm Pcmpgtq(const Xmm& a, const Xmm& b) { return Map<int64_t>(a, b, kGreater); }

Xmm Pand(const Xmm& a, const Xmm& b) { return Map<uint64_t>(a, b, kAnd); }
uint64_t Pand(uint64_t a, uint64_t b) { return kAnd(a, b); }
Xmm Pandn(const Xmm& a, const Xmm& b) { return Map<uint64_t>(a, b, kAndNot); }
uint64_t Pandn(uint64_t a, uint64_t b) { return kAndNot(a, b); }
Xmm Por(const Xmm& a, const Xmm& b) { return Map<uint64_t>(a, b, kOr); }
uint64_t Por(uint64_t a, uint64_t b) { return kOr(a, b); }
Xmm Pxor(const Xmm& a, const Xmm& b) { return Map<uint64_t>(a, b, kXor); }
uint64_t Pxor(uint64_t a, uint64_t b) { return kXor(a, b); }

FlagUpdate Ptest(const Xmm& a, const Xmm& b) {
  const uint64_t and_bits = (a.u64(0) & b.u64(0)) | (a.u64(1) & b.u64(1));
  const uint64_t andn_bits = (~a.u64(0) & b.u64(0)) | (~a.u64(1) & b.u64(1));
  FlagUpdate f{.written = kStatusFlags};
  if (and_bits == 0) f.values |= kFlagZf;
  if (andn_bits == 0) f.values |= kFlagCf;
  return f;
}

uint32_t Pmovmskb(const Xmm& b) { return SignMask<int8_t>(b); }
uint32_t Pmovmskb(uint64_t b) {
  uint32_t mask = 0;
  for (int i = 0; i < 8; ++i)
    mask |= static_cast<uint32_t>((b >> (8 * i + 7)) & 1) << i;
  return mask;
}
uint32_t Movmskps(const Xmm& b) { return SignMask<int32_t>(b); }
uint32_t Movmskpd(const Xmm& b) { return SignMask<int64_t>(b); }

}  // namespace x86vm::simd
