#include "firmware/acpi/aml.h"

#include <cstdlib>
#include <string>

#include "base/log.h"

namespace x86vm::aml {
namespace {

// Opcodes (ACPI 6.5 20.3 "AML Byte Stream Byte Values").
constexpr uint8_t kZeroOp = 0x00;
constexpr uint8_t kOneOp = 0x01;
constexpr uint8_t kNameOp = 0x08;
constexpr uint8_t kBytePrefix = 0x0a;
constexpr uint8_t kWordPrefix = 0x0b;
constexpr uint8_t kDWordPrefix = 0x0c;
constexpr uint8_t kStringPrefix = 0x0d;
constexpr uint8_t kQWordPrefix = 0x0e;
constexpr uint8_t kScopeOp = 0x10;
constexpr uint8_t kBufferOp = 0x11;
constexpr uint8_t kPackageOp = 0x12;
constexpr uint8_t kMethodOp = 0x14;
constexpr uint8_t kDualNamePrefix = 0x2e;
constexpr uint8_t kMultiNamePrefix = 0x2f;
constexpr uint8_t kExtOpPrefix = 0x5b;
constexpr uint8_t kRootChar = 0x5c;
constexpr uint8_t kParentPrefixChar = 0x5e;
constexpr uint8_t kLocal0Op = 0x60;
constexpr uint8_t kArg0Op = 0x68;
constexpr uint8_t kStoreOp = 0x70;
constexpr uint8_t kAndOp = 0x7b;
constexpr uint8_t kOrOp = 0x7d;
constexpr uint8_t kCreateDWordFieldOp = 0x8a;
constexpr uint8_t kLNotOp = 0x92;
constexpr uint8_t kLEqualOp = 0x93;
constexpr uint8_t kLLessOp = 0x95;
constexpr uint8_t kIfOp = 0xa0;
constexpr uint8_t kElseOp = 0xa1;
constexpr uint8_t kReturnOp = 0xa4;
constexpr uint8_t kOnesOp = 0xff;
// After kExtOpPrefix.
constexpr uint8_t kOpRegionOp = 0x80;
constexpr uint8_t kFieldOp = 0x81;
constexpr uint8_t kDeviceOp = 0x82;

// Resource descriptor tags (6.4.2 small items, 6.4.3 large items).
constexpr uint8_t kSmallIrq2 = 0x22;  // IRQ, 2 bytes of data.
constexpr uint8_t kSmallIrq3 = 0x23;  // IRQ with the flags byte.
constexpr uint8_t kSmallIo = 0x47;
constexpr uint8_t kSmallEndTag = 0x79;
constexpr uint8_t kLargeMemory32Fixed = 0x86;
constexpr uint8_t kLargeDWordAddress = 0x87;
constexpr uint8_t kLargeWordAddress = 0x88;
constexpr uint8_t kLargeExtendedIrq = 0x89;
constexpr uint8_t kLargeQWordAddress = 0x8a;
// Address space descriptor resource types (6.4.3.5.1 table 6.51).
constexpr uint8_t kResourceMemory = 0;
constexpr uint8_t kResourceIo = 1;
constexpr uint8_t kResourceBusNumber = 2;
// General flags: MIF (bit 2) and MAF (bit 3) set, producer, positive decode.
constexpr uint8_t kMinMaxFixed = 0x0c;

// Our own encoding requests are fixed in code; a malformed one is a bug.
void Require(bool condition, std::string_view what) {
  if (!condition) {
    Logger("acpi")->critical("internal error in AML builder: {}", what);
    std::abort();
  }
}

void Append(std::vector<uint8_t>& out, const std::vector<uint8_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

void PutLe(std::vector<uint8_t>& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// op [ext] PkgLength content: the shape of every term with a body.
Aml WithPkgLength(std::vector<uint8_t> opcode, const std::vector<uint8_t>& content) {
  Aml out{std::move(opcode)};
  Append(out.bytes, PkgLength(content.size()));
  Append(out.bytes, content);
  return out;
}

std::vector<uint8_t> Concat(const std::vector<Aml>& terms) {
  std::vector<uint8_t> out;
  for (const Aml& t : terms) Append(out, t.bytes);
  return out;
}

// A NameSeg: up to four characters from [A-Z0-9_], the first not a digit,
// padded with '_' (20.2.2).
void AppendNameSeg(std::vector<uint8_t>& out, std::string_view seg) {
  Require(!seg.empty() && seg.size() <= 4, "name segment length");
  for (size_t i = 0; i < 4; ++i) {
    char c = i < seg.size() ? seg[i] : '_';
    bool ok = (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    Require(ok, "name segment character");
    out.push_back(static_cast<uint8_t>(c));
  }
}

Aml Binary(uint8_t op, const Aml& a, const Aml& b, const Aml& target) {
  Aml out{{op}};
  Append(out.bytes, a.bytes);
  Append(out.bytes, b.bytes);
  if (target.bytes.empty()) {
    out.bytes.push_back(kZeroOp);  // NullName: no target.
  } else {
    Append(out.bytes, target.bytes);
  }
  return out;
}

Aml Compare(uint8_t op, const Aml& a, const Aml& b) {
  Aml out{{op}};
  Append(out.bytes, a.bytes);
  Append(out.bytes, b.bytes);
  return out;
}

// Large item header: tag and 16-bit length of the data that follows.
Resource LargeItem(uint8_t tag, size_t data_bytes) {
  Resource r{tag};
  PutLe(r, data_bytes, 2);
  return r;
}

// Word/DWord/QWord address space descriptors share one layout (6.4.3.5):
// type, general flags, type-specific flags, then granularity, min, max,
// translation offset and length, each `field_bytes` wide.
Resource AddressSpace(uint8_t tag, int field_bytes, uint8_t type, uint8_t type_flags, uint64_t min,
                      uint64_t max) {
  Resource r = LargeItem(tag, 3 + 5 * static_cast<size_t>(field_bytes));
  r.push_back(type);
  r.push_back(kMinMaxFixed);
  r.push_back(type_flags);
  PutLe(r, 0, field_bytes);  // Granularity: 0 for fixed windows.
  PutLe(r, min, field_bytes);
  PutLe(r, max, field_bytes);
  PutLe(r, 0, field_bytes);  // Translation offset.
  PutLe(r, max - min + 1, field_bytes);
  return r;
}

uint16_t IrqMask(const std::vector<uint8_t>& irqs) {
  uint16_t mask = 0;
  for (uint8_t irq : irqs) {
    Require(irq < 16, "ISA IRQ above 15");
    mask = static_cast<uint16_t>(mask | (1u << irq));
  }
  return mask;
}

}  // namespace

// The PkgLength encoding of `value` in `extra` + 1 bytes: the lead byte's
// bits 7:6 count the following bytes; with none, bits 5:0 hold the value,
// otherwise bits 3:0 hold its low nibble and the following bytes the rest.
static std::vector<uint8_t> EncodePkgLengthBytes(size_t value, size_t extra) {
  if (extra == 0) return {static_cast<uint8_t>(value)};
  std::vector<uint8_t> out{static_cast<uint8_t>((extra << 6) | (value & 0x0f))};
  for (size_t i = 0; i < extra; ++i) out.push_back(static_cast<uint8_t>(value >> (4 + 8 * i)));
  return out;
}

std::vector<uint8_t> PkgLength(size_t content_bytes) {
  // The encoded value counts the PkgLength bytes themselves (20.2.4).
  if (content_bytes + 1 <= 0x3f) return EncodePkgLengthBytes(content_bytes + 1, 0);
  for (size_t extra = 1; extra <= 3; ++extra) {
    size_t total = content_bytes + 1 + extra;
    if (total < (size_t{1} << (4 + 8 * extra))) return EncodePkgLengthBytes(total, extra);
  }
  Require(false, "package longer than 256 MiB");
  return {};
}

std::vector<uint8_t> FieldLength(uint32_t bits) {
  // NamedField/ReservedField widths use the PkgLength form for the bare
  // bit count (ACPICA reads them with the same decoder).
  if (bits <= 0x3f) return EncodePkgLengthBytes(bits, 0);
  for (size_t extra = 1; extra <= 3; ++extra) {
    if (bits < (uint64_t{1} << (4 + 8 * extra))) return EncodePkgLengthBytes(bits, extra);
  }
  Require(false, "field wider than 2^28 bits");
  return {};
}

std::vector<uint8_t> EncodeNameString(std::string_view path) {
  std::vector<uint8_t> out;
  size_t pos = 0;
  if (pos < path.size() && path[pos] == '\\') {
    out.push_back(kRootChar);
    ++pos;
  } else {
    while (pos < path.size() && path[pos] == '^') {
      out.push_back(kParentPrefixChar);
      ++pos;
    }
  }
  std::vector<std::string_view> segs;
  std::string_view rest = path.substr(pos);
  while (!rest.empty()) {
    size_t dot = rest.find('.');
    segs.push_back(rest.substr(0, dot));
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    Require(dot == std::string_view::npos || !rest.empty(), "trailing dot in name");
  }
  Require(segs.size() <= 255, "too many name segments");
  if (segs.empty()) {
    out.push_back(kZeroOp);  // NullName, e.g. "\" alone.
  } else if (segs.size() == 2) {
    out.push_back(kDualNamePrefix);
  } else if (segs.size() > 2) {
    out.push_back(kMultiNamePrefix);
    out.push_back(static_cast<uint8_t>(segs.size()));
  }
  for (std::string_view seg : segs) AppendNameSeg(out, seg);
  return out;
}

Aml Int(uint64_t value) {
  if (value == 0) return {{kZeroOp}};
  if (value == 1) return {{kOneOp}};
  if (value == ~uint64_t{0}) return {{kOnesOp}};
  Aml out;
  if (value <= 0xff) {
    out.bytes = {kBytePrefix};
    PutLe(out.bytes, value, 1);
  } else if (value <= 0xffff) {
    out.bytes = {kWordPrefix};
    PutLe(out.bytes, value, 2);
  } else if (value <= 0xffffffff) {
    out.bytes = {kDWordPrefix};
    PutLe(out.bytes, value, 4);
  } else {
    out.bytes = {kQWordPrefix};
    PutLe(out.bytes, value, 8);
  }
  return out;
}

Aml String(std::string_view text) {
  Aml out{{kStringPrefix}};
  for (char c : text) {
    Require(c > 0 && static_cast<unsigned char>(c) < 0x80, "non-ASCII string");
    out.bytes.push_back(static_cast<uint8_t>(c));
  }
  out.bytes.push_back(0);
  return out;
}

Aml EisaId(std::string_view id) {
  Require(id.size() == 7, "EISA ID is three letters and four hex digits");
  uint32_t vendor = 0;
  for (int i = 0; i < 3; ++i) {
    Require(id[i] >= 'A' && id[i] <= 'Z', "EISA ID vendor letter");
    vendor = (vendor << 5) | static_cast<uint32_t>(id[i] - 0x40);
  }
  uint32_t product = 0;
  for (int i = 3; i < 7; ++i) {
    char c = id[i];
    uint32_t digit = c >= '0' && c <= '9'   ? static_cast<uint32_t>(c - '0')
                     : c >= 'A' && c <= 'F' ? static_cast<uint32_t>(c - 'A' + 10)
                                            : 16;
    Require(digit < 16, "EISA ID hex digit");
    product = (product << 4) | digit;
  }
  // The four bytes are stored most significant first: vendor high byte,
  // vendor low byte, product high byte, product low byte.
  uint32_t value = ((vendor >> 8) & 0xff) | ((vendor & 0xff) << 8) |
                   (((product >> 8) & 0xff) << 16) | ((product & 0xff) << 24);
  return Int(value);
}

Aml Package(const std::vector<Aml>& elements) {
  Require(elements.size() <= 255, "Package with more than 255 elements");
  std::vector<uint8_t> content{static_cast<uint8_t>(elements.size())};
  Append(content, Concat(elements));
  return WithPkgLength({kPackageOp}, content);
}

Aml Buffer(std::span<const uint8_t> bytes) {
  std::vector<uint8_t> content = Int(bytes.size()).bytes;
  content.insert(content.end(), bytes.begin(), bytes.end());
  return WithPkgLength({kBufferOp}, content);
}

Aml ResourceTemplate(const std::vector<Resource>& items) {
  std::vector<uint8_t> bytes;
  for (const Resource& r : items) Append(bytes, r);
  bytes.push_back(kSmallEndTag);
  bytes.push_back(0);  // Checksum 0: "treated as if the checksum operation succeeded".
  return Buffer(bytes);
}

Aml NameString(std::string_view path) { return {EncodeNameString(path)}; }

Aml Arg(int n) {
  Require(n >= 0 && n <= 6, "Arg index");
  return {{static_cast<uint8_t>(kArg0Op + n)}};
}

Aml Local(int n) {
  Require(n >= 0 && n <= 7, "Local index");
  return {{static_cast<uint8_t>(kLocal0Op + n)}};
}

Aml Name(std::string_view path, const Aml& value) {
  Aml out{{kNameOp}};
  Append(out.bytes, EncodeNameString(path));
  Append(out.bytes, value.bytes);
  return out;
}

Aml Scope(std::string_view path, const std::vector<Aml>& body) {
  std::vector<uint8_t> content = EncodeNameString(path);
  Append(content, Concat(body));
  return WithPkgLength({kScopeOp}, content);
}

Aml Device(std::string_view path, const std::vector<Aml>& body) {
  std::vector<uint8_t> content = EncodeNameString(path);
  Append(content, Concat(body));
  return WithPkgLength({kExtOpPrefix, kDeviceOp}, content);
}

Aml Method(std::string_view path, int arg_count, bool serialized, const std::vector<Aml>& body) {
  Require(arg_count >= 0 && arg_count <= 7, "Method argument count");
  std::vector<uint8_t> content = EncodeNameString(path);
  // MethodFlags: bits 2:0 ArgCount, bit 3 SerializeFlag, bits 7:4 SyncLevel.
  content.push_back(static_cast<uint8_t>(arg_count | (serialized ? 0x08 : 0)));
  Append(content, Concat(body));
  return WithPkgLength({kMethodOp}, content);
}

Aml OperationRegion(std::string_view name, RegionSpace space, const Aml& offset,
                    const Aml& length) {
  Aml out{{kExtOpPrefix, kOpRegionOp}};
  Append(out.bytes, EncodeNameString(name));
  out.bytes.push_back(static_cast<uint8_t>(space));
  Append(out.bytes, offset.bytes);
  Append(out.bytes, length.bytes);
  return out;
}

Aml Field(std::string_view region, FieldAccess access, FieldUpdate update,
          const std::vector<FieldUnit>& units) {
  std::vector<uint8_t> content = EncodeNameString(region);
  // FieldFlags: bits 3:0 AccessType, bit 4 LockRule (0 = NoLock), bits 6:5 UpdateRule.
  content.push_back(
      static_cast<uint8_t>(static_cast<uint8_t>(access) | (static_cast<uint8_t>(update) << 5)));
  for (const FieldUnit& u : units) {
    if (u.name.empty()) {
      content.push_back(0x00);  // ReservedField: skip bits.
    } else {
      AppendNameSeg(content, u.name);
    }
    Require(u.bits > 0, "zero-width field");
    Append(content, FieldLength(u.bits));
  }
  return WithPkgLength({kExtOpPrefix, kFieldOp}, content);
}

Aml CreateDWordField(const Aml& buffer, const Aml& byte_index, std::string_view name) {
  Aml out{{kCreateDWordFieldOp}};
  Append(out.bytes, buffer.bytes);
  Append(out.bytes, byte_index.bytes);
  Append(out.bytes, EncodeNameString(name));
  return out;
}

Aml Return(const Aml& value) {
  Aml out{{kReturnOp}};
  Append(out.bytes, value.bytes);
  return out;
}

Aml Store(const Aml& source, const Aml& destination) {
  Aml out{{kStoreOp}};
  Append(out.bytes, source.bytes);
  Append(out.bytes, destination.bytes);
  return out;
}

Aml If(const Aml& predicate, const std::vector<Aml>& body) {
  std::vector<uint8_t> content = predicate.bytes;
  Append(content, Concat(body));
  return WithPkgLength({kIfOp}, content);
}

Aml Else(const std::vector<Aml>& body) { return WithPkgLength({kElseOp}, Concat(body)); }

Aml And(const Aml& a, const Aml& b, const Aml& target) { return Binary(kAndOp, a, b, target); }
Aml Or(const Aml& a, const Aml& b, const Aml& target) { return Binary(kOrOp, a, b, target); }
Aml LEqual(const Aml& a, const Aml& b) { return Compare(kLEqualOp, a, b); }
Aml LLess(const Aml& a, const Aml& b) { return Compare(kLLessOp, a, b); }

Aml LNot(const Aml& a) {
  Aml out{{kLNotOp}};
  Append(out.bytes, a.bytes);
  return out;
}

Aml Call(std::string_view path, const std::vector<Aml>& args) {
  Aml out{EncodeNameString(path)};
  Append(out.bytes, Concat(args));
  return out;
}

Resource Io(uint16_t min, uint16_t max, uint8_t alignment, uint8_t length) {
  Resource r{kSmallIo, 0x01};  // Information bit 0: 16-bit decode.
  PutLe(r, min, 2);
  PutLe(r, max, 2);
  r.push_back(alignment);
  r.push_back(length);
  return r;
}

Resource IrqNoFlags(const std::vector<uint8_t>& irqs) {
  Resource r{kSmallIrq2};
  PutLe(r, IrqMask(irqs), 2);
  return r;
}

Resource Irq(Trigger trigger, Polarity polarity, Sharing sharing,
             const std::vector<uint8_t>& irqs) {
  Resource r{kSmallIrq3};
  PutLe(r, IrqMask(irqs), 2);
  // 6.4.2.1 byte 3: bit 0 edge, bit 3 active low, bit 4 shared.
  r.push_back(static_cast<uint8_t>((trigger == Trigger::kEdge ? 0x01 : 0) |
                                   (polarity == Polarity::kActiveLow ? 0x08 : 0) |
                                   (sharing == Sharing::kShared ? 0x10 : 0)));
  return r;
}

Resource Interrupt(Trigger trigger, Polarity polarity, Sharing sharing,
                   const std::vector<uint32_t>& interrupts) {
  Require(!interrupts.empty() && interrupts.size() <= 255, "Interrupt list size");
  Resource r = LargeItem(kLargeExtendedIrq, 2 + 4 * interrupts.size());
  // 6.4.3.6 byte 3: bit 0 consumer, bit 1 edge, bit 2 active low, bit 3 shared.
  r.push_back(static_cast<uint8_t>(0x01 | (trigger == Trigger::kEdge ? 0x02 : 0) |
                                   (polarity == Polarity::kActiveLow ? 0x04 : 0) |
                                   (sharing == Sharing::kShared ? 0x08 : 0)));
  r.push_back(static_cast<uint8_t>(interrupts.size()));
  for (uint32_t i : interrupts) PutLe(r, i, 4);
  return r;
}

Resource Memory32Fixed(bool read_write, uint32_t base, uint32_t length) {
  Resource r = LargeItem(kLargeMemory32Fixed, 9);
  r.push_back(read_write ? 0x01 : 0x00);
  PutLe(r, base, 4);
  PutLe(r, length, 4);
  return r;
}

Resource WordBusNumber(uint16_t min, uint16_t max) {
  return AddressSpace(kLargeWordAddress, 2, kResourceBusNumber, 0, min, max);
}

// I/O type-specific flags (6.4.3.5.3 table 6.53): RNG = 3, entire range.
constexpr uint8_t kIoEntireRange = 0x03;

Resource WordIo(uint16_t min, uint16_t max) {
  return AddressSpace(kLargeWordAddress, 2, kResourceIo, kIoEntireRange, min, max);
}

Resource DWordIo(uint32_t min, uint32_t max) {
  return AddressSpace(kLargeDWordAddress, 4, kResourceIo, kIoEntireRange, min, max);
}

// Memory type-specific flags (6.4.3.5.4 table 6.52): bit 0 read-write,
// bits 2:1 cacheability, MTP = AddressRangeMemory.
Resource DWordMemory(Cacheability cacheability, uint32_t min, uint32_t max) {
  return AddressSpace(kLargeDWordAddress, 4, kResourceMemory,
                      static_cast<uint8_t>(0x01 | (static_cast<uint8_t>(cacheability) << 1)), min,
                      max);
}

Resource QWordMemory(Cacheability cacheability, uint64_t min, uint64_t max) {
  return AddressSpace(kLargeQWordAddress, 8, kResourceMemory,
                      static_cast<uint8_t>(0x01 | (static_cast<uint8_t>(cacheability) << 1)), min,
                      max);
}

}  // namespace x86vm::aml
