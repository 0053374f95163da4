#include "cpu/simd/insert_extract.h"

#include <cstdint>

namespace x86vm::simd {

uint8_t Pextrb(const Xmm& b, uint8_t imm) { return b.u8(imm & 15); }
uint16_t Pextrw(const Xmm& b, uint8_t imm) { return b.u16(imm & 7); }
uint16_t Pextrw(uint64_t b, uint8_t imm) {
  return MmxLane<uint16_t>(b, imm & 3);
}
uint32_t Pextrd(const Xmm& b, uint8_t imm) { return b.u32(imm & 3); }
uint64_t Pextrq(const Xmm& b, uint8_t imm) { return b.u64(imm & 1); }
uint32_t Extractps(const Xmm& b, uint8_t imm) { return b.u32(imm & 3); }

Xmm Pinsrb(const Xmm& a, uint8_t value, uint8_t imm) {
  Xmm r = a;
  r.set_u8(imm & 15, value);
  return r;
}

Xmm Pinsrw(const Xmm& a, uint16_t value, uint8_t imm) {
  Xmm r = a;
  r.set_u16(imm & 7, value);
  return r;
}

uint64_t Pinsrw(uint64_t a, uint16_t value, uint8_t imm) {
  const int shift = 16 * (imm & 3);
  return (a & ~(uint64_t{0xffff} << shift)) | (uint64_t{value} << shift);
}

Xmm Pinsrd(const Xmm& a, uint32_t value, uint8_t imm) {
  Xmm r = a;
  r.set_u32(imm & 3, value);
  return r;
}

Xmm Pinsrq(const Xmm& a, uint64_t value, uint8_t imm) {
  Xmm r = a;
  r.set_u64(imm & 1, value);
  return r;
}

Xmm Insertps(const Xmm& a, uint32_t value, uint8_t imm) {
  Xmm r = a;
  r.set_u32((imm >> 4) & 3, value);
  for (int i = 0; i < 4; ++i) {
    if (imm & (1 << i)) r.set_u32(i, 0);
  }
  return r;
}

}  // namespace x86vm::simd
