#include "devices/pit8254.h"

#include <algorithm>

namespace x86vm {
namespace {

constexpr uint64_t kNsPerSecond = 1000000000;

int64_t FloorMod(int64_t a, int64_t m) {
  int64_t r = a % m;
  return r < 0 ? r + m : r;
}

uint16_t ToBcd(int64_t value) {
  uint16_t out = 0;
  for (int digit = 0; digit < 4; ++digit) {
    out = static_cast<uint16_t>(out | ((value % 10) << (4 * digit)));
    value /= 10;
  }
  return out;
}

// Nibbles above 9 are taken at face value: the chip's BCD counter does not
// check them, and this keeps every written value meaningful.
int64_t FromBcd(uint16_t value) {
  int64_t out = 0;
  int64_t scale = 1;
  for (int digit = 0; digit < 4; ++digit) {
    out += ((value >> (4 * digit)) & 0xf) * scale;
    scale *= 10;
  }
  return out;
}

}  // namespace

uint64_t Pit8254::TicksAt(uint64_t ns) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * kClockHz /
                               kNsPerSecond);
}

uint64_t Pit8254::NsOfTick(uint64_t tick) {
  unsigned __int128 ns =
      (static_cast<unsigned __int128>(tick) * kNsPerSecond + kClockHz - 1) /
      kClockHz;
  constexpr uint64_t kLimit = VirtualClock::kNever - 1;
  return ns > kLimit ? kLimit : static_cast<uint64_t>(ns);
}

Pit8254::Pit8254(VirtualClock& clock, IrqLine* irq0)
    : clock_(clock),
      irq0_(irq0),
      timer_(clock, [this] { OnTimer(); }),
      log_(Logger("pit")) {
  Reset();
}

int64_t Pit8254::NowTick() const {
  return static_cast<int64_t>(TicksAt(clock_.now_ns()));
}

int64_t Pit8254::EffectiveCount(const Channel& c, uint16_t value) {
  if (value == 0) return c.bcd ? 10000 : 0x10000;
  return c.bcd ? FromBcd(value) : value;
}

uint16_t Pit8254::Display(const Channel& c, int64_t raw) {
  int64_t v = FloorMod(raw, c.bcd ? 10000 : 0x10000);
  return c.bcd ? ToBcd(v) : static_cast<uint16_t>(v);
}

int64_t Pit8254::RawAt(const Channel& c, int64_t tick) {
  if (c.state != State::kRunning || tick < c.base_tick) return c.pre_raw;
  int64_t d = tick - c.base_tick;
  switch (c.mode) {
    case 2:
      // Counts n..1; OUT is low while the element holds 1.
      return c.n - (d + c.phase) % c.n;
    case 3: {
      // Square wave: decrements by two each pulse and reloads at the end of
      // each half cycle. Odd counts load n - 1 and spend one extra pulse in
      // the high half (datasheet, Mode 3).
      int64_t p = (d + c.phase) % c.n;
      if (c.n % 2 == 0) return c.n - 2 * (p % (c.n / 2));
      int64_t high = (c.n + 1) / 2;
      return p < high ? c.n - 1 - 2 * p : c.n - 1 - 2 * (p - high);
    }
    default:
      return c.base_raw - d;
  }
}

bool Pit8254::OutAt(const Channel& c, int64_t tick) {
  if (c.state != State::kRunning || tick < c.base_tick) return c.pre_out;
  int64_t d = tick - c.base_tick;
  switch (c.mode) {
    case 0:  // High from terminal count on.
    case 1:  // Low from the trigger's load until terminal count.
      return c.base_raw - d <= 0;
    case 4:  // One-pulse low strobe at terminal count.
    case 5:
      return c.base_raw - d != 0;
    case 2:
      return (d + c.phase) % c.n != c.n - 1;
    default:
      return (d + c.phase) % c.n < (c.n + 1) / 2;
  }
}

int64_t Pit8254::NextEvent(const Channel& c, int64_t tick) {
  int64_t next = c.pending ? c.pending_tick : kNeverTick;
  if (c.state != State::kRunning) return next;
  if (tick < c.base_tick) {
    // The load pulse itself may change OUT (mode 1's trigger).
    if (OutAt(c, c.base_tick) != c.pre_out) return std::min(next, c.base_tick);
    tick = c.base_tick;
  }
  int64_t d = tick - c.base_tick;
  int64_t change = kNeverTick;
  switch (c.mode) {
    case 0:
    case 1: {
      int64_t raw = c.base_raw - d;
      if (raw > 0) change = tick + raw;
      break;
    }
    case 4:
    case 5: {
      int64_t raw = c.base_raw - d;
      if (raw > 0) change = tick + raw;
      if (raw == 0) change = tick + 1;
      break;
    }
    case 2: {
      if (c.n == 1) break;  // Datasheet: count 1 is illegal in mode 2.
      int64_t p = (d + c.phase) % c.n;
      change = p < c.n - 1 ? tick + (c.n - 1 - p) : tick + 1;
      break;
    }
    default: {
      if (c.n == 1) break;
      int64_t p = (d + c.phase) % c.n;
      int64_t high = (c.n + 1) / 2;
      change = p < high ? tick + (high - p) : tick + (c.n - p);
      break;
    }
  }
  return std::min(next, change);
}

void Pit8254::Promote(Channel& c, int64_t tick) {
  if (!c.pending || tick < c.pending_tick) return;
  c.n = c.pending_n;
  c.base_tick = c.pending_tick;
  c.phase = c.pending_phase;
  c.pending = false;
}

void Pit8254::SetOut(int i, bool level) {
  Channel& c = ch_[i];
  if (c.out == level) return;
  c.out = level;
  if (i == 0 && irq0_ != nullptr) irq0_->SetLevel(level);
}

void Pit8254::Sync(int i, int64_t tick) {
  Channel& c = ch_[i];
  if (tick < c.synced_tick) return;
  for (;;) {
    Promote(c, c.synced_tick);
    bool periodic = c.mode == 2 || c.mode == 3;
    if (periodic && c.state == State::kRunning && !c.pending &&
        c.synced_tick >= c.base_tick && tick - c.synced_tick > 2 * c.n) {
      // Timers ran late (host stall) or nobody looked for a long time: an
      // edge-triggered receiver can only latch one request anyway, so deliver
      // one rising edge instead of replaying every period.
      if (c.n > 1) {
        SetOut(i, false);
        SetOut(i, true);
      }
      c.synced_tick = tick;
      SetOut(i, OutAt(c, tick));
      break;
    }
    int64_t next = NextEvent(c, c.synced_tick);
    if (next > tick) break;
    c.synced_tick = next;
    Promote(c, next);
    SetOut(i, OutAt(c, next));
  }
  c.synced_tick = tick;
  Promote(c, tick);
}

void Pit8254::Reschedule(int i) {
  if (i != 0 || irq0_ == nullptr) return;
  int64_t next = NextEvent(ch_[0], ch_[0].synced_tick);
  if (next == kNeverTick) {
    timer_.Cancel();
  } else {
    timer_.ArmAt(NsOfTick(static_cast<uint64_t>(next)));
  }
}

void Pit8254::OnTimer() {
  Sync(0, NowTick());
  Reschedule(0);
}

void Pit8254::Reset() {
  int64_t now = NowTick();
  for (int i = 0; i < kChannels; ++i) {
    Channel& c = ch_[i];
    c = Channel{};
    c.gate = i != 2;
    c.synced_tick = now;
    c.out = true;
    LoadCount(i, now, 0);
  }
  if (irq0_ != nullptr) irq0_->SetLevel(ch_[0].out);
  Reschedule(0);
}

void Pit8254::LoadCount(int i, int64_t w, uint16_t value) {
  Channel& c = ch_[i];
  c.cr = value;
  int64_t count = EffectiveCount(c, value);
  switch (c.mode) {
    case 0:
    case 4:
      // Datasheet modes 0 and 4: a new count loads on the next pulse and
      // counting restarts from it; mode 0 drives OUT low.
      c.pre_raw = RawAt(c, w);
      c.pre_out = c.mode == 0 ? false : OutAt(c, w);
      c.pending = false;
      c.n = count;
      c.null_until = w + 1;
      if (c.gate) {
        c.state = State::kRunning;
        c.base_tick = w + 1;
        c.base_raw = count;
      } else {
        // Loaded, but GATE low keeps it from counting.
        c.state = State::kSuspended;
        c.pre_raw = count;
      }
      SetOut(i, OutAt(c, w));
      break;
    case 1:
    case 5:
      // The count waits for a GATE trigger; a one-shot in progress goes on.
      if (c.state == State::kIdle) c.state = State::kArmed;
      c.null_until = kNeverTick;
      break;
    default:
      if (c.state == State::kRunning && w >= c.base_tick) {
        // Modes 2/3: a new count takes effect at the end of the current
        // period (mode 3: half cycle), not immediately.
        int64_t p = (w - c.base_tick + c.phase) % c.n;
        int64_t at;
        int64_t phase = 0;
        if (c.mode == 2) {
          at = w + (c.n - p);
        } else {
          int64_t high = (c.n + 1) / 2;
          if (p < high) {
            at = w + (high - p);
            phase = (count + 1) / 2;  // Continues in the low half.
          } else {
            at = w + (c.n - p);
          }
        }
        c.pending = true;
        c.pending_n = count;
        c.pending_tick = at;
        c.pending_phase = phase;
        c.null_until = at;
      } else if (c.state == State::kRunning) {
        c.n = count;  // The previous count has not reached the element yet.
      } else {
        c.pre_raw = RawAt(c, w);
        c.pre_out = true;
        c.n = count;
        c.phase = 0;
        c.null_until = w + 1;
        if (c.gate) {
          c.state = State::kRunning;
          c.base_tick = w + 1;
        } else {
          c.state = State::kSuspended;
          c.pre_raw = count;
        }
      }
      break;
  }
}

void Pit8254::SetGate(int i, bool high) {
  if (i < 0 || i >= kChannels) return;
  Channel& c = ch_[i];
  int64_t now = NowTick();
  Sync(i, now);
  if (c.gate == high) return;
  c.gate = high;
  switch (c.mode) {
    case 0:
    case 4:
      // GATE low disables counting; high resumes where it stopped.
      if (!high && c.state == State::kRunning) {
        c.pre_raw = now < c.base_tick ? c.base_raw : RawAt(c, now);
        c.pre_out = OutAt(c, now);
        c.state = State::kSuspended;
      } else if (high && c.state == State::kSuspended) {
        c.state = State::kRunning;
        c.base_tick = now;
        c.base_raw = c.pre_raw;
      }
      break;
    case 1:
    case 5:
      // A rising edge (re)triggers: the count register loads on the next
      // pulse.
      if (high && c.state != State::kIdle) {
        c.pre_raw = RawAt(c, now);
        c.pre_out = OutAt(c, now);
        c.n = EffectiveCount(c, c.cr);
        c.base_tick = now + 1;
        c.base_raw = c.n;
        c.state = State::kRunning;
        c.null_until = now + 1;
      }
      break;
    default:
      // Modes 2/3: GATE low stops counting and forces OUT high at once; a
      // rising edge reloads the count register on the next pulse.
      if (!high && c.state == State::kRunning) {
        c.pre_raw = now < c.base_tick ? c.n : RawAt(c, now);
        c.pre_out = true;
        if (c.pending) c.null_until = kNeverTick;
        c.pending = false;
        c.state = State::kSuspended;
      } else if (high && c.state != State::kIdle) {
        c.pre_raw = RawAt(c, now);
        c.pre_out = true;
        c.n = EffectiveCount(c, c.cr);
        c.phase = 0;
        c.base_tick = now + 1;
        c.state = State::kRunning;
        c.null_until = now + 1;
      }
      break;
  }
  SetOut(i, OutAt(c, now));
  Reschedule(i);
}

bool Pit8254::Output(int i) {
  if (i < 0 || i >= kChannels) return false;
  Sync(i, NowTick());
  Reschedule(i);
  return ch_[i].out;
}

uint64_t Pit8254::Channel2ToneMilliHz() {
  Channel& c = ch_[2];
  Sync(2, NowTick());
  if (c.mode != 3 || c.state != State::kRunning) return 0;
  return kClockHz * 1000 / static_cast<uint64_t>(c.n);
}

void Pit8254::LatchCount(int i, int64_t tick) {
  Channel& c = ch_[i];
  // Datasheet "Counter Latch Command": a second latch before the first is
  // read is ignored.
  if (c.latch != Latch::kNone) return;
  c.latched_count = Display(c, RawAt(c, tick));
  c.latch = c.access == 1   ? Latch::kLow
            : c.access == 2 ? Latch::kHigh
                            : Latch::kWordLow;
}

void Pit8254::LatchStatus(int i, int64_t tick) {
  Channel& c = ch_[i];
  if (c.status_latched) return;
  // Datasheet "Read-Back Command", status byte: OUT, NULL COUNT, RW1-0,
  // M2-M0, BCD.
  c.latched_status = static_cast<uint8_t>(
      (c.out ? 0x80 : 0) | (tick < c.null_until ? 0x40 : 0) | (c.access << 4) |
      (c.mode_bits << 1) | (c.bcd ? 1 : 0));
  c.status_latched = true;
}

uint8_t Pit8254::ReadCounter(int i) {
  Channel& c = ch_[i];
  int64_t now = NowTick();
  Sync(i, now);
  Reschedule(i);
  // A latched status is read before a latched count (read-back command).
  if (c.status_latched) {
    c.status_latched = false;
    return c.latched_status;
  }
  switch (c.latch) {
    case Latch::kLow:
      c.latch = Latch::kNone;
      return static_cast<uint8_t>(c.latched_count);
    case Latch::kHigh:
      c.latch = Latch::kNone;
      return static_cast<uint8_t>(c.latched_count >> 8);
    case Latch::kWordLow:
      c.latch = Latch::kWordHigh;
      return static_cast<uint8_t>(c.latched_count);
    case Latch::kWordHigh:
      c.latch = Latch::kNone;
      return static_cast<uint8_t>(c.latched_count >> 8);
    case Latch::kNone:
      break;
  }
  // An unlatched read sees the element as it is at this moment, each byte
  // at the time it is read (which is how Linux's quick_pit_calibrate reads).
  uint16_t value = Display(c, RawAt(c, now));
  if (c.access == 1) return static_cast<uint8_t>(value);
  if (c.access == 2) return static_cast<uint8_t>(value >> 8);
  bool msb = c.read_msb_next;
  c.read_msb_next = !msb;
  return static_cast<uint8_t>(msb ? value >> 8 : value);
}

void Pit8254::WriteCounter(int i, uint8_t value) {
  Channel& c = ch_[i];
  int64_t now = NowTick();
  Sync(i, now);
  switch (c.access) {
    case 1:
      LoadCount(i, now, value);
      break;
    case 2:
      LoadCount(i, now, static_cast<uint16_t>(value << 8));
      break;
    default:
      if (!c.write_msb_next) {
        c.cr_lsb = value;
        c.write_msb_next = true;
        if (c.mode == 0) {
          // Datasheet mode 0: writing the first byte disables counting and
          // sets OUT low at once.
          c.pre_raw = RawAt(c, now);
          c.pre_out = false;
          c.pending = false;
          c.state = State::kIdle;
          SetOut(i, false);
        }
      } else {
        c.write_msb_next = false;
        LoadCount(i, now, static_cast<uint16_t>(c.cr_lsb | (value << 8)));
      }
      break;
  }
  Reschedule(i);
}

void Pit8254::WriteControl(uint8_t value) {
  int64_t now = NowTick();
  int select = value >> 6;
  if (select == 3) {
    // Read-back: bit 5 clear latches counts, bit 4 clear latches status,
    // bits 1-3 select counters 0-2.
    for (int i = 0; i < kChannels; ++i) {
      if ((value & (2 << i)) == 0) continue;
      Sync(i, now);
      Reschedule(i);
      if ((value & 0x20) == 0) LatchCount(i, now);
      if ((value & 0x10) == 0) LatchStatus(i, now);
    }
    return;
  }
  Channel& c = ch_[select];
  Sync(select, now);
  uint8_t access = (value >> 4) & 3;
  if (access == 0) {
    LatchCount(select, now);
    Reschedule(select);
    return;
  }
  // A control word stops the counter where it is; OUT goes low in mode 0
  // and high in every other mode (datasheet, "Mode Definitions").
  c.pre_raw = RawAt(c, now);
  c.mode_bits = (value >> 1) & 7;
  c.mode =
      c.mode_bits >= 6 ? static_cast<uint8_t>(c.mode_bits - 4) : c.mode_bits;
  c.access = access;
  c.bcd = (value & 1) != 0;
  c.pre_out = c.mode != 0;
  c.state = State::kIdle;
  c.pending = false;
  c.null_until = kNeverTick;
  c.write_msb_next = false;
  c.read_msb_next = false;
  c.latch = Latch::kNone;
  c.status_latched = false;
  SetOut(select, c.pre_out);
  Reschedule(select);
}

void Pit8254::Read(uint64_t offset, std::span<uint8_t> data) {
  for (size_t b = 0; b < data.size(); ++b) {
    uint64_t port = offset + b;
    // The control word register cannot be read: the bus floats.
    data[b] = port < 3 ? ReadCounter(static_cast<int>(port)) : 0xff;
  }
}

void Pit8254::Write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t b = 0; b < data.size(); ++b) {
    uint64_t port = offset + b;
    if (port < 3) {
      WriteCounter(static_cast<int>(port), data[b]);
    } else if (port == 3) {
      WriteControl(data[b]);
    } else if (log_limit_.Allow()) {
      log_->debug("write to port offset {} ignored", port);
    }
  }
}

void Pit8254::Sanitize(int64_t now) {
  // A tick horizon far enough for any legitimate state (a count of at most
  // 0x1ffff past the current tick), small enough that no sum overflows.
  const int64_t limit = now + 0x40000;
  auto clamp_tick = [&](int64_t& t) { t = std::clamp<int64_t>(t, 0, limit); };
  for (Channel& c : ch_) {
    c.mode_bits &= 7;
    c.mode =
        c.mode_bits >= 6 ? static_cast<uint8_t>(c.mode_bits - 4) : c.mode_bits;
    if (c.access < 1 || c.access > 3) c.access = 3;
    if (c.state > State::kSuspended) c.state = State::kIdle;
    if (c.latch > Latch::kWordHigh) c.latch = Latch::kNone;
    c.n = std::clamp<int64_t>(c.n, 1, 0x1ffff);
    c.pending_n = std::clamp<int64_t>(c.pending_n, 1, 0x1ffff);
    // Phases only mean something in the periodic modes; elsewhere they keep
    // a stale value from an earlier program, which must survive a round trip.
    if (c.mode == 2 || c.mode == 3) {
      c.phase = FloorMod(c.phase, c.n);
      c.pending_phase = FloorMod(c.pending_phase, c.pending_n);
    }
    clamp_tick(c.base_tick);
    clamp_tick(c.pending_tick);
    clamp_tick(c.synced_tick);
    if (c.null_until != kNeverTick) clamp_tick(c.null_until);
    constexpr int64_t kRawLimit = int64_t{1} << 40;
    c.base_raw = std::clamp(c.base_raw, -kRawLimit, kRawLimit);
    c.pre_raw = std::clamp(c.pre_raw, -kRawLimit, kRawLimit);
  }
}

void Pit8254::Serialize(Serializer& s) {
  s.Section("pit", 1);
  for (Channel& c : ch_) {
    s(c.mode_bits);
    s(c.mode);
    s(c.access);
    s(c.bcd);
    s(c.cr);
    s(c.cr_lsb);
    s(c.write_msb_next);
    s(c.read_msb_next);
    s(c.latch);
    s(c.latched_count);
    s(c.status_latched);
    s(c.latched_status);
    s(c.gate);
    s(c.state);
    s(c.n);
    s(c.base_tick);
    s(c.base_raw);
    s(c.phase);
    s(c.pre_raw);
    s(c.pre_out);
    s(c.pending);
    s(c.pending_n);
    s(c.pending_tick);
    s(c.pending_phase);
    s(c.null_until);
    s(c.synced_tick);
    s(c.out);
  }
  timer_.Serialize(s);
  if (s.loading()) {
    Sanitize(NowTick());
    // The receivers saved the level they saw; re-driving it is a no-op for
    // them and makes a fresh wire consistent.
    if (irq0_ != nullptr) irq0_->SetLevel(ch_[0].out);
    Reschedule(0);
  }
}

Port61::Port61(VirtualClock& clock, Pit8254& pit) : clock_(clock), pit_(pit) {
  Reset();
}

void Port61::Reset() {
  value_ = 0;
  pit_.SetGate(2, false);
}

uint8_t Port61::ReadByte() {
  uint64_t refresh = (Pit8254::TicksAt(clock_.now_ns()) / kRefreshTicks) & 1;
  return static_cast<uint8_t>((value_ & 0x0f) | (refresh << 4) |
                              (pit_.Output(2) ? 0x20 : 0));
}

void Port61::Read(uint64_t offset, std::span<uint8_t> data) {
  for (size_t b = 0; b < data.size(); ++b) {
    data[b] = offset + b == 0 ? ReadByte() : 0xff;
  }
}

void Port61::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0 || data.empty()) return;
  // Bits 4-7 are status and read-only.
  value_ = data[0] & 0x0f;
  pit_.SetGate(2, (value_ & 1) != 0);
}

void Port61::Serialize(Serializer& s) {
  s.Section("port61", 1);
  s(value_);
  // Channel 2's gate level is saved with the PIT.
}

}  // namespace x86vm
