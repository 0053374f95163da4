#include "cpu/decoder.h"

#include "cpu/cpu_state.h"

namespace x86vm {

Fault RaiseUd(Cpu&, const Insn&) { return Raise(kUd); }

namespace {

// Reads little-endian immediates while tracking the length.
struct ByteReader {
  const uint8_t* bytes;
  size_t avail;
  size_t pos = 0;
  bool short_read = false;

  uint8_t U8() {
    if (pos >= avail) {
      short_read = true;
      return 0;
    }
    return bytes[pos++];
  }
  uint64_t Le(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{U8()} << (8 * i);
    return v;
  }
  // Reads n bytes and sign-extends them to 64 bits.
  uint64_t Signed(int n) {
    uint64_t v = Le(n);
    int shift = 64 - 8 * n;
    return static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift);
  }
};

bool RowMatches(const RowInfo& r, CodeMode mode, int mandatory, uint8_t modrm) {
  uint32_t attrs = r.row->attrs;
  if ((attrs & row_attr::kInv64) && mode == CodeMode::k64) return false;
  if ((attrs & row_attr::kOnly64) && mode != CodeMode::k64) return false;
  if (r.prefix != -1 && r.prefix != static_cast<int8_t>(mandatory)) return false;
  if (r.modrm >= 0 && r.modrm != modrm) return false;
  if (r.reg >= 0 && r.reg != ((modrm >> 3) & 7)) return false;
  bool reg_form = (modrm >> 6) == 3;
  if (r.mem_only && reg_form) return false;
  if (r.reg_only && !reg_form) return false;
  return true;
}

}  // namespace

DecodeStatus Decode(const OpcodeTable& table, CodeMode mode, const uint8_t* bytes,
                    size_t avail, Insn& insn) {
  insn = Insn{};
  ByteReader rd{bytes, avail};
  bool is64 = mode == CodeMode::k64;
  bool opsize_prefix = false, addrsize_prefix = false, lock = false;
  int seg_override = -1;
  uint8_t last_rep = 0;
  uint8_t rex = 0;
  uint8_t b;
  // Legacy prefixes in any order; a REX prefix counts only when it comes
  // last, right before the opcode (SDM Vol. 2 2.2.1).
  for (;;) {
    b = rd.U8();
    if (rd.short_read) return DecodeStatus::kNeedMore;
    if (rd.pos > 15) return DecodeStatus::kTooLong;
    switch (b) {
      case 0x66: opsize_prefix = true; rex = 0; continue;
      case 0x67: addrsize_prefix = true; rex = 0; continue;
      case 0xF0: lock = true; rex = 0; continue;
      case 0xF2: case 0xF3: last_rep = b; rex = 0; continue;
      case 0x26: case 0x2E: case 0x36: case 0x3E:
        // ES/CS/SS/DS overrides are ignored in 64-bit mode (SDM Vol. 1 3.3.7.1).
        if (!is64) seg_override = (b >> 3) & 3;
        rex = 0;
        continue;
      case 0x64: case 0x65: seg_override = b == 0x64 ? kFs : kGs; rex = 0; continue;
      default: break;
    }
    if (is64 && (b & 0xF0) == 0x40) {
      rex = b;
      continue;
    }
    break;
  }
  OpcodeMap map = OpcodeMap::kOneByte;
  uint8_t opcode = b;
  if (opcode == 0x0F) {
    map = OpcodeMap::k0F;
    opcode = rd.U8();
    if (opcode == 0x38 || opcode == 0x3A) {
      map = opcode == 0x38 ? OpcodeMap::k0F38 : OpcodeMap::k0F3A;
      opcode = rd.U8();
    }
  }
  if (rd.short_read) return DecodeStatus::kNeedMore;
  insn.opcode = opcode;

  uint8_t modrm = 0;
  bool has_modrm = table.NeedsModrm(map, opcode);
  if (has_modrm) {
    modrm = rd.U8();
    if (rd.short_read) return DecodeStatus::kNeedMore;
  }
  insn.modrm = modrm;

  int mandatory = last_rep ? last_rep : (opsize_prefix ? 0x66 : 0);
  const RowInfo* info = nullptr;
  for (const RowInfo& r : table.Candidates(map, opcode)) {
    if (RowMatches(r, mode, mandatory, modrm)) {
      info = &r;
      break;
    }
  }

  // Prefix-derived facts.
  if (rex) insn.flags |= insn_flags::kRex;
  if (rex & 8) insn.flags |= insn_flags::kRexW;
  if (opsize_prefix) insn.flags |= insn_flags::kOpsizePrefix;
  if (lock) insn.flags |= insn_flags::kLock;
  if (seg_override >= 0) insn.flags |= insn_flags::kSegOverride;
  insn.rep = last_rep == 0xF3 ? Rep::kRepe : last_rep == 0xF2 ? Rep::kRepne : Rep::kNone;

  uint32_t attrs = info ? info->row->attrs : 0;
  bool opsize_is_mandatory = info && info->prefix == 0x66;
  bool toggle16 = opsize_prefix && !opsize_is_mandatory;
  if (is64) {
    if (rex & 8) insn.opsize = 8;
    else if (attrs & row_attr::kForce64) insn.opsize = 8;
    else if (attrs & row_attr::kDef64) insn.opsize = toggle16 ? 2 : 8;
    else insn.opsize = toggle16 ? 2 : 4;
    insn.addrsize = addrsize_prefix ? 4 : 8;
  } else {
    bool d32 = mode == CodeMode::k32;
    insn.opsize = (d32 != toggle16) ? 4 : 2;
    insn.addrsize = (d32 != addrsize_prefix) ? 4 : 2;
  }

  // ModRM operand decoding (SDM Vol. 2 2.1.5, Tables 2-1 to 2-3).
  insn.seg = kDs;
  if (has_modrm) {
    uint8_t mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    if (attrs & row_attr::kModAsReg) mod = 3;
    insn.mod = mod;
    insn.reg = static_cast<uint8_t>(reg | ((rex & 4) << 1));
    insn.rm = static_cast<uint8_t>(rm | ((rex & 1) << 3));
    if (mod != 3) {
      if (insn.addrsize == 2) {
        static constexpr uint8_t kBase[8] = {kRbx, kRbx, kRbp, kRbp, kRsi, kRdi, kRbp, kRbx};
        static constexpr uint8_t kIndex[8] = {kRsi, kRdi, kRsi, kRdi, kNoReg, kNoReg, kNoReg,
                                              kNoReg};
        if (mod == 0 && rm == 6) {
          insn.disp = rd.Signed(2);
        } else {
          insn.base = kBase[rm];
          insn.index = kIndex[rm];
          if (insn.base == kRbp) insn.seg = kSs;
          if (mod == 1) insn.disp = rd.Signed(1);
          if (mod == 2) insn.disp = rd.Signed(2);
        }
      } else {
        if (rm == 4) {
          uint8_t sib = rd.U8();
          uint8_t base = sib & 7;
          uint8_t index = static_cast<uint8_t>(((sib >> 3) & 7) | ((rex & 2) << 2));
          insn.scale = sib >> 6;
          if (index != 4) insn.index = index;
          if (base == 5 && mod == 0) {
            insn.disp = rd.Signed(4);
          } else {
            insn.base = static_cast<uint8_t>(base | ((rex & 1) << 3));
            if (insn.base == kRsp || insn.base == kRbp) insn.seg = kSs;
          }
        } else if (rm == 5 && mod == 0) {
          insn.disp = rd.Signed(4);
          if (is64) insn.flags |= insn_flags::kRipRelative;
        } else {
          insn.base = insn.rm;
          if (insn.base == kRsp || insn.base == kRbp) insn.seg = kSs;
        }
        if (mod == 1) insn.disp = rd.Signed(1);
        if (mod == 2) insn.disp = rd.Signed(4);
      }
    }
  } else {
    // Z forms: the register is in the opcode's low three bits, extended by REX.B.
    insn.reg = static_cast<uint8_t>((opcode & 7) | ((rex & 1) << 3));
  }
  if (seg_override >= 0) insn.seg = static_cast<uint8_t>(seg_override);

  // Immediates.
  if (info) {
    int z = insn.opsize == 2 ? 2 : 4;
    switch (info->imm) {
      case RowInfo::Imm::kNone: break;
      case RowInfo::Imm::kB: insn.imm = rd.Signed(1); break;
      case RowInfo::Imm::kW: insn.imm = rd.Le(2); break;
      case RowInfo::Imm::kD: insn.imm = rd.Signed(4); break;
      case RowInfo::Imm::kZ: insn.imm = rd.Signed(z); break;
      case RowInfo::Imm::kV: insn.imm = rd.Le(insn.opsize); break;
      case RowInfo::Imm::kWB:
        insn.imm = rd.Le(2);
        insn.imm2 = rd.U8();
        break;
      case RowInfo::Imm::kAp:
        insn.imm = rd.Le(z);
        insn.imm2 = static_cast<uint16_t>(rd.Le(2));
        break;
      case RowInfo::Imm::kO:
        // moffs: an absolute offset of the address size, as a memory operand.
        insn.disp = rd.Le(insn.addrsize);
        insn.mod = 0;
        insn.base = kNoReg;
        insn.index = kNoReg;
        break;
    }
  }
  if (rd.short_read) return DecodeStatus::kNeedMore;
  if (rd.pos > 15) return DecodeStatus::kTooLong;
  insn.length = static_cast<uint8_t>(rd.pos);

  if (info == nullptr) {
    insn.handler = RaiseUd;
    return DecodeStatus::kOk;
  }
  insn.row = info->row;
  int size_index = insn.opsize == 2 ? 0 : insn.opsize == 4 ? 1 : 2;
  insn.handler = info->row->handlers[size_index];
  if (insn.handler == nullptr) insn.handler = RaiseUd;
  // LOCK is #UD unless the instruction is lockable and writes memory
  // (SDM Vol. 2 "LOCK").
  if (lock && (!(attrs & row_attr::kLockable) || insn.mod == 3)) insn.handler = RaiseUd;
  return DecodeStatus::kOk;
}

}  // namespace x86vm
