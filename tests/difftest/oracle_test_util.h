// Helpers shared by the oracle tests: a blank case in a mode's layout.
#ifndef X86VM_TESTS_DIFFTEST_ORACLE_TEST_UTIL_H_
#define X86VM_TESTS_DIFFTEST_ORACLE_TEST_UTIL_H_

#include <cstring>
#include <vector>

#include "tests/difftest/diff_case.h"

namespace x86vm::difftest {

// A case with zeroed registers, two zeroed data pages and a stack page at
// LayoutFor(mode), RSP near the top of the stack page, and `code`.
inline DiffCase BlankCase(DiffMode mode, std::vector<uint8_t> code) {
  DiffCase c;
  c.mode = mode;
  const DiffLayout l = LayoutFor(mode);
  c.regs.rip = l.code_addr;
  c.regs.gpr[kDRsp] = l.stack_page + 0xf00;
  for (uint64_t page : {l.data_addr, l.data_addr + kDiffPageBytes, l.stack_page}) {
    DiffPage p;
    p.vaddr = page;
    c.pages.push_back(p);
  }
  c.code = std::move(code);
  return c;
}

// Reads a little-endian value from the outcome's memory at `addr`.
template <typename T>
T ReadMem(const DiffOutcome& o, uint64_t addr) {
  for (const DiffPage& p : o.pages) {
    if (addr >= p.vaddr && addr + sizeof(T) <= p.vaddr + kDiffPageBytes) {
      T v;
      memcpy(&v, p.bytes.data() + (addr - p.vaddr), sizeof(T));
      return v;
    }
  }
  return T{};
}

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_ORACLE_TEST_UTIL_H_
