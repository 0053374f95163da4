// PCI bus 0 of an i440FX/PIIX3 PC: configuration mechanism #1 at 0xCF8/0xCFC,
// the function base class every PCI device derives from (config space, BARs,
// INTx), the i440FX host bridge (PAM/SMRAM) and the PIIX3 ISA bridge (PIRQ
// routing, reset control at 0xCF9).
//
// References: PCI Local Bus Specification 3.0 (PCI 3.0), Intel 82441FX/82442FX
// (i440FX) datasheet, Intel 82371FB/SB (PIIX/PIIX3) datasheet, and QEMU's
// hw/pci-host/i440fx.c + hw/isa/piix.c for the behaviour guests rely on.
#ifndef X86VM_DEVICES_PCI_H_
#define X86VM_DEVICES_PCI_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "base/serializer.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

class PciBus;

// Standard type-0 header offsets (PCI 3.0 6.1).
namespace pci_config {
inline constexpr uint8_t kVendorId = 0x00;
inline constexpr uint8_t kDeviceId = 0x02;
inline constexpr uint8_t kCommand = 0x04;
inline constexpr uint8_t kStatus = 0x06;
inline constexpr uint8_t kRevisionId = 0x08;
inline constexpr uint8_t kClassProgIf = 0x09;
inline constexpr uint8_t kCacheLineSize = 0x0c;
inline constexpr uint8_t kLatencyTimer = 0x0d;
inline constexpr uint8_t kHeaderType = 0x0e;
inline constexpr uint8_t kBar0 = 0x10;
inline constexpr uint8_t kSubsystemVendorId = 0x2c;
inline constexpr uint8_t kSubsystemId = 0x2e;
inline constexpr uint8_t kCapabilitiesPointer = 0x34;
inline constexpr uint8_t kInterruptLine = 0x3c;
inline constexpr uint8_t kInterruptPin = 0x3d;

// Command register bits (PCI 3.0 6.2.2).
inline constexpr uint16_t kCommandIo = 1 << 0;
inline constexpr uint16_t kCommandMemory = 1 << 1;
inline constexpr uint16_t kCommandBusMaster = 1 << 2;
inline constexpr uint16_t kCommandParity = 1 << 6;
inline constexpr uint16_t kCommandSerr = 1 << 8;
inline constexpr uint16_t kCommandIntxDisable = 1 << 10;

// Status register bits (PCI 3.0 6.2.3).
inline constexpr uint16_t kStatusInterrupt = 1 << 3;
inline constexpr uint16_t kStatusCapabilities = 1 << 4;
}  // namespace pci_config

// One PCI function: 256 bytes of configuration space with per-byte write and
// write-1-to-clear masks, up to six BARs whose windows it maps on the PIO or
// MMIO bus while the Command register enables decode, and one INTx pin.
// Derived devices (host bridge, ISA bridge, IDE, virtio) set up their header
// in the constructor, before PciBus::AddFunction, which records that header as
// the power-on state Reset() returns to. The PIO/MMIO buses must outlive the
// function (its destructor unregisters its windows).
class PciFunction : public Device {
 public:
  // BAR slots in a type-0 header (PCI 3.0 6.2.5.1).
  static constexpr int kNumBars = 6;

  // `name` is the device name and snapshot section ("i440fx", "virtio-blk0").
  explicit PciFunction(std::string name);
  ~PciFunction() override;
  PciFunction(const PciFunction&) = delete;
  PciFunction& operator=(const PciFunction&) = delete;

  // The name given at construction.
  std::string_view name() const override { return name_; }
  // Restores the power-on config space, unmaps every BAR and drops INTx.
  // Derived devices that override it call PciFunction::Reset() first.
  void Reset() override;
  // Section(name(), 1) holding SerializePciState(); derived devices with more
  // state override this and call SerializePciState() inside their section.
  void Serialize(Serializer& s) override;

  // Configuration read of `size` (1, 2 or 4) bytes at `offset`; the range
  // lies within one dword. Overridable for registers computed on read.
  virtual uint32_t ReadConfig(uint8_t offset, size_t size);
  // Configuration write through the write masks, then BAR/INTx updates.
  // Overrides call PciFunction::WriteConfig and then react to their registers.
  virtual void WriteConfig(uint8_t offset, size_t size, uint32_t value);

  // Header helpers (PCI 3.0 6.2.1), for constructors.
  void SetIds(uint16_t vendor_id, uint16_t device_id);
  // Base class, subclass and programming interface (offsets 0x0b, 0x0a, 0x09).
  void SetClass(uint8_t base_class, uint8_t subclass, uint8_t prog_if);
  // Revision ID (offset 0x08).
  void SetRevision(uint8_t revision);
  // Header type 0; `multi_function` sets bit 7 (function 0 of a multi-function device).
  void SetHeaderType(bool multi_function);
  // Subsystem vendor and subsystem IDs (offsets 0x2c, 0x2e).
  void SetSubsystem(uint16_t subsystem_vendor_id, uint16_t subsystem_id);
  // 1..4 for INTA#..INTD#, 0 for none (PCI 3.0 6.2.4).
  void SetInterruptPin(uint8_t pin);
  // Links a capability of `size_bytes` at `offset` (>= 0x40) into the list
  // and sets Status.CAP_LIST; the body's bytes are left read-only at zero.
  void AddCapability(uint8_t id, uint8_t offset, uint8_t size_bytes);

  // An I/O BAR of `size_bytes` (a power of two, >= 4) answered by `target`.
  void DefineIoBar(int index, uint32_t size_bytes, BusTarget* target);
  // A memory BAR of `size_bytes` (a power of two, >= 16); a 64-bit BAR also
  // takes slot index + 1 for the upper address dword (PCI 3.0 6.2.5.1).
  void DefineMemoryBar(int index, uint64_t size_bytes, BusTarget* target, bool is_64bit,
                       bool prefetchable);

  // Drives this function's INTx pin. The bus swizzles it onto PIRQA-D; it is
  // masked while Command.INTX_DISABLE is set and shows in Status bit 3.
  void SetIrq(bool level);
  // The level last given to SetIrq().
  bool irq_level() const { return irq_level_; }
  // What the pin actually drives (level, pin present, not disabled).
  bool intx_asserted() const;

  // Raw config access for derived devices (no masks applied).
  uint8_t config8(uint8_t offset) const { return config_[offset]; }
  uint16_t config16(uint8_t offset) const;
  uint32_t config32(uint8_t offset) const;
  void SetConfig8(uint8_t offset, uint8_t value) { config_[offset] = value; }
  void SetConfig16(uint8_t offset, uint16_t value);
  void SetConfig32(uint8_t offset, uint32_t value);
  // Which bits of each byte the guest can write (default: the standard
  // header's writable bits, and all of 0x40-0xff).
  void SetWriteMask8(uint8_t offset, uint8_t mask) { wmask_[offset] = mask; }
  void SetWriteMask16(uint8_t offset, uint16_t mask);
  void SetWriteMask32(uint8_t offset, uint32_t mask);
  // Bits that a guest write of 1 clears (RW1C status bits).
  void SetW1cMask16(uint8_t offset, uint16_t mask);

  // The Command register (decode enables, bus master, INTx disable).
  uint16_t command() const { return config16(pci_config::kCommand); }
  // DMA gate for bus-master devices (IDE, virtio): Command.BME.
  bool bus_master_enabled() const { return command() & pci_config::kCommandBusMaster; }
  // The address programmed in BAR `index` (type bits masked off).
  uint64_t bar_address(int index) const;
  // True while BAR `index` is registered on its bus.
  bool bar_mapped(int index) const;

  // Position on the bus once added (device << 3 | function), or -1.
  int devfn() const { return devfn_; }

 protected:
  // Saves/loads config space and the INTx level; on load re-maps the BAR
  // windows and re-drives INTx so the bus matches the loaded state.
  void SerializePciState(Serializer& s);
  // Re-evaluates every BAR window against Command and the BAR registers.
  void UpdateMappings();

 private:
  friend class PciBus;

  enum class BarKind : uint8_t { kNone, kIo, kMemory32, kMemory64, kMemory64High };
  struct Bar {
    BarKind kind = BarKind::kNone;
    uint64_t size_bytes = 0;
    BusTarget* target = nullptr;
    // The window currently registered, if any (derived, not serialized).
    bool mapped = false;
    uint64_t mapped_base = 0;
  };

  // The address BAR `index` should decode at now, or false when it should
  // not be mapped (decode off, address 0, wraps, beyond 64 KiB of I/O).
  bool DesiredBase(int index, uint64_t* base) const;
  void Unmap(int index);
  void UnmapAll();
  // Drops windows whose BAR moved or lost decode (first pass of a remap).
  void UnmapStale();
  // Registers windows that should be decoded and are not yet (second pass).
  void MapWanted();
  // Recomputes Status.INTERRUPT and tells the bus about the pin.
  void UpdateIntx();
  void Attach(PciBus* bus, int devfn);

  std::string name_;
  std::array<uint8_t, 256> config_{};
  std::array<uint8_t, 256> wmask_{};
  std::array<uint8_t, 256> w1cmask_{};
  std::array<uint8_t, 256> power_on_config_{};
  std::array<Bar, kNumBars> bars_{};
  bool irq_level_ = false;
  PciBus* bus_ = nullptr;
  int devfn_ = -1;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter map_failure_log_;
};

// Bus 0 behind configuration mechanism #1 (PCI 3.0 3.2.2.3.2). Owns the
// INTx swizzle onto the four PIRQ wires (PIRQA-D), which go to the PIIX3.
class PciBus : public Device {
 public:
  // BARs are mapped on `pio` and `mmio`; both outlive the bus.
  PciBus(Bus* pio, Bus* mmio);
  // Unmaps every function's windows and detaches them.
  ~PciBus() override;
  PciBus(const PciBus&) = delete;
  PciBus& operator=(const PciBus&) = delete;

  // Snapshot section "pci".
  std::string_view name() const override { return "pci"; }
  // Clears CONFIG_ADDRESS. Functions are reset as devices of their own.
  void Reset() override;
  // CONFIG_ADDRESS; on load also re-drives the PIRQ wires.
  void Serialize(Serializer& s) override;

  // Places `fn` at device `device` (0-31), function `function` (0-7) and
  // records its power-on config. Fails when the slot is taken.
  Result<> AddFunction(uint8_t device, uint8_t function, PciFunction* fn);
  // The function at that address, or nullptr.
  PciFunction* FindFunction(uint8_t device, uint8_t function) const;

  // The CONFIG_ADDRESS window: register it at 0xCF8, 4 bytes.
  BusTarget* config_address_port() { return &address_port_; }
  // The CONFIG_DATA window: register it at 0xCFC, 4 bytes.
  BusTarget* config_data_port() { return &data_port_; }
  // Byte accesses to 0xCF9 (inside the CONFIG_ADDRESS dword) are the PIIX3
  // reset control register; they are forwarded here (offset 0).
  void set_reset_control(BusTarget* target) { reset_control_ = target; }

  // Connects PIRQ wire `pirq` (0-3 = PIRQA-D), normally to
  // Piix3IsaBridge::pirq_input(pirq).
  void ConnectPirq(int pirq, IrqLine* line);
  // Which PIRQ an INTx pin (1-4) of `device` lands on: the i440FX/PIIX3
  // swizzle (pin - 1 + device - 1) mod 4 that SeaBIOS and QEMU also use.
  static int PirqForPin(uint8_t device, uint8_t pin);
  // The current level of PIRQ wire `pirq`.
  bool pirq_level(int pirq) const { return pirq_driven_[pirq & 3]; }

  // Configuration access by address, as the 0xCFC port does it; absent
  // functions read all ones.
  uint32_t ConfigRead(uint8_t device, uint8_t function, uint8_t offset, size_t size);
  // Configuration write by address; dropped for absent functions.
  void ConfigWrite(uint8_t device, uint8_t function, uint8_t offset, size_t size, uint32_t value);

  // The buses BAR windows go on.
  Bus* pio() const { return pio_; }
  Bus* mmio() const { return mmio_; }

 private:
  friend class PciFunction;

  class AddressPort : public BusTarget {
   public:
    explicit AddressPort(PciBus* bus) : bus_(bus) {}
    void Read(uint64_t offset, std::span<uint8_t> data) override;
    void Write(uint64_t offset, std::span<const uint8_t> data) override;

   private:
    PciBus* bus_;
  };
  class DataPort : public BusTarget {
   public:
    explicit DataPort(PciBus* bus) : bus_(bus) {}
    void Read(uint64_t offset, std::span<uint8_t> data) override;
    void Write(uint64_t offset, std::span<const uint8_t> data) override;

   private:
    PciBus* bus_;
  };

  // The function CONFIG_ADDRESS selects, or nullptr (disabled, other bus,
  // absent function).
  PciFunction* Selected() const;
  // Recomputes the PIRQ levels from every function's INTx; drives the wires
  // that changed (all of them when `force`).
  void UpdatePirqs(bool force = false);
  // Retries every function's BAR windows (a move may free a clashing range).
  void UpdateAllMappings();
  // Forgets a function that is being destroyed (drives no IRQ lines).
  void Detach(PciFunction* fn);

  Bus* pio_;
  Bus* mmio_;
  AddressPort address_port_{this};
  DataPort data_port_{this};
  BusTarget* reset_control_ = nullptr;
  uint32_t config_address_ = 0;
  std::array<PciFunction*, 256> functions_{};  // Indexed by devfn.
  std::vector<PciFunction*> attached_;         // The same, in insertion order.
  std::array<IrqLine*, 4> pirq_lines_{};
  std::array<bool, 4> pirq_driven_{};
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter odd_access_log_;
};

// The i440FX PCI and memory controller, function 00.0 (8086:1237). Stores
// the PAM (0x59-0x5F) and SMRAM (0x72) registers; the board does the actual
// shadowing of 0xC0000-0xFFFFF and SMRAM from them.
class I440fxHostBridge : public PciFunction {
 public:
  // Config offsets of PAM0 (PAM1-6 follow) and of SMRAM (datasheet 3.2.18, 3.2.23).
  static constexpr uint8_t kPam0 = 0x59;
  static constexpr uint8_t kSmram = 0x72;
  // SMRAM bits (i440FX datasheet 3.2.23).
  static constexpr uint8_t kSmramDOpen = 1 << 6;
  static constexpr uint8_t kSmramDCls = 1 << 5;
  static constexpr uint8_t kSmramDLck = 1 << 4;
  static constexpr uint8_t kSmramGSmrame = 1 << 3;

  // One PAM-controlled range: 0xF0000 (64 KiB, PAM0 high nibble), then
  // twelve 16 KiB ranges from 0xC0000 (PAM1 low nibble) up to 0xEC000.
  struct PamSegment {
    uint32_t base;
    uint32_t size_bytes;
    bool read_enable;   // Reads go to DRAM (else to the ROM/PCI).
    bool write_enable;  // Writes go to DRAM (else to the ROM/PCI).
  };

  // Function "i440fx" with the i440FX header and power-on PAM/SMRAM values.
  I440fxHostBridge();
  // Applies the SMRAM lock rules and reports PAM/SMRAM changes.
  void WriteConfig(uint8_t offset, size_t size, uint32_t value) override;
  // Config space; on load also runs the memory-map callback.
  void Serialize(Serializer& s) override;

  // PAM register `index` (0-6 = config 0x59-0x5F).
  uint8_t pam(int index) const {
    return config8(static_cast<uint8_t>(kPam0 + std::clamp(index, 0, 6)));
  }
  // The SMRAM control register.
  uint8_t smram() const { return config8(kSmram); }
  // The 13 PAM segments decoded from the registers.
  std::array<PamSegment, 13> PamSegments() const;
  // Called after a write changed a PAM or the SMRAM register, and after a
  // load or reset, so the board can remap the shadow/SMRAM ranges.
  void set_memory_map_changed(std::function<void()> fn) { memory_map_changed_ = std::move(fn); }
  // Power-on config (unlocks SMRAM), then the memory-map callback.
  void Reset() override;

 private:
  std::function<void()> memory_map_changed_;
};

// The PIIX3 PCI-to-ISA bridge, function 01.0 (8086:7000). Routes PIRQA-D
// through PIRQRC[A:D] (0x60-0x63; bit 7 disables, bits 3:0 name the ISA IRQ)
// to the 8259 inputs, and drives each PIRQ straight to IOAPIC GSI 16-19.
// Also holds the reset control register RC at I/O 0xCF9 (PIIX3 datasheet,
// "RC - Reset Control Register").
// The ELCR (0x4D0/0x4D1) belongs to the PIC model, not here.
class Piix3IsaBridge : public PciFunction {
 public:
  // PIRQRCA's config offset (B-D follow) and its IRQEN# bit (2.2.11).
  static constexpr uint8_t kPirqRouteA = 0x60;
  static constexpr uint8_t kRouteDisable = 0x80;

  // Function "piix3-isa" with the PIIX3 header and power-on registers.
  Piix3IsaBridge();
  // Re-routes the PIRQs when PIRQRC[A:D] change.
  void WriteConfig(uint8_t offset, size_t size, uint32_t value) override;
  // Power-on config (routing disabled), RC cleared, outputs re-driven.
  void Reset() override;
  // Config space and RC; on load re-drives every ISA IRQ and GSI line.
  void Serialize(Serializer& s) override;

  // The wire PIRQ `pirq` (0-3) arrives on; give it to PciBus::ConnectPirq.
  IrqLine* pirq_input(int pirq) { return &pirq_inputs_[pirq & 3]; }
  // The 8259 input for ISA IRQ `irq` (0-15); nullptr leaves it unwired. The
  // bridge drives the line as if it owned it: a line shared with an ISA
  // device needs an OR in between.
  void ConnectIsaIrq(int irq, IrqLine* line);
  // IOAPIC input GSI 16 + `pirq`.
  void ConnectPirqGsi(int pirq, IrqLine* line);
  // The ISA IRQ PIRQ `pirq` is routed to, or -1 when disabled or reserved.
  int RoutedIrq(int pirq) const;

  // The reset control register window (see PciBus::set_reset_control).
  BusTarget* reset_control() { return &reset_control_; }
  // Called when the guest writes RC with bit 2 (reset CPU) set; `hard` is
  // bit 1 (full system reset rather than CPU-only INIT).
  void set_reset_handler(std::function<void(bool hard)> fn) { reset_handler_ = std::move(fn); }

 private:
  class PirqInput : public IrqLine {
   public:
    void SetLevel(bool high) override;
    Piix3IsaBridge* bridge = nullptr;
    bool level = false;
  };
  // Drives the ISA IRQ and GSI lines whose level changed (all when `force`).
  void UpdateOutputs(bool force = false);

  std::array<PirqInput, 4> pirq_inputs_{};
  std::array<IrqLine*, 16> isa_lines_{};
  std::array<IrqLine*, 4> gsi_lines_{};
  std::array<bool, 16> isa_driven_{};
  std::array<bool, 4> gsi_driven_{};
  uint8_t reset_control_value_ = 0;
  FunctionBusTarget reset_control_;
  std::function<void(bool)> reset_handler_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_PCI_H_
