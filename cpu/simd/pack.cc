#include "cpu/simd/pack.h"

#include <cstdint>

#include "cpu/simd/lanes.h"

namespace x86vm::simd {
namespace {

using internal::FromMm;
using internal::Get;
using internal::kLanes;
using internal::Put;
using internal::Saturate;
using internal::ToMm;

// Wide signed lanes of a fill the low half of the result and those of b the
// high half, each saturated to Narrow (SDM Vol. 2 PACKSSWB).
template <typename Wide, typename Narrow, typename V>
V Pack(const V& a, const V& b) {
  constexpr int kCount = kLanes<Wide, V>;
  V r;
  for (int i = 0; i < kCount; ++i) {
    Put<Narrow>(r, i, Saturate<Narrow>(Get<Wide>(a, i)));
    Put<Narrow>(r, kCount + i, Saturate<Narrow>(Get<Wide>(b, i)));
  }
  return r;
}

template <typename Wide, typename Narrow>
uint64_t Pack(uint64_t a, uint64_t b) {
  return FromMm(Pack<Wide, Narrow>(ToMm(a), ToMm(b)));
}

// Lanes of the low (or high) halves of a and b, alternating a, b.
template <typename T, bool kHigh, typename V>
V Unpack(const V& a, const V& b) {
  constexpr int kHalf = kLanes<T, V> / 2;
  constexpr int kBase = kHigh ? kHalf : 0;
  V r;
  for (int i = 0; i < kHalf; ++i) {
    Put<T>(r, 2 * i, Get<T>(a, kBase + i));
    Put<T>(r, 2 * i + 1, Get<T>(b, kBase + i));
  }
  return r;
}

template <typename T, bool kHigh>
uint64_t Unpack(uint64_t a, uint64_t b) {
  return FromMm(Unpack<T, kHigh>(ToMm(a), ToMm(b)));
}

// Narrow lanes of source, each converted to Wide (sign or zero extension
// follows from Narrow's signedness).
template <typename Narrow, typename Wide>
Xmm Extend(uint64_t source) {
  Xmm r;
  for (int i = 0; i < 16 / static_cast<int>(sizeof(Wide)); ++i) {
    r.SetLane<Wide>(i, static_cast<Wide>(MmxLane<Narrow>(source, i)));
  }
  return r;
}

}  // namespace

Xmm Packsswb(const Xmm& a, const Xmm& b) { return Pack<int16_t, int8_t>(a, b); }
uint64_t Packsswb(uint64_t a, uint64_t b) {
  return Pack<int16_t, int8_t>(a, b);
}
Xmm Packssdw(const Xmm& a, const Xmm& b) {
  return Pack<int32_t, int16_t>(a, b);
}
uint64_t Packssdw(uint64_t a, uint64_t b) {
  return Pack<int32_t, int16_t>(a, b);
}
Xmm Packuswb(const Xmm& a, const Xmm& b) {
  return Pack<int16_t, uint8_t>(a, b);
}
uint64_t Packuswb(uint64_t a, uint64_t b) {
  return Pack<int16_t, uint8_t>(a, b);
}
Xmm Packusdw(const Xmm& a, const Xmm& b) {
  return Pack<int32_t, uint16_t>(a, b);
}

Xmm Punpcklbw(const Xmm& a, const Xmm& b) {
  return Unpack<uint8_t, false>(a, b);
}
uint64_t Punpcklbw(uint64_t a, uint64_t b) {
  return Unpack<uint8_t, false>(a, b);
}
Xmm Punpcklwd(const Xmm& a, const Xmm& b) {
  return Unpack<uint16_t, false>(a, b);
}
uint64_t Punpcklwd(uint64_t a, uint64_t b) {
  return Unpack<uint16_t, false>(a, b);
}
Xmm Punpckldq(const Xmm& a, const Xmm& b) {
  return Unpack<uint32_t, false>(a, b);
}
uint64_t Punpckldq(uint64_t a, uint64_t b) {
  return Unpack<uint32_t, false>(a, b);
}
Xmm Punpcklqdq(const Xmm& a, const Xmm& b) {
  return Unpack<uint64_t, false>(a, b);
}
Xmm Punpckhbw(const Xmm& a, const Xmm& b) {
  return Unpack<uint8_t, true>(a, b);
}
uint64_t Punpckhbw(uint64_t a, uint64_t b) {
  return Unpack<uint8_t, true>(a, b);
}
Xmm Punpckhwd(const Xmm& a, const Xmm& b) {
  return Unpack<uint16_t, true>(a, b);
}
uint64_t Punpckhwd(uint64_t a, uint64_t b) {
  return Unpack<uint16_t, true>(a, b);
}
Xmm Punpckhdq(const Xmm& a, const Xmm& b) {
  return Unpack<uint32_t, true>(a, b);
}
uint64_t Punpckhdq(uint64_t a, uint64_t b) {
  return Unpack<uint32_t, true>(a, b);
}
Xmm Punpckhqdq(const Xmm& a, const Xmm& b) {
  return Unpack<uint64_t, true>(a, b);
}

Xmm Pmovsxbw(uint64_t source) { return Extend<int8_t, int16_t>(source); }
Xmm Pmovsxbd(uint64_t source) { return Extend<int8_t, int32_t>(source); }
Xmm Pmovsxbq(uint64_t source) { return Extend<int8_t, int64_t>(source); }
Xmm Pmovsxwd(uint64_t source) { return Extend<int16_t, int32_t>(source); }
Xmm Pmovsxwq(uint64_t source) { return Extend<int16_t, int64_t>(source); }
Xmm Pmovsxdq(uint64_t source) { return Extend<int32_t, int64_t>(source); }
Xmm Pmovzxbw(uint64_t source) { return Extend<uint8_t, uint16_t>(source); }
Xmm Pmovzxbd(uint64_t source) { return Extend<uint8_t, uint32_t>(source); }
Xmm Pmovzxbq(uint64_t source) { return Extend<uint8_t, uint64_t>(source); }
Xmm Pmovzxwd(uint64_t source) { return Extend<uint16_t, uint32_t>(source); }
Xmm Pmovzxwq(uint64_t source) { return Extend<uint16_t, uint64_t>(source); }
Xmm Pmovzxdq(uint64_t source) { return Extend<uint32_t, uint64_t>(source); }

}  // namespace x86vm::simd
