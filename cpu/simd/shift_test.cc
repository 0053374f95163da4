// Shifts and PALIGNR against the host CPU: every immediate, and register
// counts around and far beyond the lane width.
#include "cpu/simd/shift.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "cpu/simd/test_support.h"

namespace x86vm::simd {
namespace {

using test_support::CheckMmxImm;
using test_support::CheckXmmImm;
using test_support::Hex;
using test_support::MakeImmTable;
using test_support::MmxBinary;
using test_support::Operands;
using test_support::XmmBinary;

class HostShiftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_support::HostHasSse42())
      GTEST_SKIP() << "host lacks SSSE3/SSE4.2";
  }
};

// A shift count: mostly near the lane widths, sometimes huge (the whole
// 64-bit count register takes part in the >= width test).
uint64_t NextCount(Operands& ops) {
  static constexpr uint64_t kBig[] = {
      0x100,        0x1000f,           uint64_t{1} << 32, uint64_t{1} << 63,
      ~uint64_t{0}, 0xffffffff00000001};
  switch (ops.Below(4)) {
    case 0:
      return kBig[ops.Below(6)];
    case 1:
      return ops.Next();
    default:
      return ops.Below(70);
  }
}

using XmmShift = Xmm (*)(const Xmm&, uint64_t);
using MmxShift = uint64_t (*)(uint64_t, uint64_t);

struct XmmShiftCase {
  const char* name;
  XmmShift product;
  XmmBinary host;
};
struct MmxShiftCase {
  const char* name;
  MmxShift product;
  MmxBinary host;
};

#define XMM_SHIFT_CASE(fn, insn) \
  XmmShiftCase { #fn, static_cast < XmmShift>(&fn), X86VM_HOST_XMM(insn) }
#define MMX_SHIFT_CASE(fn, insn) \
  MmxShiftCase { #fn, static_cast < MmxShift>(&fn), X86VM_HOST_MMX(insn) }

TEST_F(HostShiftTest, ByRegister) {
  const XmmShiftCase xmm_cases[] = {
      XMM_SHIFT_CASE(Psllw, "psllw"), XMM_SHIFT_CASE(Pslld, "pslld"),
      XMM_SHIFT_CASE(Psllq, "psllq"), XMM_SHIFT_CASE(Psrlw, "psrlw"),
      XMM_SHIFT_CASE(Psrld, "psrld"), XMM_SHIFT_CASE(Psrlq, "psrlq"),
      XMM_SHIFT_CASE(Psraw, "psraw"), XMM_SHIFT_CASE(Psrad, "psrad"),
  };
  const MmxShiftCase mmx_cases[] = {
      MMX_SHIFT_CASE(Psllw, "psllw"), MMX_SHIFT_CASE(Pslld, "pslld"),
      MMX_SHIFT_CASE(Psllq, "psllq"), MMX_SHIFT_CASE(Psrlw, "psrlw"),
      MMX_SHIFT_CASE(Psrld, "psrld"), MMX_SHIFT_CASE(Psrlq, "psrlq"),
      MMX_SHIFT_CASE(Psraw, "psraw"), MMX_SHIFT_CASE(Psrad, "psrad"),
  };
  Operands ops(11);
  for (const XmmShiftCase& c : xmm_cases) {
    for (int i = 0; i < test_support::kIterations; ++i) {
      const Xmm a = ops.NextXmm();
      // The high quadword of the count operand is ignored by the hardware.
      const Xmm count = Xmm::FromU64(NextCount(ops), ops.Next());
      ASSERT_EQ(Hex(c.product(a, count.u64(0))), Hex(c.host(a, count)))
          << c.name << " a=" << Hex(a) << " count=" << Hex(count);
    }
  }
  for (const MmxShiftCase& c : mmx_cases) {
    for (int i = 0; i < test_support::kIterations; ++i) {
      const uint64_t a = ops.NextXmm().u64(0);
      const uint64_t count = NextCount(ops);
      ASSERT_EQ(c.product(a, count), c.host(a, count))
          << c.name << " a=" << a << " count=" << count;
    }
  }
}

X86VM_HOST_XMM_SHIFT_IMM(HostPsllwImm, "psllw");
X86VM_HOST_XMM_SHIFT_IMM(HostPslldImm, "pslld");
X86VM_HOST_XMM_SHIFT_IMM(HostPsllqImm, "psllq");
X86VM_HOST_XMM_SHIFT_IMM(HostPsrlwImm, "psrlw");
X86VM_HOST_XMM_SHIFT_IMM(HostPsrldImm, "psrld");
X86VM_HOST_XMM_SHIFT_IMM(HostPsrlqImm, "psrlq");
X86VM_HOST_XMM_SHIFT_IMM(HostPsrawImm, "psraw");
X86VM_HOST_XMM_SHIFT_IMM(HostPsradImm, "psrad");
X86VM_HOST_XMM_SHIFT_IMM(HostPslldqImm, "pslldq");
X86VM_HOST_XMM_SHIFT_IMM(HostPsrldqImm, "psrldq");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPsllwImm, "psllw");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPslldImm, "pslld");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPsllqImm, "psllq");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPsrlwImm, "psrlw");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPsrldImm, "psrld");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPsrlqImm, "psrlq");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPsrawImm, "psraw");
X86VM_HOST_MMX_SHIFT_IMM(HostMmxPsradImm, "psrad");
X86VM_HOST_XMM_IMM(HostPalignr, "palignr");
X86VM_HOST_MMX_IMM(HostMmxPalignr, "palignr");

// The product side of the immediate forms: count = imm.
#define XMM_IMM_SHIFT(fn) \
  [](const Xmm& a, const Xmm&, uint8_t imm) { return fn(a, imm); }
#define MMX_IMM_SHIFT(fn) \
  [](uint64_t a, uint64_t, uint8_t imm) { return fn(a, imm); }

TEST_F(HostShiftTest, ByEveryImmediate) {
  Operands ops(12);
  CheckXmmImm("Psllw", XMM_IMM_SHIFT(Psllw),
              MakeImmTable<XmmBinary, HostPsllwImm>(), ops, 8);
  CheckXmmImm("Pslld", XMM_IMM_SHIFT(Pslld),
              MakeImmTable<XmmBinary, HostPslldImm>(), ops, 8);
  CheckXmmImm("Psllq", XMM_IMM_SHIFT(Psllq),
              MakeImmTable<XmmBinary, HostPsllqImm>(), ops, 8);
  CheckXmmImm("Psrlw", XMM_IMM_SHIFT(Psrlw),
              MakeImmTable<XmmBinary, HostPsrlwImm>(), ops, 8);
  CheckXmmImm("Psrld", XMM_IMM_SHIFT(Psrld),
              MakeImmTable<XmmBinary, HostPsrldImm>(), ops, 8);
  CheckXmmImm("Psrlq", XMM_IMM_SHIFT(Psrlq),
              MakeImmTable<XmmBinary, HostPsrlqImm>(), ops, 8);
  CheckXmmImm("Psraw", XMM_IMM_SHIFT(Psraw),
              MakeImmTable<XmmBinary, HostPsrawImm>(), ops, 8);
  CheckXmmImm("Psrad", XMM_IMM_SHIFT(Psrad),
              MakeImmTable<XmmBinary, HostPsradImm>(), ops, 8);
  CheckXmmImm("Pslldq", XMM_IMM_SHIFT(Pslldq),
              MakeImmTable<XmmBinary, HostPslldqImm>(), ops, 8);
  CheckXmmImm("Psrldq", XMM_IMM_SHIFT(Psrldq),
              MakeImmTable<XmmBinary, HostPsrldqImm>(), ops, 8);
  CheckMmxImm("Psllw", MMX_IMM_SHIFT(Psllw),
              MakeImmTable<MmxBinary, HostMmxPsllwImm>(), ops, 8);
  CheckMmxImm("Pslld", MMX_IMM_SHIFT(Pslld),
              MakeImmTable<MmxBinary, HostMmxPslldImm>(), ops, 8);
  CheckMmxImm("Psllq", MMX_IMM_SHIFT(Psllq),
              MakeImmTable<MmxBinary, HostMmxPsllqImm>(), ops, 8);
  CheckMmxImm("Psrlw", MMX_IMM_SHIFT(Psrlw),
              MakeImmTable<MmxBinary, HostMmxPsrlwImm>(), ops, 8);
  CheckMmxImm("Psrld", MMX_IMM_SHIFT(Psrld),
              MakeImmTable<MmxBinary, HostMmxPsrldImm>(), ops, 8);
  CheckMmxImm("Psrlq", MMX_IMM_SHIFT(Psrlq),
              MakeImmTable<MmxBinary, HostMmxPsrlqImm>(), ops, 8);
  CheckMmxImm("Psraw", MMX_IMM_SHIFT(Psraw),
              MakeImmTable<MmxBinary, HostMmxPsrawImm>(), ops, 8);
  CheckMmxImm("Psrad", MMX_IMM_SHIFT(Psrad),
              MakeImmTable<MmxBinary, HostMmxPsradImm>(), ops, 8);
}

TEST_F(HostShiftTest, PalignrEveryImmediate) {
  Operands ops(13);
  CheckXmmImm(
      "Palignr",
      [](const Xmm& a, const Xmm& b, uint8_t imm) {
        return Palignr(a, b, imm);
      },
      MakeImmTable<XmmBinary, HostPalignr>(), ops);
  CheckMmxImm(
      "Palignr",
      [](uint64_t a, uint64_t b, uint8_t imm) { return Palignr(a, b, imm); },
      MakeImmTable<MmxBinary, HostMmxPalignr>(), ops);
}

TEST(SimdShiftFixed, Boundaries) {
  const Xmm a = Xmm::FromU64(0x8000'0001'8000'0001ULL, 0x0123456789abcdefULL);
  EXPECT_EQ(Psraw(a, 100).u64(0), 0xffff'0000'ffff'0000ULL);
  EXPECT_EQ(Psrlw(a, 16), Xmm{});
  EXPECT_EQ(Psllq(a, 63).u64(0), 0x8000'0000'0000'0000ULL);
  EXPECT_EQ(Pslldq(a, 8).u64(1), a.u64(0));
  EXPECT_EQ(Psrldq(a, 16), Xmm{});
  EXPECT_EQ(Palignr(a, a, 32), Xmm{});
  EXPECT_EQ(
      Palignr(uint64_t{0x1122334455667788}, uint64_t{0x99aabbccddeeff00}, 3),
      0x667788'99aabbccddULL);
}

}  // namespace
}  // namespace x86vm::simd
