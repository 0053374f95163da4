#include "devices/pic8259.h"

#include <gtest/gtest.h>

#include <memory>

namespace x86vm {
namespace {

constexpr uint64_t kMasterCmd = 0x20;
constexpr uint64_t kMasterData = 0x21;
constexpr uint64_t kSlaveCmd = 0xa0;
constexpr uint64_t kSlaveData = 0xa1;
constexpr uint64_t kElcr1 = 0x4d0;
constexpr uint64_t kElcr2 = 0x4d1;

void RegisterPic(Bus& pio, PicPair& pic) {
  ASSERT_TRUE(pio.Register(PicPair::kMasterBase, PicPair::kWindowSize,
                           pic.master_target(), "pic-master")
                  .has_value());
  ASSERT_TRUE(pio.Register(PicPair::kSlaveBase, PicPair::kWindowSize,
                           pic.slave_target(), "pic-slave")
                  .has_value());
  ASSERT_TRUE(pio.Register(PicPair::kElcrBase, PicPair::kWindowSize,
                           pic.elcr_target(), "elcr")
                  .has_value());
}

class PicTest : public ::testing::Test {
 protected:
  PicTest() : pio_("pio"), pic_(std::make_unique<PicPair>(&intr_)) {
    RegisterPic(pio_, *pic_);
  }

  void Out(uint64_t port, uint8_t value) { pio_.WriteValue(port, 1, value); }
  uint8_t In(uint64_t port) {
    return static_cast<uint8_t>(pio_.ReadValue(port, 1));
  }
  void Raise(int irq) { pic_->input(irq)->Raise(); }
  void Lower(int irq) { pic_->input(irq)->Lower(); }
  void Pulse(int irq) { pic_->input(irq)->Pulse(); }

  // Linux arch/x86/kernel/i8259.c init_8259A(): vectors 0x30/0x38, cascade
  // on IR2, normal or auto EOI on the master, then everything masked.
  void InitLikeLinux(bool auto_eoi = false) {
    Out(kMasterData, 0xff);
    Out(kSlaveData, 0xff);
    Out(kMasterCmd, 0x11);
    Out(kMasterData, 0x30);
    Out(kMasterData, 0x04);
    Out(kMasterData, auto_eoi ? 0x03 : 0x01);
    Out(kSlaveCmd, 0x11);
    Out(kSlaveData, 0x38);
    Out(kSlaveData, 0x02);
    Out(kSlaveData, 0x01);
    Out(kMasterData, 0xff);
    Out(kSlaveData, 0xff);
  }

  // SeaBIOS src/hw/pic.c pic_reset(): the chips interleaved, vectors 0x08 and
  // 0x70, all masked but the cascade.
  void InitLikeSeaBios() {
    Out(kMasterCmd, 0x11);
    Out(kSlaveCmd, 0x11);
    Out(kMasterData, 0x08);
    Out(kSlaveData, 0x70);
    Out(kMasterData, 0x04);
    Out(kSlaveData, 0x02);
    Out(kMasterData, 0x01);
    Out(kSlaveData, 0x01);
    Out(kMasterData, 0xfb);
    Out(kSlaveData, 0xff);
  }

  uint8_t MasterIsr() {
    Out(kMasterCmd, 0x0b);
    uint8_t v = In(kMasterCmd);
    Out(kMasterCmd, 0x0a);
    return v;
  }
  uint8_t SlaveIsr() {
    Out(kSlaveCmd, 0x0b);
    uint8_t v = In(kSlaveCmd);
    Out(kSlaveCmd, 0x0a);
    return v;
  }

  // Linux mask_and_ack_8259A() followed by the unmask after the handler.
  void LinuxAck(int irq) {
    if (irq & 8) {
      Out(kSlaveCmd, static_cast<uint8_t>(0x60 + (irq & 7)));
      Out(kMasterCmd, 0x62);
    } else {
      Out(kMasterCmd, static_cast<uint8_t>(0x60 + irq));
    }
  }

  Bus pio_;
  RecordingIrqLine intr_;
  std::unique_ptr<PicPair> pic_;
};

TEST_F(PicTest, ResetMasksEverything) {
  EXPECT_EQ(In(kMasterData), 0xff);
  EXPECT_EQ(In(kSlaveData), 0xff);
  Raise(0);
  EXPECT_FALSE(pic_->HasInterrupt());
  EXPECT_FALSE(intr_.level());
  EXPECT_EQ(In(kMasterCmd), 0x01) << "IRR latches even when masked";
}

TEST_F(PicTest, SeaBiosInitAndNonSpecificEoi) {
  InitLikeSeaBios();
  EXPECT_EQ(In(kMasterData), 0xfb);
  EXPECT_EQ(In(kSlaveData), 0xff);
  Out(kMasterData, 0xfa);  // Unmask the timer.
  Pulse(0);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_TRUE(intr_.level());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x08);
  EXPECT_FALSE(intr_.level());
  EXPECT_EQ(MasterIsr(), 0x01);
  EXPECT_EQ(In(kMasterCmd), 0x00) << "IRR cleared by INTA";
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(MasterIsr(), 0x00);
  // A slave interrupt (RTC, IRQ8): vector 0x70; SeaBIOS EOIs both chips.
  Out(kSlaveData, 0xfe);
  Pulse(8);
  EXPECT_TRUE(intr_.level());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x70);
  EXPECT_EQ(MasterIsr(), 0x04);
  EXPECT_EQ(SlaveIsr(), 0x01);
  Out(kSlaveCmd, 0x20);
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(MasterIsr(), 0x00);
  EXPECT_EQ(SlaveIsr(), 0x00);
  EXPECT_FALSE(pic_->HasInterrupt());
}

TEST_F(PicTest, LinuxInitProbeAndSpecificEoi) {
  InitLikeLinux();
  // probe_8259A(): mask all but the cascade and read it back.
  Out(kMasterData, 0xfb);
  EXPECT_EQ(In(kMasterData), 0xfb);
  Out(kSlaveData, 0xef);  // Unmask IRQ12.
  Raise(12);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3c);
  EXPECT_EQ(MasterIsr(), 0x04);
  EXPECT_EQ(SlaveIsr(), 0x10);
  LinuxAck(12);
  EXPECT_EQ(MasterIsr(), 0x00);
  EXPECT_EQ(SlaveIsr(), 0x00);
  // Edge input held high: no second interrupt until it goes low and high.
  EXPECT_FALSE(pic_->HasInterrupt());
  Lower(12);
  Raise(12);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3c);
}

TEST_F(PicTest, FixedPriorityAndNesting) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  Pulse(3);
  Pulse(1);
  Pulse(10);  // Slave requests rank at IR2, between IRQ1 and IRQ3.
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x31);
  // IRQ1 in service blocks everything of lower priority.
  EXPECT_FALSE(pic_->HasInterrupt());
  Pulse(0);
  EXPECT_TRUE(pic_->HasInterrupt()) << "IRQ0 nests over IRQ1";
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x30);
  EXPECT_EQ(MasterIsr(), 0x03);
  Out(kMasterCmd, 0x20);  // Non-specific EOI ends IRQ0, the highest.
  EXPECT_EQ(MasterIsr(), 0x02);
  EXPECT_FALSE(pic_->HasInterrupt());
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3a);
  // With IRQ10 in service on the slave and IR2 on the master, IRQ3 waits.
  EXPECT_FALSE(pic_->HasInterrupt());
  Out(kSlaveCmd, 0x20);
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x33);
}

TEST_F(PicTest, SlavePriorityWithinCascade) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  Pulse(14);
  Pulse(9);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x39);
  // IRQ14 is pending on the slave, but the master's IR2 is in service.
  EXPECT_FALSE(pic_->HasInterrupt());
  LinuxAck(9);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3e);
}

TEST_F(PicTest, RotationCommands) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  // Rotate on non-specific EOI: the level just served becomes lowest.
  Pulse(1);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x31);
  Out(kMasterCmd, 0xa0);
  Pulse(1);
  Pulse(5);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x35) << "IR2..IR7 now outrank IR1";
  // Rotate on specific EOI for IR5: IR6 becomes highest.
  Out(kMasterCmd, 0xe5);
  Pulse(7);
  Pulse(6);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x36);
  Out(kMasterCmd, 0x66);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x37);
  Out(kMasterCmd, 0x67);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x31);
  Out(kMasterCmd, 0x61);
  // Set priority: IR3 lowest, so IR4 highest.
  Out(kMasterCmd, 0xc3);
  Pulse(3);
  Pulse(0);
  Pulse(4);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x34);
  EXPECT_FALSE(pic_->HasInterrupt()) << "IR4 is now the highest level";
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x30);
  EXPECT_FALSE(pic_->HasInterrupt()) << "IR3, now lowest, waits for IR0";
  Pulse(5);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x35)
      << "IR5 outranks IR0 in service";
  EXPECT_EQ(MasterIsr(), 0x21);
  // Non-specific EOI ends the highest level in service in the rotated
  // order: IR5, not IR0.
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(MasterIsr(), 0x01);
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x33);
}

TEST_F(PicTest, AutoEoiAndRotateInAutoEoi) {
  InitLikeLinux(/*auto_eoi=*/true);
  Out(kMasterData, 0x00);
  Pulse(4);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x34);
  EXPECT_EQ(MasterIsr(), 0x00) << "AEOI leaves nothing in service";
  Pulse(6);
  EXPECT_TRUE(pic_->HasInterrupt());
  // Rotate in AEOI mode: each acknowledged level becomes lowest.
  Out(kMasterCmd, 0x80);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x36);
  Pulse(6);
  Pulse(7);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x37);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x36);
  // Clear rotate in AEOI: the order stays as last rotated (IR7 highest).
  Out(kMasterCmd, 0x00);
  Pulse(1);
  Pulse(0);
  Pulse(7);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x37);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x30);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x31);
  Pulse(0);
  Pulse(7);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x37) << "no rotation any more";
}

TEST_F(PicTest, SpecialMaskModeEnablesLowerLevels) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Pulse(3);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x33);
  Pulse(5);
  EXPECT_FALSE(pic_->HasInterrupt()) << "IR3 in service blocks IR5";
  // Handler masks its own level and enters special mask mode.
  Out(kMasterData, 0x08);
  Out(kMasterCmd, 0x68);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x35);
  EXPECT_EQ(MasterIsr(), 0x28);
  Pulse(6);
  EXPECT_TRUE(pic_->HasInterrupt())
      << "IR5 in service but unmasked: others still pass";
  Pulse(3);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x36) << "IR3 is masked";
  Out(kMasterCmd, 0x66);
  Out(kMasterCmd, 0x65);
  // Leave special mask mode: IR3 in service blocks again once unmasked.
  Out(kMasterCmd, 0x48);
  Out(kMasterData, 0x00);
  EXPECT_FALSE(pic_->HasInterrupt());
  Out(kMasterCmd, 0x63);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x33);
}

TEST_F(PicTest, PollMode) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  Out(kMasterCmd, 0x0c);
  EXPECT_EQ(In(kMasterCmd), 0x00) << "nothing pending";
  Pulse(5);
  Pulse(6);
  Out(kMasterCmd, 0x0c);
  EXPECT_EQ(In(kMasterData), 0x85) << "poll word on either port";
  EXPECT_EQ(MasterIsr(), 0x20) << "the poll read acknowledges";
  EXPECT_EQ(In(kMasterData), 0x00) << "one read only, then IMR again";
  Out(kMasterCmd, 0x20);
  Out(kMasterCmd, 0x0c);
  EXPECT_EQ(In(kMasterCmd), 0x86);
  Out(kMasterCmd, 0x20);
  // A slave request polls as IR2 on the master, then as its level on the
  // slave.
  Pulse(11);
  Out(kMasterCmd, 0x0c);
  EXPECT_EQ(In(kMasterCmd), 0x82);
  Out(kSlaveCmd, 0x0c);
  EXPECT_EQ(In(kSlaveCmd), 0x83);
  EXPECT_EQ(SlaveIsr(), 0x08);
}

TEST_F(PicTest, SpuriousIrq7WhenLevelRequestVanishes) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kElcr1, 0x20);  // IRQ5 level triggered.
  Raise(5);
  EXPECT_TRUE(pic_->HasInterrupt());
  Lower(5);
  EXPECT_FALSE(intr_.level());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x37);
  // Linux's i8259A_irq_real(): a real IRQ7 would be in service.
  EXPECT_EQ(MasterIsr(), 0x00);
}

TEST_F(PicTest, VanishedSlaveRequestIsMasterDefaultIrq7) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  Out(kElcr2, 0x04);  // IRQ10 level triggered.
  Raise(10);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(In(kMasterCmd), 0x04) << "master IRR shows the cascade";
  Lower(10);
  // Datasheet priority cell: the master's IR2 request falls with the
  // slave's INT, so INTA finds nothing: the master's default IR7.
  EXPECT_EQ(In(kMasterCmd), 0x00);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x37);
  EXPECT_EQ(MasterIsr(), 0x00);
  EXPECT_EQ(SlaveIsr(), 0x00);
  EXPECT_FALSE(pic_->HasInterrupt());
}

TEST_F(PicTest, MaskingAPendingSlaveRequestLeavesNoStaleCascade) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  Pulse(13);
  EXPECT_TRUE(pic_->HasInterrupt());
  Out(kSlaveData, 0x20);  // disable_irq(13) before the CPU took it.
  EXPECT_FALSE(pic_->HasInterrupt());
  Out(kSlaveData, 0x00);  // The latched edge is still there on the slave.
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3d);
}

TEST_F(PicTest, SlaveRequestStillPendingAfterMasterEoiIsDelivered) {
  // Slave in AEOI mode: its INT never drops between two requests.
  InitLikeLinux();
  Out(kSlaveCmd, 0x11);
  Out(kSlaveData, 0x38);
  Out(kSlaveData, 0x02);
  Out(kSlaveData, 0x03);
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  Pulse(9);
  Pulse(10);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x39);
  EXPECT_FALSE(pic_->HasInterrupt()) << "master IR2 in service";
  Out(kMasterCmd, 0x20);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3a);
}

TEST_F(PicTest, ElcrMasksAndLevelBehaviour) {
  Out(kElcr1, 0xff);
  Out(kElcr2, 0xff);
  EXPECT_EQ(In(kElcr1), 0xf8) << "IRQ0-2 are always edge";
  EXPECT_EQ(In(kElcr2), 0xde) << "IRQ8 and IRQ13 are always edge";
  EXPECT_EQ(pio_.ReadValue(kElcr1, 2), 0xdef8u);
  pio_.WriteValue(kElcr1, 2, 0x0c20);  // IRQ5, 10, 11 level (SeaBIOS PCI).
  EXPECT_EQ(In(kElcr1), 0x20);
  EXPECT_EQ(In(kElcr2), 0x0c);
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  // A level input interrupts again after EOI while the wire stays high.
  Raise(11);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3b);
  EXPECT_EQ(In(kSlaveCmd) & 0x08, 0x08) << "IRR follows the wire";
  LinuxAck(11);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3b);
  LinuxAck(11);
  Lower(11);
  EXPECT_EQ(In(kSlaveCmd) & 0x08, 0x00);
  EXPECT_FALSE(pic_->HasInterrupt());
  // Switching an input to level makes IRR report its wire at once.
  Raise(6);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x36);
  Out(kMasterCmd, 0x20);
  EXPECT_FALSE(pic_->HasInterrupt());
  Out(kElcr1, 0x60);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x36);
}

TEST_F(PicTest, EdgeDetectionAndIcw1EdgeSenseReset) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Raise(4);
  Lower(4);  // The edge is latched although the wire fell (a Pulse()).
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x34);
  Out(kMasterCmd, 0x20);
  Raise(4);
  Raise(4);  // Same level again is no new edge.
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x34);
  Out(kMasterCmd, 0x20);
  EXPECT_FALSE(pic_->HasInterrupt());
  // Masked requests are latched and delivered when unmasked.
  Out(kMasterData, 0x02);
  Pulse(1);
  EXPECT_FALSE(pic_->HasInterrupt());
  Out(kMasterData, 0x00);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x31);
  Out(kMasterCmd, 0x20);
  // ICW1 resets the edge sense: IRQ4 (still high) and a pending IRQ3 are
  // forgotten, and IMR is cleared.
  Pulse(3);
  Out(kMasterCmd, 0x11);
  Out(kMasterData, 0x30);
  Out(kMasterData, 0x04);
  Out(kMasterData, 0x01);
  EXPECT_EQ(In(kMasterData), 0x00);
  EXPECT_FALSE(pic_->HasInterrupt());
  Lower(4);
  Raise(4);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x34);
}

TEST_F(PicTest, SpecialFullyNestedMode) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Out(kSlaveData, 0x00);
  Pulse(12);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3c);
  Pulse(9);  // Higher priority on the slave.
  EXPECT_FALSE(pic_->HasInterrupt()) << "fully nested: IR2 in service blocks";
  Out(kSlaveCmd, 0x64);
  Out(kMasterCmd, 0x62);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x39);
  Out(kSlaveCmd, 0x61);
  Out(kMasterCmd, 0x62);
  // ICW4 with SFNM on the master.
  Out(kMasterCmd, 0x11);
  Out(kMasterData, 0x30);
  Out(kMasterData, 0x04);
  Out(kMasterData, 0x11);
  Out(kMasterData, 0x00);
  Pulse(12);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x3c);
  Pulse(9);
  EXPECT_TRUE(pic_->HasInterrupt());
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x39);
  EXPECT_EQ(SlaveIsr(), 0x12);
  Pulse(14);  // Lower than IR4 on the slave: still blocked by the slave.
  EXPECT_FALSE(pic_->HasInterrupt());
}

TEST_F(PicTest, SingleModeSkipsIcw3AndNoIcw4Means8080) {
  Out(kMasterCmd, 0x13);  // Single, ICW4 needed.
  Out(kMasterData, 0x40);
  Out(kMasterData, 0x01);  // ICW4, not ICW3.
  Out(kMasterData, 0xef);  // OCW1.
  EXPECT_EQ(In(kMasterData), 0xef);
  Pulse(4);
  EXPECT_EQ(pic_->AcknowledgeInterrupt(), 0x44);
  // Without ICW4 the next data write is already the mask.
  Out(kSlaveCmd, 0x10);
  Out(kSlaveData, 0x50);
  Out(kSlaveData, 0x02);
  Out(kSlaveData, 0x7f);
  EXPECT_EQ(In(kSlaveData), 0x7f);
}

TEST_F(PicTest, IntrOutputFollowsStateAndLateConnection) {
  InitLikeLinux();
  Out(kMasterData, 0x00);
  Pulse(1);
  EXPECT_TRUE(intr_.level());
  Out(kMasterData, 0x02);
  EXPECT_FALSE(intr_.level()) << "masking drops INTR";
  Out(kMasterData, 0x00);
  EXPECT_TRUE(intr_.level());
  PicPair other;
  other.input(3)->Pulse();
  RecordingIrqLine late;
  other.set_intr(&late);
  EXPECT_FALSE(late.level());
  EXPECT_EQ(pic_->input(16), nullptr);
  EXPECT_EQ(pic_->input(-1), nullptr);
  pic_->input(2)->Raise();  // The cascade wire is internal.
  EXPECT_EQ(In(kMasterCmd) & 0x04, 0x00);
}

TEST_F(PicTest, WordAccessesActPerByte) {
  InitLikeLinux();
  pio_.WriteValue(kMasterCmd, 2, 0x5a0b);  // OCW3 read ISR, then IMR 0x5a.
  EXPECT_EQ(In(kMasterData), 0x5a);
  EXPECT_EQ(pio_.ReadValue(kMasterCmd, 2), 0x5a00u);
}

TEST(PicSerialize, SaveLoadRoundTrip) {
  Bus pio("pio");
  RecordingIrqLine intr;
  PicPair pic(&intr);
  RegisterPic(pio, pic);
  // A mid-life state: Linux-initialized, rotated, IRQ12 in service, IRQ3
  // pending, IRQ11 level high, OCW3 selecting ISR, slave mid-init.
  pio.WriteValue(kElcr2, 1, 0x08);
  for (auto [port, value] : std::initializer_list<std::pair<uint64_t, uint8_t>>{
           {kMasterCmd, 0x11},
           {kMasterData, 0x30},
           {kMasterData, 0x04},
           {kMasterData, 0x01},
           {kSlaveCmd, 0x11},
           {kSlaveData, 0x38},
           {kSlaveData, 0x02},
           {kSlaveData, 0x01},
           {kMasterData, 0x00},
           {kSlaveData, 0x00},
           {kMasterCmd, 0xc5}}) {
    pio.WriteValue(port, 1, value);
  }
  pic.input(12)->Pulse();
  EXPECT_EQ(pic.AcknowledgeInterrupt(), 0x3c);
  pic.input(3)->Pulse();
  pic.input(11)->Raise();
  pio.WriteValue(kMasterCmd, 1, 0x0b);
  ASSERT_FALSE(pic.HasInterrupt());

  Serializer save = Serializer::ForSave();
  pic.Serialize(save);
  ASSERT_TRUE(save.ok());

  Bus pio2("pio");
  RecordingIrqLine intr2;
  PicPair pic2(&intr2);
  RegisterPic(pio2, pic2);
  Serializer load = Serializer::ForLoad(save.data());
  pic2.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_EQ(intr2.level(), intr.level());

  Serializer again = Serializer::ForSave();
  pic2.Serialize(again);
  EXPECT_EQ(again.data(), save.data());

  // Both continue identically: ISR read, the level IRQ11 and IRQ3 after the
  // EOIs, and the rotated priority.
  for (Bus* b : {&pio, &pio2}) EXPECT_EQ(b->ReadValue(kMasterCmd, 1), 0x04u);
  for (Bus* b : {&pio, &pio2}) {
    b->WriteValue(kSlaveCmd, 1, 0x64);
    b->WriteValue(kMasterCmd, 1, 0x62);
  }
  EXPECT_TRUE(intr2.level());
  for (PicPair* p : {&pic, &pic2}) EXPECT_EQ(p->AcknowledgeInterrupt(), 0x3b);
  for (Bus* b : {&pio, &pio2}) {
    b->WriteValue(kSlaveCmd, 1, 0x63);
    b->WriteValue(kMasterCmd, 1, 0x62);
  }
  // IR5 lowest: IR2 (the slave, IRQ11 still high) beats IR3 and goes first.
  for (PicPair* p : {&pic, &pic2}) EXPECT_EQ(p->AcknowledgeInterrupt(), 0x3b);
  for (PicPair* p : {&pic, &pic2}) {
    EXPECT_FALSE(p->HasInterrupt());
    p->input(11)->Lower();
  }
  for (Bus* b : {&pio, &pio2}) {
    b->WriteValue(kSlaveCmd, 1, 0x63);
    b->WriteValue(kMasterCmd, 1, 0x62);
  }
  for (PicPair* p : {&pic, &pic2}) EXPECT_EQ(p->AcknowledgeInterrupt(), 0x33);
  EXPECT_EQ(intr2.level(), intr.level());
}

}  // namespace
}  // namespace x86vm
