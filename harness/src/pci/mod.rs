//! PCI: the type-0 configuration header helper, BAR decoding and configuration mechanism #1
//! addresses.
//!
//! A PCI device owns a [`PciConfig`]; the machine reads BARs and the command register from it
//! after every configuration write to the command register, a BAR or the ROM BAR, and maps or
//! unmaps the BAR regions (see `machine/bus.rs`).
//! Masks follow QEMU's defaults (facts §5.2): command bits IO/MEM/MASTER/SERR/INTX_DISABLE writable,
//! status bits 0xF900 write-1-to-clear, cache line size and interrupt line scratch, everything
//! from 0x40 up writable unless the device narrows it.

use crate::access::{AccessSize, Space};
use crate::ids::RegionId;
use std::fmt;

mod bar64;
mod rom;

/// Vendor ID (u16).
pub const VENDOR_ID: u8 = 0x00;
/// Device ID (u16).
pub const DEVICE_ID: u8 = 0x02;
/// Command register (u16).
pub const COMMAND: u8 = 0x04;
/// Status register (u16).
pub const STATUS: u8 = 0x06;
/// Revision ID (u8).
pub const REVISION_ID: u8 = 0x08;
/// Class code: prog-if at 0x09, subclass 0x0A, base class 0x0B.
pub const CLASS_PROG: u8 = 0x09;
/// Cache line size (u8, writable scratch).
pub const CACHE_LINE_SIZE: u8 = 0x0C;
/// Latency timer (u8).
pub const LATENCY_TIMER: u8 = 0x0D;
/// Header type (u8; bit 7 = multi-function).
pub const HEADER_TYPE: u8 = 0x0E;
/// First base address register; BAR n is at 0x10 + 4n.
pub const BAR0: u8 = 0x10;
/// Subsystem vendor ID (u16).
pub const SUBSYSTEM_VENDOR_ID: u8 = 0x2C;
/// Subsystem ID (u16).
pub const SUBSYSTEM_ID: u8 = 0x2E;
/// Expansion ROM base address (u32).
pub const ROM_ADDRESS: u8 = 0x30;
/// Capabilities pointer (u8).
pub const CAPABILITY_LIST: u8 = 0x34;
/// Capability ID of PCI power management.
pub const CAP_ID_PM: u8 = 0x01;
/// Capability ID of MSI.
pub const CAP_ID_MSI: u8 = 0x05;
/// Capability ID of PCI Express.
pub const CAP_ID_EXP: u8 = 0x10;
/// Capability ID of MSI-X.
pub const CAP_ID_MSIX: u8 = 0x11;
/// Interrupt line (u8, writable scratch).
pub const INTERRUPT_LINE: u8 = 0x3C;
/// Interrupt pin (u8; 1 = INTA .. 4 = INTD).
pub const INTERRUPT_PIN: u8 = 0x3D;

/// Command: I/O space enable.
pub const COMMAND_IO: u16 = 0x0001;
/// Command: memory space enable.
pub const COMMAND_MEMORY: u16 = 0x0002;
/// Command: bus master enable.
pub const COMMAND_MASTER: u16 = 0x0004;
/// Command: SERR# enable.
pub const COMMAND_SERR: u16 = 0x0100;
/// Command: INTx emulation disable.
pub const COMMAND_INTX_DISABLE: u16 = 0x0400;
/// Status: INTx status (read-only).
pub const STATUS_INTERRUPT: u16 = 0x0008;
/// Status: capability list present.
pub const STATUS_CAP_LIST: u16 = 0x0010;
/// Status bits that are write-1-to-clear (parity, aborts, SERR).
pub const STATUS_W1C: u16 = 0xF900;

/// Header type bit: the device has more than one function.
pub const HEADER_MULTI_FUNCTION: u8 = 0x80;

/// Number of standard BARs in a type-0 header.
pub const BAR_COUNT: usize = 6;
/// Index used for the expansion ROM in [`PciConfig::bar_mapping`].
pub const ROM_SLOT: usize = 6;

/// Size of the configuration space reachable through mechanism #1.
pub const CONFIG_SPACE_SIZE: usize = 256;

/// Bus/device/function address of a PCI function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bdf {
    /// Bus number.
    pub bus: u8,
    /// Device (slot) number, 0..32.
    pub device: u8,
    /// Function number, 0..8.
    pub function: u8,
}

impl Bdf {
    /// A function address; `device` and `function` are masked to 5 and 3 bits.
    pub const fn new(bus: u8, device: u8, function: u8) -> Self {
        Self {
            bus,
            device: device & 0x1f,
            function: function & 0x7,
        }
    }

    /// The CONFIG_ADDRESS (0xCF8) value that selects `offset` of this function, enable bit set.
    pub fn config_address(self, offset: u8) -> u32 {
        0x8000_0000
            | u32::from(self.bus) << 16
            | u32::from(self.device) << 11
            | u32::from(self.function) << 8
            | u32::from(offset)
    }

    /// Decode a CONFIG_ADDRESS value: the function and the register byte offset (bits 7:0; QEMU
    /// keeps bits 1:0 too, see facts §5.1), or `None` when the enable bit is clear.
    pub fn from_config_address(value: u32) -> Option<(Self, u8)> {
        if value & 0x8000_0000 == 0 {
            return None;
        }
        let bdf = Self::new((value >> 16) as u8, (value >> 11) as u8, (value >> 8) as u8);
        Some((bdf, value as u8))
    }
}

impl fmt::Display for Bdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}:{:02x}.{:x}",
            self.bus, self.device, self.function
        )
    }
}

/// What kind of BAR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    /// I/O space BAR (bit 0 set).
    Io,
    /// 32-bit memory BAR.
    Memory32 {
        /// Prefetchable bit.
        prefetchable: bool,
    },
    /// 64-bit memory BAR; occupies this slot and the next.
    Memory64 {
        /// Prefetchable bit.
        prefetchable: bool,
    },
}

/// A BAR (or the expansion ROM) backed by one of the device's regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarDef {
    /// The device region this BAR maps.
    pub region: RegionId,
    /// I/O or memory, width, prefetchable.
    pub kind: BarKind,
    /// Size in bytes, a power of two (at least 4 for I/O, 16 for memory, 2 KiB for ROM).
    pub size: u64,
}

/// Where a BAR is mapped now, as decoded from the header and the command register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarMapping {
    /// Memory or I/O.
    pub space: Space,
    /// Guest address of the BAR's first byte.
    pub base: u64,
    /// BAR size.
    pub size: u64,
    /// The device region it maps.
    pub region: RegionId,
}

/// Offset of a capability in configuration space, returned by [`PciConfig::add_capability`].
pub type CapOffset = u8;

/// A type-0 configuration header with its write masks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciConfig {
    data: [u8; CONFIG_SPACE_SIZE],
    wmask: [u8; CONFIG_SPACE_SIZE],
    w1cmask: [u8; CONFIG_SPACE_SIZE],
    bars: [Option<BarDef>; BAR_COUNT + 1],
    last_cap: Option<CapOffset>,
    next_cap_offset: usize,
}

impl PciConfig {
    /// A header with IDs, a 24-bit class code (`base << 16 | sub << 8 | prog_if`), revision and
    /// header type, and QEMU's default write masks.
    pub fn new(vendor: u16, device: u16, class: u32, revision: u8, header_type: u8) -> Self {
        let mut cfg = Self {
            data: [0; CONFIG_SPACE_SIZE],
            wmask: [0; CONFIG_SPACE_SIZE],
            w1cmask: [0; CONFIG_SPACE_SIZE],
            bars: [None; BAR_COUNT + 1],
            last_cap: None,
            next_cap_offset: 0x40,
        };
        cfg.set_u16(VENDOR_ID, vendor);
        cfg.set_u16(DEVICE_ID, device);
        cfg.set_u8(REVISION_ID, revision);
        cfg.set_u8(CLASS_PROG, class as u8);
        cfg.set_u8(CLASS_PROG + 1, (class >> 8) as u8);
        cfg.set_u8(CLASS_PROG + 2, (class >> 16) as u8);
        cfg.set_u8(HEADER_TYPE, header_type);
        // QEMU's `command_serr_enable` property defaults on: SERR# enable is writable too
        // (writing 0xFFFF to a network controller's command register reads back 0x0507, facts §5.2).
        cfg.set_wmask_u16(
            COMMAND,
            COMMAND_IO | COMMAND_MEMORY | COMMAND_MASTER | COMMAND_SERR | COMMAND_INTX_DISABLE,
        );
        cfg.w1cmask[usize::from(STATUS) + 1] = (STATUS_W1C >> 8) as u8;
        cfg.wmask[usize::from(CACHE_LINE_SIZE)] = 0xff;
        cfg.wmask[usize::from(INTERRUPT_LINE)] = 0xff;
        cfg.wmask[0x40..].fill(0xff);
        cfg
    }

    /// Set the subsystem vendor and subsystem IDs.
    pub fn with_subsystem(mut self, vendor: u16, id: u16) -> Self {
        self.set_u16(SUBSYSTEM_VENDOR_ID, vendor);
        self.set_u16(SUBSYSTEM_ID, id);
        self
    }

    /// Set the interrupt pin (1 = INTA .. 4 = INTD).
    pub fn with_interrupt_pin(mut self, pin: u8) -> Self {
        self.set_u8(INTERRUPT_PIN, pin);
        self
    }

    /// Declare BAR `index` (0..6). A 64-bit BAR also claims `index + 1` for its high half.
    /// Panics on a malformed declaration: that is a model bug, caught by the model's own tests.
    pub fn with_bar(mut self, index: usize, def: BarDef) -> Self {
        assert!(index < BAR_COUNT, "BAR index {index} out of range");
        assert!(
            def.size.is_power_of_two(),
            "BAR size must be a power of two"
        );
        let off = BAR0 + 4 * index as u8;
        let (low_bits, addr_mask) = match def.kind {
            BarKind::Io => {
                assert!(def.size >= 4);
                (0x1u32, !(def.size as u32 - 1) & !0x3)
            }
            BarKind::Memory32 { prefetchable } => {
                assert!(def.size >= 16 && def.size <= 1 << 31);
                (u32::from(prefetchable) << 3, !(def.size as u32 - 1) & !0xf)
            }
            BarKind::Memory64 { prefetchable } => self.declare_bar64(index, def.size, prefetchable),
        };
        self.set_u32(off, low_bits);
        self.set_wmask_u32(off, addr_mask);
        self.bars[index] = Some(def);
        self
    }

    /// Append a capability with `id` and `len` bytes (header included) to the capability list,
    /// at the first free dword from 0x40 (after the last capability added); see
    /// [`PciConfig::add_capability_at`]. Returns the capability's offset.
    pub fn add_capability(&mut self, id: u8, len: usize) -> CapOffset {
        self.add_capability_at(self.next_cap_offset as u8, id, len)
    }

    /// Append a capability with `id` and `len` bytes (header included) at offset `at`: the list
    /// links the capabilities in the order they are added, whatever their offsets (a device
    /// that places its capabilities where the real one does lists them in its order). The
    /// capability's bytes are read-only until the device widens them with
    /// [`PciConfig::set_wmask_u16`] and friends; its next pointer is 0 until another follows.
    /// Panics when it does not fit above the header: a model bug, caught by the model's tests.
    pub fn add_capability_at(&mut self, at: u8, id: u8, len: usize) -> CapOffset {
        let off = usize::from(at);
        assert!(
            len >= 2 && off >= 0x40 && off + len <= CONFIG_SPACE_SIZE,
            "capability does not fit"
        );
        self.set_read_only(at, len);
        self.data[off] = id;
        self.data[off + 1] = 0;
        match self.last_cap {
            Some(prev) => self.data[usize::from(prev) + 1] = at,
            None => {
                self.set_u8(CAPABILITY_LIST, at);
                let st = self.u16(STATUS) | STATUS_CAP_LIST;
                self.set_u16(STATUS, st);
            }
        }
        self.last_cap = Some(at);
        self.next_cap_offset = self.next_cap_offset.max((off + len + 3) & !3);
        at
    }

    /// Guest read of `size` bytes at `offset`; bytes past the end read as 0xff, sizes above 4
    /// read as 4.
    pub fn read(&self, offset: u8, size: AccessSize) -> u32 {
        let n = size.bytes().min(4) as usize;
        let mut value = 0u32;
        for i in (0..n).rev() {
            let byte = self
                .data
                .get(usize::from(offset) + i)
                .copied()
                .unwrap_or(0xff);
            value = value << 8 | u32::from(byte);
        }
        value
    }

    /// Guest write of `size` bytes at `offset`, applying the writable and write-1-to-clear masks.
    pub fn write(&mut self, offset: u8, size: AccessSize, value: u32) {
        let n = size.bytes().min(4) as usize;
        for i in 0..n {
            let idx = usize::from(offset) + i;
            if idx >= CONFIG_SPACE_SIZE {
                break;
            }
            let val = (value >> (8 * i)) as u8;
            let wm = self.wmask[idx];
            let w1c = self.w1cmask[idx];
            self.data[idx] = ((self.data[idx] & !wm) | (val & wm)) & !(val & w1c);
        }
    }

    /// Raw byte (no masks).
    pub fn u8(&self, offset: u8) -> u8 {
        self.data[usize::from(offset)]
    }
    /// Raw little-endian u16 (no masks); bytes past the end read as 0.
    pub fn u16(&self, offset: u8) -> u16 {
        u16::from(self.u8(offset)) | u16::from(self.byte_after(offset, 1)) << 8
    }
    /// Raw little-endian u32 (no masks); bytes past the end read as 0.
    pub fn u32(&self, offset: u8) -> u32 {
        (0..4)
            .rev()
            .fold(0u32, |v, i| v << 8 | u32::from(self.byte_after(offset, i)))
    }
    fn byte_after(&self, offset: u8, i: usize) -> u8 {
        self.data.get(usize::from(offset) + i).copied().unwrap_or(0)
    }
    /// Set a byte, bypassing masks (device-side update).
    pub fn set_u8(&mut self, offset: u8, value: u8) {
        self.data[usize::from(offset)] = value;
    }
    /// Set a little-endian u16, bypassing masks.
    pub fn set_u16(&mut self, offset: u8, value: u16) {
        let o = usize::from(offset);
        self.data[o..o + 2].copy_from_slice(&value.to_le_bytes());
    }
    /// Set a little-endian u32, bypassing masks.
    pub fn set_u32(&mut self, offset: u8, value: u32) {
        let o = usize::from(offset);
        self.data[o..o + 4].copy_from_slice(&value.to_le_bytes());
    }
    /// Set which bits of a u16 field the guest may write.
    pub fn set_wmask_u16(&mut self, offset: u8, mask: u16) {
        let o = usize::from(offset);
        self.wmask[o..o + 2].copy_from_slice(&mask.to_le_bytes());
    }
    /// Set which bits of a u32 field the guest may write.
    pub fn set_wmask_u32(&mut self, offset: u8, mask: u32) {
        let o = usize::from(offset);
        self.wmask[o..o + 4].copy_from_slice(&mask.to_le_bytes());
    }
    /// Set which bits of a u16 field are write-1-to-clear.
    pub fn set_w1cmask_u16(&mut self, offset: u8, mask: u16) {
        let o = usize::from(offset);
        self.w1cmask[o..o + 2].copy_from_slice(&mask.to_le_bytes());
    }
    /// Make `len` bytes from `offset` read-only.
    pub fn set_read_only(&mut self, offset: u8, len: usize) {
        let o = usize::from(offset);
        let end = (o + len).min(CONFIG_SPACE_SIZE);
        self.wmask[o..end].fill(0);
        self.w1cmask[o..end].fill(0);
    }

    /// The command register.
    pub fn command(&self) -> u16 {
        self.u16(COMMAND)
    }
    /// Whether Bus Master Enable is set: without it the device's DMA fails.
    pub fn bus_master(&self) -> bool {
        self.command() & COMMAND_MASTER != 0
    }
    /// Reflect the device's INTx level in the status register's read-only interrupt bit.
    pub fn set_interrupt_status(&mut self, asserted: bool) {
        let st = self.u16(STATUS) & !STATUS_INTERRUPT;
        self.set_u16(STATUS, st | if asserted { STATUS_INTERRUPT } else { 0 });
    }
    /// Whether INTx is disabled by the command register.
    pub fn intx_disabled(&self) -> bool {
        self.command() & COMMAND_INTX_DISABLE != 0
    }

    /// Declared BARs (slots 0..6) and the ROM (slot 6).
    pub fn bar_defs(&self) -> &[Option<BarDef>; BAR_COUNT + 1] {
        &self.bars
    }

    /// Where BAR `slot` (0..6, or [`ROM_SLOT`]) is mapped under the current header, following
    /// the rules a PCI host bridge applies (and QEMU's `pci_bar_address`): the space must be
    /// enabled in the command register, the address must be non-zero, and the BAR must not wrap
    /// or (for 32-bit BARs) reach 0xFFFFFFFF — which is what an all-ones sizing write produces.
    pub fn bar_mapping(&self, slot: usize) -> Option<BarMapping> {
        let def = (*self.bars.get(slot)?)?;
        let (space, raw) = if slot == ROM_SLOT {
            (Space::Memory, self.rom_address()?)
        } else {
            self.bar_address(slot, def.kind)?
        };
        let base = raw & !(def.size - 1);
        let last = base.checked_add(def.size - 1)?;
        let limit = match def.kind {
            BarKind::Memory64 { .. } => u64::MAX,
            _ => u64::from(u32::MAX),
        };
        if base == 0 || last >= limit {
            return None;
        }
        Some(BarMapping {
            space,
            base,
            size: def.size,
            region: def.region,
        })
    }

    /// The address BAR `slot` (0..6) decodes at, and its space, when the command register
    /// enables that space.
    fn bar_address(&self, slot: usize, kind: BarKind) -> Option<(Space, u64)> {
        let cmd = self.command();
        let off = BAR0 + 4 * slot as u8;
        match kind {
            BarKind::Io => (cmd & COMMAND_IO != 0).then(|| (Space::Io, u64::from(self.u32(off)))),
            BarKind::Memory32 { .. } => {
                (cmd & COMMAND_MEMORY != 0).then(|| (Space::Memory, u64::from(self.u32(off))))
            }
            BarKind::Memory64 { .. } => self.bar64_address(slot).map(|a| (Space::Memory, a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network_function() -> PciConfig {
        PciConfig::new(0x8086, 0x100e, 0x020000, 3, 0)
            .with_interrupt_pin(1)
            .with_bar(
                0,
                BarDef {
                    region: RegionId(0),
                    kind: BarKind::Memory32 {
                        prefetchable: false,
                    },
                    size: 0x20000,
                },
            )
            .with_bar(
                1,
                BarDef {
                    region: RegionId(1),
                    kind: BarKind::Io,
                    size: 0x40,
                },
            )
            .with_rom(RegionId(2), 0x40000)
    }

    #[test]
    fn ids_and_class_read_back_as_qemu_shows_them() {
        let cfg = network_function();
        assert_eq!(cfg.read(0, AccessSize::B4), 0x100e8086);
        assert_eq!(cfg.read(8, AccessSize::B4), 0x02000003);
        assert_eq!(cfg.read(0xa, AccessSize::B2), 0x0200);
        assert_eq!(cfg.read(0x3d, AccessSize::B1), 1);
    }

    #[test]
    fn bar_sizing_reads_back_the_size_mask() {
        // facts §5.2 observed readbacks for a network controller: 0xFFFE0000, 0xFFFFFFC1, ROM 0xFFFC0000.
        let mut cfg = network_function();
        cfg.write(0x10, AccessSize::B4, 0xffff_ffff);
        cfg.write(0x14, AccessSize::B4, 0xffff_ffff);
        cfg.write(0x30, AccessSize::B4, 0xffff_f800);
        cfg.write(0x18, AccessSize::B4, 0xffff_ffff);
        assert_eq!(cfg.read(0x10, AccessSize::B4), 0xfffe_0000);
        assert_eq!(cfg.read(0x14, AccessSize::B4), 0xffff_ffc1);
        assert_eq!(cfg.read(0x30, AccessSize::B4), 0xfffc_0000);
        assert_eq!(
            cfg.read(0x18, AccessSize::B4),
            0,
            "unimplemented BAR reads 0"
        );
    }

    #[test]
    fn command_mask_and_status_write_one_to_clear() {
        let mut cfg = network_function();
        cfg.write(COMMAND, AccessSize::B2, 0xffff);
        assert_eq!(cfg.command(), 0x0507);
        cfg.set_u16(STATUS, 0x8000 | 0x0200);
        cfg.write(STATUS, AccessSize::B2, 0x8000);
        assert_eq!(cfg.u16(STATUS), 0x0200, "W1C bit cleared, DEVSEL kept");
        cfg.write(0, AccessSize::B4, 0);
        assert_eq!(cfg.read(0, AccessSize::B4), 0x100e8086, "IDs are read-only");
    }

    #[test]
    fn bars_map_only_when_enabled_and_not_sizing() {
        let mut cfg = network_function();
        cfg.write(0x10, AccessSize::B4, 0xfebc_0000);
        cfg.write(0x14, AccessSize::B4, 0xc000);
        assert_eq!(cfg.bar_mapping(0), None, "memory decode disabled");
        cfg.write(COMMAND, AccessSize::B2, 0x3);
        let m = cfg.bar_mapping(0).unwrap();
        assert_eq!(
            (m.space, m.base, m.size),
            (Space::Memory, 0xfebc_0000, 0x20000)
        );
        let io = cfg.bar_mapping(1).unwrap();
        assert_eq!((io.space, io.base), (Space::Io, 0xc000));
        cfg.write(0x10, AccessSize::B4, 0xffff_ffff);
        assert_eq!(cfg.bar_mapping(0), None, "sizing pattern is not a mapping");
        cfg.write(0x30, AccessSize::B4, 0xfeb8_0000);
        assert_eq!(cfg.bar_mapping(ROM_SLOT), None, "ROM needs its enable bit");
        cfg.write(0x30, AccessSize::B4, 0xfeb8_0001);
        assert_eq!(cfg.bar_mapping(ROM_SLOT).unwrap().base, 0xfeb8_0000);
    }

    #[test]
    fn capabilities_chain_and_set_the_status_bit() {
        let mut cfg = network_function();
        let pm = cfg.add_capability(0x01, 8);
        let msi = cfg.add_capability(0x05, 14);
        assert_eq!(cfg.u8(CAPABILITY_LIST), pm);
        assert_eq!(cfg.u8(pm + 1), msi);
        assert_eq!(cfg.u8(msi), 0x05);
        assert_eq!(cfg.u8(msi + 1), 0);
        assert_ne!(cfg.u16(STATUS) & STATUS_CAP_LIST, 0);
        cfg.write(pm, AccessSize::B2, 0xffff);
        assert_eq!(
            cfg.u16(pm),
            u16::from(msi) << 8 | 1,
            "ID and next are read-only"
        );
    }

    #[test]
    fn capabilities_at_given_offsets_chain_in_the_order_added() {
        // The e1000e's layout (facts §1.1): PM 0xC8 -> MSI 0xD0 -> PCIe 0xE0 -> MSI-X 0xA0.
        let mut cfg = network_function();
        for (at, id, len) in [(0xC8, CAP_ID_PM, 8), (0xD0, CAP_ID_MSI, 0x0E)] {
            assert_eq!(cfg.add_capability_at(at, id, len), at);
        }
        cfg.add_capability_at(0xE0, CAP_ID_EXP, 0x14);
        cfg.add_capability_at(0xA0, CAP_ID_MSIX, 0x0C);
        let chain: Vec<(u8, u8)> = std::iter::successors(Some(cfg.u8(CAPABILITY_LIST)), |&at| {
            Some(cfg.u8(at + 1)).filter(|&next| next != 0)
        })
        .map(|at| (at, cfg.u8(at)))
        .collect();
        assert_eq!(chain, [(0xC8, 1), (0xD0, 5), (0xE0, 0x10), (0xA0, 0x11)]);
        assert_eq!(cfg.u8(0xA1), 0, "the last one ends the list");
        cfg.write(0xA0, AccessSize::B4, 0xffff_ffff);
        assert_eq!(cfg.u32(0xA0), 0x11, "read-only until the device widens it");
        cfg.write(0x40, AccessSize::B1, 0x5a);
        assert_eq!(
            cfg.u8(0x40),
            0x5a,
            "bytes outside the capabilities stay writable"
        );
        // A capability added without an offset goes after the highest one.
        assert_eq!(cfg.add_capability(0x09, 4), 0xF4);
    }

    #[test]
    fn config_address_round_trips() {
        let bdf = Bdf::new(0, 1, 3);
        let a = bdf.config_address(0x40);
        assert_eq!(a, 0x8000_0b40);
        assert_eq!(Bdf::from_config_address(a), Some((bdf, 0x40)));
        assert_eq!(Bdf::from_config_address(0x0000_0b40), None);
        assert_eq!(bdf.to_string(), "00:01.3");
    }
}
