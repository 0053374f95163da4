#include "machine/boot_payload.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "firmware/acpi/acpi_tables.h"
#include "firmware/bios/builtin_bios_image.h"
#include "firmware/bios_image.h"
#include "firmware/boot_state.h"
#include "firmware/e820.h"
#include "firmware/linux_boot.h"
#include "firmware/multiboot.h"
#include "firmware/pvh_boot.h"
#include "machine/pc_acpi.h"

namespace x86vm {
namespace {

// Largest kernel, module or firmware file read (guest RAM bounds it anyway).
constexpr uint64_t kMaxFileBytes = 4ull << 30;

Result<std::vector<uint8_t>> ReadFile(std::string_view option, const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Fail("{}: cannot open '{}'", option, path);
  std::streamoff size = in.tellg();
  if (size < 0 || static_cast<uint64_t>(size) > kMaxFileBytes) {
    return Fail("{}: '{}' is not a readable file of at most 4 GiB", option, path);
  }
  std::vector<uint8_t> data(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(data.data()), size)) {
    return Fail("{}: error reading '{}'", option, path);
  }
  return data;
}

}  // namespace

Result<BootPayload> BootPayload::ForKernel(const std::string& kernel_path,
                                           const std::vector<std::string>& initrd_paths,
                                           std::string cmdline) {
  BootPayload p;
  auto kernel = ReadFile("--kernel", kernel_path);
  if (!kernel) return std::unexpected(kernel.error());
  p.kernel_ = {kernel_path, std::move(*kernel)};
  auto kind = DetectKernelKind(kernel_path, p.kernel_.bytes);
  if (!kind) return std::unexpected(kind.error());
  p.kernel_kind_ = *kind;
  if (*kind != KernelKind::kMultiboot && initrd_paths.size() > 1) {
    return Fail("--initrd: {} files given, but only a multiboot kernel takes several modules",
                initrd_paths.size());
  }
  for (const std::string& path : initrd_paths) {
    auto data = ReadFile("--initrd", path);
    if (!data) return std::unexpected(data.error());
    p.modules_.push_back({path, std::move(*data)});
  }
  p.cmdline_ = std::move(cmdline);
  return p;
}

Result<BootPayload> BootPayload::ForFirmware(const std::string& path) {
  BootPayload p;
  auto data = ReadFile("--bios", path);
  if (!data) return std::unexpected(data.error());
  p.firmware_ = {path, std::move(*data)};
  return p;
}

BootPayload BootPayload::ForBuiltinBios() {
  BootPayload p;
  std::span<const uint8_t> image = BuiltinBiosImage();
  p.firmware_ = {"builtin", std::vector<uint8_t>(image.begin(), image.end())};
  p.builtin_bios_ = true;
  return p;
}

Result<> BootPayload::MapRom(PcMachine& machine) {
  if (firmware_.bytes.empty()) return {};
  if (auto r = LoadBiosImage(machine.memory(), firmware_.bytes, firmware_.path); !r) return r;
  if (builtin_bios_) {
    auto bios = BuiltinBios::Attach(machine);
    if (!bios) return std::unexpected(bios.error());
    bios_services_ = std::move(*bios);
    return {};
  }
  return AddFirmwareConfig(machine);
}

Result<> BootPayload::AddFirmwareConfig(PcMachine& machine) {
  // What a QEMU-compatible firmware (SeaBIOS, OVMF, a raw image) learns
  // through fw_cfg: the ACPI tables with QEMU's table-loader, and SeaBIOS's
  // serial console on COM1 so its menu and the boot loader's text show on
  // --serial without a VGA.
  auto acpi = BuildAcpiFwCfgFiles(DescribePcForAcpi());
  if (!acpi) return std::unexpected(acpi.error());
  for (AcpiFwCfgFile& f : *acpi) {
    if (auto r = machine.fw_cfg().AddFile(f.name, std::move(f.bytes)); !r) return r;
  }
  const uint16_t com1 = PcMachine::kComPorts[0];
  std::vector<uint8_t> sercon = {static_cast<uint8_t>(com1), static_cast<uint8_t>(com1 >> 8)};
  if (auto r = machine.fw_cfg().AddFile("etc/sercon-port", sercon); !r) return r;
  // Boot the first IDE disk (SeaBIOS's bootorder syntax for 00:01.1).
  std::string order = "/pci@i0cf8/ide@1,1/drive@0/disk@0\n";
  return machine.fw_cfg().AddFile("bootorder", std::vector<uint8_t>(order.begin(), order.end()));
}

Result<> BootPayload::Load(PcMachine& machine, Vcpu& vcpu) const {
  GuestMemory& memory = machine.memory();
  if (!firmware_.bytes.empty()) {
    // The BIOS area below 1 MiB is RAM the guest may have changed since the
    // last reset: copy the image's top in again.
    return LoadBiosImageLow(memory, firmware_.bytes, firmware_.path);
  }
  if (!kernel_kind_) return {};

  // No firmware runs before the kernel: do the part of its PCI setup that
  // drivers rely on (Linux's ata_piix skips IDE channels without decode).
  machine.ide().EnableChannelDecode();

  // ACPI tables generated from the board's wiring, at the top of low RAM
  // (reserved in e820), with the RSDP in the BIOS area.
  AcpiLayout layout = DefaultAcpiLayout(memory.ram_below_4g_bytes());
  auto acpi = InstallAcpiTables(DescribePcForAcpi(), layout,
                                [&memory](uint64_t gpa, std::span<const uint8_t> bytes) {
                                  return memory.WritePhysical(gpa, bytes);
                                });
  if (!acpi) return std::unexpected(acpi.error());
  std::vector<E820Entry> e820 = BuildE820(memory, acpi->e820);
  std::vector<BootModule> modules;
  for (const File& f : modules_) modules.push_back({f.path, f.bytes});

  switch (*kernel_kind_) {
    case KernelKind::kLinuxBzImage: {
      LinuxBootParams p;
      p.kernel_name = kernel_.path;
      p.kernel = kernel_.bytes;
      if (!modules_.empty()) p.initrd = modules_[0].bytes;
      p.cmdline = cmdline_;
      p.e820 = e820;
      p.acpi_rsdp_gpa = acpi->rsdp_gpa;
      p.initrd_end_max_gpa = layout.tables_gpa;
      auto entry = LoadLinux(memory, p);
      if (!entry) return std::unexpected(entry.error());
      return vcpu.SetState(LinuxEntryState(*entry));
    }
    case KernelKind::kMultiboot: {
      MultibootParams p{kernel_.path, kernel_.bytes, modules, cmdline_, e820};
      auto entry = LoadMultiboot(memory, p);
      if (!entry) return std::unexpected(entry.error());
      return vcpu.SetState(Flat32EntryState(*entry));
    }
    case KernelKind::kPvhElf: {
      PvhBootParams p{kernel_.path, kernel_.bytes, modules, cmdline_, e820, acpi->rsdp_gpa};
      auto entry = LoadPvh(memory, p);
      if (!entry) return std::unexpected(entry.error());
      return vcpu.SetState(Flat32EntryState(*entry));
    }
  }
  return {};
}

}  // namespace x86vm
