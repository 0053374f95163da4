#include "cpu/simd/horizontal.h"

#include <cstdint>
#include <cstdlib>

#include "cpu/simd/lanes.h"

namespace x86vm::simd {
namespace {

using internal::FromMm;
using internal::Get;
using internal::kLanes;
using internal::Put;
using internal::Saturate;
using internal::ToMm;

// Pairs (2i, 2i+1) of a fill the low half of the result and pairs of b the
// high half (SDM Vol. 2 PHADDW); `combine` maps one pair to the result lane.
template <typename T, typename V, typename F>
V Horizontal(const V& a, const V& b, F combine) {
  constexpr int kHalf = kLanes<T, V> / 2;
  V r;
  for (int i = 0; i < kHalf; ++i) {
    Put<T>(r, i,
           static_cast<T>(combine(Get<T>(a, 2 * i), Get<T>(a, 2 * i + 1))));
    Put<T>(r, kHalf + i,
           static_cast<T>(combine(Get<T>(b, 2 * i), Get<T>(b, 2 * i + 1))));
  }
  return r;
}

template <typename T, typename F>
uint64_t Horizontal(uint64_t a, uint64_t b, F combine) {
  return FromMm(Horizontal<T>(ToMm(a), ToMm(b), combine));
}

constexpr auto kAdd = [](auto x, auto y) { return x + y; };
constexpr auto kSub = [](auto x, auto y) { return x - y; };
constexpr auto kAddSat = [](int16_t x, int16_t y) {
  return Saturate<int16_t>(int64_t{x} + y);
};
constexpr auto kSubSat = [](int16_t x, int16_t y) {
  return Saturate<int16_t>(int64_t{x} - y);
};

template <typename V>
V MaddWd(const V& a, const V& b) {
  V r;
  for (int i = 0; i < kLanes<uint32_t, V>; ++i) {
    // Only 0x8000*0x8000*2 exceeds int32; the SDM result is its low 32 bits.
    int64_t sum =
        int64_t{Get<int16_t>(a, 2 * i)} * Get<int16_t>(b, 2 * i) +
        int64_t{Get<int16_t>(a, 2 * i + 1)} * Get<int16_t>(b, 2 * i + 1);
    Put<uint32_t>(r, i, static_cast<uint32_t>(sum));
  }
  return r;
}

template <typename V>
V MaddUbsw(const V& a, const V& b) {
  V r;
  for (int i = 0; i < kLanes<uint16_t, V>; ++i) {
    int64_t sum =
        int64_t{Get<uint8_t>(a, 2 * i)} * Get<int8_t>(b, 2 * i) +
        int64_t{Get<uint8_t>(a, 2 * i + 1)} * Get<int8_t>(b, 2 * i + 1);
    Put<int16_t>(r, i, Saturate<int16_t>(sum));
  }
  return r;
}

template <typename V>
V SadBw(const V& a, const V& b) {
  V r;
  for (int q = 0; q < kLanes<uint64_t, V>; ++q) {
    uint64_t sum = 0;
    for (int i = 8 * q; i < 8 * q + 8; ++i) {
      sum += static_cast<uint64_t>(
          std::abs(int{Get<uint8_t>(a, i)} - Get<uint8_t>(b, i)));
    }
    Put<uint64_t>(r, q, sum);
  }
  return r;
}

}  // namespace

Xmm Phaddw(const Xmm& a, const Xmm& b) {
  return Horizontal<uint16_t>(a, b, kAdd);
}
uint64_t Phaddw(uint64_t a, uint64_t b) {
  return Horizontal<uint16_t>(a, b, kAdd);
}
Xmm Phaddd(const Xmm& a, const Xmm& b) {
  return Horizontal<uint32_t>(a, b, kAdd);
}
uint64_t Phaddd(uint64_t a, uint64_t b) {
  return Horizontal<uint32_t>(a, b, kAdd);
}
Xmm Phaddsw(const Xmm& a, const Xmm& b) {
  return Horizontal<int16_t>(a, b, kAddSat);
}
uint64_t Phaddsw(uint64_t a, uint64_t b) {
  return Horizontal<int16_t>(a, b, kAddSat);
}
Xmm Phsubw(const Xmm& a, const Xmm& b) {
  return Horizontal<uint16_t>(a, b, kSub);
}
uint64_t Phsubw(uint64_t a, uint64_t b) {
  return Horizontal<uint16_t>(a, b, kSub);
}
Xmm Phsubd(const Xmm& a, const Xmm& b) {
  return Horizontal<uint32_t>(a, b, kSub);
}
uint64_t Phsubd(uint64_t a, uint64_t b) {
  return Horizontal<uint32_t>(a, b, kSub);
}
Xmm Phsubsw(const Xmm& a, const Xmm& b) {
  return Horizontal<int16_t>(a, b, kSubSat);
}
uint64_t Phsubsw(uint64_t a, uint64_t b) {
  return Horizontal<int16_t>(a, b, kSubSat);
}

Xmm Pmaddwd(const Xmm& a, const Xmm& b) { return MaddWd(a, b); }
uint64_t Pmaddwd(uint64_t a, uint64_t b) {
  return FromMm(MaddWd(ToMm(a), ToMm(b)));
}
Xmm Pmaddubsw(const Xmm& a, const Xmm& b) { return MaddUbsw(a, b); }
uint64_t Pmaddubsw(uint64_t a, uint64_t b) {
  return FromMm(MaddUbsw(ToMm(a), ToMm(b)));
}

Xmm Psadbw(const Xmm& a, const Xmm& b) { return SadBw(a, b); }
uint64_t Psadbw(uint64_t a, uint64_t b) {
  return FromMm(SadBw(ToMm(a), ToMm(b)));
}

Xmm Phminposuw(const Xmm& b) {
  int index = 0;
  for (int i = 1; i < 8; ++i) {
    if (b.u16(i) < b.u16(index))
      index = i;  // strict: the lowest index wins ties
  }
  return Xmm::FromU64(b.u16(index) | (static_cast<uint64_t>(index) << 16), 0);
}

Xmm Mpsadbw(const Xmm& a, const Xmm& b, uint8_t imm) {
  const int a_offset = (imm & 4) ? 4 : 0;
  const int b_offset = (imm & 3) * 4;
  Xmm r;
  for (int i = 0; i < 8; ++i) {
    int sum = 0;
    for (int k = 0; k < 4; ++k) {
      sum += std::abs(int{a.u8(a_offset + i + k)} - int{b.u8(b_offset + k)});
    }
    r.set_u16(i, static_cast<uint16_t>(sum));
  }
  return r;
}

}  // namespace x86vm::simd
