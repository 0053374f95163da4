// The interpreter against Unicorn in the modes KVM at ring 3 cannot run:
// 16-bit real mode and flat 32-bit protected mode (CPL 0). Unicorn's known
// deviations (README.md) are steered around as in the oracle agreement
// test, and in real mode no SSE is generated (Unicorn's real-mode SSE is
// broken). Mismatches print minimised reproducers.
#include <gtest/gtest.h>

#include "tests/difftest/agreement.h"
#include "tests/difftest/case_generator.h"
#include "tests/difftest/interpreter_engine.h"
#include "tests/difftest/unicorn_oracle.h"

namespace x86vm::difftest {
namespace {

constexpr uint32_t kSse = feature::kSse2 | feature::kSse3 | feature::kSsse3 | feature::kSse41 | feature::kSse42;

class InterpUnicornAgreementTest : public ::testing::TestWithParam<DiffMode> {
 protected:
  void SetUp() override {
    auto interp = InterpreterEngine::Create();
    ASSERT_TRUE(interp.has_value()) << interp.error().message;
    interp_ = std::move(*interp);
    gen_options_.mode = GetParam();
    gen_options_.features = interp_->features() & unicorn_.features();
    if (GetParam() == DiffMode::kReal16) gen_options_.features &= ~kSse;
    gen_options_.avoid_unicorn_deviations = true;
    gen_options_.nan_inputs = false;
    gen_options_.denormal_modes = false;
    options_.compare.compare_error_code = false;  // Unicorn's hooks do not give error codes.
    options_.compare.mxcsr_ignore = 0x3f;         // Unicorn does not set MXCSR exception flags.
    options_.compare.nan_lanes_equal = true;      // Unicorn picks the wrong NaN.
    options_.max_reports = 5;
  }
  void Check(const AgreementStats& stats) {
    std::string text;
    for (const std::string& r : stats.error_reports) text += r + "\n";
    for (const std::string& r : stats.reports) text += r + "\n";
    EXPECT_EQ(stats.errors_a, 0u) << text;
    EXPECT_EQ(stats.errors_b, 0u) << text;
    EXPECT_EQ(stats.mismatched, 0u) << text;
  }
  std::unique_ptr<InterpreterEngine> interp_;
  UnicornOracle unicorn_;
  GenOptions gen_options_;
  AgreementOptions options_;
};

TEST_P(InterpUnicornAgreementTest, EveryTemplateAlone) {
  CaseGenerator gen(2024, gen_options_);
  AgreementStats total;
  for (const std::string& name : gen.TemplateNames()) {
    GenOptions one = gen_options_;
    one.only = name;
    one.min_insns = one.max_insns = 1;
    CaseGenerator single(std::hash<std::string>{}(name), one);
    options_.cases = 4;
    AgreementStats s = RunAgreement(*interp_, unicorn_, single, options_);
    total.cases += s.cases;
    total.mismatched += s.mismatched;
    total.errors_a += s.errors_a;
    total.errors_b += s.errors_b;
    for (auto& r : s.reports) {
      if (total.reports.size() < 8) total.reports.push_back(r);
    }
    for (auto& r : s.error_reports) {
      if (total.error_reports.size() < 8) total.error_reports.push_back(r);
    }
  }
  EXPECT_GT(total.cases, 500u);
  Check(total);
}

TEST_P(InterpUnicornAgreementTest, RandomSequences) {
  CaseGenerator gen(1, gen_options_);
  options_.cases = 1500;
  AgreementStats stats = RunAgreement(*interp_, unicorn_, gen, options_);
  EXPECT_GT(stats.faulted, 0u);
  Check(stats);
}

INSTANTIATE_TEST_SUITE_P(LegacyModes, InterpUnicornAgreementTest,
                         ::testing::Values(DiffMode::kReal16, DiffMode::kProt32),
                         [](const ::testing::TestParamInfo<DiffMode>& info) {
                           return std::string(ModeName(info.param));
                         });

}  // namespace
}  // namespace x86vm::difftest
