// The 8042 keyboard controller with a PS/2 keyboard and mouse behind it, and
// port 0x92 ("system control port A", fast A20 and fast reset).
//
// The controller answers port 0x60 (data) and port 0x64 (status on read,
// command on write); the board registers the two 1-byte windows separately.
// References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/
// Auxiliary Device Controller"; Linux drivers/input/serio/i8042.h for the
// command and bit names; SeaBIOS src/hw/ps2port.c for how firmware drives it.
#ifndef X86VM_DEVICES_I8042_H_
#define X86VM_DEVICES_I8042_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "base/log.h"
#include "base/serializer.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

// Key codes for I8042::KeyPress: the key's scan code set 2 make code, with
// 0xE0 in the high byte for extended keys (0x1C is 'A', 0xE075 is Up). Two
// keys whose set 2 sequences are not of that form get codes of their own.
inline constexpr uint16_t kPs2KeyPrintScreen = 0xE07C;  // E0 12 E0 7C.
inline constexpr uint16_t kPs2KeyPause = 0xE114;  // E1 14 77 E1 F0 14 F0 77.

// Mouse button bits for I8042::MouseEvent.
inline constexpr uint8_t kPs2MouseLeft = 0x01;
inline constexpr uint8_t kPs2MouseRight = 0x02;
inline constexpr uint8_t kPs2MouseMiddle = 0x04;
inline constexpr uint8_t kPs2MouseButton4 = 0x08;  // Reported with device ID 4.
inline constexpr uint8_t kPs2MouseButton5 = 0x10;  // Reported with device ID 4.

// The 8042 "translation" from scan code set 2 to set 1 for one byte (the
// 0xF0 break prefix is handled by the caller, which ORs 0x80 into the next).
uint8_t TranslateSet2ToSet1(uint8_t set2_byte);

// A bounded byte FIFO of a PS/2 device (the bytes it has yet to clock out).
class Ps2Queue {
 public:
  // Bytes held at most (QEMU's PS/2 queue size); more are dropped.
  static constexpr size_t kCapacity = 256;
  // True when nothing is waiting.
  bool empty() const { return bytes_.empty(); }
  // Bytes waiting.
  size_t size() const { return bytes_.size(); }
  // Bytes that can still be pushed.
  size_t free_space() const { return kCapacity - bytes_.size(); }
  // Appends a byte; returns false (and drops it) when full.
  bool Push(uint8_t byte);
  // Removes and returns the oldest byte; 0 when empty.
  uint8_t Pop();
  // Drops everything waiting.
  void Clear() { bytes_.clear(); }
  // Saves or loads the queued bytes.
  void Serialize(Serializer& s);

 private:
  std::deque<uint8_t> bytes_;
};

// A PS/2 (MF2) keyboard: the command set of IBM's "Keyboard Technical
// Reference" (ACK 0xFA, BAT 0xAA, ID AB 83). Input arrives as set 2 bytes and
// is sent in the current scan code set (set 3 is accepted but sends set 2
// codes). Typematic repeat is left to the frontend (repeat press events).
class Ps2Keyboard {
 public:
  // A keyboard in its power-on state.
  Ps2Keyboard();
  // Power-on defaults, empty queue.
  void Reset();
  // A byte from the host (through the controller).
  void Write(uint8_t byte);
  // A host key event as set 2 bytes; dropped whole if scanning is disabled or
  // the queue lacks room for all of it.
  void InjectSet2(std::span<const uint8_t> set2_bytes);
  // True when a byte waits for the controller.
  bool HasData() const { return !queue_.empty(); }
  // Hands the oldest byte to the controller.
  uint8_t Pop();
  // LED bits set with 0xED: bit 0 Scroll Lock, 1 Num Lock, 2 Caps Lock.
  uint8_t leds() const { return leds_; }
  // The scan code set in use (1, 2 or 3).
  uint8_t scancode_set() const { return scancode_set_; }
  // False after 0xF5 (disable) until 0xF4/0xF6/0xFF.
  bool scanning() const { return scanning_; }
  // Saves or loads the keyboard (a sub-section of "i8042").
  void Serialize(Serializer& s);

 private:
  void SetDefaults();
  void Reply(uint8_t byte) { queue_.Push(byte); }

  Ps2Queue queue_;
  bool scanning_ = true;
  uint8_t scancode_set_ = 2;
  uint8_t leds_ = 0;
  uint8_t typematic_ = 0x2B;     // 10.9 cps, 500 ms: the power-on default.
  uint8_t pending_command_ = 0;  // A command waiting for its parameter byte.
  uint8_t last_sent_ = 0;        // For 0xFE (resend).
};

// A PS/2 mouse with the IntelliMouse (ID 3, wheel) and IntelliMouse Explorer
// (ID 4, wheel and buttons 4/5) extensions, enabled by the usual sample-rate
// knocks (200,100,80 and 200,200,80). Scaling 2:1 is stored but not applied.
class Ps2Mouse {
 public:
  // A mouse in its power-on state.
  Ps2Mouse();
  // Power-on defaults (ID 0, stream mode, reporting off), empty queue.
  void Reset();
  // A byte from the host (through controller command 0xD4).
  void Write(uint8_t byte);
  // Host motion: dx right, dy down (screen convention), dz wheel (positive
  // toward the user); buttons are kPs2Mouse* bits.
  void InjectMotion(int dx, int dy, int dz, uint8_t buttons);
  // True when a byte waits for the controller.
  bool HasData() const { return !queue_.empty(); }
  // Hands the oldest byte to the controller, then tops up stream packets.
  uint8_t Pop();
  // 0 (plain PS/2), 3 (wheel) or 4 (wheel and five buttons).
  uint8_t device_id() const { return device_id_; }
  // True after 0xF4 (enable data reporting).
  bool reporting() const { return reporting_; }
  // Saves or loads the mouse (a sub-section of "i8042").
  void Serialize(Serializer& s);

 private:
  void SetDefaults();
  void Reply(uint8_t byte) { queue_.Push(byte); }
  size_t packet_bytes() const { return device_id_ == 0 ? 3 : 4; }
  // Queues one packet from the accumulated motion (and consumes it).
  void QueuePacket();
  // Stream mode: queues packets while there is motion and room.
  void Sync();

  Ps2Queue queue_;
  bool reporting_ = false;
  bool remote_mode_ = false;
  bool wrap_mode_ = false;
  bool scaling_2to1_ = false;
  uint8_t sample_rate_ = 100;
  uint8_t resolution_ = 2;  // 4 counts/mm.
  uint8_t device_id_ = 0;
  uint8_t rate_history_[3] = {};  // Last three sample rates, newest last.
  uint8_t pending_command_ = 0;
  uint8_t last_sent_ = 0;
  // Motion not yet reported, in PS/2 convention (dy positive = up).
  int32_t dx_ = 0;
  int32_t dy_ = 0;
  int32_t dz_ = 0;
  uint8_t buttons_ = 0;
  uint8_t reported_buttons_ = 0;
};

// The keyboard controller (device "i8042"). IRQ 1 follows "output buffer full
// with keyboard data" and IRQ 12 "with mouse data", each gated by its enable
// bit in the command byte, as levels (edge-triggered at the PIC, so each new
// byte makes a new rising edge).
class I8042 : public Device {
 public:
  // Status register bits (port 0x64 read).
  static constexpr uint8_t kStatusOutputFull = 0x01;
  static constexpr uint8_t kStatusInputFull = 0x02;
  static constexpr uint8_t kStatusSystem = 0x04;
  static constexpr uint8_t kStatusCommand = 0x08;   // Last write was to 0x64.
  static constexpr uint8_t kStatusUnlocked = 0x10;  // Keyboard not inhibited.
  static constexpr uint8_t kStatusAuxData = 0x20;
  // Command byte bits (controller RAM byte 0).
  static constexpr uint8_t kCtrKbdInt = 0x01;
  static constexpr uint8_t kCtrAuxInt = 0x02;
  static constexpr uint8_t kCtrSystem = 0x04;
  static constexpr uint8_t kCtrKbdDisable = 0x10;
  static constexpr uint8_t kCtrAuxDisable = 0x20;
  static constexpr uint8_t kCtrTranslate = 0x40;
  // Output port bits (commands 0xD0/0xD1).
  static constexpr uint8_t kOutResetDeasserted = 0x01;  // 0 resets the CPU.
  static constexpr uint8_t kOutA20 = 0x02;
  static constexpr uint8_t kOutKbdFull = 0x10;
  static constexpr uint8_t kOutAuxFull = 0x20;

  // `irq1` and `irq12` are the ISA IRQ 1 and 12 lines; either may be null.
  I8042(IrqLine* irq1, IrqLine* irq12);

  std::string_view name() const override { return "i8042"; }
  // Power-on state. Calls no callback: the board resets its A20 gate to
  // enabled itself, matching a20_enabled() after reset.
  void Reset() override;
  void Serialize(Serializer& s) override;

  // Register as a 1-byte window at port 0x60.
  BusTarget* data_port() { return &data_port_; }
  // Register as a 1-byte window at port 0x64.
  BusTarget* command_port() { return &command_port_; }

  // Called with the new A20 output (output port bit 1) when it changes.
  void set_a20_changed(std::function<void(bool enabled)> fn) {
    a20_changed_ = std::move(fn);
  }
  // Called when the guest pulses the CPU reset line (output port bit 0 low,
  // command 0xFE, 0xD1 with bit 0 clear).
  void set_reset_requested(std::function<void()> fn) {
    reset_requested_ = std::move(fn);
  }
  // The controller's A20 output. On a PIIX-style chipset the effective gate is
  // this OR'ed with port 0x92 bit 1 (SystemControlPortA::a20_enabled()).
  bool a20_enabled() const { return (output_port_ & kOutA20) != 0; }

  // Host keyboard input as raw set 2 bytes (a make "1C", a break "F0 1C").
  void KeyEvent(std::span<const uint8_t> set2_bytes);
  // Host keyboard input by key code (see kPs2Key* above for the encoding).
  void KeyPress(uint16_t key_code, bool pressed);
  // Host mouse input; see Ps2Mouse::InjectMotion for units and signs.
  void MouseEvent(int dx, int dy, uint8_t buttons, int dz = 0);
  // Keyboard LED state for the frontend (bit 0 Scroll, 1 Num, 2 Caps Lock).
  uint8_t keyboard_leds() const { return keyboard_.leds(); }

  // The keyboard, for tests and the monitor.
  const Ps2Keyboard& keyboard() const { return keyboard_; }
  // The mouse, for tests and the monitor.
  const Ps2Mouse& mouse() const { return mouse_; }
  // The command byte (controller RAM 0), for the monitor.
  uint8_t command_byte() const { return ram_[0]; }

 private:
  // Port handlers.
  uint8_t ReadData();
  uint8_t ReadStatus() const;
  void WriteData(uint8_t value);
  void WriteCommand(uint8_t value);

  // A byte the controller itself answers with (command replies, 0xD2/0xD3).
  void QueueControllerByte(uint8_t byte, bool aux);
  void WriteOutputPort(uint8_t value);
  void RequestReset();
  // Moves the next byte into the output buffer when it is empty.
  void Refill();
  // Drives IRQ 1/12 from the output buffer state and the command byte.
  void UpdateIrqs(bool force = false);
  bool irq1_wanted() const;
  bool irq12_wanted() const;

  IrqLine* irq1_;
  IrqLine* irq12_;
  FunctionBusTarget data_port_;
  FunctionBusTarget command_port_;
  std::function<void(bool)> a20_changed_;
  std::function<void()> reset_requested_;

  Ps2Keyboard keyboard_;
  Ps2Mouse mouse_;

  uint8_t ram_[32] = {};  // Byte 0 is the command byte.
  uint8_t output_port_ = 0;
  bool last_write_was_command_ = false;
  uint8_t pending_command_ = 0;  // A command waiting for a byte on port 0x60.
  // The output buffer (what port 0x60 returns) and who filled it.
  uint8_t output_byte_ = 0;
  bool output_full_ = false;
  bool output_aux_ = false;
  // Controller replies waiting for the output buffer; bit 8 marks bytes
  // that appear as mouse data (0xD3).
  std::deque<uint16_t> controller_bytes_;
  // Translation saw 0xF0 and sets bit 7 of the next byte.
  bool translate_break_ = false;
  bool irq1_level_ = false;
  bool irq12_level_ = false;

  std::shared_ptr<spdlog::logger> log_;
  RateLimiter unknown_command_log_;
};

// Port 0x92, "system control port A" (PS/2 and every PIIX/ICH chipset): bit 1
// gates A20 ("fast A20"), a 0->1 write of bit 0 resets the CPU ("fast
// reset"). Register as a 1-byte window at port 0x92.
class SystemControlPortA : public Device, public BusTarget {
 public:
  // Bit 0: a 0->1 write resets the CPU.
  static constexpr uint8_t kFastReset = 0x01;
  // Bit 1: A20 gate.
  static constexpr uint8_t kA20 = 0x02;

  // The port at power-on (0).
  SystemControlPortA() = default;
  std::string_view name() const override { return "port92"; }
  // Clears bit 0 and bit 1 (the value QEMU and the PIIX4 datasheet give).
  void Reset() override { value_ = 0; }
  void Serialize(Serializer& s) override;
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Called with bit 1 when it changes.
  void set_a20_changed(std::function<void(bool enabled)> fn) {
    a20_changed_ = std::move(fn);
  }
  // Called on a 0->1 write of bit 0.
  void set_reset_requested(std::function<void()> fn) {
    reset_requested_ = std::move(fn);
  }
  // This port's A20 bit (see I8042::a20_enabled() for the combination).
  bool a20_enabled() const { return (value_ & kA20) != 0; }

 private:
  uint8_t value_ = 0;
  std::function<void(bool)> a20_changed_;
  std::function<void()> reset_requested_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_I8042_H_
