// NS16550A UART, the PC's COM1-COM4: eight registers with the DLAB divisor
// latch, 16-byte receive and transmit FIFOs, the four prioritized interrupt
// sources plus the receive character timeout, loopback, and the PC's OUT2
// gate on the interrupt line. References: National Semiconductor PC16550D
// datasheet (June 1995), "Register descriptions" and Table IV ("Interrupt
// Control Functions").
#ifndef X86VM_DEVICES_UART16550_H_
#define X86VM_DEVICES_UART16550_H_

#include <array>
#include <cstdint>
#include <span>
#include <optional>
#include <string>
#include <string_view>

#include "base/log.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

// Where a UART's transmitted bytes go on the host (a character backend).
class SerialSink {
 public:
  virtual ~SerialSink() = default;
  // Takes one byte the guest transmitted.
  virtual void Write(uint8_t byte) = 0;
};

// Where a UART's received bytes come from on the host; polled by the run
// loop, never by the device.
class SerialSource {
 public:
  virtual ~SerialSource() = default;
  // The next input byte if one is ready; never blocks.
  virtual std::optional<uint8_t> Poll() = 0;
  // True once the user asked to quit (Ctrl-A x).
  virtual bool quit_requested() const = 0;
  // True once host input has ended.
  virtual bool eof() const = 0;
  // Pushes buffered output out to the host.
  virtual void Flush() = 0;
};

class Uart16550 : public Device, public BusTarget {
 public:
  // Registers span eight ports (0x3f8, 0x2f8, 0x3e8, 0x2e8 on PCs).
  static constexpr uint64_t kPortCount = 8;
  // Bytes in each FIFO.
  static constexpr size_t kFifoSize = 16;
  // The PC's UART clock (1.8432 MHz) with 16x oversampling: baud = 115200 / divisor.
  static constexpr uint64_t kBaudBase = 115200;

  // How transmitted characters leave the chip.
  enum class TxTiming {
    // The byte goes to the sink at once and THR/TEMT empty again at once;
    // the THRE interrupt still follows 16550 rules (as QEMU does). Fast.
    kImmediate,
    // Each character occupies the transmitter for one character time at the
    // programmed baud rate and frame format, on the virtual clock.
    kBaudRate,
  };

  // `name` is "com1".."com4" (the snapshot section name); `irq` is the ISA
  // IRQ (4 or 3), never null; `sink` may be null (output discarded).
  Uart16550(std::string name, VirtualClock& clock, IrqLine* irq, SerialSink* sink,
            TxTiming tx_timing = TxTiming::kImmediate);

  std::string_view name() const override { return name_; }
  // Master reset (datasheet Table III): IER, FCR, LCR, MCR cleared, FIFOs
  // emptied, LSR = THRE|TEMT; divisor back to 12 (9600 baud) and scratch to
  // 0, as QEMU does (the datasheet leaves them undefined).
  void Reset() override;
  void Serialize(Serializer& s) override;

  // The eight-port register window.
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Host input: true when Receive() would store the byte (room in the
  // receiver, not in loopback). The run loop polls its backend only then.
  bool CanReceive() const;
  // A byte arriving on the serial input. Without room it is lost and the
  // overrun error is flagged, as on the chip.
  void Receive(uint8_t byte);
  // Replaces the host sink (null discards).
  void set_sink(SerialSink* sink) { sink_ = sink; }

  // The current character time in ns (start + data + parity + stop bits at
  // the programmed baud rate); used for the receive timeout and kBaudRate.
  uint64_t char_time_ns() const;

 private:
  // A byte ring of kFifoSize.
  struct Fifo {
    std::array<uint8_t, kFifoSize> bytes{};
    uint8_t head = 0;
    uint8_t count = 0;
    bool empty() const { return count == 0; }
    void Clear() { head = count = 0; }
    void Push(uint8_t b);
    uint8_t Pop();
    void Serialize(Serializer& s);
  };

  uint8_t ReadRegister(uint64_t offset);
  void WriteRegister(uint64_t offset, uint8_t value);
  void WriteThr(uint8_t value);
  void WriteFcr(uint8_t value);
  void WriteMcr(uint8_t value);

  bool fifo_enabled() const { return fcr_ & 0x01; }
  bool loopback() const { return mcr_ & 0x10; }
  // Receiver capacity: 16 with FIFOs, the single RBR without.
  size_t rx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }
  size_t tx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }
  // Receive FIFO trigger level from FCR bits 7-6: 1, 4, 8, 14.
  size_t rx_trigger() const;
  // Stores a byte arriving at the receiver (from the line or the loopback).
  void ReceiveInternal(uint8_t byte);
  // Moves the next THR/FIFO byte into the shifter at `start_ns` and sends
  // it (at once, or one character time later).
  void StartTransmit(uint64_t start_ns);
  // The character in the shifter finished at `end_ns`: deliver it.
  void FinishTransmit(uint64_t end_ns);
  void Deliver(uint8_t byte);
  // The modem status inputs (CTS DSR RI DCD in MSR bits 4-7), from MCR in
  // loopback, from the host otherwise; updates the delta bits.
  void UpdateModemInputs();
  // Re-evaluates the character timeout (datasheet "FIFO Interrupt Mode
  // Operation"): armed while bytes wait and nothing happens.
  void UpdateTimeout();
  // The IIR value for the highest-priority pending interrupt.
  uint8_t ComputeIir() const;
  void UpdateIrq();

  std::string name_;
  VirtualClock& clock_;
  IrqLine* irq_;
  SerialSink* sink_;
  TxTiming tx_timing_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter overrun_log_;

  // Guest-visible registers.
  uint8_t ier_ = 0;
  uint8_t fcr_ = 0;  // Write-only; kept for enable, DMA mode and trigger.
  uint8_t lcr_ = 0;
  uint8_t mcr_ = 0;
  uint8_t lsr_errors_ = 0;  // Latched OE/PE/FE/BI (LSR bits 1-4).
  uint8_t msr_ = 0;         // Inputs in bits 7-4, deltas in bits 3-0.
  uint8_t scr_ = 0;
  uint16_t divisor_ = 12;  // 9600 baud.
  uint8_t rbr_ = 0;        // Last byte read, returned when empty.
  Fifo rx_;
  Fifo tx_;
  bool tsr_busy_ = false;  // The shifter holds tsr_ (kBaudRate only).
  uint8_t tsr_ = 0;
  uint64_t tx_end_ns_ = 0;  // When the shifter's character is done.
  // THRE interrupt latch: set when the transmitter holding side empties or
  // ETBEI rises with it empty; cleared by an IIR read that reports it or a
  // THR write (Table IV).
  bool thre_pending_ = false;
  bool timeout_pending_ = false;
  // Virtual ns of the last receive FIFO activity (byte in or CPU read).
  uint64_t rx_activity_ns_ = 0;
  bool irq_level_ = false;
  Timer tx_timer_;
  Timer timeout_timer_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_UART16550_H_
