// Interrupt wiring: IRQ lines between devices and controllers, and the
// interface a CPU engine uses to take an external interrupt.
#ifndef X86VM_DEVICES_IRQ_H_
#define X86VM_DEVICES_IRQ_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace x86vm {

// One interrupt request wire, driven by a device. Whether the receiver treats
// it as edge or level triggered is the receiver's configuration (PIC ELCR,
// IOAPIC redirection entry), as on real hardware.
class IrqLine {
 public:
  virtual ~IrqLine() = default;
  // Drives the wire high (asserted) or low.
  virtual void SetLevel(bool high) = 0;
  void Raise() { SetLevel(true); }
  void Lower() { SetLevel(false); }
  // A rising then falling edge, for edge-triggered sources.
  void Pulse() {
    SetLevel(true);
    SetLevel(false);
  }
};

// An IrqLine that calls a function; used for wiring and in tests.
class FunctionIrqLine : public IrqLine {
 public:
  explicit FunctionIrqLine(std::function<void(bool)> fn) : fn_(std::move(fn)) {}
  void SetLevel(bool high) override { fn_(high); }

 private:
  std::function<void(bool)> fn_;
};

// Records the level of a wire and counts rising edges; for tests.
class RecordingIrqLine : public IrqLine {
 public:
  void SetLevel(bool high) override {
    if (high && !level_) ++rising_edges_;
    level_ = high;
  }
  bool level() const { return level_; }
  int rising_edges() const { return rising_edges_; }
  void ClearEdges() { rising_edges_ = 0; }

 private:
  bool level_ = false;
  int rising_edges_ = 0;
};

// One wire feeding several inputs: an ISA IRQ goes to the 8259 and to the
// IOAPIC at the same time, as on a PIIX/ICH board.
class IrqFanout : public IrqLine {
 public:
  void Connect(IrqLine* target) { targets_.push_back(target); }
  void SetLevel(bool high) override {
    for (IrqLine* t : targets_) t->SetLevel(high);
  }

 private:
  std::vector<IrqLine*> targets_;
};

// Several sources sharing one wire (wired-OR, as ISA IRQs shared by PCI
// PIRQ routing and by COM1/COM3): the output is high while any input is.
class IrqOr {
 public:
  explicit IrqOr(IrqLine* output) : output_(output) {}
  IrqOr(const IrqOr&) = delete;
  IrqOr& operator=(const IrqOr&) = delete;
  // A new input wire, owned by this object.
  IrqLine* NewInput() {
    inputs_.push_back(std::make_unique<Input>(this));
    return inputs_.back().get();
  }

 private:
  class Input : public IrqLine {
   public:
    explicit Input(IrqOr* owner) : owner_(owner) {}
    void SetLevel(bool high) override {
      level = high;
      owner_->Update();
    }
    bool level = false;

   private:
    IrqOr* owner_;
  };
  void Update() {
    bool any = false;
    for (const auto& in : inputs_) any = any || in->level;
    output_->SetLevel(any);
  }
  IrqLine* output_;
  std::vector<std::unique_ptr<Input>> inputs_;
};

// What a CPU engine asks at an instruction boundary: is an external
// interrupt waiting on INTR, and which vector does the INTA cycle return.
// Implemented by the 8259 pair, and by the local APIC (which also forwards
// ExtINT from the 8259).
class InterruptController {
 public:
  virtual ~InterruptController() = default;
  // True when a maskable interrupt is pending (the INTR pin is asserted).
  virtual bool HasInterrupt() = 0;
  // The interrupt-acknowledge cycle: returns the vector to deliver and marks
  // it in service. Only called after HasInterrupt() returned true and the CPU
  // accepted (EFLAGS.IF set, no shadow).
  virtual uint8_t AcknowledgeInterrupt() = 0;
  // True once per NMI delivered to this CPU, then cleared.
  virtual bool TakeNmi() { return false; }
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_IRQ_H_
