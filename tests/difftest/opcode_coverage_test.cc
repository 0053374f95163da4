// Coverage of the interpreter's opcode table by the generated cases: every
// template in every mode it exists in, plus random sequences, are decoded
// with the interpreter's decoder. The test prints the rows no case reaches
// (the gaps of the differential tests) and fails if a template's code does
// not decode to a row at all, or if coverage drops below what it is now.
#include "tests/difftest/opcode_coverage.h"

#include <gtest/gtest.h>

#include "cpu/opcode_table.h"
#include "tests/difftest/case_generator.h"

namespace x86vm::difftest {
namespace {

TEST(OpcodeCoverageTest, GeneratedCasesReachTheTable) {
  OpcodeCoverage coverage;
  for (DiffMode mode : {DiffMode::kReal16, DiffMode::kProt32, DiffMode::kLong64}) {
    GenOptions options;
    options.mode = mode;
    CaseGenerator gen(7, options);
    for (const std::string& name : gen.TemplateNames()) {
      for (int i = 0; i < 4; ++i) coverage.Add(gen.ForTemplate(name));
    }
    for (int i = 0; i < 1000; ++i) coverage.Add(gen.Next());
  }
  printf("%s", coverage.Report(/*list_missed=*/true).c_str());
  RecordProperty("rows", static_cast<int>(coverage.rows()));
  RecordProperty("rows_hit", static_cast<int>(coverage.rows_hit()));
  // Every generated instruction is one the interpreter knows.
  EXPECT_EQ(coverage.undecoded(), 0u);
  // What the generator reached when this test was written; a drop means
  // templates were lost (or rows renamed), a rise is welcome.
  EXPECT_GE(coverage.rows_hit(), 400u);
}

TEST(OpcodeCoverageTest, CountsRowsPerMode) {
  OpcodeCoverage coverage;
  DiffCase c;
  c.mode = DiffMode::kProt32;
  c.code = {0x01, 0xd8, 0x27, 0x01, 0xd8};  // add eax, ebx; daa; add eax, ebx
  coverage.Add(c);
  size_t add = coverage.rows(), daa = coverage.rows();
  for (size_t i = 0; i < coverage.rows(); ++i) {
    const std::string_view m = coverage.row(i).mnemonic;
    const std::string_view ops = coverage.row(i).operands;
    if (m == "ADD" && ops == "Ev,Gv") add = i;
    if (m == "DAA") daa = i;
  }
  ASSERT_LT(add, coverage.rows());
  ASSERT_LT(daa, coverage.rows());
  EXPECT_EQ(coverage.hits(add, DiffMode::kProt32), 2u);
  EXPECT_EQ(coverage.hits(add, DiffMode::kLong64), 0u);
  EXPECT_EQ(coverage.hits(daa, DiffMode::kProt32), 1u);
  EXPECT_EQ(coverage.rows_hit(), 2u);
  EXPECT_EQ(coverage.undecoded(), 0u);
}

}  // namespace
}  // namespace x86vm::difftest
