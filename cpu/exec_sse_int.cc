// MMX and SSE2-SSE4.2 packed integer instructions (SDM Vol. 2 PADDB ...
// PMULLD, PSLLW ... PSRLDQ, PTEST, MPSADBW, PHMINPOSUW, PCLMULQDQ, EMMS). The
// lane arithmetic is cpu/simd; this file fetches operands and applies the
// MMX/SSE rules of SDM Vol. 3 Table 2-2 and 12-1.
#include "cpu/exec_sse.h"

namespace x86vm {
namespace {

using sse::V128;

using MmxBinaryFn = uint64_t (*)(uint64_t, uint64_t);
using XmmBinaryFn = V128 (*)(const V128&, const V128&);
using MmxUnaryFn = uint64_t (*)(uint64_t);
using XmmUnaryFn = V128 (*)(const V128&);
using MmxShiftFn = uint64_t (*)(uint64_t, uint64_t);
using XmmShiftFn = V128 (*)(const V128&, uint64_t);

// op mm, mm/m64.
template <MmxBinaryFn Op>
Fault MmxBinary(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t src;
  X86_TRY(sse::ReadQ(c, i, src));
  sse::SetMm(c, i.reg, Op(sse::GetMm(c, i.reg), src));
  return kOk;
}

// op mm, mm/m32: the low-half unpacks read only 32 bits of memory.
template <MmxBinaryFn Op>
Fault MmxBinaryLow(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t src;
  if (i.is_mem()) {
    uint32_t m;
    X86_TRY(c.Read<uint32_t>(i.seg, c.Ea(i), m));
    src = m;
  } else {
    src = sse::GetMm(c, i.rm);
  }
  sse::SetMm(c, i.reg, Op(sse::GetMm(c, i.reg), src));
  return kOk;
}

// op xmm, xmm/m128 (aligned).
template <XmmBinaryFn Op>
Fault XmmBinary(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::SetXmm(c, i.reg, Op(sse::GetXmm(c, i.reg), src));
  return kOk;
}

template <MmxUnaryFn Op>
Fault MmxUnary(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t src;
  X86_TRY(sse::ReadQ(c, i, src));
  sse::SetMm(c, i.reg, Op(src));
  return kOk;
}

template <XmmUnaryFn Op>
Fault XmmUnary(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::SetXmm(c, i.reg, Op(src));
  return kOk;
}

// Shift mm by mm/m64 (the whole quadword is the count).
template <MmxShiftFn Op>
Fault MmxShift(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  uint64_t count;
  X86_TRY(sse::ReadQ(c, i, count));
  sse::SetMm(c, i.reg, Op(sse::GetMm(c, i.reg), count));
  return kOk;
}

// Shift xmm by xmm/m128: the count is the low quadword (SDM Vol. 2 PSLLW).
template <XmmShiftFn Op>
Fault XmmShift(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 count;
  X86_TRY(sse::ReadW(c, i, count));
  sse::SetXmm(c, i.reg, Op(sse::GetXmm(c, i.reg), count.u64(0)));
  return kOk;
}

// Groups 12-14: shift the rm register by imm8.
template <MmxShiftFn Op>
Fault MmxShiftImm(Cpu& c, const Insn& i) {
  X86_TRY(sse::PrepareMmx(c));
  sse::SetMm(c, i.rm, Op(sse::GetMm(c, i.rm), static_cast<uint8_t>(i.imm)));
  return kOk;
}

template <XmmShiftFn Op>
Fault XmmShiftImm(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  sse::SetXmm(c, i.rm, Op(sse::GetXmm(c, i.rm), static_cast<uint8_t>(i.imm)));
  return kOk;
}

// PMOVSX/PMOVZX xmm, xmm/m(bytes): only `bytes` are read from memory.
template <V128 (*Op)(uint64_t), unsigned kBytes>
Fault XmmExtend(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint64_t src;
  X86_TRY(sse::ReadWLow(c, i, kBytes, src));
  sse::SetXmm(c, i.reg, Op(src));
  return kOk;
}

// Carry-less multiply of two quadwords (SDM Vol. 2 PCLMULQDQ).
void ClMul64(uint64_t a, uint64_t b, uint64_t& lo, uint64_t& hi) {
  lo = 0;
  hi = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if ((b >> bit) & 1) {
      lo ^= a << bit;
      if (bit != 0) hi ^= a >> (64 - bit);
    }
  }
}

}  // namespace

#define X86VM_SSE_DEFINE_MMX_XMM(op)                                                    \
  Fault op##PqQq(Cpu& c, const Insn& i) { return MmxBinary<simd::op>(c, i); }           \
  Fault op##VxWx(Cpu& c, const Insn& i) { return XmmBinary<simd::op>(c, i); }
#define X86VM_SSE_DEFINE_MMX_XMM_LOW(op)                                                \
  Fault op##PqQd(Cpu& c, const Insn& i) { return MmxBinaryLow<simd::op>(c, i); }        \
  Fault op##VxWx(Cpu& c, const Insn& i) { return XmmBinary<simd::op>(c, i); }
#define X86VM_SSE_DEFINE_XMM(op) \
  Fault op##VxWx(Cpu& c, const Insn& i) { return XmmBinary<simd::op>(c, i); }
#define X86VM_SSE_DEFINE_UNARY(op)                                                      \
  Fault op##PqQq(Cpu& c, const Insn& i) { return MmxUnary<simd::op>(c, i); }            \
  Fault op##VxWx(Cpu& c, const Insn& i) { return XmmUnary<simd::op>(c, i); }
#define X86VM_SSE_DEFINE_SHIFT(op)                                                      \
  Fault op##PqQq(Cpu& c, const Insn& i) { return MmxShift<simd::op>(c, i); }            \
  Fault op##VxWx(Cpu& c, const Insn& i) { return XmmShift<simd::op>(c, i); }            \
  Fault op##NqIb(Cpu& c, const Insn& i) { return MmxShiftImm<simd::op>(c, i); }         \
  Fault op##UxIb(Cpu& c, const Insn& i) { return XmmShiftImm<simd::op>(c, i); }
#define X86VM_SSE_DEFINE_PMOVX(op, bytes) \
  Fault op##VxWx(Cpu& c, const Insn& i) { return XmmExtend<simd::op, bytes>(c, i); }

X86VM_SSE_INT_MMX_XMM(X86VM_SSE_DEFINE_MMX_XMM)
X86VM_SSE_INT_MMX_XMM_LOW(X86VM_SSE_DEFINE_MMX_XMM_LOW)
X86VM_SSE_INT_XMM(X86VM_SSE_DEFINE_XMM)
X86VM_SSE_INT_UNARY(X86VM_SSE_DEFINE_UNARY)
X86VM_SSE_SHIFTS(X86VM_SSE_DEFINE_SHIFT)
X86VM_SSE_PMOVX(X86VM_SSE_DEFINE_PMOVX)

// PSRLDQ/PSLLDQ xmm, imm8 (group 14, 66 only).
Fault PsrldqUxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  sse::SetXmm(c, i.rm, simd::Psrldq(sse::GetXmm(c, i.rm), static_cast<uint8_t>(i.imm)));
  return kOk;
}

Fault PslldqUxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  sse::SetXmm(c, i.rm, simd::Pslldq(sse::GetXmm(c, i.rm), static_cast<uint8_t>(i.imm)));
  return kOk;
}

Fault PhminposuwVxWx(Cpu& c, const Insn& i) { return XmmUnary<simd::Phminposuw>(c, i); }

// PTEST: ZF and CF from the operands, AF OF PF SF cleared.
Fault PtestVxWx(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::ApplyFlags(c, simd::Ptest(sse::GetXmm(c, i.reg), src));
  return kOk;
}

Fault MpsadbwVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  sse::SetXmm(c, i.reg, simd::Mpsadbw(sse::GetXmm(c, i.reg), src, static_cast<uint8_t>(i.imm)));
  return kOk;
}

// PCLMULQDQ: imm8 bit 0 picks the destination's quadword, bit 4 the source's.
Fault PclmulqdqVxWxIb(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  V128 src;
  X86_TRY(sse::ReadW(c, i, src));
  V128 dst = sse::GetXmm(c, i.reg);
  uint64_t lo, hi;
  ClMul64(dst.u64(i.imm & 1), src.u64((i.imm >> 4) & 1), lo, hi);
  sse::SetXmm(c, i.reg, V128::FromU64(lo, hi));
  return kOk;
}

// EMMS: every x87 tag empty (SDM Vol. 2 EMMS); no transition to MMX state.
Fault EmmsHandler(Cpu& c, const Insn&) {
  X86_TRY(sse::CheckMmx(c));
  c.s.x87.ftw = 0xffff;
  return kOk;
}

}  // namespace x86vm
