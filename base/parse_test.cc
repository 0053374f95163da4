#include "base/parse.h"

#include <gtest/gtest.h>

namespace x86vm {
namespace {

TEST(ParseNumber, DecimalAndHex) {
  EXPECT_EQ(ParseNumber("1234").value(), 1234u);
  EXPECT_EQ(ParseNumber("0xf4").value(), 0xf4u);
  EXPECT_EQ(ParseNumber("0XABC").value(), 0xabcu);
  EXPECT_FALSE(ParseNumber("").has_value());
  EXPECT_FALSE(ParseNumber("12a").has_value());
  EXPECT_FALSE(ParseNumber("0x").has_value());
  EXPECT_FALSE(ParseNumber("99999999999999999999999").has_value());
}

TEST(ParseSize, Suffixes) {
  EXPECT_EQ(ParseSize("512M").value(), 512ull << 20);
  EXPECT_EQ(ParseSize("512").value(), 512ull << 20);
  EXPECT_EQ(ParseSize("2G").value(), 2ull << 30);
  EXPECT_EQ(ParseSize("64k").value(), 64ull << 10);
  EXPECT_EQ(ParseSize("1GiB").value(), 1ull << 30);
  EXPECT_EQ(ParseSize("0x100M").value(), 256ull << 20);
  EXPECT_FALSE(ParseSize("12Q").has_value());
  EXPECT_FALSE(ParseSize("M").has_value());
  EXPECT_FALSE(ParseSize("99999999999999T").has_value());
}

}  // namespace
}  // namespace x86vm
