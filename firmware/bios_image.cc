#include "firmware/bios_image.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace x86vm {

Result<> LoadBiosImage(GuestMemory& memory, std::span<const uint8_t> image,
                       const std::string& name) {
  if (image.empty()) return Fail("--bios {}: the file is empty", name);
  if (image.size() > kMaxBiosBytes) {
    return Fail("--bios {}: {} bytes is larger than the 16 MiB flash window", name,
                image.size());
  }
  if (image.size() % 2048 != 0) {
    return Fail("--bios {}: {} bytes is not a multiple of 2 KiB (not a firmware image?)",
                name, image.size());
  }
  // The ROM mapping is page-granular: pad the front so the image's last byte
  // sits at 0xFFFFFFFF.
  uint64_t padded = (image.size() + GuestMemory::kPageBytes - 1) & ~(GuestMemory::kPageBytes - 1);
  std::vector<uint8_t> rom(padded - image.size(), 0xff);
  rom.insert(rom.end(), image.begin(), image.end());
  if (auto r = memory.AddRom(GuestMemory::k4GiB - padded, rom, "bios"); !r) {
    return Fail("--bios {}: {}", name, r.error().message);
  }
  return LoadBiosImageLow(memory, image, name);
}

Result<> LoadBiosImageLow(GuestMemory& memory, std::span<const uint8_t> image,
                          const std::string& name) {
  uint64_t low_bytes = std::min<uint64_t>(image.size(), 128 << 10);
  if (!memory.LoadHost(0x100000 - low_bytes, image.subspan(image.size() - low_bytes))) {
    return Fail("--bios {}: no BIOS area in guest memory", name);
  }
  return {};
}

}  // namespace x86vm
