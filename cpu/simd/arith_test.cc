// Arithmetic, horizontal, compare and logic instructions against the host CPU,
// plus a few fixed values that hold on any host.
#include "cpu/simd/arith.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "cpu/simd/compare_logic.h"
#include "cpu/simd/horizontal.h"
#include "cpu/simd/test_support.h"

namespace x86vm::simd {
namespace {

using test_support::CheckMmx;
using test_support::CheckXmm;
using test_support::CheckXmmImm;
using test_support::Hex;
using test_support::MmxBinary;
using test_support::Operands;
using test_support::XmmBinary;

struct XmmCase {
  const char* name;
  XmmBinary product;
  XmmBinary host;
};

struct MmxCase {
  const char* name;
  MmxBinary product;
  MmxBinary host;
};

#define XMM_CASE(fn, insn) \
  XmmCase { #fn, static_cast < XmmBinary>(&fn), X86VM_HOST_XMM(insn) }
#define MMX_CASE(fn, insn) \
  MmxCase { #fn, static_cast < MmxBinary>(&fn), X86VM_HOST_MMX(insn) }
// One-operand instructions: the product ignores a.
#define XMM_UNARY_CASE(fn, insn)                                              \
  XmmCase {                                                                   \
#fn, [](const Xmm&, const Xmm& b) { return fn(b); }, X86VM_HOST_XMM(insn) \
  }
#define MMX_UNARY_CASE(fn, insn)                                          \
  MmxCase {                                                               \
#fn, [](uint64_t, uint64_t b) { return fn(b); }, X86VM_HOST_MMX(insn) \
  }

class HostSimdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_support::HostHasSse42())
      GTEST_SKIP() << "host lacks SSSE3/SSE4.2";
  }
};

TEST_F(HostSimdTest, ArithmeticXmm) {
  const XmmCase cases[] = {
      XMM_CASE(Paddb, "paddb"),       XMM_CASE(Paddw, "paddw"),
      XMM_CASE(Paddd, "paddd"),       XMM_CASE(Paddq, "paddq"),
      XMM_CASE(Paddsb, "paddsb"),     XMM_CASE(Paddsw, "paddsw"),
      XMM_CASE(Paddusb, "paddusb"),   XMM_CASE(Paddusw, "paddusw"),
      XMM_CASE(Psubb, "psubb"),       XMM_CASE(Psubw, "psubw"),
      XMM_CASE(Psubd, "psubd"),       XMM_CASE(Psubq, "psubq"),
      XMM_CASE(Psubsb, "psubsb"),     XMM_CASE(Psubsw, "psubsw"),
      XMM_CASE(Psubusb, "psubusb"),   XMM_CASE(Psubusw, "psubusw"),
      XMM_CASE(Pmullw, "pmullw"),     XMM_CASE(Pmulhw, "pmulhw"),
      XMM_CASE(Pmulhuw, "pmulhuw"),   XMM_CASE(Pmulhrsw, "pmulhrsw"),
      XMM_CASE(Pmuludq, "pmuludq"),   XMM_CASE(Pmuldq, "pmuldq"),
      XMM_CASE(Pmulld, "pmulld"),     XMM_CASE(Pavgb, "pavgb"),
      XMM_CASE(Pavgw, "pavgw"),       XMM_CASE(Pminub, "pminub"),
      XMM_CASE(Pminsw, "pminsw"),     XMM_CASE(Pmaxub, "pmaxub"),
      XMM_CASE(Pmaxsw, "pmaxsw"),     XMM_CASE(Pminsb, "pminsb"),
      XMM_CASE(Pminuw, "pminuw"),     XMM_CASE(Pminsd, "pminsd"),
      XMM_CASE(Pminud, "pminud"),     XMM_CASE(Pmaxsb, "pmaxsb"),
      XMM_CASE(Pmaxuw, "pmaxuw"),     XMM_CASE(Pmaxsd, "pmaxsd"),
      XMM_CASE(Pmaxud, "pmaxud"),     XMM_CASE(Psignb, "psignb"),
      XMM_CASE(Psignw, "psignw"),     XMM_CASE(Psignd, "psignd"),
      XMM_UNARY_CASE(Pabsb, "pabsb"), XMM_UNARY_CASE(Pabsw, "pabsw"),
      XMM_UNARY_CASE(Pabsd, "pabsd"),
  };
  Operands ops(1);
  for (const XmmCase& c : cases) CheckXmm(c.name, c.product, c.host, ops);
}

TEST_F(HostSimdTest, ArithmeticMmx) {
  const MmxCase cases[] = {
      MMX_CASE(Paddb, "paddb"),       MMX_CASE(Paddw, "paddw"),
      MMX_CASE(Paddd, "paddd"),       MMX_CASE(Paddq, "paddq"),
      MMX_CASE(Paddsb, "paddsb"),     MMX_CASE(Paddsw, "paddsw"),
      MMX_CASE(Paddusb, "paddusb"),   MMX_CASE(Paddusw, "paddusw"),
      MMX_CASE(Psubb, "psubb"),       MMX_CASE(Psubw, "psubw"),
      MMX_CASE(Psubd, "psubd"),       MMX_CASE(Psubq, "psubq"),
      MMX_CASE(Psubsb, "psubsb"),     MMX_CASE(Psubsw, "psubsw"),
      MMX_CASE(Psubusb, "psubusb"),   MMX_CASE(Psubusw, "psubusw"),
      MMX_CASE(Pmullw, "pmullw"),     MMX_CASE(Pmulhw, "pmulhw"),
      MMX_CASE(Pmulhuw, "pmulhuw"),   MMX_CASE(Pmulhrsw, "pmulhrsw"),
      MMX_CASE(Pmuludq, "pmuludq"),   MMX_CASE(Pavgb, "pavgb"),
      MMX_CASE(Pavgw, "pavgw"),       MMX_CASE(Pminub, "pminub"),
      MMX_CASE(Pminsw, "pminsw"),     MMX_CASE(Pmaxub, "pmaxub"),
      MMX_CASE(Pmaxsw, "pmaxsw"),     MMX_CASE(Psignb, "psignb"),
      MMX_CASE(Psignw, "psignw"),     MMX_CASE(Psignd, "psignd"),
      MMX_UNARY_CASE(Pabsb, "pabsb"), MMX_UNARY_CASE(Pabsw, "pabsw"),
      MMX_UNARY_CASE(Pabsd, "pabsd"),
  };
  Operands ops(2);
  for (const MmxCase& c : cases) CheckMmx(c.name, c.product, c.host, ops);
}

TEST_F(HostSimdTest, HorizontalXmm) {
  const XmmCase cases[] = {
      XMM_CASE(Phaddw, "phaddw"),   XMM_CASE(Phaddd, "phaddd"),
      XMM_CASE(Phaddsw, "phaddsw"), XMM_CASE(Phsubw, "phsubw"),
      XMM_CASE(Phsubd, "phsubd"),   XMM_CASE(Phsubsw, "phsubsw"),
      XMM_CASE(Pmaddwd, "pmaddwd"), XMM_CASE(Pmaddubsw, "pmaddubsw"),
      XMM_CASE(Psadbw, "psadbw"),   XMM_UNARY_CASE(Phminposuw, "phminposuw"),
  };
  Operands ops(3);
  for (const XmmCase& c : cases) CheckXmm(c.name, c.product, c.host, ops);
}

TEST_F(HostSimdTest, HorizontalMmx) {
  const MmxCase cases[] = {
      MMX_CASE(Phaddw, "phaddw"),   MMX_CASE(Phaddd, "phaddd"),
      MMX_CASE(Phaddsw, "phaddsw"), MMX_CASE(Phsubw, "phsubw"),
      MMX_CASE(Phsubd, "phsubd"),   MMX_CASE(Phsubsw, "phsubsw"),
      MMX_CASE(Pmaddwd, "pmaddwd"), MMX_CASE(Pmaddubsw, "pmaddubsw"),
      MMX_CASE(Psadbw, "psadbw"),
  };
  Operands ops(4);
  for (const MmxCase& c : cases) CheckMmx(c.name, c.product, c.host, ops);
}

X86VM_HOST_XMM_IMM(HostMpsadbw, "mpsadbw");

TEST_F(HostSimdTest, MpsadbwEveryImm) {
  static const auto host = test_support::MakeImmTable<XmmBinary, HostMpsadbw>();
  Operands ops(5);
  CheckXmmImm("Mpsadbw", &Mpsadbw, host, ops);
}

TEST_F(HostSimdTest, CompareAndLogicXmm) {
  const XmmCase cases[] = {
      XMM_CASE(Pcmpeqb, "pcmpeqb"), XMM_CASE(Pcmpeqw, "pcmpeqw"),
      XMM_CASE(Pcmpeqd, "pcmpeqd"), XMM_CASE(Pcmpeqq, "pcmpeqq"),
      XMM_CASE(Pcmpgtb, "pcmpgtb"), XMM_CASE(Pcmpgtw, "pcmpgtw"),
      XMM_CASE(Pcmpgtd, "pcmpgtd"), XMM_CASE(Pcmpgtq, "pcmpgtq"),
      XMM_CASE(Pand, "pand"),       XMM_CASE(Pandn, "pandn"),
      XMM_CASE(Por, "por"),         XMM_CASE(Pxor, "pxor"),
      XMM_CASE(Pand, "andps"),      XMM_CASE(Pandn, "andnps"),
      XMM_CASE(Por, "orpd"),        XMM_CASE(Pxor, "xorps"),
  };
  Operands ops(6);
  for (const XmmCase& c : cases) CheckXmm(c.name, c.product, c.host, ops);
}

TEST_F(HostSimdTest, CompareAndLogicMmx) {
  const MmxCase cases[] = {
      MMX_CASE(Pcmpeqb, "pcmpeqb"), MMX_CASE(Pcmpeqw, "pcmpeqw"),
      MMX_CASE(Pcmpeqd, "pcmpeqd"), MMX_CASE(Pcmpgtb, "pcmpgtb"),
      MMX_CASE(Pcmpgtw, "pcmpgtw"), MMX_CASE(Pcmpgtd, "pcmpgtd"),
      MMX_CASE(Pand, "pand"),       MMX_CASE(Pandn, "pandn"),
      MMX_CASE(Por, "por"),         MMX_CASE(Pxor, "pxor"),
  };
  Operands ops(7);
  for (const MmxCase& c : cases) CheckMmx(c.name, c.product, c.host, ops);
}

TEST_F(HostSimdTest, Ptest) {
  Operands ops(8);
  for (int i = 0; i < test_support::kIterations; ++i) {
    auto [a, b] = ops.NextPair();
    if (i % 4 == 1) b = Pandn(a, b);  // forces ZF
    if (i % 4 == 2) b = Pand(a, b);   // forces CF
    uint64_t rflags;
    asm volatile(
        "movdqu %[a], %%xmm0\n\tmovdqu %[b], %%xmm1\n\tptest %%xmm1, "
        "%%xmm0" X86VM_READ_FLAGS("flags")
        : [flags] "=r"(rflags)
        : [a] "m"(a), [b] "m"(b)
        : "xmm0", "xmm1", "cc");
    const FlagUpdate got = Ptest(a, b);
    ASSERT_EQ(got.written, kStatusFlags);
    ASSERT_EQ(got.values, rflags & kStatusFlags) << Hex(a) << " " << Hex(b);
  }
}

TEST_F(HostSimdTest, SignMasks) {
  Operands ops(9);
  for (int i = 0; i < test_support::kIterations; ++i) {
    const Xmm b = ops.NextXmm();
    uint32_t bytes, dwords, qwords, mmx;
    const uint64_t low = b.u64(1);
    asm volatile(
        "movdqu %[b], %%xmm0\n\tpmovmskb %%xmm0, %[bytes]\n\tmovmskps %%xmm0, "
        "%[dwords]\n\t"
        "movmskpd %%xmm0, %[qwords]\n\tmovq %[low], %%mm0\n\tpmovmskb %%mm0, "
        "%[mmx]\n\temms"
        : [bytes] "=&r"(bytes), [dwords] "=&r"(dwords), [qwords] "=&r"(qwords),
          [mmx] "=&r"(mmx)
        : [b] "m"(b), [low] "m"(low)
        : "xmm0", "mm0");
    ASSERT_EQ(Pmovmskb(b), bytes) << Hex(b);
    ASSERT_EQ(Movmskps(b), dwords) << Hex(b);
    ASSERT_EQ(Movmskpd(b), qwords) << Hex(b);
    ASSERT_EQ(Pmovmskb(low), mmx) << Hex(b);
  }
}

// Values from the SDM's descriptions, independent of the host.
TEST(SimdArithFixed, SaturationAndRounding) {
  const Xmm a = Xmm::FromU64(0x7fff8000'0001ffffULL, 0);
  const Xmm b = Xmm::FromU64(0x00017fff'ffff0001ULL, 0);
  EXPECT_EQ(Paddsw(a, b).u64(0), 0x7fffffff'00000000ULL);
  EXPECT_EQ(Paddusw(a, b).u64(0), 0x8000ffff'ffffffffULL);
  EXPECT_EQ(Pabsb(Xmm::FromU64(0x80ff017f, 0)).u64(0), 0x8001017fULL);
  // 0x8000 * 0x8000 rounds to 0x8000 (the one PMULHRSW overflow).
  EXPECT_EQ(Pmulhrsw(uint64_t{0x8000}, uint64_t{0x8000}), 0x8000u);
  EXPECT_EQ(Pavgb(uint64_t{0xff}, uint64_t{0x00}), 0x80u);
  // The only PMADDWD overflow: two (-32768)^2 products wrap to 0x80000000.
  EXPECT_EQ(Pmaddwd(uint64_t{0x80008000}, uint64_t{0x80008000}), 0x80000000u);
  EXPECT_EQ(Phminposuw(Xmm::FromU64(0x0005'0003'0003'0009ULL,
                                    0x0004'0004'0004'0004ULL))
                .u64(0),
            0x10003u);
}

}  // namespace
}  // namespace x86vm::simd
