// The 128-bit XMM register value and the 64-bit MMX value as plain data, with
// little-endian lane accessors (SDM Vol. 1 4.6: packed elements are numbered
// from the least significant byte up). Byte order is built explicitly so the
// code means the same on any host.
#ifndef X86VM_CPU_SIMD_XMM_H_
#define X86VM_CPU_SIMD_XMM_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace x86vm::simd {

// Reads the little-endian integer of type T at bytes[offset].
template <typename T>
constexpr T LoadLe(const uint8_t* bytes, size_t offset) {
  using U = std::make_unsigned_t<T>;
  U value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value =
        static_cast<U>(value | (static_cast<U>(bytes[offset + i]) << (8 * i)));
  }
  return static_cast<T>(value);
}

// Writes the integer value of type T little-endian at bytes[offset].
template <typename T>
constexpr void StoreLe(uint8_t* bytes, size_t offset, T value) {
  using U = std::make_unsigned_t<T>;
  U bits = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i) {
    bytes[offset + i] = static_cast<uint8_t>(bits >> (8 * i));
  }
}

// One XMM register value: 16 bytes, byte 0 least significant. It lives in
// simd:: because CpuState has its own x86vm::Xmm (two quadwords); the
// interpreter converts at the register file.
struct Xmm {
  alignas(16) uint8_t bytes[16] = {};

  // Builds a value from its low and high quadwords.
  static constexpr Xmm FromU64(uint64_t low, uint64_t high) {
    Xmm x;
    x.set_u64(0, low);
    x.set_u64(1, high);
    return x;
  }

  // Lane i read as T (any 8/16/32/64-bit integer type); i counts T-sized lanes.
  template <typename T>
  constexpr T Lane(int i) const {
    return simd::LoadLe<T>(bytes, static_cast<size_t>(i) * sizeof(T));
  }
  // Lane i written as T; i counts T-sized lanes.
  template <typename T>
  constexpr void SetLane(int i, T value) {
    simd::StoreLe<T>(bytes, static_cast<size_t>(i) * sizeof(T), value);
  }

  // Unsigned lane getters.
  constexpr uint8_t u8(int i) const { return Lane<uint8_t>(i); }
  constexpr uint16_t u16(int i) const { return Lane<uint16_t>(i); }
  constexpr uint32_t u32(int i) const { return Lane<uint32_t>(i); }
  constexpr uint64_t u64(int i) const { return Lane<uint64_t>(i); }
  // Signed lane getters (two's complement).
  constexpr int8_t i8(int i) const { return Lane<int8_t>(i); }
  constexpr int16_t i16(int i) const { return Lane<int16_t>(i); }
  constexpr int32_t i32(int i) const { return Lane<int32_t>(i); }
  constexpr int64_t i64(int i) const { return Lane<int64_t>(i); }
  // Lane setters (signed values store their two's complement bits).
  constexpr void set_u8(int i, uint8_t v) { SetLane<uint8_t>(i, v); }
  constexpr void set_u16(int i, uint16_t v) { SetLane<uint16_t>(i, v); }
  constexpr void set_u32(int i, uint32_t v) { SetLane<uint32_t>(i, v); }
  constexpr void set_u64(int i, uint64_t v) { SetLane<uint64_t>(i, v); }
  constexpr void set_i8(int i, int8_t v) { SetLane<int8_t>(i, v); }
  constexpr void set_i16(int i, int16_t v) { SetLane<int16_t>(i, v); }
  constexpr void set_i32(int i, int32_t v) { SetLane<int32_t>(i, v); }
  constexpr void set_i64(int i, int64_t v) { SetLane<int64_t>(i, v); }

  // Bytewise equality.
  constexpr bool operator==(const Xmm&) const = default;
};

// An MMX register value is a uint64_t (bits 0..63 of the x87 register's
// significand, SDM Vol. 1 9.2.1); lane i of type T is bits [i*8*sizeof(T),
// ...).
template <typename T>
constexpr T MmxLane(uint64_t mm, int i) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(
      static_cast<U>(mm >> (static_cast<unsigned>(i) * 8 * sizeof(T))));
}

}  // namespace x86vm::simd

#endif  // X86VM_CPU_SIMD_XMM_H_
