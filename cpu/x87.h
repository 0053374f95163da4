// The x87 FPU register stack and environment as the instruction handlers see
// them (SDM Vol. 1 chapter 8): TOP, tags, ST(i) access, the status-word
// exception logic with masked and unmasked responses, and the memory images
// of FSTENV/FSAVE (Vol. 1 8.1.10) and FXSAVE (Vol. 2 "FXSAVE"). Pure
// functions of X87State; exec_x87.cc and exec_x87_env.cc add the CPU around
// them.
#ifndef X86VM_CPU_X87_H_
#define X86VM_CPU_X87_H_

#include <cstdint>
#include <span>

#include "cpu/cpu_state.h"
#include "cpu/softfloat/float80.h"

namespace x86vm::x87 {

using softfloat::Float80;

// Status word bits (SDM Vol. 1 Figure 8-4).
namespace sw {
inline constexpr uint16_t kIe = 1u << 0;
inline constexpr uint16_t kDe = 1u << 1;
inline constexpr uint16_t kZe = 1u << 2;
inline constexpr uint16_t kOe = 1u << 3;
inline constexpr uint16_t kUe = 1u << 4;
inline constexpr uint16_t kPe = 1u << 5;
inline constexpr uint16_t kSf = 1u << 6;  // Stack fault (with IE).
inline constexpr uint16_t kEs = 1u << 7;  // Error summary.
inline constexpr uint16_t kC0 = 1u << 8;
inline constexpr uint16_t kC1 = 1u << 9;
inline constexpr uint16_t kC2 = 1u << 10;
inline constexpr int kTopShift = 11;
inline constexpr uint16_t kTop = 7u << 11;
inline constexpr uint16_t kC3 = 1u << 14;
inline constexpr uint16_t kB = 1u << 15;  // Busy: mirrors ES since the 387.
// The six exception flags.
inline constexpr uint16_t kExceptions = 0x3F;
// C3, C2, C1 and C0.
inline constexpr uint16_t kCc = kC0 | kC1 | kC2 | kC3;
}  // namespace sw

// FCW after FNINIT: all exceptions masked, 64-bit precision, round to nearest.
inline constexpr uint16_t kDefaultControlWord = 0x037F;
// FCW bits that exist: exception masks, bit 6 (reads as 1), PC, RC, and the
// infinity-control bit 12 (SDM Vol. 1 8.1.5).
inline constexpr uint16_t kControlWordBits = 0x1F3F;
// MXCSR bits this CPU implements (DAZ included); FXSAVE stores it as MXCSR_MASK.
inline constexpr uint32_t kMxcsrMask = 0x0000FFFF;

// A tag word entry (SDM Vol. 1 8.1.7).
enum class Tag : uint8_t { kValid = 0, kZero = 1, kSpecial = 2, kEmpty = 3 };

// The tag a register holding `v` gets: zero, valid (normal finite) or special
// (NaN, infinity, denormal, unsupported encodings).
Tag TagOf(Float80 v);
// Register bytes <-> Float80.
Float80 FromRegister(const X87Register& r);
X87Register ToRegister(Float80 v);

// Returns `fsw` with C3, C2, C1 and C0 replaced.
inline uint16_t SetConditionCodes(uint16_t fsw, bool c3, bool c2, bool c1, bool c0) {
  fsw &= static_cast<uint16_t>(~sw::kCc);
  if (c3) fsw |= sw::kC3;
  if (c2) fsw |= sw::kC2;
  if (c1) fsw |= sw::kC1;
  if (c0) fsw |= sw::kC0;
  return fsw;
}

// ES and B follow the exception flags that are unmasked: FLDCW, FLDENV,
// FRSTOR and FXRSTOR recompute them so a pending exception is reported at the
// next waiting instruction (SDM Vol. 1 8.1.3, 8.6; Vol. 2 FLDCW).
uint16_t SummarizedStatusWord(uint16_t fsw, uint16_t fcw);

// The physical register of ST(i): (TOP + i) mod 8 (SDM Vol. 1 8.1.2).
inline int PhysicalRegister(const X87State& s, int i) {
  return (((s.fsw & sw::kTop) >> sw::kTopShift) + i) & 7;
}

// A view of the register stack in an X87State. ST(i) is physical register
// (TOP + i) mod 8; negative i are the registers below the top (ST(-1) is the
// one a push fills).
class Stack {
 public:
  explicit Stack(X87State& s) : s_(s) {}

  int top() const { return (s_.fsw >> sw::kTopShift) & 7; }
  void SetTop(int top) {
    s_.fsw = static_cast<uint16_t>((s_.fsw & ~sw::kTop) | ((top & 7) << sw::kTopShift));
  }
  // The physical register of ST(i).
  int Physical(int i) const { return PhysicalRegister(s_, i); }
  Tag PhysicalTag(int p) const { return static_cast<Tag>((s_.ftw >> (2 * p)) & 3); }
  void SetPhysicalTag(int p, Tag t) {
    s_.ftw =
        static_cast<uint16_t>((s_.ftw & ~(3u << (2 * p))) | (static_cast<unsigned>(t) << (2 * p)));
  }
  bool IsEmpty(int i) const { return PhysicalTag(Physical(i)) == Tag::kEmpty; }
  Float80 St(int i) const { return FromRegister(s_.st[Physical(i)]); }
  // Writes ST(i) and its tag.
  void Write(int i, Float80 v) {
    int p = Physical(i);
    s_.st[p] = ToRegister(v);
    SetPhysicalTag(p, TagOf(v));
  }
  // Decrements TOP and writes the new ST(0).
  void Push(Float80 v) {
    SetTop(top() - 1);
    Write(0, v);
  }
  // Marks ST(0) empty and increments TOP.
  void Pop() {
    SetPhysicalTag(Physical(0), Tag::kEmpty);
    SetTop(top() + 1);
  }
  // FFREE: marks ST(i) empty.
  void Free(int i) { SetPhysicalTag(Physical(i), Tag::kEmpty); }

 private:
  X87State& s_;
};

// Makes every non-empty tag match its register's contents (what FSTENV and
// FSAVE store, and what FLDENV/FRSTOR/FXRSTOR derive: SDM Vol. 1 8.1.7).
void NormalizeTags(X87State& s);
// The abridged tag byte of FXSAVE: bit p set when physical register p is not
// empty (SDM Vol. 1 10.5.1.1).
uint8_t AbridgedTags(uint16_t ftw);

// FNINIT/FNSAVE reinitialisation (SDM Vol. 2 FINIT): FCW 037F, FSW 0, all
// tags empty, pointers and opcode cleared. Register contents are kept.
void Initialize(X87State& s);

// The layout of an FSTENV/FLDENV image (SDM Vol. 1 Figures 8-9 to 8-12):
// chosen by the operand size and by the mode (real and virtual-8086 mode
// store linear instruction and data pointers).
struct EnvFormat {
  bool bits32 = true;  // 28-byte image (else 14 bytes)
  bool protected_mode = true;
  // Bytes of the environment image.
  unsigned size() const { return bits32 ? 28 : 14; }
};
// Bytes of an FSAVE image: the environment and 8 registers of 10 bytes.
inline unsigned SaveImageSize(EnvFormat f) { return f.size() + 80; }

// Writes the environment image (f.size() bytes). The tags must be normalized.
void StoreEnvironment(const X87State& s, EnvFormat f, std::span<uint8_t> out);
// Loads an environment image; tags are normalized, ES/B recomputed.
void LoadEnvironment(X87State& s, EnvFormat f, std::span<const uint8_t> in);
// FSAVE image: environment then ST(0)..ST(7).
void StoreSaveImage(const X87State& s, EnvFormat f, std::span<uint8_t> out);
// FRSTOR image.
void LoadSaveImage(X87State& s, EnvFormat f, std::span<const uint8_t> in);

// Bytes of an FXSAVE image (the operand size and its alignment).
inline constexpr unsigned kFxsaveSize = 512;
// The bytes FXSAVE writes: the header, 8 register slots and `xmm_count` XMM
// registers; the rest of the 512 bytes is left alone (bytes 464-511 are
// software's, SDM Vol. 2 FXSAVE).
inline unsigned FxsaveStoredBytes(int xmm_count) { return 160 + 16 * xmm_count; }
// The FXSAVE image of the x87 part, MXCSR and `xmm_count` XMM registers into
// FxsaveStoredBytes(xmm_count) bytes of `out`. `rex_w` selects the 64-bit
// FIP/FDP layout (FXSAVE64). Reserved fields are written as zero.
void StoreFxsaveImage(const CpuState& s, bool rex_w, int xmm_count, std::span<uint8_t> out);
// FXRSTOR; the caller has checked MXCSR against kMxcsrMask.
void LoadFxsaveImage(CpuState& s, bool rex_w, int xmm_count, std::span<const uint8_t> in);

}  // namespace x86vm::x87

#endif  // X86VM_CPU_X87_H_
