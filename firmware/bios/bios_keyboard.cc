// INT 16h and IRQ 1: scan code set 1 (the i8042 translates) into BIOS key
// codes in the BDA ring buffer, plus COM1 input as keys so a headless guest
// can be typed at (Ralf Brown's Interrupt List INT 09h/16h; the IBM PC/AT
// Technical Reference key code tables, as SeaBIOS's kbd.c also lists them).
#include <array>
#include <cstring>

#include "firmware/bios/bios_bda.h"
#include "firmware/bios/bios_services.h"

namespace x86vm {
namespace {

constexpr uint16_t kCom1 = 0x3f8;
constexpr uint16_t kPic1Command = 0x20;
constexpr uint8_t kEoi = 0x20;

// Key codes of one scan code: plain, with Shift, Ctrl and Alt (0: none).
struct KeyCodes {
  uint16_t normal = 0, shift = 0, ctrl = 0, alt = 0;
};

constexpr std::array<KeyCodes, 0x59> BuildKeyTable() {
  std::array<KeyCodes, 0x59> t{};
  auto letters = [&t](uint8_t first_scan, const char* row) {
    for (uint8_t i = 0; row[i] != 0; ++i) {
      auto scan = static_cast<uint16_t>(first_scan + i);
      auto ch = static_cast<uint16_t>(row[i]);
      t[scan] = {
          static_cast<uint16_t>(scan << 8 | ch), static_cast<uint16_t>(scan << 8 | (ch - 0x20)),
          static_cast<uint16_t>(scan << 8 | (ch - 'a' + 1)), static_cast<uint16_t>(scan << 8)};
    }
  };
  letters(0x10, "qwertyuiop");
  letters(0x1e, "asdfghjkl");
  letters(0x2c, "zxcvbnm");
  t[0x01] = {0x011b, 0x011b, 0x011b, 0x0100};
  t[0x02] = {0x0231, 0x0221, 0, 0x7800};
  t[0x03] = {0x0332, 0x0340, 0x0300, 0x7900};
  t[0x04] = {0x0433, 0x0423, 0, 0x7a00};
  t[0x05] = {0x0534, 0x0524, 0, 0x7b00};
  t[0x06] = {0x0635, 0x0625, 0, 0x7c00};
  t[0x07] = {0x0736, 0x075e, 0x071e, 0x7d00};
  t[0x08] = {0x0837, 0x0826, 0, 0x7e00};
  t[0x09] = {0x0938, 0x092a, 0, 0x7f00};
  t[0x0a] = {0x0a39, 0x0a28, 0, 0x8000};
  t[0x0b] = {0x0b30, 0x0b29, 0, 0x8100};
  t[0x0c] = {0x0c2d, 0x0c5f, 0x0c1f, 0x8200};
  t[0x0d] = {0x0d3d, 0x0d2b, 0, 0x8300};
  t[0x0e] = {0x0e08, 0x0e08, 0x0e7f, 0};
  t[0x0f] = {0x0f09, 0x0f00, 0, 0};
  t[0x1a] = {0x1a5b, 0x1a7b, 0x1a1b, 0};
  t[0x1b] = {0x1b5d, 0x1b7d, 0x1b1d, 0};
  t[0x1c] = {0x1c0d, 0x1c0d, 0x1c0a, 0};
  t[0x27] = {0x273b, 0x273a, 0, 0};
  t[0x28] = {0x2827, 0x2822, 0, 0};
  t[0x29] = {0x2960, 0x297e, 0, 0};
  t[0x2b] = {0x2b5c, 0x2b7c, 0x2b1c, 0};
  t[0x33] = {0x332c, 0x333c, 0, 0};
  t[0x34] = {0x342e, 0x343e, 0, 0};
  t[0x35] = {0x352f, 0x353f, 0, 0};
  t[0x37] = {0x372a, 0x372a, 0, 0};
  t[0x39] = {0x3920, 0x3920, 0x3920, 0x3920};
  for (uint16_t f = 0; f < 10; ++f) {  // F1-F10.
    t[0x3b + f] = {static_cast<uint16_t>((0x3b + f) << 8), static_cast<uint16_t>((0x54 + f) << 8),
                   static_cast<uint16_t>((0x5e + f) << 8), static_cast<uint16_t>((0x68 + f) << 8)};
  }
  // Keypad: navigation plain, digits with Shift (or Num Lock).
  t[0x47] = {0x4700, 0x4737, 0x7700, 0};
  t[0x48] = {0x4800, 0x4838, 0, 0};
  t[0x49] = {0x4900, 0x4939, 0x8400, 0};
  t[0x4a] = {0x4a2d, 0x4a2d, 0, 0};
  t[0x4b] = {0x4b00, 0x4b34, 0x7300, 0};
  t[0x4c] = {0x4c00, 0x4c35, 0, 0};
  t[0x4d] = {0x4d00, 0x4d36, 0x7400, 0};
  t[0x4e] = {0x4e2b, 0x4e2b, 0, 0};
  t[0x4f] = {0x4f00, 0x4f31, 0x7500, 0};
  t[0x50] = {0x5000, 0x5032, 0, 0};
  t[0x51] = {0x5100, 0x5133, 0x7600, 0};
  t[0x52] = {0x5200, 0x5230, 0, 0};
  t[0x53] = {0x5300, 0x532e, 0, 0};
  t[0x57] = {0x8500, 0x8700, 0x8900, 0x8b00};  // F11.
  t[0x58] = {0x8600, 0x8800, 0x8a00, 0x8c00};  // F12.
  return t;
}

constexpr std::array<KeyCodes, 0x59> kKeys = BuildKeyTable();

bool IsLetter(uint16_t key) {
  uint8_t ch = static_cast<uint8_t>(key);
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

// The key a byte from the serial line stands for: the scan code of the
// character on a US keyboard, so programs that look at AH work too.
uint16_t SerialByteToKey(uint8_t ch) {
  switch (ch) {
    case '\r':
    case '\n':  // Piped input ends lines with LF: both are Enter.
      return 0x1c0d;
    case 0x7f:  // Terminals send DEL for Backspace.
    case 0x08:
      return 0x0e08;
    case 0x1b:
      return 0x011b;
    case '\t':
      return 0x0f09;
  }
  for (const KeyCodes& k : kKeys) {
    for (uint16_t code : {k.normal, k.shift, k.ctrl}) {
      if (code != 0 && static_cast<uint8_t>(code) == ch) return code;
    }
  }
  return ch;  // No key makes it (e.g. 8-bit characters): scan code 0.
}

}  // namespace

std::pair<uint16_t, uint16_t> BiosServices::KeyBufferBounds() {
  // The buffer may be moved by a program (BDA 80h/82h); bad values fall
  // back to the default 16 words.
  uint16_t start = Read16(bda::kKbdBufferStart);
  uint16_t end = Read16(bda::kKbdBufferEnd);
  if (start < 0x1e || end <= start + 2 || end > 0x100 || (end - start) % 2 != 0) {
    return {bda::kKbdBufferDefault, bda::kKbdBufferEndDefault};
  }
  return {start, end};
}

bool BiosServices::KeyBufferFull() {
  auto [start, end] = KeyBufferBounds();
  uint16_t tail = Read16(bda::kKbdTail);
  uint16_t next = static_cast<uint16_t>(tail + 2);
  if (next >= end) next = start;
  return next == Read16(bda::kKbdHead);
}

bool BiosServices::PushKey(uint16_t key) {
  if (KeyBufferFull()) return false;  // The key is lost, as on a PC.
  auto [start, end] = KeyBufferBounds();
  uint16_t tail = Read16(bda::kKbdTail);
  uint16_t next = static_cast<uint16_t>(tail + 2);
  if (next >= end) next = start;
  Write16(bios_abi::kBdaBase + tail, key);
  Write16(bda::kKbdTail, next);
  return true;
}

std::optional<uint16_t> BiosServices::PeekKey(bool remove) {
  uint16_t head = Read16(bda::kKbdHead);
  uint16_t tail = Read16(bda::kKbdTail);
  if (head == tail) return std::nullopt;
  uint16_t key = Read16(bios_abi::kBdaBase + head);
  if (remove) {
    auto [start, end] = KeyBufferBounds();
    head = static_cast<uint16_t>(head + 2);
    if (head >= end) head = start;
    Write16(bda::kKbdHead, head);
  }
  return key;
}

void BiosServices::PollSerialInput() {
  // One byte at a time, and only into an empty buffer: the rest of the
  // type-ahead stays in the UART (and the host backend behind it), so a boot
  // loader that only peeks does not swallow input meant for the OS.
  if (PeekKey(/*remove=*/false)) return;
  Bus& pio = *env_.pio;
  if (pio.ReadValue(kCom1 + 3, 1) & 0x80) return;     // Divisor latch open.
  if (!(pio.ReadValue(kCom1 + 5, 1) & 0x01)) return;  // LSR: no data ready.
  PushKey(SerialByteToKey(static_cast<uint8_t>(pio.ReadValue(kCom1, 1))));
}

void BiosServices::ProcessScanCode(uint8_t code) {
  uint8_t flags0 = Read8(bda::kKbdFlags0);
  uint8_t flags3 = Read8(bda::kKbdFlags3);
  if (code == 0xe0) {
    Write8(bda::kKbdFlags3, flags3 | bda::kLastE0);
    return;
  }
  bool e0 = flags3 & bda::kLastE0;
  Write8(bda::kKbdFlags3, flags3 & ~bda::kLastE0);
  if (code == 0xe1) return;  // Pause: not reported.
  bool release = code & 0x80;
  uint8_t scan = code & 0x7f;

  auto shift_key = [&](uint8_t bit) {
    flags0 = release ? flags0 & ~bit : flags0 | bit;
    Write8(bda::kKbdFlags0, flags0);
  };
  auto toggle_key = [&](uint8_t bit) {
    if (!release) Write8(bda::kKbdFlags0, flags0 ^ bit);
  };
  switch (scan) {
    case 0x2a:
      if (!e0) shift_key(bda::kLeftShift);  // E0 2A is a fake shift.
      return;
    case 0x36:
      if (!e0) shift_key(bda::kRightShift);
      return;
    case 0x1d:
      return shift_key(bda::kCtrl);
    case 0x38:
      return shift_key(bda::kAlt);
    case 0x3a:
      return toggle_key(bda::kCapsLock);
    case 0x45:
      return toggle_key(bda::kNumLock);
    case 0x46:
      return toggle_key(bda::kScrollLock);
  }
  if (release || scan >= kKeys.size()) return;

  const KeyCodes& k = kKeys[scan];
  bool shift = flags0 & (bda::kLeftShift | bda::kRightShift);
  uint16_t key;
  if (e0) {
    // The grey keys of a 101-key keyboard: their own code with E0 in AL.
    if (scan == 0x1c) {
      key = 0xe00d;
    } else if (scan == 0x35) {
      key = 0xe02f;
    } else if (scan >= 0x47 && scan <= 0x53) {
      key = static_cast<uint16_t>((k.normal & 0xff00) | 0xe0);
    } else {
      key = k.normal;
    }
  } else if (flags0 & bda::kAlt) {
    key = k.alt;
  } else if (flags0 & bda::kCtrl) {
    key = k.ctrl;
  } else if (scan >= 0x47 && scan <= 0x53 && scan != 0x4a && scan != 0x4e) {
    key = (shift != bool(flags0 & bda::kNumLock)) ? k.shift : k.normal;
  } else if (IsLetter(k.normal)) {
    key = (shift != bool(flags0 & bda::kCapsLock)) ? k.shift : k.normal;
  } else {
    key = shift ? k.shift : k.normal;
  }
  if (key != 0) PushKey(key);
}

void BiosServices::Irq1Keyboard(BiosRegs& r) {
  // The stub read port 60h and passed the code through INT 15h AH=4Fh; AL
  // holds what is left to process.
  ProcessScanCode(r.al());
  env_.pio->WriteValue(kPic1Command, 1, kEoi);
}

void BiosServices::Int16Keyboard(BiosRegs& r) {
  uint8_t function = r.ah();
  bool extended = function >= 0x10;
  // Keys for the basic functions: E0 grey-key codes become plain ones.
  auto basic = [extended](uint16_t key) {
    if (!extended && (key & 0xff) == 0xe0 && (key >> 8) != 0)
      return static_cast<uint16_t>(key & 0xff00);
    return key;
  };
  switch (function) {
    case 0x00:
    case 0x10: {
      PollSerialInput();
      auto key = PeekKey(/*remove=*/true);
      if (!key) {
        r.action = bios_abi::kActionWait;  // Halt until an interrupt, then retry.
        return;
      }
      r.set_ax(basic(*key));
      return;
    }
    case 0x01:
    case 0x11: {
      PollSerialInput();
      auto key = PeekKey(/*remove=*/false);
      r.set_zf(!key);
      if (key) r.set_ax(basic(*key));
      return;
    }
    case 0x02:
      r.set_al(Read8(bda::kKbdFlags0));
      return;
    case 0x12: {
      uint8_t flags0 = Read8(bda::kKbdFlags0);
      uint8_t flags1 = Read8(bda::kKbdFlags1);
      r.set_al(flags0);
      // AH: Ctrl/Alt held (bits 2, 3 approximated from flags0) and the lock keys held.
      r.set_ah(static_cast<uint8_t>((flags1 & 0x70) | ((flags0 & bda::kCtrl) ? 0x01 : 0) |
                                    ((flags0 & bda::kAlt) ? 0x02 : 0)));
      return;
    }
    case 0x03:  // Typematic rate: accepted, nothing to program.
      return;
    case 0x05:  // Store key CX.
      r.set_al(PushKey(r.cx()) ? 0 : 1);
      return;
    case 0x09:  // Capabilities: 10h-12h supported.
      r.set_al(0x20);
      return;
    case 0x0a:  // Keyboard ID: MF2.
      r.set_bx(0x83ab);
      return;
    default:
      if (unsupported_log_.Allow()) log_->debug("INT 16h AX={:04x}: unsupported", r.ax());
      return;
  }
}

}  // namespace x86vm
