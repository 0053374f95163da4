// A small AML (ACPI Machine Language) encoder: just the terms our DSDT needs,
// each a function returning its encoded bytes, composed the way ASL nests.
// References: ACPI 6.5 chapter 20 (AML grammar: 20.2.3 data objects,
// 20.2.4 package length, 20.2.2 name strings, 20.2.5 terms) and 6.4
// (resource data types for resource templates).
//
//   Device("KBD_", {Name("_HID", EisaId("PNP0303")),
//                   Name("_CRS", ResourceTemplate({IrqNoFlags({1})}))})
#ifndef X86VM_FIRMWARE_ACPI_AML_H_
#define X86VM_FIRMWARE_ACPI_AML_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace x86vm::aml {

// One encoded AML term (or an empty placeholder where the grammar allows a
// NullName, e.g. an unused Target).
struct Aml {
  std::vector<uint8_t> bytes;
};

// One encoded resource descriptor (ACPI 6.5 6.4), an element of a
// ResourceTemplate.
using Resource = std::vector<uint8_t>;

// --- Data objects (20.2.3) ---------------------------------------------
// An integer with the shortest encoding: Zero, One, Ones (all bits set),
// BytePrefix, WordPrefix, DWordPrefix or QWordPrefix.
Aml Int(uint64_t value);
// A NUL-terminated ASCII string (StringPrefix).
Aml String(std::string_view text);
// A compressed EISA ID ("PNP0A03") as the integer ASL's EisaId() makes
// (ACPI 6.5 6.1.5: three 5-bit letters and four hex digits, big-endian).
Aml EisaId(std::string_view id);
// Package(N) { elements } (PackageOp; at most 255 elements).
Aml Package(const std::vector<Aml>& elements);
// Buffer() { bytes } (BufferOp with the size as an integer term).
Aml Buffer(std::span<const uint8_t> bytes);
// ResourceTemplate() { items }: a Buffer of the descriptors plus the End Tag
// (6.4.2.9) with checksum 0 ("treated as correct").
Aml ResourceTemplate(const std::vector<Resource>& items);

// --- Names and arguments (20.2.2, 20.2.6) --------------------------------
// A NameString used as a term: "\_SB.PCI0", "^LNKA", "PICF". Segments
// shorter than 4 characters are padded with '_'.
Aml NameString(std::string_view path);
// ArgN (0-6) and LocalN (0-7).
Aml Arg(int n);
Aml Local(int n);

// --- Namespace modifiers and named objects (20.2.5.1, 20.2.5.2) ------------
// Name(path, value).
Aml Name(std::string_view path, const Aml& value);
// Scope(path) { body }.
Aml Scope(std::string_view path, const std::vector<Aml>& body);
// Device(path) { body }.
Aml Device(std::string_view path, const std::vector<Aml>& body);
// Method(path, args, Serialized|NotSerialized) { body }; sync level 0.
Aml Method(std::string_view path, int arg_count, bool serialized, const std::vector<Aml>& body);

// OperationRegion address spaces (ACPI 6.5 table 5.156 / 20.2.5.2).
enum class RegionSpace : uint8_t { kSystemMemory = 0, kSystemIo = 1, kPciConfig = 2 };
// Field access types and update rules (20.2.5.2 FieldFlags).
enum class FieldAccess : uint8_t { kAny = 0, kByte = 1, kWord = 2, kDWord = 3, kQWord = 4 };
enum class FieldUpdate : uint8_t { kPreserve = 0, kWriteAsOnes = 1, kWriteAsZeros = 2 };
// One entry of a Field list: a named unit of `bits`, or (empty name) that
// many bits skipped.
struct FieldUnit {
  std::string_view name;
  uint32_t bits;
};

// OperationRegion(name, space, offset, length).
Aml OperationRegion(std::string_view name, RegionSpace space, const Aml& offset, const Aml& length);
// Field(region, access, NoLock, update) { units }.
Aml Field(std::string_view region, FieldAccess access, FieldUpdate update,
          const std::vector<FieldUnit>& units);
// CreateDWordField(buffer, byte_index, name).
Aml CreateDWordField(const Aml& buffer, const Aml& byte_index, std::string_view name);

// --- Statements and expressions (20.2.5.3, 20.2.5.4) ------------------------
// Return(value).
Aml Return(const Aml& value);
// Store(source, destination).
Aml Store(const Aml& source, const Aml& destination);
// If(predicate) { body } and the Else { body } that may follow it.
Aml If(const Aml& predicate, const std::vector<Aml>& body);
Aml Else(const std::vector<Aml>& body);
// And/Or(a, b, target); an empty target (Aml{}) encodes NullName.
Aml And(const Aml& a, const Aml& b, const Aml& target = {});
Aml Or(const Aml& a, const Aml& b, const Aml& target = {});
// LEqual(a, b), LLess(a, b), LNot(a).
Aml LEqual(const Aml& a, const Aml& b);
Aml LLess(const Aml& a, const Aml& b);
Aml LNot(const Aml& a);
// A call of a method defined earlier in the table: path(args...).
Aml Call(std::string_view path, const std::vector<Aml>& args);

// --- Resource descriptors (6.4) ---------------------------------------------
// Interrupt trigger, polarity and sharing of IRQ/Interrupt descriptors.
enum class Trigger { kLevel, kEdge };
enum class Polarity { kActiveHigh, kActiveLow };
enum class Sharing { kExclusive, kShared };
// Memory attributes of address space descriptors (6.4.3.5.5 _MEM).
enum class Cacheability : uint8_t {
  kNonCacheable = 0,
  kCacheable = 1,
  kWriteCombining = 2,
  kPrefetchable = 3
};

// IO(Decode16, min, max, alignment, length) (6.4.2.5).
Resource Io(uint16_t min, uint16_t max, uint8_t alignment, uint8_t length);
// IRQNoFlags() { irqs } (6.4.2.1, 2-byte form: edge, active high, exclusive).
Resource IrqNoFlags(const std::vector<uint8_t>& irqs);
// IRQ(trigger, polarity, sharing) { irqs } (6.4.2.1, 3-byte form).
Resource Irq(Trigger trigger, Polarity polarity, Sharing sharing, const std::vector<uint8_t>& irqs);
// Interrupt(ResourceConsumer, trigger, polarity, sharing) { gsis } (6.4.3.6).
Resource Interrupt(Trigger trigger, Polarity polarity, Sharing sharing,
                   const std::vector<uint32_t>& interrupts);
// Memory32Fixed(ReadWrite|ReadOnly, base, length) (6.4.3.4).
Resource Memory32Fixed(bool read_write, uint32_t base, uint32_t length);
// WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min,
// max, 0, max - min + 1) (6.4.3.5.3).
Resource WordBusNumber(uint16_t min, uint16_t max);
// WordIO / DWordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode,
// EntireRange, 0, min, max, 0, max - min + 1) (6.4.3.5.3, 6.4.3.5.2).
Resource WordIo(uint16_t min, uint16_t max);
Resource DWordIo(uint32_t min, uint32_t max);
// DWordMemory / QWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed,
// cacheability, ReadWrite, 0, min, max, 0, max - min + 1) (6.4.3.5.2, 6.4.3.5.1).
Resource DWordMemory(Cacheability cacheability, uint32_t min, uint32_t max);
Resource QWordMemory(Cacheability cacheability, uint64_t min, uint64_t max);

// --- Encoding primitives (exposed for tests) ----------------------------------
// PkgLength for `content_bytes` of content that follow it (20.2.4): the
// encoded length counts its own bytes.
std::vector<uint8_t> PkgLength(size_t content_bytes);
// The width of a Field unit: the PkgLength form holding the bare bit count.
std::vector<uint8_t> FieldLength(uint32_t bits);
// The NameString encoding of `path` (20.2.2).
std::vector<uint8_t> EncodeNameString(std::string_view path);

}  // namespace x86vm::aml

#endif  // X86VM_FIRMWARE_ACPI_AML_H_
