// --stats: what ran the guest, for how long, and how the engines shared it,
// formatted once for every engine behind accel/vcpu.h.
#ifndef X86VM_ACCEL_ENGINE_STATS_H_
#define X86VM_ACCEL_ENGINE_STATS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "accel/vcpu.h"

namespace x86vm {

// Lines starting "x86vm stats: ": the engine and why it was chosen, total
// time and guest instructions, time and instructions per engine, handovers
// between engines (with their causes), and KVM exits by reason.
std::string FormatEngineStats(Vcpu& cpu, std::string_view reason, uint64_t wall_ns);

}  // namespace x86vm

#endif  // X86VM_ACCEL_ENGINE_STATS_H_
