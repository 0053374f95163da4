// Raw firmware images (--bios PATH, SeaBIOS): mapped read-only so they end
// at 4 GiB, with their last 128 KiB also copied to 0xE0000-0xFFFFF, where
// the reset vector's real-mode code expects them (QEMU's -bios layout).
#ifndef X86VM_FIRMWARE_BIOS_IMAGE_H_
#define X86VM_FIRMWARE_BIOS_IMAGE_H_

#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"
#include "machine/guest_memory.h"

namespace x86vm {

// Largest image accepted: the flash window of a PC chipset.
inline constexpr uint64_t kMaxBiosBytes = 16ull << 20;

// Maps `image` below 4 GiB and into the BIOS area. `name` (the file) goes in
// errors: empty, larger than 16 MiB, or not a multiple of 2 KiB.
Result<> LoadBiosImage(GuestMemory& memory, std::span<const uint8_t> image,
                       const std::string& name);

// Copies the image's last 128 KiB into the BIOS area again (after a reset:
// that area is RAM the guest may have changed).
Result<> LoadBiosImageLow(GuestMemory& memory, std::span<const uint8_t> image,
                          const std::string& name);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_BIOS_IMAGE_H_
