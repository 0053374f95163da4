#include "firmware/acpi/dsdt.h"

#include <fmt/format.h>

#include <string>

#include "firmware/acpi/aml.h"

namespace x86vm {
namespace {

using namespace aml;

// Paths used across scopes, always fully qualified so that lookups never
// depend on the namespace search rules (ACPI 6.5 5.3).
constexpr std::string_view kPicModeFlag = "\\PICF";
constexpr std::string_view kIsaBridge = "\\_SB.PCI0.ISA";
constexpr char kPirqLetters[] = "ABCD";

std::string PirqRouteField(int pirq) {
  return fmt::format("\\_SB.PCI0.ISA.PRQ{}", kPirqLetters[pirq]);
}
std::string PicLink(int pirq) { return fmt::format("\\_SB.LNK{}", kPirqLetters[pirq]); }
std::string ApicLink(int pirq) { return fmt::format("\\_SB.GSI{}", kPirqLetters[pirq]); }

// _STA bits (6.3.7): present, enabled, shown in UI, functioning.
constexpr uint64_t kStaPresentEnabledFunctioning = 0x0b;
constexpr uint64_t kStaPresentFunctioning = 0x09;
// PIIX3 PIRQRC bit 7: routing disabled; bits 3:0: the ISA IRQ.
constexpr uint64_t kRouteDisabled = 0x80;
constexpr uint64_t kRouteIrqMask = 0x0f;
// Byte offset of the first interrupt number in an Interrupt() descriptor
// (6.4.3.6: tag, 2 length bytes, flags, count).
constexpr uint64_t kInterruptNumberOffset = 5;

// \_SB.Cnnn: one processor device per CPU (ACPI0007, 8.4); its _UID is the
// MADT processor UID.
std::vector<Aml> Processors(const AcpiMachine& m) {
  std::vector<Aml> out;
  for (size_t i = 0; i < m.cpu_apic_ids.size(); ++i) {
    out.push_back(Device(fmt::format("C{:03X}", i),
                         {Name("_HID", String("ACPI0007")), Name("_UID", Int(i))}));
  }
  return out;
}

// The PCI root bridge's resources (PCI Firmware Spec 3.2 4.1.5): bus
// numbers, the config ports it consumes, and the I/O and memory windows it
// decodes for devices below it.
Aml RootBridgeResources(const AcpiMachine& m) {
  uint16_t cfg = m.pci_config_port;
  return ResourceTemplate({
      WordBusNumber(0x00, 0xff),
      Io(cfg, cfg, 0x01, 0x08),
      WordIo(0x0000, static_cast<uint16_t>(cfg - 1)),
      WordIo(static_cast<uint16_t>(cfg + 8), 0xffff),
      // The legacy VGA window is forwarded to PCI whether or not a VGA sits
      // there.
      DWordMemory(Cacheability::kCacheable, 0x000a0000, 0x000bffff),
      DWordMemory(Cacheability::kNonCacheable, m.pci_mmio_start, m.pci_mmio_end),
  });
}

// _PRT (6.2.13) entries for every slot and pin: Package { address with
// function 0xFFFF, pin, source, source index }. Both tables name link
// devices, so that the GSI links can say "level, active high" (a _PRT entry
// naming a GSI directly is level, active-low by definition, which is not how
// the board drives GSI 16-19).
Aml RoutingTable(const AcpiMachine& m, bool apic_mode) {
  std::vector<Aml> entries;
  for (int slot = m.pci_first_slot; slot <= m.pci_last_slot; ++slot) {
    for (int pin = 0; pin < 4; ++pin) {
      int pirq = AcpiPirqForSlotPin(slot, pin);
      entries.push_back(Package({Int((uint64_t{static_cast<uint32_t>(slot)} << 16) | 0xffff),
                                 Int(static_cast<uint64_t>(pin)),
                                 NameString(apic_mode ? ApicLink(pirq) : PicLink(pirq)), Int(0)}));
    }
  }
  return Package(entries);
}

// \_SB.PCI0.ISA: the PIIX3 function with its PIRQ routing registers as a
// PCI config OperationRegion, and the ISA devices behind it.
Aml IsaBridge(const AcpiMachine& m) {
  std::vector<Aml> body = {
      Name("_ADR", Int((uint64_t{m.pirq_router_device} << 16) | m.pirq_router_function)),
      OperationRegion("PIRQ", RegionSpace::kPciConfig, Int(m.pirq_route_offset), Int(4)),
      Field("PIRQ", FieldAccess::kByte, FieldUpdate::kPreserve,
            {{"PRQA", 8}, {"PRQB", 8}, {"PRQC", 8}, {"PRQD", 8}}),
  };
  if (m.has_8042) {
    body.push_back(Device("KBD", {Name("_HID", EisaId("PNP0303")),
                                  Name("_CRS", ResourceTemplate({
                                                   Io(m.kbd_data_port, m.kbd_data_port, 1, 1),
                                                   Io(m.kbd_status_port, m.kbd_status_port, 1, 1),
                                                   IrqNoFlags({m.kbd_irq}),
                                               }))}));
    body.push_back(Device("MOU", {Name("_HID", EisaId("PNP0F13")),
                                  Name("_CRS", ResourceTemplate({IrqNoFlags({m.mouse_irq})}))}));
  }
  body.push_back(Device("RTC", {Name("_HID", EisaId("PNP0B00")),
                                Name("_CRS", ResourceTemplate({
                                                 Io(m.rtc_port, m.rtc_port, 1, m.rtc_port_count),
                                                 IrqNoFlags({m.rtc_irq}),
                                             }))}));
  for (size_t i = 0; i < m.serial_ports.size(); ++i) {
    const AcpiSerialPort& s = m.serial_ports[i];
    body.push_back(
        Device(fmt::format("COM{}", i + 1),
               {Name("_HID", EisaId("PNP0501")), Name("_UID", Int(i + 1)),
                Name("_CRS", ResourceTemplate({Io(s.port, s.port, 1, 8), IrqNoFlags({s.irq})}))}));
  }
  if (m.fw_cfg_port != 0) {
    // QEMU's fw_cfg device (Linux's qemu_fw_cfg driver binds to QEMU0002);
    // _STA 0x0B: present, enabled, functioning, not shown in the UI.
    body.push_back(Device(
        "FWCF", {Name("_HID", String("QEMU0002")), Name("_STA", Int(kStaPresentEnabledFunctioning)),
                 Name("_CRS", ResourceTemplate(
                                  {Io(m.fw_cfg_port, m.fw_cfg_port, 1, m.fw_cfg_port_count)}))}));
  }
  return Device(kIsaBridge, body);
}

// The interrupt descriptor every PCI link reports: level, active high,
// shared (PCI interrupts are level and shareable; the board drives them
// active high at both the 8259 and the IOAPIC).
Resource LinkInterrupt(const std::vector<uint32_t>& irqs) {
  return Interrupt(Trigger::kLevel, Polarity::kActiveHigh, Sharing::kShared, irqs);
}

// Helpers the PIC-mode links share (\_SB.IQST, \_SB.IQCR), as in QEMU's
// i440FX DSDT: the _STA and _CRS of a link from its PIRQRC value.
std::vector<Aml> LinkHelpers() {
  return {
      Method("\\_SB.IQST", 1, false,
             {If(And(Int(kRouteDisabled), Arg(0)), {Return(Int(kStaPresentFunctioning))}),
              Return(Int(kStaPresentEnabledFunctioning))}),
      // Serialized: it creates a named object on every call.
      Method("\\_SB.IQCR", 1, true,
             {Name("PRR0", ResourceTemplate({LinkInterrupt({0})})),
              CreateDWordField(NameString("PRR0"), Int(kInterruptNumberOffset), "PRRI"),
              If(LLess(Arg(0), Int(kRouteDisabled)),
                 {Store(And(Arg(0), Int(kRouteIrqMask)), NameString("PRRI"))}),
              Return(NameString("PRR0"))}),
  };
}

// \_SB.LNKx: PIRQx routed by the PIIX3 to an ISA IRQ (PCI Firmware Spec
// 3.2 and ACPI 6.5 6.2.13: interrupt link devices, PNP0C0F).
Aml PicLinkDevice(const AcpiMachine& m, int pirq) {
  std::vector<uint32_t> irqs(m.pirq_isa_irqs.begin(), m.pirq_isa_irqs.end());
  std::string route = PirqRouteField(pirq);
  return Device(
      PicLink(pirq),
      {Name("_HID", EisaId("PNP0C0F")), Name("_UID", Int(static_cast<uint64_t>(pirq))),
       Name("_PRS", ResourceTemplate({LinkInterrupt(irqs)})),
       Method("_STA", 0, false, {Return(Call("\\_SB.IQST", {NameString(route)}))}),
       Method("_DIS", 0, false, {Or(NameString(route), Int(kRouteDisabled), NameString(route))}),
       Method("_CRS", 0, false, {Return(Call("\\_SB.IQCR", {NameString(route)}))}),
       Method("_SRS", 1, false,
              {CreateDWordField(Arg(0), Int(kInterruptNumberOffset), "PRRI"),
               Store(NameString("PRRI"), NameString(route))})});
}

// \_SB.GSIx: PIRQx's fixed IOAPIC input (as QEMU's q35 GSIA-H links). _SRS
// accepts the only possible setting.
Aml ApicLinkDevice(const AcpiMachine& m, int pirq) {
  Aml crs = ResourceTemplate({LinkInterrupt({m.pirq_gsi_base + static_cast<uint32_t>(pirq)})});
  return Device(
      ApicLink(pirq),
      {Name("_HID", EisaId("PNP0C0F")), Name("_UID", Int(static_cast<uint64_t>(4 + pirq))),
       Name("_PRS", crs), Name("_CRS", crs), Method("_SRS", 1, false, {})});
}

}  // namespace

std::vector<uint8_t> BuildDsdtAml(const AcpiMachine& m) {
  std::vector<Aml> terms;
  // \_PIC(mode) (5.8.1): OSPM reports 0 = PIC, 1 = APIC; _PRT follows it.
  terms.push_back(Name(kPicModeFlag, Int(0)));
  terms.push_back(Method("\\_PIC", 1, false, {Store(Arg(0), NameString(kPicModeFlag))}));
  // \_S5 (7.4.2): SLP_TYPa, SLP_TYPb, reserved, reserved.
  terms.push_back(Name("\\_S5", Package({Int(m.slp_typ_s5), Int(m.slp_typ_s5), Int(0), Int(0)})));

  terms.push_back(Scope("\\_SB", Processors(m)));
  terms.push_back(Device(
      "\\_SB.PCI0",
      // _HID only: a device has _HID or _ADR, not both (ACPI
      // 6.5 6.1); the root bridge is bus 0 (_BBN default).
      {Name("_HID", EisaId("PNP0A03")), Name("_UID", Int(0)), Name("_CRS", RootBridgeResources(m)),
       Name("PRTP", RoutingTable(m, /*apic_mode=*/false)),
       Name("PRTA", RoutingTable(m, /*apic_mode=*/true)),
       Method("_PRT", 0, false,
              {If(NameString(kPicModeFlag), {Return(NameString("PRTA"))}),
               Return(NameString("PRTP"))})}));
  terms.push_back(IsaBridge(m));
  // Methods are defined before their callers: an AML parser needs a
  // method's argument count when it meets a call.
  for (Aml& helper : LinkHelpers()) terms.push_back(std::move(helper));
  for (int pirq = 0; pirq < 4; ++pirq) terms.push_back(PicLinkDevice(m, pirq));
  for (int pirq = 0; pirq < 4; ++pirq) terms.push_back(ApicLinkDevice(m, pirq));

  std::vector<uint8_t> out;
  for (const Aml& t : terms) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

}  // namespace x86vm
