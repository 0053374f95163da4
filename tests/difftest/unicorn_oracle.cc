#include "tests/difftest/unicorn_oracle.h"

#include <unicorn/unicorn.h>

#include <cstring>
#include <vector>

namespace x86vm::difftest {
namespace {

constexpr int kGpr64[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
constexpr int kGpr32[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                           UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};

// CR0.MP/CR4.OSFXSR|OSXMMEXCPT: SSE usable, like every OS sets it (SDM Vol. 3 13.1.3).
constexpr uint64_t kCr0Mp = 1u << 1;
constexpr uint64_t kCr0Em = 1u << 2;
constexpr uint64_t kCr4Sse = (1u << 9) | (1u << 10);

// Vectors whose delivery would push an error code (SDM Vol. 3 Table 6-1);
// Unicorn's interrupt hook does not tell the code, so none is reported.
uint64_t UcMask(DiffMode mode) { return mode == DiffMode::kLong64 ? ~0ull : 0xffffffffull; }

}  // namespace

// One Unicorn instance and what it currently has mapped.
struct UnicornOracle::Engine {
  uc_engine* uc = nullptr;
  DiffMode mode = DiffMode::kLong64;
  std::map<uint64_t, uint32_t> mapped;  // Page -> UC_PROT_* bits.
  Trap trap;
  uc_hook intr_hook = 0;
  uc_hook mem_hook = 0;
  uc_hook code_hook = 0;
  // The state right after setup. Restored before every case: besides
  // resetting every register, it clears QEMU's record of the last exception,
  // which the interrupt hook never lets the CPU deliver; without this a
  // second #DE in a row comes back as #DF (check_exception in QEMU).
  // Restoring costs about as much as running a short case, so it is done
  // only after a case ended in an exception.
  uc_context* clean = nullptr;
  bool needs_restore = false;

  ~Engine() {
    if (clean != nullptr) uc_context_free(clean);
    if (uc != nullptr) uc_close(uc);
  }
};

namespace {

// An exception the code raised (#DE, #UD, #GP, INT n...): stop at it. The
// hook replaces delivery through the IDT, so RIP stays at the instruction.
void OnInterrupt(uc_engine* uc, uint32_t intno, void* user) {
  auto* trap = static_cast<UnicornOracle::Trap*>(user);
  if (!trap->exception) {
    DiffException e;
    e.vector = static_cast<uint8_t>(intno);
    trap->exception = e;
  }
  uc_emu_stop(uc);
}

// Remembers where the current instruction starts: when a memory hook stops
// emulation mid-block, Unicorn's RIP is the start of the translated block.
void OnCode(uc_engine*, uint64_t address, uint32_t, void* user) {
  static_cast<UnicornOracle::Trap*>(user)->insn_addr = address;
}

// Unicorn has no paging: an access to a page the case did not give, or a
// write to a read-only page, is what a #PF would be on the hardware.
bool OnBadMemory(uc_engine*, uc_mem_type, uint64_t address, int, int64_t, void* user) {
  auto* trap = static_cast<UnicornOracle::Trap*>(user);
  if (!trap->exception) {
    DiffException e;
    e.vector = 14;
    e.cr2 = address;
    trap->exception = e;
    trap->memory_fault = true;
  }
  return false;
}

}  // namespace

UnicornOracle::UnicornOracle() = default;
UnicornOracle::~UnicornOracle() = default;

Result<UnicornOracle::Engine*> UnicornOracle::EngineFor(DiffMode mode) {
  auto it = engines_.find(mode);
  if (it != engines_.end()) return it->second.get();
  auto engine = std::make_unique<Engine>();
  engine->mode = mode;
  uc_mode uc_mode_value = mode == DiffMode::kReal16 ? UC_MODE_16 : mode == DiffMode::kProt32 ? UC_MODE_32 : UC_MODE_64;
  if (uc_err err = uc_open(UC_ARCH_X86, uc_mode_value, &engine->uc); err != UC_ERR_OK) {
    return Fail("uc_open({}): {}", ModeName(mode), uc_strerror(err));
  }
  // A Haswell-class model, so SSE4.2, POPCNT, MOVBE, LZCNT and TZCNT decode
  // as themselves (without ABM/BMI1, F3 0F BC/BD would decode as BSF/BSR).
  if (uc_err err = uc_ctl_set_cpu_model(engine->uc, UC_CPU_X86_HASWELL); err != UC_ERR_OK) {
    return Fail("uc_ctl_set_cpu_model: {}", uc_strerror(err));
  }
  if (uc_err err = uc_hook_add(engine->uc, &engine->intr_hook, UC_HOOK_INTR, reinterpret_cast<void*>(OnInterrupt),
                               &engine->trap, 1, 0);
      err != UC_ERR_OK) {
    return Fail("uc_hook_add(INTR): {}", uc_strerror(err));
  }
  if (uc_err err = uc_hook_add(engine->uc, &engine->mem_hook, UC_HOOK_MEM_INVALID,
                               reinterpret_cast<void*>(OnBadMemory), &engine->trap, 1, 0);
      err != UC_ERR_OK) {
    return Fail("uc_hook_add(MEM_INVALID): {}", uc_strerror(err));
  }
  if (uc_err err = uc_hook_add(engine->uc, &engine->code_hook, UC_HOOK_CODE, reinterpret_cast<void*>(OnCode),
                               &engine->trap, 1, 0);
      err != UC_ERR_OK) {
    return Fail("uc_hook_add(CODE): {}", uc_strerror(err));
  }
  uint64_t cr0 = 0, cr4 = 0;
  uc_reg_read(engine->uc, UC_X86_REG_CR0, &cr0);
  uc_reg_read(engine->uc, UC_X86_REG_CR4, &cr4);
  cr0 = (cr0 | kCr0Mp) & ~kCr0Em;
  cr4 |= kCr4Sse;
  uc_reg_write(engine->uc, UC_X86_REG_CR0, &cr0);
  uc_reg_write(engine->uc, UC_X86_REG_CR4, &cr4);
  if (uc_err err = uc_context_alloc(engine->uc, &engine->clean); err != UC_ERR_OK) {
    return Fail("uc_context_alloc: {}", uc_strerror(err));
  }
  uc_context_save(engine->uc, engine->clean);
  Engine* raw = engine.get();
  engines_[mode] = std::move(engine);
  return raw;
}

Result<DiffOutcome> UnicornOracle::Run(const DiffCase& c) {
  auto engine_or = EngineFor(c.mode);
  if (!engine_or) return std::unexpected(engine_or.error());
  Engine& e = **engine_or;
  uc_engine* uc = e.uc;

  const uint64_t code_page = c.regs.rip & ~(kDiffPageBytes - 1);
  const uint64_t code_off = c.regs.rip - code_page;
  if (code_off + c.code.size() > kDiffPageBytes) {
    return Fail("unicorn: {} code bytes at {:#x} do not fit in one page", c.code.size(), c.regs.rip);
  }
  std::map<uint64_t, uint32_t> want;
  want[code_page] = UC_PROT_READ | UC_PROT_EXEC;
  for (const DiffPage& p : c.pages) {
    if (p.vaddr % kDiffPageBytes != 0 || p.bytes.size() != kDiffPageBytes || want.contains(p.vaddr)) {
      return Fail("unicorn: bad or duplicate page {:#x}", p.vaddr);
    }
    want[p.vaddr] = UC_PROT_READ | UC_PROT_EXEC | (p.writable ? UC_PROT_WRITE : 0);
  }
  for (auto it = e.mapped.begin(); it != e.mapped.end();) {
    auto w = want.find(it->first);
    if (w == want.end()) {
      uc_mem_unmap(uc, it->first, kDiffPageBytes);
      it = e.mapped.erase(it);
      continue;
    }
    if (w->second != it->second) {
      uc_mem_protect(uc, it->first, kDiffPageBytes, w->second);
      it->second = w->second;
    }
    ++it;
  }
  for (const auto& [page, prot] : want) {
    if (e.mapped.contains(page)) continue;
    if (uc_err err = uc_mem_map(uc, page, kDiffPageBytes, prot); err != UC_ERR_OK) {
      return Fail("uc_mem_map({:#x}): {}", page, uc_strerror(err));
    }
    e.mapped[page] = prot;
  }

  // The code page: the code, the rest HLT (as in the KVM oracle).
  std::vector<uint8_t> code(kDiffPageBytes, 0xf4);
  memcpy(code.data() + code_off, c.code.data(), c.code.size());
  uc_mem_write(uc, code_page, code.data(), code.size());
  // Translated blocks of the previous case's code must go (Unicorn caches them).
  uc_ctl_remove_cache(uc, code_page, code_page + kDiffPageBytes);
  for (const DiffPage& p : c.pages) uc_mem_write(uc, p.vaddr, p.bytes.data(), kDiffPageBytes);

  if (e.needs_restore) uc_context_restore(uc, e.clean);
  e.needs_restore = true;  // Until the case ends cleanly.
  const bool is64 = c.mode == DiffMode::kLong64;
  const int ngpr = is64 ? 16 : 8;
  const uint64_t mask = UcMask(c.mode);
  for (int i = 0; i < ngpr; ++i) {
    uint64_t v = c.regs.gpr[i] & mask;
    uc_reg_write(uc, is64 ? kGpr64[i] : kGpr32[i], &v);
  }
  if (c.mode == DiffMode::kReal16) {
    // Real mode with all segment bases 0 (DiffMode::kReal16).
    for (int seg : {UC_X86_REG_CS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_SS, UC_X86_REG_FS, UC_X86_REG_GS}) {
      uint64_t zero = 0;
      uc_reg_write(uc, seg, &zero);
    }
  }
  uint64_t rflags = (c.regs.rflags & dflags::kCompared) | dflags::kFixed1 | (1u << 9);
  uc_reg_write(uc, is64 ? UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS, &rflags);
  for (int i = 0; i < ngpr; ++i) {
    uint8_t xmm[16];
    memcpy(xmm, &c.regs.xmm[i].lo, 8);
    memcpy(xmm + 8, &c.regs.xmm[i].hi, 8);
    uc_reg_write(uc, UC_X86_REG_XMM0 + i, xmm);
  }
  uint64_t mxcsr = c.regs.mxcsr;
  uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr);

  e.trap = Trap{};
  uint64_t begin = c.regs.rip & mask;
  uint64_t until = c.code_end() & mask;
  uc_err err = UC_ERR_OK;
  if (begin != until) err = uc_emu_start(uc, begin, until, /*timeout_us=*/1000000, /*count=*/0);
  if (err == UC_ERR_INSN_INVALID && !e.trap.exception) {
    // Unicorn reports #UD as an error, not through the interrupt hook.
    e.trap.exception = DiffException{.vector = 6};
  }
  if (err != UC_ERR_OK && !e.trap.exception) {
    return Fail("unicorn: uc_emu_start: {} ({})", uc_strerror(err), ModeName(c.mode));
  }

  DiffOutcome out;
  for (int i = 0; i < ngpr; ++i) {
    uint64_t v = 0;
    uc_reg_read(uc, is64 ? kGpr64[i] : kGpr32[i], &v);
    out.regs.gpr[i] = v & mask;
  }
  uint64_t pc = 0;
  uc_reg_read(uc, is64 ? UC_X86_REG_RIP : UC_X86_REG_EIP, &pc);
  out.regs.rip = pc & mask;
  if (e.trap.memory_fault) out.regs.rip = e.trap.insn_addr & mask;
  uint64_t fl = 0;
  uc_reg_read(uc, is64 ? UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS, &fl);
  out.regs.rflags = fl;
  for (int i = 0; i < ngpr; ++i) {
    uint8_t xmm[16];
    uc_reg_read(uc, UC_X86_REG_XMM0 + i, xmm);
    memcpy(&out.regs.xmm[i].lo, xmm, 8);
    memcpy(&out.regs.xmm[i].hi, xmm + 8, 8);
  }
  uc_reg_read(uc, UC_X86_REG_MXCSR, &mxcsr);
  out.regs.mxcsr = static_cast<uint32_t>(mxcsr);
  out.exception = e.trap.exception;
  if (!out.exception && out.regs.rip != until) {
    // Stopped elsewhere without a hook firing (e.g. HLT ends emulation).
    return Fail("unicorn: stopped at {:#x}, not at the end {:#x}", out.regs.rip, until);
  }
  e.needs_restore = out.exception.has_value();
  out.pages = c.pages;
  for (DiffPage& p : out.pages) uc_mem_read(uc, p.vaddr, p.bytes.data(), kDiffPageBytes);
  return out;
}

}  // namespace x86vm::difftest
