// The BIOS services against a fake register frame and fake devices: the
// trap protocol, POST, INT 10h/11h/12h/15h/16h/1Ah and IRQ 0/1.
#include "firmware/bios/bios_services.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "firmware/bios/bios_bda.h"
#include "firmware/bios/bios_test_util.h"
#include "firmware/bios/builtin_bios_image.h"

namespace x86vm {
namespace {

namespace abi = bios_abi;

class BiosServicesTest : public ::testing::Test {
 protected:
  BiosServicesTest() : bios_(board_.Environment()) {
    BiosRegs post;
    post.kind = abi::kKindPost;
    bios_.Dispatch(post);
    board_.serial_out.clear();
  }

  std::string VgaRow(uint8_t row, size_t chars = 80) {
    std::string s;
    for (size_t c = 0; c < chars; ++c)
      s += static_cast<char>(bios_.Read8(0xb8000 + (row * 80 + c) * 2));
    return s;
  }

  BiosRegs Int(uint8_t vector, uint16_t ax) {
    BiosRegs r = Call(vector, ax);
    return r;
  }

  FakeBiosBoard board_;
  BiosServices bios_;
};

TEST(BiosFrameTest, EncodeDecodeRoundTripsEveryField) {
  std::array<uint8_t, abi::kFrameBytes> frame;
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i * 7 + 1);
  BiosRegs r = DecodeBiosFrame(frame);
  EXPECT_EQ(r.gs, 0x0801);
  EXPECT_EQ(r.eax, 0x120b04fdu);  // Bytes 36-39.
  EXPECT_EQ(r.vector, (46 * 7 + 1) & 0xff);
  std::array<uint8_t, abi::kFrameBytes> again{};
  EncodeBiosFrame(r, again);
  EXPECT_EQ(frame, again);
}

TEST(BiosFrameTest, LayoutMatchesTheStubPushes) {
  // PUSHAD order (SDM Vol. 2B): EAX is pushed first, so it sits highest.
  EXPECT_EQ(abi::kFrameEax - abi::kFrameEdi, 28u);
  EXPECT_EQ(abi::kFrameEdi, abi::kFrameDs + 2);
  EXPECT_EQ(abi::kFrameIp, abi::kFrameVector + 2);
  EXPECT_EQ(abi::kFrameBytes, abi::kFrameFlags + 2);
}

TEST(BiosImageTest, HasTheResetVectorAndTables) {
  std::span<const uint8_t> image = BuiltinBiosImage();
  ASSERT_EQ(image.size(), abi::kBiosImageBytes);
  EXPECT_EQ(image[0xfff0], 0xea);  // JMP FAR at F000:FFF0.
  EXPECT_EQ(image[0xfffe], 0xfc);  // Model byte.
  EXPECT_EQ(image[abi::kSystemConfigOffset], 8);
  EXPECT_EQ(image[abi::kSystemConfigOffset + 2], 0xfc);
}

TEST_F(BiosServicesTest, HandleTrapServesTheFrameInGuestMemory) {
  constexpr uint32_t kFrame = 0x7000;
  BiosRegs r = Call(0x12, 0x1234);
  r.ebx = 0xdeadbeef;
  r.ip = 0x1111;
  r.cs = 0x2222;
  std::array<uint8_t, abi::kFrameBytes> frame{};
  EncodeBiosFrame(r, frame);
  ASSERT_TRUE(board_.memory().WritePhysical(kFrame, frame));
  bios_.HandleTrap(kFrame);
  ASSERT_TRUE(board_.memory().ReadPhysical(kFrame, frame));
  BiosRegs out = DecodeBiosFrame(frame);
  EXPECT_EQ(out.ax(), 639);  // INT 12h: KiB below the EBDA.
  EXPECT_EQ(out.ebx, 0xdeadbeefu);
  EXPECT_EQ(out.ip, 0x1111);
  EXPECT_EQ(out.cs, 0x2222);
  EXPECT_EQ(out.action, abi::kActionReturn);
}

TEST_F(BiosServicesTest, PostFillsTheBdaAndPrintsTheBanner) {
  FakeBiosBoard board;
  bool board_post_ran = false;
  BiosServices bios(board.Environment({board.AddDisk(16)}));
  bios.set_board_post([&] { board_post_ran = true; });
  BiosRegs post;
  post.kind = abi::kKindPost;
  bios.Dispatch(post);
  EXPECT_TRUE(board_post_ran);
  EXPECT_EQ(bios.Read16(bda::kComPorts), 0x3f8);
  EXPECT_EQ(bios.Read16(bda::kEbdaSegment), 0x9fc0);
  EXPECT_EQ(bios.Read16(bda::kMemorySizeKb), 639);
  EXPECT_EQ(bios.Read8(bda::kHardDiskCount), 1);
  EXPECT_EQ(bios.Read16(bda::kKbdHead), bda::kKbdBufferDefault);
  EXPECT_EQ(bios.Read8(bda::kVideoMode), 3);
  EXPECT_EQ(bios.Read8(abi::kEbdaBase), 1);  // EBDA size, KiB.
  EXPECT_EQ(board.serial_out, "x86vm BIOS\r\n");
  EXPECT_EQ(bios.Read8(0xb8000), 'x');
  // The keyboard controller translates to set 1 with IRQ 1 on; the RTC is BCD.
  EXPECT_EQ(board.i8042_commands, std::vector<uint8_t>{0x60});
  EXPECT_EQ(board.i8042_data, std::vector<uint8_t>{0x65});
  EXPECT_EQ(board.cmos[0x0b], 0x02);
}

TEST_F(BiosServicesTest, TeletypeWritesVgaAndSerialAndScrolls) {
  BiosRegs r = Int(0x10, 0x0200);
  r.set_dx(0x1800);  // Row 24, column 0.
  bios_.Dispatch(r);
  for (char c : std::string("last\r\nnext")) {
    r = Int(0x10, static_cast<uint16_t>(0x0e00 | static_cast<uint8_t>(c)));
    bios_.Dispatch(r);
  }
  EXPECT_EQ(board_.serial_out, "last\r\nnext");
  EXPECT_EQ(VgaRow(23, 4), "last");
  EXPECT_EQ(VgaRow(24, 4), "next");
  r = Int(0x10, 0x0300);
  bios_.Dispatch(r);
  EXPECT_EQ(r.dx(), 0x1804);
  // Backspace moves left without erasing.
  r = Int(0x10, 0x0e08);
  bios_.Dispatch(r);
  r = Int(0x10, 0x0300);
  bios_.Dispatch(r);
  EXPECT_EQ(r.dx(), 0x1803);
  EXPECT_EQ(VgaRow(24, 4), "next");
}

TEST_F(BiosServicesTest, WriteCharAttrScrollAndMode) {
  BiosRegs r = Int(0x10, 0x0200);
  r.set_dx(0x0505);
  bios_.Dispatch(r);
  r = Int(0x10, 0x0941);  // 'A' x3, attribute 1Fh.
  r.set_bx(0x001f);
  r.set_cx(3);
  bios_.Dispatch(r);
  EXPECT_EQ(bios_.Read16(0xb8000 + (5 * 80 + 7) * 2), 0x1f41);
  EXPECT_EQ(bios_.Read16(0xb8000 + (5 * 80 + 8) * 2), 0x0720);
  r = Int(0x10, 0x0800);
  bios_.Dispatch(r);
  EXPECT_EQ(r.ax(), 0x1f41);
  // Scroll rows 0-10 down by 2: row 5 moves to row 7, rows 0-1 blank in 4Eh.
  r = Int(0x10, 0x0702);
  r.set_bh(0x4e);
  r.set_cx(0x0000);
  r.set_dx(0x0a4f);
  bios_.Dispatch(r);
  EXPECT_EQ(bios_.Read16(0xb8000 + (7 * 80 + 5) * 2), 0x1f41);
  EXPECT_EQ(bios_.Read16(0xb8000 + (0 * 80 + 5) * 2), 0x4e20);
  r = Int(0x10, 0x0f00);
  bios_.Dispatch(r);
  EXPECT_EQ(r.ax(), 0x5003);
  // AH=00h clears the screen; a graphics mode leaves the text mode alone.
  r = Int(0x10, 0x0013);
  bios_.Dispatch(r);
  EXPECT_EQ(bios_.Read8(bda::kVideoMode), 3);
  r = Int(0x10, 0x0003);
  bios_.Dispatch(r);
  EXPECT_EQ(bios_.Read16(0xb8000 + (7 * 80 + 5) * 2), 0x0720);
  // VGA detection as Linux does it: AH=12h/BL=10h then AX=1A00h.
  r = Int(0x10, 0x1200);
  r.set_bl(0x10);
  bios_.Dispatch(r);
  EXPECT_NE(r.bl(), 0x10);
  r = Int(0x10, 0x1a00);
  bios_.Dispatch(r);
  EXPECT_EQ(r.al(), 0x1a);
  EXPECT_EQ(r.bl(), 0x08);
}

TEST_F(BiosServicesTest, WriteStringWithAttributes) {
  const uint8_t text[] = {'h', 0x1e, 'i', 0x2f};
  ASSERT_TRUE(board_.memory().WritePhysical(0x5000, text));
  BiosRegs r = Int(0x10, 0x1303);  // Attributes in the string, move the cursor.
  r.es = 0x500;
  r.ebp = 0;
  r.set_cx(2);
  r.set_dx(0x0300);
  bios_.Dispatch(r);
  EXPECT_EQ(bios_.Read16(0xb8000 + 3 * 80 * 2), 0x1e68);
  EXPECT_EQ(bios_.Read16(0xb8000 + (3 * 80 + 1) * 2), 0x2f69);
  EXPECT_EQ(board_.serial_out, "hi");
  r = Int(0x10, 0x0300);
  bios_.Dispatch(r);
  EXPECT_EQ(r.dx(), 0x0302);
}

TEST_F(BiosServicesTest, EquipmentAndMemorySize) {
  BiosRegs r = Int(0x11, 0);
  bios_.Dispatch(r);
  EXPECT_EQ(r.ax(), 0x0826);  // FPU, PS/2 mouse, 80x25 colour, 4 serial ports.
  r = Int(0x12, 0);
  bios_.Dispatch(r);
  EXPECT_EQ(r.ax(), 639);
}

TEST_F(BiosServicesTest, E820WalksTheMapWithContinuation) {
  std::vector<E820Entry> map = {{0, 0x9fc00, E820Type::kRam},
                                {0x100000, 0xe00000, E820Type::kRam},
                                {0xf00000, 0x10000, E820Type::kAcpi}};
  bios_.set_e820(map);
  uint32_t next = 0;
  for (size_t i = 0; i < map.size(); ++i) {
    BiosRegs r = Int(0x15, 0xe820);
    r.eax = 0xe820;
    r.edx = 0x534d4150;
    r.ebx = next;
    r.ecx = 24;
    r.es = 0x600;
    r.edi = 0;
    bios_.Dispatch(r);
    ASSERT_FALSE(r.cf());
    EXPECT_EQ(r.eax, 0x534d4150u);
    EXPECT_EQ(r.ecx, 24u);
    EXPECT_EQ(bios_.Read32(0x6000), static_cast<uint32_t>(map[i].addr));
    EXPECT_EQ(bios_.Read32(0x6008), static_cast<uint32_t>(map[i].size));
    EXPECT_EQ(bios_.Read32(0x6010), static_cast<uint32_t>(map[i].type));
    EXPECT_EQ(bios_.Read32(0x6014), 1u);  // Extended attributes: enabled.
    next = r.ebx;
  }
  EXPECT_EQ(next, 0u);
  BiosRegs bad = Int(0x15, 0xe820);
  bad.eax = 0xe820;
  bad.edx = 0x12345678;  // Not 'SMAP'.
  bad.ecx = 20;
  bios_.Dispatch(bad);
  EXPECT_TRUE(bad.cf());
  // E801h and 88h describe the RAM from 1 MiB to the ACPI tables.
  BiosRegs e801 = Int(0x15, 0xe801);
  bios_.Dispatch(e801);
  EXPECT_FALSE(e801.cf());
  EXPECT_EQ(e801.ax(), 0x3800);  // 14 MiB: from 1 MiB to the ACPI entry.
  EXPECT_EQ(e801.bx(), 0);
  BiosRegs e88 = Int(0x15, 0x8800);
  bios_.Dispatch(e88);
  EXPECT_EQ(e88.ax(), 0x3800);
}

TEST_F(BiosServicesTest, A20FunctionsDriveBothGates) {
  BiosRegs r = Int(0x15, 0x2400);
  bios_.Dispatch(r);
  EXPECT_FALSE(r.cf());
  EXPECT_EQ(board_.port92 & 0x02, 0);
  EXPECT_EQ(board_.i8042_commands.back(), 0xd1);
  EXPECT_EQ(board_.i8042_data.back() & 0x02, 0);
  r = Int(0x15, 0x2401);
  bios_.Dispatch(r);
  EXPECT_EQ(board_.port92 & 0x02, 0x02);
  EXPECT_EQ(board_.i8042_data.back() & 0x03, 0x03);  // A20 on, reset deasserted.
  r = Int(0x15, 0x2402);
  bios_.Dispatch(r);
  EXPECT_EQ(r.al(), 1);  // The fake board's memory never turned A20 off.
  r = Int(0x15, 0x2403);
  bios_.Dispatch(r);
  EXPECT_EQ(r.bx(), 3);
}

TEST_F(BiosServicesTest, WaitKeepsItsDeadlineInTheFrameUntilItPasses) {
  BiosRegs r = Int(0x15, 0x8600);
  r.set_cx(0x0001);
  r.set_dx(0x86a0);  // 100 ms.
  bios_.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionWait);
  EXPECT_NE(r.scratch, 0u);
  board_.clock().AdvanceTo(99'000'000);
  r.action = abi::kActionReturn;
  bios_.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionRetry);  // Under 2 ms left: poll.
  board_.clock().AdvanceTo(100'001'000);
  r.action = abi::kActionReturn;
  bios_.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionReturn);
  EXPECT_FALSE(r.cf());
}

TEST_F(BiosServicesTest, BlockMoveCopiesBetweenDescriptors) {
  // A GDT at 0x3000 with source (0x200000) at +10h and destination (0x7100) at +18h.
  const char text[] = "moved above 1 MiB";
  ASSERT_TRUE(board_.memory().WritePhysical(
      0x200000, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text), sizeof(text))));
  auto descriptor = [this](uint64_t at, uint32_t base) {
    bios_.Write16(at, 0xffff);
    bios_.Write16(at + 2, static_cast<uint16_t>(base));
    bios_.Write8(at + 4, static_cast<uint8_t>(base >> 16));
    bios_.Write8(at + 5, 0x93);
    bios_.Write8(at + 7, static_cast<uint8_t>(base >> 24));
  };
  descriptor(0x3010, 0x200000);
  descriptor(0x3018, 0x7100);
  BiosRegs r = Int(0x15, 0x8700);
  r.es = 0x300;
  r.esi = 0;
  r.set_cx(sizeof(text) / 2 + 1);
  bios_.Dispatch(r);
  EXPECT_FALSE(r.cf());
  char out[sizeof(text)];
  ASSERT_TRUE(board_.memory().ReadPhysical(
      0x7100, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out), sizeof(out))));
  EXPECT_STREQ(out, text);
}

TEST_F(BiosServicesTest, ConfigurationTableAndUnsupportedFunctions) {
  BiosRegs r = Int(0x15, 0xc000);
  bios_.Dispatch(r);
  EXPECT_FALSE(r.cf());
  EXPECT_EQ(r.es, 0xf000);
  EXPECT_EQ(r.bx(), 0xe6f5);
  r = Int(0x15, 0x5300);  // APM: absent.
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  EXPECT_EQ(r.ah(), 0x86);
  r = Int(0x15, 0x4f1e);  // Keyboard intercept: process the key.
  r.set_cf(false);
  bios_.Dispatch(r);
  EXPECT_TRUE(r.cf());
  EXPECT_EQ(r.al(), 0x1e);
}

// Sends set-1 scan codes through the IRQ 1 service.
void Keys(BiosServices& bios, std::initializer_list<uint8_t> codes) {
  for (uint8_t code : codes) {
    BiosRegs r = Call(0x09, static_cast<uint16_t>(0x4f00 | code));
    bios.Dispatch(r);
  }
}

uint16_t ReadKey(BiosServices& bios, uint8_t function = 0x10) {
  BiosRegs r = Call(0x16, static_cast<uint16_t>(function << 8));
  bios.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionReturn);
  return r.ax();
}

TEST_F(BiosServicesTest, ScanCodesBecomeKeysWithShiftCtrlCapsAndE0) {
  Keys(bios_, {0x1e, 0x9e});              // a.
  Keys(bios_, {0x2a, 0x1e, 0x9e, 0xaa});  // Shift+a.
  Keys(bios_, {0x1d, 0x2e, 0xae, 0x9d});  // Ctrl+c.
  Keys(bios_, {0x3a, 0xba, 0x1e, 0x02});  // Caps Lock, a, 1.
  Keys(bios_, {0x3a, 0xba});              // Caps Lock off.
  Keys(bios_, {0xe0, 0x48, 0xe0, 0xc8});  // Grey up arrow.
  Keys(bios_, {0x48});                    // Keypad 8 (Num Lock off): up.
  Keys(bios_, {0x1c});                    // Enter.
  EXPECT_EQ(board_.eois, 22);             // One per scan code.
  EXPECT_EQ(ReadKey(bios_), 0x1e61);
  EXPECT_EQ(ReadKey(bios_), 0x1e41);
  EXPECT_EQ(ReadKey(bios_), 0x2e03);
  EXPECT_EQ(ReadKey(bios_), 0x1e41);
  EXPECT_EQ(ReadKey(bios_), 0x0231);
  EXPECT_EQ(ReadKey(bios_), 0x48e0);
  EXPECT_EQ(ReadKey(bios_, 0x00), 0x4800);
  EXPECT_EQ(ReadKey(bios_, 0x00), 0x1c0d);
  // Empty: AH=01h reports ZF, AH=00h waits (halts until an interrupt).
  BiosRegs r = Call(0x16, 0x0100);
  bios_.Dispatch(r);
  EXPECT_TRUE(r.zf());
  r = Call(0x16, 0x0000);
  bios_.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionWait);
  // Shift state.
  Keys(bios_, {0x36});
  r = Call(0x16, 0x0200);
  bios_.Dispatch(r);
  EXPECT_EQ(r.al() & bda::kRightShift, bda::kRightShift);
}

TEST_F(BiosServicesTest, SerialInputArrivesAsKeys) {
  for (uint8_t b : std::initializer_list<uint8_t>{'h', 'I', '\n', 0x7f, 0x03}) {
    board_.rx.push_back(b);
  }
  BiosRegs r = Call(0x16, 0x0100);
  bios_.Dispatch(r);
  EXPECT_FALSE(r.zf());
  EXPECT_EQ(r.ax(), 0x2368);
  EXPECT_EQ(board_.rx.size(), 4u);  // Peeking takes one byte only.
  EXPECT_EQ(ReadKey(bios_), 0x2368);
  EXPECT_EQ(ReadKey(bios_), 0x1749);
  EXPECT_EQ(ReadKey(bios_), 0x1c0d);
  EXPECT_EQ(ReadKey(bios_), 0x0e08);
  EXPECT_EQ(ReadKey(bios_), 0x2e03);  // Ctrl+C.
}

TEST_F(BiosServicesTest, KeyBufferHoldsFifteenKeys) {
  for (int i = 0; i < 20; ++i) {
    BiosRegs r = Call(0x16, 0x0500);
    r.set_cx(static_cast<uint16_t>(0x1e61 + i));
    bios_.Dispatch(r);
    EXPECT_EQ(r.al(), i < 15 ? 0 : 1) << i;
  }
  for (int i = 0; i < 15; ++i) EXPECT_EQ(ReadKey(bios_), 0x1e61 + i);
  // Serial input waits in the UART while the buffer holds a key.
  BiosRegs r = Call(0x16, 0x0500);
  r.set_cx(0x3920);
  bios_.Dispatch(r);
  board_.rx.push_back('z');
  r = Call(0x16, 0x1100);
  bios_.Dispatch(r);
  EXPECT_EQ(r.ax(), 0x3920);
  EXPECT_EQ(board_.rx.size(), 1u);
  EXPECT_EQ(ReadKey(bios_), 0x3920);
  EXPECT_EQ(ReadKey(bios_), 0x2c7a);
}

TEST_F(BiosServicesTest, TimerTicksRollOverAtMidnight) {
  bios_.Write32(bda::kTicks, bda::kTicksPerDay - 2);
  BiosRegs irq = Call(0x08, 0);
  bios_.Dispatch(irq);
  EXPECT_EQ(bios_.Read32(bda::kTicks), bda::kTicksPerDay - 1);
  bios_.Dispatch(irq);
  EXPECT_EQ(bios_.Read32(bda::kTicks), 0u);
  EXPECT_EQ(board_.eois, 2);
  BiosRegs r = Call(0x1a, 0x0000);
  bios_.Dispatch(r);
  EXPECT_EQ(r.al(), 1);
  EXPECT_EQ(r.cx(), 0);
  EXPECT_EQ(r.dx(), 0);
  r = Call(0x1a, 0x0000);
  bios_.Dispatch(r);
  EXPECT_EQ(r.al(), 0);  // The midnight flag is read once.
  r = Call(0x1a, 0x0100);
  r.set_cx(0x0012);
  r.set_dx(0x3456);
  bios_.Dispatch(r);
  EXPECT_EQ(bios_.Read32(bda::kTicks), 0x00123456u);
}

TEST_F(BiosServicesTest, RtcTimeAndDateInBcd) {
  board_.cmos[0x00] = 0x45;  // 12:34:45, 2024-03-15 in BCD.
  board_.cmos[0x02] = 0x34;
  board_.cmos[0x04] = 0x12;
  board_.cmos[0x07] = 0x15;
  board_.cmos[0x08] = 0x03;
  board_.cmos[0x09] = 0x24;
  board_.cmos[0x32] = 0x20;
  BiosRegs r = Call(0x1a, 0x0200);
  bios_.Dispatch(r);
  EXPECT_FALSE(r.cf());
  EXPECT_EQ(r.cx(), 0x1234);
  EXPECT_EQ(r.dh(), 0x45);
  r = Call(0x1a, 0x0400);
  bios_.Dispatch(r);
  EXPECT_EQ(r.cx(), 0x2024);
  EXPECT_EQ(r.dx(), 0x0315);
  // Binary mode RTC: still BCD for the caller.
  board_.cmos[0x0b] = 0x06;
  board_.cmos[0x04] = 23;
  r = Call(0x1a, 0x0200);
  bios_.Dispatch(r);
  EXPECT_EQ(r.ch(), 0x23);
  // During the update cycle the call is retried.
  board_.cmos[0x0a] = 0x80;
  r = Call(0x1a, 0x0200);
  bios_.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionRetry);
  // Setting the time writes the registers (binary here).
  board_.cmos[0x0a] = 0;
  r = Call(0x1a, 0x0300);
  r.set_cx(0x0859);
  r.set_dh(0x30);
  bios_.Dispatch(r);
  EXPECT_EQ(board_.cmos[0x04], 8);
  EXPECT_EQ(board_.cmos[0x02], 59);
  EXPECT_EQ(board_.cmos[0x00], 30);
  EXPECT_EQ(board_.cmos[0x0b] & 0x80, 0);
}

TEST_F(BiosServicesTest, FaultsAreReportedAndHalt) {
  BiosRegs r = Call(0x06, 0);
  r.cs = 0x1000;
  r.ip = 0x0a59;
  bios_.Dispatch(r);
  EXPECT_EQ(r.action, abi::kActionHalt);
  EXPECT_NE(board_.serial_out.find("invalid opcode at 1000:0a59"), std::string::npos);
}

}  // namespace
}  // namespace x86vm
