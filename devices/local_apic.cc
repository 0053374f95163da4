#include "devices/local_apic.h"

#include <algorithm>

namespace x86vm {
namespace {

// xAPIC register offsets (SDM Vol. 3 Table 10-1); the x2APIC MSR of each is
// 0x800 + offset / 16 (Table 10-6).
constexpr uint32_t kRegId = 0x020;
constexpr uint32_t kRegVersion = 0x030;
constexpr uint32_t kRegTpr = 0x080;
constexpr uint32_t kRegApr = 0x090;
constexpr uint32_t kRegPpr = 0x0A0;
constexpr uint32_t kRegEoi = 0x0B0;
constexpr uint32_t kRegRrd = 0x0C0;
constexpr uint32_t kRegLdr = 0x0D0;
constexpr uint32_t kRegDfr = 0x0E0;
constexpr uint32_t kRegSvr = 0x0F0;
constexpr uint32_t kRegIsr = 0x100;
constexpr uint32_t kRegTmr = 0x180;
constexpr uint32_t kRegIrr = 0x200;
constexpr uint32_t kRegEsr = 0x280;
constexpr uint32_t kRegLvtCmci = 0x2F0;
constexpr uint32_t kRegIcrLow = 0x300;
constexpr uint32_t kRegIcrHigh = 0x310;
constexpr uint32_t kRegLvtTimer = 0x320;
constexpr uint32_t kRegLvtError = 0x370;
constexpr uint32_t kRegInitialCount = 0x380;
constexpr uint32_t kRegCurrentCount = 0x390;
constexpr uint32_t kRegDivideConfig = 0x3E0;
constexpr uint32_t kRegSelfIpi = 0x3F0;

// LVT fields (SDM Vol. 3 Figure 10-8).
constexpr uint32_t kLvtVector = 0xFF;
constexpr uint32_t kLvtModeMask = 7u << 8;
constexpr uint32_t kLvtPolarityLow = 1u << 13;
constexpr uint32_t kLvtRemoteIrr = 1u << 14;
constexpr uint32_t kLvtLevel = 1u << 15;
constexpr uint32_t kLvtMasked = 1u << 16;

constexpr int kTimerOneShot = 0;
constexpr int kTimerPeriodic = 1;
constexpr int kTimerTscDeadline = 2;

// SVR fields (SDM Vol. 3 Figure 10-23).
constexpr uint32_t kSvrEnable = 1u << 8;
constexpr uint32_t kSvrFocusDisabled = 1u << 9;
constexpr uint32_t kSvrSuppressEoiBroadcast = 1u << 12;

// ESR bits (SDM Vol. 3 Figure 10-9).
constexpr uint32_t kEsrSendIllegalVector = 1u << 5;
constexpr uint32_t kEsrReceiveIllegalVector = 1u << 6;

// ICR low: everything but the read-only delivery status (bit 12) and the
// reserved bits (SDM Vol. 3 Figure 10-12).
constexpr uint32_t kIcrWritable = 0x000CCFFF;

// IA32_APIC_BASE fields (SDM Vol. 3 Figure 10-5, 10.12.1).
constexpr uint64_t kBaseBsp = 1ull << 8;
constexpr uint64_t kBaseX2Apic = 1ull << 10;
constexpr uint64_t kBaseEnable = 1ull << 11;
constexpr uint64_t kBaseAddressMask = ~0xFFFull;

bool TestBit(const std::array<uint32_t, 8>& bits, int v) {
  return (bits[v >> 5] >> (v & 31)) & 1;
}
void SetBit(std::array<uint32_t, 8>& bits, int v) {
  bits[v >> 5] |= 1u << (v & 31);
}
void ClearBit(std::array<uint32_t, 8>& bits, int v) {
  bits[v >> 5] &= ~(1u << (v & 31));
}
// The highest set vector, or -1.
int Highest(const std::array<uint32_t, 8>& bits) {
  for (int i = 7; i >= 0; --i) {
    if (bits[i] != 0) return i * 32 + 31 - __builtin_clz(bits[i]);
  }
  return -1;
}

}  // namespace

LocalApic::LocalApic(VirtualClock& clock, const Config& config)
    : clock_(clock),
      config_(config),
      log_(Logger("lapic")),
      timer_(clock, [this] { OnTimer(); }) {
  config_.phys_addr_bits = std::clamp(config_.phys_addr_bits, 32, 52);
  apic_base_ = kDefaultBase | kBaseEnable | (config_.bsp ? kBaseBsp : 0);
  id_ = config_.apic_id << 24;
  ResetRegisters();
}

LocalApic::~LocalApic() = default;

void LocalApic::set_tsc(std::function<uint64_t()> read_tsc, uint64_t tsc_hz) {
  read_tsc_ = std::move(read_tsc);
  tsc_hz_ = tsc_hz;
}

// SDM Vol. 3 10.4.7.1: the state after power-up or reset. The APIC ID and
// IA32_APIC_BASE are left to the caller.
void LocalApic::ResetRegisters() {
  tpr_ = 0;
  ldr_ = 0;
  dfr_ = 0xFFFFFFFF;
  svr_ = 0xFF;
  isr_.fill(0);
  tmr_.fill(0);
  irr_.fill(0);
  esr_ = 0;
  esr_pending_ = 0;
  lvt_.fill(kLvtMasked);
  icr_low_ = 0;
  icr_high_ = 0;
  initial_count_ = 0;
  divide_config_ = 0;
  counting_ = false;
  count_base_ns_ = 0;
  count_base_ = 0;
  tsc_deadline_ = 0;
  timer_.Cancel();
  nmi_pending_ = false;
  init_pending_ = false;
  sipi_pending_ = false;
  sipi_vector_ = 0;
  smi_pending_ = false;
  extint_pending_ = false;
}

void LocalApic::Reset() {
  std::optional<uint64_t> old_base = mmio_base();
  apic_base_ = kDefaultBase | kBaseEnable | (config_.bsp ? kBaseBsp : 0);
  id_ = config_.apic_id << 24;
  ResetRegisters();
  MoveWindow(old_base);
}

void LocalApic::InitReset() {
  // SDM 10.4.7.3: INIT resets the APIC like power-up except the APIC ID and
  // IA32_APIC_BASE (x2APIC mode survives, SDM 10.12.5.1).
  ResetRegisters();
}

void LocalApic::MoveWindow(std::optional<uint64_t> old_base) {
  std::optional<uint64_t> new_base = mmio_base();
  if (old_base != new_base && mmio_move_) mmio_move_(old_base, new_base);
}

bool LocalApic::enabled() const { return (apic_base_ & kBaseEnable) != 0; }

bool LocalApic::software_enabled() const {
  return enabled() && (svr_ & kSvrEnable) != 0;
}

bool LocalApic::x2apic_mode() const {
  return enabled() && (apic_base_ & kBaseX2Apic) != 0;
}

std::optional<uint64_t> LocalApic::mmio_base() const {
  // SDM 10.12.2: in x2APIC mode the MMIO interface is gone.
  if (!enabled() || x2apic_mode()) return std::nullopt;
  return apic_base_ & kBaseAddressMask &
         ((uint64_t{1} << config_.phys_addr_bits) - 1);
}

bool LocalApic::SetApicBaseMsr(uint64_t value) {
  uint64_t reserved = 0x2FF | ~((uint64_t{1} << config_.phys_addr_bits) - 1);
  if (!config_.x2apic_supported) reserved |= kBaseX2Apic;
  if (value & reserved) return false;
  bool new_enable = (value & kBaseEnable) != 0;
  bool new_x2apic = (value & kBaseX2Apic) != 0;
  // SDM 10.12.5, Figure 10-27: EXTD without EN is invalid, x2APIC can only
  // be left by disabling, and entered only from xAPIC mode.
  if (new_x2apic && !new_enable) return false;
  if (x2apic_mode() && new_enable && !new_x2apic) return false;
  if (!enabled() && new_x2apic) return false;

  std::optional<uint64_t> old_base = mmio_base();
  bool was_enabled = enabled();
  // The BSP flag is set by hardware at reset; writes do not change it.
  apic_base_ = (value & ~kBaseBsp) | (apic_base_ & kBaseBsp);
  if (was_enabled && !new_enable) {
    // SDM 10.4.3: a globally disabled APIC may lose its state; we always
    // return it to the reset state so re-enabling is deterministic.
    ResetRegisters();
  }
  MoveWindow(old_base);
  return true;
}

uint32_t LocalApic::Version() const {
  // SDM 10.4.8: version 0x14 (integrated APIC), max LVT entry in 23:16,
  // EOI-broadcast suppression support in bit 24.
  uint32_t max_lvt = config_.cmci ? 6 : 5;
  return 0x14 | (max_lvt << 16) | (config_.directed_eoi ? 1u << 24 : 0);
}

uint32_t LocalApic::X2ApicLdr() const {
  // SDM 10.12.10.2: cluster ID in 31:16, one bit per member in 15:0.
  uint32_t id = config_.apic_id;
  return ((id >> 4) << 16) | (1u << (id & 0xF));
}

uint8_t LocalApic::Ppr() const {
  // SDM 10.8.3.1.
  int isrv = std::max(Highest(isr_), 0);
  if ((tpr_ >> 4) >= (isrv >> 4)) return tpr_;
  return static_cast<uint8_t>(isrv & 0xF0);
}

uint8_t LocalApic::Apr() const {
  // Arbitration priority (SDM Vol. 3 Figure 10-15 of the P6/Pentium 4
  // description): TPR when it dominates, else the highest class in use.
  int irrv = std::max(Highest(irr_), 0);
  int isrv = std::max(Highest(isr_), 0);
  if ((tpr_ >> 4) >= (irrv >> 4) && (tpr_ >> 4) > (isrv >> 4)) return tpr_;
  return static_cast<uint8_t>(
      std::max({tpr_ & 0xF0, isrv & 0xF0, irrv & 0xF0}));
}

uint8_t LocalApic::ArbitrationPriority() const { return Apr(); }

bool LocalApic::IsFocusFor(uint8_t vector) const {
  if (svr_ & kSvrFocusDisabled) return false;
  return TestBit(irr_, vector) || TestBit(isr_, vector);
}

// --- Register file ---

std::optional<uint32_t> LocalApic::ReadRegister(uint32_t offset, bool x2apic) {
  if (offset >= kRegIsr && offset < kRegIsr + 0x80)
    return isr_[(offset - kRegIsr) >> 4];
  if (offset >= kRegTmr && offset < kRegTmr + 0x80)
    return tmr_[(offset - kRegTmr) >> 4];
  if (offset >= kRegIrr && offset < kRegIrr + 0x80)
    return irr_[(offset - kRegIrr) >> 4];
  if (offset >= kRegLvtTimer && offset <= kRegLvtError) {
    return lvt_[static_cast<int>(Lvt::kTimer) + ((offset - kRegLvtTimer) >> 4)];
  }
  switch (offset) {
    case kRegId:
      return x2apic ? config_.apic_id : id_;
    case kRegVersion:
      return Version();
    case kRegTpr:
      return tpr_;
    case kRegApr:
      if (x2apic) return std::nullopt;
      return Apr();
    case kRegPpr:
      return Ppr();
    case kRegLdr:
      return x2apic ? X2ApicLdr() : ldr_;
    case kRegDfr:
      if (x2apic) return std::nullopt;
      return dfr_;
    case kRegSvr:
      return svr_;
    case kRegEsr:
      return esr_;
    case kRegLvtCmci:
      if (!config_.cmci) break;
      return lvt(Lvt::kCmci);
    case kRegIcrLow:
      return icr_low_;
    case kRegIcrHigh:
      if (x2apic) return std::nullopt;
      return icr_high_;
    case kRegInitialCount:
      return initial_count_;
    case kRegCurrentCount:
      return CurrentCount();
    case kRegDivideConfig:
      return divide_config_;
    case kRegEoi:
    case kRegRrd:
      // Write-only / remote read: xAPIC reads 0, x2APIC has no such MSR.
      if (x2apic) return std::nullopt;
      return 0;
    default:
      break;
  }
  return std::nullopt;
}

bool LocalApic::WriteRegister(uint32_t offset, uint32_t value, bool x2apic) {
  if (offset >= kRegLvtTimer && offset <= kRegLvtError) {
    WriteLvt(static_cast<Lvt>(static_cast<int>(Lvt::kTimer) +
                              ((offset - kRegLvtTimer) >> 4)),
             value);
    return true;
  }
  switch (offset) {
    case kRegId:
      // Writable in xAPIC mode on P6 and later (SDM 10.4.6), read-only in
      // x2APIC mode.
      if (x2apic) return false;
      id_ = value & 0xFF000000;
      return true;
    case kRegTpr:
      tpr_ = static_cast<uint8_t>(value);
      return true;
    case kRegEoi:
      // SDM 10.12.1.2: a non-zero EOI write in x2APIC mode is a #GP.
      if (x2apic && value != 0) return false;
      Eoi();
      return true;
    case kRegLdr:
      if (x2apic) return false;
      ldr_ = value & 0xFF000000;
      return true;
    case kRegDfr:
      if (x2apic) return false;
      dfr_ = (value & 0xF0000000) | 0x0FFFFFFF;
      return true;
    case kRegSvr:
      WriteSvr(value);
      return true;
    case kRegEsr:
      // SDM 10.5.3: the write latches errors seen since the previous write;
      // only 0 may be written in x2APIC mode.
      if (x2apic && value != 0) return false;
      esr_ = esr_pending_;
      esr_pending_ = 0;
      return true;
    case kRegLvtCmci:
      if (!config_.cmci) return !x2apic;
      WriteLvt(Lvt::kCmci, value);
      return true;
    case kRegIcrLow:
      // xAPIC: writing the low half sends (SDM 10.6.1). x2APIC's 64-bit ICR
      // is handled in WriteMsr.
      icr_low_ = value & kIcrWritable;
      SendIcr(icr_low_, icr_high_ >> 24);
      return true;
    case kRegIcrHigh:
      if (x2apic) return false;
      icr_high_ = value & 0xFF000000;
      return true;
    case kRegInitialCount:
      // SDM 10.5.4.1: ignored in TSC-deadline mode.
      if (TimerMode() == kTimerTscDeadline) return true;
      initial_count_ = value;
      StartCounting(value);
      return true;
    case kRegDivideConfig:
      WriteDivideConfig(value);
      return true;
    case kRegSelfIpi:
      // SDM 10.12.11: x2APIC only; a fixed, edge IPI to self.
      if (!x2apic) return true;
      SendIcr(
          (static_cast<uint32_t>(ApicShorthand::kSelf) << 18) | (value & 0xFF),
          0);
      return true;
    default:
      // Read-only and reserved registers: #GP in x2APIC mode, writes
      // dropped in xAPIC mode.
      return !x2apic;
  }
}

void LocalApic::WriteSvr(uint32_t value) {
  uint32_t mask = 0x3FF | (config_.directed_eoi ? kSvrSuppressEoiBroadcast : 0);
  svr_ = value & mask;
  if (!(svr_ & kSvrEnable)) {
    // SDM 10.4.7.2: software disable masks every LVT entry.
    for (uint32_t& entry : lvt_) entry |= kLvtMasked;
  }
  if (ExtIntActive()) Notify();
}

void LocalApic::WriteLvt(Lvt which, uint32_t value) {
  // Writable bits per entry (SDM Vol. 3 Figure 10-8); delivery status and
  // remote IRR are read-only.
  uint32_t writable = kLvtVector | kLvtMasked;
  switch (which) {
    case Lvt::kTimer:
      writable |= read_tsc_ ? (3u << 17) : (1u << 17);
      break;
    case Lvt::kThermal:
    case Lvt::kPerf:
    case Lvt::kCmci:
      writable |= kLvtModeMask;
      break;
    case Lvt::kLint0:
    case Lvt::kLint1:
      writable |= kLvtModeMask | kLvtPolarityLow | kLvtLevel;
      break;
    case Lvt::kError:
      break;
  }
  uint32_t old = lvt(which);
  uint32_t entry = (old & ~writable) | (value & writable);
  // SDM 10.4.7.2: mask bits cannot be cleared while software disabled.
  if (!software_enabled()) entry |= kLvtMasked;
  if (!(entry & kLvtLevel)) entry &= ~kLvtRemoteIrr;
  lvt(which) = entry;

  if (which == Lvt::kTimer) {
    int old_mode = (old >> 17) & 3;
    int new_mode = (entry >> 17) & 3;
    // SDM 10.5.4.1: switching to or from TSC-deadline mode disarms the timer.
    if ((old_mode == kTimerTscDeadline) != (new_mode == kTimerTscDeadline)) {
      timer_.Cancel();
      counting_ = false;
      initial_count_ = 0;
      tsc_deadline_ = 0;
    }
  } else if (which == Lvt::kLint0) {
    ServiceLevelLint(0);
    if (ExtIntActive()) Notify();
  } else if (which == Lvt::kLint1) {
    ServiceLevelLint(1);
  }
}

// --- MMIO ---

void LocalApic::Read(uint64_t offset, std::span<uint8_t> data) {
  uint32_t value = 0;
  if (enabled() && !x2apic_mode() && offset < kMmioSize) {
    // Registers are 32 bits wide on 16-byte boundaries (SDM 10.4.1); narrower
    // reads see part of the dword, bytes 4-15 read as zero.
    value = ReadRegister(static_cast<uint32_t>(offset & ~0xFull), false)
                .value_or(0);
  }
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t pos = (offset & 0xF) + i;
    data[i] = pos < 4 ? static_cast<uint8_t>(value >> (8 * pos)) : 0;
  }
}

void LocalApic::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (!enabled() || x2apic_mode()) return;
  // SDM 10.4.1: only aligned 32-bit accesses are defined; like KVM we drop
  // the rest.
  if (data.size() != 4 || (offset & 0xF) != 0 || offset >= kMmioSize) {
    if (bad_access_log_.Allow()) {
      log_->info("apic {}: dropped {}-byte write at offset {:#x} (event {})",
                 config_.apic_id, data.size(), offset,
                 bad_access_log_.events());
    }
    return;
  }
  WriteRegister(static_cast<uint32_t>(offset),
                static_cast<uint32_t>(LoadLe(data)), false);
}

// --- x2APIC MSRs ---

std::optional<uint64_t> LocalApic::ReadMsr(uint32_t msr) {
  if (!x2apic_mode() || msr < kMsrX2ApicFirst || msr > kMsrX2ApicLast)
    return std::nullopt;
  uint32_t offset = (msr - kMsrX2ApicFirst) << 4;
  // SDM 10.12.9: ICR is one 64-bit MSR, destination in 63:32.
  if (offset == kRegIcrLow) return (uint64_t{icr_high_} << 32) | icr_low_;
  std::optional<uint32_t> value = ReadRegister(offset, true);
  if (!value) return std::nullopt;
  return *value;
}

bool LocalApic::WriteMsr(uint32_t msr, uint64_t value) {
  if (!x2apic_mode() || msr < kMsrX2ApicFirst || msr > kMsrX2ApicLast)
    return false;
  uint32_t offset = (msr - kMsrX2ApicFirst) << 4;
  if (offset == kRegIcrLow) {
    icr_low_ = static_cast<uint32_t>(value) & kIcrWritable;
    icr_high_ = static_cast<uint32_t>(value >> 32);
    SendIcr(icr_low_, icr_high_);
    return true;
  }
  // Bits 63:32 are reserved in every other x2APIC register.
  if (value >> 32) return false;
  return WriteRegister(offset, static_cast<uint32_t>(value), true);
}

// --- Interrupt acceptance and priority (SDM 10.8) ---

void LocalApic::Notify() {
  if (wakeup_) wakeup_();
}

void LocalApic::RaiseNmi() {
  nmi_pending_ = true;
  Notify();
}

void LocalApic::RecordError(uint32_t bits) {
  // Only a newly seen error raises the error interrupt, which also stops an
  // error LVT with an illegal vector from recursing.
  bool fresh = (esr_pending_ & bits) != bits;
  esr_pending_ |= bits;
  if (fresh) DeliverLvt(Lvt::kError);
}

bool LocalApic::AcceptFixed(uint8_t vector, bool level) {
  // SDM 10.5.2: vectors 0-15 are illegal; the APIC logs and drops them.
  if (vector < 16) {
    RecordError(kEsrReceiveIllegalVector);
    return false;
  }
  // SDM 10.8.4: TMR follows the trigger mode of the accepted interrupt.
  SetBit(irr_, vector);
  if (level) {
    SetBit(tmr_, vector);
  } else {
    ClearBit(tmr_, vector);
  }
  Notify();
  return true;
}

bool LocalApic::DeliverInterrupt(uint8_t vector, ApicDeliveryMode mode,
                                 bool level) {
  if (!enabled()) return false;
  switch (mode) {
    case ApicDeliveryMode::kFixed:
    case ApicDeliveryMode::kLowestPriority:
      // SDM 10.4.7.2: a software-disabled APIC still takes NMI, SMI, INIT
      // and SIPI but not fixed interrupts.
      if (!software_enabled()) return false;
      return AcceptFixed(vector, level);
    case ApicDeliveryMode::kSmi:
      smi_pending_ = true;
      Notify();
      return true;
    case ApicDeliveryMode::kNmi:
      RaiseNmi();
      return true;
    case ApicDeliveryMode::kInit:
      init_pending_ = true;
      Notify();
      return true;
    case ApicDeliveryMode::kStartup:
      sipi_pending_ = true;
      sipi_vector_ = vector;
      Notify();
      return true;
    case ApicDeliveryMode::kExtInt:
      // The vector comes from the 8259 at INTA (SDM 10.6.1 "ExtINT").
      extint_pending_ = true;
      Notify();
      return true;
  }
  return false;
}

bool LocalApic::ExtIntActive() {
  if (extint_pending_) return true;
  uint32_t entry = EffectiveLint(0);
  return !(entry & kLvtMasked) &&
         ((entry & kLvtModeMask) >> 8) ==
             static_cast<uint32_t>(ApicDeliveryMode::kExtInt);
}

bool LocalApic::HasInterrupt() {
  // SDM 10.4.3: globally disabled, the CPU behaves as if it had no APIC and
  // INTR comes straight from the 8259.
  if (!enabled()) return pic_ != nullptr && pic_->HasInterrupt();
  // ExtINT bypasses IRR/ISR and priority (SDM 10.6.1), like a wired INTR.
  if (ExtIntActive() && pic_ != nullptr) {
    if (pic_->HasInterrupt()) return true;
    extint_pending_ = false;
  }
  int irrv = Highest(irr_);
  return irrv >= 0 && (irrv >> 4) > (Ppr() >> 4);
}

uint8_t LocalApic::AcknowledgeInterrupt() {
  if (!enabled()) return pic_ != nullptr ? pic_->AcknowledgeInterrupt() : 0xFF;
  if (ExtIntActive() && pic_ != nullptr && pic_->HasInterrupt()) {
    extint_pending_ = false;
    return pic_->AcknowledgeInterrupt();
  }
  int irrv = Highest(irr_);
  if (irrv < 0 || (irrv >> 4) <= (Ppr() >> 4)) {
    // SDM 10.9: the interrupt went away (or was masked by a TPR raise)
    // between INTR and INTA: the spurious vector, no ISR bit.
    return static_cast<uint8_t>(svr_ & 0xFF);
  }
  ClearBit(irr_, irrv);
  SetBit(isr_, irrv);
  return static_cast<uint8_t>(irrv);
}

bool LocalApic::TakeNmi() {
  bool pending = nmi_pending_;
  nmi_pending_ = false;
  return pending;
}

bool LocalApic::TakeInit() {
  bool pending = init_pending_;
  init_pending_ = false;
  return pending;
}

std::optional<uint8_t> LocalApic::TakeSipi() {
  if (!sipi_pending_) return std::nullopt;
  sipi_pending_ = false;
  return sipi_vector_;
}

bool LocalApic::TakeSmi() {
  bool pending = smi_pending_;
  smi_pending_ = false;
  return pending;
}

void LocalApic::Eoi() {
  // SDM 10.8.5: EOI retires the highest-priority in-service vector.
  int isrv = Highest(isr_);
  if (isrv < 0) return;
  ClearBit(isr_, isrv);
  if (!TestBit(tmr_, isrv)) return;
  // Level-triggered: release a level LINT0 waiting on its remote IRR
  // (SDM 10.5.1 "Remote IRR Flag").
  for (int index = 0; index < 2; ++index) {
    uint32_t& entry = lvt(index == 0 ? Lvt::kLint0 : Lvt::kLint1);
    if ((entry & kLvtRemoteIrr) &&
        (entry & kLvtVector) == static_cast<uint32_t>(isrv)) {
      entry &= ~kLvtRemoteIrr;
      ServiceLevelLint(index);
    }
  }
  // SDM 10.8.5: broadcast to the IOAPICs unless suppressed (SVR bit 12).
  if (!(svr_ & kSvrSuppressEoiBroadcast) && eoi_broadcast_) {
    eoi_broadcast_(static_cast<uint8_t>(isrv));
  }
}

void LocalApic::DeliverLvt(Lvt which) {
  uint32_t entry = lvt(which);
  if (entry & kLvtMasked) return;
  uint32_t mode = (which == Lvt::kTimer || which == Lvt::kError)
                      ? 0
                      : (entry & kLvtModeMask) >> 8;
  switch (static_cast<ApicDeliveryMode>(mode)) {
    case ApicDeliveryMode::kFixed:
      // Timer, error and the monitoring sources are edge (SDM 10.5.1).
      AcceptFixed(static_cast<uint8_t>(entry & kLvtVector), false);
      break;
    case ApicDeliveryMode::kNmi:
      RaiseNmi();
      break;
    case ApicDeliveryMode::kSmi:
      smi_pending_ = true;
      Notify();
      break;
    default:
      // Reserved for these entries (SDM Figure 10-8).
      break;
  }
}

void LocalApic::SignalLocalInterrupt(Lvt which) {
  if (which == Lvt::kThermal || which == Lvt::kPerf ||
      (which == Lvt::kCmci && config_.cmci)) {
    DeliverLvt(which);
  }
}

// --- LINT0/LINT1 ---

uint32_t LocalApic::EffectiveLint(int index) const {
  // Disabled globally (SDM 10.4.3: LINT0/LINT1 become INTR/NMI) or in
  // software (the reset state before firmware programs the LVT), the pins act
  // as the virtual wire: LINT0 ExtINT from the 8259, LINT1 NMI.
  if (!software_enabled()) {
    return index == 0 ? static_cast<uint32_t>(ApicDeliveryMode::kExtInt) << 8
                      : static_cast<uint32_t>(ApicDeliveryMode::kNmi) << 8;
  }
  return lvt(index == 0 ? Lvt::kLint0 : Lvt::kLint1);
}

void LocalApic::SetLintLevel(int index, bool high) {
  bool was_high = lint_level_[index];
  lint_level_[index] = high;
  uint32_t entry = EffectiveLint(index);
  if (entry & kLvtMasked) return;
  bool active_low = (entry & kLvtPolarityLow) != 0;
  bool active = high != active_low;
  bool was_active = was_high != active_low;
  auto mode = static_cast<ApicDeliveryMode>((entry & kLvtModeMask) >> 8);
  bool rising = active && !was_active;
  switch (mode) {
    case ApicDeliveryMode::kFixed:
      // SDM 10.5.1: LINT1 supports only edge-sensitive fixed interrupts.
      if (index == 0 && (entry & kLvtLevel)) {
        ServiceLevelLint(index);
      } else if (rising) {
        AcceptFixed(static_cast<uint8_t>(entry & kLvtVector), false);
      }
      break;
    case ApicDeliveryMode::kNmi:
      if (rising) RaiseNmi();
      break;
    case ApicDeliveryMode::kSmi:
      if (rising) {
        smi_pending_ = true;
        Notify();
      }
      break;
    case ApicDeliveryMode::kInit:
      if (rising) {
        init_pending_ = true;
        Notify();
      }
      break;
    case ApicDeliveryMode::kExtInt:
      // The 8259 is polled at INTR time; the wire itself carries no vector.
      if (rising) Notify();
      break;
    default:
      break;
  }
}

void LocalApic::ServiceLevelLint(int index) {
  // A level-triggered fixed LINT0 delivers while asserted, once per EOI
  // (remote IRR, SDM 10.5.1).
  if (index != 0 || !software_enabled()) return;
  uint32_t& entry = lvt(Lvt::kLint0);
  if ((entry & (kLvtMasked | kLvtModeMask | kLvtRemoteIrr)) != 0 ||
      !(entry & kLvtLevel))
    return;
  bool active = lint_level_[0] != ((entry & kLvtPolarityLow) != 0);
  if (!active) return;
  if (AcceptFixed(static_cast<uint8_t>(entry & kLvtVector), true))
    entry |= kLvtRemoteIrr;
}

// --- Timer (SDM 10.5.4) ---

int LocalApic::TimerMode() const {
  int mode = (lvt(Lvt::kTimer) >> 17) & 3;
  return mode == 3 ? kTimerOneShot : mode;  // 11b is reserved.
}

uint64_t LocalApic::Divisor() const {
  // SDM Figure 10-10: bits 3,1:0 encode 2,4,...,128 and 111b means 1.
  uint32_t code = (divide_config_ & 3) | ((divide_config_ >> 1) & 4);
  return code == 7 ? 1 : uint64_t{2} << code;
}

uint32_t LocalApic::CurrentCount() const {
  if (!counting_ || TimerMode() == kTimerTscDeadline) return 0;
  uint64_t now = clock_.now_ns();
  // One bus cycle per ns (kBusFrequencyHz), so a tick lasts Divisor() ns.
  uint64_t ticks =
      now > count_base_ns_ ? (now - count_base_ns_) / Divisor() : 0;
  if (ticks < count_base_) return static_cast<uint32_t>(count_base_ - ticks);
  if (TimerMode() == kTimerPeriodic && initial_count_ != 0) {
    return static_cast<uint32_t>(initial_count_ -
                                 (ticks - count_base_) % initial_count_);
  }
  return 0;
}

void LocalApic::StartCounting(uint32_t count) {
  // SDM 10.5.4: a write of the initial count (re)starts the countdown; 0
  // stops the timer.
  timer_.Cancel();
  counting_ = count != 0;
  if (!counting_) return;
  count_base_ns_ = clock_.now_ns();
  count_base_ = count;
  timer_.ArmAt(count_base_ns_ + uint64_t{count} * Divisor());
}

void LocalApic::WriteDivideConfig(uint32_t value) {
  value &= 0xB;
  if (value == divide_config_) return;
  if (!counting_ || TimerMode() == kTimerTscDeadline) {
    divide_config_ = value;
    return;
  }
  // Keep the counts already elapsed and run the rest at the new rate (as
  // KVM does). An expiry that is already due fires first.
  uint64_t now = clock_.now_ns();
  if (timer_.armed() && timer_.deadline_ns() <= now) {
    timer_.Cancel();
    OnTimer();
  }
  uint32_t remaining = CurrentCount();
  divide_config_ = value;
  if (!counting_ || remaining == 0) return;
  count_base_ns_ = now;
  count_base_ = remaining;
  timer_.ArmAt(now + uint64_t{remaining} * Divisor());
}

void LocalApic::OnTimer() {
  if (TimerMode() == kTimerTscDeadline) {
    // SDM 10.5.4.1: the timer disarms itself and the MSR reads 0.
    tsc_deadline_ = 0;
    DeliverLvt(Lvt::kTimer);
    return;
  }
  if (!counting_) return;
  uint64_t deadline = count_base_ns_ + uint64_t{count_base_} * Divisor();
  if (TimerMode() == kTimerPeriodic && initial_count_ != 0) {
    // Reload from the initial count. Periods missed while the clock jumped
    // coalesce into this one interrupt (the IRR holds one anyway).
    uint64_t period = uint64_t{initial_count_} * Divisor();
    uint64_t now = clock_.now_ns();
    uint64_t next = deadline + period;
    if (next <= now) next += ((now - next) / period + 1) * period;
    count_base_ns_ = next - period;
    count_base_ = initial_count_;
    timer_.ArmAt(next);
  } else {
    counting_ = false;
  }
  DeliverLvt(Lvt::kTimer);
}

uint64_t LocalApic::ReadTscDeadline() const {
  return TimerMode() == kTimerTscDeadline ? tsc_deadline_ : 0;
}

void LocalApic::WriteTscDeadline(uint64_t value) {
  // SDM 10.5.4.1: writes outside TSC-deadline mode are ignored; 0 disarms.
  if (TimerMode() != kTimerTscDeadline || !read_tsc_ || tsc_hz_ == 0) return;
  timer_.Cancel();
  tsc_deadline_ = value;
  if (value == 0) return;
  uint64_t tsc = read_tsc_();
  if (value <= tsc) {
    // A deadline already passed fires at once.
    OnTimer();
    return;
  }
  // Round up so the TSC has reached the deadline when the timer fires.
  unsigned __int128 ns =
      (static_cast<unsigned __int128>(value - tsc) * 1'000'000'000u + tsc_hz_ -
       1) /
      tsc_hz_;
  timer_.ArmAfter(ns > VirtualClock::kNever - 1 ? VirtualClock::kNever - 1
                                                : static_cast<uint64_t>(ns));
}

// --- IPIs (SDM 10.6) ---

void LocalApic::SendIcr(uint32_t low, uint32_t destination) {
  Ipi ipi;
  ipi.source = this;
  ipi.destination = destination;
  ipi.x2apic_format = x2apic_mode();
  ipi.logical = (low >> 11) & 1;
  ipi.shorthand = static_cast<ApicShorthand>((low >> 18) & 3);
  ipi.vector = static_cast<uint8_t>(low & 0xFF);
  ipi.level_assert = (low >> 14) & 1;
  ipi.level_triggered = (low >> 15) & 1;
  uint32_t mode = (low >> 8) & 7;
  if (mode == 3 || mode == 7) {
    // Reserved delivery modes for IPIs (SDM Figure 10-12).
    if (bad_access_log_.Allow()) {
      log_->info(
          "apic {}: IPI with reserved delivery mode {} dropped (event {})",
          config_.apic_id, mode, bad_access_log_.events());
    }
    return;
  }
  ipi.mode = static_cast<ApicDeliveryMode>(mode);
  // SDM 10.6.1: INIT level de-assert only resynchronizes arbitration IDs;
  // it has no effect on P4 and later.
  if (ipi.mode == ApicDeliveryMode::kInit && !ipi.level_assert &&
      ipi.level_triggered)
    return;
  if ((ipi.mode == ApicDeliveryMode::kFixed ||
       ipi.mode == ApicDeliveryMode::kLowestPriority) &&
      ipi.vector < 16) {
    RecordError(kEsrSendIllegalVector);
    return;
  }
  if (ipi.shorthand == ApicShorthand::kSelf) {
    DeliverInterrupt(ipi.vector, ipi.mode, ipi.level_triggered);
    return;
  }
  if (ipi_sink_) {
    ipi_sink_(ipi);
    return;
  }
  // No board router: this APIC is the only one there is.
  if (ipi.shorthand == ApicShorthand::kAllIncludingSelf ||
      (ipi.shorthand == ApicShorthand::kNone &&
       AcceptsDestination(destination, ipi.logical, ipi.x2apic_format))) {
    DeliverInterrupt(ipi.vector, ipi.mode, ipi.level_triggered);
  }
}

bool LocalApic::AcceptsDestination(uint32_t destination, bool logical,
                                   bool x2apic_format) const {
  if (!enabled()) return false;
  uint32_t broadcast = x2apic_format ? 0xFFFFFFFF : 0xFF;
  if (destination == broadcast) return true;
  if (x2apic_mode()) {
    // SDM 10.12.9/10.12.10.2. An 8-bit xAPIC-format logical destination
    // names cluster 0, as KVM treats it.
    if (!logical) return destination == config_.apic_id;
    uint32_t ldr = X2ApicLdr();
    return (destination >> 16) == (ldr >> 16) &&
           (destination & ldr & 0xFFFF) != 0;
  }
  uint32_t xapic_id = id_ >> 24;
  if (!logical) return destination == xapic_id;
  // SDM 10.6.2.2: flat model matches any common bit; cluster model matches
  // the cluster (15 = all clusters) and a member bit.
  uint32_t dest = destination & 0xFF;
  uint32_t ldr = ldr_ >> 24;
  if ((dfr_ >> 28) == 0xF) return (ldr & dest) != 0;
  bool cluster_match = (dest >> 4) == 0xF || (dest >> 4) == (ldr >> 4);
  return cluster_match && (ldr & dest & 0xF) != 0;
}

// --- Snapshot ---

void LocalApic::Serialize(Serializer& s) {
  s.Section("lapic", 1);
  std::optional<uint64_t> old_base = mmio_base();
  s(apic_base_);
  s(id_);
  s(tpr_);
  s(ldr_);
  s(dfr_);
  s(svr_);
  s(isr_);
  s(tmr_);
  s(irr_);
  s(esr_);
  s(esr_pending_);
  s(lvt_);
  s(icr_low_);
  s(icr_high_);
  s(initial_count_);
  s(divide_config_);
  s(counting_);
  s(count_base_ns_);
  s(count_base_);
  s(tsc_deadline_);
  timer_.Serialize(s);
  s(lint_level_);
  s(nmi_pending_);
  s(init_pending_);
  s(sipi_pending_);
  s(sipi_vector_);
  s(smi_pending_);
  s(extint_pending_);
  if (s.loading()) {
    divide_config_ &= 0xB;
    // The board's window must follow the loaded IA32_APIC_BASE.
    MoveWindow(old_base);
  }
}

// --- ApicRouter ---

void ApicRouter::SendIpi(const Ipi& ipi) {
  switch (ipi.shorthand) {
    case ApicShorthand::kSelf:
      if (ipi.source != nullptr)
        ipi.source->DeliverInterrupt(ipi.vector, ipi.mode, ipi.level_triggered);
      return;
    case ApicShorthand::kAllIncludingSelf:
    case ApicShorthand::kAllExcludingSelf:
      for (LocalApic* apic : apics_) {
        if (ipi.shorthand == ApicShorthand::kAllExcludingSelf &&
            apic == ipi.source)
          continue;
        // Lowest priority with a broadcast shorthand is invalid (SDM Table
        // 10-3 notes); delivering it as fixed is the common behaviour.
        if (apic->enabled())
          apic->DeliverInterrupt(ipi.vector, ipi.mode, ipi.level_triggered);
      }
      return;
    case ApicShorthand::kNone:
      Route(ipi.destination, ipi.logical, ipi.x2apic_format, ipi.vector,
            ipi.mode, ipi.level_triggered);
      return;
  }
}

bool ApicRouter::DeliverMessage(uint32_t destination, bool logical,
                                uint8_t vector, int delivery_mode, bool level) {
  if (delivery_mode < 0 || delivery_mode > 7 || delivery_mode == 3)
    return false;
  return Route(destination, logical, false, vector,
               static_cast<ApicDeliveryMode>(delivery_mode), level);
}

bool ApicRouter::Route(uint32_t destination, bool logical, bool x2apic_format,
                       uint8_t vector, ApicDeliveryMode mode, bool level) {
  if (mode == ApicDeliveryMode::kLowestPriority) {
    // SDM 10.6.2.4: the focus processor if there is one, else the lowest
    // arbitration priority; ties go to the first APIC added.
    LocalApic* target = nullptr;
    for (LocalApic* apic : apics_) {
      if (!apic->AcceptsDestination(destination, logical, x2apic_format))
        continue;
      if (apic->IsFocusFor(vector)) {
        target = apic;
        break;
      }
      if (target == nullptr ||
          apic->ArbitrationPriority() < target->ArbitrationPriority()) {
        target = apic;
      }
    }
    return target != nullptr && target->DeliverInterrupt(vector, mode, level);
  }
  bool accepted = false;
  for (LocalApic* apic : apics_) {
    if (apic->AcceptsDestination(destination, logical, x2apic_format)) {
      accepted = apic->DeliverInterrupt(vector, mode, level) || accepted;
    }
  }
  return accepted;
}

}  // namespace x86vm
