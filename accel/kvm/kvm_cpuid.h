// The guest's CPUID under KVM: the interpreter's model (cpu/cpuid.h), so a
// guest sees the same processor whichever engine runs it, with each feature
// bit kept only where KVM can provide it (KVM_GET_SUPPORTED_CPUID).
#ifndef X86VM_ACCEL_KVM_KVM_CPUID_H_
#define X86VM_ACCEL_KVM_KVM_CPUID_H_

#include <linux/kvm.h>

#include <vector>

#include "base/status.h"
#include "cpu/cpuid.h"

namespace x86vm {

// KVM_GET_SUPPORTED_CPUID on the /dev/kvm descriptor.
Result<std::vector<kvm_cpuid_entry2>> GetSupportedCpuid(int kvm_fd);

// The model's leaves (every basic and extended leaf up to its maxima), with
// the feature registers of leaves 1, 7, 0xD, 0x80000001 and 0x80000007 ANDed
// with `supported` and the address sizes of 0x80000008 limited by it. The
// bits our own device model provides (APIC, x2APIC, TSC-deadline) are kept
// whatever KVM says: its answer describes its in-kernel APIC, which we do not
// use. With `supported` null the model is taken as is.
std::vector<kvm_cpuid_entry2> BuildGuestCpuid(const CpuFeatures& features,
                                              const std::vector<kvm_cpuid_entry2>* supported);

// KVM_SET_CPUID2 on a vCPU.
Result<> SetGuestCpuid(int vcpu_fd, const std::vector<kvm_cpuid_entry2>& entries);

// The entry for `function`/`index` in `entries`, or null.
const kvm_cpuid_entry2* FindCpuidEntry(const std::vector<kvm_cpuid_entry2>& entries,
                                       uint32_t function, uint32_t index);

}  // namespace x86vm

#endif  // X86VM_ACCEL_KVM_KVM_CPUID_H_
