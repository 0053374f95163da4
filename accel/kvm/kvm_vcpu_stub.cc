// The KVM engine where KVM does not exist (hosts other than x86-64 Linux):
// Create always fails, so the accel policy falls back to the interpreter
// (STYLE.md: backends are chosen in the build, like QEMU's accel/stubs).
#include "accel/kvm/kvm_vcpu.h"

namespace x86vm {

struct KvmVcpu::Impl {
  KvmStats stats;
  KvmHostLimits limits;
};

Result<std::unique_ptr<KvmVcpu>> KvmVcpu::Create(const CpuEnvironment&, CpuFeatures) {
  return Fail("KVM: this build has no KVM engine (it needs an x86-64 Linux host)");
}

KvmVcpu::KvmVcpu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KvmVcpu::~KvmVcpu() = default;
RunResult KvmVcpu::Run(uint64_t) { return {StopReason::kError, "KVM: not built"}; }
Result<> KvmVcpu::GetState(CpuState&) { return Fail("KVM: not built"); }
Result<> KvmVcpu::SetState(const CpuState&) { return Fail("KVM: not built"); }
void KvmVcpu::Kick() {}
uint64_t KvmVcpu::instructions_retired() const { return 0; }
const KvmStats& KvmVcpu::stats() const { return impl_->stats; }
const KvmHostLimits& KvmVcpu::host_limits() const { return impl_->limits; }
KvmFailure KvmVcpu::last_failure() const { return KvmFailure::kNone; }
bool KvmVcpu::last_pending_event_is_exception() const { return false; }
std::string KvmVcpu::StatsSummary() const { return "KVM is not built"; }
std::string KvmVcpu::LostChanges(const CpuState&, const CpuState&) const { return {}; }
Result<> KvmVcpu::HandMsrsOver() { return Fail("KVM: not built"); }

}  // namespace x86vm
