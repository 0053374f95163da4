#include "cpu/simd/shift.h"

#include <cstdint>

#include "cpu/simd/lanes.h"

namespace x86vm::simd {
namespace {

using internal::FromMm;
using internal::Get;
using internal::kBytes;
using internal::Map;
using internal::ToMm;

template <typename U>
constexpr uint64_t kLaneBits = 8 * sizeof(U);

// Logical left shift of U lanes; counts of lane width or more give zero.
template <typename U, typename V>
V ShiftLeft(const V& a, uint64_t count) {
  if (count >= kLaneBits<U>) return V{};
  return Map<U>(a, [count](U x) { return static_cast<uint64_t>(x) << count; });
}

// Logical right shift of U lanes; counts of lane width or more give zero.
template <typename U, typename V>
V ShiftRightLogical(const V& a, uint64_t count) {
  if (count >= kLaneBits<U>) return V{};
  return Map<U>(a, [count](U x) { return static_cast<uint64_t>(x) >> count; });
}

// Arithmetic right shift of signed S lanes; larger counts act as width - 1.
template <typename S, typename V>
V ShiftRightArithmetic(const V& a, uint64_t count) {
  const uint64_t clamped = count >= kLaneBits<S> ? kLaneBits<S> - 1 : count;
  // C++20 defines >> on negative values as arithmetic.
  return Map<S>(a,
                [clamped](S x) { return static_cast<int64_t>(x) >> clamped; });
}

// Byte i of the double-width concatenation high:low, zero beyond it.
template <typename V>
uint8_t ConcatByte(const V& high, const V& low, int i) {
  if (i < kBytes<V>) return Get<uint8_t>(low, i);
  if (i < 2 * kBytes<V>) return Get<uint8_t>(high, i - kBytes<V>);
  return 0;
}

template <typename V>
V AlignRight(const V& a, const V& b, uint8_t imm) {
  V r;
  for (int i = 0; i < kBytes<V>; ++i) {
    internal::Put<uint8_t>(r, i, ConcatByte(a, b, i + imm));
  }
  return r;
}

}  // namespace

Xmm Psllw(const Xmm& a, uint64_t count) {
  return ShiftLeft<uint16_t>(a, count);
}
uint64_t Psllw(uint64_t a, uint64_t count) {
  return FromMm(ShiftLeft<uint16_t>(ToMm(a), count));
}
Xmm Pslld(const Xmm& a, uint64_t count) {
  return ShiftLeft<uint32_t>(a, count);
}
uint64_t Pslld(uint64_t a, uint64_t count) {
  return FromMm(ShiftLeft<uint32_t>(ToMm(a), count));
}
Xmm Psllq(const Xmm& a, uint64_t count) {
  return ShiftLeft<uint64_t>(a, count);
}
uint64_t Psllq(uint64_t a, uint64_t count) {
  return count >= 64 ? 0 : a << count;
}

Xmm Psrlw(const Xmm& a, uint64_t count) {
  return ShiftRightLogical<uint16_t>(a, count);
}
uint64_t Psrlw(uint64_t a, uint64_t count) {
  return FromMm(ShiftRightLogical<uint16_t>(ToMm(a), count));
}
Xmm Psrld(const Xmm& a, uint64_t count) {
  return ShiftRightLogical<uint32_t>(a, count);
}
uint64_t Psrld(uint64_t a, uint64_t count) {
  return FromMm(ShiftRightLogical<uint32_t>(ToMm(a), count));
}
Xmm Psrlq(const Xmm& a, uint64_t count) {
  return ShiftRightLogical<uint64_t>(a, count);
}
uint64_t Psrlq(uint64_t a, uint64_t count) {
  return count >= 64 ? 0 : a >> count;
}

Xmm Psraw(const Xmm& a, uint64_t count) {
  return ShiftRightArithmetic<int16_t>(a, count);
}
uint64_t Psraw(uint64_t a, uint64_t count) {
  return FromMm(ShiftRightArithmetic<int16_t>(ToMm(a), count));
}
Xmm Psrad(const Xmm& a, uint64_t count) {
  return ShiftRightArithmetic<int32_t>(a, count);
}
uint64_t Psrad(uint64_t a, uint64_t count) {
  return FromMm(ShiftRightArithmetic<int32_t>(ToMm(a), count));
}

Xmm Pslldq(const Xmm& a, uint8_t imm) {
  Xmm r;
  for (int i = imm; i < 16; ++i) r.set_u8(i, a.u8(i - imm));
  return r;
}

Xmm Psrldq(const Xmm& a, uint8_t imm) {
  Xmm r;
  for (int i = 0; i + imm < 16; ++i) r.set_u8(i, a.u8(i + imm));
  return r;
}

Xmm Palignr(const Xmm& a, const Xmm& b, uint8_t imm) {
  return AlignRight(a, b, imm);
}
uint64_t Palignr(uint64_t a, uint64_t b, uint8_t imm) {
  return FromMm(AlignRight(ToMm(a), ToMm(b), imm));
}

}  // namespace x86vm::simd
