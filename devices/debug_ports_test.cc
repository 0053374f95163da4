#include "devices/debug_ports.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace x86vm {
namespace {

class StringSink : public DebugConSink {
 public:
  void Put(uint8_t byte) override { text.push_back(static_cast<char>(byte)); }
  std::string text;
};

template <typename D>
void ExpectRoundTrip(D& device) {
  Serializer save = Serializer::ForSave();
  device.Serialize(save);
  D copy;
  Serializer load = Serializer::ForLoad(save.data());
  copy.Serialize(load);
  ASSERT_TRUE(load.ok()) << load.error();
  EXPECT_TRUE(load.at_end());
  Serializer again = Serializer::ForSave();
  copy.Serialize(again);
  EXPECT_EQ(again.data(), save.data());
}

TEST(DebugCon, BothPortsReachTheSinkAndReadBackE9) {
  Bus bus("pio");
  StringSink sink;
  DebugCon con(&sink);
  ASSERT_TRUE(
      bus.Register(DebugCon::kPortBochs, 1, &con, "debugcon e9").has_value());
  ASSERT_TRUE(bus.Register(DebugCon::kPortFirmware, 1, &con, "debugcon 402")
                  .has_value());
  for (char c : std::string("Hi\n"))
    bus.WriteValue(0xE9, 1, static_cast<uint8_t>(c));
  for (char c : std::string("SeaBIOS"))
    bus.WriteValue(0x402, 1, static_cast<uint8_t>(c));
  EXPECT_EQ(sink.text, "Hi\nSeaBIOS");
  EXPECT_EQ(bus.ReadValue(0xE9, 1), 0xE9u);
  EXPECT_EQ(bus.ReadValue(0x402, 1), 0xE9u);
  // outw to 0xE9: the low byte reaches the console, 0xEA is another port.
  bus.WriteValue(0xE9, 2, 0x2141);
  EXPECT_EQ(sink.text, "Hi\nSeaBIOSA");

  DebugCon silent(nullptr);
  uint8_t b = 'x';
  silent.Write(0, std::span<const uint8_t>(&b, 1));  // No sink: dropped.
  Serializer save = Serializer::ForSave();
  con.Serialize(save);
  DebugCon copy(nullptr);
  Serializer load = Serializer::ForLoad(save.data());
  copy.Serialize(load);
  EXPECT_TRUE(load.ok() && load.at_end());
}

TEST(ExitPort, StatusIsValueShiftedOrOne) {
  Bus bus("pio");
  ExitPort exit_port;
  ASSERT_TRUE(bus.Register(0xF4, ExitPort::kWindowBytes, &exit_port, "exit")
                  .has_value());
  std::vector<int> statuses;
  exit_port.set_exit_requested([&](int status) { statuses.push_back(status); });
  bus.WriteValue(0xF4, 1, 0x00);
  bus.WriteValue(0xF4, 1, 0x10);
  bus.WriteValue(0xF4, 4, 0x31);
  bus.WriteValue(0xF5, 2, 0x1);  // Any offset in the window.
  EXPECT_EQ(statuses, (std::vector<int>{1, 0x21, 0x63, 3}));
  // The OS keeps the low 8 bits: V = 0x80 exits with 1.
  bus.WriteValue(0xF4, 1, 0x80);
  EXPECT_EQ(statuses.back() & 0xFF, 1);
  EXPECT_EQ(bus.ReadValue(0xF4, 4), 0u);
  ExitPort no_callback;
  uint8_t v = 1;
  no_callback.Write(0, std::span<const uint8_t>(&v, 1));  // Must not crash.
  ExpectRoundTrip(exit_port);
}

TEST(PostCodePort, KeepsLastCodeSilently) {
  Bus bus("pio");
  PostCodePort post;
  ASSERT_TRUE(bus.Register(PostCodePort::kPort, 1, &post, "post").has_value());
  EXPECT_EQ(bus.ReadValue(0x80, 1), 0xFFu);
  bus.WriteValue(0x80, 1, 0x12);
  bus.WriteValue(0x80, 1, 0x34);
  EXPECT_EQ(post.last_code(), 0x34);
  EXPECT_EQ(post.write_count(), 2u);
  post.Reset();
  EXPECT_EQ(post.last_code(), 0x34);

  Serializer save = Serializer::ForSave();
  post.Serialize(save);
  PostCodePort copy;
  Serializer load = Serializer::ForLoad(save.data());
  copy.Serialize(load);
  ASSERT_TRUE(load.ok());
  EXPECT_EQ(copy.last_code(), 0x34);
  Serializer again = Serializer::ForSave();
  copy.Serialize(again);
  EXPECT_EQ(again.data(), save.data());
}

}  // namespace
}  // namespace x86vm
