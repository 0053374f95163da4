// A hardware oracle: runs 64-bit DiffCases natively at CPL 3 through /dev/kvm.
//
// On hosts whose KVM emulates ring 0 in software (see shared/ENVIRONMENT.md)
// ring-3 code still runs on the real CPU, so the outcome of unprivileged code
// is what silicon does. The guest is built so that ring 0 executes at most
// one instruction per case: every IDT vector points at its own one-byte HLT
// stub, so the HLT exit's RIP names the vector and the exception frame on the
// ring-0 stack gives the faulting RIP, RSP, RFLAGS and error code. A case
// that runs to its end hits an `out` to a port the TSS I/O bitmap lets ring 3
// use, which exits to userspace without touching ring 0 at all. MXCSR and
// XMM0-15 are loaded and stored by a small ring-3 harness around the case
// (see kvm_ring3_oracle.cc for why KVM_SET_FPU cannot be used here).
#ifndef X86VM_TESTS_DIFFTEST_KVM_RING3_ORACLE_H_
#define X86VM_TESTS_DIFFTEST_KVM_RING3_ORACLE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "tests/difftest/diff_case.h"

struct kvm_run;

namespace x86vm::difftest {

// Runs DiffMode::kLong64 cases at CPL 3 in one reused KVM VM. (Not kProt32:
// on this host compatibility-mode code is emulated by the host's KVM, slowly
// and incompletely: DAA and SSE came back as #UD.)
class KvmRing3Oracle : public DiffEngine {
 public:
  // Opens /dev/kvm and builds the VM. Fails with a message saying why when
  // /dev/kvm is missing or unusable (callers turn that into a skip).
  static Result<std::unique_ptr<KvmRing3Oracle>> Create();
  ~KvmRing3Oracle() override;

  const char* name() const override { return "kvm-ring3"; }
  bool Supports(DiffMode mode) const override { return mode == DiffMode::kLong64; }
  Result<DiffOutcome> Run(const DiffCase& c) override;

  // Number of KVM_RUN calls that were needed (> cases when a run was interrupted).
  uint64_t kvm_runs() const { return kvm_runs_; }

 private:
  KvmRing3Oracle() = default;
  Result<> Init();
  Result<> SetUpSystemTables();
  // Makes the user mappings exactly the pages of `c` plus its code page.
  Result<> MapPages(const DiffCase& c, uint64_t code_page);
  // Returns the guest-physical frame for a user page, allocating on first use.
  Result<uint64_t> FrameFor(uint64_t vaddr);
  // Page-table helper: the PTE slot for `vaddr` under the root at `root_gpa`.
  Result<uint64_t*> PteSlot(uint64_t root_gpa, uint64_t vaddr);
  Result<uint64_t> AllocTablePage();
  // Loads ring-3 CS (64-bit) and SS, DS, ES, TR, GDT, IDT, CR0/3/4, EFER.
  Result<> LoadRing3Sregs();
  // Writes the ring-3 prologue/epilogue that move MXCSR and XMM0-15.
  Result<> BuildHarness();
  // After a fault: runs the epilogue so the SIMD state reaches memory.
  Result<> SaveSimdAfterFault();
  // Completes a pending OUT exit without running guest code.
  Result<> CompleteIo();
  uint8_t* Host(uint64_t gpa) { return mem_ + gpa; }

  int kvm_fd_ = -1;
  int vm_fd_ = -1;
  int vcpu_fd_ = -1;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  uint8_t* mem_ = nullptr;
  size_t mem_bytes_ = 0;

  // Page tables: two roots used alternately so a remap is a CR3 change, which
  // makes KVM drop every cached translation (SDM Vol. 3 4.10.4.1).
  uint64_t root_gpa_[2] = {0, 0};
  int active_root_ = 0;
  uint64_t next_table_ = 0;   // Bump allocator for page-table pages.
  uint64_t table_limit_ = 0;
  uint64_t next_frame_ = 0;   // Bump allocator for user frames.
  std::map<uint64_t, uint64_t> frames_;  // User vaddr page -> guest-physical frame.
  // The user mapping currently installed: vaddr page -> writable.
  std::map<uint64_t, bool> mapped_;
  bool sregs_dirty_ = true;  // Ring 0 ran (or CR3 changed): reload CS/SS/CR3.
  uint64_t kvm_runs_ = 0;
};

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_KVM_RING3_ORACLE_H_
