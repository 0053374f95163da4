// The template emitters: each writes its setup moves and the instruction
// under test into a GenCtx and records the flags it writes and leaves
// undefined (SDM Vol. 2 "Flags Affected").
#include "tests/difftest/emitters.h"

#include <string_view>

namespace x86vm::difftest {
namespace {

using dflags::kAf;
using dflags::kCf;
using dflags::kOf;
using dflags::kPf;
using dflags::kSf;
using dflags::kZf;
constexpr uint64_t kAll6 = dflags::kStatus;


// Flags read by condition code `cc` (SDM Vol. 1 Appendix B).
uint64_t CcFlags(int cc) {
  switch (cc >> 1) {
    case 0: return kOf;
    case 1: return kCf;
    case 2: return kZf;
    case 3: return kCf | kZf;
    case 4: return kSf;
    case 5: return kPf;
    case 6: return kSf | kOf;
    default: return kZf | kSf | kOf;
  }
}

// The opcode bytes of `t`, with the last byte +1 for the non-byte form of
// templates that also have a byte form (the "w" bit, SDM Vol. 2 B.1.4.3).
std::vector<uint8_t> OpFor(const Template& t, int size) {
  std::vector<uint8_t> op(t.op.begin(), t.op.begin() + t.nop);
  if (size != 8 && (t.sizes & kS8)) op.back() = static_cast<uint8_t>(op.back() + 1);
  return op;
}

// Register/byte-register policy for one instruction: in 64-bit mode byte
// registers 4-7 are AH..BH without REX and SPL..DIL with it; SPL is never
// used (it is RSP), and without REX no operand may need REX.
struct ByteRegs {
  bool force_rex = false;
  uint16_t avoid = 0;
};
ByteRegs PickByteRegs(GenCtx& g, int size) {
  ByteRegs b;
  if (size != 8) return b;
  if (g.is64() && g.Chance(50)) {
    b.force_rex = true;
  } else {
    b.avoid = 0xff00;
  }
  return b;
}
// A register for a byte operand under `b` (may return 4..7 = AH..BH without REX).
int PickByteReg(GenCtx& g, const ByteRegs& b, uint16_t avoid) {
  if (!b.force_rex && g.Chance(30)) return 4 + static_cast<int>(g.Below(4));
  return g.PickGpr(avoid | b.avoid);
}

// Immediate of `size` bits (iz: at most 32 bits).
void SetImmZ(InsnSpec& s, int size, uint64_t value) {
  s.imm_bytes = size == 8 ? 1 : size == 16 ? 2 : 4;
  s.imm = value & (s.imm_bytes == 4 ? 0xffffffffull : (1ull << (8 * s.imm_bytes)) - 1);
}

void Finish(GenCtx& g, const Template& t) { g.WriteFlags(t.written, t.undefined); }

// Builds "op reg, r/m" with ModRM, picking registers and (with probability
// mem_percent) a memory operand. `reg_field` >= 0 fixes ModRM.reg (/digit).
InsnSpec ModrmInsn(GenCtx& g, const Template& t, int size, int reg_field, int mem_percent, uint16_t avoid,
                   MemChoice* mem_out = nullptr) {
  InsnSpec s;
  ByteRegs b = PickByteRegs(g, size);
  s.force_rex = b.force_rex;
  s.opcode = OpFor(t, size);
  s.has_modrm = true;
  if (g.Chance(mem_percent)) {
    MemChoice m = g.PickMem(size / 8, 0, avoid | b.avoid);
    if (m.addr_prefix) s.prefixes.push_back(0x67);
    s.rm = RmOperand::Mem(m.mem);
    if (mem_out) *mem_out = m;
  } else {
    s.rm = RmOperand::Reg(size == 8 ? PickByteReg(g, b, avoid) : g.PickGpr(avoid));
  }
  s.reg = reg_field >= 0 ? reg_field : (size == 8 ? PickByteReg(g, b, avoid) : g.PickGpr(avoid));
  if (t.pfx) s.prefixes.push_back(t.pfx);
  g.ApplySize(s, size);
  return s;
}

// Puts the mandatory prefix last (after 66h/67h chosen elsewhere).
void AddMandatoryPrefix(InsnSpec& s, uint8_t pfx) {
  if (pfx) s.prefixes.push_back(pfx);
}

// The memory operand of an SSE instruction: aligned as required, and now and
// then deliberately misaligned (#GP, SDM Vol. 2 2.4/Table 2-18... legacy SSE).
MemChoice SseMem(GenCtx& g, const Template& t, uint16_t avoid) {
  int align = t.align;
  MemChoice m = g.PickMem(t.msize ? t.msize : 16, align, avoid);
  if (align > 1 && g.options().misaligned_sse && g.Chance(3)) {
    // Misalign by 1..15 bytes: legacy SSE raises #GP(0).
    if (m.mem.rip_relative || (m.mem.base < 0 && m.mem.index < 0) || m.mem.addr16 == false) {
      m.mem.disp += 1 + static_cast<int64_t>(g.Below(align - 1));
    }
  }
  return m;
}

uint8_t SseImm(GenCtx& g, const Template& t) {
  uint8_t imm = static_cast<uint8_t>(g.Rand());
  if (t.digit) imm &= t.digit;  // t.digit: mask of meaningful imm bits.
  return imm;
}

}  // namespace

// "Ev, Gv" / "Gv, Ev" forms (ADD, MOV, XCHG, TEST, CMPXCHG, XADD, BSF...).
void EmitModrm(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  g.Emit(ModrmInsn(g, t, size, -1, 40, 0));
  Finish(g, t);
}

// Group 1 with an immediate: 80 /d ib, 81 /d iz, 83 /d ib (sign-extended);
// also C6/C7 /0 (MOV) and F6/F7 /0 (TEST) with t.form = 1 (no 83 form).
void EmitGroupImm(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  InsnSpec s = ModrmInsn(g, t, size, t.digit, 40, 0);
  uint64_t v = g.RandomValue();
  if (size != 8 && t.form == 0 && g.Chance(50)) {
    s.opcode = {0x83};
    s.imm = v & 0xff;
    s.imm_bytes = 1;
  } else {
    SetImmZ(s, size, v);
  }
  g.Emit(s);
  Finish(g, t);
}

// AL/eAX, imm (04/05, 0C/0D, A8/A9...).
void EmitAccImm(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  InsnSpec s;
  s.opcode = OpFor(t, size);
  g.ApplySize(s, size);
  SetImmZ(s, size, g.RandomValue());
  g.Emit(s);
  Finish(g, t);
}

// Unary r/m: NOT/NEG (F6/F7 /2,/3), INC/DEC (FE/FF /0,/1), one-operand MUL/IMUL.
void EmitUnary(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  g.Emit(ModrmInsn(g, t, size, t.digit, 40, 0));
  Finish(g, t);
}

// Shifts and rotates (SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR").
// t.digit is the /digit; t.form: 0 = by imm8 (C0/C1), 1 = by 1 (D0/D1),
// 2 = by CL (D2/D3).
void EmitShift(GenCtx& g, const Template& t) {
  static constexpr uint8_t kCounts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255};
  int size = g.PickSize(t.sizes);
  uint8_t count = g.Chance(70) ? kCounts[g.Below(std::size(kCounts))] : static_cast<uint8_t>(g.Rand());
  if (t.form == 1) count = 1;
  uint16_t avoid = 0;
  if (t.form == 2) {
    g.MovImm(kDRcx, (g.Rand() & ~0xffull) | count);
    avoid = 1u << kDRcx;  // Keep CL as set (the operand may still be CL).
  }
  if (t.read) g.ReadFlags(t.read);
  InsnSpec s;
  Template shape = t;
  shape.op = {static_cast<uint8_t>(t.form == 0 ? 0xc0 : t.form == 1 ? 0xd0 : 0xd2)};
  shape.nop = 1;
  s = ModrmInsn(g, shape, size, t.digit, 40, t.form == 2 ? avoid : 0);
  if (t.form == 0) {
    s.imm = count;
    s.imm_bytes = 1;
  }
  g.Emit(s);

  const int masked = count & (size == 64 ? 0x3f : 0x1f);
  const int digit = t.digit;
  if (masked == 0) return;  // Flags unaffected.
  if (digit <= 1) {  // ROL/ROR: CF and OF only; OF undefined unless 1-bit.
    g.WriteFlags(kCf | kOf, masked == 1 ? 0 : kOf);
    return;
  }
  if (digit <= 3) {  // RCL/RCR: the count is taken mod 9/17 for 8/16 bits.
    g.WriteFlags(kCf | kOf, masked == 1 ? 0 : kOf);
    return;
  }
  uint64_t undefined = kAf | (masked == 1 ? 0 : kOf);
  // SHL/SHR: CF undefined when the count is >= the operand size.
  if (digit != 7 && masked >= size) undefined |= kCf;
  g.WriteFlags(kAll6, undefined);
}

// SHLD/SHRD (0F A4/A5, 0F AC/AD). t.form: 0 = imm8, 2 = CL.
void EmitShiftDouble(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  uint8_t count = static_cast<uint8_t>(g.Chance(60) ? g.Below(size + 2) : g.Rand());
  const int masked = count & (size == 64 ? 0x3f : 0x1f);
  const bool result_undefined = masked > size;  // Only 16-bit operands (SDM SHLD).
  uint16_t avoid = 0;
  if (t.form == 2) {
    g.MovImm(kDRcx, (g.Rand() & ~0xffull) | count);
    avoid = 1u << kDRcx;
  }
  // Unicorn forgets the imm8 when it computes a RIP-relative address here.
  if (t.form == 0 && g.options().avoid_unicorn_deviations) g.set_allow_rip_relative(false);
  InsnSpec s = ModrmInsn(g, t, size, -1, result_undefined ? 0 : 40, avoid);
  g.set_allow_rip_relative(true);
  if (t.form == 0) {
    s.imm = count;
    s.imm_bytes = 1;
  }
  g.Emit(s);
  if (result_undefined) {
    // Overwrite the undefined result; the flags are all undefined.
    g.MovImm(*s.rm.reg, g.RandomValue());
    g.WriteFlags(kAll6, kAll6);
    return;
  }
  if (masked == 0) return;
  g.WriteFlags(kAll6, kAf | (masked == 1 ? 0 : kOf));
}

// DIV/IDIV (F6/F7 /6,/7) with operands set up so the quotient fits, or, when
// faults are allowed, now and then a zero divisor (#DE).
void EmitDivide(GenCtx& g, const Template& t) {
  const int size = g.PickSize(t.sizes);
  const bool is_signed = t.digit == 7;
  const uint64_t mask = size == 64 ? ~0ull : (1ull << size) - 1;
  const bool want_de = g.options().allow_faults && g.Chance(8);
  const bool use_mem = g.Chance(40);
  uint64_t divisor = g.RandomValue() & mask;
  // A 64-bit memory divisor is stored as a sign-extended imm32.
  if (use_mem && size == 64) divisor = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(divisor)));
  if (divisor == 0) divisor = 1 + g.Below(1000 < mask ? 1000 : mask);
  if (want_de) divisor = 0;
  // Dividend: low half random; high half chosen so the quotient fits.
  uint64_t lo = g.RandomValue() & mask;
  uint64_t hi;
  if (!is_signed) {
    hi = divisor == 0 ? g.Rand() & mask : (g.Rand() & mask) % divisor;
  } else {
    // Sign-extend the low half (the CBW/CWD idiom), and avoid MIN / -1.
    const uint64_t sign = 1ull << (size - 1);
    if (divisor == mask && lo == sign) lo ^= 1;
    hi = (lo & sign) ? mask : 0;
  }
  // Bits above the operand size are ignored by the instruction.
  auto garbage = [&]() { return size == 64 ? 0 : g.Rand() & ~mask; };
  const uint16_t avoid = (1u << kDRax) | (1u << kDRdx);
  if (size == 8) {
    g.MovImm(kDRax, (g.Rand() & ~0xffffull) | (hi & 0xff) << 8 | (lo & 0xff));
  } else {
    g.MovImm(kDRax, garbage() | lo);
    g.MovImm(kDRdx, garbage() | hi);
  }
  InsnSpec s;
  s.opcode = OpFor(t, size);
  s.has_modrm = true;
  s.reg = t.digit;
  if (use_mem) {
    MemChoice m = g.PickMem(size / 8, 0, avoid);
    g.StoreImm(m, size, divisor);
    if (m.addr_prefix) s.prefixes.push_back(0x67);
    s.rm = RmOperand::Mem(m.mem);
  } else {
    // Byte divisor: only registers whose low byte MovImm can set (no AH..BH).
    int r = g.PickGpr(avoid | (size == 8 && !g.is64() ? 0xf0 : 0));
    if (size == 8 && g.is64()) s.force_rex = true;
    g.MovImm(r, garbage() | divisor);
    s.rm = RmOperand::Reg(r);
  }
  g.ApplySize(s, size);
  g.Emit(s);
  Finish(g, t);
}

// IMUL Gv, Ev (0F AF) and IMUL Gv, Ev, Iz/Ib (69/6B).
void EmitImul(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  InsnSpec s = ModrmInsn(g, t, size, -1, 40, 0);
  if (t.form == 1) {
    SetImmZ(s, size, g.RandomValue());
  } else if (t.form == 2) {
    s.imm = g.Rand() & 0xff;
    s.imm_bytes = 1;
  }
  g.Emit(s);
  Finish(g, t);
}

// BT/BTS/BTR/BTC with a register bit offset (0F A3/AB/B3/BB). With a memory
// operand the offset addresses a bit string (SDM Vol. 2 BT): kept inside the data.
void EmitBitTestReg(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  int offset_reg = g.PickGpr();
  MemChoice m;
  InsnSpec s = ModrmInsn(g, t, size, offset_reg, 40, 1u << offset_reg, &m);
  if (s.rm.is_mem()) {
    const DiffLayout layout = LayoutFor(g.mode());
    const int64_t below = static_cast<int64_t>(m.address - layout.data_addr);
    const int64_t above = static_cast<int64_t>(layout.data_addr + 2 * kDiffPageBytes - m.address) - size / 8;
    int64_t lo_bits = -std::max<int64_t>(0, std::min<int64_t>(below - size / 8, 64)) * 8;
    int64_t hi_bits = std::max<int64_t>(0, std::min<int64_t>(above, 64)) * 8;
    int64_t bit = lo_bits + static_cast<int64_t>(g.Below(static_cast<uint64_t>(hi_bits - lo_bits + 1)));
    // The offset register is read at the operand size (sign-extended).
    g.MovImm(offset_reg, static_cast<uint64_t>(bit));
  }
  g.Emit(s);
  Finish(g, t);
}

// BT/BTS/BTR/BTC r/m, imm8 (0F BA /4../7).
void EmitBitTestImm(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  InsnSpec s = ModrmInsn(g, t, size, t.digit, 40, 0);
  s.imm = g.Rand() & 0xff;
  s.imm_bytes = 1;
  g.Emit(s);
  Finish(g, t);
}

// BSF/BSR (t.form 1: a zero source leaves the destination undefined on
// Intel, so the source is made non-zero, or the destination is overwritten
// right after) and TZCNT/LZCNT/POPCNT (always defined).
void EmitBitScan(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  MemChoice m;
  InsnSpec s = ModrmInsn(g, t, size, -1, 40, 0, &m);
  bool zero = false;
  if (t.form == 1 || g.Chance(20)) {
    zero = g.Chance(t.form == 1 ? 15 : 30);
    uint64_t v = 0;
    if (!zero) {
      v = g.RandomValue();
      v |= 1ull << g.Below(size);
    }
    if (size < 64) v &= (1ull << size) - 1;
    if (size == 64 && !zero && s.rm.is_mem()) v = (v & 0x7fffffff) | (1ull << g.Below(31));
    if (s.rm.is_mem()) {
      g.StoreImm(m, size, v);
    } else {
      g.MovImm(*s.rm.reg, v);
    }
  }
  g.Emit(s);
  if (t.form == 1 && zero) g.MovImm(s.reg, g.RandomValue());
  Finish(g, t);
}

// CMPXCHG (0F B0/B1): half the time RAX is made equal to the destination.
void EmitCmpxchg(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  MemChoice m;
  InsnSpec s = ModrmInsn(g, t, size, -1, 50, 1u << kDRax, &m);
  if (g.Chance(50)) {
    uint64_t v = g.RandomValue();
    // Unicorn zero-extends RAX even when a 32-bit CMPXCHG succeeds.
    if (size == 32 && g.options().avoid_unicorn_deviations) v &= 0xffffffffull;
    if (s.rm.is_mem()) {
      g.StoreImm(m, size, v);
      if (size == 64) v = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
      g.MovImm(kDRax, v);
    } else if (!(size == 8 && *s.rm.reg >= 4 && *s.rm.reg < 8 && !s.force_rex)) {
      g.MovImm(kDRax, v);
      g.MovImm(*s.rm.reg, v);
    }
  }
  if (size == 32 && g.is64() && !s.rm.is_mem()) {
    // When the comparison fails, Intel writes the 32-bit destination back
    // (zero-extending it, SDM CMPXCHG "DEST <- TEMP") and AMD leaves the
    // register alone: clear the upper half first so both agree.
    g.MovImm(*s.rm.reg, g.Rand() & 0xffffffffull);
  }
  g.Emit(s);
  Finish(g, t);
}

// BSWAP r32/r64 (0F C8+r). 16-bit BSWAP is undefined and not generated.
void EmitBswap(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  InsnSpec s;
  s.opcode = {0x0f, 0xc8};
  s.opcode_reg = g.PickGpr();
  g.ApplySize(s, size);
  g.Emit(s);
  Finish(g, t);
}

// SETcc r/m8 (0F 90+cc), CMOVcc (0F 40+cc), Jcc rel8 (70+cc) over a filler.
void EmitCondition(GenCtx& g, const Template& t) {
  const int cc = static_cast<int>(g.Below(16));
  g.ReadFlags(CcFlags(cc));
  if (t.form == 0) {  // SETcc
    Template shape = t;
    shape.op = {0x0f, static_cast<uint8_t>(0x90 + cc)};
    shape.nop = 2;
    shape.sizes = kS8;
    g.Emit(ModrmInsn(g, shape, 8, 0, 40, 0));
  } else if (t.form == 1) {  // CMOVcc
    Template shape = t;
    shape.op = {0x0f, static_cast<uint8_t>(0x40 + cc)};
    shape.nop = 2;
    shape.sizes = kSv;
    g.Emit(ModrmInsn(g, shape, g.PickSize(kSv), -1, 40, 0));
  } else {  // Jcc over NOT r (flag-neutral), so the skip shows in a register.
    InsnSpec filler;
    filler.opcode = {0xf7};
    filler.has_modrm = true;
    filler.reg = 2;
    filler.rm = RmOperand::Reg(g.PickGpr());
    g.ApplySize(filler, g.is64() ? 64 : 32);
    std::vector<uint8_t> bytes;
    Encode(g.mode(), 0, filler, bytes);
    g.Raw({static_cast<uint8_t>(0x70 + cc), static_cast<uint8_t>(bytes.size())});
    g.Emit(filler);
  }
}

// String instructions (SDM Vol. 2 MOVS/CMPS/STOS/LODS/SCAS) with REP/REPE/REPNE
// (t.form 1 = F3, 2 = F2) and small counts, addresses inside the data pages.
void EmitString(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  const DiffLayout layout = LayoutFor(g.mode());
  const uint64_t lo = layout.data_addr + 256;
  const uint64_t span = 2 * kDiffPageBytes - 512;
  g.MovImm(kDRsi, lo + g.Below(span));
  g.MovImm(kDRdi, lo + g.Below(span));
  uint64_t count = 1;
  if (t.form != 0) {
    count = g.Chance(10) ? 0 : g.Below(17);
    // Real mode counts in CX: the upper half of ECX must not matter.
    const uint64_t high = g.mode() == DiffMode::kReal16 ? (g.Rand() & 0xffff0000ull) : 0;
    g.MovImm(kDRcx, high | count);
  }
  InsnSpec s;
  if (t.form == 1) s.prefixes.push_back(0xf3);
  if (t.form == 2) s.prefixes.push_back(0xf2);
  s.opcode = OpFor(t, size);
  g.ApplySize(s, size);
  g.Emit(s);
  if (count > 0) Finish(g, t);
}

// LEA in every addressing form: either a real data address with its setup or
// random registers as they are (LEA never touches memory).
void EmitLea(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  InsnSpec s;
  s.opcode = {0x8d};
  s.has_modrm = true;
  s.reg = g.PickGpr();
  if (g.Chance(50)) {
    MemChoice m = g.PickMem(1, 0, 0);
    if (m.addr_prefix) s.prefixes.push_back(0x67);
    s.rm = RmOperand::Mem(m.mem);
  } else {
    MemOperand m;
    if (g.mode() == DiffMode::kReal16 && g.Chance(60)) {
      m.addr16 = true;
      m.rm16 = static_cast<int>(g.Below(8));
      m.base16_none = g.Chance(10);
      m.disp = static_cast<int64_t>(g.Below(0x10000)) - 0x8000;
      if (g.Chance(30)) m.disp = static_cast<int64_t>(g.Below(256)) - 128;
    } else {
      const int n = g.num_gprs();
      m.base = g.Chance(85) ? static_cast<int>(g.Below(n)) : -1;  // RSP allowed: LEA only reads it.
      if (g.Chance(60)) {
        do {
          m.index = static_cast<int>(g.Below(n));
        } while (m.index == kDRsp);
      }
      m.scale = 1 << g.Below(4);
      m.disp = g.Chance(30) ? 0 : g.Chance(50) ? static_cast<int64_t>(g.Below(256)) - 128
                                               : static_cast<int64_t>(static_cast<int32_t>(g.Rand()));
      if (m.base < 0 && m.index < 0 && g.is64()) m.use_sib_no_base = true;
      if (g.is64() && g.Chance(10)) {
        m = MemOperand{};
        m.rip_relative = true;
        m.disp = static_cast<int64_t>(g.pc() + g.Below(0x100000)) - 0x80000;
      }
      if (g.mode() != DiffMode::kProt32 && !m.rip_relative && (g.mode() == DiffMode::kReal16 || g.Chance(20))) {
        s.prefixes.push_back(0x67);
      }
      m.force_disp32 = g.Chance(10);
    }
    s.rm = RmOperand::Mem(m);
  }
  g.ApplySize(s, size);
  g.Emit(s);
}

// PUSH/POP in their forms. t.form: 0 push r, 1 pop r, 2 push imm8, 3 push
// imm, 4 push r/m, 5 pop r/m, 6 PUSHF, 7 POPF (of a pushed immediate with TF
// clear, so no single-step trap).
void EmitStack(GenCtx& g, const Template& t) {
  // Stack operand sizes: 16/64 in 64-bit mode, 16/32 elsewhere.
  const int natural = g.is64() ? 64 : g.mode() == DiffMode::kProt32 ? 32 : 16;
  const int size = g.Chance(25) ? (natural == 16 ? 32 : 16) : natural;
  InsnSpec s;
  auto size_prefix = [&](InsnSpec& x) {
    if (size != natural) x.prefixes.insert(x.prefixes.begin(), 0x66);
  };
  switch (t.form) {
    case 0:
    case 1:
      s.opcode = {static_cast<uint8_t>(t.form == 0 ? 0x50 : 0x58)};
      s.opcode_reg = t.form == 0 ? static_cast<int>(g.Below(g.num_gprs())) : g.PickGpr();
      break;
    case 2:
      s.opcode = {0x6a};
      s.imm = g.Rand() & 0xff;
      s.imm_bytes = 1;
      break;
    case 3:
      s.opcode = {0x68};
      SetImmZ(s, size == 64 ? 32 : size, g.RandomValue());
      break;
    case 4:
    case 5: {
      s.opcode = {static_cast<uint8_t>(t.form == 4 ? 0xff : 0x8f)};
      s.has_modrm = true;
      s.reg = t.form == 4 ? 6 : 0;
      if (g.Chance(50)) {
        MemChoice m = g.PickMem(size / 8, 0, 0);
        if (m.addr_prefix) s.prefixes.push_back(0x67);
        s.rm = RmOperand::Mem(m.mem);
      } else {
        s.rm = RmOperand::Reg(g.PickGpr());
      }
      break;
    }
    case 6:
      g.ReadFlags(kAll6);
      s.opcode = {0x9c};
      break;
    default: {
      InsnSpec push;
      push.opcode = {0x68};
      // Status flags and DF random, IF set (CPL 3 with IOPL 0 cannot change
      // it, CPL 0 can); TF, IOPL, NT, AC... clear.
      uint64_t v = (g.Rand() & (dflags::kStatus | dflags::kDf)) | dflags::kFixed1 | (1u << 9);
      SetImmZ(push, size == 64 ? 32 : size, v);
      size_prefix(push);
      g.Emit(push);
      s.opcode = {0x9d};
      size_prefix(s);
      g.Emit(s);
      g.WriteFlags(kAll6, 0);
      return;
    }
  }
  size_prefix(s);
  g.Emit(s);
}

// Fixed encodings without operands (CBW/CWD families, CLC/STC/CMC/CLD/STD,
// LAHF/SAHF, XCHG eAX,r, BCD adjustments). t.form 1: sized by 66h/REX.W.
void EmitFixed(GenCtx& g, const Template& t) {
  InsnSpec s;
  s.opcode.assign(t.op.begin(), t.op.begin() + t.nop);
  if (t.form == 1) g.ApplySize(s, g.PickSize(t.sizes));
  if (t.form == 2) {  // XCHG eAX, r (90+r), not 90 itself with r = 0.
    s.opcode_reg = 1 + static_cast<int>(g.Below(g.num_gprs() - 1));
    if (*s.opcode_reg == kDRsp) s.opcode_reg = kDRbp;
    g.ApplySize(s, g.PickSize(kSv));
  }
  if (t.read) g.ReadFlags(t.read);
  g.Emit(s);
  Finish(g, t);
}

// AAM/AAD imm8 (D4/D5). AAM 0 raises #DE.
void EmitAsciiAdjustImm(GenCtx& g, const Template& t) {
  uint8_t imm = g.Chance(60) ? 10 : static_cast<uint8_t>(g.Rand());
  if (t.op[0] == 0xd4 && imm == 0 && !g.options().allow_faults) imm = 10;
  g.Raw({t.op[0], imm});
  Finish(g, t);
}

// MOVBE Gv, Mv / Mv, Gv (0F 38 F0/F1): memory operand only.
void EmitMovbe(GenCtx& g, const Template& t) {
  int size = g.PickSize(t.sizes);
  g.Emit(ModrmInsn(g, t, size, -1, 100, 0));
  Finish(g, t);
}

// CRC32 Gd/Gq, Eb (F2 0F 38 F0) and Gd/Gq, Ev (F2 0F 38 F1).
void EmitCrc32(GenCtx& g, const Template& t) {
  const int size = t.op[2] == 0xf0 ? 8 : g.PickSize(kSv);
  InsnSpec s = ModrmInsn(g, t, size, -1, 40, 0);
  s.opcode.assign(t.op.begin(), t.op.begin() + t.nop);
  s.reg = g.PickGpr();  // The destination is a full GPR, never a byte register.
  if (size == 8 && g.is64() && g.Chance(30)) s.rex_w = true;  // crc32 r64, r/m8.
  if (size == 8 && s.rex_w) s.force_rex = true;
  // The mandatory F2 must stay the last legacy prefix before the opcode.
  std::vector<uint8_t> prefixes;
  for (uint8_t p : s.prefixes) {
    if (p != 0xf2) prefixes.push_back(p);
  }
  prefixes.push_back(0xf2);
  s.prefixes = prefixes;
  g.Emit(s);
  Finish(g, t);
}

// --- SSE emitters -----------------------------------------------------------

// XMM/GPR roles (t.form): 0 = V, W (xmm reg, xmm/mem); 1 = G, U (gpr dest,
// xmm register: MOVMSKPS, PMOVMSKB, PEXTRW C5); 2 = G, W (gpr dest, xmm/mem:
// CVTTSS2SI...); 3 = V, E (xmm dest, gpr/mem: CVTSI2SS, MOVD 6E, PINSR*);
// 4 = E, V (gpr/mem dest, xmm: MOVD 7E, PEXTR*, EXTRACTPS); 5 = W, V (xmm/mem
// dest: MOVDQA/MOVUPS stores).
void EmitSse(GenCtx& g, const Template& t) {
  InsnSpec s;
  s.opcode.assign(t.op.begin(), t.op.begin() + t.nop);
  s.has_modrm = true;
  uint16_t avoid = 0;
  // PCMPESTRx read RAX/RDX lengths: set them to small signed values.
  const bool estr = t.nop == 3 && t.op[1] == 0x3a && (t.op[2] == 0x60 || t.op[2] == 0x61);
  if (estr) {
    g.MovImm(kDRax, static_cast<uint64_t>(static_cast<int64_t>(g.Below(41)) - 20));
    g.MovImm(kDRdx, static_cast<uint64_t>(static_cast<int64_t>(g.Below(41)) - 20));
    avoid = (1u << kDRax) | (1u << kDRdx);
  }
  const bool gpr_sized = t.form >= 1 && t.form <= 4;
  int gsize = 32;
  if (gpr_sized && (t.sizes & kS64) && g.is64() && g.Chance(40)) gsize = 64;
  if (t.sizes == kS64) gsize = 64;
  if (gsize == 64) s.rex_w = true;
  if (!gpr_sized && g.is64() && g.Chance(5)) s.rex_w = true;  // REX.W is ignored here.
  const bool rm_may_be_mem = t.form != 1;
  const int mem_percent = t.form == 5 ? 100 : rm_may_be_mem ? 30 : 0;
  if (g.Chance(mem_percent) && t.msize != 0xff) {
    Template shape = t;
    if (gpr_sized && t.msize == 0) shape.msize = static_cast<uint8_t>(gsize / 8);
    // Unicorn reads 16 bytes for CVTDQ2PD m64: keep 16 readable bytes.
    if (g.options().avoid_unicorn_deviations && shape.msize < 16 && !gpr_sized) shape.msize = 16;
    MemChoice m = SseMem(g, shape, avoid);
    if (m.addr_prefix) s.prefixes.push_back(0x67);
    s.rm = RmOperand::Mem(m.mem);
  } else {
    const bool rm_is_gpr = t.form == 3 || t.form == 4;
    s.rm = RmOperand::Reg(rm_is_gpr ? g.PickGpr(avoid) : g.PickXmm());
  }
  const bool reg_is_gpr = t.form == 1 || t.form == 2;
  s.reg = reg_is_gpr ? g.PickGpr(avoid) : g.PickXmm();
  // Unicorn's PHADD*/PHSUB* read a source that is also the destination after
  // writing part of it.
  if (g.options().avoid_unicorn_deviations && std::string_view(t.name).starts_with("ph") && s.rm.reg &&
      *s.rm.reg == s.reg) {
    s.rm.reg = (s.reg + 1) % (g.is64() ? 16 : 8);
  }
  AddMandatoryPrefix(s, t.pfx);
  if (t.imm8) {
    s.imm = SseImm(g, t);
    s.imm_bytes = 1;
  }
  g.Emit(s);
  Finish(g, t);
}

// PSRLW/PSRAW/PSLLW... by imm8 (66 0F 71/72/73 /digit ib), register only.
void EmitSseShiftImm(GenCtx& g, const Template& t) {
  InsnSpec s;
  s.opcode.assign(t.op.begin(), t.op.begin() + t.nop);
  s.has_modrm = true;
  s.reg = t.digit;
  s.rm = RmOperand::Reg(g.PickXmm());
  AddMandatoryPrefix(s, t.pfx);
  s.imm = g.Chance(70) ? g.Below(70) : g.Rand() & 0xff;
  s.imm_bytes = 1;
  g.Emit(s);
}

}  // namespace x86vm::difftest
