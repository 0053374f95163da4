// CpuState <-> KVM's state structures (linux/kvm.h). Pure conversions with
// no ioctls, so they are testable on any x86-64 Linux host, /dev/kvm or not.
#ifndef X86VM_ACCEL_KVM_KVM_STATE_H_
#define X86VM_ACCEL_KVM_KVM_STATE_H_

#include <linux/kvm.h>

#include <array>
#include <cstdint>

#include "cpu/cpu_state.h"

namespace x86vm {

// One segment register: CpuState's access-rights layout (SDM Vol. 3 25.4.1)
// and KVM's unpacked fields carry the same bits.
kvm_segment ToKvmSegment(const Segment& segment);
Segment FromKvmSegment(const kvm_segment& segment);

// General-purpose registers, RIP and RFLAGS.
void StateToRegs(const CpuState& state, kvm_regs& regs);
void RegsToState(const kvm_regs& regs, CpuState& state);

// Segments, descriptor tables, control registers and EFER. `apic_base` is the
// platform's IA32_APIC_BASE (KVM validates it). The interrupt bitmap stays
// empty: a queued external interrupt travels in kvm_vcpu_events.
void StateToSregs(const CpuState& state, uint64_t apic_base, kvm_sregs& sregs);
void SregsToState(const kvm_sregs& sregs, CpuState& state);

// x87, MXCSR and XMM0-15 through KVM_GET/SET_FPU. KVM's fpr[] holds ST(0)-ST(7)
// in stack order (the FXSAVE layout, SDM Vol. 1 10.5.1) and its tag word is
// the abridged one; CpuState holds physical R0-R7 and the full tag word.
// FCS and FDS are not carried (FXSAVE's 64-bit format has no room for them);
// they read back as 0.
void StateToFpu(const CpuState& state, kvm_fpu& fpu);
void FpuToState(const kvm_fpu& fpu, CpuState& state);

// The same plus the upper YMM halves through KVM_GET/SET_XSAVE (standard
// XSAVE format, SDM Vol. 1 13.4). StateToXsave edits `xsave` in place so the
// parts CpuState does not model keep KVM's values.
void StateToXsave(const CpuState& state, kvm_xsave& xsave);
void XsaveToState(const kvm_xsave& xsave, CpuState& state);

// Pending and injected events, NMI state and the interrupt shadow. An
// external interrupt KVM holds as injected but not yet delivered (already
// acknowledged at the interrupt controller) maps to exception_pending with
// its vector (>= 32) and no error code, which delivers the same way.
// A software interrupt (INT n) or software exception (INT3 -> #BP, INTO ->
// #OF) KVM holds as injected is dropped: KVM keeps RIP at the instruction
// and re-injects with an instruction length it does not export (VMX: the
// IDT-vectoring information and VM-exit instruction length, SDM Vol. 3
// 27.2.4; SVM rewinds RIP the same way), so the interpreter re-executing the
// instruction is exact. The other way, a pending #BP/#OF without an error
// code (delivered by the interpreter with RIP as the return address) goes
// to KVM as an injected external interrupt of that vector, which delivers
// identically, since as an exception KVM would add that hidden length.
// KVM_GET_VCPU_EVENTS cannot say whether RIP really is at the instruction;
// every KVM we know of keeps it there.
void StateToEvents(const CpuState& state, kvm_vcpu_events& events);
void EventsToState(const kvm_vcpu_events& events, CpuState& state);

// DR0-DR3, DR6, DR7.
void StateToDebugRegs(const CpuState& state, kvm_debugregs& debugregs);
void DebugRegsToState(const kvm_debugregs& debugregs, CpuState& state);

// The abridged tag word FXSAVE stores: bit i set when physical register i is
// not empty (SDM Vol. 1 10.5.1.1).
uint8_t AbridgeTagWord(uint16_t ftw);
// The full tag word (two bits per physical register) rebuilt from the
// abridged one and the register contents, as FXRSTOR/FSTENV do: valid 00,
// zero 01, special 10 (NaN, infinity, denormal, unsupported), empty 11
// (SDM Vol. 1 8.1.7).
uint16_t ExpandTagWord(uint8_t abridged, const std::array<X87Register, 8>& physical);

}  // namespace x86vm

#endif  // X86VM_ACCEL_KVM_KVM_STATE_H_
