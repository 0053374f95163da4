// QEMU's BIOS linker/loader model ("etc/table-loader", QEMU's
// hw/acpi/bios-linker-loader.c): the tables are built as blobs whose pointer
// fields hold offsets into other blobs, plus a command list telling the
// loader where to allocate each blob, which fields to turn into addresses
// and which checksums to compute. SeaBIOS and OVMF run those commands from
// fw_cfg; for direct boot we run the same list ourselves (Link), so both
// paths lay out identical tables.
#ifndef X86VM_FIRMWARE_ACPI_LINKER_H_
#define X86VM_FIRMWARE_ACPI_LINKER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace x86vm {

class TableLinker {
 public:
  // Loader command codes (BIOS_LINKER_LOADER_COMMAND_*).
  static constexpr uint32_t kCommandAllocate = 1;
  static constexpr uint32_t kCommandAddPointer = 2;
  static constexpr uint32_t kCommandAddChecksum = 3;
  // Allocation zones: anywhere in 32-bit RAM, or the F-segment (RSDP).
  static constexpr uint8_t kZoneHigh = 1;
  static constexpr uint8_t kZoneFseg = 2;
  // Every command is 128 bytes: a u32 command and a 124-byte union; file
  // names occupy 56 bytes (FW_CFG_MAX_FILE_PATH) with a NUL.
  static constexpr size_t kCommandBytes = 128;
  static constexpr size_t kFileNameBytes = 56;

  // One loader command, in the order the loader must run it.
  struct Command {
    uint32_t kind = 0;
    std::string file = {};      // ALLOCATE/ADD_CHECKSUM file; ADD_POINTER destination.
    std::string src_file = {};  // ADD_POINTER source.
    uint32_t align = 0;         // ALLOCATE.
    uint8_t zone = 0;           // ALLOCATE.
    uint32_t offset = 0;        // ADD_POINTER field / ADD_CHECKSUM checksum byte.
    uint8_t size = 0;           // ADD_POINTER field width: 1, 2, 4 or 8.
    uint32_t start = 0;         // ADD_CHECKSUM range.
    uint32_t length = 0;
  };

  // Adds a blob and its ALLOCATE command; returns the blob to append to.
  // `align` is a power of two.
  std::vector<uint8_t>& AddFile(std::string_view name, uint32_t align, uint8_t zone);
  // The blob named `name` (which must exist).
  std::vector<uint8_t>& file(std::string_view name);
  const std::vector<uint8_t>& file(std::string_view name) const;
  // Blob names in ALLOCATE order.
  const std::vector<std::string>& file_names() const { return file_order_; }

  // Makes the `size`-byte field at `offset` of `dest` point at `src_offset`
  // in `src`: writes src_offset there now (the fw_cfg form) and adds the
  // ADD_POINTER command that adds src's address when loaded.
  void AddPointer(std::string_view dest, uint32_t offset, uint8_t size, std::string_view src,
                  uint32_t src_offset);
  // Adds an ADD_CHECKSUM command for [start, start + length) of `name`, the
  // checksum byte at `offset` (which must still be 0).
  void AddChecksum(std::string_view name, uint32_t offset, uint32_t start, uint32_t length);

  const std::vector<Command>& commands() const { return commands_; }
  // The "etc/table-loader" file: every command in 128-byte little-endian form.
  std::vector<uint8_t> EncodeCommands() const;

  // Runs the commands as a firmware loader would with each blob placed at
  // `addresses[name]`: returns the blobs with pointers and checksums filled.
  // Errors: a missing or misaligned address, an address that does not fit
  // a pointer field.
  Result<std::map<std::string, std::vector<uint8_t>>> Link(
      const std::map<std::string, uint64_t>& addresses) const;

 private:
  std::map<std::string, std::vector<uint8_t>, std::less<>> files_;
  std::vector<std::string> file_order_;
  std::vector<Command> commands_;
};

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_ACPI_LINKER_H_
