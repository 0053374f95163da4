// GenCtx: registers, values, memory operands and flag bookkeeping for the
// template emitters.
#include "tests/difftest/templates.h"

namespace x86vm::difftest {

uint8_t ModeBit(DiffMode mode) {
  switch (mode) {
    case DiffMode::kReal16: return kModeReal16;
    case DiffMode::kProt32: return kModeProt32;
    case DiffMode::kLong64: return kModeLong64;
  }
  return 0;
}

GenCtx::GenCtx(std::mt19937_64& rng, const GenOptions& options, DiffCase& c)
    : rng_(rng), options_(options), c_(c), layout_(LayoutFor(c.mode)) {}

void GenCtx::Emit(const InsnSpec& spec) {
  Encode(c_.mode, pc(), spec, c_.code);
  c_.undefined_flags_at.resize(c_.code.size(), undef_);
}

void GenCtx::Raw(std::initializer_list<uint8_t> bytes) {
  c_.code.insert(c_.code.end(), bytes);
  c_.undefined_flags_at.resize(c_.code.size(), undef_);
}

int GenCtx::PickGpr(uint16_t avoid) {
  avoid |= 1u << kDRsp;
  if (!is64()) avoid |= 0xff00;
  for (;;) {
    int r = static_cast<int>(Below(num_gprs()));
    if (((avoid >> r) & 1) == 0) return r;
  }
}

int GenCtx::PickSize(uint8_t sizes) {
  if (!is64()) sizes &= static_cast<uint8_t>(~kS64);
  int options[4];
  int n = 0;
  if (sizes & kS8) options[n++] = 8;
  if (sizes & kS16) options[n++] = 16;
  if (sizes & kS32) options[n++] = 32;
  if (sizes & kS64) options[n++] = 64;
  return n == 0 ? 32 : options[Below(n)];
}

void GenCtx::ApplySize(InsnSpec& spec, int size) const {
  const bool real = c_.mode == DiffMode::kReal16;
  if ((size == 16 && !real) || (size == 32 && real)) spec.prefixes.insert(spec.prefixes.begin(), 0x66);
  if (size == 64) spec.rex_w = true;
}

uint64_t GenCtx::RandomValue() {
  static constexpr uint64_t kInteresting[] = {
      0, 1, 2, 3, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
      0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, ~0ull - 1,
      0x0123456789abcdefull, 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull};
  uint64_t v;
  switch (Below(6)) {
    case 0: v = kInteresting[Below(std::size(kInteresting))]; break;
    case 1: v = Below(64); break;
    case 2: v = -Below(64); break;
    case 3: v = Rand() >> Below(64); break;
    case 4:  // Next to a boundary. (One draw per statement: the order of
             // two draws in one expression is unspecified.)
      v = kInteresting[Below(std::size(kInteresting))];
      v += Below(3) - 1;
      break;
    default: v = Rand(); break;
  }
  return v;
}

void GenCtx::MovImm(int reg, uint64_t value) {
  InsnSpec s;
  s.opcode = {0xb8};
  s.opcode_reg = reg;
  if (is64()) {
    if (value <= 0xffffffffull && Chance(70)) {
      s.imm = value;
      s.imm_bytes = 4;  // mov r32, imm32 zero-extends.
    } else if (static_cast<int64_t>(value) == static_cast<int32_t>(value) && Chance(50)) {
      s.opcode = {0xc7};  // mov r/m64, imm32 (sign-extended).
      s.opcode_reg.reset();
      s.has_modrm = true;
      s.reg = 0;
      s.rm = RmOperand::Reg(reg);
      s.rex_w = true;
      s.imm = value & 0xffffffffull;
      s.imm_bytes = 4;
    } else {
      s.rex_w = true;
      s.imm = value;
      s.imm_bytes = 8;
    }
  } else {
    ApplySize(s, 32);
    s.imm = value & 0xffffffffull;
    s.imm_bytes = 4;
  }
  Emit(s);
}

void GenCtx::StoreImm(const MemChoice& m, int size, uint64_t value) {
  InsnSpec s;
  if (m.addr_prefix) s.prefixes.push_back(0x67);
  s.has_modrm = true;
  s.reg = 0;
  s.rm = RmOperand::Mem(m.mem);
  if (size == 8) {
    s.opcode = {0xc6};
    s.imm_bytes = 1;
  } else {
    s.opcode = {0xc7};
    ApplySize(s, size);
    s.imm_bytes = size == 16 ? 2 : 4;
  }
  s.imm = value & ((s.imm_bytes == 4) ? 0xffffffffull : (1ull << (8 * s.imm_bytes)) - 1);
  Emit(s);
}

MemChoice GenCtx::PickMem(int bytes, int align, uint16_t avoid) {
  MemChoice out;
  const uint64_t lo = layout_.data_addr;
  const uint64_t span = 2 * kDiffPageBytes;
  uint64_t target = lo + Below(span - bytes + 1);
  if (Chance(10)) {
    // Straddle the boundary between the two data pages.
    target = lo + kDiffPageBytes - 1 - Below(bytes > 1 ? bytes - 1 : 1);
  }
  if (align > 1) target &= ~static_cast<uint64_t>(align - 1);
  if (target < lo) target = lo;
  out.address = target;
  avoid |= 1u << kDRsp;
  MemOperand& m = out.mem;

  if (c_.mode == DiffMode::kReal16 && Chance(85)) {
    // 16-bit addressing (SDM Vol. 2 Table 2-1): base BX/BP, index SI/DI.
    m.addr16 = true;
    static constexpr int kBase[8] = {kDRbx, kDRbx, kDRbp, kDRbp, -1, -1, kDRbp, kDRbx};
    static constexpr int kIndex[8] = {kDRsi, kDRdi, kDRsi, kDRdi, kDRsi, kDRdi, -1, -1};
    int rm;
    int tries = 0;
    do {
      rm = static_cast<int>(Below(9));  // 8 = [disp16].
      if (++tries > 50) rm = 8;
    } while (rm != 8 && ((kBase[rm] >= 0 && ((avoid >> kBase[rm]) & 1)) ||
                         (kIndex[rm] >= 0 && ((avoid >> kIndex[rm]) & 1))));
    if (rm == 8) {
      m.base16_none = true;
      m.disp = static_cast<int64_t>(target);
      return out;
    }
    m.rm16 = rm;
    int64_t disp = Chance(40) ? 0 : Chance(50) ? static_cast<int64_t>(Below(256)) - 128 : static_cast<int64_t>(Below(0x10000)) - 0x8000;
    if (rm == 6 && disp == 0 && Chance(50)) disp = 1;
    m.disp = disp;
    uint64_t rest = target - disp;
    if (kIndex[rm] >= 0 && kBase[rm] >= 0) {
      uint64_t idx = Below(0x10000);
      MovImm(kIndex[rm], idx);
      MovImm(kBase[rm], (rest - idx) & 0xffff);
    } else {
      MovImm(kBase[rm] >= 0 ? kBase[rm] : kIndex[rm], rest & 0xffff);
    }
    return out;
  }

  // 32/64-bit addressing. In 64-bit mode, 67h truncates the address to 32 bits.
  const bool addr32 = c_.mode != DiffMode::kLong64 || Chance(10);
  out.addr_prefix = c_.mode != DiffMode::kProt32 && addr32;
  const uint64_t amask = addr32 ? 0xffffffffull : ~0ull;
  int form = static_cast<int>(Below(10));
  if (form == 9 && (c_.mode != DiffMode::kLong64 || out.addr_prefix || !allow_rip_relative_)) form = 0;
  switch (form) {
    case 7:  // [disp32]
    case 8:
      m.disp = static_cast<int64_t>(target);
      m.use_sib_no_base = c_.mode == DiffMode::kLong64 || Chance(50);
      return out;
    case 9:  // RIP-relative.
      m.rip_relative = true;
      m.disp = static_cast<int64_t>(target);
      return out;
    default: break;
  }
  const bool with_index = form >= 3;
  const bool with_base = form != 6;
  m.scale = 1 << Below(4);
  int64_t disp = 0;
  switch (Below(4)) {
    case 0: disp = 0; break;
    case 1: disp = static_cast<int64_t>(Below(256)) - 128; break;
    case 2: disp = static_cast<int64_t>(static_cast<int32_t>(Rand())) ; break;
    default: disp = static_cast<int64_t>(Below(8192)) - 4096; break;
  }
  if (!with_base) disp = static_cast<int64_t>(static_cast<int32_t>(target - Below(4096)));
  m.disp = disp;
  m.force_disp32 = Chance(10);
  uint64_t rest = target - static_cast<uint64_t>(disp);
  if (with_index) {
    int idx;
    do {
      idx = PickGpr(avoid);
    } while (idx == kDRsp);
    m.index = idx;
    avoid |= 1u << idx;
    int64_t idx_value = static_cast<int64_t>(Below(129)) - 64;
    if (!with_base) {
      // [index*scale + disp32]: the index carries the address.
      uint64_t want = rest;
      idx_value = static_cast<int64_t>(want / m.scale);
      m.disp = static_cast<int64_t>(target - static_cast<uint64_t>(idx_value) * m.scale);
      if (m.disp != static_cast<int32_t>(m.disp)) {
        m.disp = 0;
        m.scale = 1;
        idx_value = static_cast<int64_t>(target);
      }
      uint64_t v = static_cast<uint64_t>(idx_value);
      if (addr32 && c_.mode == DiffMode::kLong64) v = (v & amask) | (Rand() << 32);
      MovImm(idx, addr32 ? v & (c_.mode == DiffMode::kLong64 ? ~0ull : amask) : v);
      return out;
    }
    rest -= static_cast<uint64_t>(idx_value) * m.scale;
    uint64_t v = static_cast<uint64_t>(idx_value);
    if (addr32) v &= amask;
    if (addr32 && c_.mode == DiffMode::kLong64 && Chance(50)) v |= Rand() << 32;  // Ignored upper half.
    MovImm(idx, v);
  }
  int base = PickGpr(avoid);
  m.base = base;
  uint64_t v = rest;
  if (addr32) v &= amask;
  if (addr32 && c_.mode == DiffMode::kLong64 && Chance(50)) v |= Rand() << 32;
  MovImm(base, v);
  return out;
}

void GenCtx::WriteFlags(uint64_t written, uint64_t undefined) {
  undef_ = (undef_ & ~written) | (undefined & written);
}

void GenCtx::ReadFlags(uint64_t read) {
  if ((read & undef_) == 0) return;
  // cmp r, r' defines all six status flags (SDM Vol. 2 CMP).
  InsnSpec s;
  s.opcode = {0x39};
  s.has_modrm = true;
  s.reg = PickGpr();
  s.rm = RmOperand::Reg(PickGpr());
  ApplySize(s, is64() && Chance(50) ? 64 : 32);
  Emit(s);
  undef_ = 0;
}

}  // namespace x86vm::difftest
