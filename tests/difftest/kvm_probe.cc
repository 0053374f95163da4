#include <chrono>
#include <cstdio>
#include "tests/difftest/kvm_ring3_oracle.h"
#include "tests/difftest/unicorn_oracle.h"
using namespace x86vm::difftest;
static void Show(const char* what, const x86vm::Result<DiffOutcome>& r) {
  if (!r) { printf("%s: ERROR %s\n", what, r.error().message.c_str()); return; }
  printf("%s: rax=%llx rcx=%llx rsp=%llx rip=%llx fl=%llx xmm0=%llx:%llx exc=%d ec=%x cr2=%llx mem0=%02x\n", what,
         (unsigned long long)r->regs.gpr[0], (unsigned long long)r->regs.gpr[1], (unsigned long long)r->regs.gpr[4],
         (unsigned long long)r->regs.rip, (unsigned long long)r->regs.rflags,
         (unsigned long long)r->regs.xmm[0].hi, (unsigned long long)r->regs.xmm[0].lo,
         r->exception ? r->exception->vector : -1, r->exception ? r->exception->error_code : 0,
         r->exception ? (unsigned long long)r->exception->cr2 : 0ull, r->pages.empty() ? 0 : r->pages[0].bytes[0]);
}
static void Bench(DiffEngine& e, DiffCase c, int n) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) { c.regs.gpr[0] = i; auto r = e.Run(c); if (!r) { printf("err %s\n", r.error().message.c_str()); return; } }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("%s: %d cases in %.3f s: %.0f/s\n", e.name(), n, s, n / s);
}
int main() {
  auto o = KvmRing3Oracle::Create();
  if (!o) { printf("create: %s\n", o.error().message.c_str()); return 1; }
  UnicornOracle u;
  DiffEngine* engines[2] = {o->get(), &u};
  for (DiffEngine* e : engines) {
  printf("== %s\n", e->name());
  DiffCase c;
  c.regs.rip = 0x400000;
  c.regs.gpr[0] = 5; c.regs.gpr[3] = 7; c.regs.gpr[4] = 0x7fff00;
  DiffPage data; data.vaddr = 0x600000; c.pages.push_back(data);
  DiffPage stack; stack.vaddr = 0x7ff000; c.pages.push_back(stack);
  c.code = {0x48, 0x01, 0xd8};
  Show("add", e->Run(c));
  c.code = {0x48, 0xf7, 0xf1};
  Show("div0", e->Run(c));
  c.code = {0x66, 0x0f, 0xfe, 0xc1};
  c.regs.xmm[0] = {1, 2}; c.regs.xmm[1] = {10, 20};
  Show("paddd", e->Run(c));
  Show("paddd2", e->Run(c));
  c.code = {0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00};
  Show("store", e->Run(c));
  c.code = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00};
  Show("pf", e->Run(c));
  c.code = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, 0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00};
  Show("pf-ro", e->Run(c));
  c.code = {0x0f, 0x0b};
  Show("ud2", e->Run(c));
  c.code = {0x50, 0x66, 0x0f, 0x38, 0x00, 0xc1, 0xf3, 0x48, 0x0f, 0xb8, 0xc3};  // push rax; pshufb; popcnt
  Show("push/pshufb/popcnt", e->Run(c));
  c.code = {0xf3, 0x48, 0x0f, 0xbd, 0xc3};  // lzcnt rax, rbx
  Show("lzcnt", e->Run(c));
  c.code = {0x48, 0x01, 0xd8};
  Bench(*e, c, 20000);
  c.code = {0x48, 0xf7, 0xf1};
  Bench(*e, c, 2000);
  }
}
