#include "cpu/simd/bit_count.h"

#include <array>
#include <bit>
#include <cstdint>

namespace x86vm::simd {
namespace {

// The operand_bits-wide low part of source (operand_bits is 16, 32 or 64).
uint64_t Truncate(uint64_t source, int operand_bits) {
  return operand_bits >= 64 ? source
                            : source & ((uint64_t{1} << operand_bits) - 1);
}

// Flags shared by LZCNT and TZCNT.
FlagUpdate CountFlags(uint64_t source, uint64_t count) {
  FlagUpdate f{.written = kFlagCf | kFlagZf};
  if (source == 0) f.values |= kFlagCf;
  if (count == 0) f.values |= kFlagZf;
  return f;
}

constexpr uint32_t kCrc32cPolynomial = 0x82F63B78;  // bit-reflected 0x1EDC6F41

// Byte-at-a-time table: entry n is the CRC of n shifted through 8 bit steps.
constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t crc = n;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) ? kCrc32cPolynomial : 0);
    }
    table[n] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// Feeds the low `bytes` bytes of data, least significant first.
uint32_t CrcBytes(uint32_t crc, uint64_t data, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    crc = (crc >> 8) ^
          kCrcTable[(crc ^ static_cast<uint32_t>(data >> (8 * i))) & 0xff];
  }
  return crc;
}

}  // namespace

CountResult Popcnt(uint64_t source, int operand_bits) {
  const uint64_t value = Truncate(source, operand_bits);
  FlagUpdate f{.written = kStatusFlags};
  if (value == 0) f.values |= kFlagZf;
  return {static_cast<uint64_t>(std::popcount(value)), f};
}

CountResult Lzcnt(uint64_t source, int operand_bits) {
  const uint64_t value = Truncate(source, operand_bits);
  // countl_zero counts from bit 63; the bits above the operand do not count.
  const uint64_t count = static_cast<uint64_t>(std::countl_zero(value)) -
                         static_cast<uint64_t>(64 - operand_bits);
  return {count, CountFlags(value, count)};
}

CountResult Tzcnt(uint64_t source, int operand_bits) {
  const uint64_t value = Truncate(source, operand_bits);
  const uint64_t count = value == 0
                             ? static_cast<uint64_t>(operand_bits)
                             : static_cast<uint64_t>(std::countr_zero(value));
  return {count, CountFlags(value, count)};
}

uint32_t Crc32Byte(uint32_t crc, uint8_t data) {
  return CrcBytes(crc, data, 1);
}
uint32_t Crc32Word(uint32_t crc, uint16_t data) {
  return CrcBytes(crc, data, 2);
}
uint32_t Crc32Dword(uint32_t crc, uint32_t data) {
  return CrcBytes(crc, data, 4);
}
uint32_t Crc32Qword(uint32_t crc, uint64_t data) {
  return CrcBytes(crc, data, 8);
}

}  // namespace x86vm::simd
