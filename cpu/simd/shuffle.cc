#include "cpu/simd/shuffle.h"

#include <cstdint>

#include "cpu/simd/lanes.h"

namespace x86vm::simd {
namespace {

using internal::FromMm;
using internal::Get;
using internal::kBytes;
using internal::Put;
using internal::ToMm;

// Two-bit selector i of imm.
constexpr int Selector(uint8_t imm, int i) { return (imm >> (2 * i)) & 3; }

template <typename V>
V ShuffleBytes(const V& a, const V& b) {
  V r;
  for (int i = 0; i < kBytes<V>; ++i) {
    const uint8_t control = Get<uint8_t>(b, i);
    const uint8_t value =
        (control & 0x80) ? 0 : Get<uint8_t>(a, control & (kBytes<V> - 1));
    Put<uint8_t>(r, i, value);
  }
  return r;
}

// Lane i of type T from b where `take_b(i)` holds, else from a.
template <typename T, typename F>
Xmm Blend(const Xmm& a, const Xmm& b, F take_b) {
  Xmm r;
  for (int i = 0; i < 16 / static_cast<int>(sizeof(T)); ++i) {
    r.SetLane<T>(i, take_b(i) ? b.Lane<T>(i) : a.Lane<T>(i));
  }
  return r;
}

}  // namespace

Xmm Pshufd(const Xmm& b, uint8_t imm) {
  Xmm r;
  for (int i = 0; i < 4; ++i) r.set_u32(i, b.u32(Selector(imm, i)));
  return r;
}

Xmm Pshufhw(const Xmm& b, uint8_t imm) {
  Xmm r = b;
  for (int i = 0; i < 4; ++i) r.set_u16(4 + i, b.u16(4 + Selector(imm, i)));
  return r;
}

Xmm Pshuflw(const Xmm& b, uint8_t imm) {
  Xmm r = b;
  for (int i = 0; i < 4; ++i) r.set_u16(i, b.u16(Selector(imm, i)));
  return r;
}

uint64_t Pshufw(uint64_t b, uint8_t imm) {
  uint64_t r = 0;
  for (int i = 0; i < 4; ++i) {
    r |= uint64_t{MmxLane<uint16_t>(b, Selector(imm, i))} << (16 * i);
  }
  return r;
}

Xmm Pshufb(const Xmm& a, const Xmm& b) { return ShuffleBytes(a, b); }
uint64_t Pshufb(uint64_t a, uint64_t b) {
  return FromMm(ShuffleBytes(ToMm(a), ToMm(b)));
}

Xmm Shufps(const Xmm& a, const Xmm& b, uint8_t imm) {
  Xmm r;
  r.set_u32(0, a.u32(Selector(imm, 0)));
  r.set_u32(1, a.u32(Selector(imm, 1)));
  r.set_u32(2, b.u32(Selector(imm, 2)));
  r.set_u32(3, b.u32(Selector(imm, 3)));
  return r;
}

Xmm Shufpd(const Xmm& a, const Xmm& b, uint8_t imm) {
  return Xmm::FromU64(a.u64(imm & 1), b.u64((imm >> 1) & 1));
}

Xmm Movsldup(const Xmm& b) {
  Xmm r;
  for (int i = 0; i < 4; ++i) r.set_u32(i, b.u32(i & ~1));
  return r;
}

Xmm Movshdup(const Xmm& b) {
  Xmm r;
  for (int i = 0; i < 4; ++i) r.set_u32(i, b.u32(i | 1));
  return r;
}

Xmm Movddup(const Xmm& b) { return Xmm::FromU64(b.u64(0), b.u64(0)); }

Xmm Pblendw(const Xmm& a, const Xmm& b, uint8_t imm) {
  return Blend<uint16_t>(a, b, [imm](int i) { return (imm >> i) & 1; });
}
Xmm Blendps(const Xmm& a, const Xmm& b, uint8_t imm) {
  return Blend<uint32_t>(a, b, [imm](int i) { return (imm >> i) & 1; });
}
Xmm Blendpd(const Xmm& a, const Xmm& b, uint8_t imm) {
  return Blend<uint64_t>(a, b, [imm](int i) { return (imm >> i) & 1; });
}
Xmm Pblendvb(const Xmm& a, const Xmm& b, const Xmm& mask) {
  return Blend<uint8_t>(a, b, [&mask](int i) { return mask.i8(i) < 0; });
}
Xmm Blendvps(const Xmm& a, const Xmm& b, const Xmm& mask) {
  return Blend<uint32_t>(a, b, [&mask](int i) { return mask.i32(i) < 0; });
}
Xmm Blendvpd(const Xmm& a, const Xmm& b, const Xmm& mask) {
  return Blend<uint64_t>(a, b, [&mask](int i) { return mask.i64(i) < 0; });
}

}  // namespace x86vm::simd
