// Coverage of the interpreter's opcode table by the differential tests:
// every template in every mode it exists in, random sequences and the
// directed snippets are decoded with the interpreter's decoder. The test
// prints the rows no case reaches (the gaps of the differential tests) and
// fails if an instruction does not decode to a row at all, or if coverage
// drops below what it is now.
#include "tests/difftest/opcode_coverage.h"

#include <gtest/gtest.h>

#include "cpu/opcode_table.h"
#include "tests/difftest/case_generator.h"
#include "tests/difftest/directed_cases.h"

namespace x86vm::difftest {
namespace {

TEST(OpcodeCoverageTest, GeneratedCasesReachTheTable) {
  OpcodeCoverage generated;
  OpcodeCoverage with_directed;
  for (DiffMode mode : {DiffMode::kReal16, DiffMode::kProt32, DiffMode::kLong64}) {
    GenOptions options;
    options.mode = mode;
    CaseGenerator gen(7, options);
    auto add = [&](const DiffCase& c) {
      generated.Add(c);
      with_directed.Add(c);
    };
    for (const std::string& name : gen.TemplateNames()) {
      for (int i = 0; i < 4; ++i) add(gen.ForTemplate(name));
    }
    for (int i = 0; i < 1000; ++i) add(gen.Next());
    for (const Snippet& s : DirectedSnippets(mode)) {
      if (s.name.starts_with("invalid")) continue;  // Opcodes with no row on purpose (#UD).
      with_directed.Add(DirectedCase(gen, s));
    }
  }
  printf("generated cases: %s", generated.Report(/*list_missed=*/false).c_str());
  printf("generated cases and directed snippets: %s", with_directed.Report(/*list_missed=*/true).c_str());
  RecordProperty("rows", static_cast<int>(generated.rows()));
  RecordProperty("rows_hit_generated", static_cast<int>(generated.rows_hit()));
  RecordProperty("rows_hit_with_directed", static_cast<int>(with_directed.rows_hit()));
  // Every generated instruction is one the interpreter knows.
  EXPECT_EQ(generated.undecoded(), 0u);
  EXPECT_EQ(with_directed.undecoded(), 0u);
  // What was reached when this test was written; a drop means templates or
  // snippets were lost (or rows renamed), a rise is welcome.
  EXPECT_GE(generated.rows_hit(), 470u);
  EXPECT_GE(with_directed.rows_hit(), 840u);
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
