// What the ACPI tables describe: the machine as the board wired it. The
// board fills this from its own constants (machine/pc.cc, devices/*.h); the
// table generator reads nothing else, so it needs no device classes.
#ifndef X86VM_FIRMWARE_ACPI_ACPI_MACHINE_H_
#define X86VM_FIRMWARE_ACPI_ACPI_MACHINE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace x86vm {

// An ISA IRQ that reaches the IOAPIC on another GSI or with other than ISA
// (edge, active-high) signalling: one MADT Interrupt Source Override
// (ACPI 6.5 5.2.12.5).
struct AcpiIrqOverride {
  uint8_t isa_irq;
  uint32_t gsi;
  bool level_triggered;
  bool active_low;
};

// A legacy UART for the DSDT (PNP0501 with IO and IRQ).
struct AcpiSerialPort {
  uint16_t port;
  uint8_t irq;
};

// The machine, as far as ACPI tables say anything about it.
struct AcpiMachine {
  // --- Processors and interrupt controllers (MADT) ---
  // Local APIC ID of each CPU; its index is the ACPI processor UID.
  std::vector<uint8_t> cpu_apic_ids;
  uint32_t lapic_address = 0xfee00000;
  uint8_t ioapic_id = 0;
  uint32_t ioapic_address = 0xfec00000;
  uint32_t ioapic_gsi_base = 0;
  // Dual 8259s present (MADT flag PCAT_COMPAT).
  bool has_8259 = true;
  std::vector<AcpiIrqOverride> irq_overrides;
  // The LAPIC LINT input wired to NMI, for every CPU (MADT Local APIC NMI).
  uint8_t nmi_lint = 1;

  // --- ACPI fixed hardware (FADT), I/O ports ---
  uint16_t sci_irq = 0;
  uint16_t pm1a_evt_port = 0;
  uint8_t pm1_evt_len = 0;
  uint16_t pm1a_cnt_port = 0;
  uint8_t pm1_cnt_len = 0;
  uint16_t pm_tmr_port = 0;
  uint8_t pm_tmr_len = 0;  // 4; the counter is 24 bits (TMR_VAL_EXT = 0).
  uint16_t gpe0_port = 0;  // 0: no GPE0 block.
  uint8_t gpe0_len = 0;
  // FADT RESET_REG (system I/O, 8 bits) and RESET_VALUE.
  uint16_t reset_port = 0;
  uint8_t reset_value = 0;
  // SLP_TYPa/b for \_S5 (the only sleep state offered).
  uint8_t slp_typ_s5 = 0;
  // CMOS index of the RTC century byte (FADT CENTURY).
  uint8_t rtc_century_index = 0x32;
  // IAPC_BOOT_ARCH: an 8042 keyboard controller, a VGA (legacy ports and
  // framebuffer at 0xA0000).
  bool has_8042 = true;
  bool vga_present = false;

  // --- ISA devices (DSDT, under \_SB.PCI0.ISA_) ---
  uint16_t kbd_data_port = 0x60;
  uint16_t kbd_status_port = 0x64;
  uint8_t kbd_irq = 1;
  uint8_t mouse_irq = 12;
  uint16_t rtc_port = 0x70;
  uint8_t rtc_port_count = 2;
  uint8_t rtc_irq = 8;
  // Described in order with _UID 1, 2, ... (COM1 first).
  std::vector<AcpiSerialPort> serial_ports;
  // QEMU's fw_cfg I/O window (device QEMU0002), 0 for none.
  uint16_t fw_cfg_port = 0;
  uint8_t fw_cfg_port_count = 0;

  // --- PCI root bus (DSDT \_SB.PCI0) ---
  uint16_t pci_config_port = 0xcf8;  // The 8 bytes 0xCF8-0xCFF.
  // The 32-bit MMIO window for BARs: [start, end] inclusive.
  uint32_t pci_mmio_start = 0xc0000000;
  uint32_t pci_mmio_end = 0xfebfffff;
  // The PIRQ router: PCI device/function of the PIIX3 and the config
  // offset of PIRQRC[A] (B-D follow); bit 7 disables a route.
  uint8_t pirq_router_device = 1;
  uint8_t pirq_router_function = 0;
  uint8_t pirq_route_offset = 0x60;
  // ISA IRQs the link devices may be routed to (PIC mode).
  std::vector<uint8_t> pirq_isa_irqs;
  // PIRQA-D reach IOAPIC GSI pirq_gsi_base + 0..3 (APIC mode), level
  // triggered and active high as the board drives those wires.
  uint32_t pirq_gsi_base = 16;
  // PCI slots given _PRT entries: [first, last].
  uint8_t pci_first_slot = 1;
  uint8_t pci_last_slot = 31;

  // --- Table identification ---
  std::string oem_id = "X86VM";          // Up to 6 characters.
  std::string oem_table_id = "X86VMPC";  // Up to 8 characters.
};

// The PIRQ (0-3 = A-D) that INTx pin `pin` (0-3 = INTA-D, the _PRT
// numbering) of device `slot` reaches on bus 0: the i440FX/PIIX3 swizzle
// that PciBus::PirqForPin implements and the _PRT describes.
inline int AcpiPirqForSlotPin(int slot, int pin) { return (slot + pin - 1) & 3; }

}  // namespace x86vm

#endif  // X86VM_FIRMWARE_ACPI_ACPI_MACHINE_H_
