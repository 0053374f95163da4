// A fake board for the BIOS services' unit tests: 16 MiB of guest RAM, a
// deterministic clock, and fake devices on the port bus (a COM1 that records
// output and serves queued input, a PIC that counts EOIs, CMOS registers, the
// i8042 and port 92h ports), plus raw disk images in a temporary folder.
#ifndef X86VM_FIRMWARE_BIOS_BIOS_TEST_UTIL_H_
#define X86VM_FIRMWARE_BIOS_BIOS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "firmware/bios/bios_services.h"

namespace x86vm {

class FakeBiosBoard {
 public:
  FakeBiosBoard() : clock_(VirtualClock::Mode::kDeterministic) {
    memory_ = std::move(*GuestMemory::Create(16ull << 20));
    Register(
        0x3f8, 8,
        [this](uint64_t off) -> uint64_t {
          if (off == 0) {  // RBR.
            if (rx.empty()) return 0;
            uint8_t b = rx.front();
            rx.pop_front();
            return b;
          }
          if (off == 3) return lcr;
          if (off == 5) return 0x60 | (rx.empty() ? 0 : 1);  // THRE|TEMT, DR.
          return 0;
        },
        [this](uint64_t off, uint64_t v) {
          if (off == 0 && !(lcr & 0x80)) serial_out.push_back(static_cast<char>(v));
          if (off == 3) lcr = static_cast<uint8_t>(v);
        });
    Register(
        0x20, 2, [](uint64_t) -> uint64_t { return 0; },
        [this](uint64_t off, uint64_t v) {
          if (off == 0 && v == 0x20) ++eois;
        });
    Register(
        0x70, 2, [this](uint64_t off) -> uint64_t { return off == 1 ? cmos[cmos_index] : 0xff; },
        [this](uint64_t off, uint64_t v) {
          if (off == 0)
            cmos_index = static_cast<uint8_t>(v & 0x7f);
          else
            cmos[cmos_index] = static_cast<uint8_t>(v);
        });
    Register(
        0x60, 1, [](uint64_t) -> uint64_t { return 0; },
        [this](uint64_t, uint64_t v) { i8042_data.push_back(static_cast<uint8_t>(v)); });
    Register(
        0x64, 1, [](uint64_t) -> uint64_t { return 0x1c; },
        [this](uint64_t, uint64_t v) { i8042_commands.push_back(static_cast<uint8_t>(v)); });
    Register(
        0x92, 1, [this](uint64_t) -> uint64_t { return port92; },
        [this](uint64_t, uint64_t v) { port92 = static_cast<uint8_t>(v); });
  }

  ~FakeBiosBoard() {
    disks_.clear();
    for (const std::string& p : paths_) unlink(p.c_str());
  }

  // Adds a disk image of `sectors` sectors whose sector i starts with the
  // bytes "S" and i (little-endian u32). Returns it as a BiosDisk.
  BiosDisk AddDisk(uint64_t sectors, bool read_only = false) {
    std::string path = ::testing::TempDir() + "/bios_disk_" + std::to_string(getpid()) + "_" +
                       std::to_string(paths_.size()) + ".img";
    {
      std::ofstream f(path, std::ios::binary | std::ios::trunc);
      std::vector<char> sector(512, 0);
      for (uint64_t i = 0; i < sectors; ++i) {
        sector[0] = 'S';
        for (int b = 0; b < 4; ++b) sector[1 + b] = static_cast<char>(i >> (8 * b));
        f.write(sector.data(), 512);
      }
    }
    paths_.push_back(path);
    auto disk = DiskImage::Open(path, read_only);
    EXPECT_TRUE(disk.has_value());
    disks_.push_back(std::move(*disk));
    return {disks_.back().get(), 0, static_cast<uint8_t>(disks_.size() - 1)};
  }

  // The environment for BiosServices with `disks`.
  BiosEnvironment Environment(std::vector<BiosDisk> disks = {}) {
    BiosEnvironment env;
    env.memory = memory_.get();
    env.pio = &pio_;
    env.clock = &clock_;
    env.disks = std::move(disks);
    return env;
  }

  GuestMemory& memory() { return *memory_; }
  VirtualClock& clock() { return clock_; }
  Bus& pio() { return pio_; }

  std::string serial_out;
  std::deque<uint8_t> rx;
  uint8_t lcr = 0x03;
  int eois = 0;
  std::array<uint8_t, 128> cmos{};
  uint8_t cmos_index = 0;
  std::vector<uint8_t> i8042_data;
  std::vector<uint8_t> i8042_commands;
  uint8_t port92 = 0x02;

 private:
  void Register(uint64_t base, uint64_t size, std::function<uint64_t(uint64_t)> read,
                std::function<void(uint64_t, uint64_t)> write) {
    targets_.push_back(std::make_unique<FunctionBusTarget>(
        [read](uint64_t off, size_t) { return read(off); },
        [write](uint64_t off, size_t, uint64_t v) { write(off, v); }));
    ASSERT_TRUE(pio_.Register(base, size, targets_.back().get(), "fake").has_value());
  }

  VirtualClock clock_;
  std::unique_ptr<GuestMemory> memory_;
  Bus pio_{"pio"};
  std::vector<std::unique_ptr<FunctionBusTarget>> targets_;
  std::vector<std::unique_ptr<DiskImage>> disks_;
  std::vector<std::string> paths_;
};

// Registers for a call of INT `vector` with AX = `ax`.
inline BiosRegs Call(uint8_t vector, uint16_t ax) {
  BiosRegs r;
  r.vector = vector;
  r.eax = ax;
  r.flags = 0x0202;
  return r;
}

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_BIOS_BIOS_TEST_UTIL_H_
