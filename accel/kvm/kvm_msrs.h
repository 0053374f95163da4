// The MSRs CpuState carries (MsrState), moved through KVM_GET/SET_MSRS.
//
// Which ones KVM accepts is probed per vCPU (a KVM may refuse any of them;
// the software KVM of our test machines refuses all). A refused MSR keeps the
// value last given to SetState in a shadow copy, so a round trip through the
// engine loses nothing. A refused MSR that only reports or configures what
// KVM does not model anyway (MTRRs, MISC_ENABLE, FEATURE_CONTROL, ...) is
// also trapped with the MSR filter, and guest RDMSR/WRMSR work on the shadow,
// as they do in the interpreter. A refused MSR the hardware acts on (the
// SYSCALL/SYSENTER targets, TSC, TSC_AUX) cannot be emulated that way: the
// guest sees KVM's own value, and the engine says so once in the log; with
// KvmVcpu::HandMsrsOver() (the hybrid engine) its accesses are trapped too
// and executed by the interpreter instead.
#ifndef X86VM_ACCEL_KVM_KVM_MSRS_H_
#define X86VM_ACCEL_KVM_KVM_MSRS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cpu/cpu_state.h"

namespace x86vm {

// IA32_TIME_STAMP_COUNTER (SDM Vol. 4 2.1).
inline constexpr uint32_t kMsrTsc = 0x10;

// Every MSR index MsrState holds, TSC included (its value is tsc_offset
// converted by the caller).
const std::vector<uint32_t>& StateMsrIndices();
// The MsrState field of `index`; nullptr for TSC and unknown indices.
uint64_t* MsrStateField(MsrState& msrs, uint32_t index);
// True for MSRs whose effect lives outside the CPU core KVM runs (MTRRs,
// MISC_ENABLE, ...), which can be emulated on a shadow when KVM refuses them.
bool MsrIsEmulatable(uint32_t index);
// A short name for messages ("LSTAR", "MTRRphysBase0").
std::string MsrName(uint32_t index);

// Guest RDMSR of a shadowed MSR; nullopt means #GP.
std::optional<uint64_t> ReadShadowMsr(const MsrState& shadow, uint32_t index);
// Guest WRMSR of a shadowed MSR; false means #GP (MTRRcap is read-only,
// FEATURE_CONTROL is locked once bit 0 is set: SDM Vol. 4 2.1).
bool WriteShadowMsr(MsrState& shadow, uint32_t index, uint64_t value);

// KVM_GET_MSRS/KVM_SET_MSRS on one vCPU for the MSRs it accepts.
class KvmMsrTransfer {
 public:
  // Tries each StateMsrIndices() entry with KVM_GET_MSRS on `vcpu_fd`.
  void Probe(int vcpu_fd);
  // MSRs KVM moves, and the ones it refused.
  const std::vector<uint32_t>& moved() const { return moved_; }
  const std::vector<uint32_t>& refused() const { return refused_; }
  bool Moves(uint32_t index) const;
  // Refused MSRs to trap and emulate on the shadow.
  std::vector<uint32_t> TrappedIndices() const;

  // Reads every moved MSR: MsrState fields into `msrs`, the TSC into `tsc`
  // (untouched when TSC is refused).
  Result<> Get(int vcpu_fd, MsrState& msrs, uint64_t& tsc) const;
  // Writes every moved MSR. KVM may refuse a value (e.g. one that needs a
  // CPUID feature the guest lacks): that MSR is skipped and reported in
  // `skipped`, the others are still written.
  Result<> Set(int vcpu_fd, const MsrState& msrs, uint64_t tsc,
               std::vector<uint32_t>* skipped) const;
  // Reads one MSR (the TSC for deadline conversion); nullopt when refused.
  static std::optional<uint64_t> ReadOne(int vcpu_fd, uint32_t index);

 private:
  std::vector<uint32_t> moved_;
  std::vector<uint32_t> refused_;
};

}  // namespace x86vm

#endif  // X86VM_ACCEL_KVM_KVM_MSRS_H_
