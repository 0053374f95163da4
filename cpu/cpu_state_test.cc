#include "cpu/cpu_state.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

TEST(CpuStateTest, ResetMatchesSdmTable9_1) {
  CpuState s;
  s.Reset();
  EXPECT_EQ(s.rip, 0xfff0u);
  EXPECT_EQ(s.seg[kCs].selector, 0xf000);
  EXPECT_EQ(s.seg[kCs].base, 0xffff0000u);
  EXPECT_EQ(s.rflags, 2u);
  EXPECT_EQ(s.cr0, 0x60000010u);
  EXPECT_EQ(s.gpr[kRdx], kProcessorSignature);
  EXPECT_EQ(s.dr7, 0x400u);
  EXPECT_EQ(s.x87.fcw, 0x37f);
  EXPECT_EQ(s.mxcsr, 0x1f80u);
  EXPECT_EQ(s.cpl(), 0);
  EXPECT_FALSE(s.protected_mode());
}

TEST(CpuStateTest, SerializeRoundTrip) {
  CpuState a;
  a.Reset();
  // Touch every part.
  for (int i = 0; i < 16; ++i) a.gpr[i] = 0x1111111111111111ull * (i + 1);
  a.rip = 0xffffffff81000000ull;
  a.rflags = 0x246;
  a.seg[kFs] = Segment{0x2b, 0x7fff12340000ull, 0xffffffff, 0xc0f3};
  a.gdtr = {0xfffffe0000001000ull, 0x7f};
  a.cr0 = 0x80050033;
  a.cr3 = 0x1234000;
  a.cr4 = 0x3606f0;
  a.efer = 0xd01;
  a.dr[2] = 0x4000;
  a.x87.st[3][9] = 0x40;
  a.x87.fsw = 0x3800;
  a.xmm[15] = {1, 2};
  a.ymm_hi[1] = {3, 4};
  a.msr.lstar = 0xffffffff81a00000ull;
  a.msr.mtrr_var[5] = 0xff;
  a.events.nmi_pending = true;
  a.events.exception_vector = 14;
  a.halted = true;

  Serializer save = Serializer::ForSave();
  a.Serialize(save);
  Serializer load = Serializer::ForLoad(save.data());
  CpuState b;
  b.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_EQ(a, b);
  Serializer again = Serializer::ForSave();
  b.Serialize(again);
  EXPECT_EQ(save.data(), again.data());
}

TEST(CpuStateTest, TruncatedStreamIsAnError) {
  CpuState a;
  Serializer save = Serializer::ForSave();
  a.Serialize(save);
  std::vector<uint8_t> bytes = save.data();
  bytes.resize(bytes.size() / 2);
  Serializer load = Serializer::ForLoad(bytes);
  CpuState b;
  b.Serialize(load);
  EXPECT_FALSE(load.ok());
}

TEST(CpuStateTest, CplFollowsSsDplAndMode) {
  CpuState s;
  s.Reset();
  s.cr0 |= cr0::kPe;
  s.seg[kSs].attr = 0x93 | (3u << seg_attr::kDplShift);
  EXPECT_EQ(s.cpl(), 3);
  s.rflags |= flags::kVm;
  s.seg[kSs].attr = 0x93;
  EXPECT_EQ(s.cpl(), 3);  // Virtual-8086 mode is always CPL 3.
}

}  // namespace
}  // namespace x86vm
