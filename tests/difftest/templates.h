// Internal to the case generator: the instruction-template table and the
// context its emitters write into. Each template emits its own setup moves
// (operand values, addresses) and then the instruction under test, and
// records which flags it writes, leaves undefined (SDM) and reads.
#ifndef X86VM_TESTS_DIFFTEST_TEMPLATES_H_
#define X86VM_TESTS_DIFFTEST_TEMPLATES_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

#include "tests/difftest/case_generator.h"
#include "tests/difftest/diff_case.h"
#include "tests/difftest/encoder.h"

namespace x86vm::difftest {

// Bits of Template::modes.
inline constexpr uint8_t kModeReal16 = 1;
inline constexpr uint8_t kModeProt32 = 2;
inline constexpr uint8_t kModeLong64 = 4;
inline constexpr uint8_t kModesAll = 7;
inline constexpr uint8_t kModesLegacy = kModeReal16 | kModeProt32;  // BCD, AAM...
// The mode bit of `mode`.
uint8_t ModeBit(DiffMode mode);

// Operand sizes (Template::sizes).
inline constexpr uint8_t kS8 = 1, kS16 = 2, kS32 = 4, kS64 = 8;
inline constexpr uint8_t kSv = kS16 | kS32 | kS64;
inline constexpr uint8_t kSall = kS8 | kSv;

// A memory operand chosen by GenCtx::PickMem, with its address-size prefix.
struct MemChoice {
  MemOperand mem;
  bool addr_prefix = false;  // Needs 67h.
  uint64_t address = 0;      // The linear address it resolves to.
};

// The case being built.
class GenCtx {
 public:
  GenCtx(std::mt19937_64& rng, const GenOptions& options, DiffCase& c);

  uint64_t Rand() { return rng_(); }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  DiffMode mode() const { return c_.mode; }
  bool is64() const { return c_.mode == DiffMode::kLong64; }
  const GenOptions& options() const { return options_; }
  DiffCase& c() { return c_; }
  int num_gprs() const { return is64() ? 16 : 8; }

  // Encodes one instruction at the current end of the code.
  void Emit(const InsnSpec& spec);
  // Appends raw bytes (fixed encodings: CLC, CBW...).
  void Raw(std::initializer_list<uint8_t> bytes);
  // Address of the next byte of code.
  uint64_t pc() const { return c_.regs.rip + c_.code.size(); }

  // A random GPR that is not RSP and not in `avoid` (bit mask).
  int PickGpr(uint16_t avoid = 0);
  // A random XMM register (0-15 in 64-bit mode, 0-7 otherwise).
  int PickXmm() { return static_cast<int>(Below(is64() ? 16 : 8)); }
  // A random operand size out of `sizes` that exists in this mode.
  int PickSize(uint8_t sizes);
  // Adds the 66h prefix / REX.W that select `size` (16, 32, 64) in this mode.
  void ApplySize(InsnSpec& spec, int size) const;
  // A value for a register or immediate: boundary values, small and random.
  uint64_t RandomValue();
  // Emits a flag-neutral MOV of `value` into the full register (64-bit mode:
  // all 64 bits; legacy modes: 32 bits).
  void MovImm(int reg, uint64_t value);
  // Picks a memory operand for `bytes` bytes inside the data pages (aligned
  // to `align` if non-zero), emitting the moves that set up its base and
  // index. Registers in `avoid` are neither used nor clobbered.
  MemChoice PickMem(int bytes, int align, uint16_t avoid);
  // Emits a flag-neutral MOV of an immediate into memory (C6/C7 /0) of
  // `size` bits; 64-bit stores sign-extend a 32-bit immediate.
  void StoreImm(const MemChoice& m, int size, uint64_t value);

  // Flag bookkeeping (SDM per instruction): `written` flags get a new value,
  // of which `undefined` are architecturally undefined.
  void WriteFlags(uint64_t written, uint64_t undefined);
  // Before an instruction that reads `read`: if any of them is currently
  // undefined, defines all six with a CMP first.
  void ReadFlags(uint64_t read);
  uint64_t undefined_flags() const { return undef_; }
  // Whether PickMem may choose a RIP-relative operand.
  void set_allow_rip_relative(bool allow) { allow_rip_relative_ = allow; }

 private:
  std::mt19937_64& rng_;
  const GenOptions& options_;
  DiffCase& c_;
  DiffLayout layout_;
  uint64_t undef_ = 0;
  bool allow_rip_relative_ = true;
};

// One instruction template.
struct Template {
  const char* name;
  uint8_t modes;
  uint32_t features;
  void (*emit)(GenCtx& g, const Template& t);
  std::array<uint8_t, 4> op{};  // Opcode bytes (meaning depends on the emitter).
  uint8_t nop = 0;              // Number of opcode bytes used.
  uint8_t pfx = 0;              // Mandatory prefix (66, F2, F3) or 0.
  uint8_t digit = 0;            // ModRM.reg /digit, or a small parameter.
  uint8_t sizes = kSall;
  uint64_t written = 0;         // Flags written.
  uint64_t undefined = 0;       // Of those, undefined (SDM).
  uint64_t read = 0;            // Flags read.
  uint8_t msize = 0;            // SSE: memory operand bytes.
  uint8_t align = 0;            // SSE: required memory alignment (0: none).
  bool imm8 = false;            // SSE: takes an imm8.
  uint8_t form = 0;             // Emitter-specific operand form.
};

// Every template, in a fixed order.
const std::vector<Template>& AllTemplates();

}  // namespace x86vm::difftest

#endif  // X86VM_TESTS_DIFFTEST_TEMPLATES_H_
