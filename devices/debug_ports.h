// Small debugging ports every emulator grows: the Bochs/QEMU debug console
// (0xE9, and 0x402 where SeaBIOS and OVMF print), QEMU's isa-debug-exit for
// test guests, and the POST code port 0x80.
#ifndef X86VM_DEVICES_DEBUG_PORTS_H_
#define X86VM_DEVICES_DEBUG_PORTS_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "base/serializer.h"
#include "devices/bus.h"
#include "devices/device.h"

namespace x86vm {

// Where debug console bytes go; the frontend provides it (stderr, a file).
class DebugConSink {
 public:
  virtual ~DebugConSink() = default;
  // One byte the guest wrote.
  virtual void Put(uint8_t byte) = 0;
};

// The debug console: bytes written go to the sink, reads return a fixed
// "port present" byte (0xE9, as Bochs and QEMU's isa-debugcon). Register the
// same object as a 1-byte window at each port wanted (kPortBochs,
// kPortFirmware). Wider writes reach only the first byte, as on an 8-bit ISA
// port.
class DebugCon : public Device, public BusTarget {
 public:
  // Bochs' and QEMU's default debug console port.
  static constexpr uint16_t kPortBochs = 0xE9;
  // Where SeaBIOS and OVMF write their debug log on QEMU.
  static constexpr uint16_t kPortFirmware = 0x402;
  // What reads return, so a guest can detect the port.
  static constexpr uint8_t kReadback = 0xE9;

  // `sink` may be null (output discarded); it must outlive the device.
  explicit DebugCon(DebugConSink* sink) : sink_(sink) {}
  std::string_view name() const override { return "debugcon"; }
  void Reset() override {}
  // No guest-visible state; writes an empty section so snapshots list it.
  void Serialize(Serializer& s) override;
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  DebugConSink* sink_;
};

// QEMU's isa-debug-exit: a write of value V ends the machine with exit status
// (V << 1) | 1, so a test guest can report pass/fail and never be confused
// with a clean 0. V is the written access (1, 2 or 4 bytes, little-endian),
// at any offset of the window. The process exit status the OS keeps is the
// low 8 bits. Reads return 0. Register a kWindowBytes window at the port the
// board picks (QEMU's default 0x501; test suites often use 0xF4).
class ExitPort : public Device, public BusTarget {
 public:
  // The window size to register (covers outb, outw and outl).
  static constexpr uint64_t kWindowBytes = 4;

  // An exit port with no callback yet (writes are then ignored).
  ExitPort() = default;
  std::string_view name() const override { return "debug_exit"; }
  void Reset() override {}
  void Serialize(Serializer& s) override;
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Called with (V << 1) | 1; the board stops the machine with that status.
  void set_exit_requested(std::function<void(int status)> fn) {
    exit_requested_ = std::move(fn);
  }

 private:
  std::function<void(int)> exit_requested_;
};

// Port 0x80: POST codes from firmware and Linux's I/O delay writes. Accepts
// writes silently (no unmapped-port log), reads 0xFF as an empty ISA port,
// and keeps the last code for the monitor. Register a 1-byte window at 0x80.
class PostCodePort : public Device, public BusTarget {
 public:
  // The POST code port.
  static constexpr uint16_t kPort = 0x80;

  // A port that has seen no code yet (last_code() is 0).
  PostCodePort() = default;
  std::string_view name() const override { return "post_code"; }
  // The last code survives a reset, so the monitor can show where a crashed
  // boot stopped even after the guest rebooted.
  void Reset() override {}
  void Serialize(Serializer& s) override;
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // The last byte written.
  uint8_t last_code() const { return last_code_; }
  // How many writes arrived (never saved: a debugging aid).
  uint64_t write_count() const { return write_count_; }

 private:
  uint8_t last_code_ = 0;
  uint64_t write_count_ = 0;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_DEBUG_PORTS_H_
