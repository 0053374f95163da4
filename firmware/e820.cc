#include "firmware/e820.h"

#include <algorithm>

namespace x86vm {
namespace {

// Removes [addr, addr+size) from every RAM entry, splitting where needed.
void Carve(std::vector<E820Entry>& map, const E820Entry& hole) {
  std::vector<E820Entry> out;
  uint64_t hole_end = hole.addr + hole.size;
  for (const E820Entry& e : map) {
    uint64_t end = e.addr + e.size;
    if (e.type != E820Type::kRam || hole_end <= e.addr || end <= hole.addr) {
      out.push_back(e);
      continue;
    }
    if (e.addr < hole.addr) out.push_back({e.addr, hole.addr - e.addr, e.type});
    if (hole_end < end) out.push_back({hole_end, end - hole_end, e.type});
  }
  out.push_back(hole);
  map = std::move(out);
}

}  // namespace

std::vector<E820Entry> BuildE820(const GuestMemory& memory,
                                 const std::vector<E820Entry>& reserved) {
  std::vector<E820Entry> map;
  for (const GuestMemory::Region& r : memory.regions()) {
    switch (r.kind) {
      case GuestMemory::Kind::kRam:
        if (r.gpa == 0) {
          map.push_back({0, kEbdaStart, E820Type::kRam});
          map.push_back({kEbdaStart, r.size_bytes - kEbdaStart, E820Type::kReserved});
        } else {
          map.push_back({r.gpa, r.size_bytes, E820Type::kRam});
        }
        break;
      case GuestMemory::Kind::kBiosShadow:
        // Only the system BIOS part (0xF0000-0xFFFFF) is reported, as
        // SeaBIOS and QEMU do; 0xC0000-0xEFFFF is option-ROM space.
        if (r.gpa == 0xf0000) map.push_back({0xf0000, 0x10000, E820Type::kReserved});
        break;
      case GuestMemory::Kind::kRom:
        map.push_back({r.gpa, r.size_bytes, E820Type::kReserved});
        break;
      case GuestMemory::Kind::kVga:
        break;  // Not RAM and not reported, as on real PCs.
    }
  }
  for (const E820Entry& hole : reserved) Carve(map, hole);
  std::sort(map.begin(), map.end(),
            [](const E820Entry& a, const E820Entry& b) { return a.addr < b.addr; });
  return map;
}

std::vector<uint8_t> EncodeE820(const std::vector<E820Entry>& entries) {
  std::vector<uint8_t> out;
  out.reserve(entries.size() * 20);
  auto put = [&out](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  for (const E820Entry& e : entries) {
    put(e.addr, 8);
    put(e.size, 8);
    put(static_cast<uint32_t>(e.type), 4);
  }
  return out;
}

}  // namespace x86vm
