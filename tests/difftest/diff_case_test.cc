// CompareOutcomes: what it reports and what the case's masks hide.
#include "tests/difftest/diff_case.h"

#include <gtest/gtest.h>

namespace x86vm::difftest {
namespace {

DiffCase OneByteCase() {
  DiffCase c;
  c.regs.rip = 0x400000;
  c.code = {0x90, 0x90};
  return c;
}

TEST(CompareOutcomesTest, ReportsEachDifference) {
  DiffCase c = OneByteCase();
  DiffOutcome a, b;
  a.regs.gpr[kDRbx] = 1;
  a.regs.rflags |= dflags::kCf;
  a.regs.xmm[3] = {1, 0};
  a.pages.push_back(DiffPage{.vaddr = 0x600000});
  b.pages.push_back(DiffPage{.vaddr = 0x600000});
  b.pages[0].bytes[5] = 9;
  std::vector<std::string> d = CompareOutcomes(c, a, b);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], "rbx: 0x1 vs 0x0");
  EXPECT_NE(d[1].find("rflags"), std::string::npos);
  EXPECT_NE(d[2].find("xmm3"), std::string::npos);
  EXPECT_EQ(d[3], "mem[0x600005]: 0x00 vs 0x09");
}

TEST(CompareOutcomesTest, MasksUndefinedFlagsAndRegisters) {
  DiffCase c = OneByteCase();
  c.undefined_flags = dflags::kAf;
  c.undefined_gprs = 1u << kDRdx;
  DiffOutcome a, b;
  a.regs.rip = b.regs.rip = c.code_end();
  a.regs.rflags |= dflags::kAf;
  a.regs.gpr[kDRdx] = 7;
  EXPECT_TRUE(CompareOutcomes(c, a, b).empty());
  a.regs.rflags |= dflags::kZf;
  EXPECT_EQ(CompareOutcomes(c, a, b).size(), 1u);
}

// A fault uses the mask in effect at the faulting instruction.
TEST(CompareOutcomesTest, FaultUsesTheMaskAtItsInstruction) {
  DiffCase c = OneByteCase();
  c.undefined_flags = 0;
  c.undefined_flags_at = {0, dflags::kOf};
  DiffOutcome a, b;
  a.regs.rip = b.regs.rip = c.regs.rip + 1;
  a.exception = b.exception = DiffException{.vector = 0};
  a.regs.rflags |= dflags::kOf;
  EXPECT_TRUE(CompareOutcomes(c, a, b).empty());
  a.exception = DiffException{.vector = 6};
  EXPECT_EQ(CompareOutcomes(c, a, b).size(), 1u);
}

TEST(CompareOutcomesTest, NanLanesOnlyWhenAsked) {
  DiffCase c = OneByteCase();
  DiffOutcome a, b;
  a.regs.xmm[0] = {0x7fc000003f800000ull, 0};
  b.regs.xmm[0] = {0xffc000013f800000ull, 0};
  EXPECT_EQ(CompareOutcomes(c, a, b).size(), 1u);
  CompareOptions lenient;
  lenient.nan_lanes_equal = true;
  EXPECT_TRUE(CompareOutcomes(c, a, b, lenient).empty());
  b.regs.xmm[0].lo = 0xffc000013f800001ull;  // The non-NaN lane differs.
  EXPECT_EQ(CompareOutcomes(c, a, b, lenient).size(), 1u);
}

}  // namespace
}  // namespace x86vm::difftest
