// Known answers through UnicornOracle in all three modes, and a smoke run of
// generated legacy-mode cases (which KVM at ring 3 cannot run).
#include "tests/difftest/unicorn_oracle.h"

#include <gtest/gtest.h>

#include "tests/difftest/case_generator.h"
#include "tests/difftest/disasm.h"
#include "tests/difftest/oracle_test_util.h"

namespace x86vm::difftest {
namespace {

DiffOutcome RunOk(UnicornOracle& u, const DiffCase& c) {
  auto r = u.Run(c);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : DiffOutcome{};
}

TEST(UnicornOracleTest, BcdAdjustInLegacyModes) {
  UnicornOracle u;
  for (DiffMode mode : {DiffMode::kReal16, DiffMode::kProt32}) {
    // mov al, 9; add al, 8; daa -> 0x17 (SDM DAA example style).
    DiffOutcome o = RunOk(u, BlankCase(mode, {0xb0, 0x09, 0x04, 0x08, 0x27}));
    EXPECT_EQ(o.regs.gpr[kDRax] & 0xff, 0x17u) << ModeName(mode);
    EXPECT_FALSE(o.exception.has_value());
  }
}

TEST(UnicornOracleTest, RealModeSixteenBitAddressing) {
  UnicornOracle u;
  // mov bx, 0x4000; mov si, 0x10; mov word [bx+si], 0x1234; push bx
  DiffCase c = BlankCase(DiffMode::kReal16,
                         {0xbb, 0x00, 0x40, 0xbe, 0x10, 0x00, 0xc7, 0x00, 0x34, 0x12, 0x53});
  DiffOutcome o = RunOk(u, c);
  EXPECT_EQ(ReadMem<uint16_t>(o, 0x4010), 0x1234u);
  EXPECT_EQ(o.regs.gpr[kDRsp], c.regs.gpr[kDRsp] - 2);
  EXPECT_EQ(ReadMem<uint16_t>(o, c.regs.gpr[kDRsp] - 2), 0x4000u);
  EXPECT_EQ(o.regs.rip, c.code_end());
}

TEST(UnicornOracleTest, ExceptionsStopAtTheInstruction) {
  UnicornOracle u;
  for (DiffMode mode : {DiffMode::kReal16, DiffMode::kProt32, DiffMode::kLong64}) {
    // nop; div cx (cx = 0) twice in a row: the second must not become #DF.
    for (int round = 0; round < 2; ++round) {
      DiffOutcome o = RunOk(u, BlankCase(mode, {0x90, 0xf7, 0xf1}));
      ASSERT_TRUE(o.exception.has_value()) << ModeName(mode);
      EXPECT_EQ(o.exception->vector, 0) << ModeName(mode);
      EXPECT_EQ(o.regs.rip, LayoutFor(mode).code_addr + 1) << ModeName(mode);
    }
    DiffOutcome ud = RunOk(u, BlankCase(mode, {0x90, 0x0f, 0x0b}));
    ASSERT_TRUE(ud.exception.has_value());
    EXPECT_EQ(ud.exception->vector, 6);
    EXPECT_EQ(ud.regs.rip, LayoutFor(mode).code_addr + 1);
  }
  // An access outside the case's pages is a #PF at the faulting instruction
  // (not at the start of Unicorn's translation block).
  DiffCase pf = BlankCase(DiffMode::kLong64, {0x48, 0xff, 0xc0, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00});
  DiffOutcome o = RunOk(u, pf);
  ASSERT_TRUE(o.exception.has_value());
  EXPECT_EQ(o.exception->vector, 14);
  EXPECT_EQ(o.exception->cr2, 0x500000u);
  EXPECT_EQ(o.regs.rip, pf.regs.rip + 3);
  EXPECT_EQ(o.regs.gpr[kDRax], 1u);
}

// Not real mode: there Unicorn 2.0.1 leaves the XMM registers alone for SSE
// instructions with a 66 prefix and raises nothing (README.md, deviations).
TEST(UnicornOracleTest, SseInProtectedAndLongMode) {
  UnicornOracle u;
  for (DiffMode mode : {DiffMode::kProt32, DiffMode::kLong64}) {
    DiffCase c = BlankCase(mode, {0x66, 0x0f, 0xfe, 0xc1});  // paddd xmm0, xmm1
    c.regs.xmm[0] = {1, 2};
    c.regs.xmm[1] = {10, 20};
    DiffOutcome o = RunOk(u, c);
    EXPECT_EQ(o.regs.xmm[0], (DiffXmm{11, 22})) << ModeName(mode);
  }
}

// Generated real-mode and 32-bit cases run to an outcome (an end or a guest
// exception), never to an engine error.
TEST(UnicornOracleTest, RunsGeneratedLegacyCases) {
  UnicornOracle u;
  for (DiffMode mode : {DiffMode::kReal16, DiffMode::kProt32}) {
    GenOptions options;
    options.mode = mode;
    options.features = u.features();
    CaseGenerator gen(11, options);
    int errors = 0;
    for (int i = 0; i < 1500; ++i) {
      DiffCase c = gen.Next();
      auto r = u.Run(c);
      if (!r && errors++ < 3) ADD_FAILURE() << r.error().message << "\n" << DescribeCase(c);
    }
    EXPECT_EQ(errors, 0) << ModeName(mode);
  }
}

}  // namespace
}  // namespace x86vm::difftest
