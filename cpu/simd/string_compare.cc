#include "cpu/simd/string_compare.h"

#include <bit>
#include <cstdint>

namespace x86vm::simd {
namespace {

// The fields of the imm8 control byte (SDM Vol. 2 4.1.1 - 4.1.7).
struct Control {
  explicit Control(uint8_t imm)
      : words((imm & 1) != 0),
        is_signed((imm & 2) != 0),
        aggregation((imm >> 2) & 3),
        polarity((imm >> 4) & 3),
        most_significant_or_expand((imm & 0x40) != 0),
        count(words ? 8 : 16) {}

  bool words;                       // imm[0]: 16-bit elements, else 8-bit
  bool is_signed;                   // imm[1]: signed elements
  int aggregation;                  // imm[3:2]: 4.1.3
  int polarity;                     // imm[5:4]: 4.1.4
  bool most_significant_or_expand;  // imm[6]: 4.1.5 / 4.1.6
  int count;                        // elements per register
};

enum Aggregation {
  kEqualAny = 0,
  kRanges = 1,
  kEqualEach = 2,
  kEqualOrdered = 3
};
enum Polarity {
  kPositive = 0,
  kNegative = 1,
  kMaskedPositive = 2,
  kMaskedNegative = 3
};

int32_t Element(const Xmm& x, int i, const Control& c) {
  if (c.words) return c.is_signed ? int32_t{x.i16(i)} : int32_t{x.u16(i)};
  return c.is_signed ? int32_t{x.i8(i)} : int32_t{x.u8(i)};
}

// Index of the first zero element, or the element count (4.1.2).
int ImplicitLength(const Xmm& x, const Control& c) {
  for (int i = 0; i < c.count; ++i) {
    if (Element(x, i, c) == 0) return i;
  }
  return c.count;
}

// |length| saturated to the element count. The magnitude is computed in
// unsigned arithmetic so that INT64_MIN does not overflow.
int ExplicitLength(int64_t length, const Control& c) {
  const uint64_t magnitude = length < 0
                                 ? uint64_t{0} - static_cast<uint64_t>(length)
                                 : static_cast<uint64_t>(length);
  return magnitude > static_cast<uint64_t>(c.count)
             ? c.count
             : static_cast<int>(magnitude);
}

// IntRes1 of 4.1.3, with the invalid-element overrides of Table 4-7: an
// element at or past its string's length is invalid.
uint32_t Aggregate(const Xmm& a, int length_a, const Xmm& b, int length_b,
                   const Control& c) {
  uint32_t result = 0;
  for (int j = 0; j < c.count; ++j) {
    bool bit = false;
    switch (c.aggregation) {
      case kEqualAny:
        // Any valid pair equal; an invalid element on either side is false.
        if (j < length_b) {
          for (int i = 0; i < length_a && !bit; ++i) {
            bit = Element(b, j, c) == Element(a, i, c);
          }
        }
        break;
      case kRanges:
        // a holds (low, high) pairs; a pair with an invalid member is false.
        if (j < length_b) {
          const int32_t value = Element(b, j, c);
          for (int i = 0; i + 1 < length_a && !bit; i += 2) {
            bit = Element(a, i, c) <= value && value <= Element(a, i + 1, c);
          }
        }
        break;
      case kEqualEach:
        // Both invalid compares true; exactly one invalid compares false.
        if (j < length_a && j < length_b) {
          bit = Element(a, j, c) == Element(b, j, c);
        } else {
          bit = j >= length_a && j >= length_b;
        }
        break;
      case kEqualOrdered:
        // Substring a at position j of b: an invalid a element matches
        // anything; a valid a element against an invalid b element fails.
        bit = true;
        for (int k = 0; j + k < c.count && bit; ++k) {
          if (k >= length_a) break;
          bit = j + k < length_b && Element(a, k, c) == Element(b, j + k, c);
        }
        break;
    }
    if (bit) result |= 1u << j;
  }
  return result;
}

struct Core {
  uint32_t int_res2;
  FlagUpdate flags;
};

// Everything the four instructions share: IntRes2 (4.1.4) and the flags
// (4.1.6: CF = IntRes2 != 0, ZF = b shorter than a register, SF = a shorter
// than a register, OF = IntRes2[0], AF = PF = 0).
Core Compare(const Xmm& a, int length_a, const Xmm& b, int length_b,
             const Control& c) {
  const uint32_t all = (1u << c.count) - 1;
  const uint32_t int_res1 = Aggregate(a, length_a, b, length_b, c);
  uint32_t int_res2 = int_res1;
  if (c.polarity == kNegative) {
    int_res2 = ~int_res1 & all;
  } else if (c.polarity == kMaskedNegative) {
    int_res2 = int_res1 ^ ((1u << length_b) - 1);
  }
  FlagUpdate flags{.written = kStatusFlags};
  if (int_res2 != 0) flags.values |= kFlagCf;
  if (length_b < c.count) flags.values |= kFlagZf;
  if (length_a < c.count) flags.values |= kFlagSf;
  if (int_res2 & 1) flags.values |= kFlagOf;
  return {int_res2, flags};
}

StringIndexResult ToIndex(const Core& core, const Control& c) {
  uint32_t index = static_cast<uint32_t>(c.count);
  if (core.int_res2 != 0) {
    index = c.most_significant_or_expand
                ? 31u - static_cast<uint32_t>(std::countl_zero(core.int_res2))
                : static_cast<uint32_t>(std::countr_zero(core.int_res2));
  }
  return {index, core.flags};
}

StringMaskResult ToMask(const Core& core, const Control& c) {
  Xmm mask;
  if (!c.most_significant_or_expand) {
    mask.set_u32(0, core.int_res2);
  } else {
    for (int i = 0; i < c.count; ++i) {
      if (((core.int_res2 >> i) & 1) == 0) continue;
      if (c.words) {
        mask.set_u16(i, 0xffff);
      } else {
        mask.set_u8(i, 0xff);
      }
    }
  }
  return {mask, core.flags};
}

}  // namespace

StringIndexResult Pcmpestri(const Xmm& a, int64_t length_a, const Xmm& b,
                            int64_t length_b, uint8_t imm) {
  const Control c(imm);
  return ToIndex(Compare(a, ExplicitLength(length_a, c), b,
                         ExplicitLength(length_b, c), c),
                 c);
}

StringMaskResult Pcmpestrm(const Xmm& a, int64_t length_a, const Xmm& b,
                           int64_t length_b, uint8_t imm) {
  const Control c(imm);
  return ToMask(Compare(a, ExplicitLength(length_a, c), b,
                        ExplicitLength(length_b, c), c),
                c);
}

StringIndexResult Pcmpistri(const Xmm& a, const Xmm& b, uint8_t imm) {
  const Control c(imm);
  return ToIndex(Compare(a, ImplicitLength(a, c), b, ImplicitLength(b, c), c),
                 c);
}

StringMaskResult Pcmpistrm(const Xmm& a, const Xmm& b, uint8_t imm) {
  const Control c(imm);
  return ToMask(Compare(a, ImplicitLength(a, c), b, ImplicitLength(b, c), c),
                c);
}

}  // namespace x86vm::simd
