#include "devices/fw_cfg.h"

#include <algorithm>
#include <array>

namespace x86vm {
namespace {

// "QEMU CFG", read back from the DMA address register (FW_CFG_DMA_SIGNATURE).
constexpr std::array<uint8_t, 8> kDmaSignature = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};
// Bounds what a guest-supplied count or a snapshot can make us hold.
constexpr size_t kMaxFiles = 0x3fff - FwCfg::kFileFirst + 1;
constexpr size_t kMaxItemBytes = 0xffffffffu;

uint32_t LoadBe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

uint64_t LoadBe64(const uint8_t* p) {
  return static_cast<uint64_t>(LoadBe32(p)) << 32 | LoadBe32(p + 4);
}

void AppendBe32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void AppendLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

std::vector<uint8_t> Le(uint64_t v, int bytes) {
  std::vector<uint8_t> out;
  AppendLe(out, v, bytes);
  return out;
}

}  // namespace

FwCfg::FwCfg(DmaMemory* memory)
    : memory_(memory),
      io_port_(
          [this](uint64_t, size_t size) -> uint64_t {
            // QEMU's combined port accepts 8-bit reads at 0x510 or 0x511,
            // both reading the data register; wider reads are not decoded.
            if (size != 1) return ~0ull;
            return ReadDataByte();
          },
          [this](uint64_t offset, size_t size, uint64_t value) {
            if (size == 2 && offset == 0) {
              Select(static_cast<uint16_t>(value));
            } else if (guest_log_.Allow()) {
              // fw_cfg spec: data register writes are ignored since QEMU 2.4;
              // writes go through DMA only.
              log_->debug("ignored {}-byte write of {:#x} at {:#x}", size, value, kIoPort + offset);
            }
          }),
      dma_port_(
          [](uint64_t offset, size_t size) -> uint64_t {
            // The register reads as the big-endian signature: byte i of the
            // window is "QEMU CFG"[i].
            uint64_t value = 0;
            for (size_t i = 0; i < size; ++i) {
              const uint64_t at = offset + i;
              const uint8_t byte = at < kDmaSignature.size() ? kDmaSignature[at] : 0;
              value |= static_cast<uint64_t>(byte) << (8 * i);
            }
            return value;
          },
          [this](uint64_t offset, size_t size, uint64_t value) {
            if (memory_ == nullptr) return;
            // The register is big-endian: the guest's bytes, in order, are
            // the address from its most significant byte down.
            uint8_t bytes[8];
            for (size_t i = 0; i < size && i < 8; ++i) {
              bytes[i] = static_cast<uint8_t>(value >> (8 * i));
            }
            if (size == 4 && offset == 0) {
              dma_address_ = static_cast<uint64_t>(LoadBe32(bytes)) << 32;
            } else if (size == 4 && offset == 4) {
              dma_address_ |= LoadBe32(bytes);
              DmaTransfer();
            } else if (size == 8 && offset == 0) {
              dma_address_ = LoadBe64(bytes);
              DmaTransfer();
            } else if (guest_log_.Allow()) {
              log_->debug("ignored {}-byte DMA register write at +{}", size, offset);
            }
          }),
      log_(Logger("fw_cfg")) {
  items_[kSignature].data = {'Q', 'E', 'M', 'U'};
  items_[kId].data = Le(kIdTraditional | (memory_ != nullptr ? kIdDma : 0), 4);
  RebuildDirectory();
}

void FwCfg::Reset() {
  Select(kSignature);
  dma_address_ = 0;
}

void FwCfg::Serialize(Serializer& s) {
  s.Section("fw_cfg", 1);
  s(selector_);
  s(offset_);
  s(dma_address_);
  // Writable files change under the guest (e.g. addresses the firmware
  // patches in for the host), and nothing else holds them, so their bytes
  // are state. Matched by name so a different file set cannot misalign.
  uint32_t count = 0;
  for (const File& f : files_) count += f.item.writable ? 1 : 0;
  s(count);
  if (s.saving()) {
    for (File& f : files_) {
      if (!f.item.writable) continue;
      s.String(f.name, kMaxFileName);
      s(f.item.data, kMaxItemBytes);
    }
    return;
  }
  for (uint32_t i = 0; i < count && s.ok(); ++i) {
    std::string name;
    std::vector<uint8_t> data;
    s.String(name, kMaxFileName);
    s(data, kMaxItemBytes);
    if (!s.ok()) break;
    auto it =
        std::find_if(files_.begin(), files_.end(), [&](const File& f) { return f.name == name; });
    if (it == files_.end() || !it->item.writable || it->item.data.size() != data.size()) {
      log_->warn(
          "snapshot holds writable file '{}' ({} bytes) that this machine "
          "does not have; ignored",
          name, data.size());
      continue;
    }
    it->item.data = std::move(data);
  }
}

Result<> FwCfg::AddBytes(uint16_t key, std::vector<uint8_t> bytes) {
  if (key == kSignature || key == kId || key == kFileDir) {
    return Fail("fw_cfg: key {:#06x} is maintained by the device", key);
  }
  if (key & kWriteChannel) {
    return Fail("fw_cfg: key {:#06x} has the write-channel bit set", key);
  }
  if (!(key & kArchLocal) && key >= kFileFirst) {
    return Fail("fw_cfg: key {:#06x} is in the file range; use AddFile", key);
  }
  if (bytes.size() > kMaxItemBytes) {
    return Fail("fw_cfg: item {:#06x} is larger than 4 GiB", key);
  }
  items_[key] = Item{std::move(bytes), false, {}};
  return {};
}

Result<> FwCfg::AddU16(uint16_t key, uint16_t value) { return AddBytes(key, Le(value, 2)); }
Result<> FwCfg::AddU32(uint16_t key, uint32_t value) { return AddBytes(key, Le(value, 4)); }
Result<> FwCfg::AddU64(uint16_t key, uint64_t value) { return AddBytes(key, Le(value, 8)); }

Result<> FwCfg::AddFile(std::string_view name, std::vector<uint8_t> bytes) {
  return InsertFile(name, Item{std::move(bytes), false, {}});
}

Result<> FwCfg::AddWritableFile(std::string_view name, std::vector<uint8_t> bytes,
                                WriteCallback on_write) {
  return InsertFile(name, Item{std::move(bytes), true, std::move(on_write)});
}

Result<> FwCfg::InsertFile(std::string_view name, Item item) {
  if (name.empty() || name.size() > kMaxFileName || name.find('\0') != std::string_view::npos) {
    return Fail("fw_cfg: bad file name '{}' (1-{} characters)", name, kMaxFileName);
  }
  if (item.data.size() > kMaxItemBytes) {
    return Fail("fw_cfg: file '{}' is larger than 4 GiB", name);
  }
  if (files_.size() >= kMaxFiles) {
    return Fail("fw_cfg: too many files (adding '{}')", name);
  }
  // QEMU (fw_cfg_add_file_callback) keeps files sorted by name with strcmp
  // and numbers them in that order.
  auto it = std::lower_bound(files_.begin(), files_.end(), name,
                             [](const File& f, std::string_view n) { return f.name < n; });
  if (it != files_.end() && it->name == name) {
    return Fail("fw_cfg: duplicate file '{}'", name);
  }
  files_.insert(it, File{std::string(name), std::move(item)});
  RebuildDirectory();
  return {};
}

void FwCfg::RebuildDirectory() {
  // fw_cfg spec "File Directory": be32 count, then per file be32 size,
  // be16 select, be16 reserved, char name[56].
  std::vector<uint8_t> dir;
  dir.reserve(4 + files_.size() * 64);
  AppendBe32(dir, static_cast<uint32_t>(files_.size()));
  for (size_t i = 0; i < files_.size(); ++i) {
    const File& f = files_[i];
    AppendBe32(dir, static_cast<uint32_t>(f.item.data.size()));
    const uint16_t key = static_cast<uint16_t>(kFileFirst + i);
    dir.push_back(static_cast<uint8_t>(key >> 8));
    dir.push_back(static_cast<uint8_t>(key));
    dir.push_back(0);
    dir.push_back(0);
    const size_t start = dir.size();
    dir.resize(start + kMaxFileName + 1, 0);
    std::copy(f.name.begin(), f.name.end(), dir.begin() + static_cast<ptrdiff_t>(start));
  }
  items_[kFileDir].data = std::move(dir);
}

const std::vector<uint8_t>* FwCfg::FindFile(std::string_view name) const {
  for (const File& f : files_) {
    if (f.name == name) return &f.item.data;
  }
  return nullptr;
}

std::optional<uint16_t> FwCfg::FileKey(std::string_view name) const {
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].name == name) return static_cast<uint16_t>(kFileFirst + i);
  }
  return std::nullopt;
}

FwCfg::Item* FwCfg::Current() {
  // The write-channel bit does not change which item is meant.
  const uint16_t key = selector_ & static_cast<uint16_t>(~kWriteChannel);
  if (!(key & kArchLocal) && key >= kFileFirst) {
    const size_t index = key - kFileFirst;
    return index < files_.size() ? &files_[index].item : nullptr;
  }
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second;
}

void FwCfg::Select(uint16_t key) {
  // fw_cfg spec "Selector (Control) Register": selecting resets the offset.
  selector_ = key;
  offset_ = 0;
}

uint8_t FwCfg::ReadDataByte() {
  // Past the end of the item, or with no item selected, reads return 0 and
  // the offset stays put (QEMU fw_cfg_read).
  const Item* item = Current();
  if (item == nullptr || offset_ >= item->data.size()) return 0;
  return item->data[offset_++];
}

bool FwCfg::ZeroFill(uint64_t gpa, uint64_t length_bytes) {
  static constexpr std::array<uint8_t, 4096> kZeros{};
  while (length_bytes > 0) {
    const uint64_t n = std::min<uint64_t>(length_bytes, kZeros.size());
    if (!memory_->WritePhysical(gpa, std::span<const uint8_t>(kZeros.data(), n))) {
      return false;
    }
    gpa += n;
    length_bytes -= n;
  }
  return true;
}

void FwCfg::DmaTransfer() {
  // fw_cfg spec "DMA interface": the register holds the guest address of a
  // big-endian FWCfgDmaAccess {be32 control; be32 length; be64 address}.
  // The device clears the register, runs the access, then writes the
  // control word back: 0 on success, or with the error bit set.
  const uint64_t descriptor = dma_address_;
  dma_address_ = 0;
  std::array<uint8_t, 16> desc{};
  auto write_control = [&](uint32_t control) {
    const std::array<uint8_t, 4> be = {
        static_cast<uint8_t>(control >> 24), static_cast<uint8_t>(control >> 16),
        static_cast<uint8_t>(control >> 8), static_cast<uint8_t>(control)};
    if (!memory_->WritePhysical(descriptor, be) && guest_log_.Allow()) {
      log_->info("DMA descriptor at {:#x} is not writable RAM", descriptor);
    }
  };
  if (!memory_->ReadPhysical(descriptor, desc)) {
    if (guest_log_.Allow()) {
      log_->info("DMA descriptor at {:#x} is not RAM", descriptor);
    }
    write_control(kDmaError);
    return;
  }
  const uint32_t control = LoadBe32(&desc[0]);
  uint32_t length = LoadBe32(&desc[4]);
  uint64_t address = LoadBe64(&desc[8]);

  if (control & kDmaSelect) Select(static_cast<uint16_t>(control >> 16));
  Item* item = Current();

  // One operation per descriptor; read wins over write over skip (QEMU's
  // order). With none of them, the descriptor only selects.
  enum class Op { kNone, kRead, kWrite, kSkip };
  Op op = Op::kNone;
  if (control & kDmaRead) {
    op = Op::kRead;
  } else if (control & kDmaWrite) {
    op = Op::kWrite;
  } else if (control & kDmaSkip) {
    op = Op::kSkip;
  } else {
    length = 0;
  }

  bool error = false;
  while (length > 0 && !error) {
    const uint64_t available =
        (item != nullptr && offset_ < item->data.size()) ? item->data.size() - offset_ : 0;
    uint32_t chunk = 0;
    if (available == 0) {
      // Past the end (or no item): reads see zeros, writes fail, skips
      // just consume the length.
      chunk = length;
      if (op == Op::kRead) error = !ZeroFill(address, chunk);
      if (op == Op::kWrite) error = true;
    } else {
      chunk = static_cast<uint32_t>(std::min<uint64_t>(length, available));
      std::span<uint8_t> bytes(item->data.data() + offset_, chunk);
      if (op == Op::kRead) {
        error = !memory_->WritePhysical(address, bytes);
      } else if (op == Op::kWrite) {
        // Only writable items take writes, never past their end, and the
        // item changes only when the whole guest buffer could be read.
        std::vector<uint8_t> incoming(chunk);
        if (!item->writable || chunk != length || !memory_->ReadPhysical(address, incoming)) {
          error = true;
        } else {
          std::copy(incoming.begin(), incoming.end(), bytes.begin());
          if (item->on_write) item->on_write(offset_, chunk);
        }
      }
      offset_ += chunk;
    }
    address += chunk;
    length -= chunk;
  }
  if (error && guest_log_.Allow()) {
    log_->info("DMA access failed (control {:#x}, selector {:#06x})", control, selector_);
  }
  write_control(error ? kDmaError : 0);
}

}  // namespace x86vm
