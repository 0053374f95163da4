// Random and structured DiffCases built from a table of instruction templates
// (templates.h): integer ALU in every operand size, shifts and rotates, MUL
// and DIV, bit operations, string operations with REP, LEA in every
// addressing form, PUSH/POP, BCD, SSE2..SSE4.2, POPCNT/LZCNT/TZCNT, CRC32 and
// MOVBE. Each template knows which flags it leaves undefined (SDM), so the
// case carries the exact mask to ignore at its end.
#ifndef X86VM_TESTS_DIFFTEST_CASE_GENERATOR_H_
#define X86VM_TESTS_DIFFTEST_CASE_GENERATOR_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/difftest/diff_case.h"

namespace x86vm::difftest {

struct Template;

// What to generate.
struct GenOptions {
  DiffMode mode = DiffMode::kLong64;
  uint32_t features = feature::kAll;  // Templates needing anything else are skipped.
  int min_insns = 1;                  // Templates per random case (setup moves not counted).
  int max_insns = 6;
  std::string only;                   // If not empty: only templates whose name contains it.
  std::vector<std::string> exclude;   // Templates whose name contains one of these are skipped.
  // Allow cases meant to fault (#DE from DIV, #GP from misaligned SSE, #PF).
  bool allow_faults = true;
  // Allow MXCSR with some SIMD exceptions unmasked (#XM).
  bool unmask_simd_exceptions = false;
  // Now and then misalign a 16-byte legacy-SSE memory operand (#GP(0)). Off
  // by default: this host's KVM turns that #GP into #UD for most SSE
  // instructions (its instruction emulator sees the fault first), and
  // Unicorn does not check alignment at all.
  bool misaligned_sse = false;
  // Seed XMM registers with NaNs from the interesting-value pool. Unicorn
  // (QEMU 5) picks the wrong NaN when both operands are NaNs.
  bool nan_inputs = true;
  // Let MXCSR have FTZ/DAZ set sometimes. Unicorn (QEMU 5) ignores both.
  bool denormal_modes = true;
  // Steer clear of Unicorn 2.0.1's known bugs (README.md) when it is one of
  // the engines compared: no RIP-relative operand for SHLD/SHRD imm8, RAX's
  // upper half zero before a 32-bit CMPXCHG, distinct registers for
  // PHADD*/PHSUB*, no PCMPxSTRx or DPPS/DPPD, and 16 readable bytes behind
  // every SSE memory operand (CVTDQ2PD m64). The bugs are not taken as truth;
  // the cases are simply not generated.
  bool avoid_unicorn_deviations = false;
};

// Deterministic for a given seed and options.
class CaseGenerator {
 public:
  CaseGenerator(uint64_t seed, GenOptions options);
  ~CaseGenerator();

  // A case with a random initial state and a random sequence of templates.
  DiffCase Next();
  // A case with a random initial state and exactly one instance of the
  // template named `name` (plus its setup moves). Empty code if unknown.
  DiffCase ForTemplate(std::string_view name);
  // Names of the templates enabled by the options, in table order.
  std::vector<std::string> TemplateNames() const;

 private:
  DiffCase NewCase();
  DiffCase Build(const std::vector<const Template*>& picks);

  std::mt19937_64 rng_;
  GenOptions options_;
  std::vector<const Template*> enabled_;
};

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_CASE_GENERATOR_H_
