// Guest physical memory: host-mmapped, page-aligned RAM (handed to KVM as
// memory slots unchanged), read-only ROM regions, the standard PC map and the
// A20 gate.
#ifndef X86VM_MACHINE_GUEST_MEMORY_H_
#define X86VM_MACHINE_GUEST_MEMORY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "devices/dma.h"

namespace x86vm {

// The PC memory map (what e820 and KVM slots are made from):
//   [0, 640K)          conventional RAM
//   [640K, 768K)       VGA window (RAM-backed until a VGA device claims it)
//   [768K, 1M)         option ROM and BIOS area (RAM-backed shadow; can be
//                      made read-only, as the chipset's PAM registers do)
//   [1M, low_end)      RAM, low_end = min(size, 3 GiB)
//   [3G, 4G)           PCI hole: MMIO (LAPIC, IOAPIC, BARs) and the BIOS ROM
//   [4G, 4G + rest)    RAM above 4 GiB when size > 3 GiB
class GuestMemory : public DmaMemory {
 public:
  static constexpr uint64_t kPageBytes = 4096;
  static constexpr uint64_t kVgaStart = 0xa0000;
  static constexpr uint64_t kBiosAreaStart = 0xc0000;
  static constexpr uint64_t kHighMemStart = 0x100000;
  static constexpr uint64_t kPciHoleStart = 0xc0000000;
  static constexpr uint64_t k4GiB = 0x100000000;

  // What a region of guest-physical space is backed by.
  enum class Kind { kRam, kVga, kBiosShadow, kRom };

  // One contiguous host-backed range of guest-physical space.
  struct Region {
    uint64_t gpa;
    uint64_t size_bytes;
    uint8_t* host;
    Kind kind;
    bool read_only;
    std::string name;
  };

  // Maps `ram_bytes` of RAM (a multiple of 4 KiB, at least 1 MiB).
  static Result<std::unique_ptr<GuestMemory>> Create(uint64_t ram_bytes);
  ~GuestMemory() override;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  uint64_t ram_bytes() const { return ram_bytes_; }
  // RAM below the PCI hole (including the legacy areas) and above 4 GiB.
  uint64_t ram_below_4g_bytes() const { return low_bytes_; }
  uint64_t ram_above_4g_bytes() const { return ram_bytes_ - low_bytes_; }

  // Maps a read-only ROM at `gpa` holding `image` (size rounded up to pages).
  // It must not overlap RAM or another ROM.
  Result<> AddRom(uint64_t gpa, std::span<const uint8_t> image, std::string name);

  // Makes the BIOS-area regions inside [gpa, gpa + size) read-only or
  // writable for the guest (the chipset's PAM shadowing, which works on 16 KiB
  // segments from 0xC0000 and one 64 KiB segment at 0xF0000; host writes
  // through HostRange always work).
  void SetBiosShadowReadOnly(uint64_t gpa, uint64_t size, bool read_only);
  // The same for the whole BIOS area.
  void SetBiosShadowReadOnly(bool read_only) {
    SetBiosShadowReadOnly(kBiosAreaStart, kHighMemStart - kBiosAreaStart, read_only);
  }
  // Called after the guest-visible memory map changed (write protection),
  // so engines can drop cached translations or re-map memory slots.
  void set_map_observer(std::function<void()> observer) { map_observer_ = std::move(observer); }

  // The host pointer for [gpa, gpa + size) when it lies in one region and,
  // for writes, that region is writable; nullptr otherwise (MMIO or unmapped).
  uint8_t* HostPointer(uint64_t gpa, uint64_t size, bool for_write);
  // Like HostPointer but ignores read-only: for loaders placing firmware.
  uint8_t* HostRange(uint64_t gpa, uint64_t size);
  // Copies `data` to [gpa, ...) across regions, ignoring guest write
  // protection: for loaders placing firmware and kernels. False when part of
  // the range is not backed.
  bool LoadHost(uint64_t gpa, std::span<const uint8_t> data);
  // The region holding `gpa`, or nullptr.
  const Region* FindRegion(uint64_t gpa) const;
  // All regions sorted by address, non-overlapping (for KVM slots, e820).
  const std::vector<Region>& regions() const { return regions_; }

  // A20 gate (i8042 output port bit 1, port 0x92 bit 1). When disabled,
  // physical address bit 20 is forced to zero by the CPU engines.
  bool a20_enabled() const { return a20_enabled_; }
  void SetA20(bool enabled);
  // The mask to AND into every physical address.
  uint64_t a20_mask() const { return a20_enabled_ ? ~0ull : ~(1ull << 20); }
  // Called when A20 changes (CPU engines flush their TLBs).
  void set_a20_observer(std::function<void(bool)> observer) {
    a20_observer_ = std::move(observer);
  }
  // Called after a DMA write so decoded-instruction caches can invalidate.
  void set_write_observer(std::function<void(uint64_t gpa, uint64_t size)> observer) {
    write_observer_ = std::move(observer);
  }

  // DmaMemory: guest-physical copies that never cross into MMIO.
  bool ReadPhysical(uint64_t gpa, std::span<uint8_t> data) override;
  bool WritePhysical(uint64_t gpa, std::span<const uint8_t> data) override;

 private:
  GuestMemory() = default;
  void AddRegion(Region region);

  uint64_t ram_bytes_ = 0;
  uint64_t low_bytes_ = 0;
  uint8_t* ram_ = nullptr;  // One mapping for all RAM: [0, low) then [4G, ...).
  uint64_t ram_map_bytes_ = 0;
  struct RomMapping {
    uint8_t* host;
    uint64_t size_bytes;
  };
  std::vector<RomMapping> roms_;
  std::vector<Region> regions_;
  bool a20_enabled_ = true;
  std::function<void(bool)> a20_observer_;
  std::function<void(uint64_t, uint64_t)> write_observer_;
  std::function<void()> map_observer_;
};

}  // namespace x86vm

#endif  // X86VM_MACHINE_GUEST_MEMORY_H_
