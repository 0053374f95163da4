#include "machine/pc_acpi.h"

#include "machine/pc.h"

namespace x86vm {

AcpiMachine DescribePcForAcpi(int cpus) {
  AcpiMachine m;
  for (int i = 0; i < cpus; ++i) m.cpu_apic_ids.push_back(static_cast<uint8_t>(i));
  m.lapic_address = static_cast<uint32_t>(LocalApic::kDefaultBase);
  m.ioapic_id = 0;
  m.ioapic_address = static_cast<uint32_t>(IoApic::kDefaultBase);
  m.irq_overrides = {
      {0, static_cast<uint32_t>(PcMachine::IsaIrqToGsi(0)), false, false},
      {AcpiPm::kSciIrq, static_cast<uint32_t>(PcMachine::IsaIrqToGsi(AcpiPm::kSciIrq)), true,
       false},
  };
  constexpr uint16_t pm = AcpiPm::kDefaultBase;
  m.sci_irq = AcpiPm::kSciIrq;
  m.pm1a_evt_port = pm + AcpiPm::kPm1EvtOffset;
  m.pm1_evt_len = AcpiPm::kPm1EvtLen;
  m.pm1a_cnt_port = pm + AcpiPm::kPm1CntOffset;
  m.pm1_cnt_len = AcpiPm::kPm1CntLen;
  m.pm_tmr_port = pm + AcpiPm::kPmTmrOffset;
  m.pm_tmr_len = AcpiPm::kPmTmrLen;
  m.gpe0_port = pm + AcpiPm::kGpe0Offset;
  m.gpe0_len = AcpiPm::kGpe0Len;
  m.reset_port = pm + AcpiPm::kResetRegOffset;
  m.reset_value = AcpiPm::kResetValue;
  m.slp_typ_s5 = AcpiPm::kSlpTypS5;
  for (int i = 0; i < 2; ++i) {
    m.serial_ports.push_back({PcMachine::kComPorts[static_cast<size_t>(i)],
                              static_cast<uint8_t>(PcMachine::kComIrqs[static_cast<size_t>(i)])});
  }
  m.fw_cfg_port = FwCfg::kIoPort;
  m.fw_cfg_port_count = static_cast<uint8_t>(FwCfg::kDmaPort + 8 - FwCfg::kIoPort);
  m.pirq_router_device = 1;
  m.pirq_router_function = 0;
  m.pirq_route_offset = Piix3IsaBridge::kPirqRouteA;
  m.pirq_isa_irqs = {5, 10, 11};
  m.pirq_gsi_base = 16;
  return m;
}

}  // namespace x86vm
