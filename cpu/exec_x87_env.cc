// Saving and restoring the FPU state: FLDENV, FNSTENV, FRSTOR, FNSAVE in
// their 16/32-bit real and protected-mode layouts (SDM Vol. 1 8.1.10), and
// FXSAVE/FXRSTOR with LDMXCSR/STMXCSR (SDM Vol. 2 FXSAVE, FXRSTOR, LDMXCSR).
// The images are built in x87.cc; this file adds the checks and memory.
#include <array>

#include "cpu/x87_exec.h"

namespace x86vm {
namespace {

// The image layout: the operand size picks 14 or 28 bytes, real and
// virtual-8086 mode the real-mode layout.
x87::EnvFormat FormatOf(const Cpu& c, const Insn& i) {
  return {.bits32 = i.opsize != 2, .protected_mode = c.s.protected_mode() && !c.s.v86_mode()};
}

// The linear address of the memory operand, for the 16-byte alignment rule
// of FXSAVE/FXRSTOR (segment bases other than FS/GS are 0 in 64-bit mode).
uint64_t LinearOf(const Cpu& c, const Insn& i) {
  bool flat = c.is64() && i.seg != kFs && i.seg != kGs;
  return (flat ? 0 : c.s.seg[i.seg].base) + c.Ea(i);
}

}  // namespace

// FLDENV: a waiting control instruction; FIP and FOP come from the image.
Fault FldenvM(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  x87::EnvFormat f = FormatOf(c, i);
  std::array<uint8_t, 28> image{};
  X86_TRY(c.ReadBytes(i.seg, c.Ea(i), image.data(), f.size()));
  x87::LoadEnvironment(c.s.x87, f, image);
  return kOk;
}

// FNSTENV: stores the environment, then masks every exception (SDM Vol. 2
// FSTENV), which also clears ES and B.
Fault FnstenvM(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, false));
  x87::EnvFormat f = FormatOf(c, i);
  X87State s = c.s.x87;
  x87::NormalizeTags(s);
  std::array<uint8_t, 28> image{};
  x87::StoreEnvironment(s, f, image);
  X86_TRY(c.WriteBytes(i.seg, c.Ea(i), image.data(), f.size()));
  s.fcw |= x87::sw::kExceptions;
  s.fsw = x87::SummarizedStatusWord(s.fsw, s.fcw);
  c.s.x87 = s;
  return kOk;
}

// FRSTOR: the environment and the eight registers in stack order.
Fault FrstorM(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, true));
  x87::EnvFormat f = FormatOf(c, i);
  std::array<uint8_t, 108> image{};
  X86_TRY(c.ReadBytes(i.seg, c.Ea(i), image.data(), x87::SaveImageSize(f)));
  x87::LoadSaveImage(c.s.x87, f, image);
  return kOk;
}

// FNSAVE: stores everything, then reinitialises the FPU like FNINIT.
Fault FnsaveM(Cpu& c, const Insn& i) {
  X86_TRY(X87Check(c, false));
  x87::EnvFormat f = FormatOf(c, i);
  X87State s = c.s.x87;
  x87::NormalizeTags(s);
  std::array<uint8_t, 108> image{};
  x87::StoreSaveImage(s, f, image);
  X86_TRY(c.WriteBytes(i.seg, c.Ea(i), image.data(), x87::SaveImageSize(f)));
  x87::Initialize(s);
  c.s.x87 = s;
  return kOk;
}

// FXSAVE/FXSAVE64: #NM for CR0.EM or CR0.TS, #GP(0) unless 16-byte aligned;
// no pending-exception check (SDM Vol. 2 FXSAVE). XMM8-15 only in 64-bit
// mode. MXCSR and the XMM registers are saved whatever CR4.OSFXSR says (the
// SDM leaves that implementation-dependent).
Fault Fxsave(Cpu& c, const Insn& i) {
  X86_TRY(CheckX87(c));
  if (LinearOf(c, i) & 15) return Raise(kGp, 0);
  int xmm_count = c.is64() ? 16 : 8;
  std::array<uint8_t, x87::kFxsaveSize> image{};
  x87::StoreFxsaveImage(c.s, i.has(insn_flags::kRexW), xmm_count, image);
  return c.WriteBytes(i.seg, c.Ea(i), image.data(), x87::FxsaveStoredBytes(xmm_count));
}

// FXRSTOR/FXRSTOR64: as FXSAVE, plus #GP(0) for reserved MXCSR bits.
Fault Fxrstor(Cpu& c, const Insn& i) {
  X86_TRY(CheckX87(c));
  if (LinearOf(c, i) & 15) return Raise(kGp, 0);
  int xmm_count = c.is64() ? 16 : 8;
  std::array<uint8_t, x87::kFxsaveSize> image{};
  X86_TRY(c.ReadBytes(i.seg, c.Ea(i), image.data(), x87::FxsaveStoredBytes(xmm_count)));
  uint32_t mxcsr = static_cast<uint32_t>(image[24]) | (static_cast<uint32_t>(image[25]) << 8) |
                   (static_cast<uint32_t>(image[26]) << 16) |
                   (static_cast<uint32_t>(image[27]) << 24);
  if (mxcsr & ~x87::kMxcsrMask) return Raise(kGp, 0);
  x87::LoadFxsaveImage(c.s, i.has(insn_flags::kRexW), xmm_count, image);
  return kOk;
}

// LDMXCSR: #GP(0) for reserved bits (SDM Vol. 2 LDMXCSR).
Fault LdmxcsrMd(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  uint32_t v;
  X86_TRY(c.Read<uint32_t>(i.seg, c.Ea(i), v));
  if (v & ~x87::kMxcsrMask) return Raise(kGp, 0);
  c.s.mxcsr = v;
  return kOk;
}

Fault StmxcsrMd(Cpu& c, const Insn& i) {
  X86_TRY(CheckSse(c));
  return c.Write<uint32_t>(i.seg, c.Ea(i), c.s.mxcsr);
}

}  // namespace x86vm
