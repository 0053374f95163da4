// The two oracles agree: generated 64-bit cases run through KVM at ring 3
// (the hardware) and Unicorn give the same outcome, with the SDM-undefined
// flags masked and Unicorn's documented deviations (README.md) avoided.
// Mismatches are printed as minimised reproducers with a disassembly.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/difftest/agreement.h"
#include "tests/difftest/case_generator.h"
#include "tests/difftest/kvm_ring3_oracle.h"
#include "tests/difftest/unicorn_oracle.h"

namespace x86vm::difftest {
namespace {

class OracleAgreementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kvm = KvmRing3Oracle::Create();
    if (!kvm) GTEST_SKIP() << "KVM ring-3 oracle unavailable: " << kvm.error().message;
    kvm_ = std::move(*kvm);
    gen_options_.mode = DiffMode::kLong64;
    gen_options_.features = kvm_->features() & unicorn_.features();
    gen_options_.avoid_unicorn_deviations = true;
    gen_options_.nan_inputs = false;
    gen_options_.denormal_modes = false;
    options_.compare.compare_error_code = false;  // Unicorn's hooks do not give error codes.
    options_.compare.mxcsr_ignore = 0x3f;          // Unicorn does not set MXCSR exception flags.
    options_.compare.nan_lanes_equal = true;       // Unicorn picks the wrong NaN (README.md).
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
  std::unique_ptr<KvmRing3Oracle> kvm_;
  UnicornOracle unicorn_;
  GenOptions gen_options_;
  AgreementOptions options_;
};

// Every template alone, several times, so rare templates are not skipped.
TEST_F(OracleAgreementTest, EveryTemplateAlone) {
  CaseGenerator gen(2024, gen_options_);
  AgreementStats total;
  for (const std::string& name : gen.TemplateNames()) {
    GenOptions one = gen_options_;
    one.only = name;
    one.min_insns = one.max_insns = 1;
    CaseGenerator single(std::hash<std::string>{}(name), one);
    options_.cases = 12;
    AgreementStats s = RunAgreement(*kvm_, unicorn_, single, options_);
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
  EXPECT_GT(total.cases, 3000u);
  Check(total);
}

// Random sequences of up to six templates with flag and data dependencies.
TEST_F(OracleAgreementTest, RandomSequences) {
  CaseGenerator gen(1, gen_options_);
  options_.cases = 4000;
  const auto start = std::chrono::steady_clock::now();
  AgreementStats stats = RunAgreement(*kvm_, unicorn_, gen, options_);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("%llu cases (%llu ended in an exception) in %.2f s\n", static_cast<unsigned long long>(stats.cases),
         static_cast<unsigned long long>(stats.faulted), s);
  EXPECT_GT(stats.faulted, 0u);  // #DE and #PF outcomes are compared too.
  Check(stats);
}

// Throughput of each oracle alone on the same generated cases.
TEST_F(OracleAgreementTest, Throughput) {
  CaseGenerator gen(5, gen_options_);
  std::vector<DiffCase> cases;
  for (int i = 0; i < 2000; ++i) cases.push_back(gen.Next());
  for (DiffEngine* e : {static_cast<DiffEngine*>(kvm_.get()), static_cast<DiffEngine*>(&unicorn_)}) {
    const auto start = std::chrono::steady_clock::now();
    for (const DiffCase& c : cases) ASSERT_TRUE(e->Run(c).has_value());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    printf("%s: %.0f cases/s\n", e->name(), static_cast<double>(cases.size()) / s);
    RecordProperty(std::string(e->name()) + "_cases_per_second", static_cast<int>(cases.size() / s));
  }
}

}  // namespace
}  // namespace x86vm::difftest
