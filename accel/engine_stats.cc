#include "accel/engine_stats.h"

#include <fmt/format.h>

#include "accel/hybrid_vcpu.h"
#include "accel/kvm/kvm_vcpu.h"
#include "cpu/interpreter.h"

namespace x86vm {
namespace {

double Seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

double Mips(uint64_t instructions, uint64_t ns) {
  return ns == 0 ? 0.0 : static_cast<double>(instructions) * 1e3 / static_cast<double>(ns);
}

}  // namespace

std::string FormatEngineStats(Vcpu& cpu, std::string_view reason, uint64_t wall_ns) {
  std::string out = fmt::format("x86vm stats: engine {} ({})\n", cpu.engine_name(), reason);
  uint64_t instructions = cpu.instructions_retired();
  auto* kvm = dynamic_cast<KvmVcpu*>(&cpu);
  auto* hybrid = dynamic_cast<HybridVcpu*>(&cpu);
  out += fmt::format("x86vm stats: {:.3f} s, {} guest instructions, {:.1f} M instructions/s{}\n",
                     Seconds(wall_ns), instructions, Mips(instructions, wall_ns),
                     kvm != nullptr || hybrid != nullptr ? " (KVM's share estimated from time)"
                                                         : "");
  uint64_t handovers = 0;
  if (hybrid != nullptr) {
    const HybridStats& h = hybrid->stats();
    kvm = &hybrid->kvm();
    uint64_t interp_insns = hybrid->interpreter().instructions_retired();
    uint64_t kvm_insns = kvm->instructions_retired();
    out += fmt::format(
        "x86vm stats: per engine: interp {:.3f} s, {} instructions ({:.1f} M/s); kvm {:.3f} s, "
        "{} instructions (estimated); the guest ends on {}\n",
        Seconds(h.interp_ns), interp_insns, Mips(interp_insns, h.interp_ns), Seconds(h.kvm_ns),
        kvm_insns, hybrid->active_engine_name());
    handovers = h.handovers;
    out += fmt::format(
        "x86vm stats: handovers between engines: {} (to the interpreter on: emulation failures "
        "{}, entry failures {}, MSR accesses {}, triple faults re-checked {}, forced swaps {}; "
        "states KVM refused {})\n",
        h.handovers, h.emulation_failures, h.entry_failures, h.msr_accesses, h.shutdowns_rechecked,
        h.forced_swaps, h.refused_states);
    if (!h.last_failure.empty()) {
      out += fmt::format("x86vm stats: last KVM failure handed over: {}\n", h.last_failure);
    }
    if (!h.pinned_reason.empty()) {
      out += fmt::format("x86vm stats: the interpreter kept the guest for good: {}\n",
                         h.pinned_reason);
    }
  } else {
    out += fmt::format("x86vm stats: per engine: {} {:.3f} s, {} instructions\n",
                       cpu.engine_name(), Seconds(wall_ns), instructions);
    out += fmt::format("x86vm stats: handovers between engines: {}\n", handovers);
  }
  if (kvm != nullptr) out += fmt::format("x86vm stats: {}\n", kvm->StatsSummary());
  return out;
}

}  // namespace x86vm
