#include "machine/builtin_bios.h"

#include "firmware/acpi/acpi_tables.h"
#include "firmware/bios/bios_abi.h"
#include "firmware/e820.h"
#include "machine/pc_acpi.h"

namespace x86vm {
namespace {

namespace abi = bios_abi;

// PIIX3 IDE timing registers (IDETIM, primary at 40h, secondary at 42h;
// Intel 82371SB datasheet 2.4.4): bit 15 enables the channel's decode,
// which Linux's ata_piix checks before probing a port.
constexpr uint8_t kIdeTimPrimary = 0x40;
constexpr uint8_t kIdeTimSecondary = 0x42;
constexpr uint16_t kIdeTimDecodeEnable = 0x8000;
// The 8259 edge/level control registers (PIIX3 ELCR1/ELCR2).
constexpr uint16_t kElcr1 = 0x4d0;
constexpr uint16_t kElcr2 = 0x4d1;

}  // namespace

Result<std::unique_ptr<BuiltinBios>> BuiltinBios::Attach(PcMachine& machine) {
  BiosEnvironment env;
  env.memory = &machine.memory();
  env.pio = &machine.pio();
  env.clock = &machine.clock();
  for (int channel = 0; channel < Piix3Ide::kChannels; ++channel) {
    for (int unit = 0; unit < Piix3Ide::kDrivesPerChannel; ++unit) {
      if (DiskImage* disk = machine.ide().disk(channel, unit)) {
        env.disks.push_back({disk, static_cast<uint8_t>(channel), static_cast<uint8_t>(unit)});
      }
    }
  }
  int devfn = machine.ide().devfn();
  if (devfn >= 0) {
    env.ide_pci_device = static_cast<uint8_t>(devfn >> 3);
    env.ide_pci_function = static_cast<uint8_t>(devfn & 7);
  }
  auto bios = std::unique_ptr<BuiltinBios>(new BuiltinBios(machine, std::move(env)));
  if (auto r = machine.pio().Register(abi::kTrapPort, 4, bios.get(), "bios-trap"); !r) {
    return Fail("--bios builtin: trap port {:#x}: {}", abi::kTrapPort, r.error().message);
  }
  return bios;
}

BuiltinBios::BuiltinBios(PcMachine& machine, BiosEnvironment env)
    : machine_(machine), services_(std::move(env)), log_(Logger("bios")) {
  services_.set_board_post([this] { BoardPost(); });
}

BuiltinBios::~BuiltinBios() { machine_.pio().Unregister(abi::kTrapPort); }

void BuiltinBios::Read(uint64_t offset, std::span<uint8_t> data) {
  StoreLe(data, offset == 0 ? abi::kTrapSignature : 0);
}

void BuiltinBios::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0 || data.size() != 4) {
    if (bad_write_log_.Allow()) {
      log_->warn("trap port: {}-byte write at offset {} ignored (the stubs write 4 bytes)",
                 data.size(), offset);
    }
    return;
  }
  services_.HandleTrap(static_cast<uint32_t>(LoadLe(data)));
}

void BuiltinBios::BoardPost() {
  SetUpPci();
  // ACPI tables at the top of low RAM, RSDP at 0xE0000 (below the 64 KiB
  // image at 0xF0000, in the area OSPM scans: ACPI 6.5 5.2.5.1).
  GuestMemory& memory = machine_.memory();
  AcpiLayout layout = DefaultAcpiLayout(memory.ram_below_4g_bytes());
  auto acpi = InstallAcpiTables(DescribePcForAcpi(), layout,
                                [&memory](uint64_t gpa, std::span<const uint8_t> bytes) {
                                  return memory.WritePhysical(gpa, bytes);
                                });
  if (!acpi) {
    log_->error("ACPI tables not installed: {}", acpi.error().message);
    services_.set_e820(BuildE820(memory));
    return;
  }
  services_.set_e820(BuildE820(memory, acpi->e820));
}

void BuiltinBios::SetUpPci() {
  PciBus& pci = machine_.pci();
  using namespace pci_config;

  // IDE decode on both channels.
  if (int devfn = machine_.ide().devfn(); devfn >= 0) {
    PciFunction* ide =
        pci.FindFunction(static_cast<uint8_t>(devfn >> 3), static_cast<uint8_t>(devfn & 7));
    ide->WriteConfig(kIdeTimPrimary, 2, kIdeTimDecodeEnable);
    ide->WriteConfig(kIdeTimSecondary, 2, kIdeTimDecodeEnable);
  }

  // PIRQ routing on the PIIX3 and those IRQs level-triggered in the ELCR.
  AcpiMachine acpi = DescribePcForAcpi();
  PciFunction* router = pci.FindFunction(acpi.pirq_router_device, acpi.pirq_router_function);
  uint16_t elcr = 0;
  for (int p = 0; p < 4; ++p) {
    uint8_t irq = kPirqIrqs[static_cast<size_t>(p)];
    if (router) router->WriteConfig(static_cast<uint8_t>(acpi.pirq_route_offset + p), 1, irq);
    elcr = static_cast<uint16_t>(elcr | (1u << irq));
  }
  machine_.pio().WriteValue(kElcr1, 1, elcr & 0xff);
  machine_.pio().WriteValue(kElcr2, 1, elcr >> 8);

  // BARs (I/O from 0xC000, memory from the PCI hole up, each naturally
  // aligned), decode and bus mastering on, and the interrupt line of each
  // function with a pin (the _PRT swizzle, then the routing above).
  uint32_t io_next = kPciIoStart;
  uint64_t mem_next = kPciMmioStart;
  for (uint8_t dev = 0; dev < 32; ++dev) {
    for (uint8_t fn = 0; fn < 8; ++fn) {
      PciFunction* f = pci.FindFunction(dev, fn);
      if (f == nullptr || (dev == 0 && fn == 0)) continue;  // The host bridge has no BARs.
      bool any_bar = false;
      for (int bar = 0; bar < PciFunction::kNumBars; ++bar) {
        auto offset = static_cast<uint8_t>(kBar0 + 4 * bar);
        uint32_t original = f->ReadConfig(offset, 4);
        f->WriteConfig(offset, 4, 0xffffffff);
        uint32_t probe = f->ReadConfig(offset, 4);
        f->WriteConfig(offset, 4, original);
        if (probe == 0 || probe == 0xffffffff) continue;
        any_bar = true;
        if (probe & 1) {  // I/O BAR.
          uint32_t size = (~(probe & ~3u) + 1) & 0xffff;
          if (size == 0) continue;
          io_next = (io_next + size - 1) & ~(size - 1);
          f->WriteConfig(offset, 4, io_next);
          io_next += size;
          continue;
        }
        bool is64 = ((probe >> 1) & 3) == 2;
        uint64_t mask = probe & ~0xfull;
        if (is64 && bar + 1 < PciFunction::kNumBars) {
          auto high = static_cast<uint8_t>(offset + 4);
          uint32_t high_original = f->ReadConfig(high, 4);
          f->WriteConfig(high, 4, 0xffffffff);
          mask |= uint64_t{f->ReadConfig(high, 4)} << 32;
          f->WriteConfig(high, 4, high_original);
        } else {
          mask |= 0xffffffff00000000ull;
        }
        uint64_t size = ~mask + 1;
        mem_next = (mem_next + size - 1) & ~(size - 1);
        if (mem_next + size > acpi.pci_mmio_end + 1ull) {
          log_->warn("PCI {:02x}.{}: no room for a {:#x}-byte BAR", dev, fn, size);
          if (is64) ++bar;
          continue;
        }
        f->WriteConfig(offset, 4, static_cast<uint32_t>(mem_next));
        if (is64) {
          f->WriteConfig(static_cast<uint8_t>(offset + 4), 4,
                         static_cast<uint32_t>(mem_next >> 32));
          ++bar;
        }
        mem_next += size;
      }
      if (any_bar) {
        f->WriteConfig(
            kCommand, 2,
            f->ReadConfig(kCommand, 2) | kCommandIo | kCommandMemory | kCommandBusMaster);
      }
      uint8_t pin = static_cast<uint8_t>(f->ReadConfig(kInterruptPin, 1));
      if (pin >= 1 && pin <= 4) {
        int pirq = AcpiPirqForSlotPin(dev, pin - 1);
        f->WriteConfig(kInterruptLine, 1, kPirqIrqs[static_cast<size_t>(pirq)]);
      }
    }
  }
}

}  // namespace x86vm
