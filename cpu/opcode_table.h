// The decoder as data (STYLE.md; SDM Vol. 2 Appendix A): one row per opcode
// form, written in SDM notation, for the one-byte map and the 0F, 0F38 and
// 0F3A maps. The decoder derives ModRM presence and immediate sizes from the
// operand strings, so a row is all it takes to add an instruction.
//
// Opcode spec grammar ("opcode" field), tokens separated by spaces:
//   [NP|66|F2|F3]  mandatory prefix (NP: none of 66/F2/F3). Without one the
//                  row matches any prefixes, and 66 selects the operand size.
//   [0F [38|3A]]   the map.
//   XX             the opcode byte (hex).
//   /d             ModRM.reg must equal d (groups).
//   YY             a second hex byte: the whole ModRM byte (0F 01 F8 SWAPGS).
//   mod=11         register forms only; mod!=11 memory forms only (the SDM's
//                  "mod = 11B"; x87 "D8 /0 mod=11" is FADD ST(0), ST(i)).
// Operands ("operands" field), comma-separated, Intel Appendix A.2 notation:
//   E G M R S C D (ModRM-based), I J A O (immediates, offsets), Z (register in
//   the opcode's low 3 bits, e.g. "Zv" for 50+r), register names (AL, rAX, DX,
//   CL, 1). Sizes: b w d q v z y p. M means memory only, R register only.
#ifndef X86VM_CPU_OPCODE_TABLE_H_
#define X86VM_CPU_OPCODE_TABLE_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "cpu/insn.h"

namespace x86vm {

// Row attributes (SDM Vol. 2 Appendix A superscripts and Table 2-4).
namespace row_attr {
inline constexpr uint32_t kLockable = 1u << 0;  // LOCK allowed with a memory destination.
inline constexpr uint32_t kInv64 = 1u << 1;     // #UD in 64-bit mode (i64).
inline constexpr uint32_t kOnly64 = 1u << 2;    // Valid only in 64-bit mode (o64).
inline constexpr uint32_t kDef64 = 1u << 3;     // Operand size defaults to 64 in 64-bit mode (d64).
inline constexpr uint32_t kForce64 = 1u << 4;   // Operand size is 64 in 64-bit mode (f64).
inline constexpr uint32_t kRepString = 1u << 5; // A string instruction honouring REP.
inline constexpr uint32_t kModAsReg = 1u << 6;  // ModRM.mod is ignored: always a register (MOV CRn).
}  // namespace row_attr

// Handlers by operand size: 16, 32, 64 bits (byte forms use the same one).
using HandlerSet = std::array<Handler, 3>;

// One opcode form.
struct OpcodeRow {
  const char* opcode;    // "0F BA /4", see the grammar above.
  const char* mnemonic;  // "BTS".
  const char* operands;  // "Ev,Ib".
  uint32_t attrs;        // row_attr bits.
  HandlerSet handlers;
};

// The opcode maps.
enum class OpcodeMap : uint8_t { kOneByte = 0, k0F = 1, k0F38 = 2, k0F3A = 3 };

// What the decoder derives from a row, once, when the table is built.
struct RowInfo {
  const OpcodeRow* row = nullptr;
  OpcodeMap map = OpcodeMap::kOneByte;
  uint8_t opcode = 0;
  int8_t prefix = -1;       // -1 any, 0 NP, 0x66, 0xF2, 0xF3.
  int8_t reg = -1;          // -1 any, else ModRM.reg.
  int16_t modrm = -1;       // -1 any, else the full ModRM byte.
  bool needs_modrm = false;
  bool mem_only = false;    // M operand: mod == 3 is #UD.
  bool reg_only = false;    // R/U/N operand: a memory form is #UD.
  bool byte_op = false;     // Operates on bytes (Eb, Gb, AL...).
  // Immediate bytes: imm_kind selects the width rule.
  enum class Imm : uint8_t { kNone, kB, kW, kD, kZ, kV, kAp, kO, kWB } imm = Imm::kNone;
};

// The parsed table, indexed for decoding.
class OpcodeTable {
 public:
  // The table built from the rows in opcode_table.cc (immutable, built once).
  static const OpcodeTable& Get();
  // Builds a table from arbitrary rows (tests). Malformed rows CHECK-fail:
  // they are our bug.
  explicit OpcodeTable(std::span<const OpcodeRow> rows);

  // Rows for one opcode of one map, most specific first.
  std::span<const RowInfo> Candidates(OpcodeMap map, uint8_t opcode) const {
    const auto& v = index_[static_cast<int>(map)][opcode];
    return {v.data(), v.size()};
  }
  // Whether any row of this opcode takes a ModRM byte (the decoder must read
  // it before it can pick among group rows).
  bool NeedsModrm(OpcodeMap map, uint8_t opcode) const {
    return needs_modrm_[static_cast<int>(map)][opcode];
  }
  // Every parsed row (tests, disassembly).
  const std::vector<RowInfo>& rows() const { return all_; }

 private:
  std::vector<RowInfo> all_;
  std::array<std::array<std::vector<RowInfo>, 256>, 4> index_;
  std::array<std::array<bool, 256>, 4> needs_modrm_{};
};

// The rows of the integer, system and (placeholder) x87/SSE instructions.
std::span<const OpcodeRow> DefaultOpcodeRows();

// Parses one row; returns false for a malformed spec (tests use this).
bool ParseOpcodeRow(const OpcodeRow& row, RowInfo& info);

}  // namespace x86vm

#endif  // X86VM_CPU_OPCODE_TABLE_H_
