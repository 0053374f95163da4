// MMX/SSE data movement (SDM Vol. 2 MOVUPS/MOVAPS and their PD/DQ twins,
// MOVSS, MOVSD, MOVLPS/MOVHPS/MOVLHPS/MOVHLPS, MOVSLDUP/MOVSHDUP/MOVDDUP,
// MOVMSKPS/PD, PMOVMSKB, MOVD/MOVQ, MOVQ2DQ/MOVDQ2Q, MASKMOVQ/MASKMOVDQU;
// the non-temporal stores MOVNTPS/PD/DQ/Q and loads MOVNTDQA/LDDQU share
// these handlers: caching hints have no effect here).
#include "cpu/exec_sse.h"

namespace x86vm {
namespace {

using sse::V128;

// MASKMOVQ/MASKMOVDQU: the bytes of `data` whose `mask` byte has bit 7 set
// go to DS:rDI (segment override allowed). Nothing is accessed for a zero
// mask; otherwise the whole span is checked first so a fault leaves memory
// unchanged (SDM Vol. 2 MASKMOVDQU allows either behaviour).
Fault MaskedStore(Cpu& c, const Insn& i, const uint8_t* data, const uint8_t* mask,
                  unsigned bytes) {
  uint64_t ea = c.s.gpr[kRdi] & Cpu::AddrMask(i.addrsize);
  bool any = false;
  for (unsigned b = 0; b < bytes; ++b) any |= (mask[b] & 0x80) != 0;
  if (!any) return kOk;
  X86_TRY(c.ProbeWrite(i.seg, ea, bytes));
  for (unsigned b = 0; b < bytes; ++b) {
    if (mask[b] & 0x80) {
      X86_TRY(c.Write<uint8_t>(i.seg, (ea + b) & Cpu::AddrMask(i.addrsize), data[b]));
    }
  }
  return kOk;
}

}  // namespace

// MOVUPS/MOVUPD/MOVDQU/LDDQU xmm, xmm/m128: no alignment requirement.
Fault MovupsVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 v;
  X86_TRY(sse::ReadW(c, i, v, sse::Align::kNone));
  sse::SetXmm(c, i.reg, v);
  return kOk;
}

Fault MovupsWxVx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  if (i.mod == 3) {
    c.s.xmm[i.rm] = c.s.xmm[i.reg];
    return kOk;
  }
  return sse::WriteM128(c, i, sse::GetXmm(c, i.reg), sse::Align::kNone);
}

// MOVAPS/MOVAPD/MOVDQA/MOVNTDQA xmm, xmm/m128: 16-byte aligned.
Fault MovapsVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 v;
  X86_TRY(sse::ReadW(c, i, v, sse::Align::k16));
  sse::SetXmm(c, i.reg, v);
  return kOk;
}

// MOVAPS/MOVAPD/MOVDQA/MOVNTPS/MOVNTPD/MOVNTDQ xmm/m128, xmm.
Fault MovapsWxVx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  if (i.mod == 3) {
    c.s.xmm[i.rm] = c.s.xmm[i.reg];
    return kOk;
  }
  return sse::WriteM128(c, i, sse::GetXmm(c, i.reg), sse::Align::k16);
}

// MOVSS xmm, xmm merges the low dword; MOVSS xmm, m32 zeroes the rest.
Fault MovssVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  if (i.mod == 3) {
    V128 r = sse::GetXmm(c, i.reg);
    r.set_u32(0, static_cast<uint32_t>(c.s.xmm[i.rm].lo));
    sse::SetXmm(c, i.reg, r);
    return kOk;
  }
  uint32_t v;
  X86_TRY(c.Read<uint32_t>(i.seg, c.Ea(i), v));
  c.s.xmm[i.reg] = Xmm{v, 0};
  return kOk;
}

Fault MovssWxVx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint32_t v = static_cast<uint32_t>(c.s.xmm[i.reg].lo);
  if (i.mod == 3) {
    c.s.xmm[i.rm].lo = (c.s.xmm[i.rm].lo & ~0xffffffffull) | v;
    return kOk;
  }
  return c.Write<uint32_t>(i.seg, c.Ea(i), v);
}

// MOVSD xmm, xmm merges the low quadword; MOVSD xmm, m64 zeroes the high one.
Fault MovsdVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  if (i.mod == 3) {
    c.s.xmm[i.reg].lo = c.s.xmm[i.rm].lo;
    return kOk;
  }
  uint64_t v;
  X86_TRY(c.Read<uint64_t>(i.seg, c.Ea(i), v));
  c.s.xmm[i.reg] = Xmm{v, 0};
  return kOk;
}

Fault MovsdWxVx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  if (i.mod == 3) {
    c.s.xmm[i.rm].lo = c.s.xmm[i.reg].lo;
    return kOk;
  }
  return c.Write<uint64_t>(i.seg, c.Ea(i), c.s.xmm[i.reg].lo);
}

// MOVLPS/MOVLPD xmm, m64.
Fault MovlpsVqMq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t v;
  X86_TRY(c.Read<uint64_t>(i.seg, c.Ea(i), v));
  c.s.xmm[i.reg].lo = v;
  return kOk;
}

// MOVHLPS xmm1, xmm2: the high quadword of xmm2 to the low one of xmm1.
Fault MovhlpsVqUq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  c.s.xmm[i.reg].lo = c.s.xmm[i.rm].hi;
  return kOk;
}

// MOVLPS/MOVLPD m64, xmm.
Fault MovlpsMqVq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return c.Write<uint64_t>(i.seg, c.Ea(i), c.s.xmm[i.reg].lo);
}

// MOVHPS/MOVHPD xmm, m64.
Fault MovhpsVqMq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t v;
  X86_TRY(c.Read<uint64_t>(i.seg, c.Ea(i), v));
  c.s.xmm[i.reg].hi = v;
  return kOk;
}

// MOVLHPS xmm1, xmm2: the low quadword of xmm2 to the high one of xmm1.
Fault MovlhpsVqUq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  c.s.xmm[i.reg].hi = c.s.xmm[i.rm].lo;
  return kOk;
}

// MOVHPS/MOVHPD m64, xmm.
Fault MovhpsMqVq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return c.Write<uint64_t>(i.seg, c.Ea(i), c.s.xmm[i.reg].hi);
}

Fault MovsldupVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 v;
  X86_TRY(sse::ReadW(c, i, v));
  sse::SetXmm(c, i.reg, simd::Movsldup(v));
  return kOk;
}

Fault MovshdupVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 v;
  X86_TRY(sse::ReadW(c, i, v));
  sse::SetXmm(c, i.reg, simd::Movshdup(v));
  return kOk;
}

// MOVDDUP xmm, xmm/m64.
Fault MovddupVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t v;
  X86_TRY(sse::ReadWLow(c, i, 8, v));
  c.s.xmm[i.reg] = Xmm{v, v};
  return kOk;
}

// MOVMSKPS/MOVMSKPD/PMOVMSKB: the mask zero-extended into r32/r64.
Fault MovmskpsGdUx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  c.s.gpr[i.reg] = simd::Movmskps(sse::GetXmm(c, i.rm));
  return kOk;
}

Fault MovmskpdGdUx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  c.s.gpr[i.reg] = simd::Movmskpd(sse::GetXmm(c, i.rm));
  return kOk;
}

Fault PmovmskbGdNq(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  c.s.gpr[i.reg] = simd::Pmovmskb(sse::GetMm(c, i.rm));
  return kOk;
}

Fault PmovmskbGdUx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  c.s.gpr[i.reg] = simd::Pmovmskb(sse::GetXmm(c, i.rm));
  return kOk;
}

// MOVD mm, r/m32 (zero-extended) and MOVQ mm, r/m64 (REX.W).
Fault MovdPdEy32(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint32_t v;
  X86_TRY(c.ReadE<uint32_t>(i, v));
  sse::SetMm(c, i.reg, v);
  return kOk;
}

Fault MovdPdEy64(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t v;
  X86_TRY(c.ReadE<uint64_t>(i, v));
  sse::SetMm(c, i.reg, v);
  return kOk;
}

// MOVD r/m32, mm and MOVQ r/m64, mm.
Fault MovdEyPd32(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  return c.WriteE<uint32_t>(i, static_cast<uint32_t>(sse::GetMm(c, i.reg)));
}

Fault MovdEyPd64(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  return c.WriteE<uint64_t>(i, sse::GetMm(c, i.reg));
}

// MOVD/MOVQ xmm, r/m32 or r/m64: zero-extended to 128 bits.
Fault MovdVyEy32(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint32_t v;
  X86_TRY(c.ReadE<uint32_t>(i, v));
  c.s.xmm[i.reg] = Xmm{v, 0};
  return kOk;
}

Fault MovdVyEy64(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t v;
  X86_TRY(c.ReadE<uint64_t>(i, v));
  c.s.xmm[i.reg] = Xmm{v, 0};
  return kOk;
}

// MOVD/MOVQ r/m32 or r/m64, xmm.
Fault MovdEyVy32(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return c.WriteE<uint32_t>(i, static_cast<uint32_t>(c.s.xmm[i.reg].lo));
}

Fault MovdEyVy64(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return c.WriteE<uint64_t>(i, c.s.xmm[i.reg].lo);
}

// MOVQ mm, mm/m64.
Fault MovqPqQq(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t v;
  X86_TRY(sse::ReadQ(c, i, v));
  sse::SetMm(c, i.reg, v);
  return kOk;
}

// MOVQ mm/m64, mm and MOVNTQ m64, mm.
Fault MovqQqPq(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t v = sse::GetMm(c, i.reg);
  if (i.mod == 3) {
    sse::SetMm(c, i.rm, v);
    return kOk;
  }
  return c.Write<uint64_t>(i.seg, c.Ea(i), v);
}

// MOVQ xmm, xmm/m64 (F3 0F 7E): the high quadword is zeroed.
Fault MovqVxWq(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t v;
  X86_TRY(sse::ReadWLow(c, i, 8, v));
  c.s.xmm[i.reg] = Xmm{v, 0};
  return kOk;
}

// MOVQ xmm/m64, xmm (66 0F D6): a register destination's high quadword is
// zeroed.
Fault MovqWqVx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t v = c.s.xmm[i.reg].lo;
  if (i.mod == 3) {
    c.s.xmm[i.rm] = Xmm{v, 0};
    return kOk;
  }
  return c.Write<uint64_t>(i.seg, c.Ea(i), v);
}

// MOVQ2DQ xmm, mm.
Fault Movq2dqVxNq(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareSseMmx(c));
  c.s.xmm[i.reg] = Xmm{sse::GetMm(c, i.rm), 0};
  return kOk;
}

// MOVDQ2Q mm, xmm.
Fault Movdq2qPqUx(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareSseMmx(c));
  sse::SetMm(c, i.reg, c.s.xmm[i.rm].lo);
  return kOk;
}

Fault MaskmovqPqNq(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint8_t data[8], mask[8];
  uint64_t d = sse::GetMm(c, i.reg), m = sse::GetMm(c, i.rm);
  for (int b = 0; b < 8; ++b) {
    data[b] = static_cast<uint8_t>(d >> (8 * b));
    mask[b] = static_cast<uint8_t>(m >> (8 * b));
  }
  return MaskedStore(c, i, data, mask, 8);
}

Fault MaskmovdquVxUx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 data = sse::GetXmm(c, i.reg), mask = sse::GetXmm(c, i.rm);
  return MaskedStore(c, i, data.bytes, mask.bytes, 16);
}

}  // namespace x86vm
