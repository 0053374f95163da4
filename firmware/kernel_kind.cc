#include "firmware/kernel_kind.h"

#include <cstring>

#include "firmware/elf.h"
#include "firmware/multiboot.h"
#include "firmware/pvh_boot.h"

namespace x86vm {
namespace {

// boot.rst: the boot sector signature and the "HdrS" setup header magic.
bool IsBzImage(std::span<const uint8_t> k) {
  return k.size() >= 0x206 && k[0x1fe] == 0x55 && k[0x1ff] == 0xaa &&
         std::memcmp(&k[0x202], "HdrS", 4) == 0;
}

}  // namespace

Result<KernelKind> DetectKernelKind(const std::string& kernel_name,
                                    std::span<const uint8_t> kernel) {
  const std::string label = "--kernel " + kernel_name;
  if (kernel.empty()) return Fail("{}: the file is empty", label);
  if (IsBzImage(kernel)) return KernelKind::kLinuxBzImage;
  if (FindMultibootHeader(kernel)) return KernelKind::kMultiboot;
  if (ElfFile::HasMagic(kernel)) {
    auto elf = ElfFile::Parse(label, kernel);
    if (!elf) return std::unexpected(elf.error());
    auto entry = FindPvhEntry(*elf, label);
    if (!entry) return std::unexpected(entry.error());
    if (entry->has_value()) return KernelKind::kPvhElf;
    return Fail(
        "{}: an ELF file with neither a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) nor a "
        "multiboot header; a Linux vmlinux needs CONFIG_PVH, or boot its bzImage",
        label);
  }
  return Fail(
      "{}: not a Linux bzImage, a multiboot kernel or a PVH ELF kernel (no bzImage "
      "header, no multiboot header in the first 8192 bytes, no ELF magic)",
      label);
}

const char* KernelKindName(KernelKind kind) {
  switch (kind) {
    case KernelKind::kLinuxBzImage:
      return "Linux bzImage";
    case KernelKind::kMultiboot:
      return "multiboot";
    case KernelKind::kPvhElf:
      return "PVH ELF";
  }
  return "?";
}

}  // namespace x86vm
