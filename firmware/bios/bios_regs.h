// The register frame of one BIOS trap (bios_abi.h), decoded into a struct
// the services read and change, with the 8/16-bit register views BIOS
// interfaces are written in (AH = function, AL, BX, ES:DI, ...).
#ifndef X86VM_FIRMWARE_BIOS_BIOS_REGS_H_
#define X86VM_FIRMWARE_BIOS_BIOS_REGS_H_

#include <cstdint>
#include <cstring>
#include <span>

#include "firmware/bios/bios_abi.h"

namespace x86vm {

// FLAGS bits the services set (SDM Vol. 1 3.4.3).
inline constexpr uint16_t kBiosFlagCf = 1 << 0;
inline constexpr uint16_t kBiosFlagZf = 1 << 6;
inline constexpr uint16_t kBiosFlagIf = 1 << 9;

struct BiosRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  uint32_t esi = 0, edi = 0, ebp = 0, esp = 0;
  uint16_t ds = 0, es = 0, fs = 0, gs = 0;
  // The caller's IRET frame: where it resumes and the FLAGS it gets back.
  uint16_t ip = 0, cs = 0, flags = 0;
  uint32_t scratch = 0;  // Host-owned across retries of one call.
  uint8_t vector = 0;
  uint8_t kind = bios_abi::kKindInterrupt;
  uint16_t action = bios_abi::kActionReturn;

  uint8_t al() const { return static_cast<uint8_t>(eax); }
  uint8_t ah() const { return static_cast<uint8_t>(eax >> 8); }
  uint16_t ax() const { return static_cast<uint16_t>(eax); }
  uint8_t bl() const { return static_cast<uint8_t>(ebx); }
  uint8_t bh() const { return static_cast<uint8_t>(ebx >> 8); }
  uint16_t bx() const { return static_cast<uint16_t>(ebx); }
  uint8_t cl() const { return static_cast<uint8_t>(ecx); }
  uint8_t ch() const { return static_cast<uint8_t>(ecx >> 8); }
  uint16_t cx() const { return static_cast<uint16_t>(ecx); }
  uint8_t dl() const { return static_cast<uint8_t>(edx); }
  uint8_t dh() const { return static_cast<uint8_t>(edx >> 8); }
  uint16_t dx() const { return static_cast<uint16_t>(edx); }
  uint16_t si() const { return static_cast<uint16_t>(esi); }
  uint16_t di() const { return static_cast<uint16_t>(edi); }

  void set_al(uint8_t v) { eax = (eax & ~0xffu) | v; }
  void set_ah(uint8_t v) { eax = (eax & ~0xff00u) | (uint32_t{v} << 8); }
  void set_ax(uint16_t v) { eax = (eax & ~0xffffu) | v; }
  void set_bl(uint8_t v) { ebx = (ebx & ~0xffu) | v; }
  void set_bh(uint8_t v) { ebx = (ebx & ~0xff00u) | (uint32_t{v} << 8); }
  void set_bx(uint16_t v) { ebx = (ebx & ~0xffffu) | v; }
  void set_cl(uint8_t v) { ecx = (ecx & ~0xffu) | v; }
  void set_ch(uint8_t v) { ecx = (ecx & ~0xff00u) | (uint32_t{v} << 8); }
  void set_cx(uint16_t v) { ecx = (ecx & ~0xffffu) | v; }
  void set_dl(uint8_t v) { edx = (edx & ~0xffu) | v; }
  void set_dh(uint8_t v) { edx = (edx & ~0xff00u) | (uint32_t{v} << 8); }
  void set_dx(uint16_t v) { edx = (edx & ~0xffffu) | v; }
  void set_di(uint16_t v) { edi = (edi & ~0xffffu) | v; }

  bool cf() const { return flags & kBiosFlagCf; }
  void set_cf(bool on) { flags = on ? (flags | kBiosFlagCf) : (flags & ~kBiosFlagCf); }
  bool zf() const { return flags & kBiosFlagZf; }
  void set_zf(bool on) { flags = on ? (flags | kBiosFlagZf) : (flags & ~kBiosFlagZf); }
};

// Reads a frame laid out as bios_abi.h describes.
inline BiosRegs DecodeBiosFrame(std::span<const uint8_t, bios_abi::kFrameBytes> f) {
  auto u16 = [&f](uint32_t off) {
    uint16_t v;
    std::memcpy(&v, f.data() + off, 2);
    return v;
  };
  auto u32 = [&f](uint32_t off) {
    uint32_t v;
    std::memcpy(&v, f.data() + off, 4);
    return v;
  };
  namespace abi = bios_abi;
  BiosRegs r;
  r.gs = u16(abi::kFrameGs);
  r.fs = u16(abi::kFrameFs);
  r.es = u16(abi::kFrameEs);
  r.ds = u16(abi::kFrameDs);
  r.edi = u32(abi::kFrameEdi);
  r.esi = u32(abi::kFrameEsi);
  r.ebp = u32(abi::kFrameEbp);
  r.esp = u32(abi::kFrameEsp);
  r.ebx = u32(abi::kFrameEbx);
  r.edx = u32(abi::kFrameEdx);
  r.ecx = u32(abi::kFrameEcx);
  r.eax = u32(abi::kFrameEax);
  r.scratch = u32(abi::kFrameScratch);
  r.action = u16(abi::kFrameAction);
  r.vector = f[abi::kFrameVector];
  r.kind = f[abi::kFrameKind];
  r.ip = u16(abi::kFrameIp);
  r.cs = u16(abi::kFrameCs);
  r.flags = u16(abi::kFrameFlags);
  return r;
}

// Writes `r` back in the frame layout.
inline void EncodeBiosFrame(const BiosRegs& r, std::span<uint8_t, bios_abi::kFrameBytes> f) {
  auto u16 = [&f](uint32_t off, uint16_t v) { std::memcpy(f.data() + off, &v, 2); };
  auto u32 = [&f](uint32_t off, uint32_t v) { std::memcpy(f.data() + off, &v, 4); };
  namespace abi = bios_abi;
  u16(abi::kFrameGs, r.gs);
  u16(abi::kFrameFs, r.fs);
  u16(abi::kFrameEs, r.es);
  u16(abi::kFrameDs, r.ds);
  u32(abi::kFrameEdi, r.edi);
  u32(abi::kFrameEsi, r.esi);
  u32(abi::kFrameEbp, r.ebp);
  u32(abi::kFrameEsp, r.esp);
  u32(abi::kFrameEbx, r.ebx);
  u32(abi::kFrameEdx, r.edx);
  u32(abi::kFrameEcx, r.ecx);
  u32(abi::kFrameEax, r.eax);
  u32(abi::kFrameScratch, r.scratch);
  u16(abi::kFrameAction, r.action);
  f[abi::kFrameVector] = r.vector;
  f[abi::kFrameKind] = r.kind;
  u16(abi::kFrameIp, r.ip);
  u16(abi::kFrameCs, r.cs);
  u16(abi::kFrameFlags, r.flags);
}

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_BIOS_BIOS_REGS_H_
