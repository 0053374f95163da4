#include "cpu/x87.h"

#include <cstring>

namespace x86vm::x87 {
namespace {

void Put16(std::span<uint8_t> out, unsigned at, uint16_t v) { std::memcpy(&out[at], &v, 2); }
void Put32(std::span<uint8_t> out, unsigned at, uint32_t v) { std::memcpy(&out[at], &v, 4); }
void Put64(std::span<uint8_t> out, unsigned at, uint64_t v) { std::memcpy(&out[at], &v, 8); }
uint16_t Get16(std::span<const uint8_t> in, unsigned at) {
  uint16_t v;
  std::memcpy(&v, &in[at], 2);
  return v;
}
uint32_t Get32(std::span<const uint8_t> in, unsigned at) {
  uint32_t v;
  std::memcpy(&v, &in[at], 4);
  return v;
}
uint64_t Get64(std::span<const uint8_t> in, unsigned at) {
  uint64_t v;
  std::memcpy(&v, &in[at], 8);
  return v;
}

// FLDCW/FLDENV/FRSTOR/FXRSTOR keep only the bits that exist; bit 6 reads as 1.
uint16_t CleanControlWord(uint16_t fcw) {
  return static_cast<uint16_t>((fcw & kControlWordBits) | 0x40);
}

}  // namespace

Tag TagOf(Float80 v) {
  uint16_t exp = v.biased_exponent();
  if (exp == 0 && v.significand == 0) return Tag::kZero;
  if (exp != 0 && exp != 0x7FFF && (v.significand >> 63) != 0) return Tag::kValid;
  return Tag::kSpecial;
}

Float80 FromRegister(const X87Register& r) {
  Float80 v;
  std::memcpy(&v.significand, &r[0], 8);
  std::memcpy(&v.sign_exponent, &r[8], 2);
  return v;
}

X87Register ToRegister(Float80 v) {
  X87Register r;
  std::memcpy(&r[0], &v.significand, 8);
  std::memcpy(&r[8], &v.sign_exponent, 2);
  return r;
}

uint16_t SummarizedStatusWord(uint16_t fsw, uint16_t fcw) {
  if (fsw & ~fcw & sw::kExceptions) return fsw | sw::kEs | sw::kB;
  return static_cast<uint16_t>(fsw & ~(sw::kEs | sw::kB));
}

void NormalizeTags(X87State& s) {
  Stack st(s);
  for (int p = 0; p < 8; ++p) {
    if (st.PhysicalTag(p) != Tag::kEmpty) st.SetPhysicalTag(p, TagOf(FromRegister(s.st[p])));
  }
}

uint8_t AbridgedTags(uint16_t ftw) {
  uint8_t out = 0;
  for (int p = 0; p < 8; ++p) {
    if (((ftw >> (2 * p)) & 3) != 3) out |= static_cast<uint8_t>(1u << p);
  }
  return out;
}

void Initialize(X87State& s) {
  s.fcw = kDefaultControlWord;
  s.fsw = 0;
  s.ftw = 0xFFFF;
  s.fop = 0;
  s.fip = 0;
  s.fcs = 0;
  s.fdp = 0;
  s.fds = 0;
}

void StoreEnvironment(const X87State& s, EnvFormat f, std::span<uint8_t> out) {
  // Real and virtual-8086 mode store 20-bit (32-bit format: 32-bit) linear
  // pointers split around the opcode (SDM Vol. 1 Figures 8-10 and 8-12).
  uint32_t ip = static_cast<uint32_t>(s.fip), dp = static_cast<uint32_t>(s.fdp);
  if (!f.protected_mode) {
    ip = (uint32_t{s.fcs} << 4) + ip;
    dp = (uint32_t{s.fds} << 4) + dp;
  }
  uint16_t fop = s.fop & 0x7FF;
  if (f.bits32) {
    // Reserved upper halves are stored as ones.
    Put32(out, 0, 0xFFFF0000u | s.fcw);
    Put32(out, 4, 0xFFFF0000u | s.fsw);
    Put32(out, 8, 0xFFFF0000u | s.ftw);
    if (f.protected_mode) {
      Put32(out, 12, ip);
      Put32(out, 16, s.fcs | (uint32_t{fop} << 16));
      Put32(out, 20, dp);
      Put32(out, 24, 0xFFFF0000u | s.fds);
    } else {
      Put32(out, 12, 0xFFFF0000u | (ip & 0xFFFF));
      Put32(out, 16, ((ip & 0xFFFF0000u) >> 4) | fop);
      Put32(out, 20, 0xFFFF0000u | (dp & 0xFFFF));
      Put32(out, 24, (dp & 0xFFFF0000u) >> 4);
    }
  } else {
    Put16(out, 0, s.fcw);
    Put16(out, 2, s.fsw);
    Put16(out, 4, s.ftw);
    if (f.protected_mode) {
      Put16(out, 6, static_cast<uint16_t>(ip));
      Put16(out, 8, s.fcs);
      Put16(out, 10, static_cast<uint16_t>(dp));
      Put16(out, 12, s.fds);
    } else {
      Put16(out, 6, static_cast<uint16_t>(ip));
      Put16(out, 8, static_cast<uint16_t>(((ip & 0xF0000) >> 4) | fop));
      Put16(out, 10, static_cast<uint16_t>(dp));
      Put16(out, 12, static_cast<uint16_t>((dp & 0xF0000) >> 4));
    }
  }
}

void LoadEnvironment(X87State& s, EnvFormat f, std::span<const uint8_t> in) {
  if (f.bits32) {
    s.fcw = Get16(in, 0);
    s.fsw = Get16(in, 4);
    s.ftw = Get16(in, 8);
    uint32_t w12 = Get32(in, 12), w16 = Get32(in, 16), w20 = Get32(in, 20), w24 = Get32(in, 24);
    if (f.protected_mode) {
      s.fip = w12;
      s.fcs = static_cast<uint16_t>(w16);
      s.fop = (w16 >> 16) & 0x7FF;
      s.fdp = w20;
      s.fds = static_cast<uint16_t>(w24);
    } else {
      s.fip = ((w16 & 0x0FFFF000u) << 4) | (w12 & 0xFFFF);
      s.fop = w16 & 0x7FF;
      s.fdp = ((w24 & 0x0FFFF000u) << 4) | (w20 & 0xFFFF);
      s.fcs = 0;
      s.fds = 0;
    }
  } else {
    s.fcw = Get16(in, 0);
    s.fsw = Get16(in, 2);
    s.ftw = Get16(in, 4);
    uint16_t w6 = Get16(in, 6), w8 = Get16(in, 8), w10 = Get16(in, 10), w12 = Get16(in, 12);
    if (f.protected_mode) {
      s.fip = w6;
      s.fcs = w8;
      s.fdp = w10;
      s.fds = w12;
      s.fop = 0;  // The 16-bit protected-mode image has no opcode field.
    } else {
      s.fip = (uint32_t{w8 & 0xF000u} << 4) | w6;
      s.fop = w8 & 0x7FF;
      s.fdp = (uint32_t{w12 & 0xF000u} << 4) | w10;
      s.fcs = 0;
      s.fds = 0;
    }
  }
  s.fcw = CleanControlWord(s.fcw);
  s.fsw = SummarizedStatusWord(s.fsw, s.fcw);
  NormalizeTags(s);
}

void StoreSaveImage(const X87State& s, EnvFormat f, std::span<uint8_t> out) {
  StoreEnvironment(s, f, out);
  for (int i = 0; i < 8; ++i) {
    std::memcpy(&out[f.size() + 10 * i], s.st[PhysicalRegister(s, i)].data(), 10);
  }
}

void LoadSaveImage(X87State& s, EnvFormat f, std::span<const uint8_t> in) {
  LoadEnvironment(s, f, in);
  Stack st(s);
  for (int i = 0; i < 8; ++i) std::memcpy(s.st[st.Physical(i)].data(), &in[f.size() + 10 * i], 10);
  NormalizeTags(s);
}

void StoreFxsaveImage(const CpuState& cs, bool rex_w, int xmm_count, std::span<uint8_t> out) {
  const X87State& s = cs.x87;
  std::memset(out.data(), 0, FxsaveStoredBytes(xmm_count));
  Put16(out, 0, s.fcw);
  Put16(out, 2, s.fsw);
  out[4] = AbridgedTags(s.ftw);
  Put16(out, 6, s.fop & 0x7FF);
  if (rex_w) {
    Put64(out, 8, s.fip);
    Put64(out, 16, s.fdp);
  } else {
    Put32(out, 8, static_cast<uint32_t>(s.fip));
    Put16(out, 12, s.fcs);
    Put32(out, 16, static_cast<uint32_t>(s.fdp));
    Put16(out, 20, s.fds);
  }
  Put32(out, 24, cs.mxcsr);
  Put32(out, 28, kMxcsrMask);
  for (int i = 0; i < 8; ++i) {
    std::memcpy(&out[32 + 16 * i], s.st[PhysicalRegister(s, i)].data(), 10);
  }
  for (int i = 0; i < xmm_count; ++i) {
    Put64(out, 160 + 16 * i, cs.xmm[i].lo);
    Put64(out, 168 + 16 * i, cs.xmm[i].hi);
  }
}

void LoadFxsaveImage(CpuState& cs, bool rex_w, int xmm_count, std::span<const uint8_t> in) {
  X87State& s = cs.x87;
  s.fcw = CleanControlWord(Get16(in, 0));
  s.fsw = Get16(in, 2);
  s.fop = Get16(in, 6) & 0x7FF;
  if (rex_w) {
    s.fip = Get64(in, 8);
    s.fdp = Get64(in, 16);
  } else {
    s.fip = Get32(in, 8);
    s.fcs = Get16(in, 12);
    s.fdp = Get32(in, 16);
    s.fds = Get16(in, 20);
  }
  cs.mxcsr = Get32(in, 24);
  Stack st(s);
  for (int i = 0; i < 8; ++i) std::memcpy(s.st[st.Physical(i)].data(), &in[32 + 16 * i], 10);
  // The abridged tags say only empty or not; the rest follows the contents
  // (SDM Vol. 2 FXRSTOR).
  uint8_t abridged = in[4];
  s.ftw = 0;
  for (int p = 0; p < 8; ++p) {
    st.SetPhysicalTag(p, (abridged >> p) & 1 ? TagOf(FromRegister(s.st[p])) : Tag::kEmpty);
  }
  s.fsw = SummarizedStatusWord(s.fsw, s.fcw);
  for (int i = 0; i < xmm_count; ++i) {
    cs.xmm[i].lo = Get64(in, 160 + 16 * i);
    cs.xmm[i].hi = Get64(in, 168 + 16 * i);
  }
}

}  // namespace x86vm::x87
