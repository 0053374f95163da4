// The contract between the guest half of the builtin BIOS (bios.asm: POST
// and one small stub per interrupt vector) and its host half (the C++
// services in this folder), in the style of bhyve's BIOS emulation: the
// guest side only saves registers and traps; the services run in the
// emulator.
//
// Trap protocol
//  1. An interrupt stub pushes one word: the vector in the low byte and
//     kKindInterrupt (or kKindPost from POST) in the high byte.
//  2. The common path pushes an action word and a scratch dword (zero),
//     then PUSHAD and DS, ES, FS, GS. The stack now holds the register frame laid out below
//     (kFrame* offsets from the frame's lowest byte), with the caller's IRET
//     frame (IP, CS, FLAGS) on top.
//  3. The stub writes the frame's linear address (SS * 16 + SP) with a
//     32-bit OUT to kTrapPort. The host reads the frame from guest RAM,
//     serves the call, writes the updated registers back (FLAGS in the IRET
//     frame: CF for errors, ZF for INT 16h), and stores an action in the
//     action word.
//  4. The stub acts on it: kActionReturn pops everything and IRETs;
//     kActionRetry traps again at once with the same frame (a service that
//     polls, e.g. the RTC's update cycle); kActionWait does STI; HLT; CLI and
//     traps again (INT 16h waiting for a key, INT 15h AH=86h); kActionHalt
//     stops the CPU with interrupts off (no bootable disk).
// The frame lives on the caller's stack, so nested traps (IRQ0 during an
// INT 16h wait) each have their own. The scratch dword belongs to the host
// across retries of one call (INT 15h AH=86h keeps its deadline there).
// Nothing else is kept on the host between traps: every BIOS variable is in
// the BDA/EBDA, so a snapshot of guest RAM is a snapshot of the BIOS.
//
// This header is also the assembler's: firmware/bios/BUILD turns every
// "inline constexpr" line below into a nasm %define (abi.inc), so the
// constants must stay plain numbers, one per line.
#ifndef X86VM_FIRMWARE_BIOS_BIOS_ABI_H_
#define X86VM_FIRMWARE_BIOS_BIOS_ABI_H_

#include <cstdint>

namespace x86vm::bios_abi {

// The I/O port the stubs trap through (4 bytes; a 32-bit OUT of the frame's
// linear address). Reading it returns kTrapSignature.
inline constexpr uint16_t kTrapPort = 0x4f0;
inline constexpr uint32_t kTrapSignature = 0x53494f42;

// Kinds (high byte of the vector word on entry).
inline constexpr uint8_t kKindInterrupt = 0;
inline constexpr uint8_t kKindPost = 1;

// Actions (the action word, set by the host).
inline constexpr uint8_t kActionReturn = 0;
inline constexpr uint8_t kActionRetry = 1;
inline constexpr uint8_t kActionWait = 2;
inline constexpr uint8_t kActionHalt = 3;

// Frame layout: byte offsets from the frame's linear address (the order
// PUSHAD and the segment pushes leave; SDM Vol. 2B "PUSHA/PUSHAD").
inline constexpr uint32_t kFrameGs = 0;
inline constexpr uint32_t kFrameFs = 2;
inline constexpr uint32_t kFrameEs = 4;
inline constexpr uint32_t kFrameDs = 6;
inline constexpr uint32_t kFrameEdi = 8;
inline constexpr uint32_t kFrameEsi = 12;
inline constexpr uint32_t kFrameEbp = 16;
inline constexpr uint32_t kFrameEsp = 20;
inline constexpr uint32_t kFrameEbx = 24;
inline constexpr uint32_t kFrameEdx = 28;
inline constexpr uint32_t kFrameEcx = 32;
inline constexpr uint32_t kFrameEax = 36;
inline constexpr uint32_t kFrameScratch = 40;
inline constexpr uint32_t kFrameAction = 44;
inline constexpr uint32_t kFrameVector = 46;
inline constexpr uint32_t kFrameKind = 47;
inline constexpr uint32_t kFrameIp = 48;
inline constexpr uint32_t kFrameCs = 50;
inline constexpr uint32_t kFrameFlags = 52;
inline constexpr uint32_t kFrameBytes = 54;

// Where POST puts things (real-mode physical addresses).
inline constexpr uint32_t kBdaBase = 0x400;
inline constexpr uint32_t kEbdaBase = 0x9fc00;
inline constexpr uint32_t kEbdaSegment = 0x9fc0;
inline constexpr uint32_t kBootSectorAddress = 0x7c00;
// POST's stack, and the stack a boot sector starts with (SS = 0).
inline constexpr uint32_t kPostStackTop = 0x7c00;
// The image is 64 KiB at F000:0000 (and below 4 GiB); the system
// configuration table (INT 15h AH=C0h) sits at its IBM-compatible offset.
inline constexpr uint32_t kBiosSegment = 0xf000;
inline constexpr uint32_t kBiosImageBytes = 0x10000;
inline constexpr uint32_t kSystemConfigOffset = 0xe6f5;
// The diskette parameter table (INT 1Eh points at it), also at its
// IBM-compatible offset.
inline constexpr uint32_t kDisketteParamsOffset = 0xefc7;

}  // namespace x86vm::bios_abi

#endif  // X86VM_FIRMWARE_BIOS_BIOS_ABI_H_
