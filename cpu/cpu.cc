// The dispatch loop and the decoded-instruction cache.
#include "cpu/cpu.h"

#include "cpu/exec_fast.h"
#include "cpu/lazy_flags.h"
#include "machine/guest_memory.h"

namespace x86vm {

Cpu::Cpu(const CpuEnvironment& env) : env_(env), table_(OpcodeTable::Get()) { Reset(); }

Cpu::~Cpu() = default;

void Cpu::Reset() {
  s.Reset();
  shutdown_ = false;
  reset_requested_ = false;
  exits_.shadow_pending = false;
  StateChanged();
}

void Cpu::StateChanged() {
  a20_mask_ = env_.memory->a20_mask();
  UpdateMode();
  UpdateDebugState();
  FlushTlb(true);
  exits_.poll_events = true;
  lf_pending = false;  // s.rflags was set from outside: it is exact.
}

void Cpu::SetRflags(uint64_t value) {
  // Bits that exist in RFLAGS (SDM Vol. 1 3.4.3); the rest read as 0, bit 1 as 1.
  constexpr uint64_t kDefined = 0x3f7fd5;
  value = (value & kDefined) | flags::kFixed1;
  if ((value & flags::kIf) && !(s.rflags & flags::kIf)) exits_.poll_events = true;
  // TF and RF need the careful dispatch loop from the next instruction on.
  if (value & (flags::kTf | flags::kRf)) exits_.stop = true;
  s.rflags = value;
}

const Insn* Cpu::FetchDecoded(Fault& fault, const Insn* prev) {
  const Insn* insn = nullptr;
  fault = FetchDecodedInto(insn, prev);
  return fault.ok() ? insn : nullptr;
}

Cpu::CodePage* Cpu::CodePageFor(TlbEntry& e) {
  TlbDetail& d = Detail(e);
  if (d.code != nullptr && e.code_mode == mode_) return d.code;
  uint64_t key = (d.pa_page >> 12) * 4 + static_cast<uint64_t>(mode_);
  auto& slot = code_pages_[key];
  if (!slot) {
    slot = std::make_unique<CodePage>();
    std::memset(slot->slot, 0, sizeof(slot->slot));
    std::memset(slot->covered, 0, sizeof(slot->covered));
    slot->insns.reserve(64);
  }
  MarkCodePage(d.pa_page);
  d.code = slot.get();
  e.code_mode = mode_;
  return d.code;
}

void Cpu::ExtendStraightRun(std::vector<Insn>& insns, size_t k) {
  // insns[k] just became straight (its successor insns[k + 1] was chained
  // to it and is not straight yet). The straight instructions before it are
  // each chained to the next, so their runs grow by one, up to one that
  // ends its run (Insn::ends_run: an SSE form).
  // Only the last of a run returns to DispatchFast (ThreadedFor): insns[k]
  // now, and no longer the one before it.
  insns[k].run = 1;
  insns[k].run_bytes = insns[k].length;
  insns[k].threaded = ThreadedFor(insns[k]);
  for (bool was_last = true; k > 0 && insns[k - 1].run != 0 && !insns[k - 1].ends_run; was_last = false) {
    --k;
    insns[k].run = static_cast<uint16_t>(insns[k + 1].run + 1);
    insns[k].run_bytes = static_cast<uint16_t>(insns[k].length + insns[k + 1].run_bytes);
    if (was_last) insns[k].threaded = ThreadedFor(insns[k]);
  }
}

namespace {

// Swaps a fresh decode's handler for its specialized form (if any) and
// notes whether it may run with lazy flags; returns the decoder's handler.
Handler Specialize(Insn& insn, CodeMode mode) {
  const Handler decoded = insn.handler;
  insn.handler = SpecializeHandler(insn, mode);
  insn.lazy_flags_ok = insn.handler != decoded || LeavesStatusFlagsAlone(decoded);
  return decoded;
}

}  // namespace

Fault Cpu::FetchDecodedInto(const Insn*& out, const Insn* prev) {
  uint64_t rip = s.rip;
  const Segment& cs = s.seg[kCs];
  uint64_t linear;
  if (is64()) {
    if (!IsCanonical(rip)) return Raise(kGp, 0);
    linear = rip;
  } else {
    if (rip > cs.limit) return Raise(kGp, 0);
    linear = (cs.base + rip) & 0xffffffffull;
  }
  bool user = s.cpl() == 3;
  uint64_t tag = ((linear >> 12) << 3) | (user ? 4 : 0) | static_cast<uint64_t>(mode_);
  FetchWindow& window = fetch_windows_[FetchWindowIndex(rip)];
  if (tag != fetch_tag_ && tag == window.tag) {
    // A page executed recently (a call and its return across pages).
    RestoreFetchWindow(window);
  } else if (tag != fetch_tag_) [[unlikely]] {
    // A TLB entry approved for execution needs no recheck (as in
    // ReadLinear); anything else goes through Translate.
    TlbEntry* e = &TlbSlot(linear >> 12);
    uint8_t need = user ? kAllowExecU : kAllowExecS;
    if (e->tag != (linear >> 12) || !(e->allow & need)) {
      X86_TRY(Translate(linear, Access::kExec, user, false, e));
    }
    fetch_pa_page_ = Detail(*e).pa_page;
    fetch_host_ = e->host;
    fetch_page_ = e->host != nullptr ? CodePageFor(*e) : nullptr;
    fetch_tag_ = tag;
    // The RIP range of this page, for the dispatch loops' fast paths: not
    // when the page wraps around 4 GiB, and only when the whole page lies
    // within the CS limit, so that a cached instruction needs no limit
    // check there (cached instructions never cross the page).
    fetch_page_rip_base_ = kNoFetch;
    uint64_t page_rip = rip - (linear & 0xfff);
    bool wraps = !is64() && ((linear & ~0xfffull) + 4095 > 0xffffffffull);
    bool within_limit = is64() || page_rip + 4095 <= cs.limit;
    if (fetch_page_ != nullptr && !wraps && within_limit) fetch_page_rip_base_ = page_rip;
    fetch_rip_limit_ = is64() ? ~0ull : cs.limit;
    // Remembered for DispatchFast and the next switch back here. A page
    // walk above that dropped the fetch cache has cleared the windows
    // first, and what it made stale (this page's decodes) is checked below.
    if (fetch_page_rip_base_ != kNoFetch) window = SaveFetchWindow();
  }
  unsigned offset = static_cast<unsigned>(linear & 0xfff);
  unsigned avail = 4096 - offset;
  if (avail > 15) avail = 15;
  if (fetch_page_ != nullptr) [[likely]] {
    CodePage& page = *fetch_page_;
    if (page.stale) [[unlikely]] {
      // Self-modifying code: drop this page's decodes (SDM Vol. 3 11.6).
      std::memset(page.slot, 0, sizeof(page.slot));
      std::memset(page.covered, 0, sizeof(page.covered));
      page.insns.clear();
      page.stale = false;
    }
    uint16_t index = page.slot[offset];
    if (index != 0) [[likely]] {
      out = &page.insns[index - 1];
    } else {
      Insn insn;
      DecodeStatus st = Decode(table_, mode_, fetch_host_ + offset, avail, insn);
      if (st == DecodeStatus::kOk) {
        const Handler decoded = Specialize(insn, mode_);
        // Memory forms chain inside runs; the SSE forms end theirs.
        const bool fallible = RunsStraightToFault(insn, decoded);
        insn.ends_run = fallible && IsSseForm(insn.handler);
        insn.chains_itself = fallible && !insn.ends_run;
        insn.threaded = ThreadedFor(insn);
        // The first run through straight-line code decodes it in order, so
        // a fall-through successor usually lands right after its
        // predecessor: chain them (checked before push_back moves them).
        bool chain = prev != nullptr && !page.insns.empty() && prev == &page.insns.back();
        page.insns.push_back(insn);
        if (chain) {
          size_t last = page.insns.size() - 1;
          Insn& before = page.insns[last - 1];
          before.flags |= insn_flags::kChained;
          if (elide_dead_flags) ElideDeadFlags(page.insns.data(), page.insns.size());
          // After elision, which only swaps in other straight handlers.
          if (straight_runs && before.threaded != nullptr) {
            ExtendStraightRun(page.insns, last - 1);
          }
        }
        page.slot[offset] = static_cast<uint16_t>(page.insns.size());
        page.Cover(offset, insn.length);
        out = &page.insns.back();
      } else if (st == DecodeStatus::kTooLong) {
        return Raise(kGp, 0);
      } else {
        out = nullptr;  // Crosses into the next page: decoded below, uncached.
      }
    }
  } else {
    out = nullptr;
  }
  // Cached instructions re-enable the fast path; uncached ones keep the
  // loop coming back here.
  fetch_rip_base_ = out != nullptr ? fetch_page_rip_base_ : kNoFetch;
  if (out == nullptr) {
    // Page-crossing or MMIO code: gather up to 15 bytes, fetching from the
    // next page only what the decoder asks for (so a #PF there is raised
    // only when the instruction really extends into it).
    uint8_t bytes[16] = {};
    unsigned have = 0;
    uint64_t wrap = (s.efer & efer::kLma) ? ~0ull : 0xffffffffull;
    for (;;) {
      DecodeStatus st = Decode(table_, mode_, bytes, have, scratch_insn_);
      if (st == DecodeStatus::kOk) {
        Specialize(scratch_insn_, mode_);
        break;
      }
      if (st == DecodeStatus::kTooLong || have >= 15) return Raise(kGp, 0);
      X86_TRY(ReadLinear((linear + have) & wrap, &bytes[have], 1, Access::kExec, false));
      ++have;
    }
    out = &scratch_insn_;
    std::memcpy(scratch_bytes_, bytes, sizeof(scratch_bytes_));  // For tracers.
  }
  if (!is64() && rip + out->length - 1 > cs.limit) return Raise(kGp, 0);
  return kOk;
}

CpuExit Cpu::Run(uint64_t max_instructions) {
  uint64_t end = retired_ + max_instructions;
  if (env_.memory->a20_mask() != a20_mask_) {
    // The A20 gate moved: every cached translation is wrong now.
    a20_mask_ = env_.memory->a20_mask();
    FlushTlb(true);
  }
  exits_.poll_events = true;
  for (;;) {
    if (kick_.load(std::memory_order_relaxed)) {
      kick_.store(false, std::memory_order_relaxed);
      return CpuExit::kKicked;
    }
    if (shutdown_) return CpuExit::kShutdown;
    if (reset_requested_) {
      reset_requested_ = false;
      return CpuExit::kReset;
    }
    if (exits_.poll_events || s.halted) {
      // Events are taken between instructions, never inside an interrupt
      // shadow (SDM Vol. 3 6.8.3).
      exits_.poll_events = false;
      if (!s.events.interrupt_shadow) {
        DeliverPendingEvents();
        if (shutdown_) return CpuExit::kShutdown;
      }
      if (s.halted) return CpuExit::kHalt;
    }
    if (retired_ >= end) return CpuExit::kBudget;
    exits_.stop = false;
    if (tracer_ != nullptr) [[unlikely]] {
      Dispatch<true>(end);
    } else if (NeedsCarefulDispatch()) [[unlikely]] {
      Dispatch<false>(end);
    } else {
      DispatchFast(end);
    }
  }
}

bool Cpu::NeedsCarefulDispatch() const {
  return (s.rflags & (flags::kTf | flags::kRf)) || s.events.interrupt_shadow || exits_.shadow_pending ||
         code_bp_active_ || data_bp_active_ || io_bp_active_;
}

void Cpu::DispatchFast(uint64_t end) {
  // Run and everything after it see exact status flags.
  DispatchFastLoop(end);
  MaterializeFlags();
}

void Cpu::DispatchFastLoop(uint64_t end) {
  // The common case of Dispatch<false> with the per-instruction debug work
  // taken out: Run only comes here when no single-step, RF, interrupt
  // shadow or breakpoint is in effect, and whatever changes that leaves
  // the loop (SetRflags, MarkRepIncomplete, UpdateDebugState set exits_.stop; STI
  // and MOV SS set exits_.shadow_pending). A write to decoded code and anything
  // that drops the fetch cache (TLB flushes, mode changes) go through
  // InvalidateFetch (NoteCodeWrite), which the lookup below notices through
  // fetch_rip_base_ and the chained path through exits_.stop, so neither
  // checks `stale`.
  //
  // RIP and the retired count live in registers across instructions (no
  // store-to-load chain through memory); handlers see s.rip and change
  // control flow only through next_rip.
  uint64_t rip = s.rip;
  uint64_t retired = retired_;
  const Insn* fell_from = nullptr;  // The previous instruction, if it fell through.
  for (;;) {
    // Find the instruction at RIP. The fetch page is known to lie within the
    // CS limit (FetchDecodedInto), so no limit check here.
    const Insn* insn;
    uint64_t offset = rip - fetch_rip_base_;
    uint16_t index;
    const FetchWindow* window;
    if (offset < 4096 && (index = fetch_page_->slot[offset]) != 0) [[likely]] {
      insn = &fetch_page_->insns[index - 1];
    } else if (window = &fetch_windows_[FetchWindowIndex(rip)], offset = rip - window->page_rip_base,
               offset < 4096 && (index = window->page->slot[offset]) != 0) {
      // A recently executed page (InvalidateFetch clears the windows, as it
      // does fetch_rip_base_): switch to it without the fetch path.
      RestoreFetchWindow(*window);
      fetch_rip_base_ = fetch_page_rip_base_;
      insn = &fetch_page_->insns[index - 1];
    } else {
      Fault f;
      insn = FetchDecoded(f, fell_from);
      if (insn == nullptr) [[unlikely]] {
        RaiseException(f, EventKind::kException, rip);
        return;
      }
      // The fetch itself dropped the fetch cache (a page walk's A/D write
      // into decoded code): start over from Run, where the fetch hits. An
      // instruction with dead flags must not be the last one run here.
      if (AnyExitRequest()) [[unlikely]] return;
    }
    // Run it and, while it falls through to a chained successor (the next
    // Insn in memory) on a page still cached, the ones after it without
    // looking them up.
    for (;;) {
      if (insn->run != 0) {
        // A straight run (Insn::run): handlers that cannot branch or read
        // RIP, each chained to the next within one page, so RIP, next_rip
        // and the retired count need no update between them: a whole run
        // costs one budget check, and RIP moves by Insn::run_bytes. RIP and
        // the count move first: the handlers cannot see either. Only a
        // memory form (Insn::chains_itself, anywhere in the run) or the
        // last one (an SSE form, Insn::ends_run) can fault or ask for a
        // stop; register forms return kOk and request nothing.
        const uint64_t mask = rip_mask_;
        for (unsigned n; (n = insn->run) != 0 && retired + n <= end;) {
          retired += n;
          rip = (rip + insn->run_bytes) & mask;
          in_threaded_run = true;
          Fault f = insn->threaded(*this, *insn);  // The whole run.
          in_threaded_run = false;
          insn += n;
          if (!f.ok() || AnyExitRequest()) [[unlikely]] {
            // The run ended at a memory form that faulted or asked for a
            // stop: its own last one, or one inside it (run_stop). `run`
            // and `run_bytes` count to the same end from every member, so
            // the ones after `stop` come off the count and RIP.
            const Insn& stop = run_stop != nullptr ? *run_stop : insn[-1];
            run_stop = nullptr;
            retired -= stop.run - 1u;
            rip = (rip - (stop.run_bytes - stop.length)) & mask;
            LeaveRun(f, stop, rip, retired);
            return;
          }
        }
        // The run reaches past the budget: one at a time up to it, and
        // on past it while a dead-flag instruction must run into its
        // successor (as below). Run(n) stays exact otherwise.
        while (insn->run != 0 && (retired < end || (insn[-1].flags & insn_flags::kFlagsDead))) {
          Fault f = insn->handler(*this, *insn);
          rip = (rip + insn->length) & mask;
          ++retired;
          ++insn;
          if (!f.ok() || AnyExitRequest()) [[unlikely]] {
            LeaveRun(f, insn[-1], rip, retired);
            return;
          }
        }
        retired_ = retired;
        s.rip = rip;
        // `insn` is the chained successor of the last one run.
        if (retired >= end && !(insn[-1].flags & insn_flags::kFlagsDead)) break;
      }
      uint64_t fallthrough = (rip + insn->length) & rip_mask_;
      next_rip = fallthrough;
      if (!insn->lazy_flags_ok) MaterializeFlags();
      Fault f = insn->handler(*this, *insn);
      if (f.faulted()) [[unlikely]] {
        exits_.shadow_pending = false;
        pending_db_ = 0;
        RaiseException(f, EventKind::kException, s.rip);
        return;
      }
      uint64_t target = next_rip;
      retired_ = ++retired;
      if (AnyExitRequest()) [[unlikely]] {
        s.rip = target;
        if (exits_.shadow_pending) {
          // STI / MOV SS: the shadow covers the next instruction (SDM Vol. 3
          // 6.8.3); the careful loop runs it.
          s.events.interrupt_shadow = true;
          exits_.shadow_pending = false;
        }
        return;
      }
      if (target != fallthrough) [[unlikely]] {
        fell_from = nullptr;
        rip = target;
        break;
      }
      fell_from = insn;
      rip = fallthrough;
      // An instruction with dead flags (ElideDeadFlags) runs on into its
      // successor even past the budget: only that one restores the flags,
      // and nothing it or the flag-neutral ones between can do ends the run.
      if (!(insn->flags & insn_flags::kChained) ||
          (retired >= end && !(insn->flags & insn_flags::kFlagsDead))) {
        break;
      }
      s.rip = rip;
      ++insn;
    }
    s.rip = rip;
    if (retired >= end) [[unlikely]] return;
  }
}

void Cpu::LeaveRun(Fault f, const Insn& last, uint64_t rip, uint64_t retired) {
  // `last` ended a straight run early (a memory or SSE form that faulted or
  // asked for a stop); `rip` and `retired` already count it. Nothing before
  // it in the run left dead flags behind (ElideDeadFlags never walks over a
  // memory access).
  if (f.faulted()) {
    // Nothing of it retired: the fault belongs to its own RIP.
    retired_ = retired - 1;
    s.rip = (rip - last.length) & rip_mask_;
    exits_.shadow_pending = false;
    pending_db_ = 0;
    RaiseException(f, EventKind::kException, s.rip);
    return;
  }
  // It retired and asked for a stop (a write into decoded code, an MMIO
  // access): Run sees the request. Memory accesses set no interrupt shadow.
  retired_ = retired;
  s.rip = rip;
}

template <bool kTraced>
void Cpu::Dispatch(uint64_t end) {
  while (!exits_.stop && !exits_.poll_events && retired_ < end) {
    const Insn* insn;
    // Fast path: the next instruction is already decoded in the page we
    // are executing from (blink-style short dispatch).
    uint64_t offset = s.rip - fetch_rip_base_;
    uint16_t index;
    if (offset < 4096 && !fetch_page_->stale && (index = fetch_page_->slot[offset]) != 0 &&
        s.rip + fetch_page_->insns[index - 1].length - 1 <= fetch_rip_limit_) [[likely]] {
      insn = &fetch_page_->insns[index - 1];
    } else {
      Fault f;
      insn = FetchDecoded(f);
      if (insn == nullptr) [[unlikely]] {
        RaiseException(f, EventKind::kException, s.rip);
        return;
      }
    }
    if (code_bp_active_ && !(s.rflags & flags::kRf)) [[unlikely]] {
      uint64_t linear = is64() ? s.rip : (s.seg[kCs].base + s.rip) & 0xffffffffull;
      if (uint32_t hits = MatchCodeBreakpoints(linear)) {
        // Instruction breakpoints are faults taken before the instruction
        // (SDM Vol. 3 18.3.1.1); the handler sets RF to continue.
        s.dr6 = (s.dr6 & ~0xfull) | hits;
        RaiseException(Raise(kDb), EventKind::kException, s.rip);
        return;
      }
    }
    [[maybe_unused]] bool observed = false;
    if constexpr (kTraced) {
      TraceAction action = TraceBefore(*insn);
      if (action == TraceAction::kDetach) tracer_ = nullptr;
      observed = action == TraceAction::kObserve;
    }
    // RF is cleared at the start of every instruction, after the code
    // breakpoint check (SDM Vol. 3 18.3.1.1).
    s.rflags &= ~flags::kRf;
    bool tf = (s.rflags & flags::kTf) != 0;
    bool shadow_before = s.events.interrupt_shadow;
    next_rip = (s.rip + insn->length) & rip_mask_;
    event_delivered_ = false;
    Fault f = FullFlagsHandler(*insn)(*this, *insn);
    // The generic handler after this one and the tracer see exact flags.
    MaterializeFlags();
    if (f.faulted()) [[unlikely]] {
      exits_.shadow_pending = false;
      pending_db_ = 0;
      RaiseException(f, EventKind::kException, s.rip);
      return;
    }
    s.rip = next_rip;
    ++retired_;
    if constexpr (kTraced) {
      if (observed) tracer_->AfterInstruction(s);
    }
    if (tf || shadow_before || exits_.shadow_pending || pending_db_) [[unlikely]] {
      bool new_shadow = exits_.shadow_pending;
      exits_.shadow_pending = false;
      // A shadow lasts one instruction and does not chain (STI; STI).
      s.events.interrupt_shadow = new_shadow && !shadow_before;
      if (shadow_before) exits_.poll_events = true;
      Retire(tf, new_shadow);
    }
    if constexpr (kTraced) {
      // Detached: back to Run, which picks the untraced loop.
      if (tracer_ == nullptr) return;
    } else {
      // Back to the fast loop once nothing needs this one.
      if (!NeedsCarefulDispatch()) return;
    }
  }
}

void Cpu::Retire(bool tf_before, bool new_shadow) {
  // MOV SS / POP SS also hold off the single-step trap (SDM Vol. 3 6.8.3).
  bool db_blocked = new_shadow && shadow_blocks_db_;
  // Single-step trap after the instruction (SDM Vol. 3 17.3.1.4). An
  // instruction that delivered an event (INT n) has cleared TF itself.
  bool step = tf_before && !event_delivered_;
  if ((step || pending_db_) && !db_blocked) {
    // One #DB trap reports single-step (BS) and data/I/O hits (Bn) together.
    if (step) s.dr6 |= 1ull << 14;
    s.dr6 = (s.dr6 & ~0xfull) | pending_db_;
    pending_db_ = 0;
    RaiseException(Raise(kDb), EventKind::kException, s.rip);
    exits_.stop = true;
  }
}

TraceAction Cpu::TraceBefore(const Insn& insn) {
  TracedInstruction t;
  t.rip = s.rip;
  t.linear = is64() ? s.rip : (s.seg[kCs].base + s.rip) & 0xffffffffull;
  t.code_bits = mode_ == CodeMode::k64 ? 64 : mode_ == CodeMode::k32 ? 32 : 16;
  t.length = insn.length;
  // The bytes were fetched to decode this instruction: cached ones lie in
  // the fetch page, others were gathered into scratch_bytes_. Copying them
  // again cannot fault or touch devices.
  const uint8_t* bytes = &insn == &scratch_insn_ ? scratch_bytes_ : fetch_host_ + (t.linear & 0xfff);
  std::memcpy(t.bytes, bytes, insn.length);
  return tracer_->BeforeInstruction(t, s);
}

void Cpu::TraceEvent(const Fault& f, EventKind kind) {
  TracedEvent e;
  e.vector = static_cast<uint8_t>(f.vector);
  switch (kind) {
    case EventKind::kException: e.kind = TracedEventKind::kException; break;
    case EventKind::kExternal: e.kind = TracedEventKind::kExternal; break;
    case EventKind::kNmi: e.kind = TracedEventKind::kNmi; break;
    case EventKind::kSoftware: e.kind = TracedEventKind::kSoftware; break;
    case EventKind::kSoftException: e.kind = TracedEventKind::kSoftException; break;
    case EventKind::kIcebp: e.kind = TracedEventKind::kIcebp; break;
  }
  e.has_error_code = f.has_error_code;
  e.error_code = f.error_code;
  e.cr2 = fault_address;
  tracer_->OnEvent(e, s);
}

}  // namespace x86vm
