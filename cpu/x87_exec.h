// The frame every x87 handler runs in (exec_x87.cc, exec_x87_env.cc): the
// device-not-available and pending-exception checks, the last-instruction
// pointers, and the exception bookkeeping with masked responses
// (SDM Vol. 1 8.5, 8.6; Vol. 3 Table 2-2).
#ifndef X86VM_CPU_X87_EXEC_H_
#define X86VM_CPU_X87_EXEC_H_

#include <cstdint>

#include "cpu/exec_common.h"
#include "cpu/softfloat/fp_env.h"
#include "cpu/x87.h"

namespace x86vm {

// #NM when CR0.EM or CR0.TS is set; then, for a waiting instruction (every
// one but FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE), #MF when an
// unmasked exception is pending and CR0.NE is set (SDM Vol. 1 8.7). With
// CR0.NE clear a PC reports the error through FERR# and IRQ 13; that line is
// not wired here, so the instruction simply proceeds.
Fault X87Check(const Cpu& c, bool waiting);

// One x87 instruction in progress. It works on a copy of the FPU state that
// Commit() installs, so a fault on a later memory write leaves the FPU as it
// was (every x87 fault is restartable).
class X87Op {
 public:
  X87Op(Cpu& c, const Insn& i) : c_(c), i_(i), s_(c.s.x87), st_(s_) {}
  X87Op(const X87Op&) = delete;
  X87Op& operator=(const X87Op&) = delete;

  X87State& state() { return s_; }
  x87::Stack& st() { return st_; }
  Cpu& cpu() { return c_; }
  const Insn& insn() const { return i_; }
  // A softfloat environment from FCW.
  softfloat::FpEnv Env() const { return softfloat::X87Env(s_.fcw); }

  // Records FCS:FIP and, for a memory operand, FDS:FDP: what a non-control
  // instruction leaves for an exception handler (SDM Vol. 1 8.1.8). FOP is
  // recorded too in the fopcode compatibility mode (IA32_MISC_ENABLE bit 2);
  // by default only an unmasked exception records it (SDM Vol. 1 8.1.9.1).
  void NoteInstruction();
  void ClearC1() { s_.fsw &= static_cast<uint16_t>(~x87::sw::kC1); }
  void SetC1(bool v) {
    ClearC1();
    if (v) s_.fsw |= x87::sw::kC1;
  }
  void SetC2(bool v) {
    s_.fsw &= static_cast<uint16_t>(~x87::sw::kC2);
    if (v) s_.fsw |= x87::sw::kC2;
  }
  // Replaces C3, C2, C1, C0.
  void SetConditionCodes(bool c3, bool c2, bool c1, bool c0) {
    s_.fsw = x87::SetConditionCodes(s_.fsw, c3, c2, c1, c0);
  }

  // Stack overflow (a push onto a full register) or underflow (an empty
  // operand): IE and SF, C1 = 1 for overflow and 0 for underflow (SDM Vol. 1
  // 8.5.1.1). Returns true when IE is masked: the caller then applies the
  // masked response.
  bool StackFault(bool overflow);
  // Underflow whose masked response writes the indefinite QNaN to ST(dst)
  // and pops if the instruction pops.
  void Underflow(int dst, bool pop);
  // True (after the fault bookkeeping and masked response) when a push would
  // overflow: ST(-1) is not empty.
  bool PushOverflows();

  // Folds the exception flags of one softfloat operation into FSW, sets C1
  // from the rounding direction, and returns whether the destination may be
  // written (SDM Vol. 1 4.9.2, 8.5): not with an unmasked IE, ZE or DE, nor,
  // for a memory destination (`store`), with an unmasked OE or UE, which then
  // also drops PE and clears C1.
  bool Deliver(const softfloat::FpEnv& env, bool store = false);

  // Installs the new FPU state.
  void Commit() { c_.s.x87 = s_; }

 private:
  // An unmasked exception: ES and B, and FOP names this instruction.
  void SignalUnmasked() {
    s_.fsw |= x87::sw::kEs | x87::sw::kB;
    s_.fop = fop_;
  }

  Cpu& c_;
  const Insn& i_;
  X87State s_;
  x87::Stack st_;
  uint16_t fop_ = 0;  // This instruction's opcode in FOP form.
};

// The ST(i) operand of a register form (ModRM.rm; REX.B does not apply).
inline int StIndex(const Insn& i) { return i.modrm & 7; }

}  // namespace x86vm

#endif  // X86VM_CPU_X87_EXEC_H_
