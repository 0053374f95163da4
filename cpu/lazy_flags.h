// Lazy status flags for the specialized handlers (exec_fast.cc): an
// arithmetic or logic instruction records its result and a word of carry
// bits instead of assembling six RFLAGS bits, and whoever needs a flag
// decodes just that one. Bochs keeps its flags the same way (a result and
// "auxbits"); the encoding here is our own.
//
//   res: the result, sign-extended from its operand size to 64 bits, so
//        ZF = (res == 0), SF = bit 63, PF = parity of the low byte.
//   aux: bit 63 = CF, bit 62 = CF ^ OF, bit 4 = AF (RFLAGS' AF position);
//        every other bit is 0.
//
// For an addition, bits 63:62 are the carries out of the operand's top two
// bits (so OF = carry into the top bit ^ carry out of it, SDM Vol. 1 3.4.3.1);
// for a subtraction the borrows. Nothing here touches CPU state: lazy_flags
// _test.cc checks every function against alu.h.
#ifndef X86VM_CPU_LAZY_FLAGS_H_
#define X86VM_CPU_LAZY_FLAGS_H_

#include <cstdint>
#include <type_traits>

#include "cpu/alu.h"
#include "cpu/cpu_state.h"
#include "cpu/hot_inline.h"

namespace x86vm::lazy {

inline constexpr uint64_t kCfBit = 1ull << 63;
inline constexpr uint64_t kCfXorOfBit = 1ull << 62;
inline constexpr uint64_t kAfBit = flags::kAf;

// `r` sign-extended to 64 bits (the `res` word).
template <typename T>
X86VM_HOT_INLINE constexpr uint64_t Res(T r) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(r)));
}

// The top two bits of a carry (or borrow) vector of T, at bits 63:62.
template <typename T>
X86VM_HOT_INLINE constexpr uint64_t TopCarries(T v) {
  return (static_cast<uint64_t>(v) << (64 - alu::kBits<T>)) & (kCfBit | kCfXorOfBit);
}

// a + b (+ carry in) = r: the carry out of each bit is (a & b) | ((a | b)
// & ~r) whatever the carry in was.
template <typename T>
X86VM_HOT_INLINE constexpr uint64_t AddAux(T a, T b, T r) {
  T carries = static_cast<T>((a & b) | ((a | b) & ~r));
  return TopCarries<T>(carries) | (static_cast<uint64_t>(a ^ b ^ r) & kAfBit);
}

// a - b (- borrow in) = r: the borrow out of each bit is (~a & b) | ((~a |
// b) & r).
template <typename T>
X86VM_HOT_INLINE constexpr uint64_t SubAux(T a, T b, T r) {
  T borrows = static_cast<T>((~a & b) | ((~a | b) & r));
  return TopCarries<T>(borrows) | (static_cast<uint64_t>(a ^ b ^ r) & kAfBit);
}

X86VM_HOT_INLINE constexpr bool Cf(uint64_t aux) { return (aux >> 63) != 0; }
X86VM_HOT_INLINE constexpr bool Of(uint64_t aux) { return ((aux ^ (aux << 1)) >> 63) != 0; }

// The aux word for given CF and OF, with AF clear (shifts).
X86VM_HOT_INLINE constexpr uint64_t CfOfAux(bool cf, bool of) {
  return (cf ? kCfBit : 0) | (cf != of ? kCfXorOfBit : 0);
}

// INC/DEC: ADD/SUB 1 with CF kept (`cf` is the old CF): OF and AF from
// `aux`, CF replaced.
X86VM_HOT_INLINE constexpr uint64_t KeepCf(uint64_t aux, bool cf) {
  return CfOfAux(cf, Of(aux)) | (aux & kAfBit);
}
X86VM_HOT_INLINE constexpr bool Zf(uint64_t res) { return res == 0; }
X86VM_HOT_INLINE constexpr bool Sf(uint64_t res) { return (res >> 63) != 0; }
X86VM_HOT_INLINE constexpr bool Pf(uint64_t res) { return alu::kPfBits.bits[res & 0xff] != 0; }

// The six status flags as RFLAGS bits.
X86VM_HOT_INLINE constexpr uint64_t StatusBits(uint64_t res, uint64_t aux) {
  return (aux >> 63) | alu::kPfBits.bits[res & 0xff] | (aux & kAfBit) | (res == 0 ? flags::kZf : 0) |
         ((res >> 63) << 7) | (static_cast<uint64_t>(Of(aux)) << 11);
}

// Condition code `cc` (SDM Vol. 1 Table B-1) from the lazy words.
template <int cc>
X86VM_HOT_INLINE constexpr bool Condition(uint64_t res, uint64_t aux) {
  bool v;
  switch (cc >> 1) {
    case 0: v = Of(aux); break;
    case 1: v = Cf(aux); break;
    case 2: v = Zf(res); break;
    case 3: v = Cf(aux) || Zf(res); break;
    case 4: v = Sf(res); break;
    case 5: v = Pf(res); break;
    case 6: v = Sf(res) != Of(aux); break;
    default: v = Zf(res) || Sf(res) != Of(aux); break;
  }
  return (cc & 1) ? !v : v;
}

}  // namespace x86vm::lazy

#endif  // X86VM_CPU_LAZY_FLAGS_H_
