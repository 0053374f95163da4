#include "cpu/cpuid.h"

#include <cstring>

#include "cpu/paging.h"

namespace x86vm {
namespace {

constexpr uint32_t kMaxBasicLeaf = 0xd;
constexpr uint32_t kMaxExtendedLeaf = 0x80000008;

uint32_t Bit(int n) { return 1u << n; }

// Packs 4 characters little-endian, as CPUID returns strings.
uint32_t Chars(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

CpuidResult Cpuid(const CpuFeatures& f, const CpuState& state, uint32_t leaf, uint32_t subleaf) {
  // Leaves above the maximum return the highest basic leaf's data on Intel
  // (SDM Vol. 2 "CPUID", note on invalid input).
  if (leaf > kMaxBasicLeaf && leaf < 0x80000000) leaf = kMaxBasicLeaf;
  if (leaf > kMaxExtendedLeaf) leaf = kMaxBasicLeaf;
  switch (leaf) {
    case 0:
      return {kMaxBasicLeaf, Chars("Genu"), Chars("ntel"), Chars("ineI")};
    case 1: {
      uint32_t ebx = (8u << 8)  // CLFLUSH line size: 8 x 8 bytes.
                     | (1u << 16)  // One logical processor per package.
                     | (uint32_t{f.apic_id} << 24);
      uint32_t ecx = Bit(13)    // CMPXCHG16B
                     | Bit(22)  // MOVBE
                     | Bit(23); // POPCNT
      if (f.fpu_sse) {
        // exec_sse_*.cc: SSE3, PCLMULQDQ, SSSE3, SSE4.1, SSE4.2, XSAVE; OSXSAVE
        // mirrors CR4 (SDM Vol. 2 CPUID, Table 3-10).
        ecx |= Bit(0) | Bit(1) | Bit(9) | Bit(19) | Bit(20) | Bit(26);
        if (state.cr4 & cr4::kOsxsave) ecx |= Bit(27);
      }
      if (f.x2apic) ecx |= Bit(21);
      if (f.tsc_deadline) ecx |= Bit(24);
      uint32_t edx = Bit(0)     // FPU (exec_x87.cc)
                     | Bit(3)   // PSE
                     | Bit(4)   // TSC
                     | Bit(5)   // MSR
                     | Bit(6)   // PAE
                     | Bit(7)   // MCE (CR4.MCE is accepted)
                     | Bit(8)   // CX8
                     | Bit(11)  // SEP
                     | Bit(12)  // MTRR
                     | Bit(13)  // PGE
                     | Bit(15)  // CMOV
                     | Bit(16)  // PAT
                     | Bit(17)  // PSE-36
                     | Bit(19); // CLFSH
      // APIC reflects IA32_APIC_BASE.EN; the platform owns that MSR, so the
      // feature flag follows the board.
      if (f.apic) edx |= Bit(9);
      if (f.fpu_sse) edx |= Bit(23) | Bit(24) | Bit(25) | Bit(26);  // MMX FXSR SSE SSE2
      return {kProcessorSignature, ebx, ecx, edx};
    }
    case 7:
      if (subleaf != 0) return {0, 0, 0, 0};
      return {0,
              Bit(0)       // FSGSBASE
                  | Bit(7)   // SMEP
                  | Bit(9)   // ERMS
                  | Bit(10)  // INVPCID
                  | Bit(20), // SMAP
              Bit(2),      // UMIP
              0};
    case 0xd:
      // XSAVE with the x87 and SSE components (exec_sse_state.cc): both live
      // in the 512-byte legacy region, so every size is 512 + the 64-byte
      // header; no XSAVEOPT/XSAVEC/XGETBV1/XSAVES (sub-leaf 1).
      if (!f.fpu_sse || subleaf != 0) return {0, 0, 0, 0};
      return {3, 576, 576, 0};
    case 0x80000000:
      return {kMaxExtendedLeaf, 0, 0, 0};
    case 0x80000001:
      return {0, 0,
              Bit(0)        // LAHF/SAHF in 64-bit mode
                  | Bit(5), // LZCNT (ABM)
              Bit(11)       // SYSCALL/SYSRET
                  | Bit(20)   // NX
                  | Bit(26)   // 1 GiB pages
                  | Bit(27)   // RDTSCP
                  | Bit(29)}; // Long mode
    case 0x80000002:
      return {Chars("x86v"), Chars("m Vi"), Chars("rtua"), Chars("l CP")};
    case 0x80000003:
      return {Chars("U   "), Chars("    "), Chars("    "), Chars("    ")};
    case 0x80000004:
      return {Chars("    "), Chars("    "), Chars("    "), 0x00202020};
    case 0x80000006:
      return {0, 0, 0x01006040, 0};  // 256 KiB L2, 64-byte lines.
    case 0x80000007:
      return {0, 0, 0, Bit(8)};  // Invariant TSC.
    case 0x80000008:
      return {static_cast<uint32_t>(kPhysAddrBits) | (static_cast<uint32_t>(kLinearAddrBits) << 8),
              0, 0, 0};
    default:
      return {0, 0, 0, 0};
  }
}

}  // namespace x86vm
