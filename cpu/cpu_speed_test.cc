// Rough interpreter throughput on a tight loop (printed, loosely bounded so
// a pathological slowdown fails). Run with -c opt for meaningful numbers.
#include <gtest/gtest.h>

#include <chrono>

#include "cpu/test_machine.h"

namespace x86vm {
namespace {

TEST(CpuSpeedTest, TightLoop) {
  TestMachine m;
  // 32-bit operand loop in real mode:
  //   mov ecx, 10000000; l: add eax, ebx; xor edx, eax; dec ecx; jnz l; hlt
  m.Load(0x1000, {0x66, 0xb9, 0x80, 0x96, 0x98, 0x00, 0x66, 0x01, 0xd8, 0x66, 0x31, 0xc2,
                  0x66, 0x49, 0x75, 0xf6, 0xf4});
  m.StartReal(0x1000);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(m.RunToHalt(1'000'000'000), StopReason::kHalt);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t n = m.cpu().instructions_retired();
  EXPECT_EQ(n, 40'000'002u);
  std::printf("%.1f M instructions/s\n", n / s / 1e6);
}

}  // namespace
}  // namespace x86vm
