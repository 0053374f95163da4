// The BIOS Data Area (segment 40h) fields the services keep their state
// in, as physical addresses (IBM PC/AT Technical Reference; Ralf Brown's
// Interrupt List, MEMORY.LST "Format of BIOS Data Segment at segment 40h").
#ifndef X86VM_FIRMWARE_BIOS_BIOS_BDA_H_
#define X86VM_FIRMWARE_BIOS_BIOS_BDA_H_

#include <cstdint>

#include "firmware/bios/bios_abi.h"

namespace x86vm::bda {

inline constexpr uint64_t kComPorts = bios_abi::kBdaBase + 0x00;      // 4 words.
inline constexpr uint64_t kEbdaSegment = bios_abi::kBdaBase + 0x0e;   // Word.
inline constexpr uint64_t kEquipment = bios_abi::kBdaBase + 0x10;     // Word.
inline constexpr uint64_t kMemorySizeKb = bios_abi::kBdaBase + 0x13;  // Word.
inline constexpr uint64_t kKbdFlags0 = bios_abi::kBdaBase + 0x17;     // Shift states.
inline constexpr uint64_t kKbdFlags1 = bios_abi::kBdaBase + 0x18;     // Keys held.
inline constexpr uint64_t kKbdHead = bios_abi::kBdaBase + 0x1a;       // Word offset in 40h.
inline constexpr uint64_t kKbdTail = bios_abi::kBdaBase + 0x1c;       // Word offset in 40h.
inline constexpr uint16_t kKbdBufferDefault = 0x1e;                   // 16 words.
inline constexpr uint16_t kKbdBufferEndDefault = 0x3e;
inline constexpr uint64_t kVideoMode = bios_abi::kBdaBase + 0x49;
inline constexpr uint64_t kVideoColumns = bios_abi::kBdaBase + 0x4a;    // Word.
inline constexpr uint64_t kVideoPageBytes = bios_abi::kBdaBase + 0x4c;  // Word.
inline constexpr uint64_t kVideoPageStart = bios_abi::kBdaBase + 0x4e;  // Word.
inline constexpr uint64_t kCursorPos = bios_abi::kBdaBase + 0x50;       // 8 words: col, row.
inline constexpr uint64_t kCursorShape = bios_abi::kBdaBase + 0x60;     // Word.
inline constexpr uint64_t kVideoPage = bios_abi::kBdaBase + 0x62;
inline constexpr uint64_t kCrtcPort = bios_abi::kBdaBase + 0x63;  // Word.
inline constexpr uint64_t kTicks = bios_abi::kBdaBase + 0x6c;     // Dword.
inline constexpr uint64_t kMidnight = bios_abi::kBdaBase + 0x70;
inline constexpr uint64_t kDiskStatus = bios_abi::kBdaBase + 0x74;
inline constexpr uint64_t kHardDiskCount = bios_abi::kBdaBase + 0x75;
inline constexpr uint64_t kKbdBufferStart = bios_abi::kBdaBase + 0x80;  // Word offset.
inline constexpr uint64_t kKbdBufferEnd = bios_abi::kBdaBase + 0x82;    // Word offset.
inline constexpr uint64_t kVideoRowsMinus1 = bios_abi::kBdaBase + 0x84;
inline constexpr uint64_t kCharHeight = bios_abi::kBdaBase + 0x85;  // Word.
inline constexpr uint64_t kVideoFlags = bios_abi::kBdaBase + 0x89;
inline constexpr uint64_t kKbdFlags3 = bios_abi::kBdaBase + 0x96;  // E0 prefix seen (bit 1).
inline constexpr uint64_t kKbdLeds = bios_abi::kBdaBase + 0x97;

// Keyboard flag bits at kKbdFlags0 (shift states).
inline constexpr uint8_t kRightShift = 0x01;
inline constexpr uint8_t kLeftShift = 0x02;
inline constexpr uint8_t kCtrl = 0x04;
inline constexpr uint8_t kAlt = 0x08;
inline constexpr uint8_t kScrollLock = 0x10;
inline constexpr uint8_t kNumLock = 0x20;
inline constexpr uint8_t kCapsLock = 0x40;
inline constexpr uint8_t kInsert = 0x80;
// kKbdFlags3 bit: the last byte was the E0 prefix.
inline constexpr uint8_t kLastE0 = 0x02;
// kKbdFlags3 bit: a 101/102-key keyboard is installed.
inline constexpr uint8_t kEnhanced = 0x10;

// IRQ 0 ticks in a day: 1193182 Hz / 65536 * 86400 s (the IBM BIOS value).
inline constexpr uint32_t kTicksPerDay = 0x1800b0;
// The text buffer of colour modes.
inline constexpr uint64_t kVgaText = 0xb8000;

}  // namespace x86vm::bda

#endif  // X86VM_FIRMWARE_BIOS_BIOS_BDA_H_
