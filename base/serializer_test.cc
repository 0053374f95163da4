#include "base/serializer.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

enum class Color : uint8_t { kRed = 1, kBlue = 7 };

struct Sample {
  uint8_t a = 0;
  int32_t b = 0;
  uint64_t c = 0;
  bool d = false;
  Color e = Color::kRed;
  std::array<uint16_t, 3> f{};
  std::vector<uint32_t> g;
  std::string h;
  void Serialize(Serializer& s) {
    s.Section("sample", 2);
    s(a), s(b), s(c), s(d), s(e), s(f), s(g);
    s.String(h);
  }
};

TEST(Serializer, RoundTrip) {
  Sample in{0x12, -5, 0x1122334455667788ull, true, Color::kBlue, {1, 2, 3}, {9, 8}, "hi"};
  Serializer save = Serializer::ForSave();
  in.Serialize(save);
  Sample out;
  Serializer load = Serializer::ForLoad(save.data());
  out.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  EXPECT_EQ(out.a, 0x12);
  EXPECT_EQ(out.b, -5);
  EXPECT_EQ(out.c, 0x1122334455667788ull);
  EXPECT_TRUE(out.d);
  EXPECT_EQ(out.e, Color::kBlue);
  EXPECT_EQ(out.f[2], 3);
  EXPECT_EQ(out.g, (std::vector<uint32_t>{9, 8}));
  EXPECT_EQ(out.h, "hi");
}

TEST(Serializer, TruncatedStreamIsAnError) {
  Sample in;
  Serializer save = Serializer::ForSave();
  in.Serialize(save);
  std::vector<uint8_t> data = save.data();
  data.resize(data.size() - 3);
  Sample out;
  Serializer load = Serializer::ForLoad(data);
  out.Serialize(load);
  EXPECT_FALSE(load.ok());
}

TEST(Serializer, WrongSectionOrNewerVersionIsAnError) {
  Serializer save = Serializer::ForSave();
  save.Section("pit", 3);
  Serializer load = Serializer::ForLoad(save.data());
  load.Section("pic", 3);
  EXPECT_FALSE(load.ok());
  Serializer load2 = Serializer::ForLoad(save.data());
  load2.Section("pit", 2);
  EXPECT_FALSE(load2.ok());
  Serializer load3 = Serializer::ForLoad(save.data());
  EXPECT_EQ(load3.Section("pit", 4), 3u);
  EXPECT_TRUE(load3.ok());
}

}  // namespace
}  // namespace x86vm
