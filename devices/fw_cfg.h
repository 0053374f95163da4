// QEMU's firmware configuration device (fw_cfg), I/O-port flavour as on the
// PC: the way SeaBIOS, OVMF and Linux learn the RAM size, CPU count, e820
// map, kernel/initrd for direct boot and ACPI tables. Follows QEMU's
// docs/specs/fw_cfg.rst ("fw_cfg spec" below) and include/standard-headers/
// linux/qemu_fw_cfg.h so firmware written for QEMU works unchanged.
#ifndef X86VM_DEVICES_FW_CFG_H_
#define X86VM_DEVICES_FW_CFG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "base/status.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/dma.h"

namespace x86vm {

// The selector/data/DMA registers and the items behind them. Items (legacy
// keys and named files) are machine configuration set up by the board before
// the guest runs; the guest-visible state is the selector, the data offset
// and the DMA address register, plus the contents of writable files.
class FwCfg : public Device {
 public:
  // Item keys (fw_cfg spec "Firmware Configuration Items").
  static constexpr uint16_t kSignature = 0x0000;
  static constexpr uint16_t kId = 0x0001;
  static constexpr uint16_t kUuid = 0x0002;
  static constexpr uint16_t kRamSize = 0x0003;
  static constexpr uint16_t kNoGraphic = 0x0004;
  static constexpr uint16_t kNbCpus = 0x0005;
  static constexpr uint16_t kMachineId = 0x0006;
  static constexpr uint16_t kKernelAddr = 0x0007;
  static constexpr uint16_t kKernelSize = 0x0008;
  static constexpr uint16_t kKernelCmdline = 0x0009;
  static constexpr uint16_t kInitrdAddr = 0x000a;
  static constexpr uint16_t kInitrdSize = 0x000b;
  static constexpr uint16_t kBootDevice = 0x000c;
  static constexpr uint16_t kNuma = 0x000d;
  static constexpr uint16_t kBootMenu = 0x000e;
  static constexpr uint16_t kMaxCpus = 0x000f;
  static constexpr uint16_t kKernelEntry = 0x0010;
  static constexpr uint16_t kKernelData = 0x0011;
  static constexpr uint16_t kInitrdData = 0x0012;
  static constexpr uint16_t kCmdlineAddr = 0x0013;
  static constexpr uint16_t kCmdlineSize = 0x0014;
  static constexpr uint16_t kCmdlineData = 0x0015;
  static constexpr uint16_t kSetupAddr = 0x0016;
  static constexpr uint16_t kSetupSize = 0x0017;
  static constexpr uint16_t kSetupData = 0x0018;
  static constexpr uint16_t kFileDir = 0x0019;
  // Files take keys kFileFirst, kFileFirst + 1, ... in name order.
  static constexpr uint16_t kFileFirst = 0x0020;
  // Selector bit 14 (legacy write channel) and bit 15 (architecture-local
  // keys, e.g. 0x8000 ACPI tables and 0x8003 e820 on x86).
  static constexpr uint16_t kWriteChannel = 0x4000;
  static constexpr uint16_t kArchLocal = 0x8000;
  // FW_CFG_ID bits: the traditional interface, and DMA.
  static constexpr uint32_t kIdTraditional = 1 << 0;
  static constexpr uint32_t kIdDma = 1 << 1;
  // FW_CFG_DMA_CTL_* bits of the DMA access control word.
  static constexpr uint32_t kDmaError = 1 << 0;
  static constexpr uint32_t kDmaRead = 1 << 1;
  static constexpr uint32_t kDmaSkip = 1 << 2;
  static constexpr uint32_t kDmaSelect = 1 << 3;
  static constexpr uint32_t kDmaWrite = 1 << 4;
  // A file name holds at most 55 characters plus the NUL (FW_CFG_MAX_FILE_PATH).
  static constexpr size_t kMaxFileName = 55;
  // The name firmware looks up for the e820 map (QEMU's "etc/e820").
  static constexpr std::string_view kE820File = "etc/e820";

  // The PC I/O ports: selector 0x510 (16-bit) + data 0x511 (8-bit), DMA
  // address 0x514-0x51B.
  static constexpr uint16_t kIoPort = 0x510;
  static constexpr uint16_t kDmaPort = 0x514;

  // Called after the guest wrote `length_bytes` at `offset` of a writable file.
  using WriteCallback = std::function<void(uint32_t offset, uint32_t length_bytes)>;

  // `memory` is where DMA reads and writes go; nullptr disables the DMA
  // interface (FW_CFG_ID then reports the traditional interface only).
  explicit FwCfg(DmaMemory* memory);
  FwCfg(const FwCfg&) = delete;
  FwCfg& operator=(const FwCfg&) = delete;

  // Snapshot section "fw_cfg".
  std::string_view name() const override { return "fw_cfg"; }
  // Selects key 0 (the signature) at offset 0 and clears the DMA address, as
  // QEMU's reset does. Item contents are left alone.
  void Reset() override;
  // Saves the selector, data offset, DMA address and the contents of
  // writable files. Everything else is configuration the board rebuilds.
  void Serialize(Serializer& s) override;

  // Register at kIoPort, 2 bytes: a 16-bit write selects, 8-bit reads at
  // either byte return data.
  BusTarget* io_port() { return &io_port_; }
  // Register at kDmaPort, 8 bytes: big-endian DMA address (the write of the
  // low dword at +4, or a 64-bit write at +0, starts the transfer); reads
  // return "QEMU CFG".
  BusTarget* dma_port() { return &dma_port_; }

  // Sets a legacy or arch-local item (replacing it if present). Keys 0x0000,
  // 0x0001 and 0x0019 are maintained here; 0x0020-0x3FFF belong to files.
  Result<> AddBytes(uint16_t key, std::vector<uint8_t> bytes);
  // Little-endian integer items, as QEMU's fw_cfg_add_i16/i32/i64.
  Result<> AddU16(uint16_t key, uint16_t value);
  Result<> AddU32(uint16_t key, uint32_t value);
  Result<> AddU64(uint16_t key, uint64_t value);
  // A read-only named file. Keys are reassigned in name order (as QEMU
  // does), so add all files before the guest runs.
  Result<> AddFile(std::string_view name, std::vector<uint8_t> bytes);
  // A file the guest may overwrite in place through DMA writes (never
  // beyond its size); `on_write` runs after each successful write.
  Result<> AddWritableFile(std::string_view name, std::vector<uint8_t> bytes,
                           WriteCallback on_write = {});
  // A file's current contents (after any guest writes), or nullptr.
  const std::vector<uint8_t>* FindFile(std::string_view name) const;
  // The key a file currently has.
  std::optional<uint16_t> FileKey(std::string_view name) const;


  // The selected key, as last written (for tests and the monitor).
  uint16_t selector() const { return selector_; }
  // The data offset within the selected item.
  uint32_t offset() const { return offset_; }

 private:
  struct Item {
    std::vector<uint8_t> data;
    bool writable = false;
    WriteCallback on_write;
  };
  struct File {
    std::string name;
    Item item;
  };

  Result<> InsertFile(std::string_view name, Item item);
  void RebuildDirectory();
  // The item the selector names, or nullptr.
  Item* Current();
  void Select(uint16_t key);
  uint8_t ReadDataByte();
  // Runs the DMA access descriptor at dma_address_ (fw_cfg spec "DMA
  // interface").
  void DmaTransfer();
  bool ZeroFill(uint64_t gpa, uint64_t length_bytes);

  DmaMemory* memory_;
  std::map<uint16_t, Item> items_;  // Legacy and arch-local keys.
  std::vector<File> files_;         // Sorted by name; key = kFileFirst + index.
  uint16_t selector_ = kSignature;
  uint32_t offset_ = 0;
  uint64_t dma_address_ = 0;
  FunctionBusTarget io_port_;
  FunctionBusTarget dma_port_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter guest_log_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_FW_CFG_H_
