#include "machine/pc.h"

#include "firmware/e820.h"

namespace x86vm {
namespace {

// Port and MMIO map of the board (QEMU "pc"/i440FX compatible where a
// firmware or guest depends on it).
constexpr uint64_t kPciConfigAddress = 0xcf8;
constexpr uint64_t kPciConfigData = 0xcfc;
constexpr uint64_t kI8042Data = 0x60;
constexpr uint64_t kI8042Command = 0x64;
constexpr uint64_t kRtcPorts = 0x70;
constexpr uint64_t kRtcPortCount = 4;  // 0x70/0x71 and the extended bank 0x72/0x73.
constexpr uint64_t kPort92 = 0x92;
constexpr uint64_t kPostCodePort = 0x80;
constexpr int kKeyboardIrq = 1;
constexpr int kPitIrq = 0;
constexpr int kRtcIrq = 8;
constexpr int kMouseIrq = 12;

}  // namespace

PcMachine::PcMachine(const PcConfig& config)
    : clock_(config.clock_mode, config.host_time) {}

PcMachine::~PcMachine() = default;

Result<std::unique_ptr<PcMachine>> PcMachine::Create(const PcConfig& config) {
  auto machine = std::unique_ptr<PcMachine>(new PcMachine(config));
  auto memory = GuestMemory::Create(config.memory_bytes);
  if (!memory) return std::unexpected(memory.error());
  machine->memory_ = std::move(*memory);
  if (auto r = machine->Wire(config); !r) return std::unexpected(r.error());
  return machine;
}

IrqLine* PcMachine::NewIsaIrqInput(int irq) {
  return isa_lines_[static_cast<size_t>(irq & 15)]->NewInput();
}

Result<> PcMachine::Wire(const PcConfig& config) {
  auto reg = [](Bus& bus, uint64_t base, uint64_t size, BusTarget* target,
                std::string label) { return bus.Register(base, size, target, std::move(label)); };

  // --- Interrupt controllers -------------------------------------------
  pic_ = std::make_unique<PicPair>();
  ioapic_ = std::make_unique<IoApic>(/*id=*/0);
  LocalApic::Config apic_config;
  apic_config.apic_id = 0;
  apic_config.bsp = true;
  lapic_ = std::make_unique<LocalApic>(clock_, apic_config);
  apic_router_.Add(lapic_.get());
  lapic_->set_pic(pic_.get());
  lapic_->set_ipi_sink([this](const Ipi& ipi) { apic_router_.SendIpi(ipi); });
  lapic_->set_eoi_broadcast([this](uint8_t vector) { ioapic_->Eoi(vector); });
  lapic_->set_mmio_move([this](std::optional<uint64_t> old_base,
                               std::optional<uint64_t> new_base) {
    if (old_base) mmio_.Unregister(*old_base);
    // A guest moving the APIC onto another window gets no APIC there (the
    // conflict is logged by the bus), never a crash.
    if (new_base) (void)mmio_.Register(*new_base, LocalApic::kMmioSize, lapic_.get(), "lapic");
  });
  // The TSC runs at 1 GHz of virtual time (see cpu/ for the guest's offset).
  lapic_->set_tsc([this] { return clock_.now_ns(); }, 1000000000ull);
  ioapic_->set_delivery([this](uint32_t dest, bool logical, uint8_t vector, int mode,
                               bool level) {
    return apic_router_.DeliverMessage(dest, logical, vector, mode, level);
  });
  for (int irq = 0; irq < kIsaIrqs; ++irq) {
    auto i = static_cast<size_t>(irq);
    isa_fanout_[i].Connect(pic_->input(irq));
    isa_fanout_[i].Connect(ioapic_->input(IsaIrqToGsi(irq)));
    isa_lines_[i] = std::make_unique<IrqOr>(&isa_fanout_[i]);
  }
  if (auto r = reg(pio_, PicPair::kMasterBase, PicPair::kWindowSize, pic_->master_target(),
                   "pic-master"); !r) return r;
  if (auto r = reg(pio_, PicPair::kSlaveBase, PicPair::kWindowSize, pic_->slave_target(),
                   "pic-slave"); !r) return r;
  if (auto r = reg(pio_, PicPair::kElcrBase, PicPair::kWindowSize, pic_->elcr_target(),
                   "elcr"); !r) return r;
  if (auto r = reg(mmio_, IoApic::kDefaultBase, IoApic::kMmioSize, ioapic_.get(), "ioapic");
      !r) return r;
  if (auto r = reg(mmio_, LocalApic::kDefaultBase, LocalApic::kMmioSize, lapic_.get(),
                   "lapic"); !r) return r;

  // --- Timers -------------------------------------------------------------
  pit_ = std::make_unique<Pit8254>(clock_, NewIsaIrqInput(kPitIrq));
  port61_ = std::make_unique<Port61>(clock_, *pit_);
  rtc_ = std::make_unique<RtcCmos>(clock_, NewIsaIrqInput(kRtcIrq),
                                   config.rtc_start_unix_seconds);
  rtc_->SetMemorySize(memory_->ram_below_4g_bytes(), memory_->ram_above_4g_bytes());
  if (auto r = reg(pio_, Pit8254::kPortBase, Pit8254::kPortCount, pit_.get(), "pit"); !r)
    return r;
  if (auto r = reg(pio_, Port61::kPort, 1, port61_.get(), "port61"); !r) return r;
  if (auto r = reg(pio_, kRtcPorts, kRtcPortCount, rtc_.get(), "rtc"); !r) return r;

  // --- Serial ports --------------------------------------------------------
  for (size_t i = 0; i < uarts_.size(); ++i) {
    uarts_[i] = std::make_unique<Uart16550>("com" + std::to_string(i + 1), clock_,
                                            NewIsaIrqInput(kComIrqs[i]),
                                            i == 0 ? config.com1_sink : nullptr);
    if (auto r = reg(pio_, kComPorts[i], Uart16550::kPortCount, uarts_[i].get(),
                     "com" + std::to_string(i + 1)); !r) return r;
  }

  // --- Keyboard controller, A20 and reset ------------------------------------
  i8042_ = std::make_unique<I8042>(NewIsaIrqInput(kKeyboardIrq), NewIsaIrqInput(kMouseIrq));
  port92_ = std::make_unique<SystemControlPortA>();
  i8042_->set_a20_changed([this](bool enabled) { SetA20(enabled); });
  port92_->set_a20_changed([this](bool enabled) { SetA20(enabled); });
  i8042_->set_reset_requested([this] { requests_.reset = true; });
  port92_->set_reset_requested([this] { requests_.reset = true; });
  if (auto r = reg(pio_, kI8042Data, 1, i8042_->data_port(), "i8042-data"); !r) return r;
  if (auto r = reg(pio_, kI8042Command, 1, i8042_->command_port(), "i8042-command"); !r)
    return r;
  if (auto r = reg(pio_, kPort92, 1, port92_.get(), "port92"); !r) return r;

  // --- Debug ports -------------------------------------------------------------
  debugcon_ = std::make_unique<DebugCon>(config.debugcon_sink);
  post_code_ = std::make_unique<PostCodePort>();
  if (auto r = reg(pio_, DebugCon::kPortBochs, 1, debugcon_.get(), "debugcon"); !r) return r;
  if (auto r = reg(pio_, DebugCon::kPortFirmware, 1, debugcon_.get(), "debugcon-fw"); !r)
    return r;
  if (auto r = reg(pio_, kPostCodePort, 1, post_code_.get(), "post-code"); !r) return r;
  if (config.exit_port) {
    exit_port_ = std::make_unique<ExitPort>();
    exit_port_->set_exit_requested([this](int status) { requests_.exit_status = status; });
    if (auto r = reg(pio_, *config.exit_port, ExitPort::kWindowBytes, exit_port_.get(),
                     "exit-port");
        !r) {
      return Fail("--exit-port {:#x}: {}", *config.exit_port, r.error().message);
    }
  }

  // --- ACPI power management -------------------------------------------------
  acpi_pm_ = std::make_unique<AcpiPm>(clock_, NewIsaIrqInput(AcpiPm::kSciIrq));
  acpi_pm_->set_power_off([this] { requests_.exit_status = 0; });
  acpi_pm_->set_reset_requested([this] { requests_.reset = true; });
  if (auto r = reg(pio_, AcpiPm::kDefaultBase, AcpiPm::kBlockBytes, acpi_pm_.get(), "acpi-pm");
      !r) return r;

  // --- PCI: i440FX host bridge at 00.0, PIIX3 ISA bridge at 01.0 -------------
  pci_ = std::make_unique<PciBus>(&pio_, &mmio_);
  host_bridge_ = std::make_unique<I440fxHostBridge>();
  isa_bridge_ = std::make_unique<Piix3IsaBridge>();
  if (auto r = pci_->AddFunction(0, 0, host_bridge_.get()); !r) return r;
  if (auto r = pci_->AddFunction(1, 0, isa_bridge_.get()); !r) return r;
  for (int p = 0; p < 4; ++p) {
    pci_->ConnectPirq(p, isa_bridge_->pirq_input(p));
    isa_bridge_->ConnectPirqGsi(p, ioapic_->input(16 + p));
  }
  for (int irq = 0; irq < kIsaIrqs; ++irq) isa_bridge_->ConnectIsaIrq(irq, NewIsaIrqInput(irq));
  pci_->set_reset_control(isa_bridge_->reset_control());
  isa_bridge_->set_reset_handler([this](bool) { requests_.reset = true; });
  host_bridge_->set_memory_map_changed([this] { ApplyPam(); });
  if (auto r = reg(pio_, kPciConfigAddress, 4, pci_->config_address_port(), "pci-address");
      !r) return r;
  if (auto r = reg(pio_, kPciConfigData, 4, pci_->config_data_port(), "pci-data"); !r)
    return r;

  // --- IDE at 01.1 (PIIX3 function 1) with the legacy ports -----------------
  ide_ = std::make_unique<Piix3Ide>(memory_.get(), NewIsaIrqInput(14), NewIsaIrqInput(15));
  for (int c = 0; c < 2; ++c) {
    if (auto r = reg(pio_, Piix3Ide::kCommandBlockBase[c], Piix3Ide::kCommandBlockBytes,
                     ide_->command_block(c), c ? "ide1-cmd" : "ide0-cmd");
        !r) return r;
    if (auto r = reg(pio_, Piix3Ide::kControlPort[c], Piix3Ide::kControlBlockBytes,
                     ide_->control_block(c), c ? "ide1-ctl" : "ide0-ctl");
        !r) return r;
  }
  if (auto r = pci_->AddFunction(1, 1, ide_.get()); !r) return r;
  if (config.disks.size() > 4) return Fail("--disk: at most 4 disks (IDE), {} given", config.disks.size());
  for (size_t i = 0; i < config.disks.size(); ++i) {
    auto disk = DiskImage::Open(config.disks[i].path, config.disks[i].read_only);
    if (!disk) return Fail("--disk: {}", disk.error().message);
    if (auto r = ide_->AttachDisk(static_cast<int>(i / 2), static_cast<int>(i % 2),
                                  std::move(*disk));
        !r) return r;
  }

  // --- fw_cfg: how firmware learns the machine ---------------------------------
  fw_cfg_ = std::make_unique<FwCfg>(memory_.get());
  if (auto r = reg(pio_, FwCfg::kIoPort, 2, fw_cfg_->io_port(), "fw_cfg"); !r) return r;
  if (auto r = reg(pio_, FwCfg::kDmaPort, 8, fw_cfg_->dma_port(), "fw_cfg-dma"); !r) return r;
  (void)fw_cfg_->AddU64(FwCfg::kRamSize, memory_->ram_bytes());
  (void)fw_cfg_->AddU16(FwCfg::kNbCpus, 1);
  (void)fw_cfg_->AddU16(FwCfg::kMaxCpus, 1);
  std::vector<E820Entry> e820;
  for (const E820Entry& e : BuildE820(*memory_)) {
    // QEMU's etc/e820 lists RAM only; firmware adds its own reservations.
    if (e.type == E820Type::kRam) e820.push_back(e);
  }
  if (auto r = fw_cfg_->AddFile(std::string(FwCfg::kE820File), EncodeE820(e820)); !r) return r;

  // Snapshot order: interrupt sources first, controllers last, so that when
  // a snapshot loads, the sources re-drive their wires into controllers whose
  // restored state then replaces whatever those transient edges did.
  devices_ = {pit_.get(),         port61_.get(),     rtc_.get(),      uarts_[0].get(),
              uarts_[1].get(),    uarts_[2].get(),   uarts_[3].get(), i8042_.get(),
              port92_.get(),      debugcon_.get(),   post_code_.get(), acpi_pm_.get(),
              pci_.get(),         host_bridge_.get(), isa_bridge_.get(), ide_.get(),
              fw_cfg_.get()};
  if (exit_port_) devices_.push_back(exit_port_.get());
  devices_.insert(devices_.end(), {pic_.get(), ioapic_.get(), lapic_.get()});
  return {};
}

void PcMachine::SetA20(bool enabled) {
  // The keyboard controller's output port and port 0x92 both drive the one
  // A20 gate; the last write wins, as in QEMU and Bochs.
  memory_->SetA20(enabled);
}

void PcMachine::ApplyPam() {
  // The BIOS area is RAM-backed here; each PAM segment is write-protected
  // when the chipset routes its reads to DRAM but not its writes (the
  // "shadow, read-only" setting firmware uses after copying itself).
  for (const I440fxHostBridge::PamSegment& s : host_bridge_->PamSegments()) {
    memory_->SetBiosShadowReadOnly(s.base, s.size_bytes, s.read_enable && !s.write_enable);
  }
}

void PcMachine::Reset() {
  for (Device* d : devices_) d->Reset();
  requests_ = GuestRequests{};
  SetA20(true);
  ApplyPam();
}

}  // namespace x86vm
