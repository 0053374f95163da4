#include "devices/pci.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdlib>

namespace x86vm {
namespace {

using namespace pci_config;

// Wiring mistakes in our own code (bad BAR definitions, bad slot numbers
// from the board) are bugs, not guest behaviour: stop loudly.
void Require(bool condition, std::string_view what) {
  if (!condition) {
    Logger("pci")->critical("internal error: {}", what);
    std::abort();
  }
}

bool Overlaps(uint8_t offset, size_t size, uint8_t start, size_t length) {
  return offset < start + length && start < offset + size;
}

}  // namespace

// ---------------------------------------------------------------------------
// PciFunction

PciFunction::PciFunction(std::string name) : name_(std::move(name)), log_(Logger("pci")) {
  // PCI 3.0 6.2.2: the Command bits we model (I/O, memory, bus master,
  // parity and SERR response, INTx disable) are read/write.
  SetWriteMask16(kCommand, kCommandIo | kCommandMemory | kCommandBusMaster | kCommandParity |
                               kCommandSerr | kCommandIntxDisable);
  // PCI 3.0 6.2.3: master data parity error, signaled/received target abort,
  // received master abort, signaled system error and detected parity error
  // are write-1-to-clear.
  SetW1cMask16(kStatus, 0xf900);
  wmask_[kCacheLineSize] = 0xff;
  wmask_[kLatencyTimer] = 0xff;
  wmask_[kInterruptLine] = 0xff;
  // Device-specific space is writable unless a device says otherwise (the
  // QEMU default; the bridges and later devices narrow it).
  std::fill(wmask_.begin() + 0x40, wmask_.end(), 0xff);
}

PciFunction::~PciFunction() {
  if (bus_ != nullptr) {
    UnmapAll();
    bus_->Detach(this);
  }
}

uint16_t PciFunction::config16(uint8_t offset) const {
  return static_cast<uint16_t>(config_[offset] | (offset < 255 ? config_[offset + 1] << 8 : 0));
}

uint32_t PciFunction::config32(uint8_t offset) const {
  uint32_t value = 0;
  for (int i = 0; i < 4 && offset + i < 256; ++i) {
    value |= static_cast<uint32_t>(config_[offset + i]) << (8 * i);
  }
  return value;
}

void PciFunction::SetConfig16(uint8_t offset, uint16_t value) {
  config_[offset] = static_cast<uint8_t>(value);
  if (offset < 255) config_[offset + 1] = static_cast<uint8_t>(value >> 8);
}

void PciFunction::SetConfig32(uint8_t offset, uint32_t value) {
  for (int i = 0; i < 4 && offset + i < 256; ++i) {
    config_[offset + i] = static_cast<uint8_t>(value >> (8 * i));
  }
}

void PciFunction::SetWriteMask16(uint8_t offset, uint16_t mask) {
  wmask_[offset] = static_cast<uint8_t>(mask);
  if (offset < 255) wmask_[offset + 1] = static_cast<uint8_t>(mask >> 8);
}

void PciFunction::SetWriteMask32(uint8_t offset, uint32_t mask) {
  for (int i = 0; i < 4 && offset + i < 256; ++i) {
    wmask_[offset + i] = static_cast<uint8_t>(mask >> (8 * i));
  }
}

void PciFunction::SetW1cMask16(uint8_t offset, uint16_t mask) {
  w1cmask_[offset] = static_cast<uint8_t>(mask);
  if (offset < 255) w1cmask_[offset + 1] = static_cast<uint8_t>(mask >> 8);
}

void PciFunction::SetIds(uint16_t vendor_id, uint16_t device_id) {
  SetConfig16(kVendorId, vendor_id);
  SetConfig16(kDeviceId, device_id);
}

void PciFunction::SetClass(uint8_t base_class, uint8_t subclass, uint8_t prog_if) {
  config_[kClassProgIf] = prog_if;
  config_[kClassProgIf + 1] = subclass;
  config_[kClassProgIf + 2] = base_class;
}

void PciFunction::SetRevision(uint8_t revision) { config_[kRevisionId] = revision; }

void PciFunction::SetHeaderType(bool multi_function) {
  config_[kHeaderType] = multi_function ? 0x80 : 0x00;
}

void PciFunction::SetSubsystem(uint16_t subsystem_vendor_id, uint16_t subsystem_id) {
  SetConfig16(kSubsystemVendorId, subsystem_vendor_id);
  SetConfig16(kSubsystemId, subsystem_id);
}

void PciFunction::SetInterruptPin(uint8_t pin) {
  Require(pin <= 4, "interrupt pin must be 0-4");
  config_[kInterruptPin] = pin;
}

void PciFunction::AddCapability(uint8_t id, uint8_t offset, uint8_t size_bytes) {
  Require(offset >= 0x40 && (offset & 3) == 0 && size_bytes >= 2 && offset + size_bytes <= 256,
          "capability must be dword aligned inside 0x40-0xff");
  // PCI 3.0 6.7: the list is a chain of (id, next) pairs starting at 0x34;
  // new capabilities are prepended.
  config_[offset] = id;
  config_[offset + 1] = config_[kCapabilitiesPointer];
  config_[kCapabilitiesPointer] = offset;
  std::fill(wmask_.begin() + offset, wmask_.begin() + offset + size_bytes, 0);
  SetConfig16(kStatus, config16(kStatus) | kStatusCapabilities);
}

void PciFunction::DefineIoBar(int index, uint32_t size_bytes, BusTarget* target) {
  Require(index >= 0 && index < kNumBars && bars_[index].kind == BarKind::kNone,
          "I/O BAR index free");
  Require(size_bytes >= 4 && std::has_single_bit(size_bytes) && target != nullptr,
          "I/O BAR size is a power of two >= 4 with a target");
  bars_[index] = Bar{BarKind::kIo, size_bytes, target};
  const uint8_t reg = static_cast<uint8_t>(kBar0 + 4 * index);
  // PCI 3.0 6.2.5.1: bit 0 = 1 marks I/O space; the bits below the size read
  // back as zero, which is how sizing works.
  SetConfig32(reg, 0x1);
  SetWriteMask32(reg, ~(size_bytes - 1) & 0xfffffffc);
}

void PciFunction::DefineMemoryBar(int index, uint64_t size_bytes, BusTarget* target, bool is_64bit,
                                  bool prefetchable) {
  Require(index >= 0 && index + (is_64bit ? 1 : 0) < kNumBars &&
              bars_[index].kind == BarKind::kNone &&
              (!is_64bit || bars_[index + 1].kind == BarKind::kNone),
          "memory BAR index free");
  Require(size_bytes >= 16 && std::has_single_bit(size_bytes) && target != nullptr &&
              (is_64bit || size_bytes <= (1ull << 31)),
          "memory BAR size is a power of two >= 16 with a target");
  const uint8_t reg = static_cast<uint8_t>(kBar0 + 4 * index);
  const uint64_t mask = ~(size_bytes - 1);
  // PCI 3.0 6.2.5.1: bits 2:1 = 10b for a 64-bit BAR, bit 3 = prefetchable.
  SetConfig32(reg, (is_64bit ? 0x4u : 0x0u) | (prefetchable ? 0x8u : 0x0u));
  SetWriteMask32(reg, static_cast<uint32_t>(mask) & 0xfffffff0);
  bars_[index] = Bar{is_64bit ? BarKind::kMemory64 : BarKind::kMemory32, size_bytes, target};
  if (is_64bit) {
    bars_[index + 1] = Bar{BarKind::kMemory64High, 0, nullptr};
    SetConfig32(static_cast<uint8_t>(reg + 4), 0);
    SetWriteMask32(static_cast<uint8_t>(reg + 4), static_cast<uint32_t>(mask >> 32));
  }
}

uint64_t PciFunction::bar_address(int index) const {
  if (index < 0 || index >= kNumBars) return 0;
  const uint8_t reg = static_cast<uint8_t>(kBar0 + 4 * index);
  switch (bars_[index].kind) {
    case BarKind::kIo:
      return config32(reg) & 0xfffffffc;
    case BarKind::kMemory32:
      return config32(reg) & 0xfffffff0;
    case BarKind::kMemory64:
      return (config32(reg) & 0xfffffff0) |
             (static_cast<uint64_t>(config32(static_cast<uint8_t>(reg + 4))) << 32);
    default:
      return 0;
  }
}

bool PciFunction::bar_mapped(int index) const {
  return index >= 0 && index < kNumBars && bars_[index].mapped;
}

bool PciFunction::DesiredBase(int index, uint64_t* base) const {
  const Bar& bar = bars_[index];
  const uint16_t cmd = command();
  const uint64_t addr = bar_address(index);
  // Address 0 counts as unassigned (QEMU's pci_bar_address does the same):
  // firmware and OSes leave BARs at 0 until they place them.
  if (addr == 0) return false;
  uint64_t limit = 0;
  switch (bar.kind) {
    case BarKind::kIo:
      if (!(cmd & kCommandIo)) return false;
      limit = 0x10000;  // x86 I/O space is 64 KiB.
      break;
    case BarKind::kMemory32:
      if (!(cmd & kCommandMemory)) return false;
      limit = 1ull << 32;
      break;
    case BarKind::kMemory64:
      if (!(cmd & kCommandMemory)) return false;
      limit = 0;  // Anything that does not wrap.
      break;
    default:
      return false;
  }
  const uint64_t last = addr + bar.size_bytes - 1;
  if (last < addr) return false;
  if (limit != 0 && last >= limit) return false;
  *base = addr;
  return true;
}

void PciFunction::Unmap(int index) {
  Bar& bar = bars_[index];
  if (!bar.mapped) return;
  Bus* bus = bar.kind == BarKind::kIo ? bus_->pio() : bus_->mmio();
  bus->Unregister(bar.mapped_base);
  bar.mapped = false;
}

void PciFunction::UnmapAll() {
  if (bus_ == nullptr) return;
  for (int i = 0; i < kNumBars; ++i) Unmap(i);
}

void PciFunction::UnmapStale() {
  if (bus_ == nullptr) return;
  for (int i = 0; i < kNumBars; ++i) {
    uint64_t base = 0;
    if (bars_[i].mapped && (!DesiredBase(i, &base) || base != bars_[i].mapped_base)) {
      Unmap(i);
    }
  }
}

void PciFunction::MapWanted() {
  if (bus_ == nullptr) return;
  for (int i = 0; i < kNumBars; ++i) {
    Bar& bar = bars_[i];
    uint64_t base = 0;
    if (bar.mapped || !DesiredBase(i, &base)) continue;
    Bus* bus = bar.kind == BarKind::kIo ? bus_->pio() : bus_->mmio();
    Result<> r = bus->Register(base, bar.size_bytes, bar.target, fmt::format("{} BAR{}", name_, i));
    if (r.has_value()) {
      bar.mapped = true;
      bar.mapped_base = base;
    } else if (map_failure_log_.Allow()) {
      // A guest can program clashing BARs; the window stays off until the
      // clash goes away (retried on every later BAR or Command write).
      log_->warn("{}: BAR{} not mapped: {}", name_, i, r.error().message);
    }
  }
}

void PciFunction::UpdateMappings() {
  if (bus_ != nullptr) {
    bus_->UpdateAllMappings();
  }
}

bool PciFunction::intx_asserted() const {
  const uint8_t pin = config_[kInterruptPin];
  return irq_level_ && pin >= 1 && pin <= 4 && !(command() & kCommandIntxDisable);
}

void PciFunction::UpdateIntx() {
  // PCI 3.0 6.2.3: Status.INTERRUPT shows the function's interrupt whether or
  // not Command.INTX_DISABLE keeps it off the pin.
  uint16_t status = config16(kStatus);
  status =
      irq_level_ ? (status | kStatusInterrupt) : static_cast<uint16_t>(status & ~kStatusInterrupt);
  SetConfig16(kStatus, status);
  if (bus_ != nullptr) bus_->UpdatePirqs();
}

void PciFunction::SetIrq(bool level) {
  if (level == irq_level_) return;
  irq_level_ = level;
  UpdateIntx();
}

uint32_t PciFunction::ReadConfig(uint8_t offset, size_t size) {
  uint32_t value = 0;
  for (size_t i = 0; i < size && i < 4 && offset + i < 256; ++i) {
    value |= static_cast<uint32_t>(config_[offset + i]) << (8 * i);
  }
  return value;
}

void PciFunction::WriteConfig(uint8_t offset, size_t size, uint32_t value) {
  for (size_t i = 0; i < size && i < 4 && offset + i < 256; ++i) {
    const size_t a = offset + i;
    const uint8_t byte = static_cast<uint8_t>(value >> (8 * i));
    config_[a] = static_cast<uint8_t>((config_[a] & ~wmask_[a]) | (byte & wmask_[a]));
    config_[a] = static_cast<uint8_t>(config_[a] & ~(byte & w1cmask_[a]));
  }
  if (Overlaps(offset, size, kCommand, 2) || Overlaps(offset, size, kBar0, 4 * kNumBars)) {
    UpdateMappings();
  }
  if (Overlaps(offset, size, kCommand, 2)) UpdateIntx();
}

void PciFunction::Attach(PciBus* bus, int devfn) {
  bus_ = bus;
  devfn_ = devfn;
  power_on_config_ = config_;
}

void PciFunction::Reset() {
  if (bus_ != nullptr) {
    UnmapAll();
    config_ = power_on_config_;
  }
  irq_level_ = false;
  UpdateIntx();
  UpdateMappings();
}

void PciFunction::SerializePciState(Serializer& s) {
  s.Bytes(config_);
  s(irq_level_);
  if (s.loading()) {
    // BAR windows and the INTx wire are derived from the loaded registers.
    UpdateMappings();
    UpdateIntx();
  }
}

void PciFunction::Serialize(Serializer& s) {
  s.Section(name_, 1);
  SerializePciState(s);
}

// ---------------------------------------------------------------------------
// PciBus

PciBus::PciBus(Bus* pio, Bus* mmio) : pio_(pio), mmio_(mmio), log_(Logger("pci")) {
  Require(pio != nullptr && mmio != nullptr, "PciBus needs both buses");
}

PciBus::~PciBus() {
  for (PciFunction* fn : attached_) {
    fn->UnmapAll();
    fn->bus_ = nullptr;
    fn->devfn_ = -1;
  }
}

Result<> PciBus::AddFunction(uint8_t device, uint8_t function, PciFunction* fn) {
  if (device >= 32 || function >= 8 || fn == nullptr) {
    return Fail("pci: bad slot {:02x}.{}", device, function);
  }
  const int devfn = device << 3 | function;
  if (functions_[devfn] != nullptr) {
    return Fail("pci: slot {:02x}.{} already holds '{}'", device, function,
                functions_[devfn]->name());
  }
  if (fn->bus_ != nullptr) {
    return Fail("pci: '{}' is already on a bus", fn->name());
  }
  functions_[devfn] = fn;
  attached_.push_back(fn);
  fn->Attach(this, devfn);
  UpdateAllMappings();
  UpdatePirqs();
  return {};
}

void PciBus::Detach(PciFunction* fn) {
  if (fn->devfn_ >= 0) functions_[fn->devfn_] = nullptr;
  attached_.erase(std::remove(attached_.begin(), attached_.end(), fn), attached_.end());
  fn->bus_ = nullptr;
  fn->devfn_ = -1;
  // No UpdatePirqs(): this runs from a destructor, possibly while the
  // machine is being torn down and the IRQ receivers are already gone.
}

PciFunction* PciBus::FindFunction(uint8_t device, uint8_t function) const {
  if (device >= 32 || function >= 8) return nullptr;
  return functions_[device << 3 | function];
}

void PciBus::Reset() { config_address_ = 0; }

void PciBus::Serialize(Serializer& s) {
  s.Section("pci", 1);
  s(config_address_);
  if (s.loading()) {
    config_address_ &= 0x80fffffc;
    UpdatePirqs(/*force=*/true);
  }
}

void PciBus::ConnectPirq(int pirq, IrqLine* line) {
  Require(pirq >= 0 && pirq < 4, "PIRQ index 0-3");
  pirq_lines_[pirq] = line;
  if (line != nullptr) line->SetLevel(pirq_driven_[pirq]);
}

int PciBus::PirqForPin(uint8_t device, uint8_t pin) {
  // INTA of device 1 lands on PIRQA, device 2 on PIRQB, ..., wrapping; the
  // BIOS $PIR/ACPI _PRT tables must describe the same swizzle.
  return ((pin - 1) + (device - 1)) & 3;
}

void PciBus::UpdatePirqs(bool force) {
  std::array<bool, 4> levels{};
  for (const PciFunction* fn : attached_) {
    if (fn->intx_asserted()) {
      levels[PirqForPin(static_cast<uint8_t>(fn->devfn_ >> 3), fn->config8(kInterruptPin))] = true;
    }
  }
  for (int p = 0; p < 4; ++p) {
    if (!force && levels[p] == pirq_driven_[p]) continue;
    pirq_driven_[p] = levels[p];
    if (pirq_lines_[p] != nullptr) pirq_lines_[p]->SetLevel(levels[p]);
  }
}

void PciBus::UpdateAllMappings() {
  // Two passes, so a window that moves away frees its range before another
  // function tries to claim it.
  for (PciFunction* fn : attached_) fn->UnmapStale();
  for (PciFunction* fn : attached_) fn->MapWanted();
}

PciFunction* PciBus::Selected() const {
  // PCI 3.0 3.2.2.3.2: bit 31 enables, bits 23:16 bus, 15:11 device, 10:8
  // function, 7:2 register.
  if (!(config_address_ & 0x80000000u)) return nullptr;
  if (((config_address_ >> 16) & 0xff) != 0) return nullptr;
  return functions_[(config_address_ >> 8) & 0xff];
}

uint32_t PciBus::ConfigRead(uint8_t device, uint8_t function, uint8_t offset, size_t size) {
  PciFunction* fn = FindFunction(device, function);
  if (fn == nullptr || (size != 1 && size != 2 && size != 4) || (offset & 3) + size > 4) {
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
  }
  return fn->ReadConfig(offset, size);
}

void PciBus::ConfigWrite(uint8_t device, uint8_t function, uint8_t offset, size_t size,
                         uint32_t value) {
  PciFunction* fn = FindFunction(device, function);
  if (fn == nullptr || (size != 1 && size != 2 && size != 4) || (offset & 3) + size > 4) {
    return;
  }
  fn->WriteConfig(offset, size, value);
}

void PciBus::AddressPort::Read(uint64_t offset, std::span<uint8_t> data) {
  if (offset == 0 && data.size() == 4) {
    StoreLe(data, bus_->config_address_);
  } else if (offset == 1 && data.size() == 1 && bus_->reset_control_ != nullptr) {
    bus_->reset_control_->Read(0, data);
  } else {
    // Only dword accesses reach CONFIG_ADDRESS (PCI 3.0 3.2.2.3.2); others
    // are ordinary I/O that nothing else answers here.
    std::fill(data.begin(), data.end(), 0xff);
  }
}

void PciBus::AddressPort::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == 0 && data.size() == 4) {
    // Bits 30:24 and 1:0 are reserved and read back as zero.
    bus_->config_address_ = static_cast<uint32_t>(LoadLe(data)) & 0x80fffffc;
  } else if (offset == 1 && data.size() == 1 && bus_->reset_control_ != nullptr) {
    bus_->reset_control_->Write(0, data);
  } else if (bus_->odd_access_log_.Allow()) {
    bus_->log_->debug("ignored {}-byte write to {:#x}", data.size(), 0xcf8 + offset);
  }
}

void PciBus::DataPort::Read(uint64_t offset, std::span<uint8_t> data) {
  PciFunction* fn = bus_->Selected();
  if (fn == nullptr || offset + data.size() > 4) {
    // Master abort: no function claims the cycle, the host bridge returns
    // all ones (PCI 3.0 6.1: vendor ID 0xFFFF means "absent").
    std::fill(data.begin(), data.end(), 0xff);
    return;
  }
  const uint8_t reg = static_cast<uint8_t>((bus_->config_address_ & 0xfc) + offset);
  StoreLe(data, fn->ReadConfig(reg, data.size()));
}

void PciBus::DataPort::Write(uint64_t offset, std::span<const uint8_t> data) {
  PciFunction* fn = bus_->Selected();
  if (fn == nullptr || offset + data.size() > 4) return;
  const uint8_t reg = static_cast<uint8_t>((bus_->config_address_ & 0xfc) + offset);
  fn->WriteConfig(reg, data.size(), static_cast<uint32_t>(LoadLe(data)));
}

// ---------------------------------------------------------------------------
// I440fxHostBridge

I440fxHostBridge::I440fxHostBridge() : PciFunction("i440fx") {
  // i440FX datasheet 3.2: VID 8086h, DID 1237h, RID 02h, class 060000h.
  SetIds(0x8086, 0x1237);
  SetRevision(0x02);
  SetClass(0x06, 0x00, 0x00);
  SetHeaderType(false);
  // QEMU's default subsystem IDs for its PCI devices (Red Hat, 1100h).
  SetSubsystem(0x1af4, 0x1100);
  SetConfig16(pci_config::kStatus, 0x0200);  // DEVSEL# medium timing.
  // PAM0 (3.2.18): only bits 5:4 (0F0000h-0FFFFFh) exist; PAM1-6 have two
  // read/write enable pairs, bits 5:4 and 1:0.
  SetWriteMask8(kPam0, 0x30);
  for (int i = 1; i < 7; ++i) SetWriteMask8(static_cast<uint8_t>(kPam0 + i), 0x33);
  // SMRAM (3.2.23): default 02h, C_BASE_SEG (2:0) fixed at 010b (A0000h),
  // bit 7 reserved; bits 6:3 are the control bits.
  SetConfig8(kSmram, 0x02);
  SetWriteMask8(kSmram, kSmramDOpen | kSmramDCls | kSmramDLck | kSmramGSmrame);
}

void I440fxHostBridge::WriteConfig(uint8_t offset, size_t size, uint32_t value) {
  std::array<uint8_t, 7> old_pam;
  for (int i = 0; i < 7; ++i) old_pam[i] = pam(i);
  const uint8_t old_smram = smram();
  PciFunction::WriteConfig(offset, size, value);
  uint8_t new_smram = smram();
  // 3.2.23: setting D_LCK clears D_OPEN; once locked, D_OPEN stays 0 and
  // D_LCK stays 1 until reset.
  if (new_smram & kSmramDLck) new_smram &= static_cast<uint8_t>(~kSmramDOpen);
  if (old_smram & kSmramDLck) {
    new_smram = static_cast<uint8_t>((new_smram | kSmramDLck) & ~kSmramDOpen);
  }
  SetConfig8(kSmram, new_smram);
  bool changed = new_smram != old_smram;
  for (int i = 0; i < 7; ++i) changed |= old_pam[i] != pam(i);
  if (changed && memory_map_changed_) memory_map_changed_();
}

std::array<I440fxHostBridge::PamSegment, 13> I440fxHostBridge::PamSegments() const {
  std::array<PamSegment, 13> segments{};
  // Nibble bit 0 = RE, bit 1 = WE (i440FX datasheet 3.2.18, table 6).
  const uint8_t pam0 = pam(0) >> 4;
  segments[0] = PamSegment{0xf0000, 0x10000, (pam0 & 1) != 0, (pam0 & 2) != 0};
  for (int i = 0; i < 12; ++i) {
    const uint8_t reg = pam(1 + i / 2);
    const uint8_t nibble = (i % 2 == 0) ? (reg & 0xf) : (reg >> 4);
    segments[1 + i] = PamSegment{static_cast<uint32_t>(0xc0000 + i * 0x4000), 0x4000,
                                 (nibble & 1) != 0, (nibble & 2) != 0};
  }
  return segments;
}

void I440fxHostBridge::Reset() {
  PciFunction::Reset();
  if (memory_map_changed_) memory_map_changed_();
}

void I440fxHostBridge::Serialize(Serializer& s) {
  PciFunction::Serialize(s);
  if (s.loading() && memory_map_changed_) memory_map_changed_();
}

// ---------------------------------------------------------------------------
// Piix3IsaBridge

Piix3IsaBridge::Piix3IsaBridge()
    : PciFunction("piix3-isa"),
      reset_control_([this](uint64_t, size_t) -> uint64_t { return reset_control_value_; },
                     [this](uint64_t, size_t, uint64_t value) {
                       // PIIX3 RC: bit 2 (RCPU) starts a reset, bit 1 (SRST) picks a
                       // hard (system) reset over a soft (INIT) one. Like QEMU, any
                       // write with bit 2 set resets; only SRST is remembered.
                       const bool hard = (value & 0x2) != 0;
                       if (value & 0x4) {
                         if (reset_handler_) reset_handler_(hard);
                         return;
                       }
                       reset_control_value_ = static_cast<uint8_t>(value & 0x2);
                     }) {
  // PIIX3 datasheet 2.2: VID 8086h, DID 7000h, class 060100h; function 0 of
  // a multi-function device (IDE at function 1).
  SetIds(0x8086, 0x7000);
  SetClass(0x06, 0x01, 0x00);
  SetHeaderType(true);
  SetSubsystem(0x1af4, 0x1100);
  SetConfig16(pci_config::kStatus, 0x0200);
  // Power-on values of the registers firmware looks at (datasheet 2.2, as
  // QEMU's piix3 reset sets them).
  SetConfig8(0x4c, 0x4d);  // IORT: ISA I/O recovery timer.
  SetConfig8(0x4e, 0x03);  // XBCS: X-bus chip select.
  SetConfig8(0x69, 0x02);  // TOM: top of memory.
  SetConfig8(0x70, 0x80);  // MBIRQ0: disabled.
  SetConfig8(0x76, 0x0c);  // MBDMA0/1: disabled.
  SetConfig8(0x77, 0x0c);
  SetConfig8(0x78, 0x02);  // PCSC: programmable chip select.
  SetConfig8(0xa0, 0x08);  // SMICNTL.
  SetConfig8(0xa8, 0x0f);  // SEE.
  // PIRQRC[A:D] (2.2.11): default 80h (routing disabled); bits 6:4 reserved.
  for (int p = 0; p < 4; ++p) {
    SetConfig8(static_cast<uint8_t>(kPirqRouteA + p), kRouteDisable);
    SetWriteMask8(static_cast<uint8_t>(kPirqRouteA + p), 0x8f);
  }
  for (auto& input : pirq_inputs_) input.bridge = this;
}

void Piix3IsaBridge::PirqInput::SetLevel(bool high) {
  if (high == level) return;
  level = high;
  bridge->UpdateOutputs();
}

void Piix3IsaBridge::ConnectIsaIrq(int irq, IrqLine* line) {
  Require(irq >= 0 && irq < 16, "ISA IRQ 0-15");
  isa_lines_[irq] = line;
  if (line != nullptr) line->SetLevel(isa_driven_[irq]);
}

void Piix3IsaBridge::ConnectPirqGsi(int pirq, IrqLine* line) {
  Require(pirq >= 0 && pirq < 4, "PIRQ index 0-3");
  gsi_lines_[pirq] = line;
  if (line != nullptr) line->SetLevel(gsi_driven_[pirq]);
}

int Piix3IsaBridge::RoutedIrq(int pirq) const {
  const uint8_t route = config8(static_cast<uint8_t>(kPirqRouteA + (pirq & 3)));
  if (route & kRouteDisable) return -1;
  const int irq = route & 0x0f;
  // 2.2.11: IRQ 0, 1, 2, 8 and 13 are reserved encodings; routing a PCI
  // interrupt onto the timer or the cascade would break the PIC, so they
  // are treated as disabled.
  if (irq == 0 || irq == 1 || irq == 2 || irq == 8 || irq == 13) return -1;
  return irq;
}

void Piix3IsaBridge::UpdateOutputs(bool force) {
  std::array<bool, 16> isa{};
  std::array<bool, 4> gsi{};
  for (int p = 0; p < 4; ++p) {
    gsi[p] = pirq_inputs_[p].level;
    const int irq = RoutedIrq(p);
    // Several PIRQs routed to one IRQ share it (wired-OR, level triggered).
    if (irq >= 0 && pirq_inputs_[p].level) isa[irq] = true;
  }
  for (int irq = 0; irq < 16; ++irq) {
    if (!force && isa[irq] == isa_driven_[irq]) continue;
    isa_driven_[irq] = isa[irq];
    if (isa_lines_[irq] != nullptr) isa_lines_[irq]->SetLevel(isa[irq]);
  }
  for (int p = 0; p < 4; ++p) {
    if (!force && gsi[p] == gsi_driven_[p]) continue;
    gsi_driven_[p] = gsi[p];
    if (gsi_lines_[p] != nullptr) gsi_lines_[p]->SetLevel(gsi[p]);
  }
}

void Piix3IsaBridge::WriteConfig(uint8_t offset, size_t size, uint32_t value) {
  PciFunction::WriteConfig(offset, size, value);
  if (offset < kPirqRouteA + 4 && kPirqRouteA < offset + size) UpdateOutputs();
}

void Piix3IsaBridge::Reset() {
  PciFunction::Reset();
  reset_control_value_ = 0;
  UpdateOutputs();
}

void Piix3IsaBridge::Serialize(Serializer& s) {
  s.Section(name(), 1);
  SerializePciState(s);
  s(reset_control_value_);
  if (s.loading()) {
    reset_control_value_ &= 0x2;
    UpdateOutputs(/*force=*/true);
  }
}

}  // namespace x86vm
