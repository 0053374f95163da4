#include "machine/cpu_platform.h"

namespace x86vm {
namespace {

// SDM Vol. 4 2.1: IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range.
constexpr uint32_t kApicBaseMsr = 0x1b;
constexpr uint32_t kTscDeadlineMsr = 0x6e0;
constexpr uint32_t kX2ApicFirst = 0x800;
constexpr uint32_t kX2ApicLast = 0x8ff;

}  // namespace

MsrAccess PcCpuPlatform::ReadMsr(uint32_t index, uint64_t& value) {
  LocalApic& apic = machine_.lapic();
  if (index == kApicBaseMsr) {
    value = apic.apic_base_msr();
    return MsrAccess::kOk;
  }
  if (index == kTscDeadlineMsr) {
    value = apic.ReadTscDeadline();
    return MsrAccess::kOk;
  }
  if (index >= kX2ApicFirst && index <= kX2ApicLast) {
    auto v = apic.ReadMsr(index);
    if (!v) return MsrAccess::kGp;
    value = *v;
    return MsrAccess::kOk;
  }
  return MsrAccess::kNotMine;
}

MsrAccess PcCpuPlatform::WriteMsr(uint32_t index, uint64_t value) {
  LocalApic& apic = machine_.lapic();
  if (index == kApicBaseMsr) return apic.SetApicBaseMsr(value) ? MsrAccess::kOk : MsrAccess::kGp;
  if (index == kTscDeadlineMsr) {
    apic.WriteTscDeadline(value);
    return MsrAccess::kOk;
  }
  if (index >= kX2ApicFirst && index <= kX2ApicLast) {
    return apic.WriteMsr(index, value) ? MsrAccess::kOk : MsrAccess::kGp;
  }
  return MsrAccess::kNotMine;
}

uint8_t PcCpuPlatform::GetTaskPriority() {
  return static_cast<uint8_t>(machine_.lapic().GetCr8());
}

void PcCpuPlatform::SetTaskPriority(uint8_t value) { machine_.lapic().SetCr8(value & 0xf); }

bool PcCpuPlatform::TakeResetRequest() {
  // Exit requests stop the CPU as promptly as resets do; the run loop reads
  // which one it was from the machine.
  return machine_.requests().reset || machine_.requests().exit_status.has_value();
}

CpuEnvironment MakeCpuEnvironment(PcMachine& machine, CpuPlatform* platform) {
  CpuEnvironment env;
  env.memory = &machine.memory();
  env.mmio = &machine.mmio();
  env.pio = &machine.pio();
  env.irq = &machine.lapic();
  env.clock = &machine.clock();
  env.platform = platform;
  return env;
}

}  // namespace x86vm
