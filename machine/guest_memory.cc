#include "machine/guest_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace x86vm {

Result<std::unique_ptr<GuestMemory>> GuestMemory::Create(uint64_t ram_bytes) {
  if (ram_bytes < kHighMemStart || ram_bytes % kPageBytes != 0) {
    return Fail("--memory: {} bytes is not a multiple of 4 KiB of at least 1 MiB",
                ram_bytes);
  }
  if (ram_bytes > (1ull << 40)) return Fail("--memory: at most 1T is supported");
  auto mem = std::unique_ptr<GuestMemory>(new GuestMemory());
  mem->ram_bytes_ = ram_bytes;
  mem->low_bytes_ = std::min(ram_bytes, kPciHoleStart);
  // MAP_NORESERVE: a 16 GiB guest that touches 100 MiB costs 100 MiB.
  void* p = mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return Fail("--memory: cannot map {} bytes of guest RAM: {}", ram_bytes,
                std::strerror(errno));
  }
  mem->ram_ = static_cast<uint8_t*>(p);
  mem->ram_map_bytes_ = ram_bytes;
  uint8_t* ram = mem->ram_;
  mem->AddRegion({0, kVgaStart, ram, Kind::kRam, false, "ram-conventional"});
  mem->AddRegion({kVgaStart, kBiosAreaStart - kVgaStart, ram + kVgaStart, Kind::kVga,
                  false, "vga-window"});
  // The BIOS area in PAM segments: twelve of 16 KiB, then 64 KiB at 0xF0000.
  for (uint64_t gpa = kBiosAreaStart; gpa < 0xf0000; gpa += 0x4000) {
    mem->AddRegion({gpa, 0x4000, ram + gpa, Kind::kBiosShadow, false, "bios-area"});
  }
  mem->AddRegion({0xf0000, 0x10000, ram + 0xf0000, Kind::kBiosShadow, false, "bios-area"});
  if (mem->low_bytes_ > kHighMemStart) {
    mem->AddRegion({kHighMemStart, mem->low_bytes_ - kHighMemStart, ram + kHighMemStart,
                    Kind::kRam, false, "ram-low"});
  }
  if (ram_bytes > mem->low_bytes_) {
    mem->AddRegion({k4GiB, ram_bytes - mem->low_bytes_, ram + mem->low_bytes_, Kind::kRam,
                    false, "ram-high"});
  }
  return mem;
}

GuestMemory::~GuestMemory() {
  if (ram_ != nullptr) munmap(ram_, ram_map_bytes_);
  for (const RomMapping& rom : roms_) munmap(rom.host, rom.size_bytes);
}

void GuestMemory::AddRegion(Region region) {
  auto it = std::lower_bound(regions_.begin(), regions_.end(), region.gpa,
                             [](const Region& r, uint64_t gpa) { return r.gpa < gpa; });
  regions_.insert(it, std::move(region));
}

Result<> GuestMemory::AddRom(uint64_t gpa, std::span<const uint8_t> image,
                             std::string name) {
  uint64_t size = (image.size() + kPageBytes - 1) & ~(kPageBytes - 1);
  if (size == 0 || gpa % kPageBytes != 0 || gpa + size < gpa) {
    return Fail("ROM '{}': bad placement at {:#x}, {} bytes", name, gpa, image.size());
  }
  for (const Region& r : regions_) {
    if (gpa < r.gpa + r.size_bytes && r.gpa < gpa + size) {
      return Fail("ROM '{}' at {:#x}+{:#x} overlaps '{}'", name, gpa, size, r.name);
    }
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Fail("ROM '{}': cannot map {} bytes", name, size);
  auto* host = static_cast<uint8_t*>(p);
  std::memcpy(host, image.data(), image.size());
  roms_.push_back({host, size});
  AddRegion({gpa, size, host, Kind::kRom, true, std::move(name)});
  return {};
}

void GuestMemory::SetBiosShadowReadOnly(uint64_t gpa, uint64_t size, bool read_only) {
  bool changed = false;
  for (Region& r : regions_) {
    if (r.kind == Kind::kBiosShadow && r.gpa >= gpa && r.gpa + r.size_bytes <= gpa + size &&
        r.read_only != read_only) {
      r.read_only = read_only;
      changed = true;
    }
  }
  if (changed && map_observer_) map_observer_();
}

const GuestMemory::Region* GuestMemory::FindRegion(uint64_t gpa) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), gpa,
                             [](uint64_t a, const Region& r) { return a < r.gpa; });
  if (it == regions_.begin()) return nullptr;
  const Region& r = *(it - 1);
  return gpa - r.gpa < r.size_bytes ? &r : nullptr;
}

uint8_t* GuestMemory::HostRange(uint64_t gpa, uint64_t size) {
  const Region* r = FindRegion(gpa);
  if (r == nullptr || size > r->size_bytes - (gpa - r->gpa)) return nullptr;
  return r->host + (gpa - r->gpa);
}

uint8_t* GuestMemory::HostPointer(uint64_t gpa, uint64_t size, bool for_write) {
  const Region* r = FindRegion(gpa);
  if (r == nullptr || size > r->size_bytes - (gpa - r->gpa)) return nullptr;
  if (for_write && r->read_only) return nullptr;
  return r->host + (gpa - r->gpa);
}

void GuestMemory::SetA20(bool enabled) {
  if (enabled == a20_enabled_) return;
  a20_enabled_ = enabled;
  if (a20_observer_) a20_observer_(enabled);
}

bool GuestMemory::ReadPhysical(uint64_t gpa, std::span<uint8_t> data) {
  // Copy region by region: a DMA buffer may span adjacent regions.
  size_t done = 0;
  while (done < data.size()) {
    const Region* r = FindRegion(gpa + done);
    if (r == nullptr) return false;
    uint64_t off = gpa + done - r->gpa;
    uint64_t n = std::min<uint64_t>(data.size() - done, r->size_bytes - off);
    std::memcpy(data.data() + done, r->host + off, n);
    done += n;
  }
  return true;
}

bool GuestMemory::LoadHost(uint64_t gpa, std::span<const uint8_t> data) {
  for (size_t done = 0; done < data.size();) {
    const Region* r = FindRegion(gpa + done);
    if (r == nullptr) return false;
    uint64_t off = gpa + done - r->gpa;
    uint64_t n = std::min<uint64_t>(data.size() - done, r->size_bytes - off);
    std::memcpy(r->host + off, data.data() + done, n);
    done += n;
  }
  if (write_observer_ && !data.empty()) write_observer_(gpa, data.size());
  return true;
}

bool GuestMemory::WritePhysical(uint64_t gpa, std::span<const uint8_t> data) {
  // Check the whole range first so a refused write changes nothing.
  for (size_t done = 0; done < data.size();) {
    const Region* r = FindRegion(gpa + done);
    if (r == nullptr || r->read_only) return false;
    done += std::min<uint64_t>(data.size() - done, r->size_bytes - (gpa + done - r->gpa));
  }
  for (size_t done = 0; done < data.size();) {
    const Region* r = FindRegion(gpa + done);
    uint64_t off = gpa + done - r->gpa;
    uint64_t n = std::min<uint64_t>(data.size() - done, r->size_bytes - off);
    std::memcpy(r->host + off, data.data() + done, n);
    done += n;
  }
  if (write_observer_ && !data.empty()) write_observer_(gpa, data.size());
  return true;
}

}  // namespace x86vm
