// Test helpers for the ACPI tables: the PC board's description built from
// the real board and device constants, a sparse guest memory, a loader that
// runs "etc/table-loader" independently of TableLinker, and a tiny AML
// walker that finds the named objects of a DSDT.
#ifndef X86VM_FIRMWARE_ACPI_ACPI_TEST_UTIL_H_
#define X86VM_FIRMWARE_ACPI_ACPI_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "firmware/acpi/acpi_machine.h"
#include "firmware/acpi/acpi_tables.h"

namespace x86vm::acpi_test {

// The PC board as machine/pc.cc wires it, with `cpus` CPUs (APIC IDs 0..).
AcpiMachine PcAcpiMachine(int cpus = 1);

// Little-endian field readers.
uint64_t Le(std::span<const uint8_t> bytes, size_t offset, size_t size);
// The 8-bit sum of `bytes` (0 for a valid ACPI checksum).
uint8_t Sum8(std::span<const uint8_t> bytes);

// Guest-physical memory made of written chunks.
class SparseMemory {
 public:
  // An AcpiMemoryWriter that records into this memory.
  AcpiMemoryWriter Writer();
  // Writes `bytes` at `gpa`.
  void Write(uint64_t gpa, std::span<const uint8_t> bytes);
  // The `size` bytes at `gpa`, or nullopt when not inside one written chunk.
  std::optional<std::vector<uint8_t>> Read(uint64_t gpa, uint64_t size) const;
  // A whole ACPI table (header length) at `gpa`, or nullopt.
  std::optional<std::vector<uint8_t>> Table(uint64_t gpa) const;

 private:
  std::map<uint64_t, std::vector<uint8_t>> chunks_;
};

// One decoded "etc/table-loader" command.
struct LoaderCommand {
  uint32_t kind;
  std::string file;      // ALLOCATE/ADD_CHECKSUM file, ADD_POINTER destination.
  std::string src_file;  // ADD_POINTER.
  uint32_t align = 0;
  uint8_t zone = 0;
  uint32_t offset = 0;
  uint8_t size = 0;
  uint32_t start = 0;
  uint32_t length = 0;
  // Bytes of the 128-byte entry past the fields of its command: must be 0.
  bool padding_clean = true;
};

// Decodes the loader file; nullopt when its size is not a multiple of 128.
std::optional<std::vector<LoaderCommand>> DecodeLoader(std::span<const uint8_t> loader);

// Runs the commands as SeaBIOS would, with file `name` at `addresses[name]`;
// writes the results into `memory`. Returns false on an inconsistent command.
bool RunLoader(const std::vector<LoaderCommand>& commands,
               const std::map<std::string, std::vector<uint8_t>>& files,
               const std::map<std::string, uint64_t>& addresses, SparseMemory& memory);

// A decoded AML data object.
struct AmlValue {
  enum class Kind { kInteger, kString, kName, kBuffer, kPackage };
  Kind kind = Kind::kInteger;
  uint64_t integer = 0;
  std::string text;                // String contents or an absolute name.
  std::vector<uint8_t> buffer;     // Buffer bytes.
  std::vector<AmlValue> elements;  // Package elements.
};

// What the walker found under one absolute name ("\_SB_.PCI0._PRT").
struct AmlObject {
  std::string kind = {};               // Scope, Device, Method, Name, OperationRegion, Field.
  std::optional<AmlValue> value = {};  // For Name.
  uint8_t method_flags = 0;            // For Method.
  uint8_t region_space = 0;            // For OperationRegion.
  uint64_t region_offset = 0;
  uint64_t region_length = 0;
  uint32_t field_bits = 0;  // For Field units.
};

// Walks the namespace-level terms of a DSDT body (Scope, Device, Method,
// Name, OperationRegion, Field), recording every object by absolute name.
// Method bodies are skipped by their length. Fails on any other opcode or a
// length running past its container.
struct AmlWalk {
  bool ok = true;
  std::string error;
  std::map<std::string, AmlObject> objects;
};
AmlWalk WalkAml(std::span<const uint8_t> aml);

// One resource descriptor of a resource template.
struct ResourceItem {
  uint8_t type;  // Small: the 4-bit item name (0x04 IRQ, 0x08 IO); large: the tag (0x8x).
  std::vector<uint8_t> data;
};
// The descriptors before the End Tag; nullopt if malformed or unterminated.
std::optional<std::vector<ResourceItem>> DecodeResources(std::span<const uint8_t> buffer);

}  // namespace x86vm::acpi_test

#endif  // X86VM_FIRMWARE_ACPI_ACPI_TEST_UTIL_H_
