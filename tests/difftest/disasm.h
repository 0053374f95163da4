// Capstone listings for reproducers: a failing DiffCase is reported as hex
// bytes plus its disassembly, so it can be pasted into a unit test.
#ifndef X86VM_TESTS_DIFFTEST_DISASM_H_
#define X86VM_TESTS_DIFFTEST_DISASM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tests/difftest/diff_case.h"

namespace x86vm::difftest {

// One line per instruction: "0x400000: 48 01 d8    add rax, rbx".
std::string Disassemble(DiffMode mode, uint64_t addr, const std::vector<uint8_t>& code);

// A full reproducer: mode, template names, code (hex and listing), the
// initial registers, flags and MXCSR, and the undefined-flags mask.
std::string DescribeCase(const DiffCase& c);

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_DISASM_H_
