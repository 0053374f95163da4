// A raw disk image file (or host block device) as a disk's backing store:
// whole 512-byte sectors read and written with pread/pwrite, and flushed on
// the guest's FLUSH CACHE. Every failure is a Result<> naming the file.
#ifndef X86VM_DEVICES_DISK_IMAGE_H_
#define X86VM_DEVICES_DISK_IMAGE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"

namespace x86vm {

// One open raw image. Not thread-safe: its one user (a disk controller) calls
// it from the vCPU thread. Moves are not supported; hold it by unique_ptr.
class DiskImage {
 public:
  // The logical sector size every disk model in x86vm uses.
  static constexpr uint64_t kSectorBytes = 512;

  // Opens `path` read-only or read-write and takes an advisory lock (shared
  // for read-only, exclusive for read-write) so two VMs cannot write the
  // same image. A size that is not a multiple of 512 bytes is rounded down
  // with a warning, as QEMU does; an image smaller than one sector, a
  // directory or a missing file is an error.
  static Result<std::unique_ptr<DiskImage>> Open(std::string path, bool read_only);

  // Closes the file (which releases the lock).
  ~DiskImage();
  DiskImage(const DiskImage&) = delete;
  DiskImage& operator=(const DiskImage&) = delete;

  // The path given to Open(), for messages.
  const std::string& path() const { return path_; }
  // True when opened read-only: writes fail.
  bool read_only() const { return read_only_; }
  // Size in whole 512-byte sectors.
  uint64_t sector_count() const { return sector_count_; }

  // Reads data.size() bytes (a multiple of 512) starting at `first_sector`.
  // Fails when the range is not inside the image or the host read fails.
  Result<> ReadSectors(uint64_t first_sector, std::span<uint8_t> data);
  // Writes data.size() bytes (a multiple of 512) starting at `first_sector`.
  // Fails on a read-only image, a range outside it, or a host write error.
  Result<> WriteSectors(uint64_t first_sector, std::span<const uint8_t> data);
  // Makes completed writes durable (fdatasync); a no-op when read-only.
  Result<> Flush();

 private:
  DiskImage(std::string path, int fd, bool read_only, uint64_t sector_count)
      : path_(std::move(path)), fd_(fd), read_only_(read_only), sector_count_(sector_count) {}
  // Checks that [first_sector, + bytes) is whole sectors inside the image.
  Result<> CheckRange(const char* what, uint64_t first_sector, size_t bytes) const;

  std::string path_;
  int fd_;
  bool read_only_;
  uint64_t sector_count_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_DISK_IMAGE_H_
