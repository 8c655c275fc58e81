//! The i440FX/PIIX3 chipset functions of QEMU's `pc` machine, as PCI configuration spaces:
//! the i440FX host bridge (00:00.0), the PIIX3 PCI-to-ISA bridge (00:01.0) and the PIIX4
//! power-management function (00:01.3), and the PIIX3's reset control register at 0xCF9
//! (a write with bit 2 set resets the system). IDs, class codes, revisions, header types, reset
//! values and writable bits are the ones QEMU 10 shows: every byte from 0x40 up is plain
//! read/write storage, as in QEMU (no PAM or PIRQ reserved bits, no SMRAM D_LCK, PMBA and SMBBA
//! bit 0 writable). The registers' side effects on the memory map (PAM shadowing, SMRAM
//! windows, the PM and SMBus I/O blocks) are not emulated.
//!
//! The PIIX4 PM function does keep a record of the I/O windows it decodes (the PM block and the
//! SMBus block; [`IoWindows`]), as QEMU's `pm_io_space_update` / `smbus_io_space_update` would
//! map them, and holds that record to one invariant: the windows never overlap. A window whose
//! new range would overlap the other is not decoded until the guest moves one of them away.

#[cfg(feature = "planted-bugs")]
use crate::planted_bug::Bug;
use crate::planted_bug::{Planted, PlantedBug};
use harness::access::{AccessRules, AccessSize, Space};
use harness::device::{Context, Device, RegionId, RegionSpec};
use harness::pci::PciConfig;
use std::fmt;

/// PIIX3: the reset control register's region (QEMU's `piix-reset-control`).
pub const RESET_CONTROL_REGION: RegionId = RegionId(0);
/// I/O port of the reset control register: byte 1 of the PCI host's CONFIG_ADDRESS, which
/// the register is mapped over (QEMU maps it there at priority 1).
pub const RESET_CONTROL_PORT: u64 = 0xcf9;
/// Reset control: RST_CPU, a write with it set resets the system.
const RCR_RESET_CPU: u8 = 0x04;
/// Reset control bits a write keeps: SYS_RST (1), RST_CPU (2), FULL_RST (3).
const RCR_KEPT: u8 = 0x0e;
/// The reset control register takes single bytes.
const RCR_RULES: AccessRules = AccessRules {
    valid_min: AccessSize::B1,
    valid_max: AccessSize::B1,
    unaligned: false,
    impl_min: AccessSize::B1,
    impl_max: AccessSize::B1,
    impl_unaligned: false,
};

/// Intel's PCI vendor ID.
const VENDOR_INTEL: u16 = 0x8086;
/// Subsystem vendor/ID QEMU gives every function (Red Hat / QEMU).
const SUBSYSTEM: (u16, u16) = (0x1af4, 0x1100);

/// Configuration status of the PIIX3 and PIIX4 functions: DEVSEL medium (0x0200), and fast
/// back-to-back capable for PIIX4 PM (0x0080), as QEMU sets them.
const STATUS_DEVSEL_MEDIUM: u16 = 0x0200;
const STATUS_FAST_BACK: u16 = 0x0080;

/// i440FX: RAM size in 8 MiB units (QEMU's `I440FX_COREBOOT_RAM_SIZE`).
const I440FX_RAM_SIZE: u8 = 0x57;
/// The `pc` machine's RAM (128 MiB) in 8 MiB units.
const RAM_SIZE_8M: u8 = 128 / 8;
/// i440FX: SMRAM control (datasheet §3.2.20).
const I440FX_SMRAM: u8 = 0x72;
/// SMRAM reset value: C_BASE_SEG = 010 (0xA0000), everything else clear.
const SMRAM_RESET: u8 = 0x02;

/// PIIX3: PIRQ[A-D] route control, 0x60..0x63 (bit 7 disables routing; reset 0x80).
const PIIX3_PIRQRC: u8 = 0x60;
/// PIIX3: ISA I/O recovery timer.
const PIIX3_IORT: u8 = 0x4c;
/// PIIX3: X-bus chip select.
const PIIX3_XBCS: u8 = 0x4e;
/// PIIX3: top of memory.
const PIIX3_TOM: u8 = 0x69;
/// PIIX3: motherboard IRQ route control 0/1.
const PIIX3_MBIRQ0: u8 = 0x70;
/// PIIX3: motherboard DMA control 0/1.
const PIIX3_MBDMA0: u8 = 0x76;
/// PIIX3: programmable chip select control.
const PIIX3_PCSC: u8 = 0x78;
/// PIIX3: SMI control.
const PIIX3_SMICNTL: u8 = 0xa0;
/// PIIX3: system event enable (QEMU's reset value 0x0F).
const PIIX3_SEE: u8 = 0xa8;

/// PIIX4 PM: power-management I/O base (bit 0 reads 1: I/O space indicator).
const PIIX4_PMBA: u8 = 0x40;
/// PIIX4 PM: SMBus I/O base (bit 0 reads 1).
const PIIX4_SMBBA: u8 = 0x90;
/// PIIX4 PM: miscellaneous power-management register; bit 0 (PMIOSE) enables the PM I/O block.
const PIIX4_PMREGMISC: u8 = 0x80;
/// PIIX4 PM: SMBus host configuration; bit 0 (SMB_HST_EN) enables the SMBus I/O block.
const PIIX4_SMBHSTCFG: u8 = 0xd2;
/// PIIX4 PM: device activity / resource enables QEMU sets (0x5F: 0x10, 0x63: 0x60; 0x67
/// holds the serial-port decode enables, 0 on `pc`, which has no serial port).
const PIIX4_DEVACTB_HI: u8 = 0x5f;
const PIIX4_DEVRESD_HI: u8 = 0x63;
/// The SMBus block QEMU's `pc` programs at power-on (SMBBA 0xB101, SMBHSTCFG 0x09: enabled,
/// SMI/IRQ select 9).
const PC_SMBUS_BASE: u32 = 0xb100;
const SMBHSTCFG_RESET: u8 = 0x09;
/// Base-address bits of PMBA (a 64-byte block).
const PM_BASE_MASK: u32 = 0xffc0;
/// Size of the PM I/O block.
const PM_BLOCK_SIZE: u16 = 64;
/// Base-address bits of SMBBA (a 16-byte block).
const SMB_BASE_MASK: u32 = 0xfff0;
/// Size of the SMBus I/O block.
const SMB_BLOCK_SIZE: u16 = 16;

/// An I/O port range a chipset function decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoWindow {
    /// First port.
    pub base: u16,
    /// Number of ports.
    pub size: u16,
}

impl fmt::Display for IoWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = u32::from(self.base) + u32::from(self.size).max(1) - 1;
        write!(f, "{:#06x}-{last:#06x}", self.base)
    }
}

impl IoWindow {
    /// Whether the two ranges share a port.
    pub fn overlaps(self, other: IoWindow) -> bool {
        let end = |w: IoWindow| u32::from(w.base) + u32::from(w.size);
        u32::from(self.base) < end(other) && u32::from(other.base) < end(self)
    }
}

/// The PIIX4 PM function's I/O windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmWindow {
    /// The power-management block (PMBA, enabled by PMREGMISC bit 0).
    Pm = 0,
    /// The SMBus host block (SMBBA, enabled by SMBHSTCFG bit 0).
    Smbus = 1,
}

impl PmWindow {
    const ALL: [PmWindow; 2] = [PmWindow::Pm, PmWindow::Smbus];
}

/// The record of the I/O windows a function decodes, which refuses overlapping registrations
/// (as bhyve's `register_inout` refuses a port range that already has a handler).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoWindows {
    slots: [Option<IoWindow>; 2],
}

/// A window registration that would overlap a window already registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowConflict {
    /// The window being registered.
    pub window: IoWindow,
    /// The registered window it overlaps.
    pub existing: IoWindow,
}

impl fmt::Display for WindowConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ports {} overlap {}", self.window, self.existing)
    }
}

impl IoWindows {
    /// The window decoded for `which`, if any.
    pub fn get(&self, which: PmWindow) -> Option<IoWindow> {
        self.slots[which as usize]
    }

    /// The registered window (other than `which`'s own) that `window` would overlap.
    pub fn conflict(&self, which: PmWindow, window: IoWindow) -> Option<IoWindow> {
        PmWindow::ALL
            .into_iter()
            .filter(|&w| w != which)
            .filter_map(|w| self.get(w))
            .find(|w| w.overlaps(window))
    }

    /// Register `window` for `which` (replacing its old range), unless it overlaps another.
    pub fn register(&mut self, which: PmWindow, window: IoWindow) -> Result<(), WindowConflict> {
        if let Some(existing) = self.conflict(which, window) {
            return Err(WindowConflict { window, existing });
        }
        self.slots[which as usize] = Some(window);
        Ok(())
    }

    /// Stop decoding `which`.
    pub fn unregister(&mut self, which: PmWindow) {
        self.slots[which as usize] = None;
    }
}

/// Which chipset function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChipsetKind {
    /// i440FX PCI and memory controller (host bridge), 8086:1237.
    I440fx,
    /// PIIX3 PCI-to-ISA bridge, 8086:7000 (multi-function device).
    Piix3,
    /// PIIX4 power management / ACPI function, 8086:7113.
    Piix4Pm,
}

/// A chipset PCI function: configuration space only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipsetFunction {
    kind: ChipsetKind,
    cfg: PciConfig,
    /// The I/O windows decoded (PIIX4 PM only; empty for the others).
    windows: IoWindows,
    /// The reset control register (PIIX3 only; 0 for the others).
    reset_control: u8,
    /// Planted bugs this function was built with (kept across resets).
    planted: Planted,
}

impl ChipsetFunction {
    /// The function in its power-on state.
    pub fn new(kind: ChipsetKind) -> Self {
        Self::with_planted(kind, Planted::NONE)
    }

    /// The function with `planted`, its part of the selection (entries of [`PLANTED`]), kept
    /// across resets.
    pub fn with_planted(kind: ChipsetKind, planted: Planted) -> Self {
        let mut f = Self {
            kind,
            cfg: Self::power_on_config(kind),
            windows: IoWindows::default(),
            reset_control: 0,
            planted,
        };
        f.power_on_windows();
        f
    }

    /// The windows the power-on registers decode: the SMBus block of PIIX4 PM (registered
    /// as the machine builds it, not through the guest's reprogramming path).
    fn power_on_windows(&mut self) {
        self.windows = IoWindows::default();
        if let Some(window) = self.programmed_window(PmWindow::Smbus) {
            let _ = self.windows.register(PmWindow::Smbus, window);
        }
    }

    fn power_on_config(kind: ChipsetKind) -> PciConfig {
        match kind {
            ChipsetKind::I440fx => {
                let mut c = PciConfig::new(VENDOR_INTEL, 0x1237, 0x06_00_00, 0x02, 0x00)
                    .with_subsystem(SUBSYSTEM.0, SUBSYSTEM.1);
                c.set_u8(I440FX_RAM_SIZE, RAM_SIZE_8M);
                c.set_u8(I440FX_SMRAM, SMRAM_RESET);
                c
            }
            ChipsetKind::Piix3 => {
                let mut c = PciConfig::new(
                    VENDOR_INTEL,
                    0x7000,
                    0x06_01_00,
                    0x00,
                    harness::pci::HEADER_MULTI_FUNCTION,
                )
                .with_subsystem(SUBSYSTEM.0, SUBSYSTEM.1);
                c.set_u16(harness::pci::STATUS, STATUS_DEVSEL_MEDIUM);
                c.set_u8(PIIX3_IORT, 0x4d);
                c.set_u16(PIIX3_XBCS, 0x0003);
                c.set_u32(PIIX3_PIRQRC, 0x8080_8080);
                c.set_u8(PIIX3_TOM, 0x02);
                // MBIRQ0 disabled; QEMU leaves MBIRQ1 (0x71) at 0.
                c.set_u8(PIIX3_MBIRQ0, 0x80);
                c.set_u16(PIIX3_MBDMA0, 0x0c0c);
                c.set_u16(PIIX3_PCSC, 0x0002);
                c.set_u8(PIIX3_SMICNTL, 0x08);
                c.set_u8(PIIX3_SEE, 0x0f);
                c
            }
            ChipsetKind::Piix4Pm => {
                let mut c = PciConfig::new(VENDOR_INTEL, 0x7113, 0x06_80_00, 0x03, 0x00)
                    .with_subsystem(SUBSYSTEM.0, SUBSYSTEM.1)
                    .with_interrupt_pin(1);
                c.set_u16(
                    harness::pci::STATUS,
                    STATUS_DEVSEL_MEDIUM | STATUS_FAST_BACK,
                );
                c.set_u32(PIIX4_PMBA, 0x0000_0001);
                c.set_u8(PIIX4_DEVACTB_HI, 0x10);
                c.set_u8(PIIX4_DEVRESD_HI, 0x60);
                c.set_u32(PIIX4_SMBBA, PC_SMBUS_BASE | 1);
                c.set_u8(PIIX4_SMBHSTCFG, SMBHSTCFG_RESET);
                c
            }
        }
    }

    /// The PIIX3 reset control register (RC): the system resets after the write when
    /// RST_CPU is set.
    fn write_reset_control(&mut self, ctx: &mut dyn Context, value: u8) {
        self.reset_control = value & RCR_KEPT;
        if value & RCR_RESET_CPU != 0 {
            ctx.request_reset();
        }
    }

    /// The I/O windows the function decodes now (always empty but for PIIX4 PM).
    #[cfg(test)]
    pub fn io_windows(&self) -> IoWindows {
        self.windows
    }

    /// The window the configuration space asks `which` to decode: enabled and with a nonzero
    /// base. (QEMU would also decode base 0, which shadows the DMA controller; firmware always
    /// programs a base before enabling, and the model does not decode an unprogrammed one.)
    fn programmed_window(&self, which: PmWindow) -> Option<IoWindow> {
        let (base_reg, mask, enable_reg, size) = match which {
            PmWindow::Pm => (PIIX4_PMBA, PM_BASE_MASK, PIIX4_PMREGMISC, PM_BLOCK_SIZE),
            PmWindow::Smbus => (PIIX4_SMBBA, SMB_BASE_MASK, PIIX4_SMBHSTCFG, SMB_BLOCK_SIZE),
        };
        let base = u16::try_from(self.cfg.u32(base_reg) & mask).ok()?;
        (self.cfg.u8(enable_reg) & 1 != 0 && base != 0).then_some(IoWindow { base, size })
    }

    /// After a configuration write: bring the decoded windows in line with the registers.
    fn update_io_windows(&mut self, ctx: &mut dyn Context) {
        for which in PmWindow::ALL {
            let wanted = self.programmed_window(which);
            if self.windows.get(which) == wanted {
                continue;
            }
            self.windows.unregister(which);
            if let Some(window) = wanted {
                self.map_window(ctx, which, window);
            }
        }
    }

    /// Decode `window` for `which`: refuse it (leave it undecoded) if it overlaps the other
    /// window, otherwise register it, which must then succeed.
    fn map_window(&mut self, ctx: &mut dyn Context, which: PmWindow, window: IoWindow) {
        if self.validates_overlap(ctx, which, window) {
            if let Some(existing) = self.windows.conflict(which, window) {
                tracing::debug!(
                    target: "piix4_pm",
                    "{which:?} window {window} overlaps {existing}: not decoded"
                );
                return;
            }
        }
        tracing::trace!(target: "piix4_pm_io_map", "{which:?} {window}");
        // The registry's invariant, as bhyve's `assert(error == 0)` after `register_inout`.
        let registered = self.windows.register(which, window);
        assert!(
            registered.is_ok(),
            "PIIX4 PM: {which:?} I/O window registration failed: {}",
            registered.err().map(|c| c.to_string()).unwrap_or_default()
        );
    }

    /// Whether [`Self::map_window`] checks for an overlap before registering (always, in the
    /// fixed model).
    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn validates_overlap(&self, ctx: &mut dyn Context, which: PmWindow, window: IoWindow) -> bool {
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(BAR_OVERLAP) {
            // PLANTED BUG `pci-bar-overlap`: a reprogrammed base is registered without checking
            // it against the other window (bhyve's modify_bar_registration path).
            BAR_OVERLAP.reached(ctx);
            if self.windows.conflict(which, window).is_some() {
                BAR_OVERLAP.triggered(ctx);
            }
            return false;
        }
        true
    }
}

impl Device for ChipsetFunction {
    fn name(&self) -> &'static str {
        match self.kind {
            ChipsetKind::I440fx => "i440FX",
            ChipsetKind::Piix3 => "PIIX3",
            ChipsetKind::Piix4Pm => "PIIX4_PM",
        }
    }

    fn regions(&self) -> Vec<RegionSpec> {
        match self.kind {
            ChipsetKind::Piix3 => vec![RegionSpec::new(
                "piix-reset-control",
                Space::Io,
                1,
                RCR_RULES,
            )],
            ChipsetKind::I440fx | ChipsetKind::Piix4Pm => Vec::new(),
        }
    }

    fn read(
        &mut self,
        _ctx: &mut dyn Context,
        region: RegionId,
        _offset: u64,
        size: AccessSize,
    ) -> u64 {
        if self.kind == ChipsetKind::Piix3 && region == RESET_CONTROL_REGION {
            return u64::from(self.reset_control);
        }
        size.mask()
    }

    fn write(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        _offset: u64,
        _size: AccessSize,
        value: u64,
    ) {
        if self.kind == ChipsetKind::Piix3 && region == RESET_CONTROL_REGION {
            self.write_reset_control(ctx, value as u8);
        }
    }

    fn pci(&self) -> Option<&PciConfig> {
        Some(&self.cfg)
    }

    fn pci_mut(&mut self) -> Option<&mut PciConfig> {
        Some(&mut self.cfg)
    }

    fn config_write(&mut self, ctx: &mut dyn Context, offset: u8, size: AccessSize, value: u32) {
        self.cfg.write(offset, size, value);
        if self.kind == ChipsetKind::Piix4Pm {
            self.update_io_windows(ctx);
        }
    }

    fn reset(&mut self) {
        self.cfg = Self::power_on_config(self.kind);
        self.power_on_windows();
        self.reset_control = 0;
    }
}

/// The chipset's planted bugs (see [`crate::planted`]).
pub const PLANTED: &[PlantedBug] = &[PlantedBug {
    id: "pci-bar-overlap",
    device: "PIIX4_PM",
    target: "pci",
    cites: "Morphuzz (USENIX Sec '22) modify_bar_registration assertion class: bhyve \
                pci_emul.c register_inout fails on an overlapping guest-programmed I/O BAR, \
                then assert(error == 0)",
    description: "PIIX4 PM decodes two I/O windows: the PM block (base at config 0x40, 64 \
                      bytes, enabled by PMREGMISC 0x80 bit 0) and the SMBus block (base at 0x90, \
                      16 bytes, enabled by SMBHSTCFG 0xD2 bit 0). The function registers each \
                      decoded window and asserts the registration succeeds; the registry refuses \
                      overlapping ranges. The fixed model declines to decode a window that would \
                      overlap the other; the planted bug registers a reprogrammed window without \
                      that check (triggered), so the registration assertion fails. Sequence: \
                      the SMBus block is decoded from power-on (at 0xB100, as QEMU's `pc` \
                      programs it); move it and the PM base to overlapping nonzero ranges and \
                      enable the PM block (three configuration writes, in any order).",
}];

/// `pci-bar-overlap`, in PIIX4 PM's I/O windows.
#[cfg(feature = "planted-bugs")]
const BAR_OVERLAP: Bug = Bug::of(PLANTED, 0);

#[cfg(test)]
mod tests {
    use super::*;
    use harness::testing::TestContext;

    fn dwords(f: &ChipsetFunction) -> Vec<u32> {
        (0..16).map(|i| f.cfg.read(i * 4, AccessSize::B4)).collect()
    }

    #[test]
    fn headers_match_qemu_pc_reset_state() {
        // facts §5.3, one row per device: dwords 0x00..0x3C.
        let row = |v: [u32; 4], last: u32| {
            let mut d = vec![
                v[0], v[1], v[2], v[3], 0, 0, 0, 0, 0, 0, 0, 0x11001af4, 0, 0, 0, last,
            ];
            d.truncate(16);
            d
        };
        assert_eq!(
            dwords(&ChipsetFunction::new(ChipsetKind::I440fx)),
            row([0x12378086, 0, 0x06000002, 0], 0)
        );
        assert_eq!(
            dwords(&ChipsetFunction::new(ChipsetKind::Piix3)),
            row([0x70008086, 0x02000000, 0x06010000, 0x00800000], 0)
        );
        assert_eq!(
            dwords(&ChipsetFunction::new(ChipsetKind::Piix4Pm)),
            row([0x71138086, 0x02800000, 0x06800003, 0], 0x100)
        );
    }

    #[test]
    fn reset_values_beyond_the_header_match_qemu() {
        // QEMU 10, -M pc -m 128M -nodefaults [V].
        let i440fx = ChipsetFunction::new(ChipsetKind::I440fx);
        assert_eq!(
            i440fx.cfg.read(0x54, AccessSize::B4),
            0x1000_0000,
            "RAM size"
        );
        assert_eq!(i440fx.cfg.u8(I440FX_SMRAM), SMRAM_RESET);
        let piix3 = ChipsetFunction::new(ChipsetKind::Piix3);
        assert_eq!(piix3.cfg.read(0x04, AccessSize::B4), 0x0200_0000);
        assert_eq!(piix3.cfg.read(0x70, AccessSize::B4), 0x80);
        assert_eq!(piix3.cfg.read(0xa8, AccessSize::B4), 0x0f);
        let pm = ChipsetFunction::new(ChipsetKind::Piix4Pm);
        assert_eq!(pm.cfg.read(0x04, AccessSize::B4), 0x0280_0000);
        assert_eq!(pm.cfg.read(0x5c, AccessSize::B4), 0x1000_0000);
        assert_eq!(pm.cfg.read(0x60, AccessSize::B4), 0x6000_0000);
        assert_eq!(
            pm.cfg.read(0x64, AccessSize::B4),
            0,
            "no serial port decode"
        );
        assert_eq!(pm.cfg.read(0x90, AccessSize::B4), 0xb101);
        assert_eq!(pm.cfg.read(0xd0, AccessSize::B4), 0x0009_0000);
    }

    #[test]
    fn device_registers_are_plain_storage_as_in_qemu() {
        let mut ctx = TestContext::new(0);
        for (kind, offsets) in [
            (ChipsetKind::I440fx, [0x58u8, 0x5c, 0x70]),
            (ChipsetKind::Piix3, [0x60, 0x70, 0xa0]),
            (ChipsetKind::Piix4Pm, [0x40, 0x90, 0xd0]),
        ] {
            let mut f = ChipsetFunction::new(kind);
            for off in offsets {
                f.config_write(&mut ctx, off, AccessSize::B4, 0xffff_ffff);
                assert_eq!(
                    f.cfg.read(off, AccessSize::B4),
                    0xffff_ffff,
                    "{kind:?} {off:#x}"
                );
                f.config_write(&mut ctx, off, AccessSize::B4, 0);
                assert_eq!(f.cfg.read(off, AccessSize::B4), 0, "{kind:?} {off:#x}");
            }
            f.reset();
            assert_eq!(f, ChipsetFunction::new(kind));
        }
    }

    #[test]
    fn pm_windows_decode_when_enabled_and_never_overlap() {
        let mut ctx = TestContext::new(0);
        let mut f = ChipsetFunction::new(ChipsetKind::Piix4Pm);
        let w = |base, size| Some(IoWindow { base, size });
        // Power-on: the SMBus block at 0xB100 (QEMU's pc), the PM block disabled.
        assert_eq!(f.io_windows().get(PmWindow::Smbus), w(0xb100, 16));
        assert_eq!(f.io_windows().get(PmWindow::Pm), None);
        // Enabled with the reset base (0): not decoded.
        f.config_write(&mut ctx, PIIX4_PMREGMISC, AccessSize::B1, 1);
        assert_eq!(f.io_windows().get(PmWindow::Pm), None);
        f.config_write(&mut ctx, PIIX4_PMBA, AccessSize::B4, 0x600);
        assert_eq!(f.io_windows().get(PmWindow::Pm), w(0x600, 64));
        // SMBus inside the PM block: refused, not decoded, no panic.
        f.config_write(&mut ctx, PIIX4_SMBBA, AccessSize::B4, 0x621);
        assert_eq!(f.io_windows().get(PmWindow::Smbus), None);
        assert_eq!(f.cfg.read(PIIX4_SMBBA, AccessSize::B4), 0x621);
        // Moving the PM block away lets the SMBus block decode.
        f.config_write(&mut ctx, PIIX4_PMBA, AccessSize::B4, 0xb001);
        assert_eq!(f.io_windows().get(PmWindow::Pm), w(0xb000, 64));
        assert_eq!(f.io_windows().get(PmWindow::Smbus), w(0x620, 16));
        // Disabling drops the window; reset returns to the power-on windows.
        f.config_write(&mut ctx, PIIX4_PMREGMISC, AccessSize::B1, 0);
        assert_eq!(f.io_windows().get(PmWindow::Pm), None);
        f.reset();
        assert_eq!(f, ChipsetFunction::new(ChipsetKind::Piix4Pm));
    }

    #[test]
    fn reset_control_keeps_its_bits_and_bit_2_requests_a_system_reset() {
        let mut ctx = TestContext::new(0);
        let mut piix3 = ChipsetFunction::new(ChipsetKind::Piix3);
        let rc = RESET_CONTROL_REGION;
        piix3.write(&mut ctx, rc, 0, AccessSize::B1, 0xf2);
        assert_eq!(piix3.read(&mut ctx, rc, 0, AccessSize::B1), 0x02);
        assert!(!ctx.reset_requested);
        piix3.write(&mut ctx, rc, 0, AccessSize::B1, 0x06);
        assert!(ctx.reset_requested);
        piix3.reset();
        assert_eq!(piix3, ChipsetFunction::new(ChipsetKind::Piix3));
        assert!(
            ChipsetFunction::new(ChipsetKind::I440fx)
                .regions()
                .is_empty()
        );
    }

    #[test]
    fn io_window_overlap_is_symmetric_and_half_open() {
        let a = IoWindow {
            base: 0x600,
            size: 64,
        };
        assert!(a.overlaps(IoWindow {
            base: 0x63f,
            size: 16
        }));
        assert!(
            IoWindow {
                base: 0x5f1,
                size: 16
            }
            .overlaps(a)
        );
        assert!(!a.overlaps(IoWindow {
            base: 0x640,
            size: 16
        }));
        assert!(
            !IoWindow {
                base: 0x5f0,
                size: 16
            }
            .overlaps(a)
        );
        assert!(
            IoWindow {
                base: 0xfff0,
                size: 16
            }
            .overlaps(IoWindow {
                base: 0xffc0,
                size: 64
            })
        );
    }
}
