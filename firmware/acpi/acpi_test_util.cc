#include "firmware/acpi/acpi_test_util.h"

#include "machine/pc_acpi.h"

#include <algorithm>

#include "devices/acpi_pm.h"
#include "devices/fw_cfg.h"
#include "devices/ioapic.h"
#include "devices/local_apic.h"
#include "devices/pci.h"
#include "firmware/acpi/linker.h"
#include "machine/pc.h"

namespace x86vm::acpi_test {

AcpiMachine PcAcpiMachine(int cpus) { return DescribePcForAcpi(cpus); }

uint64_t Le(std::span<const uint8_t> bytes, size_t offset, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v |= uint64_t{bytes[offset + i]} << (8 * i);
  return v;
}

uint8_t Sum8(std::span<const uint8_t> bytes) {
  uint8_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
  return sum;
}

AcpiMemoryWriter SparseMemory::Writer() {
  return [this](uint64_t gpa, std::span<const uint8_t> bytes) {
    Write(gpa, bytes);
    return true;
  };
}

void SparseMemory::Write(uint64_t gpa, std::span<const uint8_t> bytes) {
  chunks_[gpa] = std::vector<uint8_t>(bytes.begin(), bytes.end());
}

std::optional<std::vector<uint8_t>> SparseMemory::Read(uint64_t gpa, uint64_t size) const {
  auto it = chunks_.upper_bound(gpa);
  if (it == chunks_.begin()) return std::nullopt;
  --it;
  uint64_t off = gpa - it->first;
  if (off > it->second.size() || size > it->second.size() - off) return std::nullopt;
  auto begin = it->second.begin() + static_cast<long>(off);
  return std::vector<uint8_t>(begin, begin + static_cast<long>(size));
}

std::optional<std::vector<uint8_t>> SparseMemory::Table(uint64_t gpa) const {
  auto header = Read(gpa, 8);
  if (!header) return std::nullopt;
  return Read(gpa, Le(*header, 4, 4));
}

namespace {

std::string NameField(std::span<const uint8_t> p) {
  std::string s;
  for (size_t i = 0; i < TableLinker::kFileNameBytes && p[i] != 0; ++i)
    s.push_back(static_cast<char>(p[i]));
  return s;
}

bool AllZero(std::span<const uint8_t> p) {
  return std::all_of(p.begin(), p.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

std::optional<std::vector<LoaderCommand>> DecodeLoader(std::span<const uint8_t> loader) {
  constexpr size_t kEntry = 128;
  constexpr size_t kName = 56;
  if (loader.size() % kEntry != 0) return std::nullopt;
  std::vector<LoaderCommand> out;
  for (size_t at = 0; at < loader.size(); at += kEntry) {
    std::span<const uint8_t> e = loader.subspan(at, kEntry);
    std::span<const uint8_t> u = e.subspan(4);
    LoaderCommand c{};
    c.kind = static_cast<uint32_t>(Le(e, 0, 4));
    // Names are NUL terminated within their 56 bytes, zero padded after.
    auto name_ok = [](std::span<const uint8_t> n) {
      auto nul = std::find(n.begin(), n.end(), 0);
      return nul != n.end() && std::all_of(nul, n.end(), [](uint8_t b) { return b == 0; });
    };
    switch (c.kind) {
      case 1:
        c.file = NameField(u);
        c.align = static_cast<uint32_t>(Le(u, kName, 4));
        c.zone = u[kName + 4];
        c.padding_clean = name_ok(u.subspan(0, kName)) && AllZero(u.subspan(kName + 5));
        break;
      case 2:
        c.file = NameField(u);
        c.src_file = NameField(u.subspan(kName));
        c.offset = static_cast<uint32_t>(Le(u, 2 * kName, 4));
        c.size = u[2 * kName + 4];
        c.padding_clean = name_ok(u.subspan(0, kName)) && name_ok(u.subspan(kName, kName)) &&
                          AllZero(u.subspan(2 * kName + 5));
        break;
      case 3:
        c.file = NameField(u);
        c.offset = static_cast<uint32_t>(Le(u, kName, 4));
        c.start = static_cast<uint32_t>(Le(u, kName + 4, 4));
        c.length = static_cast<uint32_t>(Le(u, kName + 8, 4));
        c.padding_clean = name_ok(u.subspan(0, kName)) && AllZero(u.subspan(kName + 12));
        break;
      default:
        break;
    }
    out.push_back(c);
  }
  return out;
}

bool RunLoader(const std::vector<LoaderCommand>& commands,
               const std::map<std::string, std::vector<uint8_t>>& files,
               const std::map<std::string, uint64_t>& addresses, SparseMemory& memory) {
  std::map<std::string, std::vector<uint8_t>> placed;
  for (const LoaderCommand& c : commands) {
    switch (c.kind) {
      case 1: {
        if (!files.contains(c.file) || !addresses.contains(c.file) || placed.contains(c.file)) {
          return false;
        }
        if (c.align == 0 || addresses.at(c.file) % c.align != 0) return false;
        placed[c.file] = files.at(c.file);
        break;
      }
      case 2: {
        if (!placed.contains(c.file) || !placed.contains(c.src_file)) return false;
        std::vector<uint8_t>& d = placed[c.file];
        if (c.size != 1 && c.size != 2 && c.size != 4 && c.size != 8) return false;
        if (c.offset + c.size > d.size()) return false;
        uint64_t v = Le(d, c.offset, c.size) + addresses.at(c.src_file);
        for (size_t i = 0; i < c.size; ++i) d[c.offset + i] = static_cast<uint8_t>(v >> (8 * i));
        break;
      }
      case 3: {
        if (!placed.contains(c.file)) return false;
        std::vector<uint8_t>& f = placed[c.file];
        if (c.offset >= f.size() || c.start + c.length > f.size()) return false;
        // SeaBIOS: data[offset] -= checksum(data + start, length).
        f[c.offset] = static_cast<uint8_t>(
            f[c.offset] - Sum8(std::span<const uint8_t>(f).subspan(c.start, c.length)));
        break;
      }
      default:
        return false;
    }
  }
  for (const auto& [name, bytes] : placed) memory.Write(addresses.at(name), bytes);
  return true;
}

// --- AML walker -------------------------------------------------------------

namespace {

class Walker {
 public:
  explicit Walker(std::span<const uint8_t> aml) : a_(aml) {}

  AmlWalk Run() {
    TermList(0, a_.size(), {});
    return std::move(out_);
  }

 private:
  using Path = std::vector<std::string>;

  bool Fail(const std::string& why, size_t at) {
    if (out_.ok) {
      out_.ok = false;
      out_.error = why + " at offset " + std::to_string(at);
    }
    return false;
  }

  static std::string Join(const Path& p) {
    std::string s = "\\";
    for (size_t i = 0; i < p.size(); ++i) s += (i ? "." : "") + p[i];
    return s;
  }

  bool PkgLength(size_t& pos, size_t& value) {
    if (pos >= a_.size()) return Fail("PkgLength past end", pos);
    uint8_t lead = a_[pos];
    size_t extra = lead >> 6;
    if (pos + 1 + extra > a_.size()) return Fail("PkgLength past end", pos);
    if (extra == 0) {
      value = lead & 0x3f;
    } else {
      value = lead & 0x0f;
      for (size_t i = 0; i < extra; ++i) value |= size_t{a_[pos + 1 + i]} << (4 + 8 * i);
    }
    pos += 1 + extra;
    return true;
  }

  bool Seg(size_t& pos, std::string& seg) {
    if (pos + 4 > a_.size()) return Fail("NameSeg past end", pos);
    seg.assign(reinterpret_cast<const char*>(&a_[pos]), 4);
    for (char c : seg) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
        return Fail("bad NameSeg", pos);
      }
    }
    pos += 4;
    return true;
  }

  // Parses a NameString and resolves it against `scope` to an absolute path.
  bool NameString(size_t& pos, const Path& scope, Path& out) {
    if (pos >= a_.size()) return Fail("NameString past end", pos);
    out = scope;
    if (a_[pos] == 0x5c) {
      out.clear();
      ++pos;
    } else {
      while (pos < a_.size() && a_[pos] == 0x5e) {
        if (out.empty()) return Fail("^ above the root", pos);
        out.pop_back();
        ++pos;
      }
    }
    if (pos >= a_.size()) return Fail("NameString past end", pos);
    size_t count = 1;
    if (a_[pos] == 0x00) {
      ++pos;
      return true;
    } else if (a_[pos] == 0x2e) {
      count = 2;
      ++pos;
    } else if (a_[pos] == 0x2f) {
      if (pos + 1 >= a_.size()) return Fail("MultiName past end", pos);
      count = a_[pos + 1];
      pos += 2;
    }
    for (size_t i = 0; i < count; ++i) {
      std::string seg;
      if (!Seg(pos, seg)) return false;
      out.push_back(seg);
    }
    return true;
  }

  bool Data(size_t& pos, const Path& scope, AmlValue& v) {
    if (pos >= a_.size()) return Fail("data past end", pos);
    uint8_t op = a_[pos];
    auto integer = [&](size_t bytes) {
      if (pos + 1 + bytes > a_.size()) return Fail("integer past end", pos);
      v.kind = AmlValue::Kind::kInteger;
      v.integer = Le(a_, pos + 1, bytes);
      pos += 1 + bytes;
      return true;
    };
    switch (op) {
      case 0x00:
      case 0x01:
      case 0xff:
        v.kind = AmlValue::Kind::kInteger;
        v.integer = op == 0xff ? ~0ull : op;
        ++pos;
        return true;
      case 0x0a:
        return integer(1);
      case 0x0b:
        return integer(2);
      case 0x0c:
        return integer(4);
      case 0x0e:
        return integer(8);
      case 0x0d: {
        v.kind = AmlValue::Kind::kString;
        size_t p = pos + 1;
        while (p < a_.size() && a_[p] != 0) v.text.push_back(static_cast<char>(a_[p++]));
        if (p >= a_.size()) return Fail("unterminated string", pos);
        pos = p + 1;
        return true;
      }
      case 0x11: {  // Buffer: PkgLength BufferSize ByteList.
        size_t start = pos + 1, len = 0, p = pos + 1;
        if (!PkgLength(p, len)) return false;
        size_t end = start + len;
        if (end > a_.size()) return Fail("buffer past end", pos);
        AmlValue size;
        if (!Data(p, scope, size) || size.kind != AmlValue::Kind::kInteger) {
          return Fail("buffer size", p);
        }
        if (p + size.integer != end) return Fail("buffer size disagrees with its length", pos);
        v.kind = AmlValue::Kind::kBuffer;
        v.buffer.assign(a_.begin() + static_cast<long>(p), a_.begin() + static_cast<long>(end));
        pos = end;
        return true;
      }
      case 0x12: {  // Package: PkgLength NumElements elements.
        size_t start = pos + 1, len = 0, p = pos + 1;
        if (!PkgLength(p, len)) return false;
        size_t end = start + len;
        if (end > a_.size() || p >= end) return Fail("package past end", pos);
        size_t count = a_[p++];
        v.kind = AmlValue::Kind::kPackage;
        while (p < end) {
          AmlValue e;
          if (!Data(p, scope, e)) return false;
          v.elements.push_back(std::move(e));
        }
        if (p != end) return Fail("package elements overrun", pos);
        if (v.elements.size() != count) return Fail("package element count", pos);
        pos = end;
        return true;
      }
      default: {
        // A name reference (package elements may name objects).
        if (op == 0x5c || op == 0x5e || op == 0x2e || op == 0x2f || op == '_' ||
            (op >= 'A' && op <= 'Z')) {
          Path p;
          if (!NameString(pos, scope, p)) return false;
          v.kind = AmlValue::Kind::kName;
          v.text = Join(p);
          return true;
        }
        return Fail("unexpected data opcode", pos);
      }
    }
  }

  void Record(const Path& p, AmlObject obj) { out_.objects[Join(p)] = std::move(obj); }

  bool TermList(size_t pos, size_t end, const Path& scope) {
    while (pos < end && out_.ok) {
      size_t at = pos;
      uint8_t op = a_[pos];
      bool ext = op == 0x5b;
      uint8_t ext_op = ext && pos + 1 < end ? a_[pos + 1] : 0;
      if (op == 0x10 || op == 0x14 || (ext && ext_op == 0x82)) {
        // Scope, Method, Device: PkgLength NameString body.
        pos += ext ? 2 : 1;
        size_t pkg_start = pos, len = 0;
        if (!PkgLength(pos, len)) return false;
        size_t body_end = pkg_start + len;
        if (body_end > end) return Fail("object runs past its container", at);
        Path name;
        if (!NameString(pos, scope, name)) return false;
        AmlObject obj;
        if (op == 0x14) {
          obj.kind = "Method";
          if (pos >= body_end) return Fail("method without flags", at);
          obj.method_flags = a_[pos];
          Record(name, obj);
        } else {
          obj.kind = op == 0x10 ? "Scope" : "Device";
          Record(name, obj);
          if (!TermList(pos, body_end, name)) return false;
        }
        pos = body_end;
      } else if (op == 0x08) {  // Name
        ++pos;
        Path name;
        if (!NameString(pos, scope, name)) return false;
        AmlObject obj{.kind = "Name"};
        AmlValue v;
        if (!Data(pos, scope, v)) return false;
        obj.value = std::move(v);
        Record(name, obj);
      } else if (ext && ext_op == 0x80) {  // OperationRegion
        pos += 2;
        Path name;
        if (!NameString(pos, scope, name)) return false;
        if (pos >= end) return Fail("region past end", at);
        AmlObject obj{.kind = "OperationRegion"};
        obj.region_space = a_[pos++];
        AmlValue off, len;
        if (!Data(pos, scope, off) || !Data(pos, scope, len)) return false;
        obj.region_offset = off.integer;
        obj.region_length = len.integer;
        Record(name, obj);
      } else if (ext && ext_op == 0x81) {  // Field
        pos += 2;
        size_t pkg_start = pos, len = 0;
        if (!PkgLength(pos, len)) return false;
        size_t field_end = pkg_start + len;
        if (field_end > end) return Fail("field list past its container", at);
        Path region;
        if (!NameString(pos, scope, region)) return false;
        ++pos;  // FieldFlags.
        while (pos < field_end) {
          size_t bits = 0;
          if (a_[pos] == 0x00) {
            ++pos;
            if (!PkgLength(pos, bits)) return false;
            continue;
          }
          std::string seg;
          if (!Seg(pos, seg) || !PkgLength(pos, bits)) return false;
          Path unit = scope;
          unit.push_back(seg);
          AmlObject obj{.kind = "Field"};
          obj.field_bits = static_cast<uint32_t>(bits);
          Record(unit, obj);
        }
        if (pos != field_end) return Fail("field list overruns", at);
      } else {
        return Fail("unexpected opcode", at);
      }
    }
    if (pos != end && out_.ok) return Fail("term list overruns", pos);
    return out_.ok;
  }

  std::span<const uint8_t> a_;
  AmlWalk out_;
};

}  // namespace

AmlWalk WalkAml(std::span<const uint8_t> aml) { return Walker(aml).Run(); }

std::optional<std::vector<ResourceItem>> DecodeResources(std::span<const uint8_t> b) {
  std::vector<ResourceItem> out;
  size_t pos = 0;
  while (pos < b.size()) {
    uint8_t tag = b[pos];
    size_t len, header;
    uint8_t type;
    if (tag & 0x80) {
      if (pos + 3 > b.size()) return std::nullopt;
      len = Le(b, pos + 1, 2);
      header = 3;
      type = tag;
    } else {
      len = tag & 0x07;
      header = 1;
      type = static_cast<uint8_t>((tag >> 3) & 0x0f);
    }
    if (pos + header + len > b.size()) return std::nullopt;
    if (type == 0x0f) {  // End Tag: must close the buffer.
      return pos + header + len == b.size() ? std::optional(out) : std::nullopt;
    }
    out.push_back({type, std::vector<uint8_t>(b.begin() + static_cast<long>(pos + header),
                                              b.begin() + static_cast<long>(pos + header + len))});
    pos += header + len;
  }
  return std::nullopt;
}

}  // namespace x86vm::acpi_test
