// Test helpers for the direct-boot loaders: synthetic ELF files, guest
// memory reads and the nasm-built test kernels (tests/kernels) as runfiles.
#ifndef X86VM_FIRMWARE_TEST_ELF_H_
#define X86VM_FIRMWARE_TEST_ELF_H_

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "machine/guest_memory.h"

namespace x86vm::testing {

// One program header of a synthetic ELF file; `data` becomes its file bytes.
struct TestSegment {
  uint32_t type = 1;  // PT_LOAD
  uint64_t paddr = 0;
  uint64_t vaddr = 0;  // 0: same as paddr.
  std::vector<uint8_t> data;
  uint64_t memory_bytes = 0;  // 0: data.size().
  uint64_t align = 4;
};

// A PT_LOAD segment at physical `paddr` (virtual `vaddr`, 0: the same).
inline TestSegment Load(uint64_t paddr, std::vector<uint8_t> data, uint64_t memory_bytes = 0,
                        uint64_t vaddr = 0) {
  TestSegment s;
  s.paddr = paddr;
  s.vaddr = vaddr;
  s.data = std::move(data);
  s.memory_bytes = memory_bytes;
  return s;
}

// A PT_NOTE segment holding `notes`.
inline TestSegment NoteSegment(std::vector<uint8_t> notes, uint64_t align = 4) {
  TestSegment s;
  s.type = 4;
  s.data = std::move(notes);
  s.align = align;
  return s;
}

// A segment of another type with no data.
inline TestSegment OtherSegment(uint32_t type) {
  TestSegment s;
  s.type = type;
  return s;
}

inline void PutLe(std::vector<uint8_t>& out, size_t at, uint64_t value, size_t bytes) {
  if (out.size() < at + bytes) out.resize(at + bytes, 0);
  for (size_t i = 0; i < bytes; ++i) out[at + i] = static_cast<uint8_t>(value >> (8 * i));
}

// A little-endian ET_EXEC file: header, program headers, then each
// segment's data (8-byte aligned) in order.
inline std::vector<uint8_t> BuildElf(bool is64, uint16_t machine, uint64_t entry,
                                     const std::vector<TestSegment>& segments) {
  std::vector<uint8_t> f;
  size_t ehdr = is64 ? 64 : 52, phdr = is64 ? 56 : 32;
  f.resize(ehdr + phdr * segments.size(), 0);
  std::memcpy(f.data(),
              "\x7f"
              "ELF",
              4);
  f[4] = is64 ? 2 : 1;
  f[5] = 1;
  f[6] = 1;
  PutLe(f, 16, 2, 2);  // ET_EXEC
  PutLe(f, 18, machine, 2);
  PutLe(f, 20, 1, 4);
  PutLe(f, 24, entry, is64 ? 8 : 4);
  PutLe(f, is64 ? 32 : 28, ehdr, is64 ? 8 : 4);  // e_phoff
  PutLe(f, is64 ? 52 : 40, ehdr, 2);             // e_ehsize
  PutLe(f, is64 ? 54 : 42, phdr, 2);
  PutLe(f, is64 ? 56 : 44, segments.size(), 2);
  for (size_t i = 0; i < segments.size(); ++i) {
    const TestSegment& s = segments[i];
    size_t offset = (f.size() + 7) & ~size_t{7};
    f.resize(offset, 0);
    f.insert(f.end(), s.data.begin(), s.data.end());
    size_t p = ehdr + i * phdr;
    uint64_t vaddr = s.vaddr ? s.vaddr : s.paddr;
    uint64_t memsz = s.memory_bytes ? s.memory_bytes : s.data.size();
    PutLe(f, p, s.type, 4);
    if (is64) {
      PutLe(f, p + 4, 7, 4);
      PutLe(f, p + 8, offset, 8);
      PutLe(f, p + 16, vaddr, 8);
      PutLe(f, p + 24, s.paddr, 8);
      PutLe(f, p + 32, s.data.size(), 8);
      PutLe(f, p + 40, memsz, 8);
      PutLe(f, p + 48, s.align, 8);
    } else {
      PutLe(f, p + 4, offset, 4);
      PutLe(f, p + 8, vaddr, 4);
      PutLe(f, p + 12, s.paddr, 4);
      PutLe(f, p + 16, s.data.size(), 4);
      PutLe(f, p + 20, memsz, 4);
      PutLe(f, p + 24, 7, 4);
      PutLe(f, p + 28, s.align, 4);
    }
  }
  return f;
}

// One ELF note: header, name with NUL, descriptor, each padded to `align`.
inline std::vector<uint8_t> Note(const std::string& name, uint32_t type,
                                 const std::vector<uint8_t>& desc, size_t align = 4) {
  std::vector<uint8_t> n;
  PutLe(n, 0, name.size() + 1, 4);
  PutLe(n, 4, desc.size(), 4);
  PutLe(n, 8, type, 4);
  n.insert(n.end(), name.begin(), name.end());
  n.push_back(0);
  n.resize((n.size() + align - 1) / align * align, 0);
  n.insert(n.end(), desc.begin(), desc.end());
  n.resize((n.size() + align - 1) / align * align, 0);
  return n;
}

// `value` as `bytes` little-endian bytes.
inline std::vector<uint8_t> Le(uint64_t value, size_t bytes) {
  std::vector<uint8_t> v;
  PutLe(v, 0, value, bytes);
  return v;
}

inline uint64_t ReadGuest(GuestMemory& m, uint64_t gpa, size_t bytes) {
  const uint8_t* p = m.HostRange(gpa, bytes);
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

inline std::string ReadGuestString(GuestMemory& m, uint64_t gpa) {
  std::string s;
  for (const uint8_t* p = m.HostRange(gpa, 1); *p != 0; p = m.HostRange(++gpa, 1)) {
    s.push_back(static_cast<char>(*p));
  }
  return s;
}

// A file from the test's runfiles (Bazel runs tests in the workspace root).
inline std::vector<uint8_t> ReadRunfile(const std::string& path) {
  std::vector<uint8_t> data;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return data;
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) data.insert(data.end(), buf, buf + n);
  fclose(f);
  return data;
}

// Fills all low RAM with a pattern so tests can see what the loader zeroed.
inline void Scribble(GuestMemory& m) {
  uint64_t bytes = m.ram_below_4g_bytes() < GuestMemory::kPciHoleStart ? m.ram_below_4g_bytes()
                                                                       : GuestMemory::kPciHoleStart;
  std::memset(m.HostRange(GuestMemory::kHighMemStart, bytes - GuestMemory::kHighMemStart), 0xcc,
              bytes - GuestMemory::kHighMemStart);
  std::memset(m.HostRange(0, 0xa0000), 0xcc, 0xa0000);
}

}  // namespace x86vm::testing

#endif  // X86VM_FIRMWARE_TEST_ELF_H_
