#include "tests/difftest/encoder.h"

namespace x86vm::difftest {
namespace {

bool FitsInt8(int64_t v) { return v >= -128 && v <= 127; }

void PutLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

void Encode(DiffMode mode, uint64_t addr, const InsnSpec& spec, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  for (uint8_t p : spec.prefixes) out.push_back(p);

  // REX (SDM Vol. 2 2.2.1): W, R (ModRM.reg), X (SIB.index), B (ModRM.rm,
  // SIB.base or opcode reg).
  uint8_t rex = 0;
  if (spec.rex_w) rex |= 8;
  if (spec.has_modrm && (spec.reg & 8)) rex |= 4;
  if (spec.has_modrm) {
    if (spec.rm.reg) {
      if (*spec.rm.reg & 8) rex |= 1;
    } else if (!spec.rm.mem.addr16 && !spec.rm.mem.rip_relative) {
      if (spec.rm.mem.index >= 0 && (spec.rm.mem.index & 8)) rex |= 2;
      if (spec.rm.mem.base >= 0 && (spec.rm.mem.base & 8)) rex |= 1;
    }
  }
  if (spec.opcode_reg && (*spec.opcode_reg & 8)) rex |= 1;
  if (mode == DiffMode::kLong64 && (rex != 0 || spec.force_rex)) out.push_back(0x40 | rex);

  for (size_t i = 0; i < spec.opcode.size(); ++i) {
    uint8_t b = spec.opcode[i];
    if (i + 1 == spec.opcode.size() && spec.opcode_reg) b = static_cast<uint8_t>(b + (*spec.opcode_reg & 7));
    out.push_back(b);
  }

  size_t disp_pos = 0;
  int disp_bytes = 0;
  bool rip_fixup = false;
  if (spec.has_modrm) {
    const int reg3 = spec.reg & 7;
    if (spec.rm.reg) {
      out.push_back(static_cast<uint8_t>(0xc0 | (reg3 << 3) | (*spec.rm.reg & 7)));
    } else {
      const MemOperand& m = spec.rm.mem;
      if (m.addr16) {
        // SDM Vol. 2 Table 2-1.
        int mod;
        int rm = m.rm16 & 7;
        if (m.base16_none) {
          mod = 0;
          rm = 6;
          disp_bytes = 2;
        } else if (m.disp == 0 && !m.force_disp32 && rm != 6) {
          mod = 0;
        } else if (FitsInt8(m.disp) && !m.force_disp32) {
          mod = 1;
          disp_bytes = 1;
        } else {
          mod = 2;
          disp_bytes = 2;
        }
        out.push_back(static_cast<uint8_t>((mod << 6) | (reg3 << 3) | rm));
      } else if (m.rip_relative) {
        out.push_back(static_cast<uint8_t>((reg3 << 3) | 5));
        disp_bytes = 4;
        rip_fixup = true;
      } else if (m.base < 0 && m.index < 0 && !m.use_sib_no_base && mode != DiffMode::kLong64) {
        out.push_back(static_cast<uint8_t>((reg3 << 3) | 5));  // [disp32], 32-bit addressing.
        disp_bytes = 4;
      } else {
        // SDM Vol. 2 Tables 2-2 and 2-3.
        const bool need_sib = m.index >= 0 || m.base < 0 || (m.base & 7) == 4;
        int mod;
        if (m.base < 0) {
          mod = 0;
          disp_bytes = 4;
        } else if (m.disp == 0 && !m.force_disp32 && (m.base & 7) != 5) {
          mod = 0;
        } else if (FitsInt8(m.disp) && !m.force_disp32) {
          mod = 1;
          disp_bytes = 1;
        } else {
          mod = 2;
          disp_bytes = 4;
        }
        if (need_sib) {
          out.push_back(static_cast<uint8_t>((mod << 6) | (reg3 << 3) | 4));
          const int ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
          const int index3 = m.index >= 0 ? (m.index & 7) : 4;
          const int base3 = m.base >= 0 ? (m.base & 7) : 5;
          out.push_back(static_cast<uint8_t>((ss << 6) | (index3 << 3) | base3));
        } else {
          out.push_back(static_cast<uint8_t>((mod << 6) | (reg3 << 3) | (m.base & 7)));
        }
      }
      disp_pos = out.size();
      PutLe(out, static_cast<uint64_t>(m.disp), disp_bytes);
    }
  }
  PutLe(out, spec.imm, spec.imm_bytes);
  PutLe(out, spec.imm2, spec.imm2_bytes);
  if (rip_fixup) {
    // RIP-relative displacements count from the end of the instruction.
    const uint64_t next = addr + (out.size() - start);
    const uint64_t rel = spec.rm.mem.disp - next;
    for (int i = 0; i < 4; ++i) out[disp_pos + i] = static_cast<uint8_t>(rel >> (8 * i));
  }
}

}  // namespace x86vm::difftest
