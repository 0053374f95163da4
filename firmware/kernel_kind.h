// Which direct-boot loader a --kernel file needs: Linux bzImage, multiboot
// or PVH ELF. Checked in QEMU's order (x86_load_linux): a bzImage header
// first, then a multiboot header, then an ELF PVH entry note.
#ifndef X86VM_FIRMWARE_KERNEL_KIND_H_
#define X86VM_FIRMWARE_KERNEL_KIND_H_

#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace x86vm {

// The boot protocols x86vm loads kernels with.
enum class KernelKind {
  kLinuxBzImage,  // LoadLinux (firmware/linux_boot.h).
  kMultiboot,     // LoadMultiboot (firmware/multiboot.h).
  kPvhElf,        // LoadPvh (firmware/pvh_boot.h).
};

// The protocol `kernel` uses. Errors name the file (`kernel_name`, the
// --kernel path) and say what it is not, or what is malformed in an ELF
// file that could have been a PVH kernel.
Result<KernelKind> DetectKernelKind(const std::string& kernel_name,
                                    std::span<const uint8_t> kernel);

// "Linux bzImage", "multiboot" or "PVH ELF", for messages.
const char* KernelKindName(KernelKind kind);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_KERNEL_KIND_H_
