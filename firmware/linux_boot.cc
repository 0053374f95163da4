#include "firmware/linux_boot.h"

#include <algorithm>
#include <cstring>

namespace x86vm {
namespace {

// Offsets in the bzImage / boot_params setup header (boot.rst).
constexpr size_t kSetupSects = 0x1f1;
constexpr size_t kBootFlag = 0x1fe;
constexpr size_t kHeaderJump = 0x200;  // Byte 0x201 is the header length - 0x202 + ...
constexpr size_t kHeaderMagic = 0x202;
constexpr size_t kVersion = 0x206;
constexpr size_t kTypeOfLoader = 0x210;
constexpr size_t kLoadFlags = 0x211;
constexpr size_t kRamdiskImage = 0x218;
constexpr size_t kRamdiskSize = 0x21c;
constexpr size_t kCmdLinePtr = 0x228;
constexpr size_t kInitrdAddrMax = 0x22c;
constexpr size_t kCmdlineSize = 0x238;
constexpr size_t kInitSize = 0x260;
// Offsets in boot_params outside the setup header (zero-page.rst).
constexpr size_t kAcpiRsdpAddr = 0x070;
constexpr size_t kExtRamdiskImage = 0x0c0;
constexpr size_t kExtRamdiskSize = 0x0c4;
constexpr size_t kExtCmdLinePtr = 0x0c8;
constexpr size_t kE820Entries = 0x1e8;
constexpr size_t kE820Table = 0x2d0;
constexpr size_t kE820MaxEntries = 128;

constexpr uint8_t kLoadedHigh = 0x01;
constexpr uint8_t kCanUseHeap = 0x80;

uint32_t Get32(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint32_t>(b[off]) | static_cast<uint32_t>(b[off + 1]) << 8 |
         static_cast<uint32_t>(b[off + 2]) << 16 | static_cast<uint32_t>(b[off + 3]) << 24;
}
uint16_t Get16(std::span<const uint8_t> b, size_t off) {
  return static_cast<uint16_t>(b[off] | b[off + 1] << 8);
}
void Put(uint8_t* p, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(value >> (8 * i));
}

}  // namespace

Result<LinuxEntry> LoadLinux(GuestMemory& memory, const LinuxBootParams& p) {
  const std::string& name = p.kernel_name;
  std::span<const uint8_t> k = p.kernel;
  if (k.size() < 0x264) return Fail("--kernel {}: file too small to be a kernel", name);
  if (Get16(k, kBootFlag) != 0xaa55 || std::memcmp(&k[kHeaderMagic], "HdrS", 4) != 0) {
    return Fail("--kernel {}: not a Linux bzImage (no boot signature or HdrS header)", name);
  }
  uint16_t version = Get16(k, kVersion);
  if (version < 0x0206) {
    return Fail("--kernel {}: boot protocol {}.{:02} is older than 2.06", name, version >> 8,
                version & 0xff);
  }
  if ((k[kLoadFlags] & kLoadedHigh) == 0) {
    return Fail("--kernel {}: a zImage (not loaded high) is not supported", name);
  }
  size_t setup_sects = k[kSetupSects] ? k[kSetupSects] : 4;
  size_t setup_bytes = (setup_sects + 1) * 512;
  if (k.size() <= setup_bytes) {
    return Fail("--kernel {}: truncated: {} bytes, setup alone needs {}", name, k.size(),
                setup_bytes);
  }
  std::span<const uint8_t> payload = k.subspan(setup_bytes);
  // The kernel decompresses in place and needs init_size bytes from where it
  // is loaded; everything must sit below the PCI hole.
  uint64_t init_size = std::max<uint64_t>(Get32(k, kInitSize), payload.size());
  uint64_t low_ram = std::min(memory.ram_below_4g_bytes(), GuestMemory::kPciHoleStart);
  uint64_t kernel_end = kLinuxKernelGpa + init_size;
  if (kernel_end > low_ram) {
    return Fail("--kernel {}: needs {} MiB from 1 MiB up but the guest has {} MiB", name,
                (init_size + (1 << 20) - 1) >> 20, low_ram >> 20);
  }
  uint32_t cmdline_max = Get32(k, kCmdlineSize);
  if (p.cmdline.size() > cmdline_max) {
    return Fail("--append: {} bytes, longer than the {} bytes kernel {} accepts",
                p.cmdline.size(), cmdline_max, name);
  }

  uint8_t* kernel_dst = memory.HostRange(kLinuxKernelGpa, payload.size());
  uint8_t* params = memory.HostRange(kLinuxBootParamsGpa, 4096);
  uint8_t* cmdline = memory.HostRange(kLinuxCmdlineGpa, p.cmdline.size() + 1);
  uint8_t* gdt = memory.HostRange(kLinuxGdtGpa, 32);
  if (kernel_dst == nullptr || params == nullptr || cmdline == nullptr || gdt == nullptr) {
    return Fail("--kernel {}: guest memory too small for the boot layout", name);
  }
  std::memcpy(kernel_dst, payload.data(), payload.size());

  // boot_params: zeroed, then the setup header copied from the image.
  std::memset(params, 0, 4096);
  size_t header_end = std::min<size_t>(0x202 + k[kHeaderJump + 1], 4096);
  header_end = std::min(header_end, k.size());
  std::memcpy(params + kSetupSects, k.data() + kSetupSects, header_end - kSetupSects);
  params[kTypeOfLoader] = 0xff;  // "Undefined" loader id.
  params[kLoadFlags] = static_cast<uint8_t>((params[kLoadFlags] | kLoadedHigh) & ~kCanUseHeap);

  std::memcpy(cmdline, p.cmdline.data(), p.cmdline.size());
  cmdline[p.cmdline.size()] = 0;
  Put(params + kCmdLinePtr, kLinuxCmdlineGpa, 4);
  Put(params + kExtCmdLinePtr, 0, 4);

  LinuxEntry entry{};
  if (!p.initrd.empty()) {
    uint64_t max_addr = std::min<uint64_t>(Get32(k, kInitrdAddrMax), low_ram - 1);
    if (p.initrd_end_max_gpa != 0) max_addr = std::min(max_addr, p.initrd_end_max_gpa - 1);
    uint64_t size = p.initrd.size();
    if (size > max_addr + 1) {
      return Fail("--initrd: {} MiB does not fit below {:#x}", size >> 20, max_addr + 1);
    }
    uint64_t addr = (max_addr + 1 - size) & ~0xfffull;
    if (addr < kernel_end) {
      return Fail("--initrd: {} MiB does not fit in guest memory beside the kernel "
                  "(try a larger --memory)",
                  size >> 20);
    }
    uint8_t* dst = memory.HostRange(addr, size);
    if (dst == nullptr) return Fail("--initrd: no RAM at {:#x}", addr);
    std::memcpy(dst, p.initrd.data(), size);
    Put(params + kRamdiskImage, addr, 4);
    Put(params + kRamdiskSize, size, 4);
    Put(params + kExtRamdiskImage, addr >> 32, 4);
    Put(params + kExtRamdiskSize, size >> 32, 4);
    entry.initrd_gpa = static_cast<uint32_t>(addr);
  }

  size_t n = std::min(p.e820.size(), kE820MaxEntries);
  params[kE820Entries] = static_cast<uint8_t>(n);
  std::vector<uint8_t> table =
      EncodeE820(std::vector<E820Entry>(p.e820.begin(), p.e820.begin() + static_cast<long>(n)));
  if (!table.empty()) std::memcpy(params + kE820Table, table.data(), table.size());
  Put(params + kAcpiRsdpAddr, p.acpi_rsdp_gpa, 8);

  // GDT: null, null, then flat 4 GiB code (0x10) and data (0x18) descriptors.
  static constexpr uint64_t kGdt[4] = {0, 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
  for (int i = 0; i < 4; ++i) Put(gdt + 8 * i, kGdt[i], 8);

  entry.eip = kLinuxKernelGpa;
  entry.esi = kLinuxBootParamsGpa;
  entry.gdt_base = kLinuxGdtGpa;
  entry.gdt_limit = sizeof(kGdt) - 1;
  entry.code_selector = 0x10;
  entry.data_selector = 0x18;
  return entry;
}

}  // namespace x86vm
