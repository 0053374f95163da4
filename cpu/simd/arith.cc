#include "cpu/simd/arith.h"

#include <algorithm>
#include <cstdint>

#include "cpu/simd/lanes.h"

namespace x86vm::simd {
namespace {

using internal::Map;
using internal::Negate;
using internal::Saturate;

// Wrapping lane operations: the integer promotion or unsigned arithmetic
// followed by Map's truncation to the lane type gives the modular result.
constexpr auto kAdd = [](auto x, auto y) { return x + y; };
constexpr auto kSub = [](auto x, auto y) { return x - y; };
constexpr auto kMin = [](auto x, auto y) { return std::min(x, y); };
constexpr auto kMax = [](auto x, auto y) { return std::max(x, y); };

// Saturating add and subtract in 64 bits, clamped to the lane type T.
template <typename T>
constexpr auto kAddSat =
    [](T x, T y) { return Saturate<T>(int64_t{x} + int64_t{y}); };
template <typename T>
constexpr auto kSubSat =
    [](T x, T y) { return Saturate<T>(int64_t{x} - int64_t{y}); };

// SDM PAVGB: the sum is formed with one extra bit, so no overflow.
constexpr auto kAvg = [](auto x, auto y) {
  return (uint32_t{x} + uint32_t{y} + 1) >> 1;
};

constexpr auto kMulLow16 = [](int16_t x, int16_t y) {
  return int32_t{x} * int32_t{y};
};
constexpr auto kMulHigh16 = [](int16_t x, int16_t y) {
  return (int32_t{x} * int32_t{y}) >> 16;
};
constexpr auto kMulHighU16 = [](uint16_t x, uint16_t y) {
  return (uint32_t{x} * uint32_t{y}) >> 16;
};
// SDM PMULHRSW: ((x * y >> 14) + 1) >> 1, keeping 16 bits.
constexpr auto kMulHighRound = [](int16_t x, int16_t y) {
  return (((int32_t{x} * int32_t{y}) >> 14) + 1) >> 1;
};
constexpr auto kMulUnsignedDq = [](uint64_t x, uint64_t y) {
  return (x & 0xffffffffu) * (y & 0xffffffffu);
};
constexpr auto kMulSignedDq = [](uint64_t x, uint64_t y) {
  return static_cast<uint64_t>(int64_t{static_cast<int32_t>(x)} *
                               int64_t{static_cast<int32_t>(y)});
};
constexpr auto kMulLow32 = [](uint32_t x, uint32_t y) {
  return uint64_t{x} * uint64_t{y};
};

template <typename T>
constexpr auto kSign =
    [](T x, T y) { return y < 0 ? Negate(x) : (y == 0 ? T{0} : x); };
template <typename T>
constexpr auto kAbs = [](T x) { return x < 0 ? Negate(x) : x; };

}  // namespace

Xmm Paddb(const Xmm& a, const Xmm& b) { return Map<uint8_t>(a, b, kAdd); }
uint64_t Paddb(uint64_t a, uint64_t b) { return Map<uint8_t>(a, b, kAdd); }
Xmm Paddw(const Xmm& a, const Xmm& b) { return Map<uint16_t>(a, b, kAdd); }
uint64_t Paddw(uint64_t a, uint64_t b) { return Map<uint16_t>(a, b, kAdd); }
Xmm Paddd(const Xmm& a, const Xmm& b) { return Map<uint32_t>(a, b, kAdd); }
uint64_t Paddd(uint64_t a, uint64_t b) { return Map<uint32_t>(a, b, kAdd); }
Xmm Paddq(const Xmm& a, const Xmm& b) { return Map<uint64_t>(a, b, kAdd); }
uint64_t Paddq(uint64_t a, uint64_t b) { return a + b; }

Xmm Paddsb(const Xmm& a, const Xmm& b) {
  return Map<int8_t>(a, b, kAddSat<int8_t>);
}
uint64_t Paddsb(uint64_t a, uint64_t b) {
  return Map<int8_t>(a, b, kAddSat<int8_t>);
}
Xmm Paddsw(const Xmm& a, const Xmm& b) {
  return Map<int16_t>(a, b, kAddSat<int16_t>);
}
uint64_t Paddsw(uint64_t a, uint64_t b) {
  return Map<int16_t>(a, b, kAddSat<int16_t>);
}
Xmm Paddusb(const Xmm& a, const Xmm& b) {
  return Map<uint8_t>(a, b, kAddSat<uint8_t>);
}
uint64_t Paddusb(uint64_t a, uint64_t b) {
  return Map<uint8_t>(a, b, kAddSat<uint8_t>);
}
Xmm Paddusw(const Xmm& a, const Xmm& b) {
  return Map<uint16_t>(a, b, kAddSat<uint16_t>);
}
uint64_t Paddusw(uint64_t a, uint64_t b) {
  return Map<uint16_t>(a, b, kAddSat<uint16_t>);
}

Xmm Psubb(const Xmm& a, const Xmm& b) { return Map<uint8_t>(a, b, kSub); }
uint64_t Psubb(uint64_t a, uint64_t b) { return Map<uint8_t>(a, b, kSub); }
Xmm Psubw(const Xmm& a, const Xmm& b) { return Map<uint16_t>(a, b, kSub); }
uint64_t Psubw(uint64_t a, uint64_t b) { return Map<uint16_t>(a, b, kSub); }
Xmm Psubd(const Xmm& a, const Xmm& b) { return Map<uint32_t>(a, b, kSub); }
uint64_t Psubd(uint64_t a, uint64_t b) { return Map<uint32_t>(a, b, kSub); }
Xmm Psubq(const Xmm& a, const Xmm& b) { return Map<uint64_t>(a, b, kSub); }
uint64_t Psubq(uint64_t a, uint64_t b) { return a - b; }

Xmm Psubsb(const Xmm& a, const Xmm& b) {
  return Map<int8_t>(a, b, kSubSat<int8_t>);
}
uint64_t Psubsb(uint64_t a, uint64_t b) {
  return Map<int8_t>(a, b, kSubSat<int8_t>);
}
Xmm Psubsw(const Xmm& a, const Xmm& b) {
  return Map<int16_t>(a, b, kSubSat<int16_t>);
}
uint64_t Psubsw(uint64_t a, uint64_t b) {
  return Map<int16_t>(a, b, kSubSat<int16_t>);
}
Xmm Psubusb(const Xmm& a, const Xmm& b) {
  return Map<uint8_t>(a, b, kSubSat<uint8_t>);
}
uint64_t Psubusb(uint64_t a, uint64_t b) {
  return Map<uint8_t>(a, b, kSubSat<uint8_t>);
}
Xmm Psubusw(const Xmm& a, const Xmm& b) {
  return Map<uint16_t>(a, b, kSubSat<uint16_t>);
}
uint64_t Psubusw(uint64_t a, uint64_t b) {
  return Map<uint16_t>(a, b, kSubSat<uint16_t>);
}

Xmm Pmullw(const Xmm& a, const Xmm& b) { return Map<int16_t>(a, b, kMulLow16); }
uint64_t Pmullw(uint64_t a, uint64_t b) {
  return Map<int16_t>(a, b, kMulLow16);
}
Xmm Pmulhw(const Xmm& a, const Xmm& b) {
  return Map<int16_t>(a, b, kMulHigh16);
}
uint64_t Pmulhw(uint64_t a, uint64_t b) {
  return Map<int16_t>(a, b, kMulHigh16);
}
Xmm Pmulhuw(const Xmm& a, const Xmm& b) {
  return Map<uint16_t>(a, b, kMulHighU16);
}
uint64_t Pmulhuw(uint64_t a, uint64_t b) {
  return Map<uint16_t>(a, b, kMulHighU16);
}
Xmm Pmulhrsw(const Xmm& a, const Xmm& b) {
  return Map<int16_t>(a, b, kMulHighRound);
}
uint64_t Pmulhrsw(uint64_t a, uint64_t b) {
  return Map<int16_t>(a, b, kMulHighRound);
}
Xmm Pmuludq(const Xmm& a, const Xmm& b) {
  return Map<uint64_t>(a, b, kMulUnsignedDq);
}
uint64_t Pmuludq(uint64_t a, uint64_t b) { return kMulUnsignedDq(a, b); }
Xmm Pmuldq(const Xmm& a, const Xmm& b) {
  return Map<uint64_t>(a, b, kMulSignedDq);
}
Xmm Pmulld(const Xmm& a, const Xmm& b) {
  return Map<uint32_t>(a, b, kMulLow32);
}

Xmm Pavgb(const Xmm& a, const Xmm& b) { return Map<uint8_t>(a, b, kAvg); }
uint64_t Pavgb(uint64_t a, uint64_t b) { return Map<uint8_t>(a, b, kAvg); }
Xmm Pavgw(const Xmm& a, const Xmm& b) { return Map<uint16_t>(a, b, kAvg); }
uint64_t Pavgw(uint64_t a, uint64_t b) { return Map<uint16_t>(a, b, kAvg); }

Xmm Pminub(const Xmm& a, const Xmm& b) { return Map<uint8_t>(a, b, kMin); }
uint64_t Pminub(uint64_t a, uint64_t b) { return Map<uint8_t>(a, b, kMin); }
Xmm Pminsw(const Xmm& a, const Xmm& b) { return Map<int16_t>(a, b, kMin); }
uint64_t Pminsw(uint64_t a, uint64_t b) { return Map<int16_t>(a, b, kMin); }
Xmm Pmaxub(const Xmm& a, const Xmm& b) { return Map<uint8_t>(a, b, kMax); }
uint64_t Pmaxub(uint64_t a, uint64_t b) { return Map<uint8_t>(a, b, kMax); }
Xmm Pmaxsw(const Xmm& a, const Xmm& b) { return Map<int16_t>(a, b, kMax); }
uint64_t Pmaxsw(uint64_t a, uint64_t b) { return Map<int16_t>(a, b, kMax); }
Xmm Pminsb(const Xmm& a, const Xmm& b) { return Map<int8_t>(a, b, kMin); }
Xmm Pminuw(const Xmm& a, const Xmm& b) { return Map<uint16_t>(a, b, kMin); }
Xmm Pminsd(const Xmm& a, const Xmm& b) { return Map<int32_t>(a, b, kMin); }
Xmm Pminud(const Xmm& a, const Xmm& b) { return Map<uint32_t>(a, b, kMin); }
Xmm Pmaxsb(const Xmm& a, const Xmm& b) { return Map<int8_t>(a, b, kMax); }
Xmm Pmaxuw(const Xmm& a, const Xmm& b) { return Map<uint16_t>(a, b, kMax); }
Xmm Pmaxsd(const Xmm& a, const Xmm& b) { return Map<int32_t>(a, b, kMax); }
Xmm Pmaxud(const Xmm& a, const Xmm& b) { return Map<uint32_t>(a, b, kMax); }

Xmm Psignb(const Xmm& a, const Xmm& b) {
  return Map<int8_t>(a, b, kSign<int8_t>);
}
uint64_t Psignb(uint64_t a, uint64_t b) {
  return Map<int8_t>(a, b, kSign<int8_t>);
}
Xmm Psignw(const Xmm& a, const Xmm& b) {
  return Map<int16_t>(a, b, kSign<int16_t>);
}
uint64_t Psignw(uint64_t a, uint64_t b) {
  return Map<int16_t>(a, b, kSign<int16_t>);
}
Xmm Psignd(const Xmm& a, const Xmm& b) {
  return Map<int32_t>(a, b, kSign<int32_t>);
}
uint64_t Psignd(uint64_t a, uint64_t b) {
  return Map<int32_t>(a, b, kSign<int32_t>);
}

Xmm Pabsb(const Xmm& b) { return Map<int8_t>(b, kAbs<int8_t>); }
uint64_t Pabsb(uint64_t b) { return Map<int8_t>(b, kAbs<int8_t>); }
Xmm Pabsw(const Xmm& b) { return Map<int16_t>(b, kAbs<int16_t>); }
uint64_t Pabsw(uint64_t b) { return Map<int16_t>(b, kAbs<int16_t>); }
Xmm Pabsd(const Xmm& b) { return Map<int32_t>(b, kAbs<int32_t>); }
uint64_t Pabsd(uint64_t b) { return Map<int32_t>(b, kAbs<int32_t>); }

}  // namespace x86vm::simd
