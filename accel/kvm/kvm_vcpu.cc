#include "accel/kvm/kvm_vcpu.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "accel/kvm/kvm_cpuid.h"
#include "accel/kvm/kvm_exit_report.h"
#include "accel/kvm/kvm_kick.h"
#include "accel/kvm/kvm_msrs.h"
#include "accel/kvm/kvm_state.h"
#include "accel/kvm/kvm_vm.h"
#include "base/log.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "devices/irq.h"
#include "machine/guest_memory.h"

namespace x86vm {
namespace {

constexpr uint32_t kApicBaseMsr = 0x1b;
constexpr uint32_t kEferMsr = 0xc0000080;
// EFER bits a guest may write: SCE, LME, NXE (LMA is the CPU's; SDM Vol. 3
// 2.2.1, Vol. 4 Table 2-2).
constexpr uint64_t kEferWritable = 0x901;
constexpr uint64_t kEferLme = 0x100;
constexpr uint64_t kEferLma = 0x400;
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint32_t kTscDeadlineMsr = 0x6e0;
// IA32_APIC_BASE without a platform APIC: BSP, globally enabled, at the
// default base (SDM Vol. 3 10.4.4).
constexpr uint64_t kDefaultApicBase = 0xfee00900;
// The platform's TSC (the local APIC's TSC-deadline clock) runs at 1 GHz of
// virtual time (machine/pc.cc), as CpuState's tsc_offset assumes.
constexpr uint32_t kPlatformTscKhz = 1'000'000;
// Bound on KVM_RUN calls that only complete a pending I/O before returning.
constexpr int kMaxCompletionRuns = 64;
// Deadlines further away than this are not armed (Kick() still works).
constexpr uint64_t kMaxTimerDelayNs = 3600ull * 1'000'000'000;

// The bus takes 1, 2, 4 or 8 bytes; anything else goes byte by byte.
void BusAccess(Bus& bus, uint64_t addr, uint8_t* data, size_t len, bool write) {
  if (len == 1 || len == 2 || len == 4 || len == 8) {
    if (write) {
      bus.Write(addr, std::span<const uint8_t>(data, len));
    } else {
      bus.Read(addr, std::span<uint8_t>(data, len));
    }
    return;
  }
  for (size_t i = 0; i < len; ++i) BusAccess(bus, addr + i, data + i, 1, write);
}

std::string Errno() { return std::strerror(errno); }

}  // namespace

struct KvmVcpu::Impl {
  CpuEnvironment env;
  CpuFeatures features;
  std::shared_ptr<spdlog::logger> log = Logger("kvm");
  std::unique_ptr<KvmVm> vm;
  UniqueFd vcpu_fd;
  kvm_run* run = nullptr;
  size_t run_bytes = 0;
  KvmHostLimits limits;
  KvmMsrTransfer msrs;
  std::vector<uint32_t> trapped_msrs;
  KvmStats stats;

  // Values KVM cannot hold (refused MSRs, MXCSR where KVM_SET_FPU drops it),
  // as last given to SetState or written by the guest through a trap.
  MsrState msr_shadow;
  uint32_t mxcsr_shadow = 0x1f80;

  // Run state. RFLAGS.IF as of the last exit (or SetState): kvm_run's
  // if_flag and ready_for_interrupt_injection describe the vCPU only after
  // a KVM_RUN, not after KVM_SET_REGS (`exit_info_valid`).
  bool halted = false;
  bool if_flag = false;
  bool exit_info_valid = false;
  // An exit (I/O, MMIO, MSR) whose instruction KVM completes on the next
  // KVM_RUN (api.rst 5 "KVM_RUN": operations are complete only after
  // re-entering).
  bool completion_pending = false;
  // A device asked for a reset while such an exit was being completed
  // outside Run(): the next Run() reports it.
  bool deferred_reset = false;
  // The TPR (CR8) when there is no platform APIC, and the value last put in
  // kvm_run->cr8 (KVM loads CR8 from it on every KVM_RUN).
  uint64_t cr8 = 0;
  uint64_t cr8_given = 0;

  // Kick(): the flag, and the thread inside Run(). `thread_mu` guards
  // `thread`/`in_run`; it is the only lock here.
  std::atomic<bool> kick{false};
  std::mutex thread_mu;
  pthread_t thread{};
  bool in_run = false;
  ThreadTimer timer;

  // Estimated instructions, and host ns not yet credited as instructions.
  std::atomic<uint64_t> instructions{0};
  uint64_t uncredited_ns = 0;

  RateLimiter unhandled_msr_log;
  // HandMsrsOver(): unhandled MSR accesses end Run() (`msr_handed_over` says
  // the last exit did, naming the access in `msr_handover_what`).
  bool msr_handover = false;
  bool msr_handed_over = false;
  std::string msr_handover_what;
  KvmFailure last_failure = KvmFailure::kNone;
  bool last_event_is_exception = false;

  ~Impl();
  Result<> Init();
  Result<> GetState(CpuState& s);
  Result<> SetState(const CpuState& s);
  RunResult Loop(uint64_t deadline_ns);
  bool WakeFromHalt();
  void PrepareEntry();
  void SyncTprAfterExit();
  uint64_t PlatformTpr() const;
  void Credit(uint64_t host_ns);
  Result<> CompletePendingExit();
  // Handles an I/O, MMIO or MSR exit; true when a device asked for a reset.
  bool HandleIo();
  bool HandleMmio();
  void HandleRdmsr();
  void HandleWrmsr();
  // EFER through KVM_GET/SET_SREGS, for KVMs that send WRMSR/RDMSR of EFER
  // to userspace as invalid (the software KVM of our test machines refuses
  // EFER.LME that way, while it takes the same value in the sregs).
  bool ReadEfer(uint64_t& value);
  bool WriteEfer(uint64_t value);
  uint64_t GuestTscToPlatform(uint64_t value);
  uint64_t PlatformTscToGuest(uint64_t value);
  bool ResetRequested() { return env.platform != nullptr && env.platform->TakeResetRequest(); }
  RunResult Failure(std::string what);
  std::vector<uint8_t> CodeBytes(const CpuState& s);
};

// ---------------------------------------------------------------------------
// Creation

Result<std::unique_ptr<KvmVcpu>> KvmVcpu::Create(const CpuEnvironment& env,
                                                 CpuFeatures features) {
  if (env.memory == nullptr || env.mmio == nullptr || env.pio == nullptr ||
      env.clock == nullptr) {
    return Fail("KVM: the CPU environment lacks memory, a bus or the clock");
  }
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->features = features;
  if (auto r = impl->Init(); !r) return std::unexpected(r.error());
  return std::unique_ptr<KvmVcpu>(new KvmVcpu(std::move(impl)));
}

KvmVcpu::KvmVcpu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KvmVcpu::~KvmVcpu() = default;

KvmVcpu::Impl::~Impl() {
  if (run != nullptr) munmap(run, run_bytes);
}

Result<> KvmVcpu::Impl::Init() {
  auto created = KvmVm::Create(*env.memory);
  if (!created) return std::unexpected(created.error());
  vm = std::move(*created);

  int fd = ioctl(vm->vm_fd(), KVM_CREATE_VCPU, 0);
  if (fd < 0) return Fail("KVM: KVM_CREATE_VCPU failed: {}", Errno());
  vcpu_fd = UniqueFd(fd);
  run_bytes = vm->vcpu_mmap_bytes();
  void* p = mmap(nullptr, run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd.get(), 0);
  if (p == MAP_FAILED) return Fail("KVM: mapping the kvm_run page failed: {}", Errno());
  run = static_cast<kvm_run*>(p);

  // CPUID: our model, filtered by what KVM can provide when it says.
  auto supported = GetSupportedCpuid(vm->kvm_fd());
  limits.supported_cpuid = supported.has_value();
  if (!supported) {
    log->info("{}; using the CPUID model unfiltered", supported.error().message);
  }
  auto cpuid = BuildGuestCpuid(features, supported ? &*supported : nullptr);
  if (auto r = SetGuestCpuid(vcpu_fd.get(), cpuid); r) {
    limits.guest_cpuid = true;
  } else {
    // Some KVMs (the software one on our test machines) implement no CPUID
    // ioctl at all: the guest then sees the host's CPUID, which differs from
    // the interpreter's, so switching engines mid-run is unsafe there.
    log->info("{}: the guest sees KVM's own CPUID, not our model", r.error().message);
  }

  // TSC: run it at our 1 GHz when KVM can scale it, else note its rate.
  if (vm->caps().tsc_control &&
      ioctl(vcpu_fd.get(), KVM_SET_TSC_KHZ, static_cast<unsigned long>(kPlatformTscKhz)) == 0) {
    limits.tsc_scaled = true;
  }
  int khz = ioctl(vcpu_fd.get(), KVM_GET_TSC_KHZ, 0);
  limits.tsc_khz = khz > 0 ? static_cast<uint32_t>(khz) : 0;

  // XSAVE when KVM really answers it, else the legacy FPU ioctls.
  if (vm->caps().xsave) {
    kvm_xsave xsave{};
    limits.xsave = ioctl(vcpu_fd.get(), KVM_GET_XSAVE, &xsave) == 0;
  }
  if (!limits.xsave) {
    // Some KVMs (the software one on our test machines) neither store nor
    // report MXCSR through KVM_SET/GET_FPU: probe with a distinctive value.
    kvm_fpu fpu{};
    if (ioctl(vcpu_fd.get(), KVM_GET_FPU, &fpu) < 0) {
      return Fail("KVM: KVM_GET_FPU failed: {}", Errno());
    }
    kvm_fpu probe = fpu;
    probe.mxcsr = 0x1f80 | 0x8000;  // FZ set: unusual, valid.
    kvm_fpu back{};
    if (ioctl(vcpu_fd.get(), KVM_SET_FPU, &probe) < 0 ||
        ioctl(vcpu_fd.get(), KVM_GET_FPU, &back) < 0) {
      return Fail("KVM: KVM_SET_FPU/KVM_GET_FPU failed: {}", Errno());
    }
    limits.fpu_drops_mxcsr = back.mxcsr != probe.mxcsr;
  }

  // MSRs: which ones KVM moves; trap the emulatable ones it refuses.
  msrs.Probe(vcpu_fd.get());
  limits.refused_msrs = msrs.refused();
  trapped_msrs = msrs.TrappedIndices();
  if (auto r = vm->SetMsrFilter(trapped_msrs); !r) return r;
  std::string lost;
  for (uint32_t index : msrs.refused()) {
    if (!MsrIsEmulatable(index)) lost += (lost.empty() ? "" : ", ") + MsrName(index);
  }
  if (!lost.empty()) {
    log->info("KVM refuses KVM_GET/SET_MSRS for {}: values set by SetState do not reach the "
              "guest and guest writes are not seen by GetState",
              lost);
  }
  if (limits.fpu_drops_mxcsr) {
    log->info("KVM_SET_FPU/KVM_GET_FPU do not carry MXCSR here; on the KVMs seen doing this, "
              "KVM_SET_FPU does not reach the guest at all");
  }

  CpuState reset;
  reset.Reset();
  return SetState(reset);
}

// ---------------------------------------------------------------------------
// State

Result<> KvmVcpu::GetState(CpuState& state) { return impl_->GetState(state); }
Result<> KvmVcpu::SetState(const CpuState& state) { return impl_->SetState(state); }

Result<> KvmVcpu::Impl::GetState(CpuState& s) {
  int fd = vcpu_fd.get();
  if (completion_pending) {
    if (auto r = CompletePendingExit(); !r) return r;
  }
  s = CpuState{};
  kvm_regs regs{};
  if (ioctl(fd, KVM_GET_REGS, &regs) < 0) return Fail("KVM: KVM_GET_REGS failed: {}", Errno());
  RegsToState(regs, s);
  kvm_sregs sregs{};
  if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) return Fail("KVM: KVM_GET_SREGS failed: {}", Errno());
  SregsToState(sregs, s);
  s.cr8 = PlatformTpr();
  if (limits.xsave) {
    kvm_xsave xsave{};
    if (ioctl(fd, KVM_GET_XSAVE, &xsave) < 0) return Fail("KVM: KVM_GET_XSAVE failed: {}", Errno());
    XsaveToState(xsave, s);
  } else {
    kvm_fpu fpu{};
    if (ioctl(fd, KVM_GET_FPU, &fpu) < 0) return Fail("KVM: KVM_GET_FPU failed: {}", Errno());
    FpuToState(fpu, s);
    if (limits.fpu_drops_mxcsr) s.mxcsr = mxcsr_shadow;
  }
  if (vm->caps().xcrs) {
    kvm_xcrs xcrs{};
    if (ioctl(fd, KVM_GET_XCRS, &xcrs) < 0) return Fail("KVM: KVM_GET_XCRS failed: {}", Errno());
    for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; ++i) {
      if (xcrs.xcrs[i].xcr == 0) s.xcr0 = xcrs.xcrs[i].value;
    }
  }
  kvm_debugregs dregs{};
  if (ioctl(fd, KVM_GET_DEBUGREGS, &dregs) < 0) {
    return Fail("KVM: KVM_GET_DEBUGREGS failed: {}", Errno());
  }
  DebugRegsToState(dregs, s);
  kvm_vcpu_events events{};
  if (ioctl(fd, KVM_GET_VCPU_EVENTS, &events) < 0) {
    return Fail("KVM: KVM_GET_VCPU_EVENTS failed: {}", Errno());
  }
  EventsToState(events, s);
  last_event_is_exception = events.exception.injected || events.exception.pending;
  kvm_mp_state mp{};
  if (ioctl(fd, KVM_GET_MP_STATE, &mp) < 0) {
    return Fail("KVM: KVM_GET_MP_STATE failed: {}", Errno());
  }
  // HLT exits to us (no in-kernel APIC), so halting is tracked here.
  s.halted = halted || mp.mp_state == KVM_MP_STATE_HALTED;

  s.msr = msr_shadow;
  uint64_t tsc = 0;
  if (auto r = msrs.Get(fd, s.msr, tsc); !r) return r;
  if (msrs.Moves(kMsrTsc)) {
    // CpuState's TSC is virtual ns + tsc_offset: the offset that makes the
    // TSC continuous at this instant.
    s.msr.tsc_offset = tsc - env.clock->now_ns();
  }
  return {};
}

Result<> KvmVcpu::Impl::SetState(const CpuState& s) {
  int fd = vcpu_fd.get();
  // A half-finished IN or MMIO read would land in the new state on the
  // next KVM_RUN: finish it against the old one first.
  if (completion_pending) {
    if (auto r = CompletePendingExit(); !r) return r;
  }
  // Order as QEMU's kvm_arch_put_registers: regs, FPU, XCRs, sregs, MSRs,
  // events, MP state, debug registers.
  kvm_regs regs{};
  StateToRegs(s, regs);
  if (ioctl(fd, KVM_SET_REGS, &regs) < 0) return Fail("KVM: KVM_SET_REGS failed: {}", Errno());
  if (limits.xsave) {
    kvm_xsave xsave{};
    if (ioctl(fd, KVM_GET_XSAVE, &xsave) < 0) return Fail("KVM: KVM_GET_XSAVE failed: {}", Errno());
    StateToXsave(s, xsave);
    if (ioctl(fd, KVM_SET_XSAVE, &xsave) < 0) {
      return Fail("KVM: KVM_SET_XSAVE rejected the x87/SSE state (mxcsr={:#x}): {}", s.mxcsr,
                  Errno());
    }
  } else {
    kvm_fpu fpu{};
    StateToFpu(s, fpu);
    if (ioctl(fd, KVM_SET_FPU, &fpu) < 0) {
      return Fail("KVM: KVM_SET_FPU rejected the x87/SSE state (mxcsr={:#x}): {}", s.mxcsr,
                  Errno());
    }
  }
  mxcsr_shadow = s.mxcsr;
  if (vm->caps().xcrs) {
    kvm_xcrs xcrs{};
    xcrs.nr_xcrs = 1;
    xcrs.xcrs[0].xcr = 0;
    xcrs.xcrs[0].value = s.xcr0;
    if (ioctl(fd, KVM_SET_XCRS, &xcrs) < 0) {
      return Fail("KVM: KVM_SET_XCRS rejected XCR0={:#x}: {}", s.xcr0, Errno());
    }
  }
  uint64_t apic_base = kDefaultApicBase;
  if (env.platform != nullptr) {
    uint64_t v;
    if (env.platform->ReadMsr(kApicBaseMsr, v) == MsrAccess::kOk) apic_base = v;
  }
  kvm_sregs sregs{};
  StateToSregs(s, apic_base, sregs);
  if (env.platform != nullptr) sregs.cr8 = PlatformTpr();
  if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) {
    return Fail("KVM: KVM_SET_SREGS rejected the state (cr0={:#x} cr3={:#x} cr4={:#x} "
                "efer={:#x}): {}",
                s.cr0, s.cr3, s.cr4, s.efer, Errno());
  }
  msr_shadow = s.msr;
  std::vector<uint32_t> skipped;
  if (auto r = msrs.Set(fd, s.msr, env.clock->now_ns() + s.msr.tsc_offset, &skipped); !r) {
    return r;
  }
  for (uint32_t index : skipped) {
    log->debug("KVM refused {} = {:#x}", MsrName(index),
               *MsrStateField(msr_shadow, index));
  }
  kvm_vcpu_events events{};
  StateToEvents(s, events);
  if (ioctl(fd, KVM_SET_VCPU_EVENTS, &events) < 0) {
    return Fail("KVM: KVM_SET_VCPU_EVENTS rejected the pending events (exception {} vector {}): {}",
                s.events.exception_pending, s.events.exception_vector, Errno());
  }
  // Always runnable: with our own APIC, KVM never wakes a HALTED vCPU.
  kvm_mp_state mp{KVM_MP_STATE_RUNNABLE};
  if (ioctl(fd, KVM_SET_MP_STATE, &mp) < 0) {
    return Fail("KVM: KVM_SET_MP_STATE failed: {}", Errno());
  }
  kvm_debugregs dregs{};
  StateToDebugRegs(s, dregs);
  if (ioctl(fd, KVM_SET_DEBUGREGS, &dregs) < 0) {
    return Fail("KVM: KVM_SET_DEBUGREGS rejected dr6={:#x} dr7={:#x}: {}", s.dr6, s.dr7, Errno());
  }

  halted = s.halted;
  if_flag = (s.rflags & flags::kIf) != 0;
  exit_info_valid = false;
  if (env.platform == nullptr) cr8 = s.cr8 & 0xf;
  run->cr8 = cr8_given = PlatformTpr();
  return {};
}

// ---------------------------------------------------------------------------
// Running

RunResult KvmVcpu::Run(uint64_t deadline_ns) {
  Impl& d = *impl_;
  d.last_failure = KvmFailure::kNone;
  if (std::exchange(d.deferred_reset, false)) return {StopReason::kReset, {}};
  if (d.kick.exchange(false)) return {StopReason::kKicked, {}};
  if (d.env.clock->now_ns() >= deadline_ns) return {StopReason::kDeadline, {}};
  if (auto r = d.vm->SyncSlots(); !r) return {StopReason::kError, r.error().message};
  if (d.halted && !d.WakeFromHalt()) return {StopReason::kHalt, {}};

  ScopedKickTarget target(d.run);
  {
    std::lock_guard<std::mutex> lock(d.thread_mu);
    d.thread = pthread_self();
    d.in_run = true;
  }
  RunResult result = d.Loop(deadline_ns);
  if (result.reason == StopReason::kError && d.last_failure == KvmFailure::kNone) {
    d.last_failure = KvmFailure::kOther;
  }
  {
    std::lock_guard<std::mutex> lock(d.thread_mu);
    d.in_run = false;
  }
  d.timer.Disarm();
  if (d.completion_pending) {
    if (auto r = d.CompletePendingExit(); !r && result.reason != StopReason::kError) {
      return {StopReason::kError, r.error().message};
    }
    if (d.deferred_reset && (result.reason == StopReason::kDeadline ||
                             result.reason == StopReason::kKicked)) {
      d.deferred_reset = false;
      result = {StopReason::kReset, {}};
    }
  }
  return result;
}

RunResult KvmVcpu::Impl::Loop(uint64_t deadline_ns) {
  VirtualClock& clock = *env.clock;
  auto arm = [&](uint64_t now) -> Result<> {
    uint64_t delay = deadline_ns - now;
    if (delay > kMaxTimerDelayNs) return {};
    return timer.Arm(delay);
  };
  if (auto r = arm(clock.now_ns()); !r) return {StopReason::kError, r.error().message};
  bool check_slots = false;
  bool rearm = false;
  for (;;) {
    // Checked on every pass, not only after EINTR: a signal landing between
    // KVM_RUN's return and ClearImmediateExit is absorbed by that clear, and
    // the guest may keep exiting for I/O without ever returning EINTR.
    if (kick.exchange(false)) return {StopReason::kKicked, {}};
    uint64_t now = clock.now_ns();
    if (now >= deadline_ns) return {StopReason::kDeadline, {}};
    if (rearm) {
      if (auto r = arm(now); !r) return {StopReason::kError, r.error().message};
      rearm = false;
    }
    if (check_slots) {
      // A port write may have changed the memory map (PAM registers).
      if (auto r = vm->SyncSlots(); !r) return {StopReason::kError, r.error().message};
      check_slots = false;
    }
    PrepareEntry();
    uint32_t signals_before = KickSignalsReceived();
    uint64_t t0 = HostMonotonicNs();
    int rc = ioctl(vcpu_fd.get(), KVM_RUN, 0);
    int err = errno;
    uint64_t in_run_ns = HostMonotonicNs() - t0;
    stats.ns_in_kvm_run += in_run_ns;
    Credit(in_run_ns);
    ClearImmediateExit(run);
    ++stats.runs;
    exit_info_valid = true;
    if_flag = run->if_flag != 0;
    SyncTprAfterExit();
    bool interrupted = rc < 0 && (err == EINTR || err == EAGAIN);
    if (rc < 0 && !interrupted) {
      return {StopReason::kError, fmt::format("KVM: KVM_RUN failed: {}", std::strerror(err))};
    }
    // The timer (or a kick) fired: the one-shot timer is spent. If the loop
    // goes on (the clock was paused, deterministic credit lags host time, a
    // stray signal), it is re-armed for the rest at the top.
    if (interrupted || KickSignalsReceived() != signals_before) rearm = true;
    if (interrupted) {
      ++stats.signal_exits;
      continue;
    }
    completion_pending = false;
    ++stats.exits_by_reason[std::min<size_t>(run->exit_reason, stats.exits_by_reason.size() - 1)];
    switch (run->exit_reason) {
      case KVM_EXIT_IO:
        ++stats.io_exits;
        completion_pending = true;
        if (HandleIo()) return {StopReason::kReset, {}};
        check_slots = run->io.direction == KVM_EXIT_IO_OUT;
        break;
      case KVM_EXIT_MMIO:
        ++stats.mmio_exits;
        completion_pending = true;
        if (HandleMmio()) return {StopReason::kReset, {}};
        break;
      case KVM_EXIT_X86_RDMSR:
      case KVM_EXIT_X86_WRMSR:
        ++stats.msr_exits;
        completion_pending = true;
        msr_handed_over = false;
        if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
          HandleRdmsr();
        } else {
          HandleWrmsr();
        }
        if (msr_handed_over) {
          // Completed with error = 1 by Run() under immediate_exit: KVM
          // recognises #GP(0) without delivering it and leaves RIP at the
          // instruction (api.rst "KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR").
          last_failure = KvmFailure::kMsr;
          return {StopReason::kError,
                  fmt::format("KVM: {} is handed over (no emulation here)", msr_handover_what)};
        }
        break;
      case KVM_EXIT_IRQ_WINDOW_OPEN:
        ++stats.window_exits;
        break;
      case KVM_EXIT_SET_TPR:  // Synced above.
        ++stats.other_exits;
        break;
      case KVM_EXIT_INTR:
        ++stats.signal_exits;
        break;
      case KVM_EXIT_HLT:
        ++stats.hlt_exits;
        // RIP is past the HLT. Continue at once when something can wake it
        // (SDM Vol. 3 8.3 "HLT": an NMI or an enabled interrupt resumes).
        if (env.irq != nullptr && env.irq->TakeNmi()) {
          if (ioctl(vcpu_fd.get(), KVM_NMI, 0) == 0) ++stats.nmis_injected;
          break;
        }
        if (if_flag && env.irq != nullptr && env.irq->HasInterrupt()) break;
        halted = true;
        return {StopReason::kHalt, {}};
      case KVM_EXIT_SHUTDOWN:
        ++stats.other_exits;
        halted = false;
        return {StopReason::kShutdown, {}};
      case KVM_EXIT_SYSTEM_EVENT:
        ++stats.other_exits;
        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) return {StopReason::kReset, {}};
        if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
          return {StopReason::kShutdown, {}};
        }
        return Failure(fmt::format("KVM_EXIT_SYSTEM_EVENT type {}", run->system_event.type));
      case KVM_EXIT_DEBUG:
        ++stats.other_exits;
        return {StopReason::kDebug, {}};
      case KVM_EXIT_INTERNAL_ERROR: {
        ++stats.other_exits;
        last_failure = KvmFailure::kEmulation;
        std::string data;
        for (uint32_t i = 0; i < run->internal.ndata && i < 16; ++i) {
          data += fmt::format(" {:#x}", run->internal.data[i]);
        }
        return Failure(fmt::format("KVM_EXIT_INTERNAL_ERROR, suberror {} ({}){}",
                                   run->internal.suberror,
                                   InternalErrorName(run->internal.suberror),
                                   data.empty() ? "" : ", data" + data));
      }
      case KVM_EXIT_FAIL_ENTRY:
        ++stats.other_exits;
        last_failure = KvmFailure::kEntry;
        return Failure(fmt::format(
            "KVM_EXIT_FAIL_ENTRY: the host CPU refused VM entry with this state, hardware "
            "entry failure reason {:#x} on host CPU {}",
            run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu));
      default:
        ++stats.other_exits;
        return Failure(fmt::format("{} (exit reason {}), hardware exit reason {:#x}",
                                   ExitReasonName(run->exit_reason), run->exit_reason,
                                   run->hw.hardware_exit_reason));
    }
  }
}

bool KvmVcpu::Impl::WakeFromHalt() {
  if (env.irq == nullptr) return false;
  if (env.irq->TakeNmi()) {
    if (ioctl(vcpu_fd.get(), KVM_NMI, 0) == 0) ++stats.nmis_injected;
    halted = false;
    return true;
  }
  if (if_flag && env.irq->HasInterrupt()) {
    halted = false;
    return true;
  }
  return false;
}

void KvmVcpu::Impl::PrepareEntry() {
  if (env.irq != nullptr) {
    if (env.irq->TakeNmi() && ioctl(vcpu_fd.get(), KVM_NMI, 0) == 0) ++stats.nmis_injected;
    // KVM_INTERRUPT only when KVM says the vCPU can take it now (IF set, no
    // shadow, nothing else being injected); otherwise ask KVM to exit as
    // soon as it can (api.rst "request_interrupt_window").
    bool wanted = env.irq->HasInterrupt();
    if (wanted && exit_info_valid && run->ready_for_interrupt_injection && run->if_flag) {
      kvm_interrupt irq{};
      irq.irq = env.irq->AcknowledgeInterrupt();
      if (ioctl(vcpu_fd.get(), KVM_INTERRUPT, &irq) == 0) ++stats.interrupts_injected;
      wanted = false;
    }
    run->request_interrupt_window = wanted ? 1 : 0;
  }
  run->cr8 = cr8_given = PlatformTpr();
}

uint64_t KvmVcpu::Impl::PlatformTpr() const {
  return env.platform != nullptr ? env.platform->GetTaskPriority() & 0xf : cr8;
}

void KvmVcpu::Impl::SyncTprAfterExit() {
  // Guest MOV to CR8 changes kvm_run->cr8 (KVM reports lowering it with
  // KVM_EXIT_SET_TPR so a masked interrupt can be delivered).
  if (run->cr8 == cr8_given) return;
  cr8_given = run->cr8;
  if (env.platform != nullptr) {
    env.platform->SetTaskPriority(static_cast<uint8_t>(run->cr8 & 0xf));
  } else {
    cr8 = run->cr8 & 0xf;
  }
}

void KvmVcpu::Impl::Credit(uint64_t host_ns) {
  uint64_t per = env.clock->ns_per_instruction();
  uncredited_ns += host_ns;
  uint64_t n = uncredited_ns / per;
  uncredited_ns -= n * per;
  instructions.fetch_add(n, std::memory_order_relaxed);
  env.clock->AddInstructions(n);  // Ignored in real-time mode.
}

Result<> KvmVcpu::Impl::CompletePendingExit() {
  // KVM finishes the pending instruction, then sees immediate_exit and
  // returns EINTR without running more guest code. A string I/O may need
  // further exits first; those are handled like any other.
  for (int i = 0; i < kMaxCompletionRuns && completion_pending; ++i) {
    run->request_interrupt_window = 0;
    run->cr8 = cr8_given = PlatformTpr();
    RequestImmediateExit(run);
    int rc = ioctl(vcpu_fd.get(), KVM_RUN, 0);
    int err = errno;
    ClearImmediateExit(run);
    ++stats.runs;
    exit_info_valid = true;
    if_flag = run->if_flag != 0;
    SyncTprAfterExit();
    if (rc < 0) {
      if (err != EINTR && err != EAGAIN) {
        return Fail("KVM: completing an I/O exit failed: {}", std::strerror(err));
      }
      completion_pending = false;
      return {};
    }
    ++stats.exits_by_reason[std::min<size_t>(run->exit_reason, stats.exits_by_reason.size() - 1)];
    switch (run->exit_reason) {
      case KVM_EXIT_IO:
        ++stats.io_exits;
        if (HandleIo()) deferred_reset = true;
        break;
      case KVM_EXIT_MMIO:
        ++stats.mmio_exits;
        if (HandleMmio()) deferred_reset = true;
        break;
      case KVM_EXIT_X86_RDMSR:
        ++stats.msr_exits;
        HandleRdmsr();
        break;
      case KVM_EXIT_X86_WRMSR:
        ++stats.msr_exits;
        HandleWrmsr();
        break;
      default:
        completion_pending = false;
        return Fail("KVM: {} while completing an I/O exit", ExitReasonName(run->exit_reason));
    }
  }
  if (completion_pending) return Fail("KVM: an I/O exit did not complete");
  return {};
}

// ---------------------------------------------------------------------------
// Exits

bool KvmVcpu::Impl::HandleIo() {
  auto& io = run->io;
  uint8_t* data = reinterpret_cast<uint8_t*>(run) + io.data_offset;
  bool out = io.direction == KVM_EXIT_IO_OUT;
  // A string instruction hands over `count` elements at once.
  for (uint32_t i = 0; i < io.count; ++i) {
    BusAccess(*env.pio, io.port, data + static_cast<size_t>(i) * io.size, io.size, out);
  }
  return out && ResetRequested();
}

bool KvmVcpu::Impl::HandleMmio() {
  auto& m = run->mmio;
  if (m.is_write) {
    // A write to a read-only slot (ROM, the write-protected BIOS shadow) is
    // dropped, as the chipset drops it.
    if (!vm->IsReadOnly(m.phys_addr)) BusAccess(*env.mmio, m.phys_addr, m.data, m.len, true);
    return ResetRequested();
  }
  BusAccess(*env.mmio, m.phys_addr, m.data, m.len, false);
  return false;
}

void KvmVcpu::Impl::HandleRdmsr() {
  auto& m = run->msr;
  uint64_t value = 0;
  MsrAccess access = MsrAccess::kNotMine;
  if (env.platform != nullptr) access = env.platform->ReadMsr(m.index, value);
  if (access == MsrAccess::kOk && m.index == kTscDeadlineMsr) value = PlatformTscToGuest(value);
  if (access == MsrAccess::kNotMine) {
    if (std::find(trapped_msrs.begin(), trapped_msrs.end(), m.index) != trapped_msrs.end()) {
      auto v = ReadShadowMsr(msr_shadow, m.index);
      access = v ? MsrAccess::kOk : MsrAccess::kGp;
      value = v.value_or(0);
    } else if (m.index == kApicBaseMsr && env.platform == nullptr) {
      value = kDefaultApicBase;
      access = MsrAccess::kOk;
    } else if (m.index == kEferMsr && ReadEfer(value)) {
      access = MsrAccess::kOk;
    } else if (msr_handover) {
      msr_handed_over = true;
      msr_handover_what = fmt::format("RDMSR {}", MsrName(m.index));
    } else if (unhandled_msr_log.Allow()) {
      log->debug("RDMSR {:#x}: not implemented, #GP", m.index);
    }
  }
  m.data = access == MsrAccess::kOk ? value : 0;
  m.error = access == MsrAccess::kOk ? 0 : 1;  // 1: KVM injects #GP(0).
}

void KvmVcpu::Impl::HandleWrmsr() {
  auto& m = run->msr;
  uint64_t value = m.data;
  if (m.index == kTscDeadlineMsr) value = GuestTscToPlatform(value);
  MsrAccess access = MsrAccess::kNotMine;
  if (env.platform != nullptr) access = env.platform->WriteMsr(m.index, value);
  if (access == MsrAccess::kNotMine) {
    if (std::find(trapped_msrs.begin(), trapped_msrs.end(), m.index) != trapped_msrs.end()) {
      access = WriteShadowMsr(msr_shadow, m.index, m.data) ? MsrAccess::kOk : MsrAccess::kGp;
    } else if (m.index == kApicBaseMsr && env.platform == nullptr) {
      access = MsrAccess::kOk;
    } else if (m.index == kEferMsr) {
      access = WriteEfer(m.data) ? MsrAccess::kOk : MsrAccess::kGp;
    } else if (msr_handover) {
      msr_handed_over = true;
      msr_handover_what = fmt::format("WRMSR {} = {:#x}", MsrName(m.index), m.data);
    } else if (unhandled_msr_log.Allow()) {
      log->debug("WRMSR {:#x} = {:#x}: not implemented, #GP", m.index, m.data);
    }
  }
  m.error = access == MsrAccess::kOk ? 0 : 1;
}

bool KvmVcpu::Impl::ReadEfer(uint64_t& value) {
  kvm_sregs sregs{};
  if (ioctl(vcpu_fd.get(), KVM_GET_SREGS, &sregs) < 0) return false;
  value = sregs.efer;
  return true;
}

bool KvmVcpu::Impl::WriteEfer(uint64_t value) {
  kvm_sregs sregs{};
  if (ioctl(vcpu_fd.get(), KVM_GET_SREGS, &sregs) < 0) return false;
  // Reserved bits, and LME changing while paging is on, are #GP(0) (SDM
  // Vol. 3 9.8.5, Vol. 4 2.1 IA32_EFER).
  if ((value & ~(kEferWritable | kEferLma)) != 0) return false;
  if ((sregs.cr0 & kCr0Pg) != 0 && ((value ^ sregs.efer) & kEferLme) != 0) return false;
  sregs.efer = (value & kEferWritable) | (sregs.efer & kEferLma);
  return ioctl(vcpu_fd.get(), KVM_SET_SREGS, &sregs) == 0;
}

// IA32_TSC_DEADLINE holds a guest TSC value; the platform APIC compares it
// with its own 1 GHz TSC (virtual ns). Convert through the distance from the
// guest's current TSC, at the guest TSC's rate. Without a readable guest TSC
// (or with equal rates and no offset to learn) the value passes unchanged.
uint64_t KvmVcpu::Impl::GuestTscToPlatform(uint64_t value) {
  if (value == 0 || limits.tsc_khz == 0) return value;
  auto guest_now = KvmMsrTransfer::ReadOne(vcpu_fd.get(), kMsrTsc);
  if (!guest_now) return value;
  uint64_t now = env.clock->now_ns();
  auto ticks = static_cast<__int128>(value) - static_cast<__int128>(*guest_now);
  if (ticks <= 0) return std::max<uint64_t>(now, 1);  // Already due.
  __int128 ns = ticks * kPlatformTscKhz / limits.tsc_khz;
  __int128 target = static_cast<__int128>(now) + ns;
  return target > static_cast<__int128>(UINT64_MAX) ? UINT64_MAX : static_cast<uint64_t>(target);
}

uint64_t KvmVcpu::Impl::PlatformTscToGuest(uint64_t value) {
  if (value == 0 || limits.tsc_khz == 0) return value;
  auto guest_now = KvmMsrTransfer::ReadOne(vcpu_fd.get(), kMsrTsc);
  if (!guest_now) return value;
  __int128 ns = static_cast<__int128>(value) - static_cast<__int128>(env.clock->now_ns());
  __int128 target = static_cast<__int128>(*guest_now) + ns * limits.tsc_khz / kPlatformTscKhz;
  return target < 1 ? 1 : static_cast<uint64_t>(target);
}

// ---------------------------------------------------------------------------
// Failure reports

RunResult KvmVcpu::Impl::Failure(std::string what) {
  CpuState s;
  completion_pending = false;
  if (auto r = GetState(s); !r) {
    return {StopReason::kError, fmt::format("KVM cannot continue: {} (and reading the state "
                                            "failed: {})",
                                            what, r.error().message)};
  }
  std::vector<uint8_t> code = CodeBytes(s);
  std::string message = FormatFailureReport(what, s, code);
  // The caller decides: the run loop prints it and exits (--accel kvm), the
  // hybrid engine hands the guest to the interpreter.
  log->debug("{}", message);
  return {StopReason::kError, message};
}

std::vector<uint8_t> KvmVcpu::Impl::CodeBytes(const CpuState& s) {
  constexpr size_t kMaxInsnBytes = 15;  // SDM Vol. 2 2.3.11.
  std::vector<uint8_t> out;
  // An emulation failure may carry the bytes KVM tried to decode.
  if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
      run->emulation_failure.suberror == KVM_INTERNAL_ERROR_EMULATION &&
      run->emulation_failure.ndata >= 3 &&
      (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
      run->emulation_failure.insn_size > 0) {
    size_t n = std::min<size_t>(run->emulation_failure.insn_size, kMaxInsnBytes);
    return std::vector<uint8_t>(run->emulation_failure.insn_bytes,
                                run->emulation_failure.insn_bytes + n);
  }
  // Otherwise translate CS:RIP page by page and read guest memory.
  uint64_t linear = CodeLinearAddress(s);
  while (out.size() < kMaxInsnBytes) {
    uint64_t at = linear + out.size();
    kvm_translation t{};
    t.linear_address = at;
    if (ioctl(vcpu_fd.get(), KVM_TRANSLATE, &t) < 0 || !t.valid) break;
    size_t n = std::min<size_t>(kMaxInsnBytes - out.size(), 4096 - (at & 4095));
    std::vector<uint8_t> chunk(n);
    if (!env.memory->ReadPhysical(t.physical_address, chunk)) break;
    out.insert(out.end(), chunk.begin(), chunk.end());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Misc

void KvmVcpu::Kick() {
  Impl& d = *impl_;
  d.kick.store(true);
  std::lock_guard<std::mutex> lock(d.thread_mu);
  if (d.in_run) {
    RequestImmediateExit(d.run);
    pthread_kill(d.thread, KickSignal());
  }
}

uint64_t KvmVcpu::instructions_retired() const {
  return impl_->instructions.load(std::memory_order_relaxed);
}

const KvmStats& KvmVcpu::stats() const { return impl_->stats; }

KvmFailure KvmVcpu::last_failure() const { return impl_->last_failure; }

bool KvmVcpu::last_pending_event_is_exception() const { return impl_->last_event_is_exception; }

std::string KvmVcpu::StatsSummary() const {
  const KvmStats& k = impl_->stats;
  std::string exits;
  for (size_t reason = 0; reason < k.exits_by_reason.size(); ++reason) {
    if (k.exits_by_reason[reason] == 0) continue;
    std::string_view name = ExitReasonName(static_cast<uint32_t>(reason));
    if (name.starts_with("KVM_EXIT_")) name.remove_prefix(9);
    exits += fmt::format("{}{} {}", exits.empty() ? "" : ", ", name, k.exits_by_reason[reason]);
  }
  return fmt::format(
      "KVM_RUN {} times, {:.3f} s inside; exits by reason: {}; interrupted by the kick/deadline "
      "signal {}; injected {} interrupts, {} NMIs",
      k.runs, static_cast<double>(k.ns_in_kvm_run) / 1e9, exits.empty() ? "none" : exits,
      k.signal_exits, k.interrupts_injected, k.nmis_injected);
}

std::string KvmVcpu::LostChanges(const CpuState& reference, const CpuState& state) const {
  const Impl& d = *impl_;
  std::string lost;
  auto add = [&lost](std::string_view what) {
    if (!lost.empty()) lost += ", ";
    lost += what;
  };
  // Where KVM_SET_FPU drops MXCSR it also never loads the registers
  // (KvmHostLimits::fpu_drops_mxcsr): any x87/SSE change is lost.
  if (d.limits.fpu_drops_mxcsr && (reference.x87 != state.x87 || reference.xmm != state.xmm ||
                                   reference.mxcsr != state.mxcsr)) {
    add("the x87/SSE registers (KVM_SET_FPU does not reach the guest here)");
  }
  // There KVM_GET_FPU also reports MXCSR as 0 whatever the guest wrote: once
  // SSE is enabled, ring-3 code KVM runs natively may change MXCSR (LDMXCSR,
  // FXRSTOR, or just the sticky exception flags of any SSE arithmetic) with
  // no way to read it back at the next handover. Keep such a guest off KVM.
  if (d.limits.fpu_drops_mxcsr && (state.cr4 & cr4::kOsfxsr)) {
    add("a guest with CR4.OSFXSR set (its MXCSR under KVM could not be read back here)");
  }
  if (!d.limits.xsave && reference.ymm_hi != state.ymm_hi) {
    add("the upper YMM halves (no XSAVE ioctls)");
  }
  MsrState ref_msrs = reference.msr;
  MsrState new_msrs = state.msr;
  for (uint32_t index : d.limits.refused_msrs) {
    if (MsrIsEmulatable(index)) continue;  // Trapped: served from the shadow.
    if (index == kMsrTsc) {
      if (ref_msrs.tsc_offset != new_msrs.tsc_offset) add("the TSC");
      continue;
    }
    const uint64_t* a = MsrStateField(ref_msrs, index);
    const uint64_t* b = MsrStateField(new_msrs, index);
    if (a != nullptr && b != nullptr && *a != *b) add(MsrName(index));
  }
  return lost;
}

const KvmHostLimits& KvmVcpu::host_limits() const { return impl_->limits; }

Result<> KvmVcpu::HandMsrsOver() {
  Impl& d = *impl_;
  // KVM's own copy of a refused MSR the CPU acts on cannot be read or
  // written from here: trap every access so it never diverges from the
  // state the other engine holds.
  std::vector<uint32_t> trapped = d.trapped_msrs;
  for (uint32_t index : d.limits.refused_msrs) {
    if (!MsrIsEmulatable(index)) trapped.push_back(index);
  }
  if (auto r = d.vm->SetMsrFilter(trapped); !r) return r;
  d.msr_handover = true;
  return {};
}

}  // namespace x86vm
