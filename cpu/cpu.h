// The interpreter's execution core: architectural state plus the machinery
// handlers use (register and memory access through segmentation and the
// TLB, stack, branches, segment loads, event delivery) and the dispatch loop
// over the decoded-instruction cache. Internal to cpu/: the rest of the
// emulator sees only accel/vcpu.h through Interpreter.
#ifndef X86VM_CPU_CPU_H_
#define X86VM_CPU_CPU_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cpu/cpu_state.h"
#include "cpu/cpuid.h"
#include "cpu/decoder.h"
#include "cpu/fault.h"
#include "cpu/hot_inline.h"
#include "cpu/insn.h"
#include "cpu/lazy_flags.h"
#include "cpu/paging.h"
#include "cpu/platform.h"
#include "cpu/trace_hook.h"

namespace x86vm {

// How an event reached the CPU; selects IDT privilege checks, the EXT bit
// and the return address (SDM Vol. 3 6.4, 6.13).
enum class EventKind : uint8_t {
  kException,      // Fault or trap raised by the processor.
  kExternal,       // INTR from the interrupt controller.
  kNmi,            // NMI.
  kSoftware,       // INT n (gate DPL checked).
  kSoftException,  // INT3, INTO (gate DPL checked; a trap).
  kIcebp,          // INT1 (no DPL check).
};

// What started a hardware task switch (SDM Vol. 3 7.3).
enum class TaskSwitchReason : uint8_t { kJump, kCall, kIret, kGate };

// Why Cpu::Run stopped.
enum class CpuExit : uint8_t {
  kBudget,    // The instruction budget is spent.
  kHalt,      // HLT with no deliverable event.
  kShutdown,  // Triple fault.
  kReset,     // The platform asked for a reset.
  kKicked,    // Kick() was called.
};

// An access kind for segment and page checks.
enum class Access : uint8_t { kRead, kWrite, kExec };

class Cpu final : private PageTableMemory {
 public:
  explicit Cpu(const CpuEnvironment& env);
  ~Cpu() override;
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  // The architectural state. Handlers read and write it directly; code that
  // changes CR0/CR3/CR4/EFER/CS or replaces the whole state must call the
  // matching Set*/StateChanged() so derived caches follow.
  CpuState s;

  // ---- Running --------------------------------------------------------------
  // Executes about `max_instructions` instructions (fewer if something in
  // CpuExit happens; a few more when the budget ends inside a run of
  // instructions whose flags ElideDeadFlags removed). Credits nothing to the
  // clock; the caller does.
  CpuExit Run(uint64_t max_instructions);
  // Whether newly decoded code gets dead-flag elision (tests compare both).
  bool elide_dead_flags = true;
  // Whether newly decoded code gets straight runs (Insn::run; tests
  // compare both).
  bool straight_runs = true;
  // Asks Run() to return with kKicked at the next instruction boundary.
  void Kick() { kick_.store(true, std::memory_order_relaxed); }
  // Instructions retired since construction.
  uint64_t instructions_retired() const { return retired_; }
  // Power-on reset (SDM Vol. 3 9.1.1).
  void Reset();
  // Recomputes every cache derived from `s` (after SetState or a snapshot).
  void StateChanged();
  // Drops decoded instructions overlapping [gpa, gpa + size) (DMA writes).
  void InvalidateCode(uint64_t gpa, uint64_t size);
  // Drops every decoded instruction (guest memory replaced, e.g. a snapshot).
  void FlushCodeCache();
  const CpuEnvironment& env() const { return env_; }
  // Installs an execution tracer (nullptr removes it). While one is
  // installed Run() takes the traced dispatch loop; the tracer must outlive
  // its installation.
  void SetTracer(InstructionTracer* tracer) { tracer_ = tracer; }

  // The CPUID model (set before running).
  CpuFeatures features;
  // Instructions already credited to the deterministic clock (the
  // Interpreter updates it); RDTSC adds the rest.
  uint64_t credited_instructions = 0;

  // ---- Decoding state of the current instruction ---------------------------
  // RIP of the next instruction; branches set it, Run commits it.
  uint64_t next_rip = 0;
  // Straight runs (DispatchFast): true while Insn::threaded runs one. A
  // memory form executed then chains to its successor itself (it is its
  // own `threaded`), and on a fault or an exit request in its slow path
  // records itself in run_stop for DispatchFast (exec_fast.cc, Next and
  // Fallback).
  bool in_threaded_run = false;
  const Insn* run_stop = nullptr;
  // Whether any ExitRequests field is set (one load).
  bool AnyExitRequest() const {
    uint32_t word;
    std::memcpy(&word, &exits_, sizeof(word));
    return word != 0;
  }
  // Lazy status flags (lazy_flags.h). Only the specialized handlers
  // (exec_fast*.cc, Insn::lazy_flags_ok) set them, and only DispatchFast
  // runs those without materializing after each: while lf_pending, the six
  // status bits of s.rflags are stale and lf_res/lf_aux hold them. Whatever
  // else reads or writes status flags (the generic handlers, the careful
  // loops, exception delivery, Run's callers) comes after MaterializeFlags.
  uint64_t lf_res = 0;
  uint64_t lf_aux = 0;
  bool lf_pending = false;
  // Writes pending lazy flags into s.rflags (inline: a call would give
  // every specialized handler a stack frame).
  X86VM_HOT_INLINE void MaterializeFlags() {
    if (lf_pending) [[unlikely]] {
      s.rflags = (s.rflags & ~flags::kStatus) | lazy::StatusBits(lf_res, lf_aux);
      lf_pending = false;
    }
  }
  // The mode instructions are decoded in.
  CodeMode mode() const { return mode_; }
  bool is64() const { return mode_ == CodeMode::k64; }

  // ---- Registers ------------------------------------------------------------
  template <typename T>
  X86VM_HOT_INLINE T Gpr(int r) const {
    return static_cast<T>(s.gpr[r]);
  }
  // Writes the low sizeof(T) bytes; a 32-bit write zero-extends (SDM Vol. 1 3.4.1.1).
  template <typename T>
  X86VM_HOT_INLINE void SetGpr(int r, T v) {
    if constexpr (sizeof(T) >= 4) {
      s.gpr[r] = static_cast<uint64_t>(v);
    } else {
      constexpr uint64_t kMask = (uint64_t{1} << (8 * sizeof(T))) - 1;
      s.gpr[r] = (s.gpr[r] & ~kMask) | (static_cast<uint64_t>(v) & kMask);
    }
  }
  // Byte registers: without REX, 4-7 are AH CH DH BH.
  X86VM_HOT_INLINE uint8_t Gpr8(const Insn& i, int r) const {
    if (r >= 4 && r < 8 && !i.has(insn_flags::kRex)) return static_cast<uint8_t>(s.gpr[r - 4] >> 8);
    return static_cast<uint8_t>(s.gpr[r]);
  }
  X86VM_HOT_INLINE void SetGpr8(const Insn& i, int r, uint8_t v) {
    if (r >= 4 && r < 8 && !i.has(insn_flags::kRex)) {
      s.gpr[r - 4] = (s.gpr[r - 4] & ~0xff00ull) | (uint64_t{v} << 8);
    } else {
      s.gpr[r] = (s.gpr[r] & ~0xffull) | v;
    }
  }
  // The G operand (ModRM.reg) and the register form of E (ModRM.rm).
  template <typename T>
  X86VM_HOT_INLINE T RegOp(const Insn& i, int r) const {
    if constexpr (sizeof(T) == 1) return Gpr8(i, r);
    else return Gpr<T>(r);
  }
  template <typename T>
  X86VM_HOT_INLINE void SetRegOp(const Insn& i, int r, T v) {
    if constexpr (sizeof(T) == 1) SetGpr8(i, r, v);
    else SetGpr<T>(r, v);
  }

  // Writes RFLAGS through the rules every writer shares (bit 1 set, reserved
  // bits clear) and notices a newly set IF.
  void SetRflags(uint64_t value);

  // ---- Memory ---------------------------------------------------------------
  // The effective address of a memory operand, truncated to the address size.
  X86VM_HOT_INLINE uint64_t Ea(const Insn& i) const {
    uint64_t ea = i.disp;
    if (i.base != kNoReg) ea += s.gpr[i.base];
    if (i.index != kNoReg) ea += s.gpr[i.index] << i.scale;
    if (i.has(insn_flags::kRipRelative)) ea += s.rip + i.length;
    return ea & AddrMask(i.addrsize);
  }
  // Bits 63:47 all equal (SDM Vol. 1 3.3.7.1).
  static constexpr bool IsCanonical(uint64_t a) {
    return static_cast<uint64_t>(static_cast<int64_t>(a << 16) >> 16) == a;
  }
  static constexpr uint64_t AddrMask(unsigned size) {
    return size == 8 ? ~0ull : size == 4 ? 0xffffffffull : 0xffffull;
  }

  // Segment-relative accesses with all segmentation and paging checks.
  Fault ReadBytes(int seg, uint64_t offset, void* data, unsigned size);
  Fault WriteBytes(int seg, uint64_t offset, const void* data, unsigned size);
  // Checks that [offset, offset + size) may be written without writing it
  // (instructions that must fault before changing state).
  Fault ProbeWrite(int seg, uint64_t offset, unsigned size);
  // Typed accesses: a TLB hit on an approved page is a host load or store
  // inlined into the handler; everything else takes the precise path.
  template <typename T>
  X86VM_HOT_INLINE Fault Read(int seg, uint64_t offset, T& v) {
    if (const uint8_t* p = FastHostPointer(seg, offset, sizeof(T), Access::kRead)) [[likely]] {
      std::memcpy(&v, p, sizeof(T));
      return kOk;
    }
    return ReadBytes(seg, offset, &v, sizeof(T));
  }
  template <typename T>
  X86VM_HOT_INLINE Fault Write(int seg, uint64_t offset, T v) {
    if (uint8_t* p = FastHostPointer(seg, offset, sizeof(T), Access::kWrite)) [[likely]] {
      std::memcpy(p, &v, sizeof(T));
      return kOk;
    }
    return WriteBytes(seg, offset, &v, sizeof(T));
  }
  // Reads the destination of a read-modify-write instruction: faults as a
  // write if the location may not be written (ProbeWrite), then reads it.
  template <typename T>
  X86VM_HOT_INLINE Fault ReadForWrite(int seg, uint64_t offset, T& v) {
    // x86 has no write-only pages or segments: writable implies readable.
    if (const uint8_t* p = FastHostPointer(seg, offset, sizeof(T), Access::kWrite)) [[likely]] {
      std::memcpy(&v, p, sizeof(T));
      return kOk;
    }
    X86_TRY(ProbeWrite(seg, offset, sizeof(T)));
    return ReadBytes(seg, offset, &v, sizeof(T));
  }
  // The E operand: register or memory.
  template <typename T>
  X86VM_HOT_INLINE Fault ReadE(const Insn& i, T& v) {
    if (i.mod == 3) {
      v = RegOp<T>(i, i.rm);
      return kOk;
    }
    return Read<T>(i.seg, Ea(i), v);
  }
  template <typename T>
  X86VM_HOT_INLINE Fault WriteE(const Insn& i, T v) {
    if (i.mod == 3) {
      SetRegOp<T>(i, i.rm, v);
      return kOk;
    }
    return Write<T>(i.seg, Ea(i), v);
  }

  // The host memory behind [offset, offset + size) of `seg` when one
  // already-approved TLB entry covers it for this access at the current CPL,
  // the segment is a plain usable data segment (or 64-bit mode) within its
  // limit, and no breakpoint or alignment check could fire; nullptr
  // otherwise (the caller then takes the precise path, which raises any
  // fault). Never faults. The fast path of every data access.
  X86VM_HOT_INLINE uint8_t* FastHostPointer(int seg, uint64_t offset, unsigned size, Access kind) {
    const Segment& sg = s.seg[seg];
    uint64_t linear;
    if (mode_ == CodeMode::k64) [[likely]] {
      // No limits; only FS and GS have a base (SDM Vol. 3 3.2.4). A TLB hit
      // means the page is canonical, and the access stays in that page.
      linear = offset + (seg >= kFs ? sg.base : 0);
    } else {
      // Expand-up data, readable and (for writes) writable: only the limit
      // to check (SDM Vol. 3 5.3). Other segments take the precise path.
      uint32_t check = seg_attr::kUnusable | seg_attr::kS | seg_attr::kCode | seg_attr::kExpandDown;
      uint32_t want = seg_attr::kS;
      if (kind == Access::kWrite) {
        check |= seg_attr::kWritable;
        want |= seg_attr::kWritable;
      }
      if ((sg.attr & check) != want || offset + size - 1 > sg.limit || size == 0) return nullptr;
      linear = (sg.base + offset) & 0xffffffffull;
    }
    return FastLinearHost(linear, size, kind, s.cpl() == 3);
  }
  // The TLB half of FastHostPointer, for a linear address the caller formed
  // (64-bit mode code that knows no segment check applies; see exec_fast.cc),
  // by a user-mode access (CPL 3) or not.
  X86VM_HOT_INLINE uint8_t* FastLinearHost(uint64_t linear, unsigned size, Access kind, bool user) {
    const TlbEntry& e = TlbSlot(linear >> 12);
    unsigned in_page = static_cast<unsigned>(linear & 0xfff);
    uint8_t need = kind == Access::kWrite ? kAllowWriteS : kind == Access::kExec ? kAllowExecS : kAllowReadS;
    if (user) need = static_cast<uint8_t>(need << 3);  // The kAllow*U bits.
    if (e.tag != (linear >> 12) || in_page + size > 4096 || !(e.allow & need) ||
        (s.rflags & flags::kAc) || data_bp_active_) [[unlikely]] {
      return nullptr;
    }
    return e.host + in_page;
  }

  // Linear-address accesses (descriptor tables, TSS, IDT use supervisor=true:
  // implicit supervisor accesses, SDM Vol. 3 4.6).
  Fault ReadLinear(uint64_t linear, void* data, unsigned size, Access kind, bool supervisor);
  Fault WriteLinear(uint64_t linear, const void* data, unsigned size, bool supervisor);
  // Guest-physical access (A20 applied), RAM or MMIO.
  void ReadPhysical(uint64_t pa, void* data, unsigned size);
  void WritePhysical(uint64_t pa, const void* data, unsigned size);

  // ---- Stack ----------------------------------------------------------------
  // The stack address size: 8 in 64-bit mode, else SS.B ? 4 : 2.
  unsigned StackAddrSize() const {
    if (is64()) return 8;
    return s.seg[kSs].db() ? 4 : 2;
  }
  // Pushes `size` bytes of `value`; RSP changes only if the write succeeds.
  Fault Push(unsigned size, uint64_t value);
  // Pops `size` bytes; RSP changes only if the read succeeds.
  Fault Pop(unsigned size, uint64_t& value);
  // Reads the stack `offset` bytes above RSP without popping.
  Fault PeekStack(unsigned size, uint64_t offset, uint64_t& value);
  // Adds `delta` to RSP within the stack address size.
  void AdjustRsp(int64_t delta);

  // ---- Branches ---------------------------------------------------------------
  // A near branch: target truncated to the operand size, then the CS limit
  // (legacy) or canonical (64-bit) check, #GP(0) (SDM Vol. 2 "JMP").
  Fault BranchNear(uint64_t target, unsigned opsize);

  // ---- Segmentation (segmentation.cc) -------------------------------------------
  // MOV/POP/LDS-style load of ES, SS, DS, FS or GS with the checks of the
  // current mode (SDM Vol. 2 "MOV", "POP"; Vol. 3 5.6-5.10).
  Fault LoadSegment(int seg, uint16_t selector);
  // Reads the 8-byte descriptor for `selector` from the GDT or LDT. A selector
  // outside the table gives `error` (usually #GP(selector)).
  Fault ReadDescriptor(uint16_t selector, uint64_t& raw, Vector error_vector);
  // Reads a 16-byte system descriptor (64-bit LDT/TSS/gates).
  Fault ReadDescriptor16(uint16_t selector, uint64_t& lo, uint64_t& hi, Vector error_vector);
  // Sets the accessed bit of a descriptor in memory.
  Fault SetDescriptorAccessed(uint16_t selector, uint64_t raw);
  // The descriptor-cache form of a raw descriptor.
  static Segment DescriptorToSegment(uint16_t selector, uint64_t raw);
  // Loads a segment in real or virtual-8086 mode (base = selector << 4).
  void LoadSegmentReal(int seg, uint16_t selector);
  // Installs a new CS (already checked) and recomputes the code mode.
  void SetCs(const Segment& cs);

  // ---- Far transfers (far_transfer.cc) ----------------------------------------
  Fault FarJump(uint16_t selector, uint64_t offset, unsigned opsize);
  Fault FarCall(uint16_t selector, uint64_t offset, unsigned opsize);
  Fault FarReturn(unsigned opsize, uint16_t pop_bytes);
  Fault Iret(unsigned opsize);

  // Hardware task switch to the TSS named by `selector` (task.cc). For kGate
  // an error code may be pushed on the new task's stack.
  Fault TaskSwitch(uint16_t selector, TaskSwitchReason reason, bool has_error,
                   uint32_t error_code, uint64_t return_rip);

  // ---- Control registers (system.cc) ---------------------------------------------
  Fault SetCr0(uint64_t value);
  Fault SetCr3(uint64_t value);
  Fault SetCr4(uint64_t value);
  Fault SetEfer(uint64_t value);
  Fault ReadMsr(uint32_t index, uint64_t& value);
  Fault WriteMsr(uint32_t index, uint64_t value);
  // The TSC as the guest reads it.
  uint64_t ReadTsc() const;

  // ---- Events (interrupts.cc) ---------------------------------------------------
  // Delivers an event through the IDT (or IVT). A fault while delivering is
  // returned; RaiseException combines it into #DF / shutdown.
  Fault DeliverEvent(uint8_t vector, EventKind kind, bool has_error, uint32_t error_code,
                     uint64_t return_rip);
  // Delivers an exception raised by the current instruction, applying the
  // double-fault rules (SDM Vol. 3 Table 6-5).
  void RaiseException(Fault f, EventKind kind, uint64_t return_rip);
  // The linear address of the last #PF, loaded into CR2 at delivery.
  uint64_t fault_address = 0;
  // Set by handlers: the instruction stopped the CPU (HLT).
  void Halt() { s.halted = true; exits_.stop = true; }
  // Set by handlers: re-check pending interrupts at the next boundary.
  void PollEvents() { exits_.poll_events = true; }
  // Set by handlers that start a single-instruction interrupt shadow: STI
  // (blocks_debug = false), MOV SS / POP SS (true).
  void SetInterruptShadow(bool blocks_debug) {
    exits_.shadow_pending = true;
    shadow_blocks_db_ = blocks_debug;
  }
  // A REP string instruction stops between iterations: RF = 1 so an
  // interrupt taken now pushes RF = 1 (SDM Vol. 3 18.3.1.1).
  void MarkRepIncomplete() {
    s.rflags |= flags::kRf;
    exits_.stop = true;  // RF needs the careful dispatch loop.
  }
  // Leave the dispatch loop after this instruction (mode switches).
  void RequestExit() { exits_.stop = true; }
  // Port I/O through the bus, with the IOPL/TSS bitmap check.
  Fault CheckIoPermission(uint16_t port, unsigned size);
  uint64_t PortRead(uint16_t port, unsigned size);
  void PortWrite(uint16_t port, unsigned size, uint64_t value);

  // ---- Debug registers (debug.cc) -------------------------------------------------
  // Recomputes which breakpoint kinds DR7/CR4 enable; call after writing them.
  void UpdateDebugState();
  // #DB for MOV DRn when DR7.GD is set.
  Fault CheckDebugRegisterAccess();

  // ---- TLB ------------------------------------------------------------------------
  // Flushes translations (all, or only non-global ones).
  void FlushTlb(bool include_global);
  // INVLPG: drops the translations for the page holding `linear`.
  void FlushTlbPage(uint64_t linear);

 private:
  struct CodePage;
  // One direct-mapped TLB entry for a 4 KiB linear page: the part every
  // memory access reads, kept small (24 bytes) so the whole TLB stays in the
  // host's L1 cache. The rest lives in TlbDetail.
  struct TlbEntry {
    uint64_t tag = ~0ull;     // Linear page number, ~0 when empty.
    uint8_t* host = nullptr;  // Host memory for the page, or null (MMIO).
    uint8_t allow = 0;        // kAllow* bits pre-approved for the fast path.
    bool global = false;
    bool large = false;       // Part of a 2M/4M/1G page (INVLPG must find it).
    CodeMode code_mode = CodeMode::k16;  // The mode TlbDetail::code was decoded in.
  };
  // The rest of a TLB entry: for fills, slow-path rechecks and fetches.
  struct TlbDetail {
    uint64_t pa_page = 0;       // Physical page base.
    Translation t;              // Rights, for the slow-path recheck.
    CodePage* code = nullptr;   // Decodes of pa_page in code_mode (fetch cache).
  };
  TlbDetail& Detail(const TlbEntry& e) { return tlb_detail_[&e - tlb_]; }
  static constexpr unsigned kTlbSize = 1024;
  // The direct-mapped slot for a linear page number. The index folds in the
  // next ten page-number bits so that pages a multiple of 4 MiB apart (a
  // copy between 2 MiB-aligned buffers, such as the kernel decompressor
  // moving itself) do not evict each other on every access.
  static unsigned TlbIndex(uint64_t page) { return static_cast<unsigned>((page ^ (page >> 10)) % kTlbSize); }
  TlbEntry& TlbSlot(uint64_t page) { return tlb_[TlbIndex(page)]; }
  // The U bits are the S bits shifted left by 3 (FastHostPointer relies on it).
  static constexpr uint8_t kAllowReadS = 1, kAllowWriteS = 2, kAllowExecS = 4;
  static constexpr uint8_t kAllowReadU = 8, kAllowWriteU = 16, kAllowExecU = 32;

  // A physical code page's decoded instructions (one per code mode).
  struct CodePage {
    uint16_t slot[4096];  // 0 = not decoded, else index + 1 into insns.
    uint64_t covered[64];  // Bytes that belong to a decoded instruction.
    std::vector<Insn> insns;
    bool stale = false;
    // Whether any byte of [offset, offset + size) is decoded code.
    bool Covers(unsigned offset, unsigned size) const {
      for (unsigned b = offset; b < offset + size && b < 4096; ++b) {
        if ((covered[b / 64] >> (b % 64)) & 1) return true;
      }
      return false;
    }
    void Cover(unsigned offset, unsigned size) {
      for (unsigned b = offset; b < offset + size && b < 4096; ++b) covered[b / 64] |= 1ull << (b % 64);
    }
  };

  // Host memory of the guest-physical page `pa_page` (A20 applied) for reads
  // or writes; null for MMIO, unmapped and (writes) read-only pages. Cached
  // per page, so page walks and TLB fills skip GuestMemory's region search;
  // FlushTlb(true) drops the cache (memory map and A20 changes flush).
  uint8_t* PhysPageHost(uint64_t pa_page, bool for_write) {
    PhysPageEntry& e = phys_cache_[(pa_page >> 12) % kPhysCacheSize];
    if (e.page != pa_page) [[unlikely]] FillPhysPage(e, pa_page);
    return for_write ? e.write : e.read;
  }
  struct PhysPageEntry {
    uint64_t page = ~0ull;
    uint8_t* read = nullptr;
    uint8_t* write = nullptr;
  };
  void FillPhysPage(PhysPageEntry& e, uint64_t pa_page);
  static constexpr unsigned kPhysCacheSize = 256;
  PhysPageEntry phys_cache_[kPhysCacheSize];

  // PageTableMemory.
  uint64_t ReadPhys(uint64_t pa, int bytes) override;
  void WritePhys(uint64_t pa, uint64_t value, int bytes) override;

  // Segment checks: offset -> linear address.
  Fault SegmentLinear(int seg, uint64_t offset, unsigned size, Access kind, uint64_t& linear);
  // Translates one linear address (TLB, then walk). Returns the entry.
  Fault Translate(uint64_t linear, Access kind, bool user, bool implicit, TlbEntry*& entry);
  PagingControl Paging() const {
    bool pae_legacy = (s.cr4 & cr4::kPae) && !(s.efer & efer::kLma);
    return {s.cr0, s.cr3, s.cr4, s.efer, pae_legacy ? s.pdpte.data() : nullptr};
  }
  // Reloads the PAE PDPTE registers when PAE paging is (being) enabled;
  // #GP(0) for reserved bits.
  Fault ReloadPdptes(uint64_t cr0, uint64_t cr3, uint64_t cr4);
  // Breakpoints matching an instruction fetch at `linear` (DR6.Bn bits).
  uint32_t MatchCodeBreakpoints(uint64_t linear) const;
  // Records data / I/O breakpoint hits for the trap after the instruction.
  void NoteDataAccess(uint64_t linear, unsigned size, bool write);
  void NoteIoAccess(uint16_t port, unsigned size);
  // #AC(0) for a misaligned explicit access at CPL 3 with CR0.AM and EFLAGS.AC.
  Fault CheckAlignment(uint64_t linear, unsigned size) const {
    if ((s.rflags & flags::kAc) && size > 1 && (s.cr0 & cr0::kAm) && s.cpl() == 3 &&
        (linear & ((size >= 8 ? 8 : size) - 1))) {
      return Raise(kAc, 0);
    }
    return kOk;
  }
  void UpdateMode();
  bool IsCodePage(uint64_t pa_page) const {
    uint64_t n = pa_page >> 12;
    return n < code_flags_.size() && code_flags_[n];
  }
  void MarkCodePage(uint64_t pa_page);
  void NoteCodeWrite(uint64_t pa, unsigned size);
  // Fetches and decodes (or finds cached) the instruction at CS:RIP; null
  // with `fault` set when fetching faults.
  // `prev` is the instruction that ran just before, when it fell through
  // to this one: a new decode placed right after it in its page is chained
  // to it (insn_flags::kChained).
  const Insn* FetchDecoded(Fault& fault, const Insn* prev = nullptr);
  // Marks the cached insns[k] straight and lengthens the runs before it.
  static void ExtendStraightRun(std::vector<Insn>& insns, size_t k);
  Fault FetchDecodedInto(const Insn*& insn, const Insn* prev);
  // The decoded-instruction page of a TLB entry's physical page in the
  // current code mode (cached in the entry; created on first use).
  CodePage* CodePageFor(TlbEntry& e);
  // Checks and delivers pending NMI / INTR at an instruction boundary.
  // Returns true when something was delivered.
  bool DeliverPendingEvents();
  // Handles the end of an instruction: RF, TF single-step trap, shadows.
  void Retire(bool tf_before, bool new_shadow);
  // Runs instructions until exits_.stop, exits_.poll_events or the budget; the traced
  // instantiation calls tracer_ around each one.
  template <bool kTraced>
  void Dispatch(uint64_t end);
  // The dispatch loop without per-instruction debug work (no TF, RF,
  // interrupt shadow or breakpoints; see NeedsCarefulDispatch).
  void DispatchFast(uint64_t end);
  // DispatchFast without the final MaterializeFlags.
  void DispatchFastLoop(uint64_t end);
  // Ends DispatchFast after `last`, the end of a straight run, faulted (f)
  // or asked for a stop; `rip` and `retired` are the values after it.
  void LeaveRun(Fault f, const Insn& last, uint64_t rip, uint64_t retired);
  // Whether the next instruction needs Dispatch's per-instruction checks.
  bool NeedsCarefulDispatch() const;
  // Shows the instruction about to run to tracer_ (cold; traced loop only).
  TraceAction TraceBefore(const Insn& insn);
  // Reports an event about to be delivered to tracer_ (cold).
  void TraceEvent(const Fault& f, EventKind kind);

  CpuEnvironment env_;
  const OpcodeTable& table_;
  CodeMode mode_ = CodeMode::k16;
  TlbEntry tlb_[kTlbSize];
  TlbDetail tlb_detail_[kTlbSize];
  bool tlb_has_large_ = false;
  uint64_t a20_mask_ = ~0ull;

  // Fetch cache: the linear page being executed and its code page.
  uint64_t fetch_tag_ = ~0ull;  // Linear page | user bit | mode bits.
  CodePage* fetch_page_ = nullptr;
  const uint8_t* fetch_host_ = nullptr;
  uint64_t fetch_pa_page_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<CodePage>> code_pages_;
  std::vector<uint8_t> code_flags_;  // Per physical page: has decoded code.
  Insn scratch_insn_;                 // Instructions not cached (page-crossing, MMIO).
  uint8_t scratch_bytes_[16] = {};    // The bytes scratch_insn_ was decoded from.
  InstructionTracer* tracer_ = nullptr;  // Set only while tracing (--trace).
  // Dispatch fast path: RIPs in [fetch_rip_base_, +4096) are in fetch_page_.
  static constexpr uint64_t kNoFetch = 1ull << 63;  // Never a canonical RIP.
  uint64_t fetch_rip_base_ = kNoFetch;
  uint64_t fetch_page_rip_base_ = kNoFetch;  // The base of the fetch page, if cacheable.
  uint64_t fetch_rip_limit_ = 0;  // CS limit (legacy) or ~0.
  // Recently executed fetch pages, direct-mapped by RIP page: DispatchFast
  // and FetchDecodedInto switch back to one without a TLB lookup. Only
  // cacheable pages (page_rip_base set) are kept; InvalidateFetch drops them
  // all, which covers everything that drops the current one (TLB flushes,
  // code writes, CS and mode changes).
  struct FetchWindow {
    uint64_t tag = ~0ull;
    CodePage* page = nullptr;
    const uint8_t* host = nullptr;
    uint64_t pa_page = 0;
    uint64_t page_rip_base = kNoFetch;
    uint64_t rip_limit = 0;
  };
  static constexpr unsigned kFetchWindows = 64;
  static unsigned FetchWindowIndex(uint64_t rip) { return static_cast<unsigned>((rip >> 12) % kFetchWindows); }
  FetchWindow fetch_windows_[kFetchWindows];
  FetchWindow SaveFetchWindow() const {
    return {fetch_tag_, fetch_page_, fetch_host_, fetch_pa_page_, fetch_page_rip_base_, fetch_rip_limit_};
  }
  void RestoreFetchWindow(const FetchWindow& w) {
    fetch_tag_ = w.tag;
    fetch_page_ = w.page;
    fetch_host_ = w.host;
    fetch_pa_page_ = w.pa_page;
    fetch_page_rip_base_ = w.page_rip_base;
    fetch_rip_limit_ = w.rip_limit;
  }
  uint64_t rip_mask_ = 0xffffffffull;  // RIP width of the current mode.
  // Drops the fetch cache (TLB flushes, mode changes).
  // It also leaves DispatchFast (through exits_.stop), whose chained path
  // would otherwise have to test fetch_rip_base_ after every instruction.
  void InvalidateFetch() {
    exits_.stop = true;
    fetch_tag_ = ~0ull;
    for (FetchWindow& w : fetch_windows_) {
      w.tag = ~0ull;
      w.page_rip_base = kNoFetch;
    }
    fetch_rip_base_ = kNoFetch;
    fetch_page_rip_base_ = kNoFetch;
  }

  uint64_t retired_ = 0;
  // Reasons to leave the dispatch loops after an instruction, packed into
  // one word so that DispatchFast tests them with a single load.
  struct ExitRequests {
    bool stop = false;            // Leave the fast loop (halt, TF/RF, breakpoints...).
    bool poll_events = true;      // Look for interrupts before the next instruction.
    bool shadow_pending = false;  // STI / MOV SS: shadow the next instruction.
    bool unused = false;          // Always false (pads the word).
  };
  static_assert(sizeof(ExitRequests) == 4);
  ExitRequests exits_;
  bool reset_requested_ = false;
  bool shutdown_ = false;
  bool event_delivered_ = false;
  bool code_bp_active_ = false;  // Some DR7 instruction breakpoint is enabled.
  bool data_bp_active_ = false;  // Some DR7 data breakpoint is enabled.
  bool io_bp_active_ = false;    // Some DR7 I/O breakpoint is enabled (CR4.DE).
  uint32_t pending_db_ = 0;      // Data/I/O breakpoint hits of this instruction.
  bool keep_rf_ = false;         // A REP instruction stopped between iterations.  // The current instruction delivered an event (no TF trap).
  bool shadow_blocks_db_ = false;
  std::atomic<bool> kick_{false};
};

// Pushes onto a stack that may not be the current one (an interrupt or call
// gate switching to an inner stack) without touching RSP until the caller
// commits `rsp`.
struct StackFrameWriter {
  Cpu& cpu;
  const Segment& ss;
  uint64_t rsp;
  unsigned addr_size;  // 2, 4 or 8.
  bool supervisor;     // The new level is 0-2 (implicit supervisor writes).
  uint16_t ss_error;   // #SS error code for limit violations.

  // Pushes `size` bytes; #SS on a limit or canonical violation.
  Fault Push(unsigned size, uint64_t value);
};

}  // namespace x86vm

#endif  // X86VM_CPU_CPU_H_
