// Shared machinery of the MMX/SSE handlers (exec_sse_*.cc): the CR0/CR4
// checks, the XMM and MMX register files, 64/128-bit memory operands with the
// legacy-SSE alignment rule, and MXCSR exception reporting. Internal to cpu/.
#ifndef X86VM_CPU_EXEC_SSE_H_
#define X86VM_CPU_EXEC_SSE_H_

#include <cstdint>

#include "cpu/exec_common.h"
#include "cpu/simd/simd.h"
#include "cpu/softfloat/fp_env.h"
#include "cpu/x87.h"

namespace x86vm::sse {

// The 128-bit value type of cpu/simd (CpuState keeps two quadwords).
using V128 = simd::Xmm;

// ---- Checks ----------------------------------------------------------------

// An unmasked x87 exception is pending: #MF before an MMX instruction, as
// before a waiting x87 one (with CR0.NE clear the error would go out on
// FERR#, which is not wired: the instruction proceeds, as in X87Check).
inline Fault CheckPendingX87(const Cpu& c) {
  return ((c.s.x87.fsw & x87::sw::kEs) && (c.s.cr0 & cr0::kNe)) ? Raise(kMf) : kOk;
}

// The checks of an instruction on MMX registers (SDM Vol. 3 Table 12-1;
// Vol. 2 "Exception Conditions for Legacy SIMD/MMX Instructions"): #UD with
// CR0.EM, #NM with CR0.TS, #MF when an x87 exception is pending.
inline Fault CheckMmx(const Cpu& c) {
  if (c.s.cr0 & cr0::kEm) return Raise(kUd);
  if (c.s.cr0 & cr0::kTs) return Raise(kNm);
  return CheckPendingX87(c);
}

// The x87-to-MMX transition every MMX instruction but EMMS makes (SDM Vol. 1
// 9.5.1): TOP = 0 and every tag valid.
inline void EnterMmxState(Cpu& c) {
  c.s.x87.fsw = static_cast<uint16_t>(c.s.x87.fsw & ~x87::sw::kTop);
  c.s.x87.ftw = 0;
}

// CheckMmx, then the transition.
inline Fault PrepareMmx(Cpu& c) {
  X86_TRY(CheckMmx(c));
  EnterMmxState(c);
  return kOk;
}

// An SSE instruction that also names an MMX register (CVTPI2PS, MOVQ2DQ...):
// the SSE checks, a pending x87 exception, then the transition.
inline Fault PrepareSseMmx(Cpu& c) {
  X86_TRY(CheckSse(c));
  X86_TRY(CheckPendingX87(c));
  EnterMmxState(c);
  return kOk;
}

// ---- Registers ---------------------------------------------------------------

// XMM register r (0-15) as a cpu/simd value.
inline V128 GetXmm(const Cpu& c, int r) {
  return V128::FromU64(c.s.xmm[r].lo, c.s.xmm[r].hi);
}
inline void SetXmm(Cpu& c, int r, const V128& v) {
  c.s.xmm[r].lo = v.u64(0);
  c.s.xmm[r].hi = v.u64(1);
}

// MMX register r (ModRM field without REX: 0-7) is the significand of
// physical x87 register r (SDM Vol. 1 9.2.1).
inline uint64_t GetMm(const Cpu& c, int r) {
  const X87Register& st = c.s.x87.st[r & 7];
  uint64_t v = 0;
  for (int b = 7; b >= 0; --b) v = (v << 8) | st[b];
  return v;
}
// A write also sets the sign and exponent bits to all ones (SDM Vol. 1 9.5.1).
inline void SetMm(Cpu& c, int r, uint64_t v) {
  X87Register& st = c.s.x87.st[r & 7];
  for (int b = 0; b < 8; ++b) st[b] = static_cast<uint8_t>(v >> (8 * b));
  st[8] = 0xff;
  st[9] = 0xff;
}

// Merges a cpu/simd flag result into RFLAGS.
inline void ApplyFlags(Cpu& c, const simd::FlagUpdate& f) {
  c.s.rflags = (c.s.rflags & ~uint64_t{f.written}) | f.values;
}

// ---- Memory operands ----------------------------------------------------------

// Whether a 16-byte memory operand must be 16-byte aligned: true for the
// legacy SSE forms, false for MOVUPS/MOVDQU/LDDQU/PCMPxSTRx (SDM Vol. 1
// 11.6.7).
enum class Align : uint8_t { kNone, k16 };

// The linear address of the memory operand (the alignment check is on it).
inline uint64_t LinearOf(const Cpu& c, const Insn& i) {
  uint64_t base = c.s.seg[i.seg].base;
  if (c.is64() && i.seg != kFs && i.seg != kGs) base = 0;
  return base + c.Ea(i);
}

// #GP(0) for a misaligned 16-byte operand of an aligned form, whatever the
// segment (SDM Vol. 2 MOVAPS "Protected Mode Exceptions").
inline Fault CheckAligned16(const Cpu& c, const Insn& i) {
  return (LinearOf(c, i) & 15) ? Raise(kGp, 0) : kOk;
}

// Reads the 16-byte memory operand.
inline Fault ReadM128(Cpu& c, const Insn& i, V128& v, Align align) {
  if (align == Align::k16) X86_TRY(CheckAligned16(c, i));
  uint8_t buf[16];
  X86_TRY(c.ReadBytes(i.seg, c.Ea(i), buf, 16));
  for (int b = 0; b < 16; ++b) v.bytes[b] = buf[b];
  return kOk;
}

// Writes the 16-byte memory operand.
inline Fault WriteM128(Cpu& c, const Insn& i, const V128& v, Align align) {
  if (align == Align::k16) X86_TRY(CheckAligned16(c, i));
  return c.WriteBytes(i.seg, c.Ea(i), v.bytes, 16);
}

// The W operand: XMM register rm, or 16 bytes of memory.
inline Fault ReadW(Cpu& c, const Insn& i, V128& v, Align align = Align::k16) {
  if (i.mod == 3) {
    v = GetXmm(c, i.rm);
    return kOk;
  }
  return ReadM128(c, i, v, align);
}

// The low `bytes` (2, 4 or 8) of the W operand, zero-extended: the low lane of
// XMM register rm, or a memory read of exactly that size (the scalar and
// half-register forms: ADDSS m32, CVTPS2PD m64, PMOVSXBQ m16).
inline Fault ReadWLow(Cpu& c, const Insn& i, unsigned bytes, uint64_t& v) {
  if (i.mod == 3) {
    v = c.s.xmm[i.rm].lo;
    if (bytes < 8) v &= (uint64_t{1} << (8 * bytes)) - 1;
    return kOk;
  }
  v = 0;
  return c.ReadBytes(i.seg, c.Ea(i), &v, bytes);
}

// The Q operand: MMX register rm, or 8 bytes of memory.
inline Fault ReadQ(Cpu& c, const Insn& i, uint64_t& v) {
  if (i.mod == 3) {
    v = GetMm(c, i.rm);
    return kOk;
  }
  return c.Read<uint64_t>(i.seg, c.Ea(i), v);
}

// ---- SIMD floating-point exceptions --------------------------------------------

// The flags raised by the element operations of one instruction. Each element
// runs in its own copy of the environment so the pre-computation exceptions
// (IE, DE, ZE) can be told apart across elements (SDM Vol. 1 11.5.2.1).
class FpFlags {
 public:
  explicit FpFlags(const Cpu& c) : base_(softfloat::SseEnv(c.s.mxcsr)) { base_.flags = 0; }

  // A fresh environment for one element operation.
  softfloat::FpEnv Env() const { return base_; }
  // Records what an element operation raised.
  void Add(const softfloat::FpEnv& env) { stage_ |= env.flags; }

  // Ends one stage of an instruction that computes in steps (DPPS: the
  // products, then the sums), deciding as Commit does; a fault reports the
  // flags of the earlier stages too (measured on Intel hardware).
  Fault EndStage(Cpu& c) {
    constexpr uint8_t kPre =
        softfloat::kFlagInvalid | softfloat::kFlagDenormal | softfloat::kFlagDivideByZero;
    uint8_t pre = stage_ & kPre;
    uint8_t report = (pre & Unmasked()) ? pre : stage_;
    if (report & Unmasked()) {
      c.s.mxcsr |= done_ | report;
      return Raise((c.s.cr4 & cr4::kOsxmmexcpt) ? kXm : kUd);
    }
    done_ |= stage_;
    stage_ = 0;
    return kOk;
  }

  // Updates MXCSR and decides the outcome (SDM Vol. 1 11.5.2.2): an
  // unmasked pre-computation exception reports only the pre-computation
  // flags; otherwise every flag is recorded. Any unmasked exception is #XM
  // (CR4.OSXMMEXCPT = 1) or #UD, and the caller then writes nothing.
  Fault Commit(Cpu& c) {
    X86_TRY(EndStage(c));
    c.s.mxcsr |= done_;
    return kOk;
  }

 private:
  uint8_t Unmasked() const {
    return static_cast<uint8_t>(~base_.masks & softfloat::kAllExceptions);
  }

  softfloat::FpEnv base_;
  uint8_t done_ = 0;   // Flags of the completed stages.
  uint8_t stage_ = 0;  // Flags of the current stage.
};

}  // namespace x86vm::sse

#endif  // X86VM_CPU_EXEC_SSE_H_
