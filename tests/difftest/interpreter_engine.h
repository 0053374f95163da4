// The engine under test: runs DiffCases through cpu/'s Interpreter, on a bare
// machine (GuestMemory, MMIO and port buses, a deterministic VirtualClock)
// built the way each oracle runs the case (README.md, "To hook the
// interpreter in"):
//
//  - long64: what KvmRing3Oracle builds, at the same addresses: CPL 3 in a
//    64-bit code segment, 4-level paging that maps exactly the case's pages
//    (user, writable as given), the code page (user, read-only), the
//    supervisor-only system area [0x1000, 0x8000) and the user harness page
//    at 0xF0000; CR0 = PG WP NE ET MP PE, CR4 = PAE OSFXSR OSXMMEXCPT,
//    EFER = LME LMA. Every IDT vector leads to its own HLT stub at ring 0,
//    and the frame on the ring-0 stack (TSS.RSP0) gives RIP, RSP, RFLAGS and
//    the error code, exactly as the hardware oracle reads it. The code is
//    followed by HLT, which at CPL 3 raises #GP(0) at code_end(): that is
//    the normal end of a case.
//  - prot32 and real16: what UnicornOracle gives: CPL 0, flat segments with
//    base 0, IF = 1, a HLT after the code. prot32 additionally runs with
//    32-bit paging (supervisor mappings, CR0.WP) so that an access outside
//    the case's pages or a write to the code page is a #PF with CR2, which
//    is how Unicorn reports them; nothing else about paging is visible to
//    the case. Real mode has no paging: there an access outside the pages
//    reads or writes plain RAM (a known difference from Unicorn's report).
//    At CPL 0 an exception frame would land on the case's own stack, which
//    Unicorn does not do, so the IDT (IVT) is placed in MMIO space: the
//    first gate read of a delivery tells the vector and snapshots the
//    registers and pages at that moment, before anything is pushed.
#ifndef X86VM_TESTS_DIFFTEST_INTERPRETER_ENGINE_H_
#define X86VM_TESTS_DIFFTEST_INTERPRETER_ENGINE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "base/status.h"
#include "cpu/cpu_state.h"
#include "cpu/cpuid.h"
#include "tests/difftest/diff_case.h"

namespace x86vm {
class Bus;
class GuestMemory;
class Interpreter;
class VirtualClock;
}  // namespace x86vm

namespace x86vm::difftest {

class GateWindow;

// Runs DiffCases of every mode on the interpreter.
class InterpreterEngine : public DiffEngine {
 public:
  // Builds the machine. Fails only if host memory cannot be mapped.
  static Result<std::unique_ptr<InterpreterEngine>> Create(CpuFeatures features = {});
  ~InterpreterEngine() override;

  const char* name() const override { return "interp"; }
  bool Supports(DiffMode) const override { return true; }
  // What the interpreter's CPUID model announces (SSE2..SSE4.2, POPCNT,
  // LZCNT, BMI1, MOVBE), read from cpu/cpuid.h.
  uint32_t features() const override;
  Result<DiffOutcome> Run(const DiffCase& c) override;

  // Guest instructions executed over all cases (for throughput reports).
  uint64_t instructions_retired() const;

  // Answers an MMIO read of the IDT/IVT window (public for the bus target).
  void ReadGate(uint64_t offset, uint8_t* data, size_t size);

 private:
  InterpreterEngine() = default;
  Result<> Init(CpuFeatures features);
  // Writes the GDT, IDT/TSS, HLT stubs of the protected modes and real mode.
  void SetUpSystemArea();
  // Makes the page tables of `mode` map exactly `want` (vaddr -> writable)
  // plus the system area. Rebuilt only when the set changes.
  Result<> MapPages(DiffMode mode, const std::map<uint64_t, bool>& want);
  // The guest-physical frame behind a case page (identity in real mode).
  Result<uint64_t> FrameFor(DiffMode mode, uint64_t vaddr);
  // Host pointer to the byte at `linear` in the current mode's mapping, or
  // nullptr if it is not mapped (for reading exception frames).
  uint8_t* HostForLinear(DiffMode mode, uint64_t linear, size_t size);
  // The initial CpuState of a case.
  CpuState InitialState(const DiffCase& c) const;
  // Copies the case pages out of guest memory.
  void ReadPages(const DiffCase& c, std::vector<DiffPage>& pages);
  Result<DiffOutcome> FinishLong64(const DiffCase& c, const CpuState& s);
  Result<DiffOutcome> FinishLegacy(const DiffCase& c, const CpuState& s);
  uint8_t* Host(uint64_t gpa, uint64_t size);

  std::unique_ptr<GuestMemory> memory_;
  std::unique_ptr<Bus> mmio_;
  std::unique_ptr<Bus> pio_;
  std::unique_ptr<VirtualClock> clock_;
  std::unique_ptr<GateWindow> gate_window_;
  std::unique_ptr<Interpreter> interp_;
  CpuFeatures cpu_features_;

  // Page tables per protected mode: the root, the mapping it holds
  // (vaddr page -> writable), and a bump allocator over its table pool.
  struct Tables {
    uint64_t root = 0;
    std::map<uint64_t, bool> mapped;
    bool valid = false;
  };
  Tables tables64_;
  Tables tables32_;
  uint64_t next_frame_ = 0;
  std::map<uint64_t, uint64_t> frames_;  // Case vaddr page -> frame (protected modes).
  std::set<uint64_t> real_pages_;        // Real-mode pages the last case used.

  // The case being run, for the gate window.
  DiffMode mode_ = DiffMode::kLong64;
  const DiffCase* current_ = nullptr;
  // First gate read of the current case (real16/prot32): the vector and the
  // state and pages at that moment, before the frame is pushed.
  bool gate_read_ = false;
  int gate_vector_ = -1;
  CpuState snapshot_;
  std::vector<DiffPage> snapshot_pages_;
};

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_INTERPRETER_ENGINE_H_
