// Directed snippets (directed_cases.h) for the opcode-table rows the
// template generator does not reach, each from several random states: the
// interpreter against KVM at ring 3 in 64-bit mode (branches, CALL/RET,
// ENTER/LEAVE, CMPXCHG16B, SSE moves, MMX, x87 arithmetic, #GP at CPL 3)
// and against Unicorn in real16/prot32 (legacy-only forms: PUSHA, BOUND,
// INTO, INC/DEC r, 82h...).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/difftest/agreement.h"
#include "tests/difftest/case_generator.h"
#include "tests/difftest/directed_cases.h"
#include "tests/difftest/interpreter_engine.h"
#include "tests/difftest/kvm_ring3_oracle.h"
#include "tests/difftest/unicorn_oracle.h"

namespace x86vm::difftest {
namespace {

// Random states per snippet (x87 snippets come in six control words each).
constexpr int kRunsPerSnippet = 5;
constexpr int kRunsPerX87Snippet = 2;

// Runs every snippet from several random states; returns the failure text.
std::string RunSnippets(DiffEngine& a, DiffEngine& b, const std::vector<Snippet>& snippets, GenOptions gen_options,
                        const CompareOptions& compare, int& cases) {
  std::string failures;
  int reported = 0;
  CaseGenerator gen(77, gen_options);
  for (const Snippet& s : snippets) {
    const int runs = s.x87_mmx ? kRunsPerX87Snippet : kRunsPerSnippet;
    for (int k = 0; k < runs; ++k) {
      DiffCase c = DirectedCase(gen, s);
      ++cases;
      auto ra = a.Run(c);
      auto rb = b.Run(c);
      if (!ra || !rb) {
        if (reported++ < 6) {
          failures += "--- engine error in " + s.name + ": " + (ra ? "" : ra.error().message) +
                      (rb ? "" : rb.error().message) + "\n";
        }
        break;
      }
      std::vector<std::string> diffs = CompareOutcomes(c, *ra, *rb, compare);
      // x87 and MMX snippets are built not to fault: an exception on both
      // sides would hide that the instructions never ran.
      if (s.x87_mmx && ra->exception) {
        diffs.push_back(fmt::format("{} raised vector {} on {}", s.name, ra->exception->vector, a.name()));
      }
      if (diffs.empty()) continue;
      if (reported++ < 6 || getenv("DIRECTED_ALL") != nullptr) {
        failures += MismatchReport(a, b, c, diffs);
      } else {
        failures += "--- also mismatching: " + s.name + "\n";
      }
      break;
    }
  }
  return failures;
}

TEST(InterpDirectedTest, Long64AgainstKvm) {
  auto kvm = KvmRing3Oracle::Create();
  if (!kvm) GTEST_SKIP() << "KVM ring-3 oracle unavailable: " << kvm.error().message;
  auto interp = InterpreterEngine::Create();
  ASSERT_TRUE(interp.has_value()) << interp.error().message;
  GenOptions gen;
  gen.mode = DiffMode::kLong64;
  int cases = 0;
  std::string failures = RunSnippets(**interp, **kvm, DirectedSnippets(DiffMode::kLong64), gen, {}, cases);
  EXPECT_TRUE(failures.empty()) << failures;
  EXPECT_GT(cases, 1000);
}

class InterpDirectedLegacyTest : public ::testing::TestWithParam<DiffMode> {};

TEST_P(InterpDirectedLegacyTest, AgainstUnicorn) {
  auto interp = InterpreterEngine::Create();
  ASSERT_TRUE(interp.has_value()) << interp.error().message;
  UnicornOracle unicorn;
  GenOptions gen;
  gen.mode = GetParam();
  gen.nan_inputs = false;
  gen.denormal_modes = false;
  CompareOptions compare;
  compare.compare_error_code = false;
  compare.mxcsr_ignore = 0x3f;
  compare.nan_lanes_equal = true;
  std::vector<Snippet> snippets;
  for (Snippet& s : DirectedSnippets(GetParam())) {
    if (s.x87_mmx || (s.sse && GetParam() == DiffMode::kReal16)) continue;
    snippets.push_back(std::move(s));
  }
  int cases = 0;
  std::string failures = RunSnippets(**interp, unicorn, snippets, gen, compare, cases);
  EXPECT_TRUE(failures.empty()) << failures;
  EXPECT_GT(cases, 300);
}

INSTANTIATE_TEST_SUITE_P(LegacyModes, InterpDirectedLegacyTest, ::testing::Values(DiffMode::kReal16, DiffMode::kProt32),
                         [](const ::testing::TestParamInfo<DiffMode>& info) {
                           return std::string(ModeName(info.param));
                         });

}  // namespace
}  // namespace x86vm::difftest
