#include "devices/uart16550.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "devices/bus.h"

namespace x86vm {
namespace {

constexpr uint64_t kBase = 0x3f8;
enum : uint64_t {
  RBR = 0,
  THR = 0,
  DLL = 0,
  IER = 1,
  DLM = 1,
  IIR = 2,
  FCR = 2,
  LCR = 3,
  MCR = 4,
  LSR = 5,
  MSR = 6,
  SCR = 7
};

class VectorSink : public SerialSink {
 public:
  void Write(uint8_t byte) override { bytes.push_back(byte); }
  std::vector<uint8_t> bytes;
};

class UartTest : public ::testing::Test {
 protected:
  explicit UartTest(Uart16550::TxTiming timing = Uart16550::TxTiming::kImmediate)
      : uart_("com1", clock_, &irq_, &sink_, timing) {
    EXPECT_TRUE(pio_.Register(kBase, Uart16550::kPortCount, &uart_, "com1").has_value());
  }

  uint8_t In(uint64_t reg) { return static_cast<uint8_t>(pio_.ReadValue(kBase + reg, 1)); }
  void Out(uint64_t reg, uint8_t value) { pio_.WriteValue(kBase + reg, 1, value); }
  void At(uint64_t ns) {
    clock_.AdvanceTo(ns);
    clock_.RunDueTimers();
  }
  // 115200 baud, 8N1, as Linux and SeaBIOS set up COM1.
  void Setup115200() {
    Out(LCR, 0x80);
    Out(DLL, 1);
    Out(DLM, 0);
    Out(LCR, 0x03);
  }

  VirtualClock clock_{VirtualClock::Mode::kDeterministic};
  RecordingIrqLine irq_;
  VectorSink sink_;
  Bus pio_{"pio"};
  Uart16550 uart_;
};

class PacedUartTest : public UartTest {
 protected:
  PacedUartTest() : UartTest(Uart16550::TxTiming::kBaudRate) {}
};

TEST_F(UartTest, ResetValues) {
  EXPECT_EQ(In(IER), 0x00);
  EXPECT_EQ(In(IIR), 0x01);
  EXPECT_EQ(In(LCR), 0x00);
  EXPECT_EQ(In(MCR), 0x00);
  EXPECT_EQ(In(LSR), 0x60);
  EXPECT_EQ(In(MSR), 0xb0);  // CTS, DSR, DCD from the host side.
  EXPECT_EQ(In(SCR), 0x00);
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(uart_.name(), "com1");
}

TEST_F(UartTest, DivisorLatchAndCharacterTime) {
  EXPECT_EQ(uart_.char_time_ns(), 729166u);  // Reset: 9600 baud, 5N1 (7 bits).
  Out(LCR, 0x83);
  Out(DLL, 0x34);
  Out(DLM, 0x12);
  EXPECT_EQ(In(DLL), 0x34);
  EXPECT_EQ(In(DLM), 0x12);
  Out(LCR, 0x03);
  EXPECT_EQ(In(IER), 0x00);  // DLAB off: IER again, untouched.
  Out(IER, 0xff);
  EXPECT_EQ(In(IER), 0x0f);
  Out(IER, 0);
  Setup115200();
  EXPECT_EQ(uart_.char_time_ns(), 86805u);  // 10 bits at 115200.
  Out(LCR, 0x1f);                           // 8 data, even parity, 2 stop: 12 bits.
  EXPECT_EQ(uart_.char_time_ns(), 104166u);
  Out(LCR, 0x04);  // 5 data, 1.5 stop: 7.5 bits.
  EXPECT_EQ(uart_.char_time_ns(), 65104u);
}

TEST_F(UartTest, ScratchRegister) {
  Out(SCR, 0xa5);
  EXPECT_EQ(In(SCR), 0xa5);
  Out(SCR, 0x5a);
  EXPECT_EQ(In(SCR), 0x5a);
}

TEST_F(UartTest, TransmitGoesToSinkImmediately) {
  Setup115200();
  for (char c : std::string("hi\n")) Out(THR, static_cast<uint8_t>(c));
  EXPECT_EQ(sink_.bytes, (std::vector<uint8_t>{'h', 'i', '\n'}));
  EXPECT_EQ(In(LSR), 0x60);
}

TEST_F(UartTest, ThreInterruptFollows16550Rules) {
  Out(MCR, 0x08);  // OUT2.
  Out(IER, 0x02);  // Enabling ETBEI with THR empty raises THRE at once.
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(In(IIR), 0x02);
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(In(IIR), 0x01);  // The read that reported THRE cleared it.
  EXPECT_FALSE(irq_.level());
  irq_.ClearEdges();
  Out(THR, 'a');
  Out(THR, 'b');
  EXPECT_EQ(irq_.rising_edges(), 2);  // One edge per character.
  EXPECT_EQ(In(IIR), 0x02);
  // Linux's UART_BUG_THRE probe: re-enabling ETBEI re-asserts THRE.
  EXPECT_EQ(In(IIR), 0x01);
  Out(IER, 0x00);
  Out(IER, 0x02);
  EXPECT_EQ(In(IIR), 0x02);
  Out(IER, 0x00);  // Disabling ETBEI drops it.
  Out(IER, 0x02);
  EXPECT_EQ(In(IIR), 0x02);
}

TEST_F(UartTest, Out2GatesTheIrqLine) {
  Out(IER, 0x02);
  EXPECT_EQ(uart_.CanReceive(), true);
  EXPECT_FALSE(irq_.level());  // Pending, but OUT2 is low.
  Out(MCR, 0x08);
  EXPECT_TRUE(irq_.level());
  Out(MCR, 0x03);
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(In(IIR), 0x02);  // Still pending inside the chip.
}

TEST_F(UartTest, Receive16450ModeAndOverrun) {
  Out(MCR, 0x08);
  Out(IER, 0x05);  // ERBFI, ELSI.
  ASSERT_TRUE(uart_.CanReceive());
  uart_.Receive('x');
  EXPECT_FALSE(uart_.CanReceive());
  EXPECT_EQ(In(LSR), 0x61);
  EXPECT_EQ(In(IIR), 0x04);
  EXPECT_TRUE(irq_.level());
  uart_.Receive('y');  // No room: overrun, RBR overwritten.
  EXPECT_EQ(In(IIR), 0x06);
  EXPECT_EQ(In(LSR), 0x63);
  EXPECT_EQ(In(LSR), 0x61);  // OE cleared by the read.
  EXPECT_EQ(In(IIR), 0x04);
  EXPECT_EQ(In(RBR), 'y');
  EXPECT_EQ(In(LSR), 0x60);
  EXPECT_EQ(In(IIR), 0x01);
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(In(RBR), 'y');  // Empty: RBR keeps the last byte.
}

TEST_F(UartTest, FifoTriggerLevels) {
  Out(MCR, 0x08);
  Out(IER, 0x01);
  struct Case {
    uint8_t fcr;
    int level;
  };
  for (Case c : {Case{0x01, 1}, Case{0x41, 4}, Case{0x81, 8}, Case{0xc1, 14}}) {
    SCOPED_TRACE(c.level);
    Out(FCR, static_cast<uint8_t>(c.fcr | 0x02));
    for (int i = 0; i < c.level - 1; ++i) uart_.Receive(static_cast<uint8_t>(i));
    EXPECT_EQ(In(IIR), 0xc1);
    EXPECT_FALSE(irq_.level());
    uart_.Receive(0xee);
    EXPECT_EQ(In(IIR), 0xc4);
    EXPECT_TRUE(irq_.level());
    In(RBR);
    EXPECT_EQ(In(IIR), 0xc1);  // Below the trigger again.
  }
}

TEST_F(UartTest, FifoHolds16BytesAndOverrunKeepsThem) {
  Out(FCR, 0x07);
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(uart_.CanReceive());
    uart_.Receive(static_cast<uint8_t>('A' + i));
  }
  EXPECT_FALSE(uart_.CanReceive());
  uart_.Receive('!');
  EXPECT_EQ(In(LSR), 0x63);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(In(RBR), 'A' + i);
  EXPECT_EQ(In(LSR), 0x60);
  // Clearing the receive FIFO through FCR.
  uart_.Receive('z');
  Out(FCR, 0x03);
  EXPECT_EQ(In(LSR), 0x60);
  // Leaving FIFO mode empties the FIFO too.
  uart_.Receive('z');
  Out(FCR, 0x00);
  EXPECT_EQ(In(LSR), 0x60);
  EXPECT_EQ(In(IIR), 0x01);  // No FIFO bits in IIR.
}

TEST_F(UartTest, CharacterTimeoutInterrupt) {
  Setup115200();
  Out(MCR, 0x08);
  Out(FCR, 0x81);  // Trigger at 8.
  Out(IER, 0x01);
  const uint64_t four_chars = 4 * uart_.char_time_ns();
  uart_.Receive('a');
  uart_.Receive('b');
  At(four_chars - 1);
  EXPECT_EQ(In(IIR), 0xc1);
  At(four_chars);
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(In(IIR), 0xcc);
  EXPECT_EQ(In(RBR), 'a');  // Reading clears the timeout and restarts it.
  EXPECT_EQ(In(IIR), 0xc1);
  EXPECT_FALSE(irq_.level());
  At(2 * four_chars - 1);
  EXPECT_EQ(In(IIR), 0xc1);
  At(2 * four_chars);
  EXPECT_EQ(In(IIR), 0xcc);
  EXPECT_EQ(In(RBR), 'b');
  At(4 * four_chars);
  EXPECT_EQ(In(IIR), 0xc1);  // Empty: no timeout.
  // A byte arriving restarts the timer.
  uart_.Receive('c');
  At(5 * four_chars - 10);
  uart_.Receive('d');
  At(5 * four_chars + 10);
  EXPECT_EQ(In(IIR), 0xc1);
  At(6 * four_chars - 10);
  EXPECT_EQ(In(IIR), 0xcc);
  // With ERBFI off nothing is reported; enabling it reports the stale FIFO.
  In(RBR);
  Out(IER, 0x00);
  At(10 * four_chars);
  EXPECT_EQ(In(IIR), 0xc1);
  Out(IER, 0x01);
  EXPECT_EQ(In(IIR), 0xcc);
}

TEST_F(UartTest, InterruptPriorities) {
  Out(MCR, 0x10);  // Loopback: modem inputs drop, deltas latch.
  Out(MCR, 0x08);  // Back to the host lines: deltas stay set.
  uart_.Receive('1');
  uart_.Receive('2');  // 16450 mode: overrun.
  Out(IER, 0x0f);
  EXPECT_EQ(In(IIR), 0x06);  // Line status first.
  In(LSR);
  EXPECT_EQ(In(IIR), 0x04);  // Then received data.
  In(RBR);
  EXPECT_EQ(In(IIR), 0x02);  // Then THRE (raised by enabling ETBEI).
  EXPECT_TRUE(irq_.level());
  EXPECT_EQ(In(IIR), 0x00);  // Then modem status.
  EXPECT_EQ(In(MSR), 0xbb);  // DCTS DDSR DDCD (no TERI: RI never fell).
  EXPECT_EQ(In(IIR), 0x01);
  EXPECT_FALSE(irq_.level());
  EXPECT_EQ(In(MSR), 0xb0);
}

TEST_F(UartTest, LoopbackWiresTxToRxAndMcrToMsr) {
  Out(MCR, 0x1a);  // Linux's probe: LOOP | OUT2 | RTS must read MSR 0x90.
  EXPECT_EQ(In(MSR) & 0xf0, 0x90);
  Out(MCR, 0x1f);
  EXPECT_EQ(In(MSR) & 0xf0, 0xf0);
  Out(MCR, 0x1b);  // OUT1 (RI) falls: TERI.
  EXPECT_EQ(In(MSR), 0xb4);
  EXPECT_FALSE(uart_.CanReceive());
  uart_.Receive('h');  // The serial input is disconnected.
  EXPECT_EQ(In(LSR), 0x60);
  Out(IER, 0x01);
  Out(THR, 'L');
  EXPECT_TRUE(sink_.bytes.empty());
  EXPECT_EQ(In(LSR), 0x61);
  EXPECT_EQ(In(IIR), 0x04);
  EXPECT_FALSE(irq_.level());  // OUT2 pin forced inactive in loopback.
  EXPECT_EQ(In(RBR), 'L');
  Out(MCR, 0x0b);
  Out(THR, 'W');
  EXPECT_EQ(sink_.bytes, std::vector<uint8_t>{'W'});
  EXPECT_EQ(In(MSR) & 0xf0, 0xb0);
}

TEST_F(UartTest, ModemStatusInterrupt) {
  Out(MCR, 0x08);
  Out(IER, 0x08);
  EXPECT_FALSE(irq_.level());
  Out(MCR, 0x18);  // Entering loopback changes the inputs, but gates the line.
  EXPECT_EQ(In(IIR), 0x00);
  EXPECT_FALSE(irq_.level());
  Out(MCR, 0x08);
  EXPECT_TRUE(irq_.level());
  In(MSR);
  EXPECT_FALSE(irq_.level());
}

TEST_F(UartTest, WideAccessIsByteCycles) {
  Out(SCR, 0x77);
  EXPECT_EQ(pio_.ReadValue(kBase + 6, 2), 0x77b0u);
  pio_.WriteValue(kBase + 3, 2, 0x0880);  // LCR = 0x80, MCR = 0x08.
  EXPECT_EQ(In(LCR), 0x80);
  EXPECT_EQ(In(MCR), 0x08);
}

TEST_F(PacedUartTest, TransmitTakesCharacterTimes) {
  Setup115200();
  const uint64_t t = uart_.char_time_ns();
  Out(MCR, 0x08);
  Out(FCR, 0x07);
  Out(IER, 0x02);
  EXPECT_EQ(In(IIR), 0xc2);
  Out(THR, '1');
  EXPECT_EQ(In(LSR), 0x20);  // In the shifter: THR empty, not TEMT.
  EXPECT_EQ(In(IIR), 0xc2);  // THRE again as the byte left the FIFO.
  Out(THR, '2');
  Out(THR, '3');
  EXPECT_EQ(In(LSR), 0x00);
  EXPECT_EQ(In(IIR), 0xc1);
  At(t - 1);
  EXPECT_TRUE(sink_.bytes.empty());
  At(t);
  EXPECT_EQ(sink_.bytes, std::vector<uint8_t>{'1'});
  EXPECT_EQ(In(LSR), 0x00);  // '2' shifts, '3' waits in the FIFO.
  EXPECT_EQ(In(IIR), 0xc1);
  EXPECT_FALSE(irq_.level());
  At(2 * t);
  EXPECT_EQ(sink_.bytes, (std::vector<uint8_t>{'1', '2'}));
  EXPECT_TRUE(irq_.level());  // '3' moved into the shifter: FIFO empty.
  EXPECT_EQ(In(LSR), 0x20);
  EXPECT_EQ(In(IIR), 0xc2);
  At(3 * t);
  EXPECT_EQ(sink_.bytes, (std::vector<uint8_t>{'1', '2', '3'}));
  EXPECT_EQ(In(LSR), 0x60);
  // A full FIFO drops further writes.
  for (int i = 0; i < 20; ++i) Out(THR, static_cast<uint8_t>('a' + i));
  At(3 * t + 40 * t);
  EXPECT_EQ(sink_.bytes.size(), 3u + 17u);  // Shifter + 16 in the FIFO.
}

TEST_F(PacedUartTest, SaveLoadRoundTrip) {
  Setup115200();
  const uint64_t t = uart_.char_time_ns();
  Out(MCR, 0x0b);
  Out(FCR, 0x87);
  Out(IER, 0x0f);
  Out(SCR, 0x42);
  for (char c : std::string("hello")) Out(THR, static_cast<uint8_t>(c));
  uart_.Receive('r');
  uart_.Receive('x');
  At(t + 5);
  In(IIR);

  Serializer save = Serializer::ForSave();
  clock_.Serialize(save);
  uart_.Serialize(save);

  VirtualClock clock2(VirtualClock::Mode::kDeterministic);
  RecordingIrqLine irq2;
  VectorSink sink2;
  Uart16550 uart2("com1", clock2, &irq2, &sink2, Uart16550::TxTiming::kBaudRate);
  Serializer load = Serializer::ForLoad(save.data());
  clock2.Serialize(load);
  uart2.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_EQ(irq2.level(), irq_.level());

  Serializer again = Serializer::ForSave();
  clock2.Serialize(again);
  uart2.Serialize(again);
  EXPECT_EQ(again.data(), save.data());

  Bus pio2("pio");
  ASSERT_TRUE(pio2.Register(kBase, 8, &uart2, "com1").has_value());
  size_t sent_before = sink_.bytes.size();
  for (uint64_t when : {2 * t, 4 * t + 3, 5 * t, 10 * t}) {
    At(when);
    clock2.AdvanceTo(when);
    clock2.RunDueTimers();
    EXPECT_EQ(irq2.level(), irq_.level());
    for (uint64_t reg : {IIR, LSR, MSR, SCR, IER, LCR, MCR}) {
      EXPECT_EQ(pio2.ReadValue(kBase + reg, 1), In(reg)) << reg;
    }
  }
  EXPECT_EQ(sink2.bytes,
            std::vector<uint8_t>(sink_.bytes.begin() + sent_before, sink_.bytes.end()));
  EXPECT_EQ(sink_.bytes, (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(pio2.ReadValue(kBase, 1), 'r');
  EXPECT_EQ(pio2.ReadValue(kBase, 1), 'x');
}

}  // namespace
}  // namespace x86vm
