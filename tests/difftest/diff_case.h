// The differential-test model: one DiffCase (a mode, code bytes, initial
// registers and data pages) goes into several DiffEngines (KVM at ring 3,
// Unicorn, the interpreter) and the DiffOutcomes that come back are compared
// with the flags and registers the SDM leaves undefined masked out.
//
// The types are deliberately smaller than cpu/cpu_state.h's CpuState: a case
// only fixes what unprivileged code can observe (GPRs, RFLAGS, XMM, MXCSR,
// memory), and every engine supplies the same system state around it (flat
// segments, identity of the layout below, all pages present).
#ifndef X86VM_TESTS_DIFFTEST_DIFF_CASE_H_
#define X86VM_TESTS_DIFFTEST_DIFF_CASE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace x86vm::difftest {

// The CPU mode a case runs in; it fixes the default operand/address size.
enum class DiffMode : uint8_t {
  kReal16,  // Real mode, CS=DS=ES=SS=FS=GS=0, so offsets are linear addresses < 64 KiB.
  kProt32,  // Flat 32-bit protected mode (base 0, limit 4 GiB), CPL 0 or 3 by engine.
  kLong64,  // 64-bit mode at CPL 3 with 4-level paging (what KVM ring 3 runs).
};

// Short name for messages ("real16", "prot32", "long64").
const char* ModeName(DiffMode mode);

// Fixed addresses used by the generator, per mode. Engines accept any page
// address, these are only the defaults every generated case uses.
struct DiffLayout {
  uint64_t code_addr;   // First byte of the code.
  uint64_t data_addr;   // Two consecutive data pages start here.
  uint64_t stack_page;  // One page used as the stack; RSP starts near its top.
};
// The layout the generator uses for `mode`.
DiffLayout LayoutFor(DiffMode mode);

// Page size of data pages and the unit engines map memory in.
inline constexpr uint64_t kDiffPageBytes = 4096;

// GPR numbers in ModRM/REX order (the same as cpu/cpu_state.h's Gpr).
enum DiffGpr : int {
  kDRax = 0, kDRcx, kDRdx, kDRbx, kDRsp, kDRbp, kDRsi, kDRdi,
  kDR8, kDR9, kDR10, kDR11, kDR12, kDR13, kDR14, kDR15,
};

// RFLAGS bits compared by the differential tests (SDM Vol. 1 3.4.3).
namespace dflags {
inline constexpr uint64_t kCf = 1u << 0;
inline constexpr uint64_t kFixed1 = 1u << 1;
inline constexpr uint64_t kPf = 1u << 2;
inline constexpr uint64_t kAf = 1u << 4;
inline constexpr uint64_t kZf = 1u << 6;
inline constexpr uint64_t kSf = 1u << 7;
inline constexpr uint64_t kDf = 1u << 10;
inline constexpr uint64_t kOf = 1u << 11;
// The six arithmetic status flags.
inline constexpr uint64_t kStatus = kCf | kPf | kAf | kZf | kSf | kOf;
// What unprivileged code can set and outcomes compare: status flags and DF.
// (IF, IOPL, TF, AC and the rest are engine environment, not test data.)
inline constexpr uint64_t kCompared = kStatus | kDf;
}  // namespace dflags

// CPU features an instruction needs (case generator templates); engines
// say which they implement.
namespace feature {
inline constexpr uint32_t kSse2 = 1u << 0;
inline constexpr uint32_t kSse3 = 1u << 1;
inline constexpr uint32_t kSsse3 = 1u << 2;
inline constexpr uint32_t kSse41 = 1u << 3;
inline constexpr uint32_t kSse42 = 1u << 4;  // Includes CRC32 and PCMPxSTRx.
inline constexpr uint32_t kPopcnt = 1u << 5;
inline constexpr uint32_t kLzcnt = 1u << 6;  // ABM.
inline constexpr uint32_t kBmi1 = 1u << 7;   // TZCNT.
inline constexpr uint32_t kMovbe = 1u << 8;
inline constexpr uint32_t kAll = (1u << 9) - 1;
}  // namespace feature

// One 128-bit XMM register as two little-endian quadwords.
struct DiffXmm {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const DiffXmm&) const = default;
};

// A 4 KiB page of guest memory at a fixed virtual (= linear) address.
struct DiffPage {
  uint64_t vaddr = 0;  // Page-aligned.
  bool writable = true;
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kDiffPageBytes);  // Exactly one page.
  bool operator==(const DiffPage&) const = default;
};

// The registers a case starts from and an outcome ends with. In 16/32-bit
// modes only the low 16/32 bits of the GPRs are meaningful and the upper
// halves must be zero; XMM8-15 exist only in 64-bit mode.
struct DiffRegs {
  std::array<uint64_t, 16> gpr{};
  uint64_t rip = 0;
  uint64_t rflags = dflags::kFixed1;  // Only dflags::kCompared bits are honoured.
  std::array<DiffXmm, 16> xmm{};
  uint32_t mxcsr = 0x1f80;  // Power-on value: all exceptions masked, RNE.
  bool operator==(const DiffRegs&) const = default;
};

// One test: run `code` at `regs.rip` until RIP reaches the end of the code
// (success) or an exception is raised (the outcome records the vector).
struct DiffCase {
  DiffMode mode = DiffMode::kLong64;
  std::vector<uint8_t> code;  // At most one page; the code page is read-only.
  DiffRegs regs;              // regs.rip is where the code page's bytes start.
  std::vector<DiffPage> pages;  // Data and stack pages (not the code page).
  // RFLAGS bits the SDM leaves undefined at the end of this case (e.g. AF after
  // AND, OF after a multi-bit shift); they are not compared.
  uint64_t undefined_flags = 0;
  // The same mask at the start of each instruction, indexed by code offset
  // (entries inside an instruction are meaningless): a fault stops the case
  // there, with the flags of that moment. Empty means undefined_flags.
  std::vector<uint64_t> undefined_flags_at;
  // GPRs (bit i = GPR i) whose final value the SDM leaves undefined (e.g. the
  // destination of BSF with a zero source on Intel), not compared.
  uint16_t undefined_gprs = 0;
  // Human-readable description of what the generator meant (template names).
  std::string note;

  // Address one past the last code byte: where a successful run stops.
  uint64_t code_end() const { return regs.rip + code.size(); }
  // The undefined-flags mask that applies when the case stops at `rip`.
  uint64_t UndefinedFlagsAt(uint64_t rip) const {
    const uint64_t offset = rip - regs.rip;
    if (rip < regs.rip || offset >= undefined_flags_at.size()) return undefined_flags;
    return undefined_flags_at[offset];
  }
};

// An exception raised by the code of a case.
struct DiffException {
  uint8_t vector = 0;
  bool has_error_code = false;
  uint32_t error_code = 0;
  uint64_t cr2 = 0;  // Faulting linear address for #PF (vector 14).
  bool operator==(const DiffException&) const = default;
};

// What a case left behind. On an exception the registers are those at the
// faulting instruction (RIP points at it, for faults: SDM Vol. 3 6.5).
struct DiffOutcome {
  DiffRegs regs;
  std::vector<DiffPage> pages;  // Same order and addresses as the case's pages.
  std::optional<DiffException> exception;
};

// Something that can run a DiffCase: KVM at ring 3, Unicorn, the interpreter.
class DiffEngine {
 public:
  virtual ~DiffEngine() = default;
  // Short name for reports ("kvm-ring3", "unicorn", "interp").
  virtual const char* name() const = 0;
  // True when this engine can run cases of `mode`.
  virtual bool Supports(DiffMode mode) const = 0;
  // The feature:: bits this engine implements; generators skip the rest.
  virtual uint32_t features() const { return feature::kAll; }
  // Runs one case. An Error means the engine itself failed (not the guest):
  // the guest's exceptions are part of a successful DiffOutcome.
  virtual Result<DiffOutcome> Run(const DiffCase& c) = 0;
};

// How strictly CompareOutcomes looks at exceptions.
struct CompareOptions {
  bool compare_error_code = true;  // #PF/#GP error codes.
  bool compare_cr2 = true;
  bool compare_mxcsr = true;
  uint32_t mxcsr_ignore = 0;  // MXCSR bits not compared (e.g. 0x3f: the sticky exception flags).
  // Treat two XMM lanes as equal when both hold a NaN (in the 32-bit or the
  // 64-bit view), whatever its payload and sign. Only for engines that pick
  // the wrong NaN (Unicorn); it also hides integer results that happen to
  // look like NaNs, so comparisons with the hardware leave it off.
  bool nan_lanes_equal = false;
};

// Compares two outcomes of `c`, ignoring what the case marks undefined. Returns
// one line per difference ("rax: 0x1 vs 0x2"); empty means they agree.
std::vector<std::string> CompareOutcomes(const DiffCase& c, const DiffOutcome& a,
                                         const DiffOutcome& b,
                                         const CompareOptions& options = {});

// Hex dump of the code bytes ("48 01 d8").
std::string HexBytes(const std::vector<uint8_t>& bytes);

// Prints the flags in `value` as "CF ZF ..." (only the dflags::kCompared bits).
std::string FlagNames(uint64_t value);

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_DIFF_CASE_H_
