// The PC/AT pair of Intel 8259A interrupt controllers: master at 0x20-0x21,
// slave at 0xA0-0xA1 cascaded on master IR2, and the PIIX edge/level control
// registers (ELCR) at 0x4d0/0x4d1.
//
// References: Intel 8259A datasheet (order 231468), "Programming the 8259A"
// (ICW1-4, OCW1-3), "Interrupt Sequence", "The Special Mask Mode", "Poll
// Command"; Intel PIIX3/PIIX4 datasheets, ELCR1/ELCR2 registers.
//
// Trigger modes: as on PIIX, ICW1's LTIM bit is ignored and ELCR selects the
// mode per input. A level input's IRR bit follows the wire. An edge input's
// IRR bit is latched by a rising edge and cleared by the INTA cycle only, so
// sources may use IrqLine::Pulse() (the real chip also drops it when the wire
// falls before INTA; our sources are not required to hold it).
//
// The cascade wire (slave INT to master IR2) is a true level computed here,
// so the master follows it as the datasheet's priority cell does (edge latch
// AND level): a slave request that vanishes before INTA, or that the guest
// masks, takes the master's IR2 request with it and leaves no stale latch.
// A request that vanishes between INTR and INTA therefore gives the master's
// default IR7 (spurious IRQ 7, ISR untouched), also for slave inputs. The
// slave's default IR7 (spurious IRQ 15: master ISR2 set, slave ISR not) is
// produced when the master acknowledges IR2 and the slave has nothing, which
// on real hardware needs the request to fall between the INTA pulses and
// cannot happen with an atomic INTA; the path exists for completeness.
#ifndef X86VM_DEVICES_PIC8259_H_
#define X86VM_DEVICES_PIC8259_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "base/log.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

class PicPair : public Device, public InterruptController {
 public:
  // Register master_target() here, kWindowSize ports (command, data).
  static constexpr uint64_t kMasterBase = 0x20;
  // Register slave_target() here, kWindowSize ports.
  static constexpr uint64_t kSlaveBase = 0xa0;
  // Register elcr_target() here, kWindowSize ports (ELCR1, ELCR2).
  static constexpr uint64_t kElcrBase = 0x4d0;
  // Every window is two ports wide.
  static constexpr uint64_t kWindowSize = 2;
  // Master input the slave's INT output is wired to.
  static constexpr int kCascadeIrq = 2;

  // `intr` is the master's INT output (to the CPU's INTR or the local APIC's
  // LINT0); may be null and set later with set_intr().
  explicit PicPair(IrqLine* intr = nullptr);
  PicPair(const PicPair&) = delete;
  PicPair& operator=(const PicPair&) = delete;

  std::string_view name() const override { return "pic"; }
  // Power-on state: both chips uninitialized with all inputs masked, vector
  // base 0, ELCR all edge. Input wire levels are kept (devices drive them).
  void Reset() override;
  void Serialize(Serializer& s) override;

  // Connects the master's INT output and drives its current level.
  void set_intr(IrqLine* intr);
  // The wire for ISA IRQ `irq` (0-15), owned by this object; null when out of
  // range. IRQ 2 is the internal cascade: its wire is accepted and ignored,
  // as on the AT where the bus's IRQ2 pin feeds IRQ9.
  IrqLine* input(int irq);

  // Port windows (see the k*Base constants).
  BusTarget* master_target() { return &master_target_; }
  BusTarget* slave_target() { return &slave_target_; }
  BusTarget* elcr_target() { return &elcr_target_; }

  // InterruptController: INTR is asserted.
  bool HasInterrupt() override;
  // InterruptController: the INTA cycle, including the cascade to the slave;
  // returns the spurious vector (IR7) when no request remains.
  uint8_t AcknowledgeInterrupt() override;

 private:
  // One 8259A.
  struct Chip {
    uint8_t irr = 0;
    uint8_t isr = 0;
    uint8_t imr = 0xff;
    uint8_t pins = 0;  // Current input wire levels.
    uint8_t elcr = 0;
    uint8_t elcr_mask = 0;  // ELCR bits that may be set (others forced edge).
    uint8_t cascade = 0;    // Inputs wired to a slave's INT: always level.
    uint8_t vector_base = 0;
    uint8_t icw3 = 0;
    uint8_t highest = 0;    // The IR with the highest priority (rotation).
    uint8_t init_step = 0;  // 0 ready; 2, 3, 4: ICW expected next.
    bool icw4_needed = false;
    bool single = false;
    bool x86_mode = false;  // ICW4 uPM.
    bool auto_eoi = false;
    bool rotate_on_aeoi = false;
    bool special_nested = false;
    bool special_mask = false;
    bool read_isr = false;
    bool poll = false;
  };

  // Routes IrqLine::SetLevel to one input.
  class InputLine : public IrqLine {
   public:
    InputLine() = default;
    void Bind(PicPair* pic, int irq) {
      pic_ = pic;
      irq_ = irq;
    }
    void SetLevel(bool high) override { pic_->SetIrq(irq_, high); }

   private:
    PicPair* pic_ = nullptr;
    int irq_ = 0;
  };

  void SetIrq(int irq, bool high);
  // Inputs whose IRR bit follows the wire (ELCR level, or the cascade).
  static uint8_t LevelInputs(const Chip& c) { return c.elcr | c.cascade; }
  // Sets the constant per-chip fields (ELCR mask, cascade input).
  static void SetWiring(Chip& c, int chip);
  // Records a wire level on a chip input; latches IRR per the trigger mode.
  static void SetPin(Chip& c, int ir, bool high);
  // Position (0 = highest) of the highest-priority bit of `mask`, 8 if none.
  static int Priority(const Chip& c, uint8_t mask);
  // The IR the chip would raise INT for, or -1.
  int BestRequest(const Chip& c) const;
  // The INTA effect on one chip: ISR set (unless AEOI), edge IRR cleared.
  static void Acknowledge(Chip& c, int ir);
  // Recomputes the slave INT (master IR2 wire) and the master INT output.
  void Update();
  void DriveIntr(bool level);

  uint8_t ReadPort(int chip, uint64_t offset);
  void WritePort(int chip, uint64_t offset, uint8_t value);
  void WriteCommand(Chip& c, uint8_t value);
  void WriteData(Chip& c, uint8_t value);
  // The poll command's read: acknowledges like INTA (datasheet "Poll
  // Command") and returns 0x80 | IR, or 0 when nothing is pending.
  uint8_t PollRead(Chip& c);
  void WriteElcr(int chip, uint8_t value);

  std::array<Chip, 2> chips_;  // [0] master, [1] slave.
  std::array<InputLine, 16> inputs_;
  IrqLine* intr_ = nullptr;
  bool intr_level_ = false;
  FunctionBusTarget master_target_;
  FunctionBusTarget slave_target_;
  FunctionBusTarget elcr_target_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter log_limit_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_PIC8259_H_
