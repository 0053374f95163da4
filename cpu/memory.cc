// Memory access for the interpreter: segmentation checks (SDM Vol. 3 5.3),
// the TLB with host-pointer fast path in front of the page walker, physical
// RAM/MMIO access, code-page write tracking, and the stack.
#include <algorithm>
#include <bit>

#include "cpu/cpu.h"
#include "devices/bus.h"
#include "machine/guest_memory.h"

namespace x86vm {

static_assert(std::endian::native == std::endian::little,
              "guest memory is accessed with host loads; a big-endian host needs byte swaps");

namespace {

// memcpy for the operand sizes instructions use: constant-size copies are
// single moves, where a variable-size memcpy costs a call or REP MOVS.
inline void CopySmall(void* dst, const void* src, unsigned size) {
  switch (size) {
    case 1: std::memcpy(dst, src, 1); return;
    case 2: std::memcpy(dst, src, 2); return;
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    case 16: std::memcpy(dst, src, 16); return;
    default: std::memcpy(dst, src, size); return;
  }
}

// The same for stack slots (2, 4 or 8 bytes).
inline void CopyStackSlot(void* dst, const void* src, unsigned size) {
  if (size == 8) std::memcpy(dst, src, 8);
  else if (size == 4) std::memcpy(dst, src, 4);
  else std::memcpy(dst, src, 2);
}

}  // namespace

// ---- Segmentation ------------------------------------------------------------

Fault Cpu::SegmentLinear(int seg, uint64_t offset, unsigned size, Access kind,
                         uint64_t& linear) {
  const Segment& sg = s.seg[seg];
  Vector vec = seg == kSs ? kSsFault : kGp;
  if (is64()) {
    // 64-bit mode: no limits; only FS and GS have a base (SDM Vol. 3 3.2.4).
    uint64_t base = (seg == kFs || seg == kGs) ? sg.base : 0;
    linear = base + offset;
    if (!IsCanonical(linear) || !IsCanonical(linear + size - 1)) [[unlikely]] {
      return Raise(vec, 0);
    }
    return kOk;
  }
  if (s.protected_mode() && !s.v86_mode()) {
    // A null selector loads an unusable segment; using it is #GP(0).
    if (sg.unusable()) [[unlikely]] return Raise(vec, 0);
    uint32_t type = sg.type();
    bool code = (type & seg_attr::kCode) != 0;
    if (kind == Access::kWrite && (code || !(type & seg_attr::kWritable))) [[unlikely]] {
      return Raise(vec, 0);
    }
    if (kind == Access::kRead && code && !(type & seg_attr::kWritable)) [[unlikely]] {
      return Raise(vec, 0);
    }
  }
  uint64_t last = offset + size - 1;
  uint32_t type = sg.type();
  if ((sg.attr & seg_attr::kS) && !(type & seg_attr::kCode) && (type & seg_attr::kExpandDown)) {
    // Expand-down: valid offsets are (limit, 0xFFFF or 0xFFFFFFFF].
    uint64_t upper = sg.db() ? 0xffffffffull : 0xffffull;
    if (offset <= sg.limit || last > upper) [[unlikely]] return Raise(vec, 0);
  } else if (last > sg.limit) [[unlikely]] {
    return Raise(vec, 0);
  }
  linear = (sg.base + offset) & 0xffffffffull;
  return kOk;
}

// ---- TLB --------------------------------------------------------------------

void Cpu::FlushTlb(bool include_global) {
  for (TlbEntry& e : tlb_) {
    if (include_global || !e.global) e.tag = ~0ull;
  }
  if (include_global) {
    tlb_has_large_ = false;
    for (PhysPageEntry& p : phys_cache_) p.page = ~0ull;
  }
  InvalidateFetch();
}

void Cpu::FlushTlbPage(uint64_t linear) {
  uint64_t tag = linear >> 12;
  TlbEntry& e = TlbSlot(tag);
  if (e.tag == tag) e.tag = ~0ull;
  if (tlb_has_large_) {
    // INVLPG of an address in a large page drops the whole page (SDM Vol. 3
    // 4.10.4.1); our TLB holds it as 4 KiB pieces.
    for (TlbEntry& x : tlb_) {
      uint64_t page_bytes = Detail(x).t.page_bytes;
      if (x.tag != ~0ull && x.large && ((x.tag << 12) & ~(page_bytes - 1)) == (linear & ~(page_bytes - 1))) {
        x.tag = ~0ull;
      }
    }
  }
  InvalidateFetch();
}

Fault Cpu::Translate(uint64_t linear, Access kind, bool user, bool implicit, TlbEntry*& entry) {
  uint64_t tag = linear >> 12;
  TlbEntry& e = TlbSlot(tag);
  entry = &e;
  if ((s.efer & efer::kLma) && !IsCanonical(linear)) [[unlikely]] {
    // Callers check canonical addresses first; this keeps non-canonical
    // tags out of the TLB, which FastHostPointer relies on (SDM Vol. 1 3.3.7.1).
    return Raise(kGp, 0);
  }
  bool paging = (s.cr0 & cr0::kPg) != 0;
  PageAccess pa_access{kind == Access::kWrite, kind == Access::kExec, user, implicit,
                       (s.rflags & flags::kAc) != 0};
  if (e.tag == tag) {
    if (!paging) return kOk;
    // A cached entry that denies the access is not trusted: walk again.
    // The OS may have upgraded the entry without INVLPG (Linux does for
    // write faults and A/D updates), relying on a #PF invalidating the
    // stale translation (SDM Vol. 3 4.10.4.1); faulting from the TLB alone
    // would repeat the same #PF forever.
    const Translation& cached = Detail(e).t;
    if (CheckPageRights(Paging(), cached, pa_access).ok()) {
      if (kind != Access::kWrite || cached.dirty) return kOk;
      // A first write to a clean page: walk again to set D.
    }
  }
  Translation t;
  if (paging) {
    Fault f = TranslateLinear(Paging(), *this, linear, pa_access, t);
    if (f.faulted()) {
      fault_address = linear;
      // The #PF invalidates the TLB entries for this address (SDM Vol. 3
      // 4.10.4.1).
      if (e.tag == tag) {
        e.tag = ~0ull;
        InvalidateFetch();
      }
      return f;
    }
  } else {
    t.pa = linear;
    t.dirty = true;
  }
  e.tag = tag;
  TlbDetail& d = Detail(e);
  d.t = t;
  d.code = nullptr;
  d.pa_page = (t.pa & ~0xfffull) & a20_mask_;
  e.global = t.global;
  e.large = t.page_bytes > 4096;
  if (e.large) tlb_has_large_ = true;
  e.host = PhysPageHost(d.pa_page, false);
  bool writable_host = PhysPageHost(d.pa_page, true) != nullptr;
  // Pre-approve what this entry may do without rechecking (the rights cannot
  // change until a flush: CR0/CR4/EFER writes flush the TLB).
  e.allow = 0;
  if (e.host != nullptr) {
    PagingControl ctl = Paging();
    auto ok = [&](bool write, bool fetch, bool u) {
      if (!paging) return true;
      // SMAP with AC is never pre-approved: EFLAGS.AC changes without a flush.
      PageAccess a{write, fetch, u, false, false};
      return CheckPageRights(ctl, t, a).ok();
    };
    if (ok(false, false, false)) e.allow |= kAllowReadS;
    if (ok(false, false, true)) e.allow |= kAllowReadU;
    if (ok(false, true, false)) e.allow |= kAllowExecS;
    if (ok(false, true, true)) e.allow |= kAllowExecU;
    if (t.dirty && writable_host && !IsCodePage(d.pa_page)) {
      if (ok(true, false, false)) e.allow |= kAllowWriteS;
      if (ok(true, false, true)) e.allow |= kAllowWriteU;
    }
  }
  return kOk;
}

// ---- Linear access ----------------------------------------------------------------

Fault Cpu::ReadLinear(uint64_t linear, void* data, unsigned size, Access kind,
                      bool supervisor) {
  bool user = !supervisor && s.cpl() == 3;
  uint8_t need = kind == Access::kExec ? (user ? kAllowExecU : kAllowExecS)
                                       : (user ? kAllowReadU : kAllowReadS);
  unsigned in_page = 4096 - static_cast<unsigned>(linear & 0xfff);
  if (size <= in_page) [[likely]] {
    TlbEntry& e = TlbSlot(linear >> 12);
    if (e.tag == (linear >> 12) && (e.allow & need)) [[likely]] {
      CopySmall(data, e.host + (linear & 0xfff), size);
      return kOk;
    }
    TlbEntry* pe;
    X86_TRY(Translate(linear, kind, user, supervisor, pe));
    if (pe->host) {
      CopySmall(data, pe->host + (linear & 0xfff), size);
    } else {
      ReadPhysical(Detail(*pe).pa_page | (linear & 0xfff), data, size);
    }
    return kOk;
  }
  // Crossing a page: translate both halves before touching anything.
  uint64_t wrap = (s.efer & efer::kLma) ? ~0ull : 0xffffffffull;
  uint64_t second = (linear + in_page) & wrap;
  TlbEntry *e1, *e2;
  X86_TRY(Translate(linear, kind, user, supervisor, e1));
  uint64_t pa1 = Detail(*e1).pa_page | (linear & 0xfff);
  X86_TRY(Translate(second, kind, user, supervisor, e2));
  uint64_t pa2 = Detail(*e2).pa_page;
  ReadPhysical(pa1, data, in_page);
  ReadPhysical(pa2, static_cast<uint8_t*>(data) + in_page, size - in_page);
  return kOk;
}

Fault Cpu::WriteLinear(uint64_t linear, const void* data, unsigned size, bool supervisor) {
  bool user = !supervisor && s.cpl() == 3;
  uint8_t need = user ? kAllowWriteU : kAllowWriteS;
  unsigned in_page = 4096 - static_cast<unsigned>(linear & 0xfff);
  if (size <= in_page) [[likely]] {
    TlbEntry& e = TlbSlot(linear >> 12);
    if (e.tag == (linear >> 12) && (e.allow & need)) [[likely]] {
      CopySmall(e.host + (linear & 0xfff), data, size);
      return kOk;
    }
    TlbEntry* pe;
    X86_TRY(Translate(linear, Access::kWrite, user, supervisor, pe));
    WritePhysical(Detail(*pe).pa_page | (linear & 0xfff), data, size);
    return kOk;
  }
  uint64_t wrap = (s.efer & efer::kLma) ? ~0ull : 0xffffffffull;
  uint64_t second = (linear + in_page) & wrap;
  TlbEntry *e1, *e2;
  X86_TRY(Translate(linear, Access::kWrite, user, supervisor, e1));
  uint64_t pa1 = Detail(*e1).pa_page | (linear & 0xfff);
  X86_TRY(Translate(second, Access::kWrite, user, supervisor, e2));
  uint64_t pa2 = Detail(*e2).pa_page;
  WritePhysical(pa1, data, in_page);
  WritePhysical(pa2, static_cast<const uint8_t*>(data) + in_page, size - in_page);
  return kOk;
}

Fault Cpu::ReadBytes(int seg, uint64_t offset, void* data, unsigned size) {
  if (const uint8_t* p = FastHostPointer(seg, offset, size, Access::kRead)) {
    CopySmall(data, p, size);
    return kOk;
  }
  uint64_t linear;
  X86_TRY(SegmentLinear(seg, offset, size, Access::kRead, linear));
  X86_TRY(CheckAlignment(linear, size));
  if (data_bp_active_) [[unlikely]] NoteDataAccess(linear, size, false);
  return ReadLinear(linear, data, size, Access::kRead, false);
}

Fault Cpu::WriteBytes(int seg, uint64_t offset, const void* data, unsigned size) {
  if (uint8_t* p = FastHostPointer(seg, offset, size, Access::kWrite)) {
    CopySmall(p, data, size);
    return kOk;
  }
  uint64_t linear;
  X86_TRY(SegmentLinear(seg, offset, size, Access::kWrite, linear));
  X86_TRY(CheckAlignment(linear, size));
  if (data_bp_active_) [[unlikely]] NoteDataAccess(linear, size, true);
  return WriteLinear(linear, data, size, false);
}

Fault Cpu::ProbeWrite(int seg, uint64_t offset, unsigned size) {
  if (FastHostPointer(seg, offset, size, Access::kWrite) != nullptr) return kOk;
  uint64_t linear;
  X86_TRY(SegmentLinear(seg, offset, size, Access::kWrite, linear));
  bool user = s.cpl() == 3;
  TlbEntry* e;
  X86_TRY(Translate(linear, Access::kWrite, user, false, e));
  unsigned in_page = 4096 - static_cast<unsigned>(linear & 0xfff);
  if (size > in_page) {
    uint64_t wrap = (s.efer & efer::kLma) ? ~0ull : 0xffffffffull;
    X86_TRY(Translate((linear + in_page) & wrap, Access::kWrite, user, false, e));
  }
  return kOk;
}

// ---- Physical access --------------------------------------------------------------

void Cpu::FillPhysPage(PhysPageEntry& e, uint64_t pa_page) {
  e.page = pa_page;
  e.read = env_.memory->HostPointer(pa_page, 4096, false);
  e.write = env_.memory->HostPointer(pa_page, 4096, true);
}

void Cpu::ReadPhysical(uint64_t pa, void* data, unsigned size) {
  pa &= a20_mask_;
  if ((pa & 0xfff) + size <= 4096) [[likely]] {
    if (uint8_t* page = PhysPageHost(pa & ~0xfffull, false)) {
      CopySmall(data, page + (pa & 0xfff), size);
      return;
    }
  } else if (uint8_t* host = env_.memory->HostPointer(pa, size, false)) {
    CopySmall(data, host, size);
    return;
  }
  // MMIO (or unmapped): naturally sized pieces of at most 8 bytes.
  auto* out = static_cast<uint8_t*>(data);
  while (size > 0) {
    unsigned n = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
    env_.mmio->Read(pa, std::span<uint8_t>(out, n));
    pa += n;
    out += n;
    size -= n;
  }
  exits_.poll_events = true;
}

void Cpu::WritePhysical(uint64_t pa, const void* data, unsigned size) {
  pa &= a20_mask_;
  uint8_t* host = nullptr;
  if ((pa & 0xfff) + size <= 4096) [[likely]] {
    if (uint8_t* page = PhysPageHost(pa & ~0xfffull, true)) host = page + (pa & 0xfff);
  } else {
    host = env_.memory->HostPointer(pa, size, true);
  }
  if (host != nullptr) {
    CopySmall(host, data, size);
    NoteCodeWrite(pa, size);
    return;
  }
  if (env_.memory->FindRegion(pa) != nullptr) return;  // ROM: writes are dropped.
  const auto* in = static_cast<const uint8_t*>(data);
  while (size > 0) {
    unsigned n = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
    env_.mmio->Write(pa, std::span<const uint8_t>(in, n));
    pa += n;
    in += n;
    size -= n;
  }
  exits_.poll_events = true;
  if (env_.platform && env_.platform->TakeResetRequest()) {
    reset_requested_ = true;
    exits_.stop = true;
  }
}

uint64_t Cpu::ReadPhys(uint64_t pa, int bytes) {
  uint64_t v = 0;
  ReadPhysical(pa, &v, static_cast<unsigned>(bytes));
  return v;
}

void Cpu::WritePhys(uint64_t pa, uint64_t value, int bytes) {
  WritePhysical(pa, &value, static_cast<unsigned>(bytes));
}

// ---- Code tracking ------------------------------------------------------------------

void Cpu::MarkCodePage(uint64_t pa_page) {
  uint64_t n = pa_page >> 12;
  if (n >= code_flags_.size()) code_flags_.resize(n + 1, 0);
  if (code_flags_[n]) return;
  code_flags_[n] = 1;
  // From now on writes to this page must take the slow path, which notices them.
  for (TlbEntry& e : tlb_) {
    if (e.tag != ~0ull && Detail(e).pa_page == pa_page) e.allow &= ~(kAllowWriteS | kAllowWriteU);
  }
}

void Cpu::NoteCodeWrite(uint64_t pa, unsigned size) {
  uint64_t first = pa >> 12, last = (pa + size - 1) >> 12;
  for (uint64_t n = first; n <= last; ++n) {
    if (n >= code_flags_.size() || !code_flags_[n]) continue;
    // Only a write over decoded bytes invalidates: pages that mix code and
    // data (real-mode firmware) keep their decodes.
    uint64_t lo = n == first ? (pa & 0xfff) : 0;
    uint64_t hi = n == last ? ((pa + size - 1) & 0xfff) : 0xfff;
    for (uint64_t m = 0; m < 3; ++m) {
      auto it = code_pages_.find(n * 4 + m);
      if (it == code_pages_.end()) continue;
      CodePage& page = *it->second;
      if (page.Covers(static_cast<unsigned>(lo), static_cast<unsigned>(hi - lo + 1))) {
        page.stale = true;
        InvalidateFetch();  // The dispatch fast paths do not check `stale`.
      }
    }
  }
}

void Cpu::FlushCodeCache() {
  code_pages_.clear();
  code_flags_.clear();
  fetch_page_ = nullptr;
  FlushTlb(true);  // Re-grants the write fast path on former code pages.
}

void Cpu::InvalidateCode(uint64_t gpa, uint64_t size) {
  if (size == 0) return;
  // Split so each piece fits the unsigned size NoteCodeWrite takes.
  while (size > 0) {
    uint64_t n = std::min<uint64_t>(size, 4096 - (gpa & 0xfff));
    NoteCodeWrite(gpa, static_cast<unsigned>(n));
    gpa += n;
    size -= n;
  }
}

// ---- Stack -------------------------------------------------------------------------

void Cpu::AdjustRsp(int64_t delta) {
  unsigned as = StackAddrSize();
  uint64_t rsp = s.gpr[kRsp] + static_cast<uint64_t>(delta);
  if (as == 2) s.gpr[kRsp] = (s.gpr[kRsp] & ~0xffffull) | (rsp & 0xffff);
  else if (as == 4) s.gpr[kRsp] = rsp & 0xffffffffull;
  else s.gpr[kRsp] = rsp;
}

Fault Cpu::Push(unsigned size, uint64_t value) {
  unsigned as = StackAddrSize();
  uint64_t rsp = (s.gpr[kRsp] - size) & AddrMask(as);
  if (uint8_t* p = FastHostPointer(kSs, rsp, size, Access::kWrite)) [[likely]] {
    CopyStackSlot(p, &value, size);
  } else {
    X86_TRY(WriteBytes(kSs, rsp, &value, size));
  }
  AdjustRsp(-static_cast<int64_t>(size));
  return kOk;
}

Fault Cpu::Pop(unsigned size, uint64_t& value) {
  value = 0;
  unsigned as = StackAddrSize();
  uint64_t rsp = s.gpr[kRsp] & AddrMask(as);
  if (const uint8_t* p = FastHostPointer(kSs, rsp, size, Access::kRead)) [[likely]] {
    CopyStackSlot(&value, p, size);
  } else {
    X86_TRY(ReadBytes(kSs, rsp, &value, size));
  }
  AdjustRsp(size);
  return kOk;
}

Fault Cpu::PeekStack(unsigned size, uint64_t offset, uint64_t& value) {
  value = 0;
  unsigned as = StackAddrSize();
  uint64_t addr = (s.gpr[kRsp] + offset) & AddrMask(as);
  return ReadBytes(kSs, addr, &value, size);
}

Fault Cpu::BranchNear(uint64_t target, unsigned opsize) {
  if (opsize == 2) target &= 0xffff;
  else if (opsize == 4) target &= 0xffffffffull;
  if (is64()) {
    if (!IsCanonical(target)) return Raise(kGp, 0);
  } else if (target > s.seg[kCs].limit) {
    return Raise(kGp, 0);
  }
  next_rip = target;
  return kOk;
}

}  // namespace x86vm
