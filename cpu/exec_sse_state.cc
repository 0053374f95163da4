// XSAVE, XRSTOR, XGETBV, XSETBV (SDM Vol. 1 chapter 13; Vol. 2 instruction
// pages) for the two state components this CPU has: x87 (XCR0 bit 0) and
// SSE (bit 1), standard (non-compacted) form only. The legacy region is the
// FXSAVE image of x87.cc; FXSAVE/FXRSTOR/LDMXCSR/STMXCSR are in
// exec_x87_env.cc.
#include <array>
#include <cstring>

#include "cpu/exec_sse.h"

namespace x86vm {
namespace {

// XCR0 components (SDM Vol. 1 13.1).
constexpr uint64_t kXcr0X87 = 1u << 0;
constexpr uint64_t kXcr0Sse = 1u << 1;
constexpr uint64_t kXcr0Supported = kXcr0X87 | kXcr0Sse;

// Legacy-region ranges of each component (SDM Vol. 1 Table 13-1): x87 is
// bytes 0-23 and 32-159; SSE is MXCSR/MXCSR_MASK (24-31) and the XMM
// registers from 160.
constexpr unsigned kMxcsrOffset = 24;
constexpr unsigned kStOffset = 32;
constexpr unsigned kXmmOffset = 160;
// The XSAVE header follows the legacy region (SDM Vol. 1 13.4.2).
constexpr unsigned kHeaderOffset = 512;
// The image size for XCR0 = x87|SSE: CPUID.(EAX=0DH,ECX=0):EBX/ECX.
constexpr unsigned kXsaveBytes = 576;

using Image = std::array<uint8_t, kXsaveBytes>;

uint64_t Get64(const Image& img, unsigned off) {
  uint64_t v;
  std::memcpy(&v, img.data() + off, 8);
  return v;
}

// XMM8-15 exist only in 64-bit mode.
int XmmCount(const Cpu& c) { return c.is64() ? 16 : 8; }

// The requested-feature bitmap: XCR0 & EDX:EAX.
uint64_t Rfbm(const Cpu& c) {
  return c.s.xcr0 & ((c.s.gpr[kRdx] << 32) | (c.s.gpr[kRax] & 0xffffffffull));
}

// XSAVE and XRSTOR: #UD without CR4.OSXSAVE, #NM with CR0.TS, #GP(0) unless
// the area is 64-byte aligned (SDM Vol. 2 XSAVE "Protected Mode Exceptions").
Fault CheckXsaveArea(const Cpu& c, const Insn& i) {
  if (!(c.s.cr4 & cr4::kOsxsave)) return Raise(kUd);
  if (c.s.cr0 & cr0::kTs) return Raise(kNm);
  return (sse::LinearOf(c, i) & 63) ? Raise(kGp, 0) : kOk;
}

}  // namespace

// XSAVE: each component in RFBM goes to its place in the legacy region
// (MXCSR with SSE), and XSTATE_BV[i] is set for it (this CPU keeps no init
// tracking); the rest of the area, the rest of the header included, is left
// alone (SDM Vol. 1 13.7).
Fault XsaveM(Cpu& c, const Insn& i) {
  X86_TRY(CheckXsaveArea(c, i));
  uint64_t rfbm = Rfbm(c);
  Image img;
  X86_TRY(c.ReadBytes(i.seg, c.Ea(i), img.data(), kXsaveBytes));
  std::array<uint8_t, x87::kFxsaveSize> fx{};
  x87::StoreFxsaveImage(c.s, i.has(insn_flags::kRexW), XmmCount(c), fx);
  if (rfbm & kXcr0X87) {
    std::memcpy(img.data(), fx.data(), kMxcsrOffset);
    std::memcpy(img.data() + kStOffset, fx.data() + kStOffset, kXmmOffset - kStOffset);
  }
  if (rfbm & kXcr0Sse) {
    std::memcpy(img.data() + kMxcsrOffset, fx.data() + kMxcsrOffset, kStOffset - kMxcsrOffset);
    std::memcpy(img.data() + kXmmOffset, fx.data() + kXmmOffset, 16 * XmmCount(c));
  }
  uint64_t bv = Get64(img, kHeaderOffset) | rfbm;
  std::memcpy(img.data() + kHeaderOffset, &bv, 8);
  return c.WriteBytes(i.seg, c.Ea(i), img.data(), kXsaveBytes);
}

// XRSTOR: #GP(0) for a compacted or non-zero XCOMP_BV/reserved header, an
// XSTATE_BV bit outside XCR0, or reserved MXCSR bits. Each component in RFBM
// is loaded when its XSTATE_BV bit is set and put in its initial state
// otherwise; MXCSR is loaded with SSE either way (SDM Vol. 1 13.8).
Fault XrstorM(Cpu& c, const Insn& i) {
  X86_TRY(CheckXsaveArea(c, i));
  uint64_t rfbm = Rfbm(c);
  Image img;
  X86_TRY(c.ReadBytes(i.seg, c.Ea(i), img.data(), kXsaveBytes));
  uint64_t bv = Get64(img, kHeaderOffset);
  if (Get64(img, kHeaderOffset + 8) != 0 || Get64(img, kHeaderOffset + 16) != 0 ||
      (bv & ~c.s.xcr0)) {
    return Raise(kGp, 0);
  }
  uint32_t mxcsr;
  std::memcpy(&mxcsr, img.data() + kMxcsrOffset, 4);
  if ((rfbm & kXcr0Sse) && (mxcsr & ~x87::kMxcsrMask)) return Raise(kGp, 0);
  // Load everything into a copy, then take the components asked for.
  CpuState loaded = c.s;
  x87::LoadFxsaveImage(loaded, i.has(insn_flags::kRexW), XmmCount(c),
                       std::span<const uint8_t>(img.data(), x87::kFxsaveSize));
  if (rfbm & kXcr0X87) {
    if (bv & kXcr0X87) {
      c.s.x87 = loaded.x87;
    } else {
      x87::Initialize(c.s.x87);
      for (X87Register& r : c.s.x87.st) r = X87Register{};
    }
  }
  if (rfbm & kXcr0Sse) {
    c.s.mxcsr = mxcsr;
    for (int r = 0; r < XmmCount(c); ++r) c.s.xmm[r] = (bv & kXcr0Sse) ? loaded.xmm[r] : Xmm{};
  }
  return kOk;
}

// XGETBV: XCR0 in EDX:EAX; any other XCR (XINUSE included, which CPUID does
// not offer) is #GP(0).
Fault Xgetbv(Cpu& c, const Insn&) {
  if (!(c.s.cr4 & cr4::kOsxsave)) return Raise(kUd);
  if (static_cast<uint32_t>(c.s.gpr[kRcx]) != 0) return Raise(kGp, 0);
  c.s.gpr[kRax] = c.s.xcr0 & 0xffffffffull;
  c.s.gpr[kRdx] = c.s.xcr0 >> 32;
  return kOk;
}

// XSETBV: CPL 0, XCR0 only, the x87 bit set, no unsupported bits (SDM Vol. 2
// XSETBV).
Fault Xsetbv(Cpu& c, const Insn&) {
  if (!(c.s.cr4 & cr4::kOsxsave)) return Raise(kUd);
  if (c.s.cpl() != 0) return Raise(kGp, 0);
  if (static_cast<uint32_t>(c.s.gpr[kRcx]) != 0) return Raise(kGp, 0);
  uint64_t v = (c.s.gpr[kRdx] << 32) | (c.s.gpr[kRax] & 0xffffffffull);
  if (!(v & kXcr0X87) || (v & ~kXcr0Supported)) return Raise(kGp, 0);
  c.s.xcr0 = v;
  return kOk;
}

}  // namespace x86vm
