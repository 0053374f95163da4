#include "tests/difftest/kvm_ring3_oracle.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace x86vm::difftest {
namespace {

// Guest-physical layout. Everything below kUserFrames is identity-mapped for
// supervisor use only, so test code touching it takes a #PF like on any OS.
constexpr uint64_t kGdt = 0x1000;
constexpr uint64_t kIdt = 0x2000;    // 256 16-byte gates.
constexpr uint64_t kTss = 0x3000;    // 104-byte TSS, then the I/O bitmap.
constexpr uint64_t kIoBitmapOffset = 0x68;
constexpr uint64_t kTssLimit = kIoBitmapOffset + 8192;  // Bitmap plus the 0xFF byte.
constexpr uint64_t kStubs = 0x6000;  // Vector v's handler is the HLT at kStubs + v.
constexpr uint64_t kStack0Top = 0x8000;  // TSS.RSP0; the page below is the ring-0 stack.
constexpr uint64_t kSystemEnd = 0x8000;
constexpr uint64_t kTablePool[2] = {0x10000, 0x30000};  // 32 pages per root.
constexpr uint64_t kTablePoolBytes = 0x20000;
constexpr uint64_t kUserFrames = 0x100000;
constexpr uint64_t kMemBytes = 8ull << 20;

constexpr uint16_t kKernelCs = 0x08;
constexpr uint16_t kUserSs = 0x18 | 3;
constexpr uint16_t kUserCs = 0x20 | 3;
constexpr uint16_t kTssSel = 0x28;

// The port the harness's final `out` writes; allowed for CPL 3 by the I/O
// bitmap (SDM Vol. 1 19.5.2), every other port is not.
constexpr uint16_t kDonePort = 0xe9;

// The ring-3 harness page. This host's KVM neither sets nor reports MXCSR
// through KVM_SET_FPU/KVM_GET_FPU (nor supports KVM_GET_XSAVE), and its
// KVM_GET_FPU returned stale XMM values right after the guest's first SSE
// use, so MXCSR and the XMM registers go in and out through guest memory:
// the prologue loads them and jumps to the case, the case's code is followed
// by a jump to the epilogue, which stores them and ends with `out`.
// Neither touches RFLAGS or a GPR. Case pages may not use this page.
constexpr uint64_t kHarness = 0xf0000;
constexpr uint64_t kPrologue = kHarness;
constexpr uint64_t kEpilogue = kHarness + 0x400;
constexpr uint64_t kCaseRipSlot = kHarness + 0x7f8;
constexpr uint64_t kMxcsrIn = kHarness + 0x800;
constexpr uint64_t kMxcsrOut = kHarness + 0x804;
constexpr uint64_t kXmmIn = kHarness + 0x900;
constexpr uint64_t kXmmOut = kHarness + 0xa00;
// After the case's code: jmp [rip+0] with the epilogue address after it.
constexpr uint8_t kJumpToEpilogue[] = {0xff, 0x25, 0, 0, 0, 0};
constexpr size_t kCodeTailBytes = sizeof(kJumpToEpilogue) + 8;

// Page-table entry bits (SDM Vol. 3 4.5).
constexpr uint64_t kPteP = 1u << 0;
constexpr uint64_t kPteW = 1u << 1;
constexpr uint64_t kPteU = 1u << 2;
constexpr uint64_t kPteAddr = 0x000ffffffffff000ull;

// Vectors that push an error code (SDM Vol. 3 Table 6-1).
bool PushesErrorCode(unsigned v) {
  return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

// CR0/CR4/EFER for 64-bit paging with SSE usable at CPL 3.
constexpr uint64_t kCr0 = 0x80050033;  // PG WP NE ET MP PE.
constexpr uint64_t kCr4 = 0x620;       // OSXMMEXCPT OSFXSR PAE.
constexpr uint64_t kEfer = 0x500;      // LMA LME.

// A SIGALRM that interrupts KVM_RUN when a case runs away; the handler only
// exists so the signal does not kill the process.
void OnAlarm(int) {}

kvm_segment Seg(uint16_t sel, uint8_t type, uint8_t dpl, bool code64) {
  kvm_segment s{};
  s.selector = sel;
  s.base = 0;
  s.limit = 0xffffffff;
  s.type = type;
  s.present = 1;
  s.dpl = dpl;
  s.db = code64 ? 0 : 1;
  s.s = 1;
  s.l = code64 ? 1 : 0;
  s.g = 1;
  return s;
}

}  // namespace

Result<std::unique_ptr<KvmRing3Oracle>> KvmRing3Oracle::Create() {
  std::unique_ptr<KvmRing3Oracle> oracle(new KvmRing3Oracle());
  if (auto r = oracle->Init(); !r) return std::unexpected(r.error());
  return oracle;
}

KvmRing3Oracle::~KvmRing3Oracle() {
  if (run_ != nullptr) munmap(run_, run_size_);
  if (mem_ != nullptr) munmap(mem_, mem_bytes_);
  if (vcpu_fd_ >= 0) close(vcpu_fd_);
  if (vm_fd_ >= 0) close(vm_fd_);
  if (kvm_fd_ >= 0) close(kvm_fd_);
}

Result<> KvmRing3Oracle::Init() {
  kvm_fd_ = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm_fd_ < 0) return Fail("/dev/kvm: {}", strerror(errno));
  int api = ioctl(kvm_fd_, KVM_GET_API_VERSION, 0);
  if (api != KVM_API_VERSION) return Fail("/dev/kvm: API version {} (want {})", api, KVM_API_VERSION);
  vm_fd_ = ioctl(kvm_fd_, KVM_CREATE_VM, 0);
  if (vm_fd_ < 0) return Fail("KVM_CREATE_VM: {}", strerror(errno));

  mem_bytes_ = kMemBytes;
  void* mem = mmap(nullptr, mem_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return Fail("mmap guest memory: {}", strerror(errno));
  mem_ = static_cast<uint8_t*>(mem);
  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = mem_bytes_;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem_);
  if (ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return Fail("KVM_SET_USER_MEMORY_REGION: {}", strerror(errno));
  }
  vcpu_fd_ = ioctl(vm_fd_, KVM_CREATE_VCPU, 0);
  if (vcpu_fd_ < 0) return Fail("KVM_CREATE_VCPU: {}", strerror(errno));
  int run_size = ioctl(kvm_fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) return Fail("KVM_GET_VCPU_MMAP_SIZE: {}", strerror(errno));
  run_size_ = static_cast<size_t>(run_size);
  void* run = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd_, 0);
  if (run == MAP_FAILED) return Fail("mmap kvm_run: {}", strerror(errno));
  run_ = static_cast<kvm_run*>(run);

  // Give the guest the host's CPUID so SSE4.2, POPCNT, MOVBE, LZCNT... are
  // announced; ring-3 code runs natively either way.
  {
    constexpr int kMaxEntries = 256;
    std::vector<uint8_t> buf(sizeof(kvm_cpuid2) + kMaxEntries * sizeof(kvm_cpuid_entry2));
    auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.data());
    cpuid->nent = kMaxEntries;
    if (ioctl(kvm_fd_, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
      if (ioctl(vcpu_fd_, KVM_SET_CPUID2, cpuid) < 0) return Fail("KVM_SET_CPUID2: {}", strerror(errno));
    }
  }

  struct sigaction sa {};
  sa.sa_handler = OnAlarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // No SA_RESTART: KVM_RUN must return EINTR.
  sigaction(SIGALRM, &sa, nullptr);

  if (auto r = SetUpSystemTables(); !r) return r;
  return {};
}

Result<> KvmRing3Oracle::SetUpSystemTables() {
  // GDT (SDM Vol. 3 3.4.5): null, ring-0 code64, ring-0 data, ring-3 data,
  // ring-3 code64, then the 16-byte 64-bit TSS descriptor (SDM Vol. 3 8.2.3).
  auto* gdt = reinterpret_cast<uint64_t*>(Host(kGdt));
  gdt[0] = 0;
  gdt[1] = 0x00af9b000000ffffull;
  gdt[2] = 0x00cf93000000ffffull;
  gdt[3] = 0x00cff3000000ffffull;
  gdt[4] = 0x00affb000000ffffull;
  const uint64_t tss_base = kTss;
  gdt[5] = (kTssLimit & 0xffff) | ((tss_base & 0xffffff) << 16) | (0x89ull << 40) |
           (((kTssLimit >> 16) & 0xf) << 48) | (((tss_base >> 24) & 0xff) << 56);
  gdt[6] = tss_base >> 32;

  // IDT: 64-bit interrupt gates to one HLT each (SDM Vol. 3 6.14.1). Only
  // INT3/INTO are callable from ring 3, as on common OSes.
  auto* idt = reinterpret_cast<uint64_t*>(Host(kIdt));
  for (uint64_t v = 0; v < 256; ++v) {
    uint64_t handler = kStubs + v;
    uint64_t dpl = (v == 3 || v == 4) ? 3 : 0;
    idt[2 * v] = (handler & 0xffff) | (uint64_t{kKernelCs} << 16) | ((0x8eull | (dpl << 5)) << 40) |
                 (((handler >> 16) & 0xffff) << 48);
    idt[2 * v + 1] = handler >> 32;
    Host(kStubs)[v] = 0xf4;  // hlt
  }

  // TSS: RSP0 and the I/O bitmap, where only kDonePort is open to CPL 3.
  uint8_t* tss = Host(kTss);
  memset(tss, 0, kTssLimit + 1);
  uint64_t rsp0 = kStack0Top;
  memcpy(tss + 4, &rsp0, 8);
  uint16_t iomap = kIoBitmapOffset;
  memcpy(tss + 0x66, &iomap, 2);
  memset(tss + kIoBitmapOffset, 0xff, 8192 + 1);
  tss[kIoBitmapOffset + kDonePort / 8] &= static_cast<uint8_t>(~(1u << (kDonePort % 8)));

  next_frame_ = kUserFrames;
  return BuildHarness();
}

namespace {

// Appends an instruction with a RIP-relative operand to `target`; `op` is
// everything before the ModRM byte, `reg` its reg field.
void RipRelative(std::vector<uint8_t>& code, uint64_t base, std::initializer_list<uint8_t> op, int reg,
                 uint64_t target) {
  code.insert(code.end(), op);
  code.push_back(static_cast<uint8_t>(((reg & 7) << 3) | 5));
  const uint64_t next = base + code.size() + 4;
  const uint32_t rel = static_cast<uint32_t>(target - next);
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(rel >> (8 * i)));
}

// MOVDQU between XMM`n` and memory (F3 [REX] 0F 6F load / 7F store).
void Movdqu(std::vector<uint8_t>& code, uint64_t base, int n, bool store, uint64_t target) {
  code.push_back(0xf3);
  if (n >= 8) code.push_back(0x44);  // REX.R
  RipRelative(code, base, {0x0f, static_cast<uint8_t>(store ? 0x7f : 0x6f)}, n, target);
}

}  // namespace

Result<> KvmRing3Oracle::BuildHarness() {
  auto frame = FrameFor(kHarness);
  if (!frame) return std::unexpected(frame.error());
  std::vector<uint8_t> pro;
  RipRelative(pro, kPrologue, {0x0f, 0xae}, 2, kMxcsrIn);  // ldmxcsr
  for (int n = 0; n < 16; ++n) Movdqu(pro, kPrologue, n, false, kXmmIn + 16 * n);
  RipRelative(pro, kPrologue, {0xff}, 4, kCaseRipSlot);  // jmp [case rip]
  std::vector<uint8_t> epi;
  RipRelative(epi, kEpilogue, {0x0f, 0xae}, 3, kMxcsrOut);  // stmxcsr
  for (int n = 0; n < 16; ++n) Movdqu(epi, kEpilogue, n, true, kXmmOut + 16 * n);
  epi.push_back(0xe6);  // out kDonePort, al
  epi.push_back(static_cast<uint8_t>(kDonePort));
  uint8_t* page = Host(*frame);
  memset(page, 0xf4, kDiffPageBytes);
  memcpy(page + (kPrologue - kHarness), pro.data(), pro.size());
  memcpy(page + (kEpilogue - kHarness), epi.data(), epi.size());
  return {};
}

// Runs the epilogue at ring 3 after a case faulted, so MXCSR and the XMM
// registers of the faulting moment land in the harness page.
Result<> KvmRing3Oracle::SaveSimdAfterFault() {
  if (auto r = LoadRing3Sregs(); !r) return r;
  kvm_regs regs{};
  if (ioctl(vcpu_fd_, KVM_GET_REGS, &regs) < 0) return Fail("KVM_GET_REGS: {}", strerror(errno));
  regs.rip = kEpilogue;
  regs.rflags = dflags::kFixed1 | (1u << 9);
  if (ioctl(vcpu_fd_, KVM_SET_REGS, &regs) < 0) return Fail("KVM_SET_REGS: {}", strerror(errno));
  ++kvm_runs_;
  if (ioctl(vcpu_fd_, KVM_RUN, 0) < 0) return Fail("KVM_RUN (epilogue): {}", strerror(errno));
  if (run_->exit_reason != KVM_EXIT_IO || run_->io.port != kDonePort) {
    sregs_dirty_ = true;
    kvm_regs after{};
    ioctl(vcpu_fd_, KVM_GET_REGS, &after);
    uint64_t frame_rip = 0;
    memcpy(&frame_rip, Host(after.rsp), 8);
    return Fail("kvm oracle: epilogue after a fault exited with reason {} (rip {:#x}, frame {:#x}/{:#x})",
                run_->exit_reason, after.rip, after.rsp, frame_rip);
  }
  return CompleteIo();
}

// Lets KVM finish the OUT without running guest code, so the next case's
// registers are not overwritten by the completion (api.rst, KVM_RUN).
Result<> KvmRing3Oracle::CompleteIo() {
  run_->immediate_exit = 1;
  int rc = ioctl(vcpu_fd_, KVM_RUN, 0);
  int err = errno;
  run_->immediate_exit = 0;
  if (rc < 0 && err != EINTR) return Fail("KVM_RUN (complete I/O): {}", strerror(err));
  return {};
}

Result<uint64_t> KvmRing3Oracle::AllocTablePage() {
  if (next_table_ >= table_limit_) return Fail("kvm oracle: out of page-table pages");
  uint64_t gpa = next_table_;
  next_table_ += kDiffPageBytes;
  memset(Host(gpa), 0, kDiffPageBytes);
  return gpa;
}

Result<uint64_t*> KvmRing3Oracle::PteSlot(uint64_t root_gpa, uint64_t vaddr) {
  uint64_t table = root_gpa;
  for (int level = 3; level >= 1; --level) {
    auto* entries = reinterpret_cast<uint64_t*>(Host(table));
    uint64_t& e = entries[(vaddr >> (12 + 9 * level)) & 511];
    if ((e & kPteP) == 0) {
      auto next = AllocTablePage();
      if (!next) return std::unexpected(next.error());
      // Upper levels allow everything; the leaf decides (SDM Vol. 3 4.6.1).
      e = *next | kPteP | kPteW | kPteU;
    }
    table = e & kPteAddr;
  }
  return &reinterpret_cast<uint64_t*>(Host(table))[(vaddr >> 12) & 511];
}

Result<uint64_t> KvmRing3Oracle::FrameFor(uint64_t vaddr) {
  auto it = frames_.find(vaddr);
  if (it != frames_.end()) return it->second;
  if (next_frame_ + kDiffPageBytes > mem_bytes_) {
    return Fail("kvm oracle: out of user frames");
  }
  uint64_t gpa = next_frame_;
  next_frame_ += kDiffPageBytes;
  frames_[vaddr] = gpa;
  return gpa;
}

Result<> KvmRing3Oracle::MapPages(const DiffCase& c, uint64_t code_page) {
  std::map<uint64_t, bool> want;
  want[code_page] = false;
  want[kHarness] = true;
  for (const DiffPage& p : c.pages) {
    if (p.vaddr % kDiffPageBytes != 0 || p.bytes.size() != kDiffPageBytes) {
      return Fail("kvm oracle: page {:#x} is not one aligned page", p.vaddr);
    }
    if (want.contains(p.vaddr)) return Fail("kvm oracle: page {:#x} given twice (or is the code page)", p.vaddr);
    want[p.vaddr] = p.writable;
  }
  for (const auto& [vaddr, writable] : want) {
    // Lower canonical half only, and clear of the system area.
    if (vaddr == kHarness) continue;
    if (vaddr < kUserFrames || vaddr >= (1ull << 47)) {
      return Fail("kvm oracle: page {:#x} outside [{:#x}, 2^47)", vaddr, kUserFrames);
    }
  }
  if (want == mapped_) return {};

  // Recycle frames when random layouts have used them all up.
  if (frames_.size() + want.size() > (mem_bytes_ - kUserFrames) / kDiffPageBytes) {
    const uint64_t harness = frames_.at(kHarness);
    frames_.clear();
    frames_[kHarness] = harness;
    next_frame_ = kUserFrames;
    while (next_frame_ <= harness) next_frame_ += kDiffPageBytes;
  }
  active_root_ ^= 1;
  next_table_ = kTablePool[active_root_];
  table_limit_ = next_table_ + kTablePoolBytes;
  auto root = AllocTablePage();
  if (!root) return std::unexpected(root.error());
  root_gpa_[active_root_] = *root;
  for (uint64_t gpa = kGdt; gpa < kSystemEnd; gpa += kDiffPageBytes) {
    auto slot = PteSlot(*root, gpa);
    if (!slot) return std::unexpected(slot.error());
    **slot = gpa | kPteP | kPteW;  // Supervisor only.
  }
  for (const auto& [vaddr, writable] : want) {
    auto frame = FrameFor(vaddr);
    if (!frame) return std::unexpected(frame.error());
    auto slot = PteSlot(*root, vaddr);
    if (!slot) return std::unexpected(slot.error());
    **slot = *frame | kPteP | kPteU | (writable ? kPteW : 0);
  }
  mapped_ = std::move(want);
  sregs_dirty_ = true;
  return {};
}

Result<> KvmRing3Oracle::LoadRing3Sregs() {
  kvm_sregs s{};
  if (ioctl(vcpu_fd_, KVM_GET_SREGS, &s) < 0) return Fail("KVM_GET_SREGS: {}", strerror(errno));
  s.cs = Seg(kUserCs, 0xb, 3, true);
  s.ss = Seg(kUserSs, 0x3, 3, false);
  // DS/ES hold the flat ring-3 data segment (64-bit mode ignores them).
  s.ds = s.es = Seg(kUserSs, 0x3, 3, false);
  s.fs = s.gs = Seg(0, 0x3, 3, false);
  s.fs.present = s.gs.present = 1;
  s.tr = kvm_segment{};
  s.tr.selector = kTssSel;
  s.tr.base = kTss;
  s.tr.limit = kTssLimit;
  s.tr.type = 0xb;  // Busy 64-bit TSS.
  s.tr.present = 1;
  s.ldt = kvm_segment{};
  s.ldt.unusable = 1;
  s.gdt.base = kGdt;
  s.gdt.limit = 7 * 8 - 1;
  s.idt.base = kIdt;
  s.idt.limit = 256 * 16 - 1;
  s.cr0 = kCr0;
  s.cr3 = root_gpa_[active_root_];
  s.cr4 = kCr4;
  s.efer = kEfer;
  if (ioctl(vcpu_fd_, KVM_SET_SREGS, &s) < 0) return Fail("KVM_SET_SREGS: {}", strerror(errno));
  sregs_dirty_ = false;
  return {};
}

Result<DiffOutcome> KvmRing3Oracle::Run(const DiffCase& c) {
  if (!Supports(c.mode)) return Fail("kvm oracle: {} cases cannot run at ring 3 here", ModeName(c.mode));
  const uint64_t code_page = c.regs.rip & ~(kDiffPageBytes - 1);
  const uint64_t code_off = c.regs.rip - code_page;
  if (code_off + c.code.size() + kCodeTailBytes > kDiffPageBytes) {
    return Fail("kvm oracle: {} code bytes at {:#x} do not fit in one page", c.code.size(), c.regs.rip);
  }
  if ((c.regs.mxcsr & ~0xffffu) != 0) return Fail("kvm oracle: MXCSR {:#x} has reserved bits set", c.regs.mxcsr);
  if (auto r = MapPages(c, code_page); !r) return std::unexpected(r.error());

  // Memory: the code page (rest filled with HLT, which #GPs at CPL 3), then data.
  uint8_t* code = Host(frames_.at(code_page));
  memset(code, 0xf4, kDiffPageBytes);
  memcpy(code + code_off, c.code.data(), c.code.size());
  memcpy(code + code_off + c.code.size(), kJumpToEpilogue, sizeof(kJumpToEpilogue));
  memcpy(code + code_off + c.code.size() + sizeof(kJumpToEpilogue), &kEpilogue, 8);
  for (const DiffPage& p : c.pages) memcpy(Host(frames_.at(p.vaddr)), p.bytes.data(), kDiffPageBytes);
  uint8_t* harness = Host(frames_.at(kHarness));
  memcpy(harness + (kCaseRipSlot - kHarness), &c.regs.rip, 8);
  memcpy(harness + (kMxcsrIn - kHarness), &c.regs.mxcsr, 4);
  for (int i = 0; i < 16; ++i) {
    memcpy(harness + (kXmmIn - kHarness) + 16 * i, &c.regs.xmm[i].lo, 8);
    memcpy(harness + (kXmmIn - kHarness) + 16 * i + 8, &c.regs.xmm[i].hi, 8);
  }

  if (sregs_dirty_) {
    if (auto r = LoadRing3Sregs(); !r) return std::unexpected(r.error());
  }
  kvm_regs regs{};
  const auto& g = c.regs.gpr;
  regs.rax = g[kDRax]; regs.rcx = g[kDRcx]; regs.rdx = g[kDRdx]; regs.rbx = g[kDRbx];
  regs.rsp = g[kDRsp]; regs.rbp = g[kDRbp]; regs.rsi = g[kDRsi]; regs.rdi = g[kDRdi];
  regs.r8 = g[kDR8]; regs.r9 = g[kDR9]; regs.r10 = g[kDR10]; regs.r11 = g[kDR11];
  regs.r12 = g[kDR12]; regs.r13 = g[kDR13]; regs.r14 = g[kDR14]; regs.r15 = g[kDR15];
  regs.rip = kPrologue;
  regs.rflags = (c.regs.rflags & dflags::kCompared) | dflags::kFixed1 | (1u << 9);  // IF=1, IOPL=0.
  if (ioctl(vcpu_fd_, KVM_SET_REGS, &regs) < 0) return Fail("KVM_SET_REGS: {}", strerror(errno));

  // Run; a runaway case is stopped by SIGALRM after ten seconds (generous:
  // a loaded CI machine can stall a vCPU for a second or more).
  itimerval alarm{};
  alarm.it_value.tv_sec = 10;
  setitimer(ITIMER_REAL, &alarm, nullptr);
  int rc;
  do {
    ++kvm_runs_;
    rc = ioctl(vcpu_fd_, KVM_RUN, 0);
  } while (rc < 0 && errno == EAGAIN);
  int run_errno = errno;
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  if (rc < 0) {
    sregs_dirty_ = true;
    if (run_errno == EINTR) return Fail("kvm oracle: case did not finish within 10 s");
    return Fail("KVM_RUN: {}", strerror(run_errno));
  }

  if (ioctl(vcpu_fd_, KVM_GET_REGS, &regs) < 0) return Fail("KVM_GET_REGS: {}", strerror(errno));
  DiffOutcome out;
  auto& o = out.regs.gpr;
  o[kDRax] = regs.rax; o[kDRcx] = regs.rcx; o[kDRdx] = regs.rdx; o[kDRbx] = regs.rbx;
  o[kDRsp] = regs.rsp; o[kDRbp] = regs.rbp; o[kDRsi] = regs.rsi; o[kDRdi] = regs.rdi;
  o[kDR8] = regs.r8; o[kDR9] = regs.r9; o[kDR10] = regs.r10; o[kDR11] = regs.r11;
  o[kDR12] = regs.r12; o[kDR13] = regs.r13; o[kDR14] = regs.r14; o[kDR15] = regs.r15;

  switch (run_->exit_reason) {
    case KVM_EXIT_IO:
      if (run_->io.port != kDonePort || run_->io.direction != KVM_EXIT_IO_OUT) {
        sregs_dirty_ = true;
        return Fail("kvm oracle: unexpected I/O exit on port {:#x}", run_->io.port);
      }
      out.regs.rip = c.code_end();
      out.regs.rflags = regs.rflags;
      if (auto r = CompleteIo(); !r) return std::unexpected(r.error());
      break;
    case KVM_EXIT_HLT: {
      uint64_t stub = regs.rip - 1;
      if (stub < kStubs || stub >= kStubs + 256) {
        sregs_dirty_ = true;
        return Fail("kvm oracle: HLT exit at unexpected rip {:#x}", regs.rip);
      }
      sregs_dirty_ = true;  // The CPU is at ring 0 now.
      DiffException e;
      e.vector = static_cast<uint8_t>(stub - kStubs);
      uint64_t frame = regs.rsp;
      e.has_error_code = PushesErrorCode(e.vector);
      if (e.has_error_code) {
        uint64_t code64;
        memcpy(&code64, Host(frame), 8);
        e.error_code = static_cast<uint32_t>(code64);
        frame += 8;
      }
      uint64_t f[5];  // RIP, CS, RFLAGS, RSP, SS (SDM Vol. 3 6.14.2).
      if (frame + sizeof(f) != kStack0Top) {
        return Fail("kvm oracle: unexpected ring-0 stack {:#x} for vector {}", regs.rsp, e.vector);
      }
      memcpy(f, Host(frame), sizeof(f));
      if ((f[1] & 3) != 3) {
        return Fail("kvm oracle: vector {} raised at ring 0 (rip {:#x})", e.vector, f[0]);
      }
      out.regs.rip = f[0];
      out.regs.rflags = f[2];
      o[kDRsp] = f[3];
      if (e.vector == 14) {
        kvm_sregs s{};
        if (ioctl(vcpu_fd_, KVM_GET_SREGS, &s) < 0) return Fail("KVM_GET_SREGS: {}", strerror(errno));
        e.cr2 = s.cr2;
      }
      out.exception = e;
      if (auto r = SaveSimdAfterFault(); !r) return std::unexpected(r.error());
      break;
    }
    case KVM_EXIT_SHUTDOWN:
      sregs_dirty_ = true;
      return Fail("kvm oracle: triple fault (rip {:#x})", regs.rip);
    case KVM_EXIT_INTERNAL_ERROR:
      sregs_dirty_ = true;
      return Fail("kvm oracle: KVM internal error, suberror {} (rip {:#x})", run_->internal.suberror, regs.rip);
    default:
      sregs_dirty_ = true;
      return Fail("kvm oracle: unexpected exit reason {} (rip {:#x})", run_->exit_reason, regs.rip);
  }

  memcpy(&out.regs.mxcsr, harness + (kMxcsrOut - kHarness), 4);
  for (int i = 0; i < 16; ++i) {
    memcpy(&out.regs.xmm[i].lo, harness + (kXmmOut - kHarness) + 16 * i, 8);
    memcpy(&out.regs.xmm[i].hi, harness + (kXmmOut - kHarness) + 16 * i + 8, 8);
  }
  out.pages = c.pages;
  for (DiffPage& p : out.pages) memcpy(p.bytes.data(), Host(frames_.at(p.vaddr)), kDiffPageBytes);
  return out;
}

}  // namespace x86vm::difftest
