// Lane permutations, blends, and single-lane inserts/extracts (SDM Vol. 2
// PSHUFW/PSHUFD/PSHUFHW/PSHUFLW, PALIGNR, SHUFPS/PD, BLENDPS/PD, PBLENDW,
// PBLENDVB, BLENDVPS/PD, PEXTRB/W/D/Q, EXTRACTPS, PINSRB/W/D/Q, INSERTPS).
#include "cpu/exec_sse.h"

namespace x86vm {
namespace {

using sse::V128;

uint8_t Imm8(const Insn& i) { return static_cast<uint8_t>(i.imm); }

// op xmm, xmm/m128, imm8 with the destination's old value.
template <V128 (*Op)(const V128&, const V128&, uint8_t)>
Fault XmmBinaryImm(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::SetXmm(c, i.reg, Op(sse::GetXmm(c, i.reg), src, Imm8(i)));
  return kOk;
}

// op xmm, xmm/m128, imm8 from the source only.
template <V128 (*Op)(const V128&, uint8_t)>
Fault XmmUnaryImm(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::SetXmm(c, i.reg, Op(src, Imm8(i)));
  return kOk;
}

// op xmm, xmm/m128 with XMM0 as the blend mask (SDM Vol. 2 PBLENDVB).
template <V128 (*Op)(const V128&, const V128&, const V128&)>
Fault XmmBlendv(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::SetXmm(c, i.reg, Op(sse::GetXmm(c, i.reg), src, sse::GetXmm(c, 0)));
  return kOk;
}

// Writes an extracted lane to a general register (zero-extended to 64 bits;
// SDM Vol. 2 PEXTRB "the upper bits of r64/r32 are filled with zeros") or
// to memory with its own size.
template <typename T>
Fault WriteExtracted(Cpu& c, const Insn& i, T v) {
  if (i.mod == 3) {
    c.s.gpr[i.rm] = v;
    return kOk;
  }
  return c.Write<T>(i.seg, c.Ea(i), v);
}

// The source of an insert: the low bits of a general register (by number:
// PINSRB's r32 operand never names AH..BH) or a memory operand of its size.
template <typename T>
Fault ReadInserted(Cpu& c, const Insn& i, T& v) {
  if (i.mod == 3) {
    v = static_cast<T>(c.s.gpr[i.rm]);
    return kOk;
  }
  return c.Read<T>(i.seg, c.Ea(i), v);
}

}  // namespace

Fault PshufwPqQqIb(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t src;
  X86_TRY(sse::ReadQ(c, i, src));
  sse::SetMm(c, i.reg, simd::Pshufw(src, Imm8(i)));
  return kOk;
}

Fault PshufdVxWxIb(Cpu& c, const Insn& i) { return XmmUnaryImm<simd::Pshufd>(c, i); }
Fault PshufhwVxWxIb(Cpu& c, const Insn& i) { return XmmUnaryImm<simd::Pshufhw>(c, i); }
Fault PshuflwVxWxIb(Cpu& c, const Insn& i) { return XmmUnaryImm<simd::Pshuflw>(c, i); }

Fault PalignrPqQqIb(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t src;
  X86_TRY(sse::ReadQ(c, i, src));
  sse::SetMm(c, i.reg, simd::Palignr(sse::GetMm(c, i.reg), src, Imm8(i)));
  return kOk;
}

Fault PalignrVxWxIb(Cpu& c, const Insn& i) { return XmmBinaryImm<simd::Palignr>(c, i); }
Fault ShufpsVxWxIb(Cpu& c, const Insn& i) { return XmmBinaryImm<simd::Shufps>(c, i); }
Fault ShufpdVxWxIb(Cpu& c, const Insn& i) { return XmmBinaryImm<simd::Shufpd>(c, i); }
Fault BlendpsVxWxIb(Cpu& c, const Insn& i) { return XmmBinaryImm<simd::Blendps>(c, i); }
Fault BlendpdVxWxIb(Cpu& c, const Insn& i) { return XmmBinaryImm<simd::Blendpd>(c, i); }
Fault PblendwVxWxIb(Cpu& c, const Insn& i) { return XmmBinaryImm<simd::Pblendw>(c, i); }
Fault PblendvbVxWx(Cpu& c, const Insn& i) { return XmmBlendv<simd::Pblendvb>(c, i); }
Fault BlendvpsVxWx(Cpu& c, const Insn& i) { return XmmBlendv<simd::Blendvps>(c, i); }
Fault BlendvpdVxWx(Cpu& c, const Insn& i) { return XmmBlendv<simd::Blendvpd>(c, i); }

// PEXTRW r32/r64, mm, imm8 (NP 0F C5).
Fault PextrwGdNqIb(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  c.s.gpr[i.reg] = simd::Pextrw(sse::GetMm(c, i.rm), Imm8(i));
  return kOk;
}

// PEXTRW r32/r64, xmm, imm8 (66 0F C5).
Fault PextrwGdUxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  c.s.gpr[i.reg] = simd::Pextrw(sse::GetXmm(c, i.rm), Imm8(i));
  return kOk;
}

// PEXTRW r/m16, xmm, imm8 (66 0F 3A 15).
Fault PextrwEwVxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return WriteExtracted<uint16_t>(c, i, simd::Pextrw(sse::GetXmm(c, i.reg), Imm8(i)));
}

Fault PextrbEbVxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return WriteExtracted<uint8_t>(c, i, simd::Pextrb(sse::GetXmm(c, i.reg), Imm8(i)));
}

Fault PextrdEyVxIb32(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return WriteExtracted<uint32_t>(c, i, simd::Pextrd(sse::GetXmm(c, i.reg), Imm8(i)));
}

Fault PextrdEyVxIb64(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return WriteExtracted<uint64_t>(c, i, simd::Pextrq(sse::GetXmm(c, i.reg), Imm8(i)));
}

Fault ExtractpsEdVxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return WriteExtracted<uint32_t>(c, i, simd::Extractps(sse::GetXmm(c, i.reg), Imm8(i)));
}

Fault PinsrwPqEwIb(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint16_t v;
  X86_TRY(ReadInserted<uint16_t>(c, i, v));
  sse::SetMm(c, i.reg, simd::Pinsrw(sse::GetMm(c, i.reg), v, Imm8(i)));
  return kOk;
}

Fault PinsrwVxEwIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint16_t v;
  X86_TRY(ReadInserted<uint16_t>(c, i, v));
  sse::SetXmm(c, i.reg, simd::Pinsrw(sse::GetXmm(c, i.reg), v, Imm8(i)));
  return kOk;
}

Fault PinsrbVxEbIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint8_t v;
  X86_TRY(ReadInserted<uint8_t>(c, i, v));
  sse::SetXmm(c, i.reg, simd::Pinsrb(sse::GetXmm(c, i.reg), v, Imm8(i)));
  return kOk;
}

Fault PinsrdVxEyIb32(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint32_t v;
  X86_TRY(ReadInserted<uint32_t>(c, i, v));
  sse::SetXmm(c, i.reg, simd::Pinsrd(sse::GetXmm(c, i.reg), v, Imm8(i)));
  return kOk;
}

Fault PinsrdVxEyIb64(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t v;
  X86_TRY(ReadInserted<uint64_t>(c, i, v));
  sse::SetXmm(c, i.reg, simd::Pinsrq(sse::GetXmm(c, i.reg), v, Imm8(i)));
  return kOk;
}

// INSERTPS: the register form takes source dword imm[7:6], the memory form
// a 32-bit load (SDM Vol. 2 INSERTPS).
Fault InsertpsVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint32_t v;
  if (i.mod == 3) {
    v = sse::GetXmm(c, i.rm).u32((Imm8(i) >> 6) & 3);
  } else {
    X86_TRY(c.Read<uint32_t>(i.seg, c.Ea(i), v));
  }
  sse::SetXmm(c, i.reg, simd::Insertps(sse::GetXmm(c, i.reg), v, Imm8(i)));
  return kOk;
}

}  // namespace x86vm
