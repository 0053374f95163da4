// A minimal x86 instruction encoder for the case generator: legacy prefixes,
// REX, opcode escapes, ModRM, SIB, displacement and immediate (SDM Vol. 2
// chapter 2). It encodes what the templates ask for and nothing more; it does
// not know instruction semantics.
#ifndef X86VM_TESTS_DIFFTEST_ENCODER_H_
#define X86VM_TESTS_DIFFTEST_ENCODER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "tests/difftest/diff_case.h"

namespace x86vm::difftest {

// A memory operand. In 32/64-bit addressing: [base + index*scale + disp],
// base/index -1 for none, or RIP-relative to an absolute target. In 16-bit
// addressing the ModRM r/m form (SDM Vol. 2 Table 2-1) is given directly.
struct MemOperand {
  int base = -1;       // GPR number, -1 for none.
  int index = -1;      // GPR number (never 4 = RSP), -1 for none.
  int scale = 1;       // 1, 2, 4 or 8.
  int64_t disp = 0;
  bool force_disp32 = false;   // Encode disp as 32 bits even when it fits in 8.
  bool use_sib_no_base = false;  // [disp32] through SIB (the only absolute form in 64-bit mode).
  bool rip_relative = false;   // 64-bit only: disp is then the absolute target address.
  // 16-bit addressing: rm16 is the r/m field (0 [bx+si] .. 7 [bx]); with
  // base16_none the operand is [disp16] (mod 00, r/m 110).
  bool addr16 = false;
  int rm16 = 0;
  bool base16_none = false;
};

// The r/m operand: a register (mod 11) or memory.
struct RmOperand {
  std::optional<int> reg;  // GPR or XMM number when register.
  MemOperand mem;
  static RmOperand Reg(int r) { return RmOperand{r, {}}; }
  static RmOperand Mem(const MemOperand& m) { return RmOperand{std::nullopt, m}; }
  bool is_mem() const { return !reg.has_value(); }
};

// One instruction to encode.
struct InsnSpec {
  std::vector<uint8_t> prefixes;  // Legacy prefixes (66, 67, F2, F3...), before REX.
  bool rex_w = false;
  bool force_rex = false;          // Emit REX even if empty (byte regs SPL..DIL).
  std::vector<uint8_t> opcode;     // Including 0F / 0F 38 / 0F 3A escapes.
  std::optional<int> opcode_reg;   // "+r" encodings: low 3 bits go into the last opcode byte.
  bool has_modrm = false;
  int reg = 0;                     // ModRM.reg: a register number or the /digit.
  RmOperand rm = RmOperand::Reg(0);
  uint64_t imm = 0;
  int imm_bytes = 0;               // 0, 1, 2, 4 or 8.
  int imm2_bytes = 0;              // Second immediate (ENTER); rarely used.
  uint64_t imm2 = 0;
};

// Appends the encoding of `spec` to `out`; `addr` is the address of its first
// byte (needed for RIP-relative operands). `mode` decides whether REX exists.
void Encode(DiffMode mode, uint64_t addr, const InsnSpec& spec, std::vector<uint8_t>& out);

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_ENCODER_H_
