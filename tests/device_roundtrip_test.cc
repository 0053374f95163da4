// The one generic state round-trip test over every device of the board
// (STYLE.md; crosvm's suspendable_tests!): mutate through the bus, save,
// load into a fresh machine, save again, and compare the bytes. Then both
// machines must keep behaving the same.
#include <gtest/gtest.h>

#include <random>

#include "machine/pc.h"

namespace x86vm {
namespace {

struct PortRange {
  uint16_t base;
  uint16_t count;
};

// Every port window of the board, mutated at random.
constexpr PortRange kPorts[] = {
    {0x20, 2},  {0xa0, 2},  {0x4d0, 2}, {0x40, 4},   {0x61, 1},  {0x70, 4},
    {0x3f8, 8}, {0x2f8, 8}, {0x3e8, 8}, {0x2e8, 8},  {0x60, 1},  {0x64, 1},
    {0x92, 1},  {0x80, 1},  {0xe9, 1},  {0x402, 1},  {0x600, 0x40}, {0xcf8, 8},
    {0x510, 2}, {0xf4, 4},   {0x1f0, 8}, {0x3f6, 1}, {0x170, 8}, {0x376, 1},
};

std::unique_ptr<PcMachine> MakeMachine() {
  PcConfig config;
  config.memory_bytes = 32ull << 20;
  config.clock_mode = VirtualClock::Mode::kDeterministic;
  config.exit_port = 0xf4;
  config.rtc_start_unix_seconds = 1700000000;
  auto m = PcMachine::Create(config);
  EXPECT_TRUE(m.has_value());
  return std::move(*m);
}

void Mutate(PcMachine& m, std::mt19937_64& rng, int steps) {
  for (int i = 0; i < steps; ++i) {
    uint64_t r = rng();
    switch (r % 8) {
      case 0: {  // MMIO: IOAPIC select/window or a local APIC register.
        if (r & 8) {
          m.mmio().WriteValue(0xfec00000, 4, (r >> 8) & 0x3f);
          m.mmio().WriteValue(0xfec00010, 4, r >> 20);
        } else {
          m.mmio().WriteValue(0xfee00000 + ((r >> 8) & 0x3f0), 4, r >> 24);
        }
        break;
      }
      case 1:
        m.clock().AddInstructions((r >> 8) % 5'000'000);
        m.clock().RunDueTimers();
        break;
      case 2: {  // PCI config of the two functions present.
        uint32_t addr = 0x80000000u | (((r >> 8) & 1) << 11) | ((r >> 9) & 0xfc);
        m.pio().WriteValue(0xcf8, 4, addr);
        m.pio().WriteValue(0xcfc + ((r >> 20) & 3), 1, r >> 32);
        break;
      }
      default: {
        const PortRange& p = kPorts[(r >> 8) % std::size(kPorts)];
        uint16_t port = static_cast<uint16_t>(p.base + (r >> 16) % p.count);
        if (r & 0x100000000ull) {
          (void)m.pio().ReadValue(port, 1);
        } else {
          m.pio().WriteValue(port, 1, r >> 40);
        }
      }
    }
  }
}

std::vector<uint8_t> Save(Device& d) {
  Serializer s = Serializer::ForSave();
  d.Serialize(s);
  return s.data();
}

TEST(DeviceRoundTrip, EveryDeviceSavesLoadsAndSavesIdentically) {
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    std::mt19937_64 rng(seed);
    auto a = MakeMachine();
    Mutate(*a, rng, 3000);
    auto b = MakeMachine();
    // The clock first: device timers are absolute virtual times.
    Serializer clock_save = Serializer::ForSave();
    a->clock().Serialize(clock_save);
    Serializer clock_load = Serializer::ForLoad(clock_save.data());
    b->clock().Serialize(clock_load);
    ASSERT_TRUE(clock_load.ok());
    ASSERT_EQ(a->devices().size(), b->devices().size());
    for (size_t i = 0; i < a->devices().size(); ++i) {
      Device& da = *a->devices()[i];
      Device& db = *b->devices()[i];
      ASSERT_EQ(da.name(), db.name());
      std::vector<uint8_t> first = Save(da);
      Serializer load = Serializer::ForLoad(first);
      db.Serialize(load);
      ASSERT_TRUE(load.ok()) << da.name() << ": " << load.error();
      EXPECT_TRUE(load.at_end()) << da.name() << " left bytes unread";
      std::vector<uint8_t> second = Save(db);
      size_t diff = 0;
      while (diff < first.size() && diff < second.size() && first[diff] == second[diff]) ++diff;
      EXPECT_EQ(second, first) << da.name() << " (seed " << seed << "), first difference at byte "
                               << diff << " of " << first.size();
    }
    // Both machines now evolve identically under the same further input.
    std::mt19937_64 rng_a(seed * 77), rng_b(seed * 77);
    Mutate(*a, rng_a, 500);
    Mutate(*b, rng_b, 500);
    for (size_t i = 0; i < a->devices().size(); ++i) {
      EXPECT_EQ(Save(*a->devices()[i]), Save(*b->devices()[i]))
          << a->devices()[i]->name() << " diverged after restore (seed " << seed << ")";
    }
  }
}

TEST(DeviceRoundTrip, EveryDeviceRejectsATruncatedStream) {
  auto a = MakeMachine();
  std::mt19937_64 rng(5);
  Mutate(*a, rng, 500);
  auto b = MakeMachine();
  for (size_t i = 0; i < a->devices().size(); ++i) {
    std::vector<uint8_t> data = Save(*a->devices()[i]);
    data.resize(data.size() / 2);
    Serializer load = Serializer::ForLoad(data);
    b->devices()[i]->Serialize(load);
    EXPECT_FALSE(load.ok()) << a->devices()[i]->name();
  }
}

}  // namespace
}  // namespace x86vm
