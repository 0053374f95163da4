#include "devices/pic8259.h"

namespace x86vm {
namespace {

constexpr int kMaster = 0;
constexpr int kSlave = 1;

// PIIX ELCR1/ELCR2: IRQ0, 1 and 2 (timer, keyboard, cascade) and IRQ8 and 13
// (RTC, FPU error) are always edge triggered; their bits read 0.
constexpr uint8_t kMasterElcrMask = 0xf8;
constexpr uint8_t kSlaveElcrMask = 0xde;

}  // namespace

PicPair::PicPair(IrqLine* intr)
    : intr_(intr),
      master_target_(
          [this](uint64_t offset, size_t size) {
            uint64_t v = 0;
            for (size_t b = 0; b < size; ++b) {
              v |= uint64_t{ReadPort(kMaster, offset + b)} << (8 * b);
            }
            return v;
          },
          [this](uint64_t offset, size_t size, uint64_t value) {
            for (size_t b = 0; b < size; ++b) {
              WritePort(kMaster, offset + b,
                        static_cast<uint8_t>(value >> (8 * b)));
            }
          }),
      slave_target_(
          [this](uint64_t offset, size_t size) {
            uint64_t v = 0;
            for (size_t b = 0; b < size; ++b) {
              v |= uint64_t{ReadPort(kSlave, offset + b)} << (8 * b);
            }
            return v;
          },
          [this](uint64_t offset, size_t size, uint64_t value) {
            for (size_t b = 0; b < size; ++b) {
              WritePort(kSlave, offset + b,
                        static_cast<uint8_t>(value >> (8 * b)));
            }
          }),
      elcr_target_(
          [this](uint64_t offset, size_t size) {
            uint64_t v = 0;
            for (size_t b = 0; b < size; ++b) {
              uint64_t port = offset + b;
              uint8_t byte = port < 2 ? chips_[port].elcr : 0xff;
              v |= uint64_t{byte} << (8 * b);
            }
            return v;
          },
          [this](uint64_t offset, size_t size, uint64_t value) {
            for (size_t b = 0; b < size; ++b) {
              uint64_t port = offset + b;
              if (port < 2) {
                WriteElcr(static_cast<int>(port),
                          static_cast<uint8_t>(value >> (8 * b)));
              }
            }
          }),
      log_(Logger("pic")) {
  for (int i = 0; i < 16; ++i) inputs_[i].Bind(this, i);
  Reset();
}

void PicPair::Reset() {
  for (int i = 0; i < 2; ++i) {
    uint8_t pins = chips_[i].pins;
    chips_[i] = Chip{};
    chips_[i].pins = pins;
    SetWiring(chips_[i], i);
  }
  Update();
}

void PicPair::SetWiring(Chip& c, int chip) {
  c.elcr_mask = chip == kMaster ? kMasterElcrMask : kSlaveElcrMask;
  c.cascade = chip == kMaster ? 1u << kCascadeIrq : 0;
}

void PicPair::set_intr(IrqLine* intr) {
  intr_ = intr;
  if (intr_ != nullptr) intr_->SetLevel(intr_level_);
}

IrqLine* PicPair::input(int irq) {
  if (irq < 0 || irq >= 16) return nullptr;
  return &inputs_[irq];
}

void PicPair::SetIrq(int irq, bool high) {
  if (irq == kCascadeIrq) return;  // Master IR2 is wired to the slave only.
  Chip& c = chips_[irq < 8 ? kMaster : kSlave];
  SetPin(c, irq & 7, high);
  Update();
}

void PicPair::SetPin(Chip& c, int ir, bool high) {
  uint8_t bit = static_cast<uint8_t>(1u << ir);
  if (LevelInputs(c) & bit) {
    c.irr = high ? (c.irr | bit) : (c.irr & ~bit);
  } else if (high && !(c.pins & bit)) {
    c.irr |= bit;
  }
  c.pins = high ? (c.pins | bit) : (c.pins & ~bit);
}

int PicPair::Priority(const Chip& c, uint8_t mask) {
  if (mask == 0) return 8;
  int p = 0;
  while (!(mask & (1u << ((p + c.highest) & 7)))) ++p;
  return p;
}

int PicPair::BestRequest(const Chip& c) const {
  uint8_t requests = c.irr & ~c.imr;
  if (c.special_mask) {
    // Datasheet "The Special Mask Mode": a masked level in service no longer
    // blocks anything; any unmasked request not itself in service may
    // interrupt, lower levels included (as Bochs does).
    requests &= ~c.isr;
    int p = Priority(c, requests);
    return p == 8 ? -1 : (p + c.highest) & 7;
  }
  int p = Priority(c, requests);
  if (p == 8) return -1;
  uint8_t in_service = c.isr;
  // Special fully nested mode: a slave in service on the master does not
  // block further (higher-priority) requests from that slave.
  if (c.special_nested && &c == &chips_[kMaster]) {
    in_service &= ~(1u << kCascadeIrq);
  }
  return p < Priority(c, in_service) ? (p + c.highest) & 7 : -1;
}

void PicPair::Acknowledge(Chip& c, int ir) {
  uint8_t bit = static_cast<uint8_t>(1u << ir);
  if (c.auto_eoi) {
    // AEOI: the ISR bit is cleared at the end of the INTA sequence.
    if (c.rotate_on_aeoi) c.highest = static_cast<uint8_t>((ir + 1) & 7);
  } else {
    c.isr |= bit;
  }
  // A level input's request stays as long as its wire is high.
  if (!(LevelInputs(c) & bit)) c.irr &= ~bit;
}

void PicPair::Update() {
  bool slave_int = BestRequest(chips_[kSlave]) >= 0;
  SetPin(chips_[kMaster], kCascadeIrq, slave_int);
  DriveIntr(BestRequest(chips_[kMaster]) >= 0);
}

void PicPair::DriveIntr(bool level) {
  if (level == intr_level_) return;
  intr_level_ = level;
  if (intr_ != nullptr) intr_->SetLevel(level);
}

bool PicPair::HasInterrupt() { return BestRequest(chips_[kMaster]) >= 0; }

uint8_t PicPair::AcknowledgeInterrupt() {
  Chip& master = chips_[kMaster];
  Chip& slave = chips_[kSlave];
  int ir = BestRequest(master);
  uint8_t vector;
  if (ir < 0) {
    // Datasheet "Interrupt Sequence": no request at INTA gives IR7's vector
    // without setting ISR (spurious IRQ 7).
    vector = static_cast<uint8_t>(master.vector_base | 7);
  } else {
    Acknowledge(master, ir);
    if (ir == kCascadeIrq && !master.single) {
      int slave_ir = BestRequest(slave);
      if (slave_ir >= 0) {
        Acknowledge(slave, slave_ir);
        vector = static_cast<uint8_t>(slave.vector_base | slave_ir);
      } else {
        // The slave's default IR7 (spurious IRQ 15): the master's ISR bit 2
        // is set, so the guest must EOI the master only. Unreachable while
        // master IR2 follows the slave's INT (see the header).
        vector = static_cast<uint8_t>(slave.vector_base | 7);
      }
    } else {
      vector = static_cast<uint8_t>(master.vector_base | ir);
    }
  }
  Update();
  return vector;
}

uint8_t PicPair::PollRead(Chip& c) {
  c.poll = false;
  int ir = BestRequest(c);
  if (ir < 0) return 0;
  Acknowledge(c, ir);
  Update();
  return static_cast<uint8_t>(0x80 | ir);
}

uint8_t PicPair::ReadPort(int chip, uint64_t offset) {
  Chip& c = chips_[chip];
  if (offset >= 2) return 0xff;
  // Datasheet "Poll Command": the read after OCW3 with P=1 returns the poll
  // word whichever port it is.
  if (c.poll) return PollRead(c);
  if (offset == 1) return c.imr;
  return c.read_isr ? c.isr : c.irr;
}

void PicPair::WritePort(int chip, uint64_t offset, uint8_t value) {
  if (offset >= 2) return;
  Chip& c = chips_[chip];
  if (offset == 0) {
    WriteCommand(c, value);
  } else {
    WriteData(c, value);
  }
  Update();
}

void PicPair::WriteCommand(Chip& c, uint8_t value) {
  if (value & 0x10) {
    // ICW1 (datasheet "Initialization Command Words"): edge sense reset (a
    // held edge input must go low and high again), IMR cleared, IR7 lowest
    // priority, special mask cleared, IRR selected for reads; ICW4 functions
    // are zero unless ICW4 follows.
    if ((value & 0x08) && log_limit_.Allow()) {
      log_->debug("ICW1 LTIM ignored: ELCR selects the trigger mode (PIIX)");
    }
    c.irr = c.pins & LevelInputs(c);
    c.isr = 0;
    c.imr = 0;
    c.highest = 0;
    c.special_mask = false;
    c.read_isr = false;
    c.poll = false;
    c.auto_eoi = false;
    c.rotate_on_aeoi = false;
    c.special_nested = false;
    c.x86_mode = false;
    c.icw4_needed = (value & 0x01) != 0;
    c.single = (value & 0x02) != 0;
    c.init_step = 2;
    return;
  }
  if (value & 0x08) {
    // OCW3: bit 6 ESMM with bit 5 SMM, bit 2 poll, bit 1 RR with bit 0 RIS.
    if (value & 0x40) c.special_mask = (value & 0x20) != 0;
    if (value & 0x02) c.read_isr = (value & 0x01) != 0;
    if (value & 0x04) c.poll = true;
    return;
  }
  // OCW2: bits 7-5 R, SL, EOI; bits 2-0 the level for SL commands.
  int level = value & 7;
  switch (value >> 5) {
    case 0:  // Rotate in AEOI mode (clear).
      c.rotate_on_aeoi = false;
      break;
    case 4:  // Rotate in AEOI mode (set).
      c.rotate_on_aeoi = true;
      break;
    case 1:    // Non-specific EOI: the highest-priority level in service.
    case 5: {  // Rotate on non-specific EOI: that level becomes lowest.
      int p = Priority(c, c.isr);
      if (p == 8) break;
      int ir = (p + c.highest) & 7;
      c.isr &= static_cast<uint8_t>(~(1u << ir));
      if (value & 0x80) c.highest = static_cast<uint8_t>((ir + 1) & 7);
      break;
    }
    case 3:  // Specific EOI.
      c.isr &= static_cast<uint8_t>(~(1u << level));
      break;
    case 7:  // Rotate on specific EOI.
      c.isr &= static_cast<uint8_t>(~(1u << level));
      c.highest = static_cast<uint8_t>((level + 1) & 7);
      break;
    case 6:  // Set priority: `level` becomes the lowest.
      c.highest = static_cast<uint8_t>((level + 1) & 7);
      break;
    default:  // 2: no operation.
      break;
  }
}

void PicPair::WriteData(Chip& c, uint8_t value) {
  switch (c.init_step) {
    case 2:  // ICW2: vector bits 7-3 (8086 mode).
      c.vector_base = value & 0xf8;
      c.init_step = c.single ? (c.icw4_needed ? 4 : 0) : 3;
      break;
    case 3:  // ICW3: slave bitmap (master) or cascade identity (slave).
      c.icw3 = value;
      c.init_step = c.icw4_needed ? 4 : 0;
      break;
    case 4:  // ICW4: uPM, AEOI, M/S and BUF (no effect here), SFNM.
      c.x86_mode = (value & 0x01) != 0;
      c.auto_eoi = (value & 0x02) != 0;
      c.special_nested = (value & 0x10) != 0;
      c.init_step = 0;
      break;
    default:  // OCW1.
      c.imr = value;
      return;
  }
  if (c.init_step == 0 && !c.x86_mode && log_limit_.Allow()) {
    // 8080/85 mode would answer INTA with a CALL; x86 CPUs cannot use it.
    log_->info("8259A initialized in 8080 mode; delivering 8086 vectors");
  }
}

void PicPair::WriteElcr(int chip, uint8_t value) {
  Chip& c = chips_[chip];
  c.elcr = value & c.elcr_mask;
  // Inputs now level triggered report their wire; edge inputs keep their
  // latch.
  uint8_t level = LevelInputs(c);
  c.irr = static_cast<uint8_t>((c.irr & ~level) | (c.pins & level));
  Update();
}

void PicPair::Serialize(Serializer& s) {
  s.Section("pic", 1);
  for (Chip& c : chips_) {
    s(c.irr);
    s(c.isr);
    s(c.imr);
    s(c.pins);
    s(c.elcr);
    s(c.vector_base);
    s(c.icw3);
    s(c.highest);
    s(c.init_step);
    s(c.icw4_needed);
    s(c.single);
    s(c.x86_mode);
    s(c.auto_eoi);
    s(c.rotate_on_aeoi);
    s(c.special_nested);
    s(c.special_mask);
    s(c.read_isr);
    s(c.poll);
  }
  if (s.loading()) {
    for (int i = 0; i < 2; ++i) {
      Chip& c = chips_[i];
      SetWiring(c, i);
      c.elcr &= c.elcr_mask;
      c.highest &= 7;
      if (c.init_step != 2 && c.init_step != 3 && c.init_step != 4)
        c.init_step = 0;
    }
    // INT outputs are derived: recompute and drive INTR whatever it was.
    intr_level_ = BestRequest(chips_[kMaster]) >= 0;
    if (intr_ != nullptr) intr_->SetLevel(intr_level_);
  }
}

}  // namespace x86vm
