// A small, bounds-checked reader for little-endian ELF32 and ELF64 files:
// the file header, the program headers and the notes of PT_NOTE segments,
// which is all a kernel loader needs (System V gABI, "ELF Header" and
// "Program Header"). Every offset and size read from the file is checked
// against the file before use; a malformed file gives an error naming it.
#ifndef X86VM_FIRMWARE_ELF_H_
#define X86VM_FIRMWARE_ELF_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace x86vm {

// Program header types used by the loaders (gABI, "Segment Types").
inline constexpr uint32_t kElfPtLoad = 1;
inline constexpr uint32_t kElfPtNote = 4;

// e_machine values the x86 loaders accept.
inline constexpr uint16_t kElfMachine386 = 3;
inline constexpr uint16_t kElfMachineX86_64 = 62;

// One program header, widened to 64 bits for both classes.
struct ElfSegment {
  uint32_t type;
  uint32_t flags;
  uint64_t offset;
  uint64_t vaddr;
  uint64_t paddr;
  uint64_t file_bytes;    // p_filesz
  uint64_t memory_bytes;  // p_memsz
  uint64_t align;
};

// One note of a PT_NOTE segment; name without its terminating NUL.
struct ElfNote {
  std::string_view name;
  uint32_t type;
  std::span<const uint8_t> desc;
};

// A parsed ELF file. It views the caller's bytes: they must outlive it.
class ElfFile {
 public:
  // True when `image` starts with the ELF magic "\x7fELF".
  static bool HasMagic(std::span<const uint8_t> image);

  // Checks the header and every program header. `label` starts each error
  // message (for example "--kernel vmlinux").
  static Result<ElfFile> Parse(std::string label, std::span<const uint8_t> image);

  // True for ELFCLASS64.
  bool is_64bit() const { return is_64bit_; }
  // e_type (2 = ET_EXEC) and e_machine.
  uint16_t type() const { return type_; }
  uint16_t machine() const { return machine_; }
  // e_entry: a virtual address.
  uint64_t entry() const { return entry_; }
  // Every program header, in file order.
  const std::vector<ElfSegment>& segments() const { return segments_; }

  // The file bytes of a segment (p_filesz bytes from p_offset); checked by
  // Parse for PT_LOAD and PT_NOTE segments, empty for others out of bounds.
  std::span<const uint8_t> SegmentBytes(const ElfSegment& segment) const;

  // Every note of every PT_NOTE segment, in file order. Names and
  // descriptors are padded to the segment's alignment (4, or 8 when
  // p_align is 8, as binutils writes them).
  Result<std::vector<ElfNote>> Notes() const;

 private:
  ElfFile() = default;

  std::string label_;
  std::span<const uint8_t> image_;
  bool is_64bit_ = false;
  uint16_t type_ = 0;
  uint16_t machine_ = 0;
  uint64_t entry_ = 0;
  std::vector<ElfSegment> segments_;
};

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_ELF_H_
