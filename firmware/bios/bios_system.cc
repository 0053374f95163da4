// INT 15h system services: memory sizes (E820h, E801h, 88h), the A20 gate,
// waiting, block move and the configuration table (Ralf Brown's Interrupt
// List INT 15h; ACPI 6.5 chapter 15 for E820h).
#include <algorithm>
#include <array>

#include "firmware/bios/bios_bda.h"
#include "firmware/bios/bios_services.h"

namespace x86vm {
namespace {

constexpr uint8_t kUnsupported = 0x86;  // AH for an unsupported function (RBIL).
constexpr uint32_t kSmap = 0x534d4150;  // 'SMAP'.
constexpr uint16_t kPort92 = 0x92;
constexpr uint16_t kI8042Data = 0x60;
constexpr uint16_t kI8042Command = 0x64;
constexpr uint8_t kI8042WriteOutputPort = 0xd1;
// i8042 output port with the CPU reset line deasserted and A20 on/off
// (the rest as the controller leaves it after reset).
constexpr uint8_t kOutputPortA20On = 0xcf;
constexpr uint8_t kOutputPortA20Off = 0xcd;
// Waits longer than this halt until the next interrupt; shorter ones poll.
constexpr uint64_t kHaltWaitUs = 2000;

}  // namespace

uint64_t BiosServices::ExtendedMemoryEnd() const {
  // The end of the RAM that starts at 1 MiB (up to the ACPI tables or the
  // PCI hole), what the legacy size calls describe.
  for (const E820Entry& e : e820_) {
    if (e.type == E820Type::kRam && e.addr <= GuestMemory::kHighMemStart &&
        e.addr + e.size > GuestMemory::kHighMemStart) {
      return e.addr + e.size;
    }
  }
  return GuestMemory::kHighMemStart;
}

void BiosServices::E820(BiosRegs& r) {
  // EBX is the continuation value: the index of the next entry.
  if (r.edx != kSmap || r.ecx < 20 || r.ebx >= e820_.size()) {
    r.set_ah(kUnsupported);
    r.set_cf(true);
    return;
  }
  const E820Entry& e = e820_[r.ebx];
  std::array<uint8_t, 24> out{};
  for (int i = 0; i < 8; ++i) {
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(e.addr >> (8 * i));
    out[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(e.size >> (8 * i));
  }
  for (int i = 0; i < 4; ++i) {
    out[static_cast<size_t>(16 + i)] =
        static_cast<uint8_t>(static_cast<uint32_t>(e.type) >> (8 * i));
  }
  // ACPI 3.0 extended attributes: bit 0 "enabled" when the caller has room.
  uint32_t bytes = r.ecx >= 24 ? 24 : 20;
  out[20] = 1;
  if (!env_.memory->WritePhysical(Linear(r.es, r.di()),
                                  std::span<const uint8_t>(out.data(), bytes))) {
    r.set_ah(kUnsupported);
    r.set_cf(true);
    return;
  }
  r.eax = kSmap;
  r.ecx = bytes;
  r.ebx = r.ebx + 1 < e820_.size() ? r.ebx + 1 : 0;
  r.set_cf(false);
}

void BiosServices::BlockMove(BiosRegs& r) {
  // AH=87h: CX words from the descriptor at ES:SI+10h to the one at +18h
  // (a GDT the caller built; bases are 24 bits plus byte 7).
  uint64_t gdt = Linear(r.es, r.si());
  auto base = [this](uint64_t desc) {
    return Read16(desc + 2) | (uint32_t{Read8(desc + 4)} << 16) | (uint32_t{Read8(desc + 7)} << 24);
  };
  uint32_t source = base(gdt + 0x10);
  uint32_t dest = base(gdt + 0x18);
  std::vector<uint8_t> bytes(uint64_t{r.cx()} * 2);
  if (!env_.memory->ReadPhysical(source, bytes) || !env_.memory->WritePhysical(dest, bytes)) {
    r.set_ah(0x03);  // "Interrupt error" (RBIL: address fault).
    r.set_cf(true);
    return;
  }
  r.set_ah(0);
  r.set_cf(false);
  r.set_zf(true);
}

void BiosServices::Wait(BiosRegs& r) {
  // AH=86h: CX:DX microseconds. The deadline (virtual us, low 32 bits, bit 0
  // set so it is never 0) stays in the frame's scratch across the retries.
  uint32_t now_us = static_cast<uint32_t>(env_.clock->now_ns() / 1000);
  if (r.scratch == 0) {
    uint32_t wait_us = (uint32_t{r.cx()} << 16) | r.dx();
    r.scratch = (now_us + wait_us) | 1;
  }
  int32_t remaining = static_cast<int32_t>(r.scratch - now_us);
  if (remaining > 1) {
    r.action = static_cast<uint64_t>(remaining) > kHaltWaitUs ? bios_abi::kActionWait
                                                              : bios_abi::kActionRetry;
    return;
  }
  r.set_ah(0);
  r.set_cf(false);
}

void BiosServices::A20(BiosRegs& r) {
  Bus& pio = *env_.pio;
  auto set = [&](bool on) {
    // Both gates (PIIX: A20 = i8042 output port OR port 92h bit 1).
    uint8_t p92 = static_cast<uint8_t>(pio.ReadValue(kPort92, 1));
    pio.WriteValue(kPort92, 1, on ? (p92 | 0x02) & ~0x01 : p92 & ~0x03);
    pio.WriteValue(kI8042Command, 1, kI8042WriteOutputPort);
    pio.WriteValue(kI8042Data, 1, on ? kOutputPortA20On : kOutputPortA20Off);
  };
  switch (r.al()) {
    case 0x00:
      set(false);
      break;
    case 0x01:
      set(true);
      break;
    case 0x02:
      r.set_al(env_.memory->a20_enabled() ? 1 : 0);
      break;
    case 0x03:
      r.set_bx(0x0003);  // Keyboard controller and port 92h.
      break;
    default:
      return Unsupported(r, kUnsupported);
  }
  r.set_ah(0);
  r.set_cf(false);
}

void BiosServices::Int15System(BiosRegs& r) {
  switch (r.ah()) {
    case 0x24:
      return A20(r);
    case 0x4f:  // Keyboard intercept: let IRQ 1 process the scan code.
      r.set_cf(true);
      return;
    case 0x86:
      return Wait(r);
    case 0x87:
      return BlockMove(r);
    case 0x88: {  // KiB above 1 MiB, capped at 63 MiB as SeaBIOS does.
      uint64_t kb = (ExtendedMemoryEnd() - GuestMemory::kHighMemStart) / 1024;
      r.set_ax(static_cast<uint16_t>(std::min<uint64_t>(kb, 63 * 1024)));
      r.set_cf(false);
      return;
    }
    case 0x90:  // Device busy / interrupt complete: nothing to wait for.
    case 0x91:
      r.set_ah(0);
      r.set_cf(false);
      return;
    case 0xc0:  // System configuration table.
      r.es = static_cast<uint16_t>(bios_abi::kBiosSegment);
      r.set_bx(static_cast<uint16_t>(bios_abi::kSystemConfigOffset));
      r.set_ah(0);
      r.set_cf(false);
      return;
    case 0xc1:  // EBDA segment.
      r.es = Read16(bda::kEbdaSegment);
      r.set_cf(false);
      return;
    case 0xe8:
      if (r.al() == 0x01) {  // E801h: KiB 1-16 MiB (AX/CX), 64 KiB blocks above (BX/DX).
        uint64_t end = ExtendedMemoryEnd();
        constexpr uint64_t k16M = 16ull << 20;
        uint64_t low_kb = (std::min(end, k16M) - GuestMemory::kHighMemStart) / 1024;
        uint64_t high_blocks = end > k16M ? (end - k16M) >> 16 : 0;
        r.set_ax(static_cast<uint16_t>(low_kb));
        r.set_cx(static_cast<uint16_t>(low_kb));
        r.set_bx(static_cast<uint16_t>(std::min<uint64_t>(high_blocks, 0xffff)));
        r.set_dx(static_cast<uint16_t>(std::min<uint64_t>(high_blocks, 0xffff)));
        r.set_cf(false);
        return;
      }
      if (r.al() == 0x20) return E820(r);
      return Unsupported(r, kUnsupported);
    default:
      return Unsupported(r, kUnsupported);
  }
}

}  // namespace x86vm
