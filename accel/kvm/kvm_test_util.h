// Test helpers for the KVM engine: skipping where /dev/kvm is unusable, a
// minimal board (RAM, buses, clock), a recording bus target, long-mode
// scaffolding in guest memory, and entry states.
#ifndef X86VM_ACCEL_KVM_KVM_TEST_UTIL_H_
#define X86VM_ACCEL_KVM_KVM_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "accel/kvm/kvm_vcpu.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm::kvm_test {

// Why a KvmVcpu cannot be created on this host, or "" when it can.
std::string KvmUnavailableReason();

// Skips the current test (with the reason) when KVM is unusable here.
#define X86VM_SKIP_WITHOUT_KVM()                                        \
  do {                                                                  \
    std::string why = ::x86vm::kvm_test::KvmUnavailableReason();        \
    if (!why.empty()) GTEST_SKIP() << "KVM is unusable here: " << why;  \
  } while (0)

// A bus target that logs every access and answers reads from a function.
class RecordingTarget : public BusTarget {
 public:
  // One access as the bus delivered it.
  struct Access {
    bool write;
    uint64_t offset;
    size_t size;
    uint64_t value;
    bool operator==(const Access&) const = default;
  };
  // Logs the read and answers read_value.
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  // Logs the write.
  void Write(uint64_t offset, std::span<const uint8_t> data) override;
  // What reads return (default: 0).
  std::function<uint64_t(uint64_t offset, size_t size)> read_value;
  std::vector<Access> log;
  // Only the writes, as values.
  std::vector<uint64_t> writes() const;
};

// RAM, the two buses and a clock; no devices.
class MiniBoard {
 public:
  // `ram_bytes` of RAM and a clock in `mode`.
  explicit MiniBoard(uint64_t ram_bytes = 16ull << 20,
                     VirtualClock::Mode mode = VirtualClock::Mode::kRealTime);
  // The parts, for loading code and registering test targets.
  GuestMemory& memory() { return *memory_; }
  Bus& pio() { return pio_; }
  Bus& mmio() { return mmio_; }
  VirtualClock& clock() { return clock_; }
  // The environment for a vCPU on this board.
  CpuEnvironment env(InterruptController* irq = nullptr, CpuPlatform* platform = nullptr);
  // Copies bytes to guest-physical `gpa`.
  void Load(uint64_t gpa, std::span<const uint8_t> bytes);

 private:
  Bus mmio_{"mmio"};
  Bus pio_{"pio"};
  VirtualClock clock_;
  std::unique_ptr<GuestMemory> memory_;
};

// A nasm-built test guest from the runfiles (accel/kvm/testdata/NAME.bin).
std::vector<uint8_t> ReadGuest(const std::string& name);

// Long-mode scaffolding (SDM Vol. 3 9.8.5): the first 1 GiB identity-mapped
// with user-accessible 2 MiB pages, a GDT (0x08 ring-0 code64, 0x10 ring-0
// data, 0x18|3 ring-3 data, 0x20|3 ring-3 code64, 0x28 TSS), an IDT whose
// vector v is a ring-0 interrupt gate to the HLT at kStubs + v, and a TSS
// with RSP0 = kStack0Top whose I/O bitmap lets CPL 3 use kUserPort..+3.
struct LongMode {
  // Guest-physical addresses of the pieces.
  static constexpr uint64_t kGdt = 0x1000;
  static constexpr uint64_t kIdt = 0x2000;
  static constexpr uint64_t kTss = 0x3000;
  static constexpr uint64_t kIoBitmap = 0x68;  // Offset in the TSS.
  static constexpr uint16_t kUserPort = 0x700;
  static constexpr uint64_t kStubs = 0x6000;
  static constexpr uint64_t kStack0Top = 0x8000;
  static constexpr uint64_t kPml4 = 0x10000;
  static constexpr uint64_t kCode = 0x100000;
  static constexpr uint64_t kStack3Top = 0x200000;
};
// Writes the pieces above into `memory`.
void BuildLongModeTables(GuestMemory& memory);
// 64-bit code at `rip` with CPL `cpl` (0 or 3), IOPL 0, interrupts off.
CpuState LongModeState(uint64_t rip, int cpl);
// Real-mode code at 0000:`ip`.
CpuState RealModeState(uint16_t ip);

// ring3_loop.bin's result for `iterations`, computed in C++.
uint64_t RingLoopChecksum(uint64_t iterations);

}  // namespace x86vm::kvm_test

#endif  // X86VM_ACCEL_KVM_KVM_TEST_UTIL_H_
