// Private to cpu/simd: lane helpers that let one template implement both the
// 64-bit MMX form and the 128-bit XMM form of an instruction.
#ifndef X86VM_CPU_SIMD_LANES_H_
#define X86VM_CPU_SIMD_LANES_H_

#include <cstdint>
#include <limits>
#include <type_traits>

#include "cpu/simd/xmm.h"

namespace x86vm::simd::internal {

// An MMX value as 8 bytes, the same shape as Xmm, for the shared templates.
struct Mm {
  uint8_t bytes[8] = {};
};

// Converts the uint64_t MMX value into its byte form.
inline Mm ToMm(uint64_t value) {
  Mm m;
  StoreLe<uint64_t>(m.bytes, 0, value);
  return m;
}

// Converts the byte form back to the uint64_t MMX value.
inline uint64_t FromMm(const Mm& m) { return LoadLe<uint64_t>(m.bytes, 0); }

// Vector width in bytes (8 for Mm, 16 for Xmm).
template <typename V>
inline constexpr int kBytes = static_cast<int>(sizeof(V::bytes));

// Number of T-sized lanes in V.
template <typename T, typename V>
inline constexpr int kLanes = kBytes<V> / static_cast<int>(sizeof(T));

// Lane i of v as T.
template <typename T, typename V>
constexpr T Get(const V& v, int i) {
  return LoadLe<T>(v.bytes, static_cast<size_t>(i) * sizeof(T));
}

// Writes lane i of v as T.
template <typename T, typename V>
constexpr void Put(V& v, int i, T value) {
  StoreLe<T>(v.bytes, static_cast<size_t>(i) * sizeof(T), value);
}

// Applies f lane by lane to a and b, both read as T, truncating to T.
template <typename T, typename V, typename F>
V Map(const V& a, const V& b, F f) {
  V r;
  for (int i = 0; i < kLanes<T, V>; ++i) {
    Put<T>(r, i, static_cast<T>(f(Get<T>(a, i), Get<T>(b, i))));
  }
  return r;
}

// Applies f lane by lane to a read as T, truncating to T.
template <typename T, typename V, typename F>
V Map(const V& a, F f) {
  V r;
  for (int i = 0; i < kLanes<T, V>; ++i) {
    Put<T>(r, i, static_cast<T>(f(Get<T>(a, i))));
  }
  return r;
}

// Map on MMX values: the same lanes over the 8 bytes of a uint64_t.
template <typename T, typename F>
uint64_t Map(uint64_t a, uint64_t b, F f) {
  return FromMm(Map<T>(ToMm(a), ToMm(b), f));
}

// One-operand Map on an MMX value.
template <typename T, typename F>
uint64_t Map(uint64_t a, F f) {
  return FromMm(Map<T>(ToMm(a), f));
}

// Runs a two-operand implementation written for byte vectors on MMX values.
template <typename F>
uint64_t OnMm(F f, uint64_t a, uint64_t b) {
  return FromMm(f(ToMm(a), ToMm(b)));
}

// Runs a one-operand implementation written for byte vectors on an MMX value.
template <typename F>
uint64_t OnMm(F f, uint64_t a) {
  return FromMm(f(ToMm(a)));
}

// Clamps v to the range of T (the saturation of SDM Vol. 1 4.6.1.1).
template <typename T>
constexpr T Saturate(int64_t v) {
  constexpr int64_t kMin = std::numeric_limits<T>::min();
  constexpr int64_t kMax = std::numeric_limits<T>::max();
  return static_cast<T>(v < kMin ? kMin : (v > kMax ? kMax : v));
}

// Two's-complement negation without signed overflow (-INT_MIN == INT_MIN).
template <typename T>
constexpr T Negate(T v) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(U{0} - static_cast<U>(v)));
}

}  // namespace x86vm::simd::internal

#endif  // X86VM_CPU_SIMD_LANES_H_
