// What the CPU is wired to: guest memory, the two buses, the interrupt
// controller, the virtual clock, and the platform services the CPU does not
// own (local APIC MSRs and TPR, reset requests). Passed in explicitly; the CPU
// keeps no globals (STYLE.md: the board is written out in one place).
#ifndef X86VM_CPU_PLATFORM_H_
#define X86VM_CPU_PLATFORM_H_

#include <cstdint>

namespace x86vm {

class Bus;
class GuestMemory;
class InterruptController;
class VirtualClock;

// The outcome of an MSR access offered to the platform.
enum class MsrAccess {
  kNotMine,  // The platform does not own this MSR; the CPU decides.
  kOk,       // Handled.
  kGp,       // Owned, but the access raises #GP(0) (reserved bits, bad mode).
};

// Services of the platform around the CPU core, chiefly the local APIC
// (SDM Vol. 3 10.4.3, 10.12, 10.5.4.1). Every method has a harmless default
// so a bare machine (tests, firmware without APIC) needs no implementation.
class CpuPlatform {
 public:
  virtual ~CpuPlatform() = default;
  // RDMSR of a platform-owned MSR: IA32_APIC_BASE (0x1B), the x2APIC range
  // 0x800-0x8FF, IA32_TSC_DEADLINE (0x6E0).
  virtual MsrAccess ReadMsr(uint32_t index, uint64_t& value) { return MsrAccess::kNotMine; }
  // WRMSR of a platform-owned MSR.
  virtual MsrAccess WriteMsr(uint32_t index, uint64_t value) { return MsrAccess::kNotMine; }
  // The APIC task priority (TPR[7:4]) that MOV from CR8 reads (SDM Vol. 3 10.8.6.1).
  virtual uint8_t GetTaskPriority() { return 0; }
  // MOV to CR8 writes TPR[7:4] = value[3:0].
  virtual void SetTaskPriority(uint8_t value) {}
  // Polled after port and MMIO writes: true once when a device asked for a
  // system reset (i8042 0xFE, port 0x92 bit 0, 0xCF9), so Run() returns kReset.
  virtual bool TakeResetRequest() { return false; }
};

// The devices and services one CPU is connected to. `memory`, `mmio`, `pio`
// and `clock` are required; `irq` and `platform` may be null (no external
// interrupts / no APIC).
struct CpuEnvironment {
  GuestMemory* memory = nullptr;
  Bus* mmio = nullptr;
  Bus* pio = nullptr;
  InterruptController* irq = nullptr;
  VirtualClock* clock = nullptr;
  CpuPlatform* platform = nullptr;
};

}  // namespace x86vm

#endif  // X86VM_CPU_PLATFORM_H_
