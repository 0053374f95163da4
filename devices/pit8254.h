// Intel 8254 programmable interval timer at ports 0x40-0x43, and the PC's
// "system control port B" at 0x61 that gates channel 2 and reads its output.
//
// The counters are never ticked: every counting element value and OUT level
// is computed from the 1.193182 MHz input clock derived from VirtualClock
// nanoseconds (clock pulse k happens at the first ns where
// floor(ns * 1193182 / 1e9) == k). Channel 0's OUT drives IRQ0 through a
// Timer armed at its next transition.
//
// Timing follows the Intel 8254 datasheet (order 231164), "Mode Definitions":
// a count written at clock k is loaded into the counting element on pulse
// k + 1 and counting starts with the pulse after that; GATE is honoured per
// mode (modes 0/4 suspend, 2/3 suspend and restart, 1/5 trigger).
#ifndef X86VM_DEVICES_PIT8254_H_
#define X86VM_DEVICES_PIT8254_H_

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "base/log.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

class Pit8254 : public Device, public BusTarget {
 public:
  // Register the port window at kPortBase with kPortCount ports
  // (0x40-0x42 counters 0-2, 0x43 control word).
  static constexpr uint64_t kPortBase = 0x40;
  static constexpr uint64_t kPortCount = 4;
  // The PC's PIT input clock: 14.31818 MHz / 12.
  static constexpr uint64_t kClockHz = 1193182;
  // Number of counters.
  static constexpr int kChannels = 3;

  // `irq0` receives channel 0's OUT (may be null in tests); it is driven
  // from construction on, since Reset() starts every channel in mode 3.
  Pit8254(VirtualClock& clock, IrqLine* irq0);

  std::string_view name() const override { return "pit"; }
  // As QEMU: every channel in mode 3 with count 0x10000, channel 0 and 1
  // gates high, channel 2 gate low (port 0x61 resets to 0).
  void Reset() override;
  void Serialize(Serializer& s) override;

  // Port window at kPortBase; multi-byte accesses act byte by byte.
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Drives a channel's GATE input (channel 2: port 0x61 bit 0; 0 and 1 are
  // tied high on a PC). Out-of-range channels are ignored.
  void SetGate(int channel, bool high);
  // A channel's OUT level now (channel 2: port 0x61 bit 5).
  bool Output(int channel);
  // For a speaker backend: channel 2's square-wave frequency in mHz when it
  // runs in mode 3 with its gate high, else 0.
  uint64_t Channel2ToneMilliHz();

  // Input clock pulses that have happened by virtual time `ns`.
  static uint64_t TicksAt(uint64_t ns);
  // The first virtual ns at which TicksAt() reaches `tick`.
  static uint64_t NsOfTick(uint64_t tick);

 private:
  static constexpr int64_t kNeverTick = std::numeric_limits<int64_t>::max();

  // Where a channel is between control word, count and trigger.
  enum class State : uint8_t {
    kIdle,       // Control word written, no complete count yet.
    kArmed,      // Modes 1/5: count written, waiting for a GATE trigger.
    kRunning,    // Counting from base_tick (loaded then).
    kSuspended,  // GATE low in modes 0/2/3/4: the element holds pre_raw.
  };
  // Which byte the next read of a latched count returns.
  enum class Latch : uint8_t { kNone, kLow, kHigh, kWordLow, kWordHigh };

  struct Channel {
    uint8_t mode_bits = 3;  // M2-M0 as programmed (reported by read-back).
    uint8_t mode = 3;       // Effective mode 0-5 (6/7 alias 2/3).
    uint8_t access = 3;     // RW bits: 1 LSB, 2 MSB, 3 LSB then MSB.
    bool bcd = false;
    uint16_t cr = 0;  // Count register as last written.
    uint8_t cr_lsb = 0;
    bool write_msb_next = false;
    bool read_msb_next = false;
    Latch latch = Latch::kNone;
    uint16_t latched_count = 0;
    bool status_latched = false;
    uint8_t latched_status = 0;
    bool gate = true;
    State state = State::kIdle;
    // The counting element. While kRunning and from base_tick on: modes
    // 0/1/4/5 hold base_raw - (k - base_tick), unbounded below so the first
    // terminal count is known; modes 2/3 cycle with period n, `phase` ticks
    // into the cycle at base_tick. Otherwise (and before base_tick) the
    // element holds pre_raw and OUT is pre_out.
    int64_t n = 0x10000;
    int64_t base_tick = 0;
    int64_t base_raw = 0;
    int64_t phase = 0;
    int64_t pre_raw = 0;
    bool pre_out = true;
    // Modes 2/3: a count written while counting, loaded at pending_tick (end
    // of the period, or of the half cycle in mode 3).
    bool pending = false;
    int64_t pending_n = 1;
    int64_t pending_tick = 0;
    int64_t pending_phase = 0;
    // The count register is not yet in the element before this tick
    // (status bit 6, NULL COUNT).
    int64_t null_until = kNeverTick;
    // OUT transitions are processed up to synced_tick; `out` is OUT there.
    int64_t synced_tick = 0;
    bool out = true;
  };

  int64_t NowTick() const;
  // The count a written value stands for (0 means 2^16, or 10^4 in BCD).
  static int64_t EffectiveCount(const Channel& c, uint16_t value);
  // The 16-bit register image of a raw element value (wrapped, BCD encoded).
  static uint16_t Display(const Channel& c, int64_t raw);
  static int64_t RawAt(const Channel& c, int64_t tick);
  static bool OutAt(const Channel& c, int64_t tick);
  // First tick after `tick` where OUT changes or a pending count loads.
  static int64_t NextEvent(const Channel& c, int64_t tick);
  static void Promote(Channel& c, int64_t tick);
  // Processes OUT transitions up to `tick` in order (so no IRQ0 edge is lost
  // when timers run late), collapsing long periodic runs into one edge.
  void Sync(int i, int64_t tick);
  void SetOut(int i, bool level);
  // Arms channel 0's timer at its next transition.
  void Reschedule(int i);
  void OnTimer();

  uint8_t ReadCounter(int i);
  void WriteCounter(int i, uint8_t value);
  void WriteControl(uint8_t value);
  void LoadCount(int i, int64_t tick, uint16_t value);
  void LatchCount(int i, int64_t tick);
  void LatchStatus(int i, int64_t tick);
  // Clamps loaded fields so a corrupt snapshot cannot divide by zero or
  // overflow.
  void Sanitize(int64_t now);

  VirtualClock& clock_;
  IrqLine* irq0_;
  std::array<Channel, kChannels> ch_;
  Timer timer_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter log_limit_;
};

// Port 0x61, system control port B (IBM AT; PIIX4 datasheet, NMI Status and
// Control register at 061h): bit 0 channel 2 gate, bit 1 speaker data
// enable, bits 2-3 parity/IOCHK check enables (stored), bit 4 refresh toggle,
// bit 5 channel 2 OUT, bits 6-7 NMI sources (always 0 here).
class Port61 : public Device, public BusTarget {
 public:
  // Register the one-port window at kPort.
  static constexpr uint64_t kPort = 0x61;
  // DRAM refresh requests come every 18 PIT clocks (15.08 us, the count the
  // AT BIOS put in channel 1); bit 4 flips on each.
  static constexpr uint64_t kRefreshTicks = 18;

  // `pit` must outlive this port.
  Port61(VirtualClock& clock, Pit8254& pit);

  std::string_view name() const override { return "port61"; }
  // Clears the register and drops channel 2's gate.
  void Reset() override;
  void Serialize(Serializer& s) override;

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // True when the speaker sounds channel 2 (gate and data enable both set).
  bool speaker_on() const { return (value_ & 0x03) == 0x03; }

 private:
  uint8_t ReadByte();

  VirtualClock& clock_;
  Pit8254& pit_;
  uint8_t value_ = 0;  // Bits 0-3 as written.
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_PIT8254_H_
