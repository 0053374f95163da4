// What the PVH and multiboot loaders share: boot modules, the 32-bit flat
// protected-mode entry both protocols specify, the low-memory area where the
// loader writes its GDT and boot information, and checks that what is loaded
// lies in RAM and does not overlap.
#ifndef X86VM_FIRMWARE_FLAT32_BOOT_H_
#define X86VM_FIRMWARE_FLAT32_BOOT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "firmware/e820.h"
#include "firmware/elf.h"
#include "machine/guest_memory.h"

namespace x86vm {

// A file loaded beside the kernel: Linux's initrd or a multiboot module.
struct BootModule {
  std::string name;               // The file name: errors and the module's string.
  std::span<const uint8_t> data;  // The whole file.
};

// Entry in 32-bit protected mode with paging off and flat 4 GiB segments
// (multiboot 0.6.96 3.2 "Machine state"; Xen docs/misc/pvh.pandoc). The
// loader writes a GDT holding these selectors so a kernel that reloads a
// segment register before loading its own GDT still gets flat segments.
struct Flat32Entry {
  uint32_t eip;
  uint32_t eax;  // Multiboot: 0x2BADB002; PVH: 0.
  uint32_t ebx;  // Physical address of the boot information.
  uint32_t gdt_base;
  uint16_t gdt_limit;
  uint16_t code_selector;  // Execute/read, base 0, limit 4 GiB, 32-bit.
  uint16_t data_selector;  // Read/write, base 0, limit 4 GiB, 32-bit (DS ES FS GS SS).
  uint16_t tss_selector;   // 32-bit busy TSS, base 0, limit 0x67 (PVH's TR).
};

// Fixed placement of what the loaders write below the EBDA: the GDT, then
// the boot information (hvm_start_info or the multiboot info) on the next
// page, then the tables and strings it points to, up to kEbdaStart.
inline constexpr uint64_t kFlat32GdtGpa = 0x6000;
inline constexpr uint64_t kFlat32InfoGpa = 0x7000;
inline constexpr uint64_t kFlat32AreaEnd = kEbdaStart;

// A guest-physical range the loader fills: `bytes` copied to `gpa`, then
// zeros up to `memory_bytes` (an ELF segment's BSS, the a.out kludge's bss).
struct LoadRange {
  uint64_t gpa;
  std::span<const uint8_t> bytes;
  uint64_t memory_bytes;
  std::string what;  // For errors: "segment 2", "the a.out-kludge image".
};

// Builds the boot information area in host memory: every Add returns the
// guest-physical address the data will have once written.
class BootInfoWriter {
 public:
  // An area starting at kFlat32GdtGpa and ending at kFlat32AreaEnd.
  BootInfoWriter();

  // Appends `bytes` at the next multiple of `align` (a power of two) and
  // returns its address; 0 if the area is full.
  uint64_t Add(std::span<const uint8_t> bytes, uint64_t align = 8);
  // Appends `size` zero bytes; returns their address (0 if full).
  uint64_t Reserve(uint64_t size, uint64_t align = 8);
  // Appends a NUL-terminated copy of `text`; returns its address (0 if full).
  uint64_t AddString(std::string_view text);
  // Host pointer into the area for filling reserved bytes (checked by the caller
  // through the address Reserve returned).
  uint8_t* At(uint64_t gpa) { return bytes_.data() + (gpa - kFlat32GdtGpa); }
  // True once some Add did not fit.
  bool overflowed() const { return overflowed_; }
  // One past the last byte used.
  uint64_t end() const { return kFlat32GdtGpa + bytes_.size(); }
  // Copies the area to guest memory.
  Result<> Commit(GuestMemory& memory, std::string_view label) const;

 private:
  std::vector<uint8_t> bytes_;
  bool overflowed_ = false;
};

// Writes the flat GDT (null, null, code 0x10, data 0x18, TSS 0x20) at the
// start of `info` and fills everything in `entry` but eip, eax and ebx.
void AddFlat32Gdt(BootInfoWriter& info, Flat32Entry& entry);

// True when [addr, addr + size) lies in RAM according to `e820` (adjacent
// RAM entries count as one range).
bool InE820Ram(const std::vector<E820Entry>& e820, uint64_t addr, uint64_t size);

// Checks that every range lies in RAM below 4 GiB and outside the boot
// information area actually used ([kFlat32GdtGpa, area_end); pass
// kFlat32GdtGpa to check RAM only). Errors start with `label`.
Result<> CheckLoadRanges(const std::vector<LoadRange>& ranges, const std::vector<E820Entry>& e820,
                         uint64_t area_end, std::string_view label);

// Copies every range (and zeroes its tail) into guest memory.
Result<> WriteLoadRanges(GuestMemory& memory, const std::vector<LoadRange>& ranges,
                         std::string_view label);

// The PT_LOAD segments of `elf` (those with memory bytes) as ranges at their
// physical addresses (p_paddr), named "segment N" after the program header.
std::vector<LoadRange> ElfLoadRanges(const ElfFile& elf);

// `virtual_entry` (e_entry) as a physical address: translated through the
// PT_LOAD segment whose virtual range holds it (GRUB and QEMU do this for
// kernels linked high), or kept when it already lies in a segment's
// physical range. Errors when it is in no segment or not below 4 GiB.
Result<uint32_t> ElfPhysicalEntry(const ElfFile& elf, uint64_t virtual_entry,
                                  std::string_view label);

// Where modules go: page-aligned one after another from `start` upwards
// (multiboot, as GRUB and QEMU do), or page-aligned downwards from the top
// of the highest RAM below 4 GiB (PVH, where QEMU puts Linux's initrd).
enum class ModulePlacement { kAfterKernel, kTopOfLowRam };

// The guest-physical address of each module, checked to lie in RAM and not
// to overlap the kernel's ranges. Errors name the module file.
Result<std::vector<uint64_t>> PlaceModules(const std::vector<BootModule>& modules,
                                           const std::vector<LoadRange>& kernel,
                                           const std::vector<E820Entry>& e820,
                                           ModulePlacement placement);

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_FLAT32_BOOT_H_
