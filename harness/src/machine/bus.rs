//! The bus: the memory and I/O spaces and what is mapped in them, dispatch of a guest access
//! to RAM, a device region or the PCI host, and the PCI host itself (configuration mechanism
//! #1 at 0xCF8/0xCFC), which maps and unmaps a function's BARs as the guest programs them.

use super::Machine;
use super::budget::StopReason;
use crate::access::{AccessRules, AccessSize, Space};
use crate::ids::{DeviceId, RegionId};
use crate::observe::Entry;
use crate::pci::{BAR_COUNT, BarMapping, Bdf, COMMAND_IO, COMMAND_MEMORY};
use crate::space::{AddressSpace, Backing, Segment};

/// Port of CONFIG_ADDRESS.
pub const PCI_CONFIG_ADDRESS_PORT: u64 = 0xcf8;
/// Port of CONFIG_DATA.
pub const PCI_CONFIG_DATA_PORT: u64 = 0xcfc;
const PCI_HOST_RULES: AccessRules = AccessRules {
    valid_min: AccessSize::B1,
    valid_max: AccessSize::B4,
    unaligned: true,
    impl_min: AccessSize::B1,
    impl_max: AccessSize::B4,
    impl_unaligned: false,
};

/// A PCI function on bus 0 and where its BARs (and ROM) are mapped now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PciFunction {
    pub(super) bdf: Bdf,
    pub(super) device: DeviceId,
    mapped: [Option<BarMapping>; BAR_COUNT + 1],
}

impl PciFunction {
    /// Function `device` at `bdf` with nothing mapped.
    pub(super) fn new(bdf: Bdf, device: DeviceId) -> Self {
        Self {
            bdf,
            device,
            mapped: [None; BAR_COUNT + 1],
        }
    }
}

/// The spaces and the PCI host's state.
#[derive(Debug, PartialEq, Eq)]
pub struct Bus {
    pub(super) mem: AddressSpace,
    pub(super) io: AddressSpace,
    /// The PCI functions in bus/device/function order.
    pub(super) pci: Vec<PciFunction>,
    /// Per device: may it master the bus (a PCI function's Bus Master Enable; true for others).
    pub(super) bus_master: Vec<bool>,
    pub(super) config_address: u32,
}

clone_by_field!(Bus {
    mem,
    io,
    pci,
    bus_master,
    config_address,
});

impl Bus {
    /// Empty spaces, `pci` functions with nothing mapped, every device allowed to master.
    pub(super) fn new(mut pci: Vec<PciFunction>, devices: usize) -> Self {
        pci.sort_by_key(|f| f.bdf);
        Self {
            mem: AddressSpace::new(Space::Memory),
            io: AddressSpace::new(Space::Io),
            pci,
            bus_master: vec![true; devices],
            config_address: 0,
        }
    }

    /// Unmap every BAR and clear the host's registers (a system reset).
    pub(super) fn reset(&mut self) {
        for f in &mut self.pci {
            for m in f.mapped.iter_mut().filter_map(Option::take) {
                let space = match m.space {
                    Space::Memory => &mut self.mem,
                    Space::Io => &mut self.io,
                };
                space.unmap(Backing::Device(f.device, m.region));
            }
        }
        self.config_address = 0;
    }
}

impl Machine {
    pub(super) fn map_static(&mut self) {
        if self.ram.size() > 0 {
            self.state.bus.mem.map(
                Backing::Ram,
                self.ram.base(),
                self.ram.size(),
                self.ram_priority,
                AccessRules::ANY,
            );
        }
        if self.pci_host {
            self.state.bus.io.map(
                Backing::PciConfigAddress,
                PCI_CONFIG_ADDRESS_PORT,
                4,
                0,
                PCI_HOST_RULES,
            );
            self.state.bus.io.map(
                Backing::PciConfigData,
                PCI_CONFIG_DATA_PORT,
                4,
                0,
                PCI_HOST_RULES,
            );
        }
        for i in 0..self.fixed.len() {
            let f = self.fixed[i];
            if let Some(spec) = self.region_spec(f.device, f.region) {
                let (space, size, rules) = (spec.space, spec.size, spec.rules);
                self.space_mut(space).map(
                    Backing::Device(f.device, f.region),
                    f.base,
                    size,
                    f.priority,
                    rules,
                );
            }
        }
    }

    /// PCI functions in bus/device/function order.
    pub fn pci_functions(&self) -> Vec<(Bdf, DeviceId)> {
        self.state
            .bus
            .pci
            .iter()
            .map(|f| (f.bdf, f.device))
            .collect()
    }

    /// The address space for `space`.
    pub fn space_mut(&mut self, space: Space) -> &mut AddressSpace {
        match space {
            Space::Memory => &mut self.state.bus.mem,
            Space::Io => &mut self.state.bus.io,
        }
    }

    /// The address space for `space`, read-only.
    pub fn space(&self, space: Space) -> &AddressSpace {
        match space {
            Space::Memory => &self.state.bus.mem,
            Space::Io => &self.state.bus.io,
        }
    }

    /// Combined generation of both spaces: changes whenever any mapping does.
    pub fn mapping_generation(&self) -> u64 {
        self.state
            .bus
            .mem
            .generation()
            .wrapping_add(self.state.bus.io.generation())
    }

    /// The layout of both spaces as [`AddressSpace::view_id`]s: equal whenever the mappings
    /// are, so per-input work derived from the layout can be kept across inputs.
    pub fn layout_id(&mut self) -> (u64, u64, u64) {
        (
            self.epoch,
            self.state.bus.mem.view_id(),
            self.state.bus.io.view_id(),
        )
    }

    /// A guest (CPU or qtest) read of `size` bytes at `addr` in `space`.
    #[inline]
    pub fn read(&mut self, space: Space, addr: u64, size: AccessSize) -> u64 {
        if self.observer.is_some() {
            return self.observed_access(space, addr, size, None);
        }
        self.access(space, addr, size, None)
    }

    /// A guest (CPU or qtest) write of `size` bytes at `addr` in `space`.
    #[inline]
    pub fn write(&mut self, space: Space, addr: u64, size: AccessSize, value: u64) {
        let value = Some(value & size.mask());
        if self.observer.is_some() {
            self.observed_access(space, addr, size, value);
            return;
        }
        self.access(space, addr, size, value);
    }

    /// Read `buf.len()` bytes of memory as the CPU would (qtest `read`), split into natural
    /// accesses; RAM is copied directly.
    pub fn read_bulk(&mut self, addr: u64, buf: &mut [u8]) {
        self.bulk(addr, buf.len(), |m, a, off, n, seg| match seg {
            Some(s) if s.backing == Backing::Ram => {
                m.ram.read(a, &mut buf[off..off + n]);
                if m.observing_guest()
                    && let Some(o) = &mut m.observer
                {
                    o.entries.push(Entry::RamRead {
                        addr: a,
                        data: buf[off..off + n].to_vec(),
                    });
                }
            }
            _ => {
                let size = AccessSize::from_bytes(n as u64).unwrap_or(AccessSize::B1);
                let v = m.read(Space::Memory, a, size);
                buf[off..off + n].copy_from_slice(&v.to_le_bytes()[..n]);
            }
        });
    }

    /// Write bytes to memory as the CPU would (qtest `write`).
    pub fn write_bulk(&mut self, addr: u64, data: &[u8]) {
        self.bulk(addr, data.len(), |m, a, off, n, seg| match seg {
            Some(s) if s.backing == Backing::Ram => {
                if m.observing_guest()
                    && let Some(o) = &mut m.observer
                {
                    o.entries.push(Entry::RamWrite {
                        addr: a,
                        data: data[off..off + n].to_vec(),
                    });
                }
                m.ram_write(a, &data[off..off + n])
            }
            _ => {
                let mut v = [0u8; 8];
                v[..n].copy_from_slice(&data[off..off + n]);
                let size = AccessSize::from_bytes(n as u64).unwrap_or(AccessSize::B1);
                m.write(Space::Memory, a, size, u64::from_le_bytes(v));
            }
        });
    }

    /// Walk `addr..addr+len` in pieces: whole RAM runs, otherwise naturally aligned accesses of
    /// at most 8 bytes that stay inside one segment.
    pub(super) fn bulk(
        &mut self,
        addr: u64,
        len: usize,
        mut f: impl FnMut(&mut Self, u64, usize, usize, Option<Segment>),
    ) {
        let mut off = 0usize;
        while off < len {
            let Some(a) = addr.checked_add(off as u64) else {
                break;
            };
            let seg = self.state.bus.mem.lookup(a);
            let room = seg.map_or(1, |s| (s.last - a).saturating_add(1));
            let left = (len - off) as u64;
            let n = match seg {
                Some(s) if s.backing == Backing::Ram => left.min(room),
                _ => {
                    // Each piece is one guest access with a work budget of its own: a bulk
                    // access of a legal size (a 16 MiB window is 4 Mi device calls) is
                    // many accesses, not one endless loop.
                    self.refill_work();
                    crate::access::piece_size(a, left, room, seg.as_ref().map(|s| &s.rules)).bytes()
                }
            } as usize;
            f(self, a, off, n, seg);
            off += n;
        }
    }

    pub(super) fn ram_write(&mut self, addr: u64, data: &[u8]) {
        if self.ram.write(addr, data).is_err() {
            self.state.stop = Some(StopReason::RamBudget);
        }
    }

    /// Whether a `size`-byte guest access at `addr` in `space` would run past the end of the
    /// segment it starts in, so that the bus splits it into bytes: a PC's chipset
    /// splits such an access at the boundary, where QEMU hands every byte to the region at the
    /// first address (`docs/ARCHITECTURE.md`, "Accesses crossing a segment boundary").
    /// Accesses that start in RAM or where nothing is mapped are not counted: neither side
    /// splits those differently.
    pub fn crosses_segment(&mut self, space: Space, addr: u64, size: u64) -> bool {
        let Some(seg) = self.space_mut(space).lookup(addr) else {
            return false;
        };
        let fits = addr
            .checked_add(size.saturating_sub(1))
            .is_some_and(|end| end <= seg.last);
        // An access inside CONFIG_ADDRESS's four bytes that starts in its own segment stays
        // whole here and in QEMU; one that starts in a register mapped over a byte of it
        // (0xCF9) is the host's here and that register's in QEMU.
        let host_keeps = matches!(seg.backing, Backing::PciConfigAddress)
            && self.within_config_address(space, addr, size).is_some();
        !fits && !matches!(seg.backing, Backing::Ram) && !host_keeps
    }

    pub(super) fn access(
        &mut self,
        space: Space,
        addr: u64,
        size: AccessSize,
        write: Option<u64>,
    ) -> u64 {
        let Some(seg) = self.space_mut(space).lookup(addr) else {
            return size.mask(); // unassigned: reads all-ones, writes dropped
        };
        let n = size.bytes();
        let fits = addr.checked_add(n - 1).is_some_and(|end| end <= seg.last);
        if !fits {
            if let Some(offset) = self.within_config_address(space, addr, n) {
                return self.config_address_access(offset, size, write);
            }
            // Crosses into another segment (or the top of the space): one byte at a time.
            let mut v = 0u64;
            for i in 0..n {
                let a = addr.wrapping_add(i);
                let byte = write.map(|w| (w >> (8 * i)) & 0xff);
                v |= (self.access(space, a, AccessSize::B1, byte) & 0xff) << (8 * i);
            }
            return v;
        }
        let offset = addr - seg.base;
        match seg.backing {
            Backing::Ram => {
                let mut b = [0u8; 8];
                match write {
                    Some(w) => {
                        self.ram_write(addr, &w.to_le_bytes()[..n as usize]);
                        0
                    }
                    None => {
                        self.ram.read(addr, &mut b[..n as usize]);
                        u64::from_le_bytes(b)
                    }
                }
            }
            Backing::PciConfigAddress => self.config_address_access(offset, size, write),
            Backing::PciConfigData => self.config_data_access(offset, size, write),
            Backing::Device(dev, region) => {
                self.device_access(dev, region, seg.rules, addr, offset, size, write)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn device_access(
        &mut self,
        dev: DeviceId,
        region: RegionId,
        rules: AccessRules,
        addr: u64,
        offset: u64,
        size: AccessSize,
        write: Option<u64>,
    ) -> u64 {
        if !rules.accepts(offset, size) {
            return size.mask();
        }
        if self
            .devices
            .get(usize::from(dev.0))
            .is_some_and(Option::is_none)
        {
            self.reentered(dev, (region, offset), addr, 1);
            return 0;
        }
        let total = size.bytes();
        // The common case: an aligned access the handler implements as it is. (It lies inside
        // the region: the caller checked that it fits the segment, and segments lie inside
        // their mapping.)
        if size >= rules.impl_min
            && size <= rules.impl_max
            && (offset % total == 0 || rules.impl_unaligned)
        {
            return match write {
                Some(v) => {
                    self.call_device(dev, |d, ctx| d.write(ctx, region, offset, size, v));
                    0
                }
                None => {
                    self.call_device(dev, |d, ctx| d.read(ctx, region, offset, size))
                        .unwrap_or(0)
                        & size.mask()
                }
            };
        }
        let region_size = self.region_spec(dev, region).map_or(0, |r| r.size);
        let mut result = 0u64;
        let mut done = 0u64;
        // A DMA piece was paid for with the transfer's bytes: so are the handler-sized pieces
        // it is split into here (otherwise each would cost a device call, and a bounded
        // transfer into a register file that takes dwords could spend the budget).
        let dma_piece = self.state.dma.piece;
        while done < total {
            self.state.dma.piece = dma_piece;
            let off = offset + done;
            let left = total - done;
            let mut p = rules.impl_max.bytes().min(8);
            while p > 1 && (p > left || off % p != 0) {
                p /= 2;
            }
            let (piece_off, piece_size, shift, take) = if p < rules.impl_min.bytes() {
                let w = rules.impl_min.bytes();
                let aligned = off & !(w - 1);
                (
                    aligned,
                    w,
                    (off - aligned) * 8,
                    (aligned + w - off).min(left),
                )
            } else {
                (off, p, 0, p)
            };
            let take_mask = if take >= 8 {
                u64::MAX
            } else {
                (1u64 << (take * 8)) - 1
            };
            let psize = AccessSize::from_bytes(piece_size).unwrap_or(AccessSize::B1);
            if piece_off + piece_size <= region_size {
                let piece = match write {
                    Some(w) => {
                        let v = ((w >> (done * 8)) & take_mask) << shift;
                        self.call_device(dev, |d, ctx| d.write(ctx, region, piece_off, psize, v));
                        0
                    }
                    None => self
                        .call_device(dev, |d, ctx| d.read(ctx, region, piece_off, psize))
                        .unwrap_or(0),
                };
                result |= ((piece >> shift) & take_mask) << (done * 8);
            } else {
                result |= take_mask << (done * 8);
            }
            done += take;
        }
        self.state.dma.piece = false;
        result & size.mask()
    }

    /// Where an access of `n` bytes at `addr` lies in CONFIG_ADDRESS, if it lies within it.
    /// CONFIG_ADDRESS is one register: a profile may map a register of its own over one of
    /// its bytes (mapped higher, it takes the accesses that lie within it), and every other
    /// access within the four bytes stays the host's, as if nothing were mapped over them.
    fn within_config_address(&self, space: Space, addr: u64, n: u64) -> Option<u64> {
        let offset = addr.checked_sub(PCI_CONFIG_ADDRESS_PORT)?;
        (space == Space::Io && self.pci_host && offset + n <= 4).then_some(offset)
    }

    fn config_address_access(&mut self, offset: u64, size: AccessSize, write: Option<u64>) -> u64 {
        match (offset, size, write) {
            // CONFIG_ADDRESS is only ever accessed as a whole dword (facts §5.1).
            (0, AccessSize::B4, Some(v)) => {
                self.state.bus.config_address = v as u32;
                0
            }
            (0, AccessSize::B4, None) => u64::from(self.state.bus.config_address),
            // Any other access "has no effect on CONFIG_ADDRESS and is executed as a normal
            // I/O transaction" (PCI Local Bus 3.0, 3.2.2.3.2), which nothing on a PC claims:
            // reads float to all-ones, writes are lost. QEMU answers CONFIG_ADDRESS's low bytes
            // whatever the offset (written down in
            // models/src/pc/qemu-differences.txt).
            (_, _, Some(_)) => 0,
            (_, _, None) => size.mask(),
        }
    }

    fn config_data_access(&mut self, offset: u64, size: AccessSize, write: Option<u64>) -> u64 {
        let Some((bdf, reg)) = Bdf::from_config_address(self.state.bus.config_address) else {
            return size.mask();
        };
        // QEMU ORs the low CONFIG_ADDRESS bits into the offset (facts §5.1): public
        // reproducers rely on it, and a real driver never sets them.
        let start = reg | offset as u8;
        let Some(func) = self.state.bus.pci.iter().position(|f| f.bdf == bdf) else {
            return size.mask();
        };
        let dev = self.state.bus.pci[func].device;
        let n = size.bytes().min(4);
        // An access that crosses a dword goes byte by byte, as the header's byte lanes do.
        let whole = u64::from(start % 4) + n <= 4;
        let (count, psize) = if whole {
            (1, size)
        } else {
            (n, AccessSize::B1)
        };
        let name = self.device_name(dev);
        let mut value = 0u64;
        for i in 0..count {
            let Some(off) = start.checked_add(i as u8) else {
                break;
            };
            match write {
                Some(w) => {
                    let v = (w >> (8 * i)) as u32 & psize.mask() as u32;
                    tracing::trace!(target: "pci_cfg_write", "{name} {bdf} @{off:#x} <- {v:#x}");
                    self.call_device(dev, |d, ctx| d.config_write(ctx, off, psize, v));
                }
                None => {
                    let v = self
                        .call_device(dev, |d, ctx| d.config_read(ctx, off, psize))
                        .unwrap_or(u32::MAX);
                    tracing::trace!(target: "pci_cfg_read", "{name} {bdf} @{off:#x} -> {v:#x}");
                    value |= (u64::from(v) & psize.mask()) << (8 * i);
                }
            }
        }
        // Only the command register, the BARs and the ROM BAR decide where a function is
        // mapped and whether it may master the bus.
        let touches = |lo: u8, hi: u8| start <= hi && start.saturating_add(n as u8 - 1) >= lo;
        if write.is_some() && (touches(0x04, 0x05) || touches(0x10, 0x27) || touches(0x30, 0x33)) {
            self.refresh_pci(func);
        }
        value
    }

    pub(super) fn refresh_all_pci(&mut self) {
        for i in 0..self.state.bus.pci.len() {
            self.refresh_pci(i);
        }
    }

    /// Re-read a function's BARs and command register and (un)map its regions to match.
    fn refresh_pci(&mut self, func: usize) {
        let f = self.state.bus.pci[func];
        let Some(cfg) = self.devices[usize::from(f.device.0)]
            .as_ref()
            .and_then(|d| d.pci())
        else {
            return;
        };
        let master = cfg.bus_master();
        self.state.bus.bus_master[usize::from(f.device.0)] = master;
        // With I/O and memory decoding off nothing is mapped (the common case after a reset).
        if cfg.command() & (COMMAND_IO | COMMAND_MEMORY) == 0
            && self.state.bus.pci[func].mapped.iter().all(Option::is_none)
        {
            return;
        }
        let wanted: [Option<BarMapping>; BAR_COUNT + 1] =
            std::array::from_fn(|s| cfg.bar_mapping(s));
        let name = self.device_name(f.device);
        for (slot, new) in wanted.into_iter().enumerate() {
            let old = self.state.bus.pci[func].mapped[slot];
            if old == new {
                continue;
            }
            if let Some(o) = old {
                tracing::trace!(target: "pci_update_mappings_del", "{name} {} {slot},{:#x}+{:#x}", f.bdf, o.base, o.size);
                self.space_mut(o.space)
                    .unmap(Backing::Device(f.device, o.region));
            }
            if let Some(n) = new {
                tracing::trace!(target: "pci_update_mappings_add", "{name} {} {slot},{:#x}+{:#x}", f.bdf, n.base, n.size);
                let rules = self
                    .region_spec(f.device, n.region)
                    .map_or(AccessRules::ANY, |r| r.rules);
                let prio = match n.space {
                    Space::Memory => self.mem_bar_priority,
                    Space::Io => self.io_bar_priority,
                };
                self.space_mut(n.space).map(
                    Backing::Device(f.device, n.region),
                    n.base,
                    n.size,
                    prio,
                    rules,
                );
            }
            self.state.bus.pci[func].mapped[slot] = new;
        }
    }
}
