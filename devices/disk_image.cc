#include "devices/disk_image.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace x86vm {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

Result<std::unique_ptr<DiskImage>> DiskImage::Open(std::string path, bool read_only) {
  if (path.empty()) return Fail("disk image: empty path");
  const int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    if (!read_only && (err == EACCES || err == EROFS || err == EPERM)) {
      return Fail("disk image '{}': cannot open for writing: {} (open it read-only instead)",
                  path, ErrnoText(err));
    }
    return Fail("disk image '{}': cannot open: {}", path, ErrnoText(err));
  }
  // From here on every failure closes fd.
  auto fail = [&](std::unexpected<Error> error) {
    ::close(fd);
    return error;
  };

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return fail(Fail("disk image '{}': cannot stat: {}", path, ErrnoText(errno)));
  }
  if (S_ISDIR(st.st_mode)) return fail(Fail("disk image '{}': is a directory", path));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return fail(Fail("disk image '{}': not a regular file or block device", path));
  }

  // Advisory lock, QEMU's image locking in spirit: many readers or one writer.
  if (::flock(fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return fail(Fail("disk image '{}': in use by another process (locked {})", path,
                       read_only ? "for writing" : "by a reader or writer"));
    }
    // Filesystems without flock support (some network mounts): carry on.
    Logger("disk")->warn("disk image '{}': cannot lock: {}", path, ErrnoText(err));
  }

  // Block devices report st_size 0; lseek to the end works for both kinds.
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) return fail(Fail("disk image '{}': cannot get size: {}", path, ErrnoText(errno)));
  const uint64_t size_bytes = static_cast<uint64_t>(end);
  if (size_bytes < kSectorBytes) {
    return fail(Fail("disk image '{}': {} bytes is smaller than one {}-byte sector", path,
                     size_bytes, kSectorBytes));
  }
  if (size_bytes % kSectorBytes != 0) {
    // QEMU accepts such images and exposes only the whole sectors.
    Logger("disk")->warn(
        "disk image '{}': size {} bytes is not a multiple of {}; the last {} bytes are ignored",
        path, size_bytes, kSectorBytes, size_bytes % kSectorBytes);
  }
  return std::unique_ptr<DiskImage>(
      new DiskImage(std::move(path), fd, read_only, size_bytes / kSectorBytes));
}

DiskImage::~DiskImage() { ::close(fd_); }

Result<> DiskImage::CheckRange(const char* what, uint64_t first_sector, size_t bytes) const {
  if (bytes % kSectorBytes != 0) {
    return Fail("disk image '{}': {} of {} bytes is not whole sectors", path_, what, bytes);
  }
  const uint64_t sectors = bytes / kSectorBytes;
  if (first_sector > sector_count_ || sectors > sector_count_ - first_sector) {
    return Fail("disk image '{}': {} of {} sectors at sector {} is beyond the end ({} sectors)",
                path_, what, sectors, first_sector, sector_count_);
  }
  return {};
}

Result<> DiskImage::ReadSectors(uint64_t first_sector, std::span<uint8_t> data) {
  if (auto r = CheckRange("read", first_sector, data.size()); !r) return r;
  size_t done = 0;
  while (done < data.size()) {
    const off_t offset = static_cast<off_t>(first_sector * kSectorBytes + done);
    const ssize_t n = ::pread(fd_, data.data() + done, data.size() - done, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Fail("disk image '{}': read at byte {}: {}", path_, offset, ErrnoText(errno));
    }
    if (n == 0) {
      // The file shrank under us (truncated by someone else): report it
      // rather than hand the guest stale buffer contents.
      return Fail("disk image '{}': read at byte {}: unexpected end of file", path_, offset);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<> DiskImage::WriteSectors(uint64_t first_sector, std::span<const uint8_t> data) {
  if (read_only_) return Fail("disk image '{}': write to a read-only image", path_);
  if (auto r = CheckRange("write", first_sector, data.size()); !r) return r;
  size_t done = 0;
  while (done < data.size()) {
    const off_t offset = static_cast<off_t>(first_sector * kSectorBytes + done);
    const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Fail("disk image '{}': write at byte {}: {}", path_, offset,
                  n < 0 ? ErrnoText(errno) : std::string("no progress"));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<> DiskImage::Flush() {
  if (read_only_) return {};
  int r = 0;
  do {
    r = ::fdatasync(fd_);
  } while (r != 0 && errno == EINTR);
  if (r != 0) return Fail("disk image '{}': flush: {}", path_, ErrnoText(errno));
  return {};
}

}  // namespace x86vm
