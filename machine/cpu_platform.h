// The board's side of the CPU: local APIC MSRs and TPR, and reset requests,
// behind the CpuPlatform interface the interpreter asks.
#ifndef X86VM_MACHINE_CPU_PLATFORM_H_
#define X86VM_MACHINE_CPU_PLATFORM_H_

#include "cpu/platform.h"
#include "machine/pc.h"

namespace x86vm {

class PcCpuPlatform : public CpuPlatform {
 public:
  explicit PcCpuPlatform(PcMachine& machine) : machine_(machine) {}
  MsrAccess ReadMsr(uint32_t index, uint64_t& value) override;
  MsrAccess WriteMsr(uint32_t index, uint64_t value) override;
  uint8_t GetTaskPriority() override;
  void SetTaskPriority(uint8_t value) override;
  bool TakeResetRequest() override;

 private:
  PcMachine& machine_;
};

// The CpuEnvironment of the board's one CPU.
CpuEnvironment MakeCpuEnvironment(PcMachine& machine, CpuPlatform* platform);

}  // namespace x86vm

#endif  // X86VM_MACHINE_CPU_PLATFORM_H_
