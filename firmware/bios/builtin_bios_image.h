// The builtin BIOS image (bios.asm assembled at build time), embedded in the
// binary: 64 KiB for F000:0000, mapped like a --bios file.
#ifndef X86VM_FIRMWARE_BIOS_BUILTIN_BIOS_IMAGE_H_
#define X86VM_FIRMWARE_BIOS_BUILTIN_BIOS_IMAGE_H_

#include <cstdint>
#include <span>

namespace x86vm {

// The image's bytes (bios_abi::kBiosImageBytes of them).
std::span<const uint8_t> BuiltinBiosImage();

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_BIOS_BUILTIN_BIOS_IMAGE_H_
