// Specialized forms of the hottest SSE2/SSSE3 integer instructions (what
// the kernel's SSSE3 BLAKE2s and memcpy-like code run): XMM register
// operands, plus MOVD xmm, m32 in 64-bit mode. They compute exactly what
// the generic handlers in exec_sse_*.cc compute (which go through
// sse::ReadW and an out-of-line cpu/simd function for every instruction),
// on the two quadwords of CpuState's registers directly. When CheckSse's
// conditions do not hold (CR0.EM or CR0.TS set, CR4.OSFXSR clear: SDM Vol.
// 3 13.1), or the memory operand misses the TLB fast path, the generic
// handler runs and raises the fault. exec_fast_test.cc runs each one
// against its generic handler.
#include <cstring>
#include <functional>
#include <iterator>
#include <utility>
#include <vector>

#include "cpu/exec_common.h"
#include "cpu/exec_fast.h"
#include "cpu/exec_fast_mem.h"

namespace x86vm {
namespace {

// No #UD or #NM is due: CheckSse would return kOk.
X86VM_HOT_INLINE bool SseUsable(const Cpu& c) {
  return !(c.s.cr0 & (cr0::kEm | cr0::kTs)) && (c.s.cr4 & cr4::kOsfxsr);
}

// The two 32-bit lanes of a quadword through `op`.
template <typename Op>
X86VM_HOT_INLINE uint64_t Dwords(uint64_t a, uint64_t b, Op op) {
  uint64_t lo = static_cast<uint32_t>(op(static_cast<uint32_t>(a), static_cast<uint32_t>(b)));
  uint64_t hi = static_cast<uint32_t>(op(static_cast<uint32_t>(a >> 32), static_cast<uint32_t>(b >> 32)));
  return lo | (hi << 32);
}

// ---- Two-operand lane operations: dest = op(dest, src) -----------------------

X86VM_HOT_INLINE Xmm Paddd(const Xmm& a, const Xmm& b) {
  return {Dwords(a.lo, b.lo, std::plus<uint32_t>()), Dwords(a.hi, b.hi, std::plus<uint32_t>())};
}
X86VM_HOT_INLINE Xmm Psubd(const Xmm& a, const Xmm& b) {
  return {Dwords(a.lo, b.lo, std::minus<uint32_t>()), Dwords(a.hi, b.hi, std::minus<uint32_t>())};
}
X86VM_HOT_INLINE Xmm Paddq(const Xmm& a, const Xmm& b) { return {a.lo + b.lo, a.hi + b.hi}; }
X86VM_HOT_INLINE Xmm Psubq(const Xmm& a, const Xmm& b) { return {a.lo - b.lo, a.hi - b.hi}; }
X86VM_HOT_INLINE Xmm Pxor(const Xmm& a, const Xmm& b) { return {a.lo ^ b.lo, a.hi ^ b.hi}; }
X86VM_HOT_INLINE Xmm Por(const Xmm& a, const Xmm& b) { return {a.lo | b.lo, a.hi | b.hi}; }
X86VM_HOT_INLINE Xmm Pand(const Xmm& a, const Xmm& b) { return {a.lo & b.lo, a.hi & b.hi}; }
X86VM_HOT_INLINE Xmm Pandn(const Xmm& a, const Xmm& b) { return {~a.lo & b.lo, ~a.hi & b.hi}; }
// Interleaves: dwords a0 b0 a1 b1 (low halves) and a2 b2 a3 b3 (high).
X86VM_HOT_INLINE Xmm Punpckldq(const Xmm& a, const Xmm& b) {
  return {(a.lo & 0xffffffffull) | (b.lo << 32), (a.lo >> 32) | (b.lo & ~0xffffffffull)};
}
X86VM_HOT_INLINE Xmm Punpckhdq(const Xmm& a, const Xmm& b) {
  return {(a.hi & 0xffffffffull) | (b.hi << 32), (a.hi >> 32) | (b.hi & ~0xffffffffull)};
}
X86VM_HOT_INLINE Xmm Punpcklqdq(const Xmm& a, const Xmm& b) { return {a.lo, b.lo}; }
X86VM_HOT_INLINE Xmm Punpckhqdq(const Xmm& a, const Xmm& b) { return {a.hi, b.hi}; }
// PSHUFB: byte j of the result is byte (b_j & 15) of a, or 0 when b_j's
// bit 7 is set (SDM Vol. 2 "PSHUFB").
X86VM_HOT_INLINE Xmm Pshufb(const Xmm& a, const Xmm& b) {
  uint64_t out[2] = {0, 0};
  for (int j = 0; j < 16; ++j) {
    uint8_t sel = static_cast<uint8_t>((j < 8 ? b.lo : b.hi) >> (8 * (j & 7)));
    if (sel & 0x80) continue;
    uint64_t src = (sel & 8) ? a.hi : a.lo;
    out[j >> 3] |= ((src >> (8 * (sel & 7))) & 0xff) << (8 * (j & 7));
  }
  return {out[0], out[1]};
}

template <Xmm (*op)(const Xmm&, const Xmm&), Handler generic>
Fault XmmRegReg(Cpu& c, const Insn& i) {
  if (!SseUsable(c)) [[unlikely]] return Generic<generic>(c, i);
  c.s.xmm[i.reg] = op(c.s.xmm[i.reg], c.s.xmm[i.rm]);
  return kOk;
}

// MOVDQA/MOVDQU/MOVAPS/MOVUPS xmm, xmm.
template <Handler generic>
Fault MovXmmReg(Cpu& c, const Insn& i) {
  if (!SseUsable(c)) [[unlikely]] return Generic<generic>(c, i);
  c.s.xmm[i.reg] = c.s.xmm[i.rm];
  return kOk;
}

// PSHUFD xmm, xmm, imm8: dword j is source dword (imm >> 2j) & 3.
Fault PshufdReg(Cpu& c, const Insn& i) {
  if (!SseUsable(c)) [[unlikely]] return Generic<PshufdVxWxIb>(c, i);
  const Xmm src = c.s.xmm[i.rm];
  auto dword = [&](int j) -> uint64_t {
    unsigned k = (static_cast<unsigned>(i.imm) >> (2 * j)) & 3;
    return static_cast<uint32_t>((k < 2 ? src.lo : src.hi) >> (32 * (k & 1)));
  };
  c.s.xmm[i.reg] = Xmm{dword(0) | (dword(1) << 32), dword(2) | (dword(3) << 32)};
  return kOk;
}

// Group 13/14 shifts of 32- or 64-bit lanes by an immediate (Ux,Ib: the
// register is ModRM.rm). A count past the lane width clears the lane (SDM
// Vol. 2 "PSRLW/PSRLD/PSRLQ").
template <int kLaneBits, bool left, Handler generic>
Fault ShiftLanesImm(Cpu& c, const Insn& i) {
  if (!SseUsable(c)) [[unlikely]] return Generic<generic>(c, i);
  const unsigned n = static_cast<uint8_t>(i.imm);
  Xmm& x = c.s.xmm[i.rm];
  if (n >= kLaneBits) {
    x = Xmm{};
    return kOk;
  }
  auto lanes = [n](uint64_t q) -> uint64_t {
    if constexpr (kLaneBits == 64) {
      return left ? q << n : q >> n;
    } else {
      return Dwords(q, 0, [n](uint32_t v, uint32_t) { return left ? v << n : v >> n; });
    }
  };
  x = Xmm{lanes(x.lo), lanes(x.hi)};
  return kOk;
}

// MOVD xmm, r32 and MOVD xmm, m32: zero-extended into the whole register.
Fault MovdXmmReg32(Cpu& c, const Insn& i) {
  if (!SseUsable(c)) [[unlikely]] return Generic<MovdVyEy32>(c, i);
  c.s.xmm[i.reg] = Xmm{static_cast<uint32_t>(c.s.gpr[i.rm]), 0};
  return kOk;
}

template <Ea kind>
Fault MovdXmmMem32(Cpu& c, const Insn& i) {
  const uint8_t* p = Host64(c, Linear64<kind>(c, i), 4, Access::kRead);
  if (p == nullptr || !SseUsable(c)) [[unlikely]] return Generic<MovdVyEy32>(c, i);
  uint32_t v;
  std::memcpy(&v, p, 4);
  c.s.xmm[i.reg] = Xmm{v, 0};
  return kOk;
}

// Every form, with the generic handler it replaces (for PickSse and IsSseForm).
struct SseForm {
  Handler generic;
  Handler fast;
};
#define X86_SSE_BINARY(Op) {Op##VxWx, XmmRegReg<Op, Op##VxWx>}
const SseForm kRegForms[] = {
    X86_SSE_BINARY(Paddd), X86_SSE_BINARY(Psubd), X86_SSE_BINARY(Paddq), X86_SSE_BINARY(Psubq),
    X86_SSE_BINARY(Pxor), X86_SSE_BINARY(Por), X86_SSE_BINARY(Pand), X86_SSE_BINARY(Pandn),
    X86_SSE_BINARY(Punpckldq), X86_SSE_BINARY(Punpckhdq), X86_SSE_BINARY(Punpcklqdq),
    X86_SSE_BINARY(Punpckhqdq), X86_SSE_BINARY(Pshufb),
    {MovapsVxWx, MovXmmReg<MovapsVxWx>}, {MovupsVxWx, MovXmmReg<MovupsVxWx>},
    {PshufdVxWxIb, PshufdReg},
    {PsrldUxIb, ShiftLanesImm<32, false, PsrldUxIb>}, {PslldUxIb, ShiftLanesImm<32, true, PslldUxIb>},
    {PsrlqUxIb, ShiftLanesImm<64, false, PsrlqUxIb>}, {PsllqUxIb, ShiftLanesImm<64, true, PsllqUxIb>},
    {MovdVyEy32, MovdXmmReg32}};
#undef X86_SSE_BINARY
const Handler kMemForms[] = {MovdXmmMem32<Ea::kBase>, MovdXmmMem32<Ea::kBaseIndex>};

}  // namespace

Handler PickSse(const Insn& i, CodeMode mode) {
  // LOCK makes them #UD: generic. XORPS/ANDPS/ORPS share the PXOR/PAND/POR
  // handlers (same bits), as MOVAPS and MOVDQA do.
  if (i.has(insn_flags::kLock)) return nullptr;
  if (i.is_mem()) {
    if (i.handler != MovdVyEy32 || mode != CodeMode::k64 || i.addrsize != 8 || i.base == kNoReg ||
        i.has(insn_flags::kRipRelative)) {
      return nullptr;
    }
    return i.index == kNoReg ? kMemForms[0] : kMemForms[1];
  }
  for (const SseForm& f : kRegForms) {
    if (f.generic == i.handler) return f.fast;
  }
  return nullptr;
}

bool IsSseForm(Handler h) {
  static const SortedHandlers forms = [] {
    std::vector<Handler> v(std::begin(kMemForms), std::end(kMemForms));
    for (const SseForm& f : kRegForms) v.push_back(f.fast);
    return SortedHandlers(std::move(v));
  }();
  return forms.Contains(h);
}

}  // namespace x86vm
