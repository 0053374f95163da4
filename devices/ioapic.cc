#include "devices/ioapic.h"

namespace x86vm {
namespace {

// Register indices behind IOREGSEL (82093AA 3.2).
constexpr uint8_t kRegId = 0x00;
constexpr uint8_t kRegVersion = 0x01;
constexpr uint8_t kRegArbitration = 0x02;
constexpr uint8_t kRegRedirection = 0x10;

// MMIO offsets (82093AA 3.1; ICH adds the EOI register).
constexpr uint64_t kOffIoRegSel = 0x00;
constexpr uint64_t kOffIoWin = 0x10;
constexpr uint64_t kOffEoi = 0x40;

// Redirection entry fields (82093AA 3.2.4).
constexpr uint64_t kRteVector = 0xFF;
constexpr int kRteModeShift = 8;
constexpr uint64_t kRteLogical = 1ull << 11;
constexpr uint64_t kRtePolarityLow = 1ull << 13;
constexpr uint64_t kRteRemoteIrr = 1ull << 14;
constexpr uint64_t kRteLevel = 1ull << 15;
constexpr uint64_t kRteMasked = 1ull << 16;
constexpr int kRteDestShift = 56;
// Writable: vector, delivery mode, destination mode, polarity, trigger mode,
// mask and the destination byte. Delivery status and remote IRR are read-only.
constexpr uint64_t kRteWritable = 0xFF000000'0001AFFFull;

}  // namespace

IoApic::IoApic(uint8_t id, uint8_t version)
    : reset_id_(id & 0xF), version_(version), log_(Logger("ioapic")) {
  for (int pin = 0; pin < kPins; ++pin) lines_[pin].Bind(this, pin);
  Reset();
}

IrqLine* IoApic::input(int pin) {
  if (pin < 0 || pin >= kPins) return nullptr;
  return &lines_[pin];
}

void IoApic::Reset() {
  // 82093AA 3.2.4: every entry comes out of reset masked. The wire levels
  // belong to the devices driving them and stay as they are.
  id_ = reset_id_;
  ioregsel_ = 0;
  redirection_.fill(kRteMasked);
  pending_edges_ = 0;
}

uint32_t IoApic::ReadRegister(uint8_t index) const {
  switch (index) {
    case kRegId:
      return uint32_t{id_} << 24;
    case kRegVersion:
      // Max redirection entry in 23:16, version in 7:0.
      return (uint32_t{kPins - 1} << 16) | version_;
    case kRegArbitration:
      // The arbitration ID is loaded from the ID (82093AA 3.2.3).
      return uint32_t{id_} << 24;
    default:
      break;
  }
  if (index >= kRegRedirection && index < kRegRedirection + 2 * kPins) {
    uint64_t entry = redirection_[(index - kRegRedirection) / 2];
    return static_cast<uint32_t>((index & 1) ? entry >> 32 : entry);
  }
  return 0;
}

void IoApic::WriteRegister(uint8_t index, uint32_t value) {
  if (index == kRegId) {
    id_ = (value >> 24) & 0xF;
    return;
  }
  if (index < kRegRedirection || index >= kRegRedirection + 2 * kPins) return;
  int pin = (index - kRegRedirection) / 2;
  uint64_t& entry = redirection_[pin];
  uint64_t written = (index & 1)
                         ? (entry & 0xFFFFFFFFull) | (uint64_t{value} << 32)
                         : (entry & ~0xFFFFFFFFull) | value;
  uint64_t old = entry;
  entry = (entry & ~kRteWritable) | (written & kRteWritable);
  // An edge held while masked was judged under the old polarity and trigger
  // mode; once they change it means nothing (and would be spurious when a
  // driver sets up an active-low pin whose wire idles high).
  if ((old ^ entry) & (kRtePolarityLow | kRteLevel))
    pending_edges_ &= ~(1u << pin);
  // Switching a pin to edge clears remote IRR: Linux relies on it to
  // unstick a level pin on a 0x11 IOAPIC that has no EOI register (KVM does
  // the same).
  if (!(entry & kRteLevel)) entry &= ~kRteRemoteIrr;
  Service(pin);
}

bool IoApic::PinActive(int pin) const {
  bool high = (wire_levels_ >> pin) & 1;
  bool active_low = (redirection_[pin] & kRtePolarityLow) != 0;
  return high != active_low;
}

void IoApic::SetPinLevel(int pin, bool high) {
  bool was_active = PinActive(pin);
  uint32_t bit = 1u << pin;
  wire_levels_ = high ? (wire_levels_ | bit) : (wire_levels_ & ~bit);
  bool active = PinActive(pin);
  if (redirection_[pin] & kRteLevel) {
    if (active) Service(pin);
    return;
  }
  // An edge is latched even while the pin is masked and delivered when it is
  // unmasked. The 82093AA drops such edges; QEMU, KVM and Bochs latch them,
  // and guests tolerate (and sometimes need) that.
  if (active && !was_active) {
    pending_edges_ |= bit;
    Service(pin);
  }
}

void IoApic::Service(int pin) {
  uint64_t& entry = redirection_[pin];
  if (entry & kRteMasked) return;
  uint32_t bit = 1u << pin;
  if (entry & kRteLevel) {
    // 82093AA 3.2.4: a level pin sends once and sets remote IRR; the next
    // message waits for the EOI.
    if (!PinActive(pin) || (entry & kRteRemoteIrr)) return;
    if (Send(pin)) entry |= kRteRemoteIrr;
    return;
  }
  if (!(pending_edges_ & bit)) return;
  pending_edges_ &= ~bit;
  Send(pin);
}

bool IoApic::Send(int pin) {
  uint64_t entry = redirection_[pin];
  int mode = static_cast<int>((entry >> kRteModeShift) & 7);
  if (mode == 3 || mode == 6) {
    // Reserved delivery modes (82093AA 3.2.4).
    if (bad_access_log_.Allow()) {
      log_->info("pin {}: reserved delivery mode {}, not sent (event {})", pin,
                 mode, bad_access_log_.events());
    }
    return false;
  }
  if (!deliver_) return false;
  return deliver_(
      static_cast<uint8_t>(entry >> kRteDestShift), (entry & kRteLogical) != 0,
      static_cast<uint8_t>(entry & kRteVector), mode, (entry & kRteLevel) != 0);
}

void IoApic::Eoi(uint8_t vector) {
  // Every level pin with this vector waiting on remote IRR is released, and
  // sends again if its input is still active.
  for (int pin = 0; pin < kPins; ++pin) {
    uint64_t& entry = redirection_[pin];
    if ((entry & kRteLevel) && (entry & kRteRemoteIrr) &&
        (entry & kRteVector) == vector) {
      entry &= ~kRteRemoteIrr;
      Service(pin);
    }
  }
}

void IoApic::Read(uint64_t offset, std::span<uint8_t> data) {
  uint64_t value = 0;
  uint64_t base = 0;
  if (offset >= kOffIoRegSel && offset < kOffIoRegSel + 4) {
    value = ioregsel_;
    base = kOffIoRegSel;
  } else if (offset >= kOffIoWin && offset < kOffIoWin + 4) {
    value = ReadRegister(ioregsel_);
    base = kOffIoWin;
  } else {
    // EOI is write-only; everything else is unimplemented and reads 0.
    StoreLe(data, 0);
    return;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t pos = offset - base + i;
    data[i] = pos < 4 ? static_cast<uint8_t>(value >> (8 * pos)) : 0;
  }
}

void IoApic::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == kOffIoRegSel) {
    ioregsel_ = data[0];
    return;
  }
  if (offset >= kOffIoWin && offset < kOffIoWin + 4) {
    // The datasheet defines 32-bit IOWIN accesses; a narrower write merges
    // into the selected register.
    uint32_t value = ReadRegister(ioregsel_);
    for (size_t i = 0; i < data.size() && offset - kOffIoWin + i < 4; ++i) {
      int shift = static_cast<int>(8 * (offset - kOffIoWin + i));
      value = (value & ~(0xFFu << shift)) | (uint32_t{data[i]} << shift);
    }
    WriteRegister(ioregsel_, value);
    return;
  }
  if (offset == kOffEoi && version_ >= 0x20) {
    Eoi(data[0]);
    return;
  }
  if (bad_access_log_.Allow()) {
    log_->info("dropped {}-byte write at offset {:#x} (event {})", data.size(),
               offset, bad_access_log_.events());
  }
}

void IoApic::Serialize(Serializer& s) {
  s.Section("ioapic", 1);
  s(id_);
  s(ioregsel_);
  s(redirection_);
  s(wire_levels_);
  s(pending_edges_);
  if (s.loading()) {
    id_ &= 0xF;
    wire_levels_ &= (1u << kPins) - 1;
    pending_edges_ &= (1u << kPins) - 1;
  }
}

}  // namespace x86vm
