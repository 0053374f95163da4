// The device contract (STYLE.md): a name, reset, and one Serialize that both
// saves and loads. Bus access is separate (BusTarget in bus.h) so a device with
// several register windows can expose one target per window.
#ifndef X86VM_DEVICES_DEVICE_H_
#define X86VM_DEVICES_DEVICE_H_

#include <string_view>

#include "base/serializer.h"

namespace x86vm {

// A piece of the machine with state: every device, and the clock.
class Device {
 public:
  virtual ~Device() = default;
  // Short stable name; also the section name in snapshots ("pit", "com1").
  virtual std::string_view name() const = 0;
  // Returns to the power-on state (a system reset).
  virtual void Reset() = 0;
  // Saves or loads all guest-visible state, inside one Section.
  virtual void Serialize(Serializer& s) = 0;
};

}  // namespace x86vm

#endif  // X86VM_DEVICES_DEVICE_H_
