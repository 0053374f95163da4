// The complete architectural state of one x86-64 logical processor, as one
// plain struct shared by the interpreter, the KVM engine, the GDB stub and
// snapshots (STYLE.md: "Get/SetState move one CpuState struct in and out").
// Nothing here is engine-private: lazy flags, TLBs and decoded-instruction
// caches stay inside the engines.
#ifndef X86VM_CPU_CPU_STATE_H_
#define X86VM_CPU_CPU_STATE_H_

#include <array>
#include <cstdint>

#include "base/serializer.h"

namespace x86vm {

// CPUID.1:EAX of the modelled GenuineIntel processor (family 6, model 0x5E
// "Skylake", stepping 3); also EDX after RESET (SDM Vol. 3 9.1.4).
inline constexpr uint32_t kProcessorSignature = 0x000506e3;

// General-purpose register numbers in ModRM/REX encoding order.
enum Gpr : int {
  kRax = 0, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi,
  kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15,
};

// Segment register numbers in the Sreg encoding order (SDM Vol. 2 3.1.1.3),
// followed by the two system segments.
enum SegReg : int { kEs = 0, kCs, kSs, kDs, kFs, kGs, kLdtr, kTr };
inline constexpr int kNumSegRegs = 8;

// RFLAGS bits (SDM Vol. 1 3.4.3).
namespace flags {
inline constexpr uint64_t kCf = 1u << 0;
inline constexpr uint64_t kFixed1 = 1u << 1;  // Reads as 1.
inline constexpr uint64_t kPf = 1u << 2;
inline constexpr uint64_t kAf = 1u << 4;
inline constexpr uint64_t kZf = 1u << 6;
inline constexpr uint64_t kSf = 1u << 7;
inline constexpr uint64_t kTf = 1u << 8;
inline constexpr uint64_t kIf = 1u << 9;
inline constexpr uint64_t kDf = 1u << 10;
inline constexpr uint64_t kOf = 1u << 11;
inline constexpr uint64_t kIopl = 3u << 12;
inline constexpr int kIoplShift = 12;
inline constexpr uint64_t kNt = 1u << 14;
inline constexpr uint64_t kRf = 1u << 16;
inline constexpr uint64_t kVm = 1u << 17;
inline constexpr uint64_t kAc = 1u << 18;
inline constexpr uint64_t kVif = 1u << 19;
inline constexpr uint64_t kVip = 1u << 20;
inline constexpr uint64_t kId = 1u << 21;
// The six arithmetic status flags.
inline constexpr uint64_t kStatus = kCf | kPf | kAf | kZf | kSf | kOf;
}  // namespace flags

// Control register bits (SDM Vol. 3 2.5).
namespace cr0 {
inline constexpr uint64_t kPe = 1u << 0;
inline constexpr uint64_t kMp = 1u << 1;
inline constexpr uint64_t kEm = 1u << 2;
inline constexpr uint64_t kTs = 1u << 3;
inline constexpr uint64_t kEt = 1u << 4;
inline constexpr uint64_t kNe = 1u << 5;
inline constexpr uint64_t kWp = 1u << 16;
inline constexpr uint64_t kAm = 1u << 18;
inline constexpr uint64_t kNw = 1u << 29;
inline constexpr uint64_t kCd = 1u << 30;
inline constexpr uint64_t kPg = 1u << 31;
}  // namespace cr0

namespace cr4 {
inline constexpr uint64_t kVme = 1u << 0;
inline constexpr uint64_t kPvi = 1u << 1;
inline constexpr uint64_t kTsd = 1u << 2;
inline constexpr uint64_t kDe = 1u << 3;
inline constexpr uint64_t kPse = 1u << 4;
inline constexpr uint64_t kPae = 1u << 5;
inline constexpr uint64_t kMce = 1u << 6;
inline constexpr uint64_t kPge = 1u << 7;
inline constexpr uint64_t kPce = 1u << 8;
inline constexpr uint64_t kOsfxsr = 1u << 9;
inline constexpr uint64_t kOsxmmexcpt = 1u << 10;
inline constexpr uint64_t kUmip = 1u << 11;
inline constexpr uint64_t kLa57 = 1u << 12;
inline constexpr uint64_t kFsgsbase = 1u << 16;
inline constexpr uint64_t kPcide = 1u << 17;
inline constexpr uint64_t kOsxsave = 1u << 18;
inline constexpr uint64_t kSmep = 1u << 20;
inline constexpr uint64_t kSmap = 1u << 21;
inline constexpr uint64_t kPke = 1u << 22;
}  // namespace cr4

namespace efer {
inline constexpr uint64_t kSce = 1u << 0;
inline constexpr uint64_t kLme = 1u << 8;
inline constexpr uint64_t kLma = 1u << 10;
inline constexpr uint64_t kNxe = 1u << 11;
}  // namespace efer

// Segment attributes in the VMX/KVM "access rights" layout (SDM Vol. 3
// 25.4.1, Table 25-2): bits 3:0 type, 4 S, 6:5 DPL, 7 P, 12 AVL, 13 L,
// 14 D/B, 15 G, 16 unusable.
namespace seg_attr {
inline constexpr uint32_t kTypeMask = 0xf;
inline constexpr uint32_t kAccessed = 1u << 0;     // Type bit 0.
inline constexpr uint32_t kWritable = 1u << 1;     // Data: writable; code: readable.
inline constexpr uint32_t kExpandDown = 1u << 2;   // Data; code: conforming.
inline constexpr uint32_t kCode = 1u << 3;         // Type bit 3 (S=1 only).
inline constexpr uint32_t kS = 1u << 4;            // Code/data (1) vs. system (0).
inline constexpr int kDplShift = 5;
inline constexpr uint32_t kDplMask = 3u << 5;
inline constexpr uint32_t kP = 1u << 7;
inline constexpr uint32_t kAvl = 1u << 12;
inline constexpr uint32_t kL = 1u << 13;
inline constexpr uint32_t kDb = 1u << 14;
inline constexpr uint32_t kG = 1u << 15;
inline constexpr uint32_t kUnusable = 1u << 16;
}  // namespace seg_attr

// One segment register: the visible selector and the hidden descriptor cache
// (SDM Vol. 3 3.4.3). `limit` is the expanded byte-granular limit.
struct Segment {
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0xffff;
  uint32_t attr = 0;  // seg_attr layout.

  uint32_t type() const { return attr & seg_attr::kTypeMask; }
  int dpl() const { return static_cast<int>((attr & seg_attr::kDplMask) >> seg_attr::kDplShift); }
  bool present() const { return (attr & seg_attr::kP) != 0; }
  bool unusable() const { return (attr & seg_attr::kUnusable) != 0; }
  bool db() const { return (attr & seg_attr::kDb) != 0; }
  bool l() const { return (attr & seg_attr::kL) != 0; }
  void Serialize(Serializer& s);
  bool operator==(const Segment&) const = default;
};

// GDTR or IDTR (SDM Vol. 3 2.4.1).
struct DescriptorTable {
  uint64_t base = 0;
  uint16_t limit = 0xffff;
  void Serialize(Serializer& s);
  bool operator==(const DescriptorTable&) const = default;
};

// One x87 data register in the 80-bit extended format, stored as 10
// little-endian bytes (64-bit significand, then sign and 15-bit exponent).
using X87Register = std::array<uint8_t, 10>;

// The x87 FPU environment and registers (SDM Vol. 1 8.1). `ftw` is the full
// 16-bit tag word (two bits per physical register), as FSTENV stores it.
struct X87State {
  uint16_t fcw = 0x037f;
  uint16_t fsw = 0;
  uint16_t ftw = 0xffff;  // All empty.
  uint16_t fop = 0;
  uint64_t fip = 0;
  uint16_t fcs = 0;
  uint64_t fdp = 0;
  uint16_t fds = 0;
  std::array<X87Register, 8> st{};  // Physical registers R0..R7.
  void Serialize(Serializer& s);
  bool operator==(const X87State&) const = default;
};

// One 128-bit XMM register as two little-endian quadwords.
struct Xmm {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const Xmm&) const = default;
};

// Model-specific registers that hold architectural state the guest may
// read back (SDM Vol. 4 2.1). MSRs owned by devices (local APIC) live there.
struct MsrState {
  uint64_t star = 0;            // 0xC0000081
  uint64_t lstar = 0;           // 0xC0000082
  uint64_t cstar = 0;           // 0xC0000083
  uint64_t sfmask = 0;          // 0xC0000084
  uint64_t kernel_gs_base = 0;  // 0xC0000102
  uint64_t sysenter_cs = 0;     // 0x174
  uint64_t sysenter_esp = 0;    // 0x175
  uint64_t sysenter_eip = 0;    // 0x176
  uint64_t tsc_offset = 0;      // TSC = virtual ns * tsc_per_ns + offset.
  uint64_t tsc_aux = 0;         // 0xC0000103
  uint64_t pat = 0x0007040600070406ull;  // 0x277, power-on value.
  uint64_t misc_enable = 1;     // 0x1A0: bit 0 fast strings.
  uint64_t feature_control = 0; // 0x3A
  uint64_t mtrr_cap = 0x508;    // 0xFE: read-only (WC, fixed, 8 variable).
  uint64_t mtrr_def_type = 0;   // 0x2FF
  std::array<uint64_t, 11> mtrr_fixed{};  // 0x250, 0x258, 0x259, 0x268-0x26F.
  std::array<uint64_t, 16> mtrr_var{};    // 0x200-0x20F (base/mask pairs).
  uint64_t spec_ctrl = 0;       // 0x48
  uint64_t tsc_adjust = 0;      // 0x3B
  uint64_t mcg_status = 0;      // 0x17A
  uint64_t ucode_rev = 0;       // 0x8B
  uint64_t xss = 0;             // 0xDA0
  void Serialize(Serializer& s);
  bool operator==(const MsrState&) const = default;
};

// An exception or interrupt that has been recognised but not yet delivered
// (the state KVM calls "vcpu events"; SDM Vol. 3 6.9).
struct PendingEvents {
  bool exception_pending = false;
  uint8_t exception_vector = 0;
  bool exception_has_error_code = false;
  uint32_t exception_error_code = 0;
  bool nmi_pending = false;
  bool nmi_blocked = false;  // Between NMI delivery and the next IRET.
  // STI / MOV SS / POP SS shadow: interrupts (and for MOV SS, #DB) are
  // inhibited until the next instruction retires (SDM Vol. 3 6.8.3).
  bool interrupt_shadow = false;
  void Serialize(Serializer& s);
  bool operator==(const PendingEvents&) const = default;
};

// Everything an engine needs to continue running this CPU elsewhere.
struct CpuState {
  std::array<uint64_t, 16> gpr{};
  uint64_t rip = 0xfff0;
  uint64_t rflags = flags::kFixed1;

  std::array<Segment, kNumSegRegs> seg{};  // Indexed by SegReg.
  DescriptorTable gdtr;
  DescriptorTable idtr;

  uint64_t cr0 = cr0::kEt | cr0::kNw | cr0::kCd;
  uint64_t cr2 = 0;
  uint64_t cr3 = 0;
  uint64_t cr4 = 0;
  uint64_t cr8 = 0;  // TPR[7:4] mirror; the local APIC owns the real TPR.
  uint64_t efer = 0;
  uint64_t xcr0 = 1;
  // PAE paging's PDPTE registers, loaded at MOV CR3 (SDM Vol. 3 4.4.1;
  // KVM's sregs2 pdptrs).
  std::array<uint64_t, 4> pdpte{};

  std::array<uint64_t, 4> dr{};  // DR0-DR3.
  uint64_t dr6 = 0xffff0ff0;
  uint64_t dr7 = 0x400;

  X87State x87;
  uint32_t mxcsr = 0x1f80;
  std::array<Xmm, 16> xmm{};
  std::array<Xmm, 16> ymm_hi{};  // Upper halves of YMM0-15; AVX is not implemented.

  MsrState msr;
  PendingEvents events;
  bool halted = false;

  // Resets to the power-on / RESET state (SDM Vol. 3 9.1.1, Table 9-1).
  void Reset();
  // Saves or loads every field.
  void Serialize(Serializer& s);
  bool operator==(const CpuState&) const = default;

  // Convenience views of the mode.
  bool protected_mode() const { return (cr0 & cr0::kPe) != 0; }
  bool long_mode_active() const { return (efer & efer::kLma) != 0; }
  bool v86_mode() const { return (rflags & flags::kVm) != 0; }
  // The current privilege level. SS.DPL always equals CPL in protected mode
  // (SDM Vol. 3 26.3.1.5; CS.DPL does not for conforming code), it is 3 in
  // virtual-8086 mode and 0 in real mode.
  int cpl() const {
    if (!protected_mode()) return 0;
    if (v86_mode()) return 3;
    return seg[kSs].dpl();
  }
};

}  // namespace x86vm

#endif  // X86VM_CPU_CPU_STATE_H_
