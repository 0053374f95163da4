#include "firmware/linux_boot.h"

#include <gtest/gtest.h>

#include <cstring>

namespace x86vm {
namespace {

// A minimal bzImage: 4 setup sectors plus the boot sector, then a payload.
std::vector<uint8_t> FakeBzImage(size_t payload_bytes, uint16_t version = 0x020f) {
  std::vector<uint8_t> k(5 * 512 + payload_bytes, 0);
  k[0x1f1] = 4;
  k[0x1fe] = 0x55;
  k[0x1ff] = 0xaa;
  k[0x201] = 0x66;  // Header length byte: ends at 0x268.
  std::memcpy(&k[0x202], "HdrS", 4);
  k[0x206] = static_cast<uint8_t>(version);
  k[0x207] = static_cast<uint8_t>(version >> 8);
  k[0x211] = 0x01;                                    // LOADED_HIGH.
  k[0x22c] = 0xff, k[0x22d] = 0xff, k[0x22e] = 0xff, k[0x22f] = 0x7f;  // initrd max.
  k[0x238] = 0xff, k[0x239] = 0x07;                   // cmdline_size 2047.
  k[0x260] = 0x00, k[0x261] = 0x00, k[0x262] = 0x40;  // init_size 4 MiB.
  for (size_t i = 0; i < payload_bytes; ++i) k[5 * 512 + i] = static_cast<uint8_t>(i * 7);
  return k;
}

uint32_t Read32(GuestMemory& m, uint64_t gpa) {
  uint32_t v;
  std::memcpy(&v, m.HostRange(gpa, 4), 4);
  return v;
}

TEST(LinuxBoot, LoadsKernelInitrdCmdlineAndE820) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  auto kernel = FakeBzImage(8192);
  std::vector<uint8_t> initrd(10000, 0x77);
  LinuxBootParams p;
  p.kernel_name = "vmlinuz";
  p.kernel = kernel;
  p.initrd = initrd;
  p.cmdline = "console=ttyS0 quiet";
  p.e820 = BuildE820(*mem);
  auto entry = LoadLinux(*mem, p);
  ASSERT_TRUE(entry.has_value()) << entry.error().message;
  EXPECT_EQ(entry->eip, 0x100000u);
  EXPECT_EQ(entry->esi, kLinuxBootParamsGpa);
  EXPECT_EQ(entry->code_selector, 0x10);
  // Payload copied to 1 MiB.
  EXPECT_EQ(mem->HostRange(0x100000 + 3, 1)[0], 21);
  // boot_params fields.
  uint64_t bp = kLinuxBootParamsGpa;
  EXPECT_EQ(mem->HostRange(bp + 0x210, 1)[0], 0xff);
  EXPECT_EQ(Read32(*mem, bp + 0x228), kLinuxCmdlineGpa);
  EXPECT_STREQ(reinterpret_cast<const char*>(mem->HostRange(kLinuxCmdlineGpa, 1)),
               "console=ttyS0 quiet");
  uint32_t initrd_at = Read32(*mem, bp + 0x218);
  EXPECT_EQ(initrd_at % 4096, 0u);
  EXPECT_EQ(Read32(*mem, bp + 0x21c), 10000u);
  EXPECT_LE(initrd_at + 10000u, 64u << 20);
  EXPECT_EQ(mem->HostRange(initrd_at + 9999, 1)[0], 0x77);
  EXPECT_EQ(mem->HostRange(bp + 0x1e8, 1)[0], p.e820.size());
  EXPECT_EQ(Read32(*mem, bp + 0x2d0 + 20 + 0), static_cast<uint32_t>(p.e820[1].addr));
  // GDT code descriptor at selector 0x10.
  EXPECT_EQ(Read32(*mem, kLinuxGdtGpa + 0x10 + 4), 0x00cf9a00u);
}

TEST(LinuxBoot, InitrdStaysBelowTheGivenLimit) {
  auto mem = GuestMemory::Create(64ull << 20).value();
  auto kernel = FakeBzImage(4096);
  std::vector<uint8_t> initrd(5000, 0x33);
  LinuxBootParams p;
  p.kernel_name = "vmlinuz";
  p.kernel = kernel;
  p.initrd = initrd;
  p.initrd_end_max_gpa = 32u << 20;
  auto entry = LoadLinux(*mem, p);
  ASSERT_TRUE(entry.has_value()) << entry.error().message;
  EXPECT_LE(entry->initrd_gpa + 5000u, 32u << 20);
  EXPECT_GT(entry->initrd_gpa, 30u << 20);
}

TEST(LinuxBoot, ClearErrors) {
  auto mem = GuestMemory::Create(8ull << 20).value();
  LinuxBootParams p;
  p.kernel_name = "k.bin";
  std::vector<uint8_t> junk(100000, 0x90);
  p.kernel = junk;
  auto r = LoadLinux(*mem, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("k.bin"), std::string::npos);
  EXPECT_NE(r.error().message.find("not a Linux bzImage"), std::string::npos);

  auto old = FakeBzImage(100, 0x0204);
  p.kernel = old;
  EXPECT_NE(LoadLinux(*mem, p).error().message.find("older than 2.06"), std::string::npos);

  auto truncated = FakeBzImage(0);
  p.kernel = truncated;
  EXPECT_NE(LoadLinux(*mem, p).error().message.find("truncated"), std::string::npos);

  auto big = FakeBzImage(100);
  big[0x262] = 0x00, big[0x263] = 0x01;  // init_size 16 MiB > 8 MiB guest.
  p.kernel = big;
  EXPECT_NE(LoadLinux(*mem, p).error().message.find("MiB"), std::string::npos);

  auto ok = FakeBzImage(100);
  p.kernel = ok;
  p.cmdline = std::string(3000, 'x');
  EXPECT_NE(LoadLinux(*mem, p).error().message.find("--append"), std::string::npos);
}

TEST(LinuxBoot, RealDebianKernelHeaderIfPresent) {
  const char* home = getenv("HOME");
  std::string path = std::string(home ? home : "/root") +
                     "/.cache/x86vm/kpkg/boot/vmlinuz-6.1.0-56-cloud-amd64";
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) GTEST_SKIP() << "no Debian kernel at " << path;
  std::vector<uint8_t> k;
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) k.insert(k.end(), buf, buf + n);
  fclose(f);
  auto mem = GuestMemory::Create(512ull << 20).value();
  LinuxBootParams p;
  p.kernel_name = path;
  p.kernel = k;
  p.cmdline = "console=ttyS0";
  p.e820 = BuildE820(*mem);
  auto entry = LoadLinux(*mem, p);
  ASSERT_TRUE(entry.has_value()) << entry.error().message;
}

}  // namespace
}  // namespace x86vm
