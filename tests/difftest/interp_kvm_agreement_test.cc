// The interpreter against the hardware: generated 64-bit cases run through
// InterpreterEngine and KvmRing3Oracle (native ring 3) must give the same
// outcome, with only the SDM-undefined flags masked. Nothing else is
// relaxed: NaN inputs, FTZ/DAZ, MXCSR exception flags, #PF error codes and
// CR2 are all compared. Mismatches print minimised reproducers. Skipped
// where /dev/kvm is unusable.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/difftest/agreement.h"
#include "tests/difftest/case_generator.h"
#include "tests/difftest/interpreter_engine.h"
#include "tests/difftest/kvm_ring3_oracle.h"

namespace x86vm::difftest {
namespace {

class InterpKvmAgreementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kvm = KvmRing3Oracle::Create();
    if (!kvm) GTEST_SKIP() << "KVM ring-3 oracle unavailable: " << kvm.error().message;
    kvm_ = std::move(*kvm);
    auto interp = InterpreterEngine::Create();
    ASSERT_TRUE(interp.has_value()) << interp.error().message;
    interp_ = std::move(*interp);
    gen_options_.mode = DiffMode::kLong64;
    gen_options_.features = interp_->features() & kvm_->features();
    options_.max_reports = 5;
  }
  void Check(const AgreementStats& stats) {
    std::string text;
    for (const std::string& r : stats.error_reports) text += r + "\n";
    for (const std::string& r : stats.reports) text += r + "\n";
    EXPECT_EQ(stats.errors_a, 0u) << text;
    // The host's KVM sometimes fails to finish a case in time (seen with
    // POPF); that is the oracle, not a disagreement.
    EXPECT_LE(stats.errors_b, stats.cases / 1000) << text;
    EXPECT_EQ(stats.mismatched, 0u) << text;
  }
  std::unique_ptr<KvmRing3Oracle> kvm_;
  std::unique_ptr<InterpreterEngine> interp_;
  GenOptions gen_options_;
  AgreementOptions options_;
};

// Every template alone, several times, so rare templates are not skipped.
TEST_F(InterpKvmAgreementTest, EveryTemplateAlone) {
  CaseGenerator gen(2024, gen_options_);
  AgreementStats total;
  for (const std::string& name : gen.TemplateNames()) {
    GenOptions one = gen_options_;
    one.only = name;
    one.min_insns = one.max_insns = 1;
    CaseGenerator single(std::hash<std::string>{}(name), one);
    options_.cases = 8;
    AgreementStats s = RunAgreement(*interp_, *kvm_, single, options_);
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
  EXPECT_GT(total.cases, 2500u);
  Check(total);
}

// Random sequences of up to six templates with flag and data dependencies.
TEST_F(InterpKvmAgreementTest, RandomSequences) {
  CaseGenerator gen(1, gen_options_);
  options_.cases = 3000;
  const auto start = std::chrono::steady_clock::now();
  AgreementStats stats = RunAgreement(*interp_, *kvm_, gen, options_);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("%llu cases (%llu ended in an exception) in %.2f s\n", static_cast<unsigned long long>(stats.cases),
         static_cast<unsigned long long>(stats.faulted), s);
  EXPECT_GT(stats.faulted, 0u);  // #DE and #PF outcomes are compared too.
  Check(stats);
}

// Cases that end in #PF: the first data page read-only, or the second
// missing, so error codes and CR2 of writes and reads are compared. Each
// layout gets its own KVM VM: the host KVM (shadow paging) does not notice
// page tables rewritten from userspace between cases, so a VM that saw the
// page writable may keep it writable (README.md).
TEST_F(InterpKvmAgreementTest, PageFaults) {
  for (int layout = 0; layout < 2; ++layout) {
    auto kvm = KvmRing3Oracle::Create();
    ASSERT_TRUE(kvm.has_value()) << kvm.error().message;
    CaseGenerator gen(9 + layout, gen_options_);
    uint64_t faulted = 0;
    for (int i = 0; i < 400; ++i) {
      DiffCase c = gen.Next();
      if (layout == 0) c.pages[0].writable = false;
      if (layout == 1) c.pages.erase(c.pages.begin() + 1);
      auto a = interp_->Run(c);
      auto b = (*kvm)->Run(c);
      ASSERT_TRUE(a.has_value()) << a.error().message;
      if (!b) continue;  // The oracle's own trouble (see Check).
      faulted += a->exception.has_value();
      std::vector<std::string> diffs = CompareOutcomes(c, *a, *b, options_.compare);
      if (!diffs.empty()) {
        DiffCase small = MinimiseMismatch(*interp_, **kvm, c, options_.compare);
        auto sa = interp_->Run(small);
        auto sb = (*kvm)->Run(small);
        ADD_FAILURE() << MismatchReport(*interp_, **kvm, small,
                                        sa && sb ? CompareOutcomes(small, *sa, *sb, options_.compare) : diffs);
        break;
      }
    }
    EXPECT_GT(faulted, 50u) << "layout " << layout;
  }
}

// Throughput of each engine alone on the same generated cases.
TEST_F(InterpKvmAgreementTest, Throughput) {
  CaseGenerator gen(5, gen_options_);
  std::vector<DiffCase> cases;
  for (int i = 0; i < 2000; ++i) cases.push_back(gen.Next());
  for (DiffEngine* e : {static_cast<DiffEngine*>(interp_.get()), static_cast<DiffEngine*>(kvm_.get())}) {
    const auto start = std::chrono::steady_clock::now();
    for (const DiffCase& c : cases) (void)e->Run(c);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    printf("%s: %.0f cases/s\n", e->name(), static_cast<double>(cases.size()) / s);
    RecordProperty(std::string(e->name()) + "_cases_per_second", static_cast<int>(cases.size() / s));
  }
}

}  // namespace
}  // namespace x86vm::difftest
