#include "devices/i8042.h"

#include <algorithm>
#include <vector>

namespace x86vm {
namespace {

// Replies shared by the keyboard and the mouse (IBM PS/2 Technical Reference,
// "Keyboard and Auxiliary Device Commands").
constexpr uint8_t kAck = 0xFA;
constexpr uint8_t kResend = 0xFE;
constexpr uint8_t kSelfTestPassed = 0xAA;

// The most controller replies we hold when the guest issues commands without
// reading the answers; more are dropped, as a real 8042 would overwrite them.
constexpr size_t kMaxControllerBytes = 16;

// The 8042's set 2 -> set 1 translation (IBM PS/2 Technical Reference,
// "Keyboard Scan Code Translation"): 0x00-0x83 map to set 1 codes, 0x84
// (Alt+SysRq) to 0x54, and 0x85-0xFF pass unchanged, which keeps the ACK
// (0xFA), BAT (0xAA), echo and prefix bytes intact.
constexpr uint8_t kTranslateLow[0x84] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,  // 0x00
    0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,  // 0x08
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,  // 0x10
    0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,  // 0x18
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,  // 0x20
    0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,  // 0x28
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,  // 0x30
    0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,  // 0x38
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,  // 0x40
    0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,  // 0x48
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,  // 0x50
    0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,  // 0x58
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,  // 0x60
    0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,  // 0x68
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,  // 0x70
    0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,  // 0x78
    0x80, 0x81, 0x82, 0x41,                          // 0x80
};

}  // namespace

uint8_t TranslateSet2ToSet1(uint8_t set2_byte) {
  if (set2_byte < sizeof(kTranslateLow)) return kTranslateLow[set2_byte];
  if (set2_byte == 0x84) return 0x54;
  return set2_byte;
}

// ---------------------------------------------------------------------------
// Ps2Queue

bool Ps2Queue::Push(uint8_t byte) {
  if (bytes_.size() >= kCapacity) return false;
  bytes_.push_back(byte);
  return true;
}

uint8_t Ps2Queue::Pop() {
  if (bytes_.empty()) return 0;
  uint8_t byte = bytes_.front();
  bytes_.pop_front();
  return byte;
}

void Ps2Queue::Serialize(Serializer& s) {
  std::vector<uint8_t> bytes(bytes_.begin(), bytes_.end());
  s(bytes, kCapacity);
  if (s.loading()) bytes_.assign(bytes.begin(), bytes.end());
}

// ---------------------------------------------------------------------------
// Ps2Keyboard

Ps2Keyboard::Ps2Keyboard() { Reset(); }

void Ps2Keyboard::SetDefaults() {
  // 0xF5/0xF6/0xFF restore the power-on defaults: set 2, default typematic,
  // LEDs off (QEMU's ps2_reset_keyboard does the same).
  scancode_set_ = 2;
  typematic_ = 0x2B;
  leds_ = 0;
}

void Ps2Keyboard::Reset() {
  SetDefaults();
  scanning_ = true;
  pending_command_ = 0;
  last_sent_ = 0;
  queue_.Clear();
}

void Ps2Keyboard::Write(uint8_t byte) {
  if (pending_command_ != 0) {
    uint8_t command = pending_command_;
    pending_command_ = 0;
    switch (command) {
      case 0xED:  // Set LEDs.
        leds_ = byte & 0x07;
        Reply(kAck);
        return;
      case 0xF3:  // Set typematic rate/delay.
        typematic_ = byte & 0x7F;
        Reply(kAck);
        return;
      case 0xF0:  // Get/set scan code set.
        Reply(kAck);
        if (byte == 0) {
          Reply(scancode_set_);
        } else if (byte <= 3) {
          scancode_set_ = byte;
        }
        return;
    }
  }
  // A keyboard clears its output buffer when the host sends a command, so a
  // reply is never preceded by stale key bytes (resend excepted).
  if (byte != 0xFE) queue_.Clear();
  switch (byte) {
    case 0xED:
    case 0xF0:
    case 0xF3:
      Reply(kAck);
      pending_command_ = byte;
      break;
    case 0xEE:  // Echo.
      Reply(0xEE);
      break;
    case 0xF2:  // Identify: an MF2 keyboard.
      Reply(kAck);
      Reply(0xAB);
      Reply(0x83);
      break;
    case 0xF4:  // Enable scanning.
      scanning_ = true;
      Reply(kAck);
      break;
    case 0xF5:  // Default and disable.
      SetDefaults();
      scanning_ = false;
      Reply(kAck);
      break;
    case 0xF6:  // Set default.
      SetDefaults();
      scanning_ = true;
      Reply(kAck);
      break;
    case 0xF7:
    case 0xF8:
    case 0xF9:
    case 0xFA:
    case 0xFB:
    case 0xFC:
    case 0xFD:  // Set 3 key-type commands: accepted and ignored.
      Reply(kAck);
      break;
    case 0xFE:  // Resend.
      Reply(last_sent_);
      break;
    case 0xFF:  // Reset and self test (BAT).
      SetDefaults();
      scanning_ = true;
      Reply(kAck);
      Reply(kSelfTestPassed);
      break;
    default:
      Reply(kResend);
      break;
  }
}

void Ps2Keyboard::InjectSet2(std::span<const uint8_t> set2_bytes) {
  if (!scanning_) return;
  std::vector<uint8_t> out;
  out.reserve(set2_bytes.size());
  if (scancode_set_ == 1) {
    // The keyboard itself sends set 1: the same mapping the 8042 applies.
    bool release = false;
    for (uint8_t b : set2_bytes) {
      if (b == 0xF0) {
        release = true;
        continue;
      }
      out.push_back(
          static_cast<uint8_t>(TranslateSet2ToSet1(b) | (release ? 0x80 : 0)));
      release = false;
    }
  } else {
    out.assign(set2_bytes.begin(), set2_bytes.end());
  }
  // All or nothing: half a sequence would leave the guest's decoder confused.
  if (out.size() > queue_.free_space()) return;
  for (uint8_t b : out) queue_.Push(b);
}

uint8_t Ps2Keyboard::Pop() {
  uint8_t byte = queue_.Pop();
  last_sent_ = byte;
  return byte;
}

void Ps2Keyboard::Serialize(Serializer& s) {
  s.Section("ps2kbd", 1);
  queue_.Serialize(s);
  s(scanning_);
  s(scancode_set_);
  s(leds_);
  s(typematic_);
  s(pending_command_);
  s(last_sent_);
  if (s.loading() && (scancode_set_ < 1 || scancode_set_ > 3))
    scancode_set_ = 2;
}

// ---------------------------------------------------------------------------
// Ps2Mouse

Ps2Mouse::Ps2Mouse() { Reset(); }

void Ps2Mouse::SetDefaults() {
  sample_rate_ = 100;
  resolution_ = 2;
  scaling_2to1_ = false;
  remote_mode_ = false;
  reporting_ = false;
  dx_ = dy_ = dz_ = 0;
}

void Ps2Mouse::Reset() {
  SetDefaults();
  wrap_mode_ = false;
  device_id_ = 0;
  std::fill(std::begin(rate_history_), std::end(rate_history_), 0);
  pending_command_ = 0;
  last_sent_ = 0;
  buttons_ = reported_buttons_ = 0;
  queue_.Clear();
}

void Ps2Mouse::Write(uint8_t byte) {
  // Wrap (echo) mode returns every byte except "reset wrap mode" and "reset".
  if (wrap_mode_ && byte != 0xEC && byte != 0xFF) {
    Reply(byte);
    return;
  }
  if (pending_command_ != 0) {
    uint8_t command = pending_command_;
    pending_command_ = 0;
    if (command == 0xF3) {  // Set sample rate.
      sample_rate_ = byte;
      rate_history_[0] = rate_history_[1];
      rate_history_[1] = rate_history_[2];
      rate_history_[2] = byte;
      // The IntelliMouse knocks (Microsoft's "Wheel Mouse" spec).
      if (rate_history_[0] == 200 && rate_history_[1] == 100 &&
          rate_history_[2] == 80 && device_id_ == 0) {
        device_id_ = 3;
      } else if (rate_history_[0] == 200 && rate_history_[1] == 200 &&
                 rate_history_[2] == 80 && device_id_ == 3) {
        device_id_ = 4;
      }
      Reply(kAck);
      return;
    }
    if (command == 0xE8) {  // Set resolution.
      resolution_ = byte & 0x03;
      Reply(kAck);
      return;
    }
  }
  if (byte != 0xFE) queue_.Clear();
  switch (byte) {
    case 0xE6:
      scaling_2to1_ = false;
      Reply(kAck);
      break;
    case 0xE7:
      scaling_2to1_ = true;
      Reply(kAck);
      break;
    case 0xE8:
    case 0xF3:
      Reply(kAck);
      pending_command_ = byte;
      break;
    case 0xE9: {  // Status request: mode/buttons, resolution, sample rate.
      uint8_t status = static_cast<uint8_t>(
          (remote_mode_ ? 0x40 : 0) | (reporting_ ? 0x20 : 0) |
          (scaling_2to1_ ? 0x10 : 0) | ((buttons_ & kPs2MouseLeft) ? 0x04 : 0) |
          ((buttons_ & kPs2MouseMiddle) ? 0x02 : 0) |
          ((buttons_ & kPs2MouseRight) ? 0x01 : 0));
      Reply(kAck);
      Reply(status);
      Reply(resolution_);
      Reply(sample_rate_);
      break;
    }
    case 0xEA:  // Set stream mode.
      remote_mode_ = false;
      dx_ = dy_ = dz_ = 0;
      Reply(kAck);
      break;
    case 0xEB:  // Read data (remote mode): one packet, even without motion.
      Reply(kAck);
      QueuePacket();
      break;
    case 0xEC:
      wrap_mode_ = false;
      Reply(kAck);
      break;
    case 0xEE:
      wrap_mode_ = true;
      Reply(kAck);
      break;
    case 0xF0:  // Set remote mode.
      remote_mode_ = true;
      dx_ = dy_ = dz_ = 0;
      Reply(kAck);
      break;
    case 0xF2:  // Get device ID.
      Reply(kAck);
      Reply(device_id_);
      break;
    case 0xF4:
      reporting_ = true;
      Reply(kAck);
      break;
    case 0xF5:
      reporting_ = false;
      Reply(kAck);
      break;
    case 0xF6:
      SetDefaults();
      Reply(kAck);
      break;
    case 0xFE:
      Reply(last_sent_);
      break;
    case 0xFF:  // Reset: ACK, BAT passed, device ID 0.
      SetDefaults();
      wrap_mode_ = false;
      device_id_ = 0;
      Reply(kAck);
      Reply(kSelfTestPassed);
      Reply(0x00);
      break;
    default:
      Reply(kResend);
      break;
  }
}

void Ps2Mouse::InjectMotion(int dx, int dy, int dz, uint8_t buttons) {
  // Stream mode with reporting off ignores the mouse (as QEMU); remote mode
  // keeps counting for the next 0xEB.
  if (!remote_mode_ && !reporting_) return;
  // Bounded so a flood of host events cannot overflow the counters.
  static constexpr int64_t kLimit = 1 << 20;
  auto add = [](int32_t acc, int64_t delta) {
    return static_cast<int32_t>(
        std::clamp<int64_t>(acc + delta, -kLimit, kLimit));
  };
  dx_ = add(dx_, dx);
  dy_ = add(dy_, -static_cast<int64_t>(dy));  // PS/2 counts up as positive.
  dz_ = device_id_ == 0 ? 0 : add(dz_, dz);
  buttons_ = buttons & 0x1F;
  Sync();
}

void Ps2Mouse::QueuePacket() {
  int32_t dx = std::clamp<int32_t>(dx_, -256, 255);
  int32_t dy = std::clamp<int32_t>(dy_, -256, 255);
  // Byte 0: buttons, bit 3 always set, X/Y sign (the ninth bit of each).
  uint8_t b0 = static_cast<uint8_t>(0x08 | (buttons_ & 0x07) |
                                    (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0));
  queue_.Push(b0);
  queue_.Push(static_cast<uint8_t>(dx & 0xFF));
  queue_.Push(static_cast<uint8_t>(dy & 0xFF));
  int32_t dz = 0;
  if (device_id_ == 3) {
    dz = std::clamp<int32_t>(dz_, -128, 127);
    queue_.Push(static_cast<uint8_t>(dz & 0xFF));
  } else if (device_id_ == 4) {
    // Byte 3: 4-bit wheel, button 4 in bit 4, button 5 in bit 5.
    dz = std::clamp<int32_t>(dz_, -8, 7);
    queue_.Push(static_cast<uint8_t>((dz & 0x0F) | ((buttons_ & 0x18) << 1)));
  }
  dx_ -= dx;
  dy_ -= dy;
  dz_ -= dz;
  reported_buttons_ = buttons_;
}

void Ps2Mouse::Sync() {
  while (!remote_mode_ && reporting_ && queue_.free_space() >= packet_bytes() &&
         (dx_ != 0 || dy_ != 0 || dz_ != 0 || buttons_ != reported_buttons_)) {
    QueuePacket();
  }
}

uint8_t Ps2Mouse::Pop() {
  uint8_t byte = queue_.Pop();
  last_sent_ = byte;
  Sync();
  return byte;
}

void Ps2Mouse::Serialize(Serializer& s) {
  s.Section("ps2mouse", 1);
  queue_.Serialize(s);
  s(reporting_);
  s(remote_mode_);
  s(wrap_mode_);
  s(scaling_2to1_);
  s(sample_rate_);
  s(resolution_);
  s(device_id_);
  s(rate_history_);
  s(pending_command_);
  s(last_sent_);
  s(dx_);
  s(dy_);
  s(dz_);
  s(buttons_);
  s(reported_buttons_);
  if (s.loading()) {
    if (device_id_ != 3 && device_id_ != 4) device_id_ = 0;
    constexpr int32_t kLimit = 1 << 20;
    dx_ = std::clamp(dx_, -kLimit, kLimit);
    dy_ = std::clamp(dy_, -kLimit, kLimit);
    dz_ = std::clamp(dz_, -kLimit, kLimit);
  }
}

// ---------------------------------------------------------------------------
// I8042

I8042::I8042(IrqLine* irq1, IrqLine* irq12)
    : irq1_(irq1),
      irq12_(irq12),
      data_port_([this](uint64_t, size_t) -> uint64_t { return ReadData(); },
                 [this](uint64_t, size_t, uint64_t v) {
                   WriteData(static_cast<uint8_t>(v));
                 }),
      command_port_(
          [this](uint64_t, size_t) -> uint64_t { return ReadStatus(); },
          [this](uint64_t, size_t, uint64_t v) {
            WriteCommand(static_cast<uint8_t>(v));
          }),
      log_(Logger("i8042")) {
  Reset();
}

void I8042::Reset() {
  keyboard_.Reset();
  mouse_.Reset();
  std::fill(std::begin(ram_), std::end(ram_), 0);
  // Both interrupts enabled, nothing disabled, no translation, as QEMU's
  // power-on command byte; the BIOS sets its own (SeaBIOS: 0x61).
  ram_[0] = kCtrKbdInt | kCtrAuxInt;
  // Reset line deasserted, A20 enabled, unused lines high (QEMU's 0xCF).
  output_port_ = 0xCF;
  last_write_was_command_ = false;
  pending_command_ = 0;
  output_byte_ = 0;
  output_full_ = false;
  output_aux_ = false;
  controller_bytes_.clear();
  translate_break_ = false;
  UpdateIrqs(/*force=*/true);
}

bool I8042::irq1_wanted() const {
  return output_full_ && !output_aux_ && (ram_[0] & kCtrKbdInt) != 0;
}

bool I8042::irq12_wanted() const {
  return output_full_ && output_aux_ && (ram_[0] & kCtrAuxInt) != 0;
}

void I8042::UpdateIrqs(bool force) {
  bool irq1 = irq1_wanted();
  bool irq12 = irq12_wanted();
  if (irq1_ != nullptr && (force || irq1 != irq1_level_)) irq1_->SetLevel(irq1);
  if (irq12_ != nullptr && (force || irq12 != irq12_level_))
    irq12_->SetLevel(irq12);
  irq1_level_ = irq1;
  irq12_level_ = irq12;
}

void I8042::Refill() {
  if (output_full_) return;
  if (!controller_bytes_.empty()) {
    uint16_t entry = controller_bytes_.front();
    controller_bytes_.pop_front();
    output_byte_ = static_cast<uint8_t>(entry);
    output_aux_ = (entry & 0x100) != 0;
    output_full_ = true;
    return;
  }
  // The keyboard wins over the mouse when both have data (as QEMU and the
  // 8042 firmware poll the keyboard first).
  if ((ram_[0] & kCtrKbdDisable) == 0) {
    while (keyboard_.HasData()) {
      uint8_t byte = keyboard_.Pop();
      if (ram_[0] & kCtrTranslate) {
        // The break prefix is swallowed and becomes bit 7 of the next byte.
        if (byte == 0xF0) {
          translate_break_ = true;
          continue;
        }
        byte = static_cast<uint8_t>(TranslateSet2ToSet1(byte) |
                                    (translate_break_ ? 0x80 : 0));
        translate_break_ = false;
      }
      output_byte_ = byte;
      output_aux_ = false;
      output_full_ = true;
      return;
    }
  }
  if ((ram_[0] & kCtrAuxDisable) == 0 && mouse_.HasData()) {
    output_byte_ = mouse_.Pop();
    output_aux_ = true;
    output_full_ = true;
  }
}

void I8042::QueueControllerByte(uint8_t byte, bool aux) {
  if (controller_bytes_.size() >= kMaxControllerBytes) return;
  controller_bytes_.push_back(static_cast<uint16_t>(byte | (aux ? 0x100 : 0)));
}

uint8_t I8042::ReadData() {
  uint8_t value = output_byte_;
  if (output_full_) {
    // Drop the line first so a following byte makes a fresh edge.
    output_full_ = false;
    UpdateIrqs();
    Refill();
    UpdateIrqs();
  }
  // An empty buffer reads back the last byte, as on real controllers.
  return value;
}

uint8_t I8042::ReadStatus() const {
  // The input buffer is never full: writes are consumed at once.
  uint8_t status = kStatusUnlocked | (ram_[0] & kCtrSystem);
  if (last_write_was_command_) status |= kStatusCommand;
  if (output_full_) status |= kStatusOutputFull;
  if (output_full_ && output_aux_) status |= kStatusAuxData;
  return status;
}

void I8042::RequestReset() {
  if (reset_requested_) reset_requested_();
}

void I8042::WriteOutputPort(uint8_t value) {
  uint8_t old = output_port_;
  output_port_ = value;
  if (((old ^ value) & kOutA20) != 0 && a20_changed_) {
    a20_changed_((value & kOutA20) != 0);
  }
  if ((value & kOutResetDeasserted) == 0) RequestReset();
}

void I8042::WriteCommand(uint8_t command) {
  last_write_was_command_ = true;
  pending_command_ = 0;  // A new command abandons one waiting for data.
  if (command >= 0x20 && command <= 0x3F) {
    // Read controller RAM; 0x20 is the command byte.
    QueueControllerByte(ram_[command & 0x1F], false);
  } else if ((command >= 0x60 && command <= 0x7F) ||
             (command >= 0xD1 && command <= 0xD4)) {
    pending_command_ = command;  // Write RAM / output port / loopbacks.
  } else if (command >= 0xF0) {
    // Pulse output port lines 0-3 low for each clear bit; only line 0 (CPU
    // reset) does anything on a PC. 0xFE is the classic reboot.
    if ((command & 0x01) == 0) RequestReset();
  } else {
    switch (command) {
      case 0xA4:  // Password installed?  0xF1: no.
        QueueControllerByte(0xF1, false);
        break;
      case 0xA7:  // Disable the mouse interface.
        ram_[0] |= kCtrAuxDisable;
        break;
      case 0xA8:  // Enable the mouse interface.
        ram_[0] &= static_cast<uint8_t>(~kCtrAuxDisable);
        break;
      case 0xA9:  // Mouse interface test: 0 means no error.
        QueueControllerByte(0x00, false);
        break;
      case 0xAA:  // Controller self test: 0x55 passed; sets the system flag.
        ram_[0] |= kCtrSystem;
        QueueControllerByte(0x55, false);
        break;
      case 0xAB:  // Keyboard interface test: 0 means no error.
        QueueControllerByte(0x00, false);
        break;
      case 0xAD:  // Disable the keyboard interface.
        ram_[0] |= kCtrKbdDisable;
        break;
      case 0xAE:  // Enable the keyboard interface.
        ram_[0] &= static_cast<uint8_t>(~kCtrKbdDisable);
        break;
      case 0xC0:  // Read input port: bit 7 = keyboard not inhibited.
        QueueControllerByte(0x80, false);
        break;
      case 0xD0: {  // Read output port; bits 4/5 mirror the buffer state.
        uint8_t value =
            static_cast<uint8_t>(output_port_ & ~(kOutKbdFull | kOutAuxFull));
        if (output_full_) value |= output_aux_ ? kOutAuxFull : kOutKbdFull;
        QueueControllerByte(value, false);
        break;
      }
      case 0xDD:  // A20 off / on (HP Vectra commands, also in QEMU).
        WriteOutputPort(static_cast<uint8_t>(output_port_ & ~kOutA20));
        break;
      case 0xDF:
        WriteOutputPort(output_port_ | kOutA20);
        break;
      case 0xE0:  // Read test inputs (keyboard clock/data).
        QueueControllerByte(0x00, false);
        break;
      default:
        if (unknown_command_log_.Allow()) {
          log_->info("unknown controller command {:#04x} ignored", command);
        }
        break;
    }
  }
  Refill();
  UpdateIrqs();
}

void I8042::WriteData(uint8_t value) {
  last_write_was_command_ = false;
  uint8_t command = pending_command_;
  pending_command_ = 0;
  if (command >= 0x60 && command <= 0x7F) {
    ram_[command & 0x1F] = value;
  } else if (command == 0xD1) {
    WriteOutputPort(value);
  } else if (command == 0xD2) {  // As if the keyboard had sent it.
    QueueControllerByte(value, false);
  } else if (command == 0xD3) {  // As if the mouse had sent it.
    QueueControllerByte(value, true);
  } else if (command == 0xD4) {
    // Talking to a device re-enables its interface (AMI 8042s, and QEMU).
    ram_[0] &= static_cast<uint8_t>(~kCtrAuxDisable);
    mouse_.Write(value);
  } else {
    ram_[0] &= static_cast<uint8_t>(~kCtrKbdDisable);
    keyboard_.Write(value);
  }
  Refill();
  UpdateIrqs();
}

void I8042::KeyEvent(std::span<const uint8_t> set2_bytes) {
  keyboard_.InjectSet2(set2_bytes);
  Refill();
  UpdateIrqs();
}

void I8042::KeyPress(uint16_t key_code, bool pressed) {
  if (key_code == kPs2KeyPause) {
    // Pause has only a make sequence.
    static constexpr uint8_t kPause[] = {0xE1, 0x14, 0x77, 0xE1,
                                         0xF0, 0x14, 0xF0, 0x77};
    if (pressed) KeyEvent(kPause);
    return;
  }
  if (key_code == kPs2KeyPrintScreen) {
    static constexpr uint8_t kMake[] = {0xE0, 0x12, 0xE0, 0x7C};
    static constexpr uint8_t kBreak[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
    if (pressed) {
      KeyEvent(kMake);
    } else {
      KeyEvent(kBreak);
    }
    return;
  }
  uint8_t prefix = static_cast<uint8_t>(key_code >> 8);
  if (prefix != 0 && prefix != 0xE0) return;  // Not a key code we define.
  uint8_t bytes[3];
  size_t n = 0;
  if (prefix == 0xE0) bytes[n++] = 0xE0;
  if (!pressed) bytes[n++] = 0xF0;
  bytes[n++] = static_cast<uint8_t>(key_code);
  KeyEvent(std::span<const uint8_t>(bytes, n));
}

void I8042::MouseEvent(int dx, int dy, uint8_t buttons, int dz) {
  mouse_.InjectMotion(dx, dy, dz, buttons);
  Refill();
  UpdateIrqs();
}

void I8042::Serialize(Serializer& s) {
  s.Section("i8042", 1);
  s(ram_);
  s(output_port_);
  s(last_write_was_command_);
  s(pending_command_);
  s(output_byte_);
  s(output_full_);
  s(output_aux_);
  std::vector<uint16_t> controller(controller_bytes_.begin(),
                                   controller_bytes_.end());
  s(controller, kMaxControllerBytes);
  if (s.loading()) {
    controller_bytes_.clear();
    for (uint16_t entry : controller)
      controller_bytes_.push_back(entry & 0x1FF);
  }
  s(translate_break_);
  keyboard_.Serialize(s);
  mouse_.Serialize(s);
  // The IRQ outputs are derived state: drive them to match what was loaded.
  if (s.loading()) UpdateIrqs(/*force=*/true);
}

// ---------------------------------------------------------------------------
// SystemControlPortA

void SystemControlPortA::Read(uint64_t offset, std::span<uint8_t> data) {
  StoreLe(data, offset == 0 ? value_ : 0xFF);
}

void SystemControlPortA::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0 || data.empty()) return;
  uint8_t old = value_;
  value_ = data[0];
  if (((old ^ value_) & kA20) != 0 && a20_changed_)
    a20_changed_((value_ & kA20) != 0);
  // PIIX4 datasheet 4.1.9 (Port 92h): a 0->1 transition of bit 0 resets.
  if ((value_ & kFastReset) != 0 && (old & kFastReset) == 0 &&
      reset_requested_) {
    reset_requested_();
  }
}

void SystemControlPortA::Serialize(Serializer& s) {
  s.Section("port92", 1);
  s(value_);
}

}  // namespace x86vm
