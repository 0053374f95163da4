// The local APIC of one CPU (Intel SDM Vol. 3 chapter 10 "Advanced
// Programmable Interrupt Controller"): xAPIC MMIO registers, the x2APIC MSR
// interface, the local vector table and timer, interrupt acceptance and
// priority, and IPIs. It is the InterruptController its CPU polls.
//
// Threading: not internally synchronized. The board serializes every call
// into the device model (one device lock held by whichever vCPU thread
// touches devices), so an IPI from another vCPU thread must hold it too.
#ifndef X86VM_DEVICES_LOCAL_APIC_H_
#define X86VM_DEVICES_LOCAL_APIC_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/device.h"
#include "devices/irq.h"

namespace x86vm {

class LocalApic;

// Message delivery modes; the same 3-bit encoding is used by the ICR, the LVT
// and the IOAPIC redirection table (SDM Vol. 3 10.6.1, Figure 10-12).
enum class ApicDeliveryMode : uint8_t {
  kFixed = 0,
  kLowestPriority = 1,
  kSmi = 2,
  kNmi = 4,
  kInit = 5,
  kStartup = 6,
  kExtInt = 7,
};

// ICR destination shorthand, bits 19:18 (SDM Vol. 3 10.6.1).
enum class ApicShorthand : uint8_t {
  kNone = 0,
  kSelf = 1,
  kAllIncludingSelf = 2,
  kAllExcludingSelf = 3,
};

// One interprocessor interrupt as written to the ICR, handed to the board.
struct Ipi {
  // The sending APIC (lets the router exclude or target the sender).
  LocalApic* source = nullptr;
  // 8-bit xAPIC destination, or 32-bit when x2apic_format.
  uint32_t destination = 0;
  // True when sent from x2APIC mode (32-bit IDs, SDM 10.12.9).
  bool x2apic_format = false;
  // Logical (true) or physical destination mode (ICR bit 11).
  bool logical = false;
  // Destination shorthand (ICR bits 19:18).
  ApicShorthand shorthand = ApicShorthand::kNone;
  // Delivery mode (ICR bits 10:8).
  ApicDeliveryMode mode = ApicDeliveryMode::kFixed;
  // Vector (ICR bits 7:0); the start-up page for SIPI.
  uint8_t vector = 0;
  // Trigger mode level (ICR bit 15).
  bool level_triggered = false;
  // Level assert (ICR bit 14); INIT with level de-assert is never sent.
  bool level_assert = true;
};

class LocalApic : public Device, public BusTarget, public InterruptController {
 public:
  // Where the board maps the xAPIC registers after reset, and how big.
  static constexpr uint64_t kDefaultBase = 0xFEE00000;
  static constexpr uint64_t kMmioSize = 0x1000;
  // The APIC timer's input clock: one bus cycle per virtual nanosecond, the
  // same 1 GHz KVM uses (APIC_BUS_CYCLE_NS = 1). CPUID leaf 0x15/0x16 should
  // advertise this core crystal clock if it advertises any.
  static constexpr uint64_t kBusFrequencyHz = 1'000'000'000;
  // MSR numbers the CPU forwards here.
  static constexpr uint32_t kMsrApicBase = 0x1B;
  static constexpr uint32_t kMsrTscDeadline = 0x6E0;
  static constexpr uint32_t kMsrX2ApicFirst = 0x800;
  static constexpr uint32_t kMsrX2ApicLast = 0x8FF;

  // Local vector table entries (SDM Vol. 3 10.5.1).
  enum class Lvt : uint8_t {
    kTimer,
    kThermal,
    kPerf,
    kLint0,
    kLint1,
    kError,
    kCmci,
  };
  static constexpr int kLvtCount = 7;

  // Fixed properties of this CPU's APIC.
  struct Config {
    // Initial APIC ID (CPUID.1:EBX[31:24]) and x2APIC ID.
    uint32_t apic_id = 0;
    // Bootstrap processor flag, IA32_APIC_BASE bit 8.
    bool bsp = true;
    // x2APIC mode can be entered (CPUID.1:ECX[21]).
    bool x2apic_supported = true;
    // LVT CMCI present: version reports max LVT 6 instead of 5.
    bool cmci = false;
    // EOI-broadcast suppression (version bit 24, SVR bit 12).
    bool directed_eoi = false;
    // MAXPHYADDR; IA32_APIC_BASE bits above it are reserved (#GP).
    int phys_addr_bits = 36;
  };

  // Moves the MMIO window: nullopt means "not mapped" (globally disabled or
  // x2APIC mode). The board unregisters old_base and registers new_base.
  using MmioMoveFn = std::function<void(std::optional<uint64_t> old_base,
                                        std::optional<uint64_t> new_base)>;

  // An APIC in its power-on state, timing its timer on `clock`.
  LocalApic(VirtualClock& clock, const Config& config);
  ~LocalApic() override;
  LocalApic(const LocalApic&) = delete;
  LocalApic& operator=(const LocalApic&) = delete;

  // --- Wiring (the board) ---
  // The 8259 pair behind LINT0 in ExtINT mode (and INTR when disabled).
  void set_pic(InterruptController* pic) { pic_ = pic; }
  // Receives IPIs for other APICs (and for this one unless shorthand Self);
  // usually ApicRouter::SendIpi. Without a sink only this APIC is reachable.
  void set_ipi_sink(std::function<void(const Ipi&)> sink) {
    ipi_sink_ = std::move(sink);
  }
  // EOI of a level-triggered vector, broadcast to the IOAPIC(s).
  void set_eoi_broadcast(std::function<void(uint8_t vector)> fn) {
    eoi_broadcast_ = std::move(fn);
  }
  // Relocation of the MMIO window (IA32_APIC_BASE writes, mode changes).
  void set_mmio_move(MmioMoveFn fn) { mmio_move_ = std::move(fn); }
  // The TSC and its frequency; enables TSC-deadline mode (CPUID.1:ECX[24]).
  void set_tsc(std::function<uint64_t()> read_tsc, uint64_t tsc_hz);
  // Called when something new becomes pending (to wake a halted vCPU).
  void set_wakeup(std::function<void()> fn) { wakeup_ = std::move(fn); }
  // Level inputs LINT0 and LINT1 (physical wire levels; polarity applies).
  IrqLine* lint0() { return &lint_lines_[0]; }
  IrqLine* lint1() { return &lint_lines_[1]; }

  // --- Device ---
  std::string_view name() const override { return "lapic"; }
  void Reset() override;
  void Serialize(Serializer& s) override;

  // --- xAPIC MMIO (BusTarget) --- 32-bit aligned accesses only for writes.
  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // --- InterruptController (the CPU's INTR/INTA/NMI) ---
  bool HasInterrupt() override;
  uint8_t AcknowledgeInterrupt() override;
  bool TakeNmi() override;

  // --- CPU-facing registers ---
  // IA32_APIC_BASE value.
  uint64_t apic_base_msr() const { return apic_base_; }
  // WRMSR IA32_APIC_BASE; false means the CPU must raise #GP (SDM 10.12.5).
  bool SetApicBaseMsr(uint64_t value);
  // Where the MMIO window currently is; nullopt when not mapped.
  std::optional<uint64_t> mmio_base() const;
  // IA32_APIC_BASE[11]: the APIC is globally enabled.
  bool enabled() const;
  // SVR[8] with the global enable: the APIC accepts fixed interrupts.
  bool software_enabled() const;
  // IA32_APIC_BASE[10]: x2APIC mode.
  bool x2apic_mode() const;
  // RDMSR of 0x800-0x8FF; nullopt means #GP (SDM 10.12.1.2 and Table 10-6).
  std::optional<uint64_t> ReadMsr(uint32_t msr);
  // WRMSR of 0x800-0x8FF; false means #GP.
  bool WriteMsr(uint32_t msr, uint64_t value);
  // IA32_TSC_DEADLINE (SDM 10.5.4.1); reads 0 outside TSC-deadline mode.
  uint64_t ReadTscDeadline() const;
  void WriteTscDeadline(uint64_t value);
  // MOV from/to CR8: CR8[3:0] = TPR[7:4] (SDM 10.8.6.1).
  uint64_t GetCr8() const { return tpr_ >> 4; }
  void SetCr8(uint64_t value) {
    tpr_ = static_cast<uint8_t>((value & 0xF) << 4);
  }
  // The full task-priority register.
  uint8_t GetTpr() const { return tpr_; }
  void SetTpr(uint8_t value) { tpr_ = value; }

  // --- Messages (IOAPIC, MSI, IPIs) ---
  // Accepts one message addressed to this APIC; false when it is dropped
  // (APIC disabled, illegal vector).
  bool DeliverInterrupt(uint8_t vector, ApicDeliveryMode mode, bool level);
  // True when this APIC is a target of `destination` (SDM 10.6.2).
  bool AcceptsDestination(uint32_t destination, bool logical,
                          bool x2apic_format) const;
  // Arbitration priority for lowest-priority delivery (SDM 10.6.2.4).
  uint8_t ArbitrationPriority() const;
  // True when `vector` is in IRR or ISR and focus checking is on
  // (SDM 10.6.2.4).
  bool IsFocusFor(uint8_t vector) const;
  // Raises a thermal, perf-counter or CMCI local interrupt via its LVT.
  void SignalLocalInterrupt(Lvt which);

  // --- SMP hooks for a future multi-CPU board ---
  // True once per received INIT, then cleared.
  bool TakeInit();
  // The page of a received start-up IPI, once.
  std::optional<uint8_t> TakeSipi();
  // True once per received SMI.
  bool TakeSmi();
  // The INIT reset of the APIC itself: registers to reset state, ID and
  // IA32_APIC_BASE kept (SDM 10.4.7.3).
  void InitReset();

  // The x2APIC ID / initial APIC ID this APIC was built with.
  uint32_t initial_apic_id() const { return config_.apic_id; }

 private:
  class LintLine : public IrqLine {
   public:
    LintLine(LocalApic* apic, int index) : apic_(apic), index_(index) {}
    void SetLevel(bool high) override { apic_->SetLintLevel(index_, high); }

   private:
    LocalApic* apic_;
    int index_;
  };

  using Bits256 = std::array<uint32_t, 8>;

  // Register access shared by MMIO and MSRs. `offset` is the 16-byte aligned
  // xAPIC offset; nullopt / false mean "not a register in this mode".
  std::optional<uint32_t> ReadRegister(uint32_t offset, bool x2apic);
  bool WriteRegister(uint32_t offset, uint32_t value, bool x2apic);

  void ResetRegisters();
  void MoveWindow(std::optional<uint64_t> old_base);
  uint32_t Version() const;
  uint32_t X2ApicLdr() const;
  uint8_t Ppr() const;
  uint8_t Apr() const;
  void Eoi();
  void WriteSvr(uint32_t value);
  void WriteLvt(Lvt which, uint32_t value);
  uint32_t& lvt(Lvt which) { return lvt_[static_cast<int>(which)]; }
  uint32_t lvt(Lvt which) const { return lvt_[static_cast<int>(which)]; }
  void SendIcr(uint32_t low, uint32_t destination);
  bool AcceptFixed(uint8_t vector, bool level);
  void RecordError(uint32_t bits);
  void DeliverLvt(Lvt which);
  void RaiseNmi();
  void Notify();
  bool ExtIntActive();

  // LINT inputs.
  uint32_t EffectiveLint(int index) const;
  void SetLintLevel(int index, bool high);
  void ServiceLevelLint(int index);

  // Timer.
  int TimerMode() const;
  uint64_t Divisor() const;
  uint32_t CurrentCount() const;
  void StartCounting(uint32_t count);
  void WriteDivideConfig(uint32_t value);
  void OnTimer();

  VirtualClock& clock_;
  Config config_;
  std::shared_ptr<spdlog::logger> log_;
  RateLimiter bad_access_log_;

  InterruptController* pic_ = nullptr;
  std::function<void(const Ipi&)> ipi_sink_;
  std::function<void(uint8_t)> eoi_broadcast_;
  MmioMoveFn mmio_move_;
  std::function<uint64_t()> read_tsc_;
  uint64_t tsc_hz_ = 0;
  std::function<void()> wakeup_;
  std::array<LintLine, 2> lint_lines_{LintLine(this, 0), LintLine(this, 1)};

  // Architectural state (all serialized).
  uint64_t apic_base_ = 0;
  uint32_t id_ = 0;  // xAPIC ID register value (ID in bits 31:24).
  uint8_t tpr_ = 0;
  uint32_t ldr_ = 0;
  uint32_t dfr_ = 0xFFFFFFFF;
  uint32_t svr_ = 0xFF;
  Bits256 isr_{};
  Bits256 tmr_{};
  Bits256 irr_{};
  uint32_t esr_ = 0;          // What ESR reads return.
  uint32_t esr_pending_ = 0;  // Errors since the last ESR write.
  std::array<uint32_t, kLvtCount> lvt_{};
  uint32_t icr_low_ = 0;
  uint32_t icr_high_ = 0;  // xAPIC: dest in 31:24; x2APIC: 32-bit dest.
  uint32_t initial_count_ = 0;
  uint32_t divide_config_ = 0;
  // The counter counts down from `count_base_` starting at `count_base_ns_`
  // (one bus cycle per ns, divided); `counting_` is false once stopped.
  bool counting_ = false;
  uint64_t count_base_ns_ = 0;
  uint32_t count_base_ = 0;
  uint64_t tsc_deadline_ = 0;
  std::array<bool, 2> lint_level_{};
  bool nmi_pending_ = false;
  bool init_pending_ = false;
  bool sipi_pending_ = false;
  uint8_t sipi_vector_ = 0;
  bool smi_pending_ = false;
  bool extint_pending_ = false;  // ExtINT message from an IOAPIC.
  Timer timer_;
};

// Delivers APIC messages among the local APICs of a board: IPIs from ICR
// writes and interrupt messages from IOAPICs/MSIs (SDM 10.6.2 destination
// matching, 10.6.2.4 lowest-priority arbitration).
class ApicRouter {
 public:
  // Adds one CPU's APIC; the board keeps ownership.
  void Add(LocalApic* apic) { apics_.push_back(apic); }
  // Sink for LocalApic::set_ipi_sink.
  void SendIpi(const Ipi& ipi);
  // An interrupt message in xAPIC format (IOAPIC redirection entry or MSI);
  // matches IoApic's delivery callback. True when some APIC accepted it.
  bool DeliverMessage(uint32_t destination, bool logical, uint8_t vector,
                      int delivery_mode, bool level);

 private:
  bool Route(uint32_t destination, bool logical, bool x2apic_format,
             uint8_t vector, ApicDeliveryMode mode, bool level);
  std::vector<LocalApic*> apics_;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_LOCAL_APIC_H_
