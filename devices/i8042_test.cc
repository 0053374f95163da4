#include "devices/i8042.h"

#include <gtest/gtest.h>

#include <vector>

namespace x86vm {
namespace {

constexpr uint8_t kObf = I8042::kStatusOutputFull;
constexpr uint8_t kAux = I8042::kStatusAuxData;

// The guest's view: ports 0x60/0x64 on a port bus, IRQ 1 and 12 recorded.
class I8042Test : public ::testing::Test {
 protected:
  I8042Test() : kbc(&irq1, &irq12) {
    EXPECT_TRUE(
        bus.Register(0x60, 1, kbc.data_port(), "i8042 data").has_value());
    EXPECT_TRUE(
        bus.Register(0x64, 1, kbc.command_port(), "i8042 cmd").has_value());
  }

  uint8_t Status() { return static_cast<uint8_t>(bus.ReadValue(0x64, 1)); }
  void Command(uint8_t c) { bus.WriteValue(0x64, 1, c); }
  void Data(uint8_t v) { bus.WriteValue(0x60, 1, v); }
  // Like Linux's i8042_wait_read: a byte must be waiting.
  uint8_t ReadByte() {
    EXPECT_TRUE(Status() & kObf) << "output buffer empty";
    return static_cast<uint8_t>(bus.ReadValue(0x60, 1));
  }
  // Reads everything waiting (i8042_flush).
  std::vector<uint8_t> Drain() {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < 1000 && (Status() & kObf); ++i) {
      bytes.push_back(static_cast<uint8_t>(bus.ReadValue(0x60, 1)));
    }
    return bytes;
  }
  uint8_t ReadCtr() {
    Command(0x20);
    return ReadByte();
  }
  void WriteCtr(uint8_t ctr) {
    Command(0x60);
    Data(ctr);
  }
  // A mouse command through 0xD4; returns what came back (all aux data).
  std::vector<uint8_t> Mouse(uint8_t byte) {
    Command(0xD4);
    Data(byte);
    std::vector<uint8_t> out;
    while (Status() & kObf) {
      EXPECT_TRUE(Status() & kAux);
      out.push_back(static_cast<uint8_t>(bus.ReadValue(0x60, 1)));
    }
    return out;
  }

  RecordingIrqLine irq1;
  RecordingIrqLine irq12;
  Bus bus{"pio"};
  I8042 kbc;
};

using Bytes = std::vector<uint8_t>;

TEST_F(I8042Test, PowerOnState) {
  EXPECT_EQ(Status(), I8042::kStatusUnlocked);
  EXPECT_EQ(ReadCtr(), I8042::kCtrKbdInt | I8042::kCtrAuxInt);
  EXPECT_TRUE(kbc.a20_enabled());
  Command(0xD0);
  EXPECT_EQ(ReadByte(), 0xCF);
  EXPECT_FALSE(irq1.level());
}

// The sequence of Linux's i8042_controller_check/selftest/init/check_aux.
TEST_F(I8042Test, LinuxControllerProbe) {
  EXPECT_TRUE(Drain().empty());
  Command(0xAA);
  EXPECT_TRUE(Status() & I8042::kStatusCommand);
  EXPECT_EQ(ReadByte(), 0x55);
  EXPECT_TRUE(Status() & I8042::kStatusSystem);
  uint8_t ctr = ReadCtr();
  EXPECT_TRUE(ctr & I8042::kCtrSystem);
  // Linux disables the keyboard and its IRQ while it sets up.
  ctr =
      static_cast<uint8_t>((ctr | I8042::kCtrKbdDisable) & ~I8042::kCtrKbdInt);
  WriteCtr(ctr);
  EXPECT_FALSE(Status() & I8042::kStatusCommand);
  EXPECT_EQ(ReadCtr(), ctr);
  EXPECT_TRUE(Status() & I8042::kStatusUnlocked);

  // AUX loopback: the byte must come back marked as mouse data.
  Command(0xD3);
  Data(0x5A);
  EXPECT_EQ(Status() & (kObf | kAux), kObf | kAux);
  EXPECT_EQ(ReadByte(), 0x5A);
  Command(0xA9);
  EXPECT_EQ(ReadByte(), 0x00);
  // Bit assignment test.
  Command(0xA7);
  EXPECT_TRUE(ReadCtr() & I8042::kCtrAuxDisable);
  Command(0xA8);
  EXPECT_FALSE(ReadCtr() & I8042::kCtrAuxDisable);
  // AUX IRQ delivery test: enable the AUX IRQ, loop a byte, expect IRQ 12.
  WriteCtr(static_cast<uint8_t>(ReadCtr() | I8042::kCtrAuxInt));
  irq12.ClearEdges();
  Command(0xD3);
  Data(0xA5);
  EXPECT_EQ(irq12.rising_edges(), 1);
  EXPECT_TRUE(irq12.level());
  EXPECT_FALSE(irq1.level());
  EXPECT_EQ(ReadByte(), 0xA5);
  EXPECT_FALSE(irq12.level());
  Command(0xAB);
  EXPECT_EQ(ReadByte(), 0x00);
}

// SeaBIOS ps2port.c keyboard_init, condensed.
TEST_F(I8042Test, SeaBiosKeyboardInit) {
  Command(0xAD);
  Command(0xA7);
  EXPECT_TRUE(Drain().empty());
  Command(0xAA);
  EXPECT_EQ(ReadByte(), 0x55);
  Command(0xAB);
  EXPECT_EQ(ReadByte(), 0x00);
  // ps2_command: IRQs off, keyboard port enabled for the command.
  WriteCtr(I8042::kCtrAuxDisable);
  Data(0xFF);  // Reset + BAT.
  EXPECT_EQ(ReadByte(), 0xFA);
  EXPECT_EQ(ReadByte(), 0xAA);
  EXPECT_FALSE(Status() & kObf);
  Data(0xF5);
  EXPECT_EQ(ReadByte(), 0xFA);
  Data(0xF0);
  EXPECT_EQ(ReadByte(), 0xFA);
  Data(0x02);
  EXPECT_EQ(ReadByte(), 0xFA);
  EXPECT_EQ(kbc.keyboard().scancode_set(), 2);
  // Final mode: mouse off, translation, keyboard IRQ.
  WriteCtr(I8042::kCtrAuxDisable | I8042::kCtrTranslate | I8042::kCtrKbdInt);
  irq1.ClearEdges();
  Data(0xF4);
  EXPECT_EQ(irq1.rising_edges(), 1);
  EXPECT_EQ(ReadByte(), 0xFA);
  EXPECT_FALSE(irq1.level());
  kbc.KeyPress(0x1C, true);  // 'A'
  EXPECT_EQ(irq1.rising_edges(), 2);
  EXPECT_EQ(ReadByte(), 0x1E);
}

TEST_F(I8042Test, IdentifyIsTranslatedLikeEveryKeyboardByte) {
  Data(0xF2);
  EXPECT_EQ(Drain(), (Bytes{0xFA, 0xAB, 0x83}));
  WriteCtr(I8042::kCtrKbdInt | I8042::kCtrTranslate);
  Data(0xF2);
  EXPECT_EQ(Drain(), (Bytes{0xFA, 0xAB, 0x41}));
  Data(0xF0);
  Data(0x00);
  EXPECT_EQ(Drain(),
            (Bytes{0xFA, 0xFA, 0x41}));  // Set 2, translated (as QEMU).
}

TEST_F(I8042Test, TranslationTable) {
  EXPECT_EQ(TranslateSet2ToSet1(0x76), 0x01);  // Esc
  EXPECT_EQ(TranslateSet2ToSet1(0x16), 0x02);  // 1
  EXPECT_EQ(TranslateSet2ToSet1(0x1C), 0x1E);  // A
  EXPECT_EQ(TranslateSet2ToSet1(0x5A), 0x1C);  // Enter
  EXPECT_EQ(TranslateSet2ToSet1(0x29), 0x39);  // Space
  EXPECT_EQ(TranslateSet2ToSet1(0x05), 0x3B);  // F1
  EXPECT_EQ(TranslateSet2ToSet1(0x07), 0x58);  // F12
  EXPECT_EQ(TranslateSet2ToSet1(0x83), 0x41);  // F7
  EXPECT_EQ(TranslateSet2ToSet1(0x7E), 0x46);  // Scroll Lock
  EXPECT_EQ(TranslateSet2ToSet1(0x84), 0x54);  // Alt+SysRq
  EXPECT_EQ(TranslateSet2ToSet1(0x00), 0xFF);  // Overrun
  for (int b = 0x85; b <= 0xFF; ++b) {
    EXPECT_EQ(TranslateSet2ToSet1(static_cast<uint8_t>(b)), b);
  }
  // Set 1 make codes are unique: no two set 2 codes below 0x80 collide.
  int seen[256] = {};
  for (int b = 0; b < 0x80; ++b)
    ++seen[TranslateSet2ToSet1(static_cast<uint8_t>(b))];
  for (int v = 0; v < 256; ++v) EXPECT_LE(seen[v], 1) << v;
}

TEST_F(I8042Test, TranslatedKeySequences) {
  WriteCtr(I8042::kCtrKbdInt | I8042::kCtrTranslate);
  kbc.KeyPress(0x1C, true);
  kbc.KeyPress(0x1C, false);
  EXPECT_EQ(Drain(), (Bytes{0x1E, 0x9E}));
  kbc.KeyPress(0xE075, true);  // Up arrow.
  kbc.KeyPress(0xE075, false);
  EXPECT_EQ(Drain(), (Bytes{0xE0, 0x48, 0xE0, 0xC8}));
  kbc.KeyPress(kPs2KeyPause, true);
  kbc.KeyPress(kPs2KeyPause, false);
  EXPECT_EQ(Drain(), (Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5}));
  kbc.KeyPress(kPs2KeyPrintScreen, true);
  kbc.KeyPress(kPs2KeyPrintScreen, false);
  EXPECT_EQ(Drain(), (Bytes{0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA}));
  // Raw set 2 bytes from a frontend.
  const uint8_t lshift_break[] = {0xF0, 0x12};
  kbc.KeyEvent(lshift_break);
  EXPECT_EQ(Drain(), (Bytes{0xAA}));
}

TEST_F(I8042Test, UntranslatedSet2AndKeyboardSet1) {
  kbc.KeyPress(0x1C, true);
  kbc.KeyPress(0x1C, false);
  EXPECT_EQ(Drain(), (Bytes{0x1C, 0xF0, 0x1C}));
  Data(0xF0);
  Data(0x01);
  EXPECT_EQ(Drain(), (Bytes{0xFA, 0xFA}));
  Data(0xF0);
  Data(0x00);
  EXPECT_EQ(Drain(), (Bytes{0xFA, 0xFA, 0x01}));
  kbc.KeyPress(0x1C, true);
  kbc.KeyPress(0x1C, false);
  EXPECT_EQ(Drain(), (Bytes{0x1E, 0x9E}));
}

TEST_F(I8042Test, KeyboardCommands) {
  Data(0xED);
  Data(0x07);
  EXPECT_EQ(Drain(), (Bytes{0xFA, 0xFA}));
  EXPECT_EQ(kbc.keyboard_leds(), 0x07);
  Data(0xF3);
  Data(0x20);
  EXPECT_EQ(Drain(), (Bytes{0xFA, 0xFA}));
  Data(0xEE);
  EXPECT_EQ(Drain(), (Bytes{0xEE}));
  Data(0xFE);  // Resend the last byte sent.
  EXPECT_EQ(Drain(), (Bytes{0xEE}));
  Data(0x01);  // Not a command.
  EXPECT_EQ(Drain(), (Bytes{0xFE}));
  // Disabled scanning drops keys; enabling brings them back.
  Data(0xF5);
  EXPECT_EQ(Drain(), (Bytes{0xFA}));
  EXPECT_EQ(kbc.keyboard_leds(), 0);
  kbc.KeyPress(0x1C, true);
  EXPECT_TRUE(Drain().empty());
  Data(0xF4);
  EXPECT_EQ(Drain(), (Bytes{0xFA}));
  kbc.KeyPress(0x1C, true);
  EXPECT_EQ(Drain(), (Bytes{0x1C}));
}

TEST_F(I8042Test, DisabledKeyboardInterfaceHoldsKeys) {
  Command(0xAD);
  kbc.KeyPress(0x1C, true);
  EXPECT_FALSE(Status() & kObf);
  EXPECT_FALSE(irq1.level());
  Command(0xAE);
  EXPECT_TRUE(irq1.level());
  EXPECT_EQ(ReadByte(), 0x1C);
}

TEST_F(I8042Test, EachKeyboardByteIsANewIrqEdge) {
  kbc.KeyPress(0xE075, false);  // E0 F0 75
  EXPECT_EQ(irq1.rising_edges(), 1);
  EXPECT_EQ(ReadByte(), 0xE0);
  EXPECT_EQ(irq1.rising_edges(), 2);
  EXPECT_EQ(ReadByte(), 0xF0);
  EXPECT_EQ(ReadByte(), 0x75);
  EXPECT_EQ(irq1.rising_edges(), 3);
  EXPECT_FALSE(irq1.level());
  // An empty buffer reads back the last byte.
  EXPECT_EQ(bus.ReadValue(0x60, 1), 0x75u);
  // With the keyboard IRQ disabled the line stays low.
  WriteCtr(0);
  kbc.KeyPress(0x1C, true);
  EXPECT_TRUE(Status() & kObf);
  EXPECT_FALSE(irq1.level());
}

TEST_F(I8042Test, MouseResetIdentifyAndIntelliMouse) {
  EXPECT_EQ(Mouse(0xFF), (Bytes{0xFA, 0xAA, 0x00}));
  EXPECT_EQ(Mouse(0xF2), (Bytes{0xFA, 0x00}));
  for (uint8_t rate : {200, 100, 80}) {
    EXPECT_EQ(Mouse(0xF3), (Bytes{0xFA}));
    EXPECT_EQ(Mouse(rate), (Bytes{0xFA}));
  }
  EXPECT_EQ(Mouse(0xF2), (Bytes{0xFA, 0x03}));
  for (uint8_t rate : {200, 200, 80}) {
    Mouse(0xF3);
    Mouse(rate);
  }
  EXPECT_EQ(Mouse(0xF2), (Bytes{0xFA, 0x04}));
  EXPECT_EQ(Mouse(0xE8), (Bytes{0xFA}));
  EXPECT_EQ(Mouse(0x03), (Bytes{0xFA}));
  EXPECT_EQ(Mouse(0xE7), (Bytes{0xFA}));
  EXPECT_EQ(Mouse(0xF4), (Bytes{0xFA}));
  // Status: stream mode, enabled, 2:1 scaling, resolution 3, rate 80.
  EXPECT_EQ(Mouse(0xE9), (Bytes{0xFA, 0x30, 0x03, 80}));
  EXPECT_EQ(Mouse(0xFF), (Bytes{0xFA, 0xAA, 0x00}));
  EXPECT_EQ(Mouse(0xF2), (Bytes{0xFA, 0x00}));
  EXPECT_EQ(Mouse(0xE9), (Bytes{0xFA, 0x00, 0x02, 100}));
  EXPECT_EQ(Mouse(0xAB), (Bytes{0xFE}));
}

TEST_F(I8042Test, MouseStreamPackets) {
  WriteCtr(I8042::kCtrKbdInt | I8042::kCtrAuxInt);
  // Motion before reporting is enabled is ignored.
  kbc.MouseEvent(5, 5, 0);
  EXPECT_FALSE(Status() & kObf);
  EXPECT_EQ(Mouse(0xF4), (Bytes{0xFA}));
  irq12.ClearEdges();
  kbc.MouseEvent(10, 5, kPs2MouseLeft);  // Right 10, down 5.
  EXPECT_EQ(irq12.rising_edges(), 1);
  EXPECT_FALSE(irq1.level());
  EXPECT_EQ(Status() & (kObf | kAux), kObf | kAux);
  EXPECT_EQ(Drain(), (Bytes{0x29, 0x0A, 0xFB}));
  EXPECT_EQ(irq12.rising_edges(), 3);
  // Large motion is split; the remainder follows in the next packet.
  kbc.MouseEvent(-300, -2, kPs2MouseLeft | kPs2MouseRight);
  EXPECT_EQ(Drain(), (Bytes{0x1B, 0x00, 0x02, 0x1B, 0xD4, 0x00}));
  // A button change alone makes a packet.
  kbc.MouseEvent(0, 0, 0);
  EXPECT_EQ(Drain(), (Bytes{0x08, 0x00, 0x00}));
  // Disabled aux interface holds the packet until 0xA8.
  Command(0xA7);
  kbc.MouseEvent(1, 0, 0);
  EXPECT_FALSE(Status() & kObf);
  Command(0xA8);
  EXPECT_EQ(Drain(), (Bytes{0x08, 0x01, 0x00}));
  // A command flushes a half-read packet so the ACK is not mixed in.
  kbc.MouseEvent(1, 0, 0);
  EXPECT_EQ(ReadByte(), 0x08);
  EXPECT_EQ(Mouse(0xF5), (Bytes{0x01, 0xFA}));  // One byte already latched.
}

TEST_F(I8042Test, MouseWheelPackets) {
  for (uint8_t rate : {200, 100, 80}) {
    Mouse(0xF3);
    Mouse(rate);
  }
  Mouse(0xF4);
  kbc.MouseEvent(0, 0, 0, -1);
  EXPECT_EQ(Drain(), (Bytes{0x08, 0x00, 0x00, 0xFF}));
  for (uint8_t rate : {200, 200, 80}) {
    Mouse(0xF3);
    Mouse(rate);
  }
  Mouse(0xF4);
  kbc.MouseEvent(0, 0, kPs2MouseButton4, 2);
  EXPECT_EQ(Drain(), (Bytes{0x08, 0x00, 0x00, 0x12}));
}

TEST_F(I8042Test, MouseRemoteModeAndWrap) {
  EXPECT_EQ(Mouse(0xF0), (Bytes{0xFA}));
  kbc.MouseEvent(3, -4, kPs2MouseMiddle);
  EXPECT_FALSE(Status() & kObf);
  EXPECT_EQ(Mouse(0xE9), (Bytes{0xFA, 0x42, 0x02, 100}));
  EXPECT_EQ(Mouse(0xEB), (Bytes{0xFA, 0x0C, 0x03, 0x04}));
  EXPECT_EQ(Mouse(0xEB), (Bytes{0xFA, 0x0C, 0x00, 0x00}));
  EXPECT_EQ(Mouse(0xEA), (Bytes{0xFA}));
  EXPECT_EQ(Mouse(0xEE), (Bytes{0xFA}));
  EXPECT_EQ(Mouse(0x12), (Bytes{0x12}));
  EXPECT_EQ(Mouse(0xF4), (Bytes{0xF4}));
  EXPECT_EQ(Mouse(0xEC), (Bytes{0xFA}));
  EXPECT_EQ(Mouse(0xF4), (Bytes{0xFA}));
  EXPECT_TRUE(kbc.mouse().reporting());
}

TEST_F(I8042Test, LoopbackAndRamCommands) {
  Command(0xD2);
  Data(0x42);
  EXPECT_EQ(Status() & (kObf | kAux), kObf);
  EXPECT_EQ(ReadByte(), 0x42);
  Command(0x65);
  Data(0x99);
  Command(0x25);
  EXPECT_EQ(ReadByte(), 0x99);
  Command(0xC0);
  EXPECT_EQ(ReadByte(), 0x80);
  Command(0xA4);
  EXPECT_EQ(ReadByte(), 0xF1);
  // Unanswered commands queue a bounded number of replies (one in the
  // output buffer, 16 behind it).
  for (int i = 0; i < 100; ++i) Command(0x20);
  EXPECT_EQ(Drain().size(), 17u);
}

TEST_F(I8042Test, OutputPortA20AndReset) {
  std::vector<bool> a20;
  int resets = 0;
  kbc.set_a20_changed([&](bool on) { a20.push_back(on); });
  kbc.set_reset_requested([&] { ++resets; });
  // Linux's enable_a20_kbc: D1 DF, then a harmless FF.
  Command(0xD1);
  Data(0xDD);  // A20 off.
  EXPECT_FALSE(kbc.a20_enabled());
  Command(0xD1);
  Data(0xDF);  // A20 on.
  Command(0xFF);
  EXPECT_EQ(a20, (std::vector<bool>{false, true}));
  EXPECT_EQ(resets, 0);
  Command(0xD0);
  EXPECT_EQ(ReadByte(), 0xCF);  // Stored 0xDF; bit 4 mirrors the empty OBF.
  // The output buffer bits of the output port.
  kbc.KeyPress(0x1C, true);
  Command(0xD0);
  EXPECT_EQ(ReadByte(), 0x1C);
  EXPECT_EQ(ReadByte(), 0xDF | I8042::kOutKbdFull);  // Latched with key in OBF.
  Command(0xDD);
  Command(0xDF);
  EXPECT_EQ(a20, (std::vector<bool>{false, true, false, true}));
  Command(0xFE);
  EXPECT_EQ(resets, 1);
  Command(0xFC);  // Pulses lines 0 and 1.
  EXPECT_EQ(resets, 2);
  Command(0xFD);  // Line 1 only.
  EXPECT_EQ(resets, 2);
  Command(0xD1);
  Data(0xDE);  // Reset line low.
  EXPECT_EQ(resets, 3);
  kbc.Reset();
  EXPECT_TRUE(kbc.a20_enabled());
}

TEST(SystemControlPortA, FastA20AndReset) {
  Bus bus("pio");
  SystemControlPortA port92;
  ASSERT_TRUE(bus.Register(0x92, 1, &port92, "port92").has_value());
  std::vector<bool> a20;
  int resets = 0;
  port92.set_a20_changed([&](bool on) { a20.push_back(on); });
  port92.set_reset_requested([&] { ++resets; });
  EXPECT_EQ(bus.ReadValue(0x92, 1), 0x00u);
  bus.WriteValue(0x92, 1, 0x02);
  EXPECT_TRUE(port92.a20_enabled());
  EXPECT_EQ(bus.ReadValue(0x92, 1), 0x02u);
  bus.WriteValue(0x92, 1, 0x03);
  EXPECT_EQ(resets, 1);
  bus.WriteValue(0x92, 1, 0x03);  // No 0->1 transition.
  EXPECT_EQ(resets, 1);
  bus.WriteValue(0x92, 1, 0x00);
  bus.WriteValue(0x92, 1, 0x01);
  EXPECT_EQ(resets, 2);
  EXPECT_EQ(a20, (std::vector<bool>{true, false}));

  Serializer save = Serializer::ForSave();
  port92.Serialize(save);
  SystemControlPortA copy;
  Serializer load = Serializer::ForLoad(save.data());
  copy.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_EQ(copy.a20_enabled(), port92.a20_enabled());
  Serializer again = Serializer::ForSave();
  copy.Serialize(again);
  EXPECT_EQ(again.data(), save.data());
  port92.Reset();
  EXPECT_FALSE(port92.a20_enabled());
}

TEST_F(I8042Test, SaveLoadRoundTrip) {
  // Mutate: translation on, mouse in ID 3 streaming, keys and packets queued,
  // one byte latched in the output buffer, a pending D1.
  WriteCtr(I8042::kCtrKbdInt | I8042::kCtrAuxInt | I8042::kCtrTranslate);
  for (uint8_t rate : {200, 100, 80}) {
    Mouse(0xF3);
    Mouse(rate);
  }
  Mouse(0xF4);
  Data(0xED);
  Data(0x02);
  Drain();
  kbc.KeyPress(0xE075, true);
  kbc.KeyPress(0x1C, false);
  kbc.MouseEvent(400, 7, kPs2MouseRight, 3);
  EXPECT_EQ(ReadByte(), 0xE0);
  Command(0xD1);

  Serializer save = Serializer::ForSave();
  kbc.Serialize(save);
  ASSERT_TRUE(save.ok());

  RecordingIrqLine irq1b, irq12b;
  I8042 copy(&irq1b, &irq12b);
  Serializer load = Serializer::ForLoad(save.data());
  copy.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_EQ(irq1b.level(), irq1.level());
  EXPECT_EQ(irq12b.level(), irq12.level());
  Serializer again = Serializer::ForSave();
  copy.Serialize(again);
  EXPECT_EQ(again.data(), save.data());

  // Both continue identically.
  Bus bus2("pio");
  ASSERT_TRUE(bus2.Register(0x60, 1, copy.data_port(), "d").has_value());
  ASSERT_TRUE(bus2.Register(0x64, 1, copy.command_port(), "c").has_value());
  EXPECT_EQ(copy.keyboard_leds(), 0x02);
  EXPECT_EQ(copy.mouse().device_id(), 3);
  Data(0xDF);  // Completes the pending D1 on the original...
  bus2.WriteValue(0x60, 1, 0xDF);  // ...and on the copy.
  Bytes original = Drain();
  Bytes restored;
  while (bus2.ReadValue(0x64, 1) & kObf) {
    restored.push_back(static_cast<uint8_t>(bus2.ReadValue(0x60, 1)));
  }
  EXPECT_EQ(restored, original);
  EXPECT_EQ(original, (Bytes{0x48, 0x9E, 0x2A, 0xFF, 0xF9, 0x03, 0x0A, 0x91,
                             0x00, 0x00}));
}

TEST(I8042Load, CorruptStreamIsAnError) {
  RecordingIrqLine irq1, irq12;
  I8042 kbc(&irq1, &irq12);
  uint8_t junk[5] = {1, 2, 3, 4, 5};
  Serializer load = Serializer::ForLoad(junk);
  kbc.Serialize(load);
  EXPECT_FALSE(load.ok());
}

}  // namespace
}  // namespace x86vm
