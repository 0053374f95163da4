// A software oracle: runs DiffCases through libunicorn (QEMU's TCG in a
// library) in 16-bit real, 32-bit protected and 64-bit mode, for what KVM at
// ring 3 cannot reach (real mode, BCD instructions, 32-bit code).
//
// Unicorn is not the truth: it is QEMU 5's TCG with paging, segmentation and
// privilege checks stripped. Known deviations, found with the agreement test
// (see README.md in this folder), are documented there, never encoded as
// expected results.
#ifndef X86VM_TESTS_DIFFTEST_UNICORN_ORACLE_H_
#define X86VM_TESTS_DIFFTEST_UNICORN_ORACLE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "base/status.h"
#include "tests/difftest/diff_case.h"

struct uc_struct;

namespace x86vm::difftest {

// Runs cases of one mode in one reused Unicorn engine per mode.
class UnicornOracle : public DiffEngine {
 public:
  // Creates the engines lazily; never fails until a case needs one.
  UnicornOracle();
  ~UnicornOracle() override;

  const char* name() const override { return "unicorn"; }
  bool Supports(DiffMode) const override { return true; }
  // Unicorn 2.0.1 raises #UD for POPCNT and MOVBE whatever CPU model is set
  // (its CPUID.1:ECX lacks both), so cases must not use them.
  uint32_t features() const override { return feature::kAll & ~(feature::kPopcnt | feature::kMovbe); }
  Result<DiffOutcome> Run(const DiffCase& c) override;

  // What the hooks record while a case runs (public for the C callbacks).
  struct Trap {
    std::optional<DiffException> exception;
    bool memory_fault = false;  // Stopped by a memory hook, not the interrupt hook.
    uint64_t insn_addr = 0;     // Start of the instruction being executed.
  };

 private:
  struct Engine;
  Result<Engine*> EngineFor(DiffMode mode);

  std::map<DiffMode, std::unique_ptr<Engine>> engines_;
};

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_UNICORN_ORACLE_H_
