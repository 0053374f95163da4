// The I/O APIC (Intel 82093AA datasheet; ICH IOxAPIC, version 0x20 adds the
// EOI register): 24 input pins, each routed by a redirection table entry to
// local APICs as an interrupt message.
#ifndef X86VM_DEVICES_IOAPIC_H_
#define X86VM_DEVICES_IOAPIC_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "base/log.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

class IoApic : public Device, public BusTarget {
 public:
  // Where the board maps the registers, and the window size it maps.
  static constexpr uint64_t kDefaultBase = 0xFEC00000;
  static constexpr uint64_t kMmioSize = 0x1000;
  // Number of input pins (IOAPICVER max redirection entry + 1).
  static constexpr int kPins = 24;

  // Sends one interrupt message: 8-bit destination, logical (true) or
  // physical mode, vector, delivery mode (0 fixed, 1 lowest priority, 2 SMI,
  // 4 NMI, 5 INIT, 7 ExtINT) and trigger mode. Returns true when some local
  // APIC accepted it (ApicRouter::DeliverMessage fits).
  using DeliverFn =
      std::function<bool(uint8_t destination, bool logical, uint8_t vector,
                         int delivery_mode, bool level)>;

  // `id` is the IOAPIC ID after reset (as in the MADT/MP table); `version`
  // is 0x11 (82093AA) or 0x20 (with the EOI register at 0x40).
  explicit IoApic(uint8_t id = 0, uint8_t version = 0x20);
  IoApic(const IoApic&) = delete;
  IoApic& operator=(const IoApic&) = delete;

  // Where interrupt messages go (the board's APIC router).
  void set_delivery(DeliverFn fn) { deliver_ = std::move(fn); }
  // Input pin `pin` (0-23) as a physical wire level; nullptr when out of
  // range. Polarity in the redirection entry decides which level is active.
  IrqLine* input(int pin);
  // EOI for `vector` broadcast by a local APIC (LocalApic::set_eoi_broadcast).
  void Eoi(uint8_t vector);

  // --- Device ---
  std::string_view name() const override { return "ioapic"; }
  void Reset() override;
  void Serialize(Serializer& s) override;

  // --- MMIO: IOREGSEL at 0x00, IOWIN at 0x10, EOI at 0x40 ---
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  class PinLine : public IrqLine {
   public:
    PinLine() = default;
    void Bind(IoApic* owner, int pin) {
      owner_ = owner;
      pin_ = pin;
    }
    void SetLevel(bool high) override { owner_->SetPinLevel(pin_, high); }

   private:
    IoApic* owner_ = nullptr;
    int pin_ = 0;
  };

  uint32_t ReadRegister(uint8_t index) const;
  void WriteRegister(uint8_t index, uint32_t value);
  void SetPinLevel(int pin, bool high);
  // True when the pin's wire is at its active level (polarity applied).
  bool PinActive(int pin) const;
  // Delivers whatever the pin has pending, if it may.
  void Service(int pin);
  bool Send(int pin);

  uint8_t reset_id_;
  uint8_t version_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter bad_access_log_;
  DeliverFn deliver_;
  std::array<PinLine, kPins> lines_;

  // Guest-visible state (all serialized).
  uint8_t id_ = 0;
  uint8_t ioregsel_ = 0;
  std::array<uint64_t, kPins> redirection_{};
  uint32_t wire_levels_ = 0;    // Bit per pin: the wire is high.
  uint32_t pending_edges_ = 0;  // Bit per pin: an edge not yet delivered.
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_IOAPIC_H_
