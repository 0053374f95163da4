#include "tests/difftest/disasm.h"

#include <capstone/capstone.h>
#include <fmt/format.h>

namespace x86vm::difftest {

std::string Disassemble(DiffMode mode, uint64_t addr, const std::vector<uint8_t>& code) {
  csh handle;
  const cs_mode cmode = mode == DiffMode::kReal16 ? CS_MODE_16 : mode == DiffMode::kProt32 ? CS_MODE_32 : CS_MODE_64;
  if (cs_open(CS_ARCH_X86, cmode, &handle) != CS_ERR_OK) return "  (capstone unavailable)\n";
  std::string out;
  size_t offset = 0;
  while (offset < code.size()) {
    cs_insn* insn = nullptr;
    const size_t n = cs_disasm(handle, code.data() + offset, code.size() - offset, addr + offset, 1, &insn);
    if (n == 0) {
      out += fmt::format("  {:#x}: {:02x}          (bad)\n", addr + offset, code[offset]);
      ++offset;
      continue;
    }
    std::vector<uint8_t> bytes(insn[0].bytes, insn[0].bytes + insn[0].size);
    out += fmt::format("  {:#x}: {:<30} {} {}\n", insn[0].address, HexBytes(bytes), insn[0].mnemonic, insn[0].op_str);
    offset += insn[0].size;
    cs_free(insn, n);
  }
  cs_close(&handle);
  return out;
}

std::string DescribeCase(const DiffCase& c) {
  static const char* const kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  std::string out = fmt::format("mode {} [{}]\ncode ({} bytes): {}\n", ModeName(c.mode), c.note, c.code.size(),
                                HexBytes(c.code));
  out += Disassemble(c.mode, c.regs.rip, c.code);
  const int n = c.mode == DiffMode::kLong64 ? 16 : 8;
  for (int i = 0; i < n; ++i) {
    out += fmt::format("{}={:#x}{}", kNames[i], c.regs.gpr[i], (i % 4 == 3) ? "\n" : " ");
  }
  out += fmt::format("rflags={:#x} [{}] mxcsr={:#x} undefined flags [{}]\n", c.regs.rflags,
                     FlagNames(c.regs.rflags), c.regs.mxcsr, FlagNames(c.undefined_flags));
  for (int i = 0; i < n; ++i) {
    if (c.regs.xmm[i].lo == 0 && c.regs.xmm[i].hi == 0) continue;
    out += fmt::format("xmm{}={:016x}{:016x}\n", i, c.regs.xmm[i].hi, c.regs.xmm[i].lo);
  }
  return out;
}

}  // namespace x86vm::difftest
