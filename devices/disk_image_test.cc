#include "devices/disk_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace x86vm {
namespace {

// A fresh file in the test's private temporary directory.
std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/disk_image_test_" + name;
  ::unlink(path.c_str());
  return path;
}

// Writes `size_bytes` bytes where byte i is (i * 7 + i / 512) & 0xff.
std::string MakeImage(const std::string& name, size_t size_bytes) {
  const std::string path = TempPath(name);
  std::vector<char> bytes(size_bytes);
  for (size_t i = 0; i < size_bytes; ++i) bytes[i] = static_cast<char>((i * 7 + i / 512) & 0xff);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size_bytes));
  return path;
}

std::vector<uint8_t> ReadFileBytes(const std::string& path, size_t offset, size_t n) {
  std::vector<uint8_t> out(n);
  const int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::pread(fd, out.data(), n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  ::close(fd);
  return out;
}

TEST(DiskImage, OpensAndReportsSize) {
  const std::string path = MakeImage("size", 8 * 512);
  auto disk = DiskImage::Open(path, /*read_only=*/true);
  ASSERT_TRUE(disk.has_value()) << disk.error().message;
  EXPECT_EQ((*disk)->sector_count(), 8u);
  EXPECT_TRUE((*disk)->read_only());
  EXPECT_EQ((*disk)->path(), path);
}

TEST(DiskImage, ReadsWholeSectors) {
  const std::string path = MakeImage("read", 8 * 512);
  auto disk = DiskImage::Open(path, true);
  ASSERT_TRUE(disk.has_value());
  std::vector<uint8_t> buf(2 * 512);
  ASSERT_TRUE((*disk)->ReadSectors(3, buf).has_value());
  EXPECT_EQ(buf, ReadFileBytes(path, 3 * 512, 2 * 512));
  // The last sector is readable; one past it is not.
  std::vector<uint8_t> one(512);
  EXPECT_TRUE((*disk)->ReadSectors(7, one).has_value());
  auto past = (*disk)->ReadSectors(8, one);
  ASSERT_FALSE(past.has_value());
  EXPECT_NE(past.error().message.find(path), std::string::npos);
  EXPECT_NE(past.error().message.find("beyond the end"), std::string::npos);
  EXPECT_FALSE((*disk)->ReadSectors(7, buf).has_value());  // Straddles the end.
  EXPECT_FALSE((*disk)->ReadSectors(~0ull, one).has_value());  // No overflow.
  std::vector<uint8_t> partial(100);
  EXPECT_FALSE((*disk)->ReadSectors(0, partial).has_value());  // Not whole sectors.
}

TEST(DiskImage, WritesReachTheFile) {
  const std::string path = MakeImage("write", 8 * 512);
  {
    auto disk = DiskImage::Open(path, /*read_only=*/false);
    ASSERT_TRUE(disk.has_value()) << disk.error().message;
    std::vector<uint8_t> data(2 * 512, 0x5a);
    data[0] = 0x11;
    data[1023] = 0x22;
    ASSERT_TRUE((*disk)->WriteSectors(5, data).has_value());
    ASSERT_TRUE((*disk)->Flush().has_value());
    EXPECT_FALSE((*disk)->WriteSectors(7, data).has_value());  // Past the end.
  }
  const auto bytes = ReadFileBytes(path, 5 * 512, 2 * 512);
  EXPECT_EQ(bytes[0], 0x11);
  EXPECT_EQ(bytes[1], 0x5a);
  EXPECT_EQ(bytes[1023], 0x22);
  // The neighbours keep the original pattern.
  EXPECT_EQ(ReadFileBytes(path, 4 * 512 + 511, 1)[0],
            static_cast<uint8_t>(((4 * 512 + 511) * 7 + 4) & 0xff));
  EXPECT_EQ(ReadFileBytes(path, 7 * 512, 1)[0], static_cast<uint8_t>((7 * 512 * 7 + 7) & 0xff));
}

TEST(DiskImage, ReadOnlyRefusesWrites) {
  const std::string path = MakeImage("ro", 4 * 512);
  auto disk = DiskImage::Open(path, true);
  ASSERT_TRUE(disk.has_value());
  std::vector<uint8_t> data(512, 0xee);
  auto r = (*disk)->WriteSectors(0, data);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("read-only"), std::string::npos);
  EXPECT_TRUE((*disk)->Flush().has_value());
  EXPECT_NE(ReadFileBytes(path, 0, 512), std::vector<uint8_t>(512, 0xee));
}

TEST(DiskImage, MissingFileIsAClearError) {
  const std::string path = TempPath("missing");
  auto disk = DiskImage::Open(path, true);
  ASSERT_FALSE(disk.has_value());
  EXPECT_NE(disk.error().message.find(path), std::string::npos);
  EXPECT_NE(disk.error().message.find("No such file"), std::string::npos);
}

TEST(DiskImage, OddSizeRoundsDown) {
  const std::string path = MakeImage("odd", 3 * 512 + 100);
  auto disk = DiskImage::Open(path, true);
  ASSERT_TRUE(disk.has_value());
  EXPECT_EQ((*disk)->sector_count(), 3u);
}

TEST(DiskImage, TooSmallOrNotAFileIsRejected) {
  const std::string tiny = MakeImage("tiny", 100);
  auto disk = DiskImage::Open(tiny, true);
  ASSERT_FALSE(disk.has_value());
  EXPECT_NE(disk.error().message.find("smaller than one"), std::string::npos);

  const char* dir = std::getenv("TEST_TMPDIR");
  auto d = DiskImage::Open(dir != nullptr ? dir : "/tmp", true);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message.find("directory"), std::string::npos);

  EXPECT_FALSE(DiskImage::Open("", true).has_value());
}

TEST(DiskImage, WriterLockExcludesOthers) {
  const std::string path = MakeImage("lock", 4 * 512);
  auto writer = DiskImage::Open(path, false);
  ASSERT_TRUE(writer.has_value());
  auto second = DiskImage::Open(path, false);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos);
  EXPECT_FALSE(DiskImage::Open(path, true).has_value());
  writer->reset();
  // Readers share.
  auto r1 = DiskImage::Open(path, true);
  auto r2 = DiskImage::Open(path, true);
  EXPECT_TRUE(r1.has_value());
  EXPECT_TRUE(r2.has_value());
}

TEST(DiskImage, UnwritableFileOpenedForWritingSaysSo) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can write any file";
  const std::string path = MakeImage("perm", 4 * 512);
  ::chmod(path.c_str(), 0444);
  auto disk = DiskImage::Open(path, false);
  ASSERT_FALSE(disk.has_value());
  EXPECT_NE(disk.error().message.find("read-only"), std::string::npos);
}

}  // namespace
}  // namespace x86vm
