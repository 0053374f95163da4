// Page walks over a fake physical memory.
#include "cpu/paging.h"

#include <gtest/gtest.h>

#include <map>

#include "cpu/cpu_state.h"

namespace x86vm {
namespace {

class FakeMemory : public PageTableMemory {
 public:
  uint64_t ReadPhys(uint64_t pa, int bytes) override {
    uint64_t v = mem[pa];
    return bytes == 4 ? (v & 0xffffffff) : v;
  }
  void WritePhys(uint64_t pa, uint64_t value, int) override { mem[pa] = value; }
  std::map<uint64_t, uint64_t> mem;
};

constexpr uint64_t P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
constexpr uint64_t XD = 1ull << 63;

PagingControl LongMode() {
  return {cr0::kPe | cr0::kPg | cr0::kWp, 0x1000, cr4::kPae | cr4::kPge,
          efer::kLme | efer::kLma | efer::kNxe};
}

// Maps linear 0x7f0000401000 -> 0x55000 through PML4 0x1000, PDPT 0x2000,
// PD 0x3000, PT 0x4000.
void MapLong(FakeMemory& m, uint64_t leaf_flags) {
  m.mem[0x1000 + 0xfe * 8] = 0x2000 | P | RW | US;
  m.mem[0x2000 + 0x0 * 8] = 0x3000 | P | RW | US;
  m.mem[0x3000 + 0x2 * 8] = 0x4000 | P | RW | US;
  m.mem[0x4000 + 0x1 * 8] = 0x55000 | leaf_flags;
}

constexpr uint64_t kLin = 0x7f0000401123ull;

TEST(PagingTest, FourLevelWalkSetsAccessedAndDirty) {
  FakeMemory m;
  MapLong(m, P | RW | US);
  Translation t;
  ASSERT_TRUE(TranslateLinear(LongMode(), m, kLin, {.write = true}, t).ok());
  EXPECT_EQ(t.pa, 0x55123u);
  EXPECT_TRUE(t.user);
  EXPECT_TRUE(t.dirty);
  EXPECT_EQ(m.mem[0x4008] & (A | D), A | D);
  EXPECT_TRUE(m.mem[0x1000 + 0xfe * 8] & A);
}

TEST(PagingTest, NotPresentAndReservedErrorCodes) {
  FakeMemory m;
  MapLong(m, 0);
  Translation t;
  Fault f = TranslateLinear(LongMode(), m, kLin, {.write = true, .user = true}, t);
  EXPECT_EQ(f.vector, kPf);
  EXPECT_EQ(f.error_code, pf_error::kWrite | pf_error::kUser);
  MapLong(m, P | (1ull << 45));  // Above MAXPHYADDR.
  f = TranslateLinear(LongMode(), m, kLin, {}, t);
  EXPECT_EQ(f.error_code, pf_error::kPresent | pf_error::kReserved);
  PagingControl no_nx = LongMode();
  no_nx.efer &= ~efer::kNxe;
  MapLong(m, P | XD);
  f = TranslateLinear(no_nx, m, kLin, {}, t);
  EXPECT_EQ(f.error_code, pf_error::kPresent | pf_error::kReserved);
}

TEST(PagingTest, ProtectionChecks) {
  FakeMemory m;
  Translation t;
  MapLong(m, P | US);  // Read-only user page.
  EXPECT_EQ(TranslateLinear(LongMode(), m, kLin, {.write = true, .user = true}, t).error_code,
            pf_error::kPresent | pf_error::kWrite | pf_error::kUser);
  // Supervisor write to a read-only page faults only with CR0.WP.
  EXPECT_FALSE(TranslateLinear(LongMode(), m, kLin, {.write = true}, t).ok());
  PagingControl no_wp = LongMode();
  no_wp.cr0 &= ~cr0::kWp;
  EXPECT_TRUE(TranslateLinear(no_wp, m, kLin, {.write = true}, t).ok());
  // NX on fetch, with the I/D bit.
  MapLong(m, P | RW | US | XD);
  EXPECT_EQ(TranslateLinear(LongMode(), m, kLin, {.fetch = true, .user = true}, t).error_code,
            pf_error::kPresent | pf_error::kUser | pf_error::kFetch);
  // SMEP and SMAP.
  MapLong(m, P | RW | US);
  PagingControl smep = LongMode();
  smep.cr4 |= cr4::kSmep | cr4::kSmap;
  EXPECT_FALSE(TranslateLinear(smep, m, kLin, {.fetch = true}, t).ok());
  EXPECT_FALSE(TranslateLinear(smep, m, kLin, {}, t).ok());
  EXPECT_TRUE(TranslateLinear(smep, m, kLin, {.ac = true}, t).ok());
  EXPECT_FALSE(TranslateLinear(smep, m, kLin, {.implicit = true, .ac = true}, t).ok());
  // A user access to a supervisor page.
  m.mem[0x4008] = 0x55000 | P | RW;
  EXPECT_FALSE(TranslateLinear(LongMode(), m, kLin, {.user = true}, t).ok());
}

TEST(PagingTest, LargePagesAndGlobal) {
  FakeMemory m;
  m.mem[0x1000 + 0xfe * 8] = 0x2000 | P | RW;
  m.mem[0x2000] = 0x3000 | P | RW;
  m.mem[0x3000 + 2 * 8] = 0x40000000 | P | RW | PS | G;  // 2 MiB page.
  Translation t;
  ASSERT_TRUE(TranslateLinear(LongMode(), m, kLin, {}, t).ok());
  EXPECT_EQ(t.pa, 0x40000000u + (kLin & 0x1fffff));
  EXPECT_EQ(t.page_bytes, 2u << 20);
  EXPECT_TRUE(t.global);
  m.mem[0x1000 + 0xfe * 8] = 0x2000 | P | RW;
  m.mem[0x2000] = 0x80000000 | P | RW | PS;  // 1 GiB page.
  ASSERT_TRUE(TranslateLinear(LongMode(), m, kLin, {}, t).ok());
  EXPECT_EQ(t.pa, 0x80000000u + (kLin & 0x3fffffff));
  m.mem[0x2000] = 0x80002000 | P | RW | PS;  // Bit 13 set in a 1 GiB frame: reserved (bit 12 is PAT).
  EXPECT_FALSE(TranslateLinear(LongMode(), m, kLin, {}, t).ok());
}

TEST(PagingTest, ThirtyTwoBitAndPae) {
  FakeMemory m;
  PagingControl c32{cr0::kPe | cr0::kPg, 0x1000, cr4::kPse, 0};
  m.mem[0x1000 + (0x00801234 >> 22) * 4] = 0x2000 | P | RW;
  m.mem[0x2000 + ((0x00801234 >> 12) & 0x3ff) * 4] = 0x9000 | P | RW;
  Translation t;
  ASSERT_TRUE(TranslateLinear(c32, m, 0x00801234, {}, t).ok());
  EXPECT_EQ(t.pa, 0x9234u);
  // 4 MiB page with PSE-36 high bits (PDE bits 13+ = PA bits 32+).
  m.mem[0x1000 + (0xc0000000u >> 22) * 4] = 0x00400000 | (1u << 13) | P | RW | PS;
  ASSERT_TRUE(TranslateLinear(c32, m, 0xc0012345u, {}, t).ok());
  EXPECT_EQ(t.pa, 0x100400000ull + 0x12345);
  // PAE: PDPTE -> PD -> PT.
  FakeMemory p;
  PagingControl pae{cr0::kPe | cr0::kPg, 0x1000, cr4::kPae, 0};
  p.mem[0x1000 + 3 * 8] = 0x2000 | P;
  p.mem[0x2000 + 0x1ff * 8] = 0x3000 | P | RW;
  p.mem[0x3000 + 0x1ff * 8] = 0x7000 | P | RW;
  ASSERT_TRUE(TranslateLinear(pae, p, 0xfffff123u, {}, t).ok());
  EXPECT_EQ(t.pa, 0x7123u);
}

}  // namespace
}  // namespace x86vm
