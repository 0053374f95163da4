// What the machine boots, loaded again after every reset: a kernel given
// with --kernel (bzImage, multiboot or PVH, with modules/initrd, command line,
// ACPI tables and e820), a raw firmware image given with --bios PATH, or the
// builtin BIOS (--bios builtin).
#ifndef X86VM_MACHINE_BOOT_PAYLOAD_H_
#define X86VM_MACHINE_BOOT_PAYLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "accel/vcpu.h"
#include "base/status.h"
#include "firmware/kernel_kind.h"
#include "machine/builtin_bios.h"
#include "machine/pc.h"

namespace x86vm {

class BootPayload {
 public:
  // Direct kernel boot. `initrd_paths` is the --initrd list (several
  // entries only for multiboot). Reads and classifies the files now, so bad
  // input is reported before the machine starts.
  static Result<BootPayload> ForKernel(const std::string& kernel_path,
                                       const std::vector<std::string>& initrd_paths,
                                       std::string cmdline);
  // A raw firmware image mapped below 4 GiB (QEMU's -bios FILE).
  static Result<BootPayload> ForFirmware(const std::string& path);
  // The builtin BIOS (firmware/bios): its image, and its services on the
  // trap port once MapRom() attaches them to the machine.
  static BootPayload ForBuiltinBios();
  // Nothing to load (--bios none): the CPU starts at the reset vector.
  static BootPayload Empty() { return BootPayload(); }

  // Maps ROM images into memory (and attaches the builtin BIOS's services);
  // call once, before the first Load().
  Result<> MapRom(PcMachine& machine);
  // The Debian path of SeaBIOS's 256 KiB image (--bios seabios).
  static constexpr const char* kSeaBiosPath = "/usr/share/seabios/bios-256k.bin";

  // Places everything in guest memory and sets the CPU's entry state. Run
  // at power-on and after every reset.
  Result<> Load(PcMachine& machine, Vcpu& vcpu) const;

 private:
  // fw_cfg files QEMU-compatible firmware reads (ACPI, console, boot order).
  static Result<> AddFirmwareConfig(PcMachine& machine);
  struct File {
    std::string path;
    std::vector<uint8_t> bytes;
  };
  BootPayload() = default;

  std::optional<KernelKind> kernel_kind_;
  File kernel_;
  std::vector<File> modules_;
  std::string cmdline_;
  File firmware_;
  bool builtin_bios_ = false;
  std::unique_ptr<BuiltinBios> bios_services_;  // Set by MapRom for the builtin BIOS.
};

}  // namespace x86vm

#endif  // X86VM_MACHINE_BOOT_PAYLOAD_H_
