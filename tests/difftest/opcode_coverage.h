// Which rows of the interpreter's opcode table (cpu/opcode_table.cc) the
// generated cases exercise: each case's code is decoded with the
// interpreter's own decoder, and the row every instruction came from is
// counted, per mode. The rows never hit are the gaps of the differential
// tests.
#ifndef X86VM_TESTS_DIFFTEST_OPCODE_COVERAGE_H_
#define X86VM_TESTS_DIFFTEST_OPCODE_COVERAGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/difftest/diff_case.h"

namespace x86vm {
struct OpcodeRow;
}  // namespace x86vm

namespace x86vm::difftest {

// Counts opcode-table rows hit by DiffCases.
class OpcodeCoverage {
 public:
  OpcodeCoverage();

  // Decodes `c`'s code front to back and counts the row of every
  // instruction (setup moves included: they are instructions too).
  void Add(const DiffCase& c);

  // Rows in the table.
  size_t rows() const { return hits_.size(); }
  // Rows hit in any mode.
  size_t rows_hit() const;
  // Instructions that decoded to no row (#UD).
  uint64_t undecoded() const { return undecoded_; }
  // Times row `i` (OpcodeTable::Get().rows() order) was hit in `mode`.
  uint64_t hits(size_t i, DiffMode mode) const { return hits_[i][static_cast<int>(mode)]; }
  // The table row behind index `i`.
  const OpcodeRow& row(size_t i) const;

  // A readable report: totals per group (one-byte, 0F, 0F38, 0F3A, x87),
  // then, if `list_missed`, every row no case reached ("0F A4 SHLD Ev,Gv,Ib").
  std::string Report(bool list_missed) const;

 private:
  std::vector<std::array<uint64_t, 3>> hits_;  // Indexed like OpcodeTable::rows(), by DiffMode.
  uint64_t undecoded_ = 0;
};

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_OPCODE_COVERAGE_H_
