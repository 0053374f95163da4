// Hand-written snippets for opcode-table rows the template generator does
// not reach (see opcode_coverage.h): near branches, CALL/RET, LOOP, ENTER/
// LEAVE, XLAT, MOV moffs, CMPXCHG8B/16B, SSE moves, MMX, x87 arithmetic,
// privileged instructions at CPL 3, and legacy-only forms. Each snippet is
// dropped into a randomly generated case (random registers, flags and data
// pages) and compared between two engines like generated cases.
#ifndef X86VM_TESTS_DIFFTEST_DIRECTED_CASES_H_
#define X86VM_TESTS_DIFFTEST_DIRECTED_CASES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tests/difftest/case_generator.h"
#include "tests/difftest/diff_case.h"

namespace x86vm::difftest {

// One snippet: code for one mode, and the flags it leaves undefined.
struct Snippet {
  std::string name;
  DiffMode mode;
  std::vector<uint8_t> code;
  uint64_t undefined_flags = 0;
  // Needs an engine that runs x87/MMX natively (KVM ring 3, interpreter):
  // Unicorn is not compared on these.
  bool x87_mmx = false;
  // SSE: not compared with Unicorn in real mode (its real-mode SSE is broken).
  bool sse = false;
};

// Every snippet for `mode`.
std::vector<Snippet> DirectedSnippets(DiffMode mode);

// A case running `s` from a random state drawn from `gen` (same mode).
DiffCase DirectedCase(CaseGenerator& gen, const Snippet& s);

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_DIRECTED_CASES_H_
