#include "firmware/elf.h"

#include <cstring>

namespace x86vm {
namespace {

// e_ident indices and values (gABI, "ELF Identification").
constexpr size_t kEiClass = 4;
constexpr size_t kEiData = 5;
constexpr size_t kEiVersion = 6;
constexpr uint8_t kElfClass32 = 1;
constexpr uint8_t kElfClass64 = 2;
constexpr uint8_t kElfData2Lsb = 1;
// Header and program header sizes of each class.
constexpr size_t kEhdr32Bytes = 52;
constexpr size_t kEhdr64Bytes = 64;
constexpr size_t kPhdr32Bytes = 32;
constexpr size_t kPhdr64Bytes = 56;
// e_phnum escape: the real count is in section header 0 (gABI "Extended
// program header numbering"); kernels never need it.
constexpr uint16_t kPnXnum = 0xffff;
// Note header: namesz, descsz, type (three 4-byte words in both classes).
constexpr size_t kNoteHeaderBytes = 12;

uint64_t Get(std::span<const uint8_t> b, size_t off, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(b[off + i]) << (8 * i);
  return v;
}

// True when [offset, offset + size) lies within `total` bytes, without
// overflowing.
bool InFile(uint64_t offset, uint64_t size, uint64_t total) {
  return offset <= total && size <= total - offset;
}

uint64_t AlignUp(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

}  // namespace

bool ElfFile::HasMagic(std::span<const uint8_t> image) {
  return image.size() >= 4 && std::memcmp(image.data(),
                                          "\x7f"
                                          "ELF",
                                          4) == 0;
}

Result<ElfFile> ElfFile::Parse(std::string label, std::span<const uint8_t> image) {
  if (!HasMagic(image)) return Fail("{}: not an ELF file (no \\x7fELF magic)", label);
  if (image.size() < kEiVersion + 1) return Fail("{}: truncated ELF identification", label);
  uint8_t elf_class = image[kEiClass];
  if (elf_class != kElfClass32 && elf_class != kElfClass64) {
    return Fail("{}: ELF class {} is neither 32-bit (1) nor 64-bit (2)", label, elf_class);
  }
  if (image[kEiData] != kElfData2Lsb) {
    return Fail("{}: big-endian ELF files are not supported (x86 is little-endian)", label);
  }
  if (image[kEiVersion] != 1) {
    return Fail("{}: ELF version {} is not 1", label, image[kEiVersion]);
  }
  ElfFile elf;
  elf.label_ = std::move(label);
  elf.image_ = image;
  elf.is_64bit_ = elf_class == kElfClass64;
  const bool w = elf.is_64bit_;
  size_t ehdr_bytes = w ? kEhdr64Bytes : kEhdr32Bytes;
  if (image.size() < ehdr_bytes) {
    return Fail("{}: truncated: {} bytes, the ELF{} header alone needs {}", elf.label_,
                image.size(), w ? 64 : 32, ehdr_bytes);
  }
  elf.type_ = static_cast<uint16_t>(Get(image, 16, 2));
  elf.machine_ = static_cast<uint16_t>(Get(image, 18, 2));
  elf.entry_ = Get(image, 24, w ? 8 : 4);
  uint64_t phoff = Get(image, w ? 32 : 28, w ? 8 : 4);
  uint64_t phentsize = Get(image, w ? 54 : 42, 2);
  uint64_t phnum = Get(image, w ? 56 : 44, 2);
  size_t phdr_bytes = w ? kPhdr64Bytes : kPhdr32Bytes;
  if (phnum == kPnXnum) {
    return Fail("{}: more than 65534 program headers (PN_XNUM) is not supported", elf.label_);
  }
  if (phnum != 0 && phentsize < phdr_bytes) {
    return Fail("{}: program header entry size {} is smaller than the {} bytes of ELF{}",
                elf.label_, phentsize, phdr_bytes, w ? 64 : 32);
  }
  if (!InFile(phoff, phentsize * phnum, image.size())) {
    return Fail("{}: truncated: {} program headers at offset {:#x} end past the file's {} bytes",
                elf.label_, phnum, phoff, image.size());
  }
  for (uint64_t i = 0; i < phnum; ++i) {
    size_t p = static_cast<size_t>(phoff + i * phentsize);
    ElfSegment s{};
    s.type = static_cast<uint32_t>(Get(image, p, 4));
    if (w) {
      s.flags = static_cast<uint32_t>(Get(image, p + 4, 4));
      s.offset = Get(image, p + 8, 8);
      s.vaddr = Get(image, p + 16, 8);
      s.paddr = Get(image, p + 24, 8);
      s.file_bytes = Get(image, p + 32, 8);
      s.memory_bytes = Get(image, p + 40, 8);
      s.align = Get(image, p + 48, 8);
    } else {
      s.offset = Get(image, p + 4, 4);
      s.vaddr = Get(image, p + 8, 4);
      s.paddr = Get(image, p + 12, 4);
      s.file_bytes = Get(image, p + 16, 4);
      s.memory_bytes = Get(image, p + 20, 4);
      s.flags = static_cast<uint32_t>(Get(image, p + 24, 4));
      s.align = Get(image, p + 28, 4);
    }
    if (s.type == kElfPtLoad || s.type == kElfPtNote) {
      if (!InFile(s.offset, s.file_bytes, image.size())) {
        return Fail(
            "{}: truncated: segment {} ({:#x} bytes at file offset {:#x}) ends past the "
            "file's {} bytes",
            elf.label_, i, s.file_bytes, s.offset, image.size());
      }
    }
    if (s.type == kElfPtLoad) {
      if (s.file_bytes > s.memory_bytes) {
        return Fail("{}: segment {} has more file bytes ({:#x}) than memory bytes ({:#x})",
                    elf.label_, i, s.file_bytes, s.memory_bytes);
      }
      if (s.paddr + s.memory_bytes < s.paddr || s.vaddr + s.memory_bytes < s.vaddr) {
        return Fail("{}: segment {} wraps around the address space", elf.label_, i);
      }
    }
    elf.segments_.push_back(s);
  }
  return elf;
}

std::span<const uint8_t> ElfFile::SegmentBytes(const ElfSegment& s) const {
  if (!InFile(s.offset, s.file_bytes, image_.size())) return {};
  return image_.subspan(static_cast<size_t>(s.offset), static_cast<size_t>(s.file_bytes));
}

Result<std::vector<ElfNote>> ElfFile::Notes() const {
  std::vector<ElfNote> notes;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const ElfSegment& s = segments_[i];
    if (s.type != kElfPtNote) continue;
    std::span<const uint8_t> bytes = SegmentBytes(s);
    uint64_t align = s.align == 8 ? 8 : 4;
    uint64_t pos = 0;
    while (pos < bytes.size()) {
      if (!InFile(pos, kNoteHeaderBytes, bytes.size())) {
        return Fail("{}: truncated note header at offset {:#x} of note segment {}", label_,
                    s.offset + pos, i);
      }
      uint64_t name_bytes = Get(bytes, static_cast<size_t>(pos), 4);
      uint64_t desc_bytes = Get(bytes, static_cast<size_t>(pos + 4), 4);
      uint32_t type = static_cast<uint32_t>(Get(bytes, static_cast<size_t>(pos + 8), 4));
      uint64_t name_at = pos + kNoteHeaderBytes;
      uint64_t desc_at = AlignUp(name_at + name_bytes, align);
      uint64_t next = AlignUp(desc_at + desc_bytes, align);
      if (!InFile(name_at, name_bytes, bytes.size()) ||
          !InFile(desc_at, desc_bytes, bytes.size())) {
        return Fail(
            "{}: note at offset {:#x} (name {} bytes, desc {} bytes) runs past the end "
            "of note segment {}",
            label_, s.offset + pos, name_bytes, desc_bytes, i);
      }
      std::string_view name(reinterpret_cast<const char*>(bytes.data() + name_at),
                            static_cast<size_t>(name_bytes));
      if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
      notes.push_back(
          ElfNote{name, type,
                  bytes.subspan(static_cast<size_t>(desc_at), static_cast<size_t>(desc_bytes))});
      pos = next;
    }
  }
  return notes;
}

}  // namespace x86vm
