// Debug registers (SDM Vol. 3 18.2-18.3): instruction breakpoints (faults),
// data and I/O breakpoints (traps after the access's instruction), and the
// DR7.GD general-detect fault. Single-step (TF) lives in the dispatch loop.
#include "cpu/cpu.h"

namespace x86vm {
namespace {

// DR7 fields of breakpoint n.
bool Enabled(uint64_t dr7, int n) { return (dr7 >> (2 * n)) & 3; }
unsigned RwBits(uint64_t dr7, int n) { return (dr7 >> (16 + 4 * n)) & 3; }
// The breakpoint length in bytes from LENn (00=1, 01=2, 11=4, 10=8).
unsigned LenBytes(uint64_t dr7, int n) {
  static constexpr unsigned kLen[4] = {1, 2, 8, 4};
  return kLen[(dr7 >> (18 + 4 * n)) & 3];
}

}  // namespace

void Cpu::UpdateDebugState() {
  exits_.stop = true;  // Breakpoints choose the dispatch loop (NeedsCarefulDispatch).
  code_bp_active_ = false;
  data_bp_active_ = false;
  io_bp_active_ = false;
  for (int n = 0; n < 4; ++n) {
    if (!Enabled(s.dr7, n)) continue;
    switch (RwBits(s.dr7, n)) {
      case 0: code_bp_active_ = true; break;
      case 2: if (s.cr4 & cr4::kDe) io_bp_active_ = true; break;
      default: data_bp_active_ = true; break;
    }
  }
}

uint32_t Cpu::MatchCodeBreakpoints(uint64_t linear) const {
  uint32_t hits = 0;
  for (int n = 0; n < 4; ++n) {
    if (Enabled(s.dr7, n) && RwBits(s.dr7, n) == 0 && s.dr[n] == linear) hits |= 1u << n;
  }
  return hits;
}

void Cpu::NoteDataAccess(uint64_t linear, unsigned size, bool write) {
  for (int n = 0; n < 4; ++n) {
    unsigned rw = RwBits(s.dr7, n);
    if (!Enabled(s.dr7, n) || rw == 0 || rw == 2) continue;
    if (rw == 1 && !write) continue;
    unsigned len = LenBytes(s.dr7, n);
    uint64_t start = s.dr[n] & ~static_cast<uint64_t>(len - 1);
    if (linear < start + len && start < linear + size) pending_db_ |= 1u << n;
  }
}

void Cpu::NoteIoAccess(uint16_t port, unsigned size) {
  for (int n = 0; n < 4; ++n) {
    if (!Enabled(s.dr7, n) || RwBits(s.dr7, n) != 2) continue;
    unsigned len = LenBytes(s.dr7, n);
    uint64_t start = s.dr[n] & 0xffff & ~static_cast<uint64_t>(len - 1);
    if (port < start + len && start < uint64_t{port} + size) pending_db_ |= 1u << n;
  }
}

Fault Cpu::CheckDebugRegisterAccess() {
  if (!(s.dr7 & (1u << 13))) return kOk;
  // General detect: a fault before the MOV DR, with DR6.BD (SDM Vol. 3 18.2.4).
  s.dr6 |= 1u << 13;
  s.dr7 &= ~(1ull << 13);
  return Raise(kDb);
}

}  // namespace x86vm
