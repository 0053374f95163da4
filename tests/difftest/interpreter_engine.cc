#include "tests/difftest/interpreter_engine.h"

#include <cstring>

#include "cpu/interpreter.h"
#include "devices/bus.h"
#include "devices/clock.h"
#include "machine/guest_memory.h"

namespace x86vm::difftest {
namespace {

// Linear layout of the protected modes' system area, the same addresses as
// KvmRing3Oracle so an access there faults the same way (supervisor-only
// pages give #PF with P=1 at CPL 3).
constexpr uint64_t kGdt = 0x1000;
constexpr uint64_t kIdt = 0x2000;
constexpr uint64_t kTss = 0x3000;
constexpr uint64_t kIoBitmapOffset = 0x68;
constexpr uint64_t kTssLimit = kIoBitmapOffset + 8192;  // Bitmap plus the 0xFF byte.
constexpr uint64_t kStubs = 0x6000;                     // Vector v's handler is the HLT at kStubs + v.
constexpr uint64_t kStack0Top = 0x8000;                 // TSS.RSP0 (long64).
constexpr uint64_t kSystemStart = 0x1000;
constexpr uint64_t kSystemEnd = 0x8000;
// KvmRing3Oracle's ring-3 harness page (user, writable); mapped here too so
// that a stray access to it behaves alike (it holds HLTs here).
constexpr uint64_t kHarness = 0xf0000;

// Guest-physical layout. Real mode uses [0, kRealLimit) identity-mapped for
// its pages and the HLT stubs at F000:0000; the protected modes keep their
// system area (linear [0x1000, 0x8000)) at kSys64/kSys32 + linear.
constexpr uint64_t kRealLimit = 0x80000;
constexpr uint64_t kSys64 = 0x80000;
constexpr uint64_t kSys32 = 0x90000;
constexpr uint64_t kRealStubs = 0xf0000;  // F000:v.
constexpr uint64_t kTables64 = 0x100000;  // Page-table pools, 64 pages each.
constexpr uint64_t kTables32 = 0x140000;
constexpr uint64_t kTablePoolBytes = 0x40000;
constexpr uint64_t kFrames = 0x200000;  // Frames of case pages (protected modes).
constexpr uint64_t kRamBytes = 16ull << 20;
// The IDT (prot32: behind linear kIdt) and the IVT (real16: IDTR.base) sit
// in the PCI hole, answered by GateWindow, so the first gate read of an
// exception is seen before the frame is pushed onto the case's stack.
constexpr uint64_t kGateMmio = 0xe0000000;
constexpr uint64_t kGateMmioBytes = 0x1000;

// Selectors. long64 mirrors KvmRing3Oracle's GDT; prot32 has its own.
constexpr uint16_t kKernelCs = 0x08;
constexpr uint16_t kKernelDs = 0x10;
constexpr uint16_t kUserSs = 0x18 | 3;
constexpr uint16_t kUserCs = 0x20 | 3;
constexpr uint16_t kTssSel = 0x28;

// Paging-structure bits (SDM Vol. 3 4.3, 4.5).
constexpr uint64_t kPteP = 1u << 0;
constexpr uint64_t kPteW = 1u << 1;
constexpr uint64_t kPteU = 1u << 2;

// Control registers (SDM Vol. 3 2.5). long64 as KvmRing3Oracle; prot32
// 32-bit paging with WP, so CPL-0 writes to the read-only code page fault.
constexpr uint64_t kCr0Long = 0x80050033;  // PG WP NE ET MP PE.
constexpr uint64_t kCr4Long = 0x620;       // OSXMMEXCPT OSFXSR PAE.
constexpr uint64_t kEferLong = 0x500;      // LMA LME.
constexpr uint64_t kCr0Prot = 0x80010033;  // PG WP NE ET MP PE.
constexpr uint64_t kCr0Real = 0x00000032;  // NE ET MP.
constexpr uint64_t kCr4Sse = 0x600;        // OSXMMEXCPT OSFXSR.

// Instructions per case before it counts as a runaway.
constexpr uint64_t kMaxInstructions = 4'000'000;

constexpr uint8_t kHlt = 0xf4;

// Vectors that push an error code (SDM Vol. 3 Table 6-1).
bool PushesErrorCode(unsigned v) { return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30; }

// A code or data segment in the descriptor-cache form.
Segment FlatSegment(uint16_t selector, uint32_t type, int dpl, bool code64) {
  Segment s;
  s.selector = selector;
  s.base = 0;
  s.limit = 0xffffffff;
  s.attr = type | seg_attr::kS | (static_cast<uint32_t>(dpl) << seg_attr::kDplShift) | seg_attr::kP | seg_attr::kG |
           (code64 ? seg_attr::kL : seg_attr::kDb);
  return s;
}

// A real-mode segment with selector 0 (DiffMode::kReal16: all bases 0).
Segment RealSegment(bool code) {
  Segment s;
  s.selector = 0;
  s.base = 0;
  s.limit = 0xffff;
  s.attr = (code ? 0xb : 0x3) | seg_attr::kS | seg_attr::kP;
  return s;
}

}  // namespace

// The MMIO window holding the IDT (prot32) or IVT (real16).
class GateWindow : public BusTarget {
 public:
  explicit GateWindow(InterpreterEngine& engine) : engine_(engine) {}
  void Read(uint64_t offset, std::span<uint8_t> data) override { engine_.ReadGate(offset, data.data(), data.size()); }
  void Write(uint64_t, std::span<const uint8_t>) override {}

 private:
  InterpreterEngine& engine_;
};

Result<std::unique_ptr<InterpreterEngine>> InterpreterEngine::Create(CpuFeatures features) {
  std::unique_ptr<InterpreterEngine> engine(new InterpreterEngine());
  if (auto r = engine->Init(features); !r) return std::unexpected(r.error());
  return engine;
}

InterpreterEngine::~InterpreterEngine() = default;

Result<> InterpreterEngine::Init(CpuFeatures features) {
  auto memory = GuestMemory::Create(kRamBytes);
  if (!memory) return std::unexpected(memory.error());
  memory_ = std::move(*memory);
  mmio_ = std::make_unique<Bus>("mmio");
  pio_ = std::make_unique<Bus>("pio");
  clock_ = std::make_unique<VirtualClock>(VirtualClock::Mode::kDeterministic);
  gate_window_ = std::make_unique<GateWindow>(*this);
  if (auto r = mmio_->Register(kGateMmio, kGateMmioBytes, gate_window_.get(), "difftest-idt"); !r) return r;
  cpu_features_ = features;
  CpuEnvironment env{memory_.get(), mmio_.get(), pio_.get(), nullptr, clock_.get(), nullptr};
  interp_ = std::make_unique<Interpreter>(env, features);
  next_frame_ = kFrames;
  SetUpSystemArea();
  return {};
}

uint8_t* InterpreterEngine::Host(uint64_t gpa, uint64_t size) { return memory_->HostRange(gpa, size); }

void InterpreterEngine::SetUpSystemArea() {
  // long64: KvmRing3Oracle's GDT (SDM Vol. 3 3.4.5): null, ring-0 code64,
  // ring-0 data, ring-3 data, ring-3 code64, 64-bit TSS (SDM Vol. 3 8.2.3).
  {
    auto* gdt = reinterpret_cast<uint64_t*>(Host(kSys64 + kGdt, 7 * 8));
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffull;
    gdt[2] = 0x00cf93000000ffffull;
    gdt[3] = 0x00cff3000000ffffull;
    gdt[4] = 0x00affb000000ffffull;
    gdt[5] = (kTssLimit & 0xffff) | ((kTss & 0xffffff) << 16) | (0x8bull << 40) | (((kTssLimit >> 16) & 0xf) << 48) |
             (((kTss >> 24) & 0xff) << 56);
    gdt[6] = kTss >> 32;
    // 64-bit interrupt gates to one HLT each (SDM Vol. 3 6.14.1); INT3 and
    // INTO callable from ring 3, as in the KVM oracle.
    auto* idt = reinterpret_cast<uint64_t*>(Host(kSys64 + kIdt, 256 * 16));
    for (uint64_t v = 0; v < 256; ++v) {
      const uint64_t handler = kStubs + v;
      const uint64_t dpl = (v == 3 || v == 4) ? 3 : 0;
      idt[2 * v] = (handler & 0xffff) | (uint64_t{kKernelCs} << 16) | ((0x8eull | (dpl << 5)) << 40) |
                   (((handler >> 16) & 0xffff) << 48);
      idt[2 * v + 1] = handler >> 32;
    }
    uint8_t* tss = Host(kSys64 + kTss, kTssLimit + 1);
    std::memset(tss, 0, kTssLimit + 1);
    const uint64_t rsp0 = kStack0Top;
    std::memcpy(tss + 4, &rsp0, 8);
    const uint16_t iomap = kIoBitmapOffset;
    std::memcpy(tss + 0x66, &iomap, 2);
    std::memset(tss + kIoBitmapOffset, 0xff, 8192 + 1);
    std::memset(Host(kSys64 + kStubs, 256), kHlt, 256);
  }
  // prot32: null, ring-0 code32, ring-0 data32, a 32-bit TSS (never used:
  // everything runs at CPL 0, so no stack switch).
  {
    auto* gdt = reinterpret_cast<uint64_t*>(Host(kSys32 + kGdt, 4 * 8));
    gdt[0] = 0;
    gdt[1] = 0x00cf9b000000ffffull;
    gdt[2] = 0x00cf93000000ffffull;
    gdt[3] = 0x67 | ((kTss & 0xffffff) << 16) | (0x8bull << 40);
    std::memset(Host(kSys32 + kTss, 0x68), 0, 0x68);
    std::memset(Host(kSys32 + kStubs, 256), kHlt, 256);
  }
  // real16: the IVT entries (GateWindow) point at F000:v.
  std::memset(Host(kRealStubs, 256), kHlt, 256);
}

void InterpreterEngine::ReadGate(uint64_t offset, uint8_t* data, size_t size) {
  const bool real = mode_ == DiffMode::kReal16;
  const unsigned gate_bytes = real ? 4 : 8;
  if (!gate_read_ && current_ != nullptr) {
    // The first gate read of the case: the exception the code raised. The
    // faulting instruction committed nothing and the frame is not pushed
    // yet (SDM Vol. 3 6.12.1: the gate is read before the stack is used).
    gate_read_ = true;
    gate_vector_ = static_cast<int>(offset / gate_bytes);
    (void)interp_->GetState(snapshot_);
    ReadPages(*current_, snapshot_pages_);
  }
  for (size_t i = 0; i < size; ++i) {
    const uint64_t at = offset + i;
    const uint64_t v = at / gate_bytes;
    uint64_t gate;
    if (real) {
      gate = (uint64_t{kRealStubs >> 4} << 16) | v;  // Segment:offset (SDM Vol. 3 20.1.4).
    } else {
      // 32-bit interrupt gate, DPL 0 (SDM Vol. 3 6.11, Figure 6-2).
      const uint64_t handler = kStubs + (v & 0xff);
      gate = (handler & 0xffff) | (uint64_t{kKernelCs} << 16) | (0x8eull << 40) | ((handler >> 16) << 48);
    }
    data[i] = static_cast<uint8_t>(gate >> (8 * (at % gate_bytes)));
  }
}

uint32_t InterpreterEngine::features() const {
  CpuState s;
  s.cr4 = kCr4Sse;
  const CpuidResult l1 = Cpuid(cpu_features_, s, 1, 0);
  const CpuidResult l7 = Cpuid(cpu_features_, s, 7, 0);
  const CpuidResult e1 = Cpuid(cpu_features_, s, 0x80000001, 0);
  uint32_t f = 0;
  if (l1[3] & (1u << 26)) f |= feature::kSse2;
  if (l1[2] & (1u << 0)) f |= feature::kSse3;
  if (l1[2] & (1u << 9)) f |= feature::kSsse3;
  if (l1[2] & (1u << 19)) f |= feature::kSse41;
  if (l1[2] & (1u << 20)) f |= feature::kSse42;
  if (l1[2] & (1u << 23)) f |= feature::kPopcnt;
  if (l1[2] & (1u << 22)) f |= feature::kMovbe;
  if (e1[2] & (1u << 5)) f |= feature::kLzcnt;
  if (l7[1] & (1u << 3)) f |= feature::kBmi1;
  // The opcode table has a TZCNT row (F3 0F BC) although CPUID.7:EBX.BMI1
  // is clear (BMI1's VEX instructions are not implemented); test it anyway.
  f |= feature::kBmi1;
  return f;
}

uint64_t InterpreterEngine::instructions_retired() const { return interp_->instructions_retired(); }

Result<uint64_t> InterpreterEngine::FrameFor(DiffMode mode, uint64_t vaddr) {
  if (mode == DiffMode::kReal16) return vaddr;
  auto it = frames_.find(vaddr);
  if (it != frames_.end()) return it->second;
  if (next_frame_ + kDiffPageBytes > kRamBytes) return Fail("interp engine: out of frames for {:#x}", vaddr);
  const uint64_t frame = next_frame_;
  next_frame_ += kDiffPageBytes;
  frames_[vaddr] = frame;
  return frame;
}

Result<> InterpreterEngine::MapPages(DiffMode mode, const std::map<uint64_t, bool>& want) {
  if (mode == DiffMode::kReal16) return {};
  const bool is64 = mode == DiffMode::kLong64;
  Tables& t = is64 ? tables64_ : tables32_;
  // Frames first. When random layouts have used them all, start over (the
  // tables of both modes point at the old frames and are rebuilt).
  size_t missing = 0;
  for (const auto& [vaddr, writable] : want) missing += frames_.contains(vaddr) ? 0 : 1;
  if (next_frame_ + missing * kDiffPageBytes > kRamBytes) {
    frames_.clear();
    next_frame_ = kFrames;
    tables64_.valid = tables32_.valid = false;
  }
  for (const auto& [vaddr, writable] : want) {
    if (auto f = FrameFor(mode, vaddr); !f) return std::unexpected(f.error());
  }
  if (t.valid && t.mapped == want) return {};

  const uint64_t pool = is64 ? kTables64 : kTables32;
  uint64_t next = pool;
  auto alloc = [&]() -> Result<uint64_t> {
    if (next >= pool + kTablePoolBytes) return Fail("interp engine: out of page-table pages");
    const uint64_t gpa = next;
    next += kDiffPageBytes;
    std::memset(Host(gpa, kDiffPageBytes), 0, kDiffPageBytes);
    return gpa;
  };
  auto root = alloc();
  if (!root) return std::unexpected(root.error());
  const uint64_t sys = is64 ? kSys64 : kSys32;
  // Installs one 4 KiB translation (SDM Vol. 3 4.5 for 4-level, 4.3 for
  // 32-bit paging). Upper levels allow everything; the leaf decides.
  auto map = [&](uint64_t vaddr, uint64_t pa, uint64_t bits) -> Result<> {
    if (is64) {
      uint64_t table = *root;
      for (int level = 3; level >= 1; --level) {
        auto* e = reinterpret_cast<uint64_t*>(Host(table, kDiffPageBytes)) + ((vaddr >> (12 + 9 * level)) & 511);
        if ((*e & kPteP) == 0) {
          auto t2 = alloc();
          if (!t2) return std::unexpected(t2.error());
          *e = *t2 | kPteP | kPteW | kPteU;
        }
        table = *e & 0x000ffffffffff000ull;
      }
      reinterpret_cast<uint64_t*>(Host(table, kDiffPageBytes))[(vaddr >> 12) & 511] = pa | bits;
    } else {
      auto* pde = reinterpret_cast<uint32_t*>(Host(*root, kDiffPageBytes)) + ((vaddr >> 22) & 1023);
      if ((*pde & kPteP) == 0) {
        auto t2 = alloc();
        if (!t2) return std::unexpected(t2.error());
        *pde = static_cast<uint32_t>(*t2 | kPteP | kPteW | kPteU);
      }
      reinterpret_cast<uint32_t*>(Host(*pde & 0xfffff000u, kDiffPageBytes))[(vaddr >> 12) & 1023] =
          static_cast<uint32_t>(pa | bits);
    }
    return {};
  };
  for (uint64_t linear = kSystemStart; linear < kSystemEnd; linear += kDiffPageBytes) {
    uint64_t pa = sys + linear;
    if (!is64 && linear == kIdt) pa = kGateMmio;
    if (auto r = map(linear, pa, kPteP | kPteW); !r) return r;
  }
  for (const auto& [vaddr, writable] : want) {
    const uint64_t bits = kPteP | (writable ? kPteW : 0) | (is64 ? kPteU : 0);
    if (auto r = map(vaddr, frames_.at(vaddr), bits); !r) return r;
  }
  t.root = *root;
  t.mapped = want;
  t.valid = true;
  return {};
}

uint8_t* InterpreterEngine::HostForLinear(DiffMode mode, uint64_t linear, size_t size) {
  const uint64_t page = linear & ~(kDiffPageBytes - 1);
  if ((linear + size - 1) / kDiffPageBytes != linear / kDiffPageBytes) return nullptr;
  if (mode == DiffMode::kReal16) return linear + size <= kRamBytes ? Host(linear, size) : nullptr;
  if (page >= kSystemStart && page < kSystemEnd) {
    return Host((mode == DiffMode::kLong64 ? kSys64 : kSys32) + linear, size);
  }
  auto it = frames_.find(page);
  if (it == frames_.end()) return nullptr;
  return Host(it->second + (linear - page), size);
}

void InterpreterEngine::ReadPages(const DiffCase& c, std::vector<DiffPage>& pages) {
  pages = c.pages;
  for (DiffPage& p : pages) {
    const uint64_t frame = c.mode == DiffMode::kReal16 ? p.vaddr : frames_.at(p.vaddr);
    std::memcpy(p.bytes.data(), Host(frame, kDiffPageBytes), kDiffPageBytes);
  }
}

CpuState InterpreterEngine::InitialState(const DiffCase& c) const {
  CpuState s;
  s.Reset();
  s.gpr = c.regs.gpr;
  s.rip = c.regs.rip;
  // IF = 1 and IOPL = 0 as both oracles run their cases.
  s.rflags = (c.regs.rflags & dflags::kCompared) | flags::kFixed1 | flags::kIf;
  for (int i = 0; i < 16; ++i) s.xmm[i] = Xmm{c.regs.xmm[i].lo, c.regs.xmm[i].hi};
  s.mxcsr = c.regs.mxcsr;
  s.seg[kLdtr] = Segment{0, 0, 0, seg_attr::kUnusable};
  switch (c.mode) {
    case DiffMode::kLong64: {
      s.seg[kCs] = FlatSegment(kUserCs, 0xb, 3, true);
      s.seg[kSs] = s.seg[kDs] = s.seg[kEs] = FlatSegment(kUserSs, 0x3, 3, false);
      s.seg[kFs] = s.seg[kGs] = FlatSegment(0, 0x3, 3, false);
      s.seg[kTr] = Segment{kTssSel, kTss, static_cast<uint32_t>(kTssLimit), 0xb | seg_attr::kP};
      s.gdtr = {kGdt, 7 * 8 - 1};
      s.idtr = {kIdt, 256 * 16 - 1};
      s.cr0 = kCr0Long;
      s.cr3 = tables64_.root;
      s.cr4 = kCr4Long;
      s.efer = kEferLong;
      break;
    }
    case DiffMode::kProt32: {
      s.seg[kCs] = FlatSegment(kKernelCs, 0xb, 0, false);
      s.seg[kSs] = s.seg[kDs] = s.seg[kEs] = s.seg[kFs] = s.seg[kGs] = FlatSegment(kKernelDs, 0x3, 0, false);
      s.seg[kTr] = Segment{0x18, kTss, 0x67, 0xb | seg_attr::kP};
      s.gdtr = {kGdt, 4 * 8 - 1};
      s.idtr = {kIdt, 256 * 8 - 1};
      s.cr0 = kCr0Prot;
      s.cr3 = tables32_.root;
      s.cr4 = kCr4Sse;
      s.efer = 0;
      for (auto& r : s.gpr) r &= 0xffffffffull;
      break;
    }
    case DiffMode::kReal16: {
      s.seg[kCs] = RealSegment(true);
      s.seg[kSs] = s.seg[kDs] = s.seg[kEs] = s.seg[kFs] = s.seg[kGs] = RealSegment(false);
      s.seg[kTr] = Segment{0, 0, 0xffff, 0xb | seg_attr::kP};
      s.gdtr = {0, 0xffff};
      s.idtr = {kGateMmio, 0x3ff};
      s.cr0 = kCr0Real;
      s.cr4 = kCr4Sse;
      s.efer = 0;
      for (auto& r : s.gpr) r &= 0xffffffffull;
      break;
    }
  }
  return s;
}

Result<DiffOutcome> InterpreterEngine::Run(const DiffCase& c) {
  const uint64_t code_page = c.regs.rip & ~(kDiffPageBytes - 1);
  const uint64_t code_off = c.regs.rip - code_page;
  if (code_off + c.code.size() + 1 > kDiffPageBytes) {
    return Fail("interp engine: {} code bytes at {:#x} do not fit in one page", c.code.size(), c.regs.rip);
  }
  std::map<uint64_t, bool> want;
  want[code_page] = false;
  for (const DiffPage& p : c.pages) {
    if (p.vaddr % kDiffPageBytes != 0 || p.bytes.size() != kDiffPageBytes || want.contains(p.vaddr)) {
      return Fail("interp engine: bad or duplicate page {:#x}", p.vaddr);
    }
    want[p.vaddr] = p.writable;
  }
  for (const auto& [vaddr, writable] : want) {
    switch (c.mode) {
      case DiffMode::kLong64:
        if (vaddr < 0x100000 || vaddr >= (1ull << 47)) {
          return Fail("interp engine: page {:#x} outside [0x100000, 2^47)", vaddr);
        }
        break;
      case DiffMode::kProt32:
        if (vaddr < 0x100000 || vaddr >= (1ull << 32)) {
          return Fail("interp engine: page {:#x} outside [0x100000, 4 GiB)", vaddr);
        }
        break;
      case DiffMode::kReal16:
        if (vaddr >= kRealLimit) return Fail("interp engine: real-mode page {:#x} above {:#x}", vaddr, kRealLimit);
        break;
    }
  }
  if (c.mode == DiffMode::kLong64) want[kHarness] = true;
  if (auto r = MapPages(c.mode, want); !r) return std::unexpected(r.error());
  if (c.mode == DiffMode::kLong64 && !frames_.contains(kHarness)) return Fail("interp engine: harness unmapped");
  if (c.mode == DiffMode::kLong64) std::memset(Host(frames_.at(kHarness), kDiffPageBytes), kHlt, kDiffPageBytes);

  if (c.mode == DiffMode::kReal16) {
    // Real mode has no paging: clear what the previous case left in pages
    // this one does not name, so outcomes never depend on earlier cases.
    for (uint64_t page : real_pages_) {
      if (!want.contains(page)) std::memset(Host(page, kDiffPageBytes), 0, kDiffPageBytes);
    }
    real_pages_.clear();
    for (const auto& [vaddr, writable] : want) real_pages_.insert(vaddr);
  }
  // The code page: the code, the rest HLT (the end marker; as both oracles).
  auto code_frame = FrameFor(c.mode, code_page);
  if (!code_frame) return std::unexpected(code_frame.error());
  uint8_t* code = Host(*code_frame, kDiffPageBytes);
  std::memset(code, kHlt, kDiffPageBytes);
  std::memcpy(code + code_off, c.code.data(), c.code.size());
  for (const DiffPage& p : c.pages) {
    auto frame = FrameFor(c.mode, p.vaddr);
    if (!frame) return std::unexpected(frame.error());
    std::memcpy(Host(*frame, kDiffPageBytes), p.bytes.data(), kDiffPageBytes);
  }

  // SetState also drops decoded code and the TLB: memory changed behind
  // the CPU's back.
  if (auto r = interp_->SetState(InitialState(c)); !r) return std::unexpected(r.error());
  mode_ = c.mode;
  current_ = &c;
  gate_read_ = false;
  gate_vector_ = -1;
  const RunResult run = interp_->Run(clock_->now_ns() + kMaxInstructions * clock_->ns_per_instruction());
  current_ = nullptr;
  CpuState s;
  if (auto r = interp_->GetState(s); !r) return std::unexpected(r.error());
  switch (run.reason) {
    case StopReason::kHalt:
      break;
    case StopReason::kShutdown:
      if (c.mode != DiffMode::kLong64 && gate_read_) break;  // The snapshot has the first exception.
      return Fail("interp engine: triple fault (rip {:#x})", s.rip);
    case StopReason::kDeadline:
      return Fail("interp engine: case did not finish within {} instructions (rip {:#x})", kMaxInstructions, s.rip);
    default:
      return Fail("interp engine: stopped unexpectedly ({}) at rip {:#x}: {}", static_cast<int>(run.reason), s.rip,
                  run.message);
  }
  return c.mode == DiffMode::kLong64 ? FinishLong64(c, s) : FinishLegacy(c, s);
}

Result<DiffOutcome> InterpreterEngine::FinishLong64(const DiffCase& c, const CpuState& s) {
  // Halted in a stub at ring 0: the stub names the vector, the frame on the
  // ring-0 stack the state of the interrupted code (SDM Vol. 3 6.14.2).
  const uint64_t stub = s.rip - 1;
  if (stub < kStubs || stub >= kStubs + 256 || s.cpl() != 0) {
    return Fail("interp engine: halted at rip {:#x} (cpl {}), not in an exception stub", s.rip, s.cpl());
  }
  const unsigned vector = static_cast<unsigned>(stub - kStubs);
  uint64_t frame = s.gpr[kRsp];
  DiffException e;
  e.vector = static_cast<uint8_t>(vector);
  e.has_error_code = PushesErrorCode(vector);
  if (e.has_error_code) {
    const uint8_t* p = HostForLinear(DiffMode::kLong64, frame, 8);
    if (p == nullptr) return Fail("interp engine: ring-0 stack {:#x} unmapped", frame);
    uint64_t code64;
    std::memcpy(&code64, p, 8);
    e.error_code = static_cast<uint32_t>(code64);
    frame += 8;
  }
  uint64_t f[5];  // RIP, CS, RFLAGS, RSP, SS.
  if (frame + sizeof(f) != kStack0Top) {
    return Fail("interp engine: unexpected ring-0 stack {:#x} for vector {}", s.gpr[kRsp], vector);
  }
  std::memcpy(f, HostForLinear(DiffMode::kLong64, frame, sizeof(f)), sizeof(f));
  if ((f[1] & 3) != 3) return Fail("interp engine: vector {} raised at ring 0 (rip {:#x})", vector, f[0]);
  DiffOutcome out;
  out.regs.gpr = s.gpr;
  out.regs.gpr[kRsp] = f[3];
  out.regs.rip = f[0];
  out.regs.rflags = f[2];
  // HLT after the code raises #GP(0) at CPL 3: the case ran to its end.
  const bool ended = vector == 13 && e.error_code == 0 && f[0] == c.code_end();
  if (!ended) {
    if (vector == 14) e.cr2 = s.cr2;
    out.exception = e;
  }
  for (int i = 0; i < 16; ++i) out.regs.xmm[i] = DiffXmm{s.xmm[i].lo, s.xmm[i].hi};
  out.regs.mxcsr = s.mxcsr;
  ReadPages(c, out.pages);
  return out;
}

Result<DiffOutcome> InterpreterEngine::FinishLegacy(const DiffCase& c, const CpuState& s) {
  DiffOutcome out;
  const uint64_t mask = 0xffffffffull;
  auto fill_regs = [&](const CpuState& from) {
    for (int i = 0; i < 16; ++i) out.regs.gpr[i] = i < 8 ? from.gpr[i] & mask : 0;
    out.regs.rip = from.rip & mask;
    out.regs.rflags = from.rflags;
    for (int i = 0; i < 16; ++i) out.regs.xmm[i] = DiffXmm{from.xmm[i].lo, from.xmm[i].hi};
    out.regs.mxcsr = from.mxcsr;
  };
  if (!gate_read_) {
    // No exception: the HLT after the code stopped the CPU (CPL 0).
    if (s.rip != c.code_end() + 1) {
      return Fail("interp engine: halted at {:#x}, not after the end {:#x}", s.rip, c.code_end());
    }
    fill_regs(s);
    out.regs.rip = c.code_end();
    ReadPages(c, out.pages);
    return out;
  }
  // The state at the first gate read: before the frame was pushed.
  fill_regs(snapshot_);
  out.pages = std::move(snapshot_pages_);
  DiffException e;
  e.vector = static_cast<uint8_t>(gate_vector_);
  if (e.vector == 14) e.cr2 = snapshot_.cr2 & mask;
  // When the delivery reached the vector's own stub, the frame tells the
  // return address (after the instruction, for traps) and the error code.
  const bool real = c.mode == DiffMode::kReal16;
  const uint64_t stub_base = real ? 0 : kStubs;
  const uint64_t stub = (s.rip & 0xffff) - 1;
  if (s.halted && stub == stub_base + e.vector && s.seg[kCs].base == (real ? kRealStubs : 0)) {
    const uint64_t sp = real ? (s.gpr[kRsp] & 0xffff) : (s.gpr[kRsp] & mask);
    if (real) {
      if (const uint8_t* p = HostForLinear(c.mode, sp, 2)) {
        uint16_t ip;
        std::memcpy(&ip, p, 2);
        out.regs.rip = ip;
      }
    } else {
      e.has_error_code = PushesErrorCode(e.vector);
      uint64_t at = sp;
      if (e.has_error_code) {
        if (const uint8_t* p = HostForLinear(c.mode, at, 4)) std::memcpy(&e.error_code, p, 4);
        at += 4;
      }
      if (const uint8_t* p = HostForLinear(c.mode, at, 4)) {
        uint32_t eip;
        std::memcpy(&eip, p, 4);
        out.regs.rip = eip;
      }
    }
  }
  out.exception = e;
  return out;
}

}  // namespace x86vm::difftest
