// Integer ALU semantics as small pure functions (STYLE.md: ares's
// "algorithms", blink's alu): each takes operands and the current RFLAGS and
// returns the result, updating the status flags exactly as the SDM defines
// them. Flags the SDM leaves undefined follow what Intel hardware produces
// where that is known (noted at each function), otherwise they are cleared.
// Nothing here touches CPU state, so every function is unit-testable alone.
#ifndef X86VM_CPU_ALU_H_
#define X86VM_CPU_ALU_H_

#include <bit>
#include <cstdint>
#include <type_traits>

#include "cpu/cpu_state.h"
#include "cpu/hot_inline.h"

namespace x86vm::alu {

// Bits in an operand of type T.
template <typename T>
inline constexpr int kBits = static_cast<int>(sizeof(T) * 8);

// The sign bit of T.
template <typename T>
inline constexpr T kSign = static_cast<T>(T{1} << (kBits<T> - 1));

// True when the low byte of `v` has an even number of set bits (PF). Bit n
// of 0x9669 is set when the 4-bit value n has even parity; folding the high
// nibble onto the low one keeps the byte's parity (no popcount: hosts
// without POPCNT would call a library routine).
X86VM_HOT_INLINE constexpr bool EvenParity(uint64_t v) {
  unsigned nibble = static_cast<unsigned>(v ^ (v >> 4)) & 0xf;
  return ((0x9669u >> nibble) & 1) != 0;
}

// PF as an RFLAGS fragment for each low byte: one load instead of the five
// operations of EvenParity on the path every ALU instruction takes.
inline constexpr struct PfTable {
  uint8_t bits[256];
  constexpr PfTable() : bits() {
    for (unsigned v = 0; v < 256; ++v) bits[v] = EvenParity(v) ? flags::kPf : 0;
  }
} kPfBits;

// The ZF, SF and PF bits for a result, as an RFLAGS fragment.
template <typename T>
X86VM_HOT_INLINE constexpr uint64_t SzpBits(T r) {
  return (r == 0 ? flags::kZf : 0) | (static_cast<uint64_t>(r >> (kBits<T> - 1)) & 1) << 7 |
         kPfBits.bits[static_cast<uint8_t>(r)];
}
static_assert(flags::kSf == 1u << 7, "SzpBits places SF at bit 7");

// Sets ZF, SF and PF from a result; keeps the other bits of `fl`.
template <typename T>
X86VM_HOT_INLINE constexpr uint64_t SetSzp(uint64_t fl, T r) {
  return (fl & ~(flags::kZf | flags::kSf | flags::kPf)) | SzpBits(r);
}

// Sets or clears one flag.
X86VM_HOT_INLINE constexpr uint64_t SetFlag(uint64_t fl, uint64_t bit, bool on) {
  return (fl & ~bit) | (on ? bit : 0);
}

// The status flags of an addition or subtraction, computed without branches
// from the operands, the result and the carry (or borrow) out of the top
// bit; `overflow` has its top bit set on signed overflow.
template <typename T>
X86VM_HOT_INLINE constexpr uint64_t AddSubFlags(T a, T b, T r, bool carry, T overflow) {
  constexpr int kTop = kBits<T> - 1;
  return static_cast<uint64_t>(carry) |                                           // CF
         (static_cast<uint64_t>((a ^ b ^ r) & 0x10)) |                            // AF
         ((static_cast<uint64_t>(overflow >> kTop) & 1) << 11) | SzpBits(r);      // OF, ZF/SF/PF
}
static_assert(flags::kCf == 1 && flags::kAf == 0x10 && flags::kOf == 1u << 11,
              "AddSubFlags places CF, AF and OF at their RFLAGS bits");

// ADD/ADC: r = a + b + carry_in (SDM Vol. 2 "ADD", "ADC").
template <typename T>
X86VM_HOT_INLINE constexpr T Add(T a, T b, bool carry_in, uint64_t& fl) {
  T r = static_cast<T>(a + b + (carry_in ? 1 : 0));
  // The sum wrapped exactly when it is below a (at or below a with a carry
  // in, since b + 1 is at most 2^n); signed overflow from the bit identity.
  bool carry = carry_in ? r <= a : r < a;
  T overflow = static_cast<T>((a ^ r) & (b ^ r));
  fl = (fl & ~flags::kStatus) | AddSubFlags<T>(a, b, r, carry, overflow);
  return r;
}

// SUB/SBB/CMP/NEG: r = a - b - borrow_in.
template <typename T>
X86VM_HOT_INLINE constexpr T Sub(T a, T b, bool borrow_in, uint64_t& fl) {
  T r = static_cast<T>(a - b - (borrow_in ? 1 : 0));
  // A borrow out of the top bit: a < b + borrow_in as integers.
  bool borrow = borrow_in ? a <= b : a < b;
  T overflow = static_cast<T>((a ^ b) & (a ^ r));
  fl = (fl & ~flags::kStatus) | AddSubFlags<T>(a, b, r, borrow, overflow);
  return r;
}

// AND/OR/XOR/TEST: CF = OF = 0; AF is undefined and Intel clears it.
template <typename T>
X86VM_HOT_INLINE constexpr T Logic(T r, uint64_t& fl) {
  fl = (fl & ~flags::kStatus) | SzpBits(r);
  return r;
}

// INC: like ADD 1 but CF is preserved.
template <typename T>
X86VM_HOT_INLINE constexpr T Inc(T a, uint64_t& fl) {
  uint64_t cf = fl & flags::kCf;
  T r = Add<T>(a, 1, false, fl);
  fl = (fl & ~flags::kCf) | cf;
  return r;
}

// DEC: like SUB 1 but CF is preserved.
template <typename T>
X86VM_HOT_INLINE constexpr T Dec(T a, uint64_t& fl) {
  uint64_t cf = fl & flags::kCf;
  T r = Sub<T>(a, 1, false, fl);
  fl = (fl & ~flags::kCf) | cf;
  return r;
}

// NEG: 0 - a; CF = (a != 0).
template <typename T>
X86VM_HOT_INLINE constexpr T Neg(T a, uint64_t& fl) {
  return Sub<T>(0, a, false, fl);
}

// The ALU operation selected by bits 5:3 of opcodes 00-3F and by the /digit
// of group 1 (80-83), in encoding order.
enum class AluOp : int { kAdd = 0, kOr, kAdc, kSbb, kAnd, kSub, kXor, kCmp };

// Runs one group-1 operation; CMP returns `a` unchanged (the caller does not
// write back).
template <typename T>
X86VM_HOT_INLINE constexpr T Alu(AluOp op, T a, T b, uint64_t& fl) {
  switch (op) {
    case AluOp::kAdd: return Add<T>(a, b, false, fl);
    case AluOp::kOr: return Logic<T>(static_cast<T>(a | b), fl);
    case AluOp::kAdc: return Add<T>(a, b, (fl & flags::kCf) != 0, fl);
    case AluOp::kSbb: return Sub<T>(a, b, (fl & flags::kCf) != 0, fl);
    case AluOp::kAnd: return Logic<T>(static_cast<T>(a & b), fl);
    case AluOp::kSub: return Sub<T>(a, b, false, fl);
    case AluOp::kXor: return Logic<T>(static_cast<T>(a ^ b), fl);
    case AluOp::kCmp: Sub<T>(a, b, false, fl); return a;
  }
  return a;
}

// The status flags in `kLive` of an addition, subtraction or logic
// operation (as AddSubFlags; `logic` clears CF, AF and OF), computing only
// those: for instructions whose other flag outputs are dead
// (ElideDeadFlags).
template <typename T, uint64_t kLive>
X86VM_HOT_INLINE constexpr uint64_t LiveFlags(T a, T b, T r, bool carry, T overflow, bool logic) {
  constexpr int kTop = kBits<T> - 1;
  uint64_t f = 0;
  if constexpr ((kLive & flags::kCf) != 0) f |= logic ? 0 : static_cast<uint64_t>(carry);
  if constexpr ((kLive & flags::kAf) != 0) f |= logic ? 0 : static_cast<uint64_t>((a ^ b ^ r) & 0x10);
  if constexpr ((kLive & flags::kOf) != 0) f |= logic ? 0 : (static_cast<uint64_t>(overflow >> kTop) & 1) << 11;
  if constexpr ((kLive & flags::kZf) != 0) f |= r == 0 ? flags::kZf : 0;
  if constexpr ((kLive & flags::kSf) != 0) f |= (static_cast<uint64_t>(r >> kTop) & 1) << 7;
  if constexpr ((kLive & flags::kPf) != 0) f |= kPfBits.bits[static_cast<uint8_t>(r)];
  return f;
}

// Alu with only the status flags in `kLive` updated; the others keep their
// (dead) values. Alu<T> itself when kLive is every status flag.
template <typename T, uint64_t kLive>
X86VM_HOT_INLINE constexpr T AluLive(AluOp op, T a, T b, uint64_t& fl) {
  if constexpr (kLive == flags::kStatus) {
    return Alu<T>(op, a, b, fl);
  } else {
    bool carry_in = (op == AluOp::kAdc || op == AluOp::kSbb) && (fl & flags::kCf) != 0;
    T r;
    bool carry = false;
    T overflow = 0;
    bool logic = false;
    switch (op) {
      case AluOp::kAdd:
      case AluOp::kAdc:
        r = static_cast<T>(a + b + (carry_in ? 1 : 0));
        carry = carry_in ? r <= a : r < a;
        overflow = static_cast<T>((a ^ r) & (b ^ r));
        break;
      case AluOp::kSub:
      case AluOp::kSbb:
      case AluOp::kCmp:
        r = static_cast<T>(a - b - (carry_in ? 1 : 0));
        carry = carry_in ? a <= b : a < b;
        overflow = static_cast<T>((a ^ b) & (a ^ r));
        break;
      case AluOp::kOr: r = static_cast<T>(a | b); logic = true; break;
      case AluOp::kAnd: r = static_cast<T>(a & b); logic = true; break;
      case AluOp::kXor: r = static_cast<T>(a ^ b); logic = true; break;
      default: r = a; break;
    }
    fl = (fl & ~kLive) | LiveFlags<T, kLive>(a, b, r, carry, overflow, logic);
    return op == AluOp::kCmp ? a : r;
  }
}

// The shift/rotate operation selected by the /digit of group 2.
enum class ShiftOp : int { kRol = 0, kRor, kRcl, kRcr, kShl, kShr, kSal, kSar };

// Group 2 shifts and rotates (SDM Vol. 2 "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/SHR").
// `count` is the raw count; it is masked to 5 bits (6 for 64-bit operands).
// A masked count of 0 changes neither the operand nor any flag. OF is
// architecturally defined for a count of 1 only; for larger counts this
// computes the same expression, as Intel hardware does. Shifts clear AF.
template <typename T>
constexpr T Shift(ShiftOp op, T a, unsigned count, uint64_t& fl) {
  constexpr int kN = kBits<T>;
  unsigned c = count & (kN == 64 ? 63 : 31);
  if (c == 0) return a;
  bool cf = false, of = false;
  T r = a;
  switch (op) {
    case ShiftOp::kRol: {
      unsigned k = c % kN;
      r = k ? static_cast<T>((a << k) | (a >> (kN - k))) : a;
      cf = r & 1;
      of = ((r & kSign<T>) != 0) != cf;
      fl = SetFlag(SetFlag(fl, flags::kCf, cf), flags::kOf, of);
      return r;
    }
    case ShiftOp::kRor: {
      unsigned k = c % kN;
      r = k ? static_cast<T>((a >> k) | (a << (kN - k))) : a;
      cf = (r & kSign<T>) != 0;
      of = (((r >> (kN - 1)) ^ (r >> (kN - 2))) & 1) != 0;
      fl = SetFlag(SetFlag(fl, flags::kCf, cf), flags::kOf, of);
      return r;
    }
    case ShiftOp::kRcl: {
      // Rotate through a (kN+1)-bit quantity CF:a.
      unsigned k = kN < 32 ? c % (kN + 1) : c;
      if (k == 0) return a;
      bool carry = (fl & flags::kCf) != 0;
      for (unsigned i = 0; i < k; ++i) {
        bool out = (r & kSign<T>) != 0;
        r = static_cast<T>((r << 1) | (carry ? 1 : 0));
        carry = out;
      }
      cf = carry;
      of = ((r & kSign<T>) != 0) != cf;
      fl = SetFlag(SetFlag(fl, flags::kCf, cf), flags::kOf, of);
      return r;
    }
    case ShiftOp::kRcr: {
      unsigned k = kN < 32 ? c % (kN + 1) : c;
      if (k == 0) return a;
      bool carry = (fl & flags::kCf) != 0;
      // OF is computed before the rotation: MSB(dest) XOR CF (SDM "RCR").
      of = ((a & kSign<T>) != 0) != carry;
      for (unsigned i = 0; i < k; ++i) {
        bool out = r & 1;
        r = static_cast<T>((r >> 1) | (carry ? kSign<T> : 0));
        carry = out;
      }
      // For counts above 1 Intel reports OF from the result's top two bits.
      if (k != 1) of = (((r >> (kN - 1)) ^ (r >> (kN - 2))) & 1) != 0;
      fl = SetFlag(SetFlag(fl, flags::kCf, carry), flags::kOf, of);
      return r;
    }
    case ShiftOp::kShl:
    case ShiftOp::kSal: {
      if (c <= static_cast<unsigned>(kN)) {
        cf = c <= static_cast<unsigned>(kN) ? ((static_cast<uint64_t>(a) >> (kN - c)) & 1) != 0 : false;
        r = c >= static_cast<unsigned>(kN) ? T{0} : static_cast<T>(a << c);
      } else {
        cf = false;
        r = 0;
      }
      of = ((r & kSign<T>) != 0) != cf;
      break;
    }
    case ShiftOp::kShr: {
      cf = c <= static_cast<unsigned>(kN) ? ((static_cast<uint64_t>(a) >> (c - 1)) & 1) != 0 : false;
      r = c >= static_cast<unsigned>(kN) ? T{0} : static_cast<T>(a >> c);
      of = (a & kSign<T>) != 0;
      break;
    }
    case ShiftOp::kSar: {
      using S = std::make_signed_t<T>;
      unsigned k = c >= static_cast<unsigned>(kN) ? kN - 1 : c;
      S sa = static_cast<S>(a);
      cf = ((sa >> (k - 1)) & 1) != 0;
      if (c >= static_cast<unsigned>(kN)) cf = (a & kSign<T>) != 0;
      r = static_cast<T>(c >= static_cast<unsigned>(kN) ? (sa < 0 ? S(-1) : S(0)) : (sa >> k));
      of = false;
      break;
    }
  }
  fl &= ~flags::kStatus;
  fl = SetSzp(fl, r);
  fl = SetFlag(fl, flags::kCf, cf);
  fl = SetFlag(fl, flags::kOf, of);
  return r;
}

// SHLD: shifts `dst` left, filling from the top of `src` (SDM Vol. 2
// "SHLD"). For 16-bit operands with a count above 16 the result is
// undefined; Intel shifts the 48-bit quantity dst:src:dst, which this models.
template <typename T>
constexpr T Shld(T dst, T src, unsigned count, uint64_t& fl) {
  constexpr int kN = kBits<T>;
  unsigned c = count & (kN == 64 ? 63 : 31);
  if (c == 0) return dst;
  T r;
  bool cf;
  if constexpr (kN == 16) {
    uint64_t wide = (uint64_t{dst} << 32) | (uint64_t{src} << 16) | dst;
    uint64_t shifted = wide << c;
    r = static_cast<T>(shifted >> 32);
    cf = ((shifted >> 48) & 1) != 0;
  } else {
    r = static_cast<T>((dst << c) | (src >> (kN - c)));
    cf = ((dst >> (kN - c)) & 1) != 0;
  }
  bool of = ((r ^ dst) & kSign<T>) != 0;
  fl &= ~flags::kStatus;
  fl = SetSzp(fl, r);
  fl = SetFlag(fl, flags::kCf, cf);
  fl = SetFlag(fl, flags::kOf, of);
  return r;
}

// SHRD: shifts `dst` right, filling from the bottom of `src`.
template <typename T>
constexpr T Shrd(T dst, T src, unsigned count, uint64_t& fl) {
  constexpr int kN = kBits<T>;
  unsigned c = count & (kN == 64 ? 63 : 31);
  if (c == 0) return dst;
  T r;
  bool cf;
  if constexpr (kN == 16) {
    // The 48-bit quantity dst:src:dst with dst in the low bits.
    uint64_t wide = uint64_t{dst} | (uint64_t{src} << 16) | (uint64_t{dst} << 32);
    r = static_cast<T>(wide >> c);
    cf = ((wide >> (c - 1)) & 1) != 0;
  } else {
    r = static_cast<T>((dst >> c) | (src << (kN - c)));
    cf = ((dst >> (c - 1)) & 1) != 0;
  }
  bool of = ((r ^ dst) & kSign<T>) != 0;
  fl &= ~flags::kStatus;
  fl = SetSzp(fl, r);
  fl = SetFlag(fl, flags::kCf, cf);
  fl = SetFlag(fl, flags::kOf, of);
  return r;
}

// The double-width product of an unsigned multiply: {low, high}.
template <typename T>
struct Wide {
  T lo;
  T hi;
};

// 64x64 -> 128 unsigned multiply in portable C++.
constexpr Wide<uint64_t> MulU64(uint64_t a, uint64_t b) {
  unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return {static_cast<uint64_t>(p), static_cast<uint64_t>(p >> 64)};
}

// MUL: unsigned widening multiply; CF = OF = (high half != 0). SF, ZF and PF
// are undefined: Intel derives them from the low half, AF is cleared.
template <typename T>
constexpr Wide<T> Mul(T a, T b, uint64_t& fl) {
  Wide<T> w;
  if constexpr (sizeof(T) == 8) {
    auto p = MulU64(a, b);
    w = {p.lo, p.hi};
  } else {
    uint64_t p = uint64_t{a} * uint64_t{b};
    w = {static_cast<T>(p), static_cast<T>(p >> kBits<T>)};
  }
  fl &= ~flags::kStatus;
  fl = SetSzp(fl, w.lo);
  fl = SetFlag(fl, flags::kCf | flags::kOf, w.hi != 0);
  return w;
}

// IMUL: signed widening multiply; CF = OF = (the product does not fit the
// low half sign-extended).
template <typename T>
constexpr Wide<T> Imul(T a, T b, uint64_t& fl) {
  using S = std::make_signed_t<T>;
  Wide<T> w;
  if constexpr (sizeof(T) == 8) {
    __int128 p = static_cast<__int128>(static_cast<int64_t>(a)) * static_cast<int64_t>(b);
    w = {static_cast<T>(p), static_cast<T>(static_cast<unsigned __int128>(p) >> 64)};
    bool fits = p == static_cast<__int128>(static_cast<int64_t>(w.lo));
    fl &= ~flags::kStatus;
    fl = SetSzp(fl, w.lo);
    fl = SetFlag(fl, flags::kCf | flags::kOf, !fits);
  } else {
    int64_t p = int64_t{static_cast<S>(a)} * int64_t{static_cast<S>(b)};
    w = {static_cast<T>(p), static_cast<T>(static_cast<uint64_t>(p) >> kBits<T>)};
    bool fits = p == static_cast<int64_t>(static_cast<S>(w.lo));
    fl &= ~flags::kStatus;
    fl = SetSzp(fl, w.lo);
    fl = SetFlag(fl, flags::kCf | flags::kOf, !fits);
  }
  return w;
}

// The result of DIV/IDIV, or a divide error (#DE) when `ok` is false.
template <typename T>
struct DivResult {
  bool ok;
  T quotient;
  T remainder;
};

// DIV: hi:lo / d, unsigned. #DE on d == 0 or a quotient that does not fit.
// Flags are undefined and left unchanged (SDM "DIV").
template <typename T>
constexpr DivResult<T> Div(T hi, T lo, T d) {
  if (d == 0) return {false, 0, 0};
  if constexpr (sizeof(T) == 8) {
    unsigned __int128 n = (static_cast<unsigned __int128>(hi) << 64) | lo;
    unsigned __int128 q = n / d;
    if (q >> 64) return {false, 0, 0};
    return {true, static_cast<T>(q), static_cast<T>(n % d)};
  } else {
    uint64_t n = (uint64_t{hi} << kBits<T>) | lo;
    uint64_t q = n / d;
    if (q >> kBits<T>) return {false, 0, 0};
    return {true, static_cast<T>(q), static_cast<T>(n % d)};
  }
}

// IDIV: hi:lo / d, signed, truncating toward zero. #DE on d == 0 or a
// quotient outside the signed range of T.
template <typename T>
constexpr DivResult<T> Idiv(T hi, T lo, T d) {
  using S = std::make_signed_t<T>;
  if (d == 0) return {false, 0, 0};
  __int128 n = static_cast<__int128>(
      (static_cast<unsigned __int128>(hi) << kBits<T>) | lo);
  // Sign-extend the double-width dividend from 2*kBits.
  if constexpr (sizeof(T) < 8) {
    n = static_cast<__int128>(static_cast<int64_t>(static_cast<uint64_t>(n) << (64 - 2 * kBits<T>)) >>
                              (64 - 2 * kBits<T>));
  }
  __int128 dv = static_cast<S>(d);
  // Avoid the host's INT_MIN / -1 trap: that quotient never fits anyway.
  if (dv == -1) {
    if (n == static_cast<__int128>(static_cast<unsigned __int128>(1) << 127)) return {false, 0, 0};
  }
  __int128 q = n / dv;
  __int128 r = n % dv;
  __int128 min = -(static_cast<__int128>(1) << (kBits<T> - 1));
  __int128 max = (static_cast<__int128>(1) << (kBits<T> - 1)) - 1;
  if (q < min || q > max) return {false, 0, 0};
  return {true, static_cast<T>(q), static_cast<T>(r)};
}

// BSF/BSR/TZCNT/LZCNT/POPCNT helpers live with their handlers; they only need
// std::countr_zero and friends.

}  // namespace x86vm::alu

#endif  // X86VM_CPU_ALU_H_
