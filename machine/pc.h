// The PC board: which device sits at which address and how the interrupt
// lines are wired, written out in one place (STYLE.md; crosvm's and
// Firecracker's device managers). Nothing registers itself.
#ifndef X86VM_MACHINE_PC_H_
#define X86VM_MACHINE_PC_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/status.h"
#include "devices/acpi_pm.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/debug_ports.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/ide.h"
#include "devices/ioapic.h"
#include "devices/irq.h"
#include "devices/local_apic.h"
#include "devices/pci.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/rtc_cmos.h"
#include "devices/uart16550.h"
#include "machine/guest_memory.h"

namespace x86vm {

// What the board is built from; host-side objects are borrowed, not owned.
struct PcConfig {
  uint64_t memory_bytes = 512ull << 20;
  VirtualClock::Mode clock_mode = VirtualClock::Mode::kRealTime;
  // Injected host time for real-time mode (tests fake it).
  HostTimeSource host_time = HostMonotonicNs;
  // The RTC's time at power-on, read from the host by the frontend (or a
  // fixed value in deterministic mode).
  int64_t rtc_start_unix_seconds = 0;
  SerialSink* com1_sink = nullptr;      // null: output discarded.
  DebugConSink* debugcon_sink = nullptr;
  std::optional<uint16_t> exit_port;
  // Raw disk images on the IDE controller: primary master, primary slave,
  // secondary master, secondary slave (at most four).
  struct Disk {
    std::string path;
    bool read_only = false;
  };
  std::vector<Disk> disks;
};

// What the guest asked of the host, set by device callbacks and consumed by
// the run loop.
struct GuestRequests {
  std::optional<int> exit_status;  // Exit port or S5 power-off.
  bool reset = false;              // i8042 0xFE, port 0x92, 0xCF9, ACPI reset.
};

class PcMachine {
 public:
  // The ISA IRQ lines (0-15) and the GSI they reach on the IOAPIC: identity
  // except IRQ 0 -> GSI 2 (the MADT carries that override, as on QEMU).
  static constexpr int kIsaIrqs = 16;
  static int IsaIrqToGsi(int irq) { return irq == 0 ? 2 : irq; }
  // Standard PC UART ports and their IRQs (COM1-COM4).
  static constexpr std::array<uint16_t, 4> kComPorts = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
  static constexpr std::array<int, 4> kComIrqs = {4, 3, 4, 3};

  // Builds and wires the whole board. Errors: memory cannot be mapped, or
  // an address conflict (e.g. --exit-port on a device's port).
  static Result<std::unique_ptr<PcMachine>> Create(const PcConfig& config);
  ~PcMachine();
  PcMachine(const PcMachine&) = delete;
  PcMachine& operator=(const PcMachine&) = delete;

  GuestMemory& memory() { return *memory_; }
  Bus& pio() { return pio_; }
  Bus& mmio() { return mmio_; }
  VirtualClock& clock() { return clock_; }
  // What the CPU asks for interrupts: its local APIC (which forwards the
  // 8259 through LINT0 in virtual-wire mode).
  LocalApic& lapic() { return *lapic_; }
  PicPair& pic() { return *pic_; }
  IoApic& ioapic() { return *ioapic_; }
  Uart16550& com(int index) { return *uarts_[static_cast<size_t>(index)]; }
  RtcCmos& rtc() { return *rtc_; }
  I8042& i8042() { return *i8042_; }
  AcpiPm& acpi_pm() { return *acpi_pm_; }
  FwCfg& fw_cfg() { return *fw_cfg_; }
  PciBus& pci() { return *pci_; }
  Piix3Ide& ide() { return *ide_; }
  // The wire of ISA IRQ `irq` for a device added later (an IDE controller):
  // a new input of that line's wired-OR.
  IrqLine* NewIsaIrqInput(int irq);

  // Every device, in snapshot order (stable names: the section names).
  const std::vector<Device*>& devices() const { return devices_; }
  // A system reset: every device back to power-on, A20 on. The CPU engines
  // reset their own state.
  void Reset();

  GuestRequests& requests() { return requests_; }

 private:
  explicit PcMachine(const PcConfig& config);
  Result<> Wire(const PcConfig& config);
  void SetA20(bool enabled);
  void ApplyPam();

  VirtualClock clock_;
  std::unique_ptr<GuestMemory> memory_;
  Bus pio_{"pio"};
  Bus mmio_{"mmio"};
  GuestRequests requests_;

  // Interrupt fabric: each ISA line is a wired-OR feeding a fanout to the
  // 8259 input and the IOAPIC pin.
  std::unique_ptr<PicPair> pic_;
  std::unique_ptr<IoApic> ioapic_;
  std::unique_ptr<LocalApic> lapic_;
  ApicRouter apic_router_;
  std::array<IrqFanout, kIsaIrqs> isa_fanout_;
  std::array<std::unique_ptr<IrqOr>, kIsaIrqs> isa_lines_;

  std::unique_ptr<Pit8254> pit_;
  std::unique_ptr<Port61> port61_;
  std::unique_ptr<RtcCmos> rtc_;
  std::array<std::unique_ptr<Uart16550>, 4> uarts_;
  std::unique_ptr<I8042> i8042_;
  std::unique_ptr<SystemControlPortA> port92_;
  std::unique_ptr<DebugCon> debugcon_;
  std::unique_ptr<ExitPort> exit_port_;
  std::unique_ptr<PostCodePort> post_code_;
  std::unique_ptr<AcpiPm> acpi_pm_;
  std::unique_ptr<PciBus> pci_;
  std::unique_ptr<I440fxHostBridge> host_bridge_;
  std::unique_ptr<Piix3IsaBridge> isa_bridge_;
  std::unique_ptr<Piix3Ide> ide_;
  std::unique_ptr<FwCfg> fw_cfg_;

  std::vector<Device*> devices_;
};

}  // namespace x86vm

#endif  // X86VM_MACHINE_PC_H_
