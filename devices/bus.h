// Port I/O and MMIO buses. Devices see only these: a read or write at an
// offset with a data span (STYLE.md "Devices see only the bus").
#ifndef X86VM_DEVICES_BUS_H_
#define X86VM_DEVICES_BUS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/status.h"

namespace x86vm {

// Something that answers accesses in one window of a bus. `offset` is
// relative to the window's base; data.size() is 1, 2, 4 or 8 bytes,
// little-endian.
class BusTarget {
 public:
  virtual ~BusTarget() = default;
  virtual void Read(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void Write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

// A BusTarget made of two functions working on values; lets a device expose
// several windows (PIC master, slave and ELCR) without one class per window.
class FunctionBusTarget : public BusTarget {
 public:
  using ReadFn = std::function<uint64_t(uint64_t offset, size_t size)>;
  using WriteFn = std::function<void(uint64_t offset, size_t size, uint64_t value)>;
  FunctionBusTarget(ReadFn read, WriteFn write)
      : read_(std::move(read)), write_(std::move(write)) {}
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  ReadFn read_;
  WriteFn write_;
};

// Little-endian value <-> span helpers for targets that think in values.
uint64_t LoadLe(std::span<const uint8_t> data);
void StoreLe(std::span<uint8_t> data, uint64_t value);

// An address space with non-overlapping windows. Unmapped reads return all
// ones, unmapped writes are dropped; both log a rate-limited line.
class Bus {
 public:
  // `name` is "pio" or "mmio"; it names the logger and error messages.
  explicit Bus(std::string name);

  // Maps [base, base + size) to `target`. Overlap with an existing window is
  // a wiring bug and is rejected.
  Result<> Register(uint64_t base, uint64_t size, BusTarget* target,
                    std::string label);
  // Removes the window that starts at `base` (PCI BAR moves, APIC relocation).
  bool Unregister(uint64_t base);

  void Read(uint64_t addr, std::span<uint8_t> data);
  void Write(uint64_t addr, std::span<const uint8_t> data);

  // Value forms of Read/Write for engines and tests (size 1, 2, 4 or 8).
  uint64_t ReadValue(uint64_t addr, size_t size);
  void WriteValue(uint64_t addr, size_t size, uint64_t value);

  // True when some window covers `addr`.
  bool IsMapped(uint64_t addr) const { return Find(addr) != nullptr; }

 private:
  struct Window {
    uint64_t base;
    uint64_t size;
    BusTarget* target;
    std::string label;
  };
  const Window* Find(uint64_t addr) const;

  std::string name_;
  std::vector<Window> windows_;  // Sorted by base, disjoint.
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter unmapped_read_log_;
  RateLimiter unmapped_write_log_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_BUS_H_
