// SSE4.2 packed string compares and CRC32 (SDM Vol. 2 PCMPESTRI, PCMPESTRM,
// PCMPISTRI, PCMPISTRM, CRC32). The comparisons are cpu/simd's; this file
// reads the operands (unaligned m128 is allowed, SDM Vol. 1 12.10.1) and
// writes ECX or XMM0 and EFLAGS.
#include "cpu/exec_sse.h"

namespace x86vm {
namespace {

using sse::V128;

// The explicit lengths: EAX/EDX, or RAX/RDX with REX.W (SDM Vol. 2
// PCMPESTRI "64-bit mode").
void Lengths(const Cpu& c, const Insn& i, int64_t& la, int64_t& lb) {
  if (i.has(insn_flags::kRexW)) {
    la = static_cast<int64_t>(c.s.gpr[kRax]);
    lb = static_cast<int64_t>(c.s.gpr[kRdx]);
  } else {
    la = static_cast<int32_t>(c.s.gpr[kRax]);
    lb = static_cast<int32_t>(c.s.gpr[kRdx]);
  }
}

Fault ReadOperands(Cpu& c, const Insn& i, V128& a, V128& b) {
  X86_TRY(CheckSse(c));
  X86_TRY(sse::ReadW(c, i, b, sse::Align::kNone));
  a = sse::GetXmm(c, i.reg);
  return kOk;
}

// The index goes to ECX (RCX with REX.W: zero-extended either way).
void WriteIndex(Cpu& c, const simd::StringIndexResult& r) {
  c.s.gpr[kRcx] = r.index;
  sse::ApplyFlags(c, r.flags);
}

void WriteMask(Cpu& c, const simd::StringMaskResult& r) {
  sse::SetXmm(c, 0, r.mask);
  sse::ApplyFlags(c, r.flags);
}

template <typename T>
Fault Crc32(Cpu& c, const Insn& i) {
  T v;
  X86_TRY(c.ReadE<T>(i, v));
  uint32_t crc = static_cast<uint32_t>(c.s.gpr[i.reg]);
  if constexpr (sizeof(T) == 1) crc = simd::Crc32Byte(crc, v);
  else if constexpr (sizeof(T) == 2) crc = simd::Crc32Word(crc, v);
  else if constexpr (sizeof(T) == 4) crc = simd::Crc32Dword(crc, v);
  else crc = simd::Crc32Qword(crc, v);
  // The 32-bit result is zero-extended into r64 (SDM Vol. 2 CRC32).
  c.s.gpr[i.reg] = crc;
  return kOk;
}

}  // namespace

Fault PcmpestrmVxWxIb(Cpu& c, const Insn& i) {
  V128 a, b;
  X86_TRY(ReadOperands(c, i, a, b));
  int64_t la, lb;
  Lengths(c, i, la, lb);
  WriteMask(c, simd::Pcmpestrm(a, la, b, lb, static_cast<uint8_t>(i.imm)));
  return kOk;
}

Fault PcmpestriVxWxIb(Cpu& c, const Insn& i) {
  V128 a, b;
  X86_TRY(ReadOperands(c, i, a, b));
  int64_t la, lb;
  Lengths(c, i, la, lb);
  WriteIndex(c, simd::Pcmpestri(a, la, b, lb, static_cast<uint8_t>(i.imm)));
  return kOk;
}

Fault PcmpistrmVxWxIb(Cpu& c, const Insn& i) {
  V128 a, b;
  X86_TRY(ReadOperands(c, i, a, b));
  WriteMask(c, simd::Pcmpistrm(a, b, static_cast<uint8_t>(i.imm)));
  return kOk;
}

Fault PcmpistriVxWxIb(Cpu& c, const Insn& i) {
  V128 a, b;
  X86_TRY(ReadOperands(c, i, a, b));
  WriteIndex(c, simd::Pcmpistri(a, b, static_cast<uint8_t>(i.imm)));
  return kOk;
}

// CRC32 r32/r64, r/m8: the byte register follows the REX rules (SPL..DIL
// with REX, AH..BH without).
Fault Crc32GdEb(Cpu& c, const Insn& i) { return Crc32<uint8_t>(c, i); }
Fault Crc32GdEy16(Cpu& c, const Insn& i) { return Crc32<uint16_t>(c, i); }
Fault Crc32GdEy32(Cpu& c, const Insn& i) { return Crc32<uint32_t>(c, i); }
Fault Crc32GdEy64(Cpu& c, const Insn& i) { return Crc32<uint64_t>(c, i); }

}  // namespace x86vm
