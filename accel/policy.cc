#include "accel/policy.h"

#include <fmt/format.h>

#include "accel/kvm/kvm_vcpu.h"
#include "base/log.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm {
namespace {

EngineChoice UseInterpreter(const CpuEnvironment& env, std::string reason) {
  auto interp = std::make_unique<Interpreter>(env);
  EngineChoice choice;
  choice.interpreter = interp.get();
  choice.vcpu = std::move(interp);
  choice.reason = std::move(reason);
  return choice;
}

EngineChoice UseHybrid(std::unique_ptr<KvmVcpu> kvm, const CpuEnvironment& env,
                       const HybridOptions& options, std::string reason) {
  auto hybrid = std::make_unique<HybridVcpu>(std::move(kvm), std::make_unique<Interpreter>(env),
                                             env, options);
  EngineChoice choice;
  choice.interpreter = &hybrid->interpreter();
  choice.vcpu = std::move(hybrid);
  choice.reason = std::move(reason);
  return choice;
}

}  // namespace

Result<double> MeasureKvmRing0Ips() {
  constexpr uint32_t kIterations = 20000;
  constexpr uint64_t kCodeGpa = 0x1000;
  auto memory = GuestMemory::Create(1 << 20);
  if (!memory) return std::unexpected(memory.error());
  Bus pio("calibration-pio");
  Bus mmio("calibration-mmio");
  VirtualClock clock(VirtualClock::Mode::kRealTime);
  CpuEnvironment env;
  env.memory = memory->get();
  env.pio = &pio;
  env.mmio = &mmio;
  env.clock = &clock;
  auto kvm = KvmVcpu::Create(env);
  if (!kvm) return std::unexpected(kvm.error());
  // Real mode is ring 0: mov ecx, N; l: dec ecx; jnz l; hlt.
  const uint8_t code[] = {0x66, 0xb9, kIterations & 0xff, (kIterations >> 8) & 0xff, 0, 0,
                          0x66, 0x49, 0x75, 0xfc, 0xf4};
  if (!(*memory)->LoadHost(kCodeGpa, code)) return Fail("calibration: no RAM for the loop");
  CpuState state;
  state.Reset();
  state.seg[kCs] = Segment{0, 0, 0xffff, 0xb | seg_attr::kS | seg_attr::kP};
  state.rip = kCodeGpa;
  if (auto r = (*kvm)->SetState(state); !r) return std::unexpected(r.error());
  uint64_t start = HostMonotonicNs();
  for (;;) {
    RunResult result = (*kvm)->Run(clock.now_ns() + 2'000'000'000);
    if (result.reason == StopReason::kHalt) break;
    if (result.reason != StopReason::kDeadline && result.reason != StopReason::kKicked) {
      return Fail("calibration loop stopped: {}", result.message);
    }
    if (HostMonotonicNs() - start > 5'000'000'000ull) break;
  }
  double seconds = static_cast<double>(HostMonotonicNs() - start) / 1e9;
  return 2.0 * kIterations / (seconds > 0 ? seconds : 1e-9);
}

Result<EngineChoice> CreateEngine(std::string_view accel, const CpuEnvironment& env,
                                  const HybridOptions& hybrid) {
  if (accel == "interp") return UseInterpreter(env, "--accel interp");
  if (accel == "hybrid") {
    auto kvm = KvmVcpu::Create(env);
    if (!kvm) return Fail("--accel hybrid: {}", kvm.error().message);
    return UseHybrid(std::move(*kvm), env, hybrid,
                     hybrid.swap_interval_ns == 0
                         ? std::string("--accel hybrid")
                         : fmt::format("--accel hybrid, swapping engines every {} ms",
                                       hybrid.swap_interval_ns / 1'000'000));
  }
  if (accel == "kvm") {
    auto kvm = KvmVcpu::Create(env);
    if (!kvm) return Fail("--accel kvm: {}", kvm.error().message);
    EngineChoice choice;
    choice.vcpu = std::move(*kvm);
    choice.reason = "--accel kvm";
    return choice;
  }
  // auto: measure before trusting KVM with the whole guest.
  auto ips = MeasureKvmRing0Ips();
  if (!ips) return UseInterpreter(env, "KVM unusable (" + ips.error().message + ")");
  if (*ips < kMinKvmRing0Ips) {
    return UseInterpreter(
        env, fmt::format("this host's KVM emulates ring-0 code ({:.1f} M instructions/s "
                         "measured), the interpreter is faster",
                         *ips / 1e6));
  }
  auto kvm = KvmVcpu::Create(env);
  if (!kvm) return UseInterpreter(env, "KVM unusable (" + kvm.error().message + ")");
  return UseHybrid(std::move(*kvm), env, hybrid,
                   fmt::format("KVM runs ring-0 code at {:.0f} M instructions/s; the interpreter "
                               "takes what KVM cannot run",
                               *ips / 1e6));
}

}  // namespace x86vm
