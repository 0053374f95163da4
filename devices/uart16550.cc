#include "devices/uart16550.h"

#include <algorithm>

namespace x86vm {
namespace {

// Register offsets (DLAB = 0 unless noted).
constexpr uint64_t kRbrThr = 0;  // DLL with DLAB.
constexpr uint64_t kIer = 1;     // DLM with DLAB.
constexpr uint64_t kIirFcr = 2;
constexpr uint64_t kLcr = 3;
constexpr uint64_t kMcr = 4;
constexpr uint64_t kLsr = 5;
constexpr uint64_t kMsr = 6;
constexpr uint64_t kScr = 7;

constexpr uint8_t kIerRxData = 0x01;  // ERBFI, also enables the timeout.
constexpr uint8_t kIerThre = 0x02;    // ETBEI.
constexpr uint8_t kIerLineStatus = 0x04;
constexpr uint8_t kIerModemStatus = 0x08;

constexpr uint8_t kIirNone = 0x01;
constexpr uint8_t kIirLineStatus = 0x06;
constexpr uint8_t kIirRxData = 0x04;
constexpr uint8_t kIirTimeout = 0x0c;
constexpr uint8_t kIirThre = 0x02;
constexpr uint8_t kIirModemStatus = 0x00;
constexpr uint8_t kIirFifosEnabled = 0xc0;

constexpr uint8_t kFcrEnable = 0x01;
constexpr uint8_t kFcrClearRx = 0x02;
constexpr uint8_t kFcrClearTx = 0x04;
constexpr uint8_t kFcrStored = 0xc9;  // Enable, DMA mode, trigger level.

constexpr uint8_t kLcrDlab = 0x80;

constexpr uint8_t kMcrDtr = 0x01;
constexpr uint8_t kMcrRts = 0x02;
constexpr uint8_t kMcrOut1 = 0x04;
constexpr uint8_t kMcrOut2 = 0x08;
constexpr uint8_t kMcrMask = 0x1f;

constexpr uint8_t kLsrDataReady = 0x01;
constexpr uint8_t kLsrOverrun = 0x02;
constexpr uint8_t kLsrErrors = 0x1e;  // OE PE FE BI.
constexpr uint8_t kLsrThre = 0x20;
constexpr uint8_t kLsrTemt = 0x40;

constexpr uint8_t kMsrCts = 0x10;
constexpr uint8_t kMsrDsr = 0x20;
constexpr uint8_t kMsrRi = 0x40;
constexpr uint8_t kMsrDcd = 0x80;
// A host backend is a wire with the modem ready: CTS, DSR and DCD asserted
// (what QEMU reports for backends without modem lines).
constexpr uint8_t kHostModemInputs = kMsrCts | kMsrDsr | kMsrDcd;

constexpr uint64_t kUartClockHz = 1'843'200;

}  // namespace

void Uart16550::Fifo::Push(uint8_t b) {
  if (count >= kFifoSize) return;
  bytes[(head + count) % kFifoSize] = b;
  ++count;
}

uint8_t Uart16550::Fifo::Pop() {
  if (count == 0) return 0;
  uint8_t b = bytes[head];
  head = static_cast<uint8_t>((head + 1) % kFifoSize);
  --count;
  return b;
}

void Uart16550::Fifo::Serialize(Serializer& s) {
  s.Bytes(bytes);
  s(head);
  s(count);
}

Uart16550::Uart16550(std::string name, VirtualClock& clock, IrqLine* irq, SerialSink* sink,
                     TxTiming tx_timing)
    : name_(std::move(name)),
      clock_(clock),
      irq_(irq),
      sink_(sink),
      tx_timing_(tx_timing),
      log_(Logger("uart")),
      tx_timer_(clock, [this] { FinishTransmit(tx_end_ns_); }),
      timeout_timer_(clock, [this] {
        UpdateTimeout();
        UpdateIrq();
      }) {
  Reset();
}

void Uart16550::Reset() {
  ier_ = 0;
  fcr_ = 0;
  lcr_ = 0;
  mcr_ = 0;
  lsr_errors_ = 0;
  msr_ = kHostModemInputs;
  scr_ = 0;
  divisor_ = 12;
  rbr_ = 0;
  rx_.Clear();
  tx_.Clear();
  tsr_busy_ = false;
  tsr_ = 0;
  tx_end_ns_ = 0;
  thre_pending_ = false;
  timeout_pending_ = false;
  rx_activity_ns_ = clock_.now_ns();
  tx_timer_.Cancel();
  timeout_timer_.Cancel();
  UpdateIrq();
}

void Uart16550::Serialize(Serializer& s) {
  s.Section(name_, 1);
  s(ier_);
  s(fcr_);
  s(lcr_);
  s(mcr_);
  s(lsr_errors_);
  s(msr_);
  s(scr_);
  s(divisor_);
  s(rbr_);
  rx_.Serialize(s);
  tx_.Serialize(s);
  s(tsr_busy_);
  s(tsr_);
  s(tx_end_ns_);
  s(thre_pending_);
  s(timeout_pending_);
  s(rx_activity_ns_);
  tx_timer_.Serialize(s);
  timeout_timer_.Serialize(s);
  if (s.loading()) {
    // Keep a corrupt stream from breaking the FIFO invariants.
    ier_ &= 0x0f;
    fcr_ &= kFcrStored;
    mcr_ &= kMcrMask;
    lsr_errors_ &= kLsrErrors;
    for (Fifo* f : {&rx_, &tx_}) {
      f->head = static_cast<uint8_t>(f->head % kFifoSize);
      f->count = static_cast<uint8_t>(std::min<size_t>(f->count, kFifoSize));
    }
    rx_.count = static_cast<uint8_t>(std::min<size_t>(rx_.count, rx_capacity()));
    tx_.count = static_cast<uint8_t>(std::min<size_t>(tx_.count, tx_capacity()));
    UpdateIrq();
    irq_->SetLevel(irq_level_);  // Derived state: drive the wire to match.
  }
}

void Uart16550::Read(uint64_t offset, std::span<uint8_t> data) {
  // An 8-bit ISA device: a wider access is byte cycles at offset + i.
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = offset + i < kPortCount ? ReadRegister(offset + i) : 0xff;
  }
}

void Uart16550::Write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (offset + i < kPortCount) WriteRegister(offset + i, data[i]);
  }
}

bool Uart16550::CanReceive() const { return !loopback() && rx_.count < rx_capacity(); }

void Uart16550::Receive(uint8_t byte) {
  // In loopback the serial input is disconnected (datasheet, MCR bit 4).
  if (loopback()) return;
  ReceiveInternal(byte);
}

uint64_t Uart16550::char_time_ns() const {
  // Frame in half bits: start, 5-8 data bits, optional parity, then 1, 1.5
  // (5-bit words) or 2 stop bits (datasheet, LCR bits 0-3).
  uint64_t half_bits = 2 + 2 * (5 + (lcr_ & 0x03)) + ((lcr_ & 0x08) ? 2 : 0);
  half_bits += (lcr_ & 0x04) ? ((lcr_ & 0x03) == 0 ? 3 : 4) : 2;
  // Divisor 0 is undefined; the 16-bit down counter then divides by 65536.
  uint64_t divisor = divisor_ ? divisor_ : 65536;
  return half_bits * divisor * 16 * 1'000'000'000 / (kUartClockHz * 2);
}

size_t Uart16550::rx_trigger() const {
  static constexpr size_t kLevels[4] = {1, 4, 8, 14};
  return kLevels[fcr_ >> 6];
}

uint8_t Uart16550::ReadRegister(uint64_t offset) {
  uint8_t value = 0xff;
  switch (offset) {
    case kRbrThr:
      if (lcr_ & kLcrDlab) {
        value = static_cast<uint8_t>(divisor_);
        break;
      }
      if (!rx_.empty()) {
        rbr_ = rx_.Pop();
        // A CPU read clears the timeout and restarts its timer.
        timeout_pending_ = false;
        rx_activity_ns_ = clock_.now_ns();
        UpdateTimeout();
      }
      value = rbr_;
      break;
    case kIer:
      value = (lcr_ & kLcrDlab) ? static_cast<uint8_t>(divisor_ >> 8) : ier_;
      break;
    case kIirFcr:
      value = ComputeIir();
      // Reading IIR clears THRE when it is the source reported (Table IV).
      if (value == kIirThre) thre_pending_ = false;
      if (fifo_enabled()) value |= kIirFifosEnabled;
      break;
    case kLcr:
      value = lcr_;
      break;
    case kMcr:
      value = mcr_;
      break;
    case kLsr:
      value = static_cast<uint8_t>((rx_.empty() ? 0 : kLsrDataReady) | lsr_errors_ |
                                   (tx_.empty() ? kLsrThre : 0) |
                                   (tx_.empty() && !tsr_busy_ ? kLsrTemt : 0));
      // Bit 7 (error in RCVR FIFO) stays 0: bytes never carry parity,
      // framing or break errors here. Reading clears OE/PE/FE/BI.
      lsr_errors_ = 0;
      break;
    case kMsr:
      value = msr_;
      msr_ &= 0xf0;  // Reading clears the delta bits.
      break;
    case kScr:
      value = scr_;
      break;
  }
  UpdateIrq();
  return value;
}

void Uart16550::WriteRegister(uint64_t offset, uint8_t value) {
  switch (offset) {
    case kRbrThr:
      if (lcr_ & kLcrDlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0xff00) | value);
      } else {
        WriteThr(value);
      }
      break;
    case kIer:
      if (lcr_ & kLcrDlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | (value << 8));
      } else {
        uint8_t old = ier_;
        ier_ = value & 0x0f;
        // Enabling ETBEI with THR empty raises THRE at once; Linux's 8250
        // probes this and Windows needs it (QEMU and Bochs agree: sampled on
        // the rising edge of ETBEI).
        if ((old ^ ier_) & kIerThre) {
          thre_pending_ = (ier_ & kIerThre) && tx_.empty();
        }
        UpdateTimeout();
      }
      break;
    case kIirFcr:
      WriteFcr(value);
      break;
    case kLcr:
      lcr_ = value;
      break;
    case kMcr:
      WriteMcr(value);
      break;
    case kScr:
      scr_ = value;
      break;
    default:
      break;  // LSR and MSR writes are factory-test only; ignored.
  }
  UpdateIrq();
}

void Uart16550::WriteThr(uint8_t value) {
  if (tx_.count >= tx_capacity()) {
    if (fifo_enabled()) {
      // A full transmit FIFO drops the write.
      if (overrun_log_.Allow()) log_->debug("{}: write to full transmit FIFO dropped", name_);
    } else {
      tx_.Clear();  // 16450 mode: THR is overwritten.
      tx_.Push(value);
    }
  } else {
    tx_.Push(value);
  }
  thre_pending_ = false;
  // Let the line drop before transmitting re-raises THRE, so each write
  // makes a fresh edge for the edge-triggered PIC (as QEMU does).
  UpdateIrq();
  if (!tsr_busy_) StartTransmit(clock_.now_ns());
}

void Uart16550::StartTransmit(uint64_t start_ns) {
  while (!tsr_busy_ && !tx_.empty()) {
    uint8_t byte = tx_.Pop();
    // THRE rises as the last byte moves into the shifter (datasheet, LSR5).
    if (tx_.empty()) thre_pending_ = true;
    if (tx_timing_ == TxTiming::kImmediate) {
      Deliver(byte);
    } else {
      tsr_ = byte;
      tsr_busy_ = true;
      tx_end_ns_ = start_ns + char_time_ns();
      tx_timer_.ArmAt(tx_end_ns_);
    }
  }
}

void Uart16550::FinishTransmit(uint64_t end_ns) {
  if (!tsr_busy_) return;
  tsr_busy_ = false;
  Deliver(tsr_);
  // Back to back: the next character starts when this one ended, even if
  // the timer ran late.
  StartTransmit(end_ns);
  UpdateIrq();
}

void Uart16550::Deliver(uint8_t byte) {
  if (loopback()) {
    ReceiveInternal(byte);  // The transmitter feeds the receiver internally.
  } else if (sink_ != nullptr) {
    sink_->Write(byte);
  }
}

void Uart16550::ReceiveInternal(uint8_t byte) {
  if (rx_.count >= rx_capacity()) {
    lsr_errors_ |= kLsrOverrun;
    if (overrun_log_.Allow()) log_->debug("{}: receiver overrun", name_);
    // 16450 mode: the new byte overwrites RBR. FIFO mode: the FIFO is kept
    // and the byte in the shift register is lost (datasheet, LSR1).
    if (!fifo_enabled()) {
      rx_.Clear();
      rx_.Push(byte);
    }
  } else {
    rx_.Push(byte);
  }
  // A received byte restarts the timeout timer unless a timeout is pending.
  if (!timeout_pending_) rx_activity_ns_ = clock_.now_ns();
  UpdateTimeout();
  UpdateIrq();
}

void Uart16550::WriteFcr(uint8_t value) {
  bool enable = value & kFcrEnable;
  size_t tx_before = tx_.count;
  if (enable != fifo_enabled()) {
    // Switching between 16450 and FIFO mode empties both FIFOs.
    rx_.Clear();
    tx_.Clear();
  }
  if (!enable) {
    // Other bits are only programmed together with FCR0 = 1.
    fcr_ = 0;
  } else {
    fcr_ = value & kFcrStored;
    if (value & kFcrClearRx) rx_.Clear();
    if (value & kFcrClearTx) tx_.Clear();
  }
  if (tx_before != 0 && tx_.empty()) thre_pending_ = true;
  UpdateTimeout();
}

void Uart16550::WriteMcr(uint8_t value) {
  mcr_ = value & kMcrMask;
  UpdateModemInputs();
}

void Uart16550::UpdateModemInputs() {
  uint8_t inputs = kHostModemInputs;
  if (loopback()) {
    // Loopback wiring (datasheet, MCR bit 4): RTS->CTS, DTR->DSR,
    // OUT1->RI, OUT2->DCD.
    inputs =
        static_cast<uint8_t>(((mcr_ & kMcrRts) ? kMsrCts : 0) | ((mcr_ & kMcrDtr) ? kMsrDsr : 0) |
                             ((mcr_ & kMcrOut1) ? kMsrRi : 0) | ((mcr_ & kMcrOut2) ? kMsrDcd : 0));
  }
  uint8_t old = msr_ & 0xf0;
  uint8_t changed = old ^ inputs;
  uint8_t deltas = msr_ & 0x0f;
  if (changed & kMsrCts) deltas |= 0x01;
  if (changed & kMsrDsr) deltas |= 0x02;
  if ((old & kMsrRi) && !(inputs & kMsrRi)) deltas |= 0x04;  // TERI: RI trailing edge.
  if (changed & kMsrDcd) deltas |= 0x08;
  msr_ = static_cast<uint8_t>(inputs | deltas);
}

void Uart16550::UpdateTimeout() {
  // Datasheet, "FIFO Interrupt Mode Operation": a timeout occurs when at
  // least one byte is in the receive FIFO and nothing entered or left it for
  // four character times. Only tracked while ERBFI can report it; enabling
  // ERBFI later re-evaluates from the last activity.
  if (!fifo_enabled() || rx_.empty()) {
    timeout_pending_ = false;
    if (timeout_timer_.armed()) timeout_timer_.Cancel();
    return;
  }
  if (timeout_pending_ || !(ier_ & kIerRxData)) {
    if (timeout_timer_.armed()) timeout_timer_.Cancel();
    return;
  }
  uint64_t deadline = rx_activity_ns_ + 4 * char_time_ns();
  if (clock_.now_ns() >= deadline) {
    timeout_pending_ = true;
    if (timeout_timer_.armed()) timeout_timer_.Cancel();
  } else if (timeout_timer_.deadline_ns() != deadline) {
    timeout_timer_.ArmAt(deadline);
  }
}

uint8_t Uart16550::ComputeIir() const {
  // Priorities from Table IV: line status, then receive data / timeout,
  // then THRE, then modem status.
  if ((ier_ & kIerLineStatus) && (lsr_errors_ & kLsrErrors)) return kIirLineStatus;
  if (ier_ & kIerRxData) {
    if (rx_.count >= (fifo_enabled() ? rx_trigger() : 1)) return kIirRxData;
    if (timeout_pending_) return kIirTimeout;
  }
  if ((ier_ & kIerThre) && thre_pending_) return kIirThre;
  if ((ier_ & kIerModemStatus) && (msr_ & 0x0f)) return kIirModemStatus;
  return kIirNone;
}

void Uart16550::UpdateIrq() {
  // On PCs OUT2 enables the buffer between INTR and the ISA IRQ line. In
  // loopback the OUT2 pin is forced inactive (datasheet, MCR bit 4), so the
  // line is released there too.
  bool pending = ComputeIir() != kIirNone;
  bool level = pending && (mcr_ & kMcrOut2) && !loopback();
  if (level != irq_level_) {
    irq_level_ = level;
    irq_->SetLevel(level);
  }
}

}  // namespace x86vm
