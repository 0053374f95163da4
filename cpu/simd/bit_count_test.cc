// POPCNT, LZCNT, TZCNT and CRC32 against the host CPU, plus reference values.
#include "cpu/simd/bit_count.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "cpu/simd/test_support.h"

namespace x86vm::simd {
namespace {

using test_support::Operands;

// A value with a random number of leading and trailing zero bits.
uint64_t NextBits(Operands& ops) {
  switch (ops.Below(6)) {
    case 0:
      return 0;
    case 1:
      return ops.Next();
    case 2:
      return uint64_t{1} << ops.Below(64);
    default: {
      const uint64_t v = ops.Next() | 1 | (uint64_t{1} << 63);
      return (v >> ops.Below(64)) << ops.Below(64);
    }
  }
}

// Host result of one counting instruction at one width. The destination
// starts at zero so 16-bit forms, which keep bits 63:16, compare directly.
#define HOST_COUNT(insn, mod)                            \
  [](uint64_t source, uint64_t& rflags) {                \
    uint64_t out = 0;                                    \
    asm volatile(insn " %" mod "[src], %" mod            \
                      "[out]" X86VM_READ_FLAGS("flags")  \
                 : [out] "+r"(out), [flags] "=r"(rflags) \
                 : [src] "r"(source)                     \
                 : "cc");                                \
    return out;                                          \
  }

using HostCount = uint64_t (*)(uint64_t, uint64_t&);
using Count = CountResult (*)(uint64_t, int);

struct CountCase {
  const char* name;
  Count product;
  HostCount host;
  int bits;
  const char* cpu_feature;
};

bool HostSupports(const char* feature) {
  // __builtin_cpu_supports needs a string literal.
  if (std::strcmp(feature, "popcnt") == 0)
    return __builtin_cpu_supports("popcnt");
  if (std::strcmp(feature, "abm") == 0) return __builtin_cpu_supports("abm");
  if (std::strcmp(feature, "bmi") == 0) return __builtin_cpu_supports("bmi");
  return false;
}

TEST(HostBitCountTest, CountsAndFlags) {
  const CountCase cases[] = {
      {"popcnt16", &Popcnt, HOST_COUNT("popcntw", "w"), 16, "popcnt"},
      {"popcnt32", &Popcnt, HOST_COUNT("popcntl", "k"), 32, "popcnt"},
      {"popcnt64", &Popcnt, HOST_COUNT("popcntq", "q"), 64, "popcnt"},
      {"lzcnt16", &Lzcnt, HOST_COUNT("lzcntw", "w"), 16, "abm"},
      {"lzcnt32", &Lzcnt, HOST_COUNT("lzcntl", "k"), 32, "abm"},
      {"lzcnt64", &Lzcnt, HOST_COUNT("lzcntq", "q"), 64, "abm"},
      {"tzcnt16", &Tzcnt, HOST_COUNT("tzcntw", "w"), 16, "bmi"},
      {"tzcnt32", &Tzcnt, HOST_COUNT("tzcntl", "k"), 32, "bmi"},
      {"tzcnt64", &Tzcnt, HOST_COUNT("tzcntq", "q"), 64, "bmi"},
  };
  Operands ops(41);
  int checked = 0;
  for (const CountCase& c : cases) {
    // Without LZCNT/BMI1 the encodings run as BSR/BSF: no oracle.
    if (!HostSupports(c.cpu_feature)) continue;
    ++checked;
    for (int i = 0; i < test_support::kIterations; ++i) {
      // Bits above the operand width must not matter.
      const uint64_t source = NextBits(ops);
      uint64_t rflags = 0;
      const uint64_t want = c.host(source, rflags);
      const CountResult got = c.product(source, c.bits);
      ASSERT_EQ(got.value, want) << c.name << " source=" << std::hex << source;
      ASSERT_EQ(got.flags.values, rflags & got.flags.written)
          << c.name << " source=" << std::hex << source;
    }
    const CountResult any = c.product(1, c.bits);
    const uint32_t defined =
        c.name[0] == 'p' ? kStatusFlags : (kFlagCf | kFlagZf);
    EXPECT_EQ(any.flags.written, defined) << c.name;
  }
  if (checked == 0) GTEST_SKIP() << "host lacks POPCNT, LZCNT and BMI1";
}

TEST(HostBitCountTest, Crc32) {
  if (!test_support::HostHasSse42()) GTEST_SKIP() << "host lacks SSE4.2";
  Operands ops(42);
  for (int i = 0; i < test_support::kIterations; ++i) {
    const uint32_t crc = static_cast<uint32_t>(NextBits(ops));
    const uint64_t data = NextBits(ops);
    uint64_t b = crc, w = crc, d = crc, q = crc;
    asm("crc32b %b[data], %k[b]\n\tcrc32w %w[data], %k[w]\n\tcrc32l %k[data], "
        "%k[d]\n\t"
        "crc32q %q[data], %q[q]"
        : [b] "+r"(b), [w] "+r"(w), [d] "+r"(d), [q] "+r"(q)
        : [data] "r"(data));
    ASSERT_EQ(Crc32Byte(crc, static_cast<uint8_t>(data)), b)
        << crc << " " << data;
    ASSERT_EQ(Crc32Word(crc, static_cast<uint16_t>(data)), w)
        << crc << " " << data;
    ASSERT_EQ(Crc32Dword(crc, static_cast<uint32_t>(data)), d)
        << crc << " " << data;
    ASSERT_EQ(Crc32Qword(crc, data), q) << crc << " " << data;
  }
}

TEST(SimdBitCountFixed, ReferenceValues) {
  // The CRC-32C check value: "123456789" with the usual ~0 in and out.
  uint32_t crc = ~0u;
  for (const char* p = "123456789"; *p != 0; ++p)
    crc = Crc32Byte(crc, static_cast<uint8_t>(*p));
  EXPECT_EQ(~crc, 0xE3069283u);
  // Wider steps are the byte steps, least significant byte first.
  EXPECT_EQ(Crc32Qword(0x12345678, 0x0807060504030201),
            Crc32Dword(Crc32Dword(0x12345678, 0x04030201), 0x08070605));

  EXPECT_EQ(Popcnt(0xffff'0000'ffff'ffff, 16).value, 16u);
  EXPECT_EQ(Popcnt(0, 64).flags.values, kFlagZf);
  EXPECT_EQ(Lzcnt(0, 32).value, 32u);
  EXPECT_EQ(Lzcnt(0, 32).flags.values, kFlagCf);
  EXPECT_EQ(Lzcnt(0x8000, 16).flags.values, kFlagZf);
  EXPECT_EQ(Tzcnt(0x1'0000, 16).value, 16u);
  EXPECT_EQ(Tzcnt(0x1'0000, 32).value, 16u);
}

}  // namespace
}  // namespace x86vm::simd
