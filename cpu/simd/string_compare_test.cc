// PCMPESTRI/M and PCMPISTRI/M against the host CPU for all 256 control
// bytes, on random and structured strings (short alphabets, embedded zeros,
// planted substrings, ordered ranges) and on lengths around and beyond the
// saturation limits.
#include "cpu/simd/string_compare.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "cpu/simd/test_support.h"

namespace x86vm::simd {
namespace {

using test_support::Hex;
using test_support::Operands;

struct HostIndex {
  uint64_t rcx;
  uint64_t rflags;
};
struct HostMask {
  Xmm xmm0;
  uint64_t rflags;
};

using HostEstri = HostIndex (*)(const Xmm&, int64_t, const Xmm&, int64_t);
using HostEstrm = HostMask (*)(const Xmm&, int64_t, const Xmm&, int64_t);
using HostIstri = HostIndex (*)(const Xmm&, const Xmm&);
using HostIstrm = HostMask (*)(const Xmm&, const Xmm&);

// `insn` is "pcmpestri" (lengths in EAX/EDX) or "pcmpestriq" (RAX/RDX).
#define HOST_ESTRI(Name, insn)                                                 \
  template <int kImm>                                                          \
  struct Name {                                                                \
    static HostIndex Run(const Xmm& a, int64_t la, const Xmm& b, int64_t lb) { \
      uint64_t rcx = 0xdeadbeefdeadbeef;                                       \
      uint64_t rflags;                                                         \
      asm volatile("movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t" insn       \
                   " %[imm], %%xmm1, %%xmm0" X86VM_READ_FLAGS("flags")         \
                   : "+c"(rcx), [flags] "=r"(rflags)                           \
                   : [a] "m"(a), [b] "m"(b), "a"(la), "d"(lb), [imm] "i"(kImm) \
                   : "xmm0", "xmm1", "cc");                                    \
      return {rcx, rflags};                                                    \
    }                                                                          \
  }

#define HOST_ESTRM(Name, insn)                                                \
  template <int kImm>                                                         \
  struct Name {                                                               \
    static HostMask Run(const Xmm& a, int64_t la, const Xmm& b, int64_t lb) { \
      Xmm r;                                                                  \
      uint64_t rflags;                                                        \
      asm volatile(                                                           \
          "movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\t" insn               \
          " %[imm], %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %[r]" X86VM_READ_FLAGS(  \
              "flags")                                                        \
          : [r] "=m"(r), [flags] "=r"(rflags)                                 \
          : [a] "m"(a), [b] "m"(b), "a"(la), "d"(lb), [imm] "i"(kImm)         \
          : "xmm0", "xmm1", "cc");                                            \
      return {r, rflags};                                                     \
    }                                                                         \
  }

HOST_ESTRI(HostPcmpestri32, "pcmpestri");
HOST_ESTRI(HostPcmpestri64, "pcmpestriq");
HOST_ESTRM(HostPcmpestrm32, "pcmpestrm");
HOST_ESTRM(HostPcmpestrm64, "pcmpestrmq");

template <int kImm>
struct HostPcmpistri {
  static HostIndex Run(const Xmm& a, const Xmm& b) {
    uint64_t rcx = 0xdeadbeefdeadbeef;
    uint64_t rflags;
    asm volatile(
        "movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\tpcmpistri %[imm], "
        "%%xmm1, %%xmm0" X86VM_READ_FLAGS("flags")
        : "+c"(rcx), [flags] "=r"(rflags)
        : [a] "m"(a), [b] "m"(b), [imm] "i"(kImm)
        : "xmm0", "xmm1", "cc");
    return {rcx, rflags};
  }
};

template <int kImm>
struct HostPcmpistrm {
  static HostMask Run(const Xmm& a, const Xmm& b) {
    Xmm r;
    uint64_t rflags;
    asm volatile(
        "movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\tpcmpistrm %[imm], "
        "%%xmm1, %%xmm0\n\t"
        "movdqu %%xmm0, %[r]" X86VM_READ_FLAGS("flags")
        : [r] "=m"(r), [flags] "=r"(rflags)
        : [a] "m"(a), [b] "m"(b), [imm] "i"(kImm)
        : "xmm0", "xmm1", "cc");
    return {r, rflags};
  }
};

class HostStringCompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_support::HostHasSse42()) GTEST_SKIP() << "host lacks SSE4.2";
  }
};

// One element value: a small alphabet so that matches are common, zeros for
// the implicit-length terminator, and values whose sign depends on format.
uint16_t NextElement(Operands& ops, bool allow_zero) {
  static constexpr uint16_t kValues[] = {'a',  'b',  'c',    'd',    0x7f,
                                         0x80, 0xff, 0x8000, 0xffff, 1};
  const uint64_t pick = ops.Below(16);
  if (pick == 0 && allow_zero) return 0;
  if (pick < 10) return kValues[pick % 4];
  if (pick < 14) return kValues[ops.Below(10)];
  return static_cast<uint16_t>(ops.Next());
}

// Fills x with elements of the width selected by imm[0].
Xmm NextString(Operands& ops, bool words, bool allow_zero) {
  Xmm x;
  if (ops.Below(6) == 0) return ops.NextXmm();
  for (int i = 0; i < (words ? 8 : 16); ++i) {
    const uint16_t v = NextElement(ops, allow_zero);
    if (words) {
      x.set_u16(i, v);
    } else {
      x.set_u8(i, static_cast<uint8_t>(v));
    }
  }
  return x;
}

// A string pair: independent, or b holding a prefix of a at a random offset
// (equal ordered), or a made of ascending pairs (ranges).
std::pair<Xmm, Xmm> NextStrings(Operands& ops, bool words) {
  const bool allow_zero = ops.Below(2) == 0;
  Xmm a = NextString(ops, words, allow_zero);
  Xmm b = NextString(ops, words, allow_zero);
  const int element_bytes = words ? 2 : 1;
  switch (ops.Below(4)) {
    case 0: {
      const int offset =
          static_cast<int>(ops.Below(16 / element_bytes)) * element_bytes;
      const int count = static_cast<int>(ops.Below(16 - offset + 1));
      std::memcpy(b.bytes + offset, a.bytes, static_cast<size_t>(count));
      break;
    }
    case 1:
      for (int i = 0; i + 1 < 16 / element_bytes; i += 2) {
        if (words) {
          uint16_t lo = a.u16(i), hi = a.u16(i + 1);
          if (lo > hi && ops.Below(4) != 0)
            a.set_u16(i, hi), a.set_u16(i + 1, lo);
        } else {
          uint8_t lo = a.u8(i), hi = a.u8(i + 1);
          if (lo > hi && ops.Below(4) != 0)
            a.set_u8(i, hi), a.set_u8(i + 1, lo);
        }
      }
      break;
    case 2:
      b = a;
      break;
    default:
      break;
  }
  return {a, b};
}

// A length register value: mostly within the saturation window, sometimes at
// or beyond it in either sign, sometimes any 64-bit value.
int64_t NextLength(Operands& ops) {
  static constexpr int64_t kSpecial[] = {
      0,   8,         9,         16,        17,        -8, -9,         -16,
      -17, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX, -1, 0x100000000};
  switch (ops.Below(5)) {
    case 0:
      return kSpecial[ops.Below(15)];
    case 1:
      return static_cast<int64_t>(ops.Next());
    default:
      return static_cast<int64_t>(ops.Below(41)) - 20;
  }
}

constexpr int kPerImm = 200;

template <template <int> class Host, typename Fn>
std::array<Fn, 256> Table() {
  return test_support::MakeImmTable<Fn, Host>();
}

// Checks one explicit-length instruction (index or mask form) at one operand
// size: `wide` passes RAX/RDX whole, otherwise the low 32 bits sign-extended.
void CheckExplicit(bool wide) {
  static const auto host_i32 = Table<HostPcmpestri32, HostEstri>();
  static const auto host_i64 = Table<HostPcmpestri64, HostEstri>();
  static const auto host_m32 = Table<HostPcmpestrm32, HostEstrm>();
  static const auto host_m64 = Table<HostPcmpestrm64, HostEstrm>();
  Operands ops(wide ? 64 : 32);
  int failures = 0;
  for (int imm = 0; imm < 256 && failures < 5; ++imm) {
    for (int i = 0; i < kPerImm && failures < 5; ++i) {
      auto [a, b] = NextStrings(ops, imm & 1);
      const int64_t la = NextLength(ops);
      const int64_t lb = NextLength(ops);
      const int64_t la_ours = wide ? la : static_cast<int32_t>(la);
      const int64_t lb_ours = wide ? lb : static_cast<int32_t>(lb);
      const uint8_t control = static_cast<uint8_t>(imm);
      const HostIndex hi = (wide ? host_i64 : host_i32)[imm](a, la, b, lb);
      const StringIndexResult oi = Pcmpestri(a, la_ours, b, lb_ours, control);
      const HostMask hm = (wide ? host_m64 : host_m32)[imm](a, la, b, lb);
      const StringMaskResult om = Pcmpestrm(a, la_ours, b, lb_ours, control);
      const bool ok = hi.rcx == oi.index &&
                      (hi.rflags & kStatusFlags) == oi.flags.values &&
                      oi.flags.written == kStatusFlags && hm.xmm0 == om.mask &&
                      (hm.rflags & kStatusFlags) == om.flags.values;
      if (!ok) {
        ++failures;
        ADD_FAILURE() << "pcmpestr" << (wide ? "q" : "") << " imm=0x"
                      << std::hex << imm << " a=" << Hex(a) << " la=" << la
                      << " b=" << Hex(b) << " lb=" << lb
                      << " host rcx=" << hi.rcx
                      << " flags=" << (hi.rflags & kStatusFlags)
                      << " mask=" << Hex(hm.xmm0) << " ours index=" << oi.index
                      << " flags=" << oi.flags.values
                      << " mask=" << Hex(om.mask);
      }
    }
  }
}

TEST_F(HostStringCompareTest, ExplicitLength32EveryImmediate) {
  CheckExplicit(false);
}

TEST_F(HostStringCompareTest, ExplicitLength64EveryImmediate) {
  CheckExplicit(true);
}

TEST_F(HostStringCompareTest, ImplicitLengthEveryImmediate) {
  static const auto host_i = Table<HostPcmpistri, HostIstri>();
  static const auto host_m = Table<HostPcmpistrm, HostIstrm>();
  Operands ops(99);
  int failures = 0;
  for (int imm = 0; imm < 256 && failures < 5; ++imm) {
    for (int i = 0; i < kPerImm && failures < 5; ++i) {
      auto [a, b] = NextStrings(ops, imm & 1);
      const uint8_t control = static_cast<uint8_t>(imm);
      const HostIndex hi = host_i[imm](a, b);
      const StringIndexResult oi = Pcmpistri(a, b, control);
      const HostMask hm = host_m[imm](a, b);
      const StringMaskResult om = Pcmpistrm(a, b, control);
      const bool ok =
          hi.rcx == oi.index && (hi.rflags & kStatusFlags) == oi.flags.values &&
          hm.xmm0 == om.mask && (hm.rflags & kStatusFlags) == om.flags.values;
      if (!ok) {
        ++failures;
        ADD_FAILURE() << "pcmpistr imm=0x" << std::hex << imm << " a=" << Hex(a)
                      << " b=" << Hex(b) << " host rcx=" << hi.rcx
                      << " flags=" << (hi.rflags & kStatusFlags)
                      << " mask=" << Hex(hm.xmm0) << " ours index=" << oi.index
                      << " flags=" << oi.flags.values
                      << " mask=" << Hex(om.mask);
      }
    }
  }
}

Xmm FromString(const char* s) {
  Xmm x;
  std::memcpy(x.bytes, s, std::strlen(s) < 16 ? std::strlen(s) : 16);
  return x;
}

// Examples worked from SDM Vol. 2 4.1, valid on any host.
TEST(SimdStringCompareFixed, Examples) {
  // Equal ordered, unsigned bytes: "wor" found at 6 in "hello world".
  const StringIndexResult found =
      Pcmpistri(FromString("wor"), FromString("hello world"), 0x0c);
  EXPECT_EQ(found.index, 6u);
  EXPECT_EQ(found.flags.values, kFlagCf | kFlagZf | kFlagSf);
  // Ranges: the first character outside 'a'..'z' (negative polarity).
  EXPECT_EQ(Pcmpistri(FromString("az"), FromString("abcXdef"), 0x14).index, 3u);
  // Equal any with the most significant index: the last vowel.
  EXPECT_EQ(Pcmpistri(FromString("aeiou"), FromString("education"), 0x40).index,
            7u);
  // Equal each, negative polarity: a bit mask of differing bytes (past both
  // lengths the elements compare equal, so negation clears those bits).
  const StringMaskResult diff =
      Pcmpestrm(FromString("abcdef"), 6, FromString("abXdeY"), 6, 0x18);
  EXPECT_EQ(diff.mask.u64(0), 0b100100u);
  // Masked negative keeps IntRes1 where b is invalid: bits 6..15 stay set.
  EXPECT_EQ(Pcmpestrm(FromString("abcdef"), 6, FromString("abXdeY"), 6, 0x38)
                .mask.u64(0),
            0xffe4u);
  // No match: index is the element count, 8 for words.
  EXPECT_EQ(Pcmpestri(Xmm{}, 0, Xmm{}, 0, 0x01).index, 8u);
  // Lengths are absolute values saturated at 16.
  EXPECT_EQ(
      Pcmpestri(FromString("x"), -1, FromString("aaax"), INT64_MIN, 0x00).index,
      3u);
}

}  // namespace
}  // namespace x86vm::simd
