// Runs generated cases through two engines and collects mismatches as
// minimised reproducers. Used by the oracle agreement test, the soak binary,
// and later by the interpreter's own differential test.
#ifndef X86VM_TESTS_DIFFTEST_AGREEMENT_H_
#define X86VM_TESTS_DIFFTEST_AGREEMENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/difftest/case_generator.h"
#include "tests/difftest/diff_case.h"

namespace x86vm::difftest {

// Totals of one agreement run.
struct AgreementStats {
  uint64_t cases = 0;        // Cases generated.
  uint64_t agreed = 0;       // Both engines ran them with the same outcome.
  uint64_t mismatched = 0;   // Both ran them, outcomes differ.
  uint64_t errors_a = 0;     // Engine A failed (not the guest).
  uint64_t errors_b = 0;
  uint64_t faulted = 0;      // Agreed cases that ended in an exception.
  std::map<std::string, uint64_t> mismatches_by_template;  // First template name of each mismatching case.
  std::vector<std::string> reports;  // Reproducers, at most max_reports.
  std::vector<std::string> error_reports;
};

// How to run.
struct AgreementOptions {
  uint64_t cases = 1000;
  int max_reports = 5;
  bool minimise = true;  // Drop instructions while the same mismatch remains.
  CompareOptions compare;
};

// Runs `options.cases` cases from `gen` through `a` and `b`.
AgreementStats RunAgreement(DiffEngine& a, DiffEngine& b, CaseGenerator& gen, const AgreementOptions& options);

// Shrinks a mismatching case: removes whole instructions (Capstone decides
// the boundaries) as long as the engines still disagree on the same fields.
DiffCase MinimiseMismatch(DiffEngine& a, DiffEngine& b, const DiffCase& c, const CompareOptions& compare);

// The reproducer text for a mismatching case.
std::string MismatchReport(DiffEngine& a, DiffEngine& b, const DiffCase& c, const std::vector<std::string>& diffs);

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_AGREEMENT_H_
