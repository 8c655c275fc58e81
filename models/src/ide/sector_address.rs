//! The sector addressing an ATA disk's commands carry in the taskfile (LBA28, LBA48, CHS), as
//! QEMU's `ide_get_sector` and `ide_set_sector` read and write it, and their sector count. Only
//! the ATA command set ([`super::ata`]) uses it; an ATAPI device takes its addresses from the
//! packet.

use super::taskfile::{DEV_HEAD, DEV_LBA, Taskfile};

/// A CHS geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Chs {
    pub cylinders: u32,
    pub heads: u32,
    pub sectors: u32,
}

impl Chs {
    /// The geometry QEMU guesses for a disk of `total` sectors: 16 heads, 63 sectors per track,
    /// 2..=16383 cylinders.
    pub fn for_capacity(total: u64) -> Self {
        let cylinders = (total / (16 * 63)).clamp(2, 16383) as u32;
        Self {
            cylinders,
            heads: 16,
            sectors: 63,
        }
    }
}

impl Taskfile {
    /// The sector address the registers hold (QEMU's `ide_get_sector`): LBA28, LBA48, or CHS
    /// converted with `chs` (no field checks: an impossible address is caught by the range check).
    pub fn sector_address(&self, lba48: bool, chs: Chs) -> u64 {
        let b = u64::from;
        if self.select & DEV_LBA != 0 {
            if lba48 {
                b(self.hob_hcyl) << 40
                    | b(self.hob_lcyl) << 32
                    | b(self.hob_sector) << 24
                    | b(self.hcyl) << 16
                    | b(self.lcyl) << 8
                    | b(self.sector)
            } else {
                b(self.select & DEV_HEAD) << 24
                    | b(self.hcyl) << 16
                    | b(self.lcyl) << 8
                    | b(self.sector)
            }
        } else {
            let cylinder = b(self.hcyl) << 8 | b(self.lcyl);
            let head = b(self.select & DEV_HEAD);
            let (heads, sectors) = (u64::from(chs.heads), u64::from(chs.sectors));
            ((cylinder * heads + head) * sectors + b(self.sector)).wrapping_sub(1)
        }
    }

    /// Store sector address `lba` in the registers (QEMU's `ide_set_sector`).
    pub fn set_sector_address(&mut self, lba: u64, lba48: bool, chs: Chs) {
        if self.select & DEV_LBA != 0 {
            self.sector = lba as u8;
            self.lcyl = (lba >> 8) as u8;
            self.hcyl = (lba >> 16) as u8;
            if lba48 {
                self.hob_sector = (lba >> 24) as u8;
                self.hob_lcyl = (lba >> 32) as u8;
                self.hob_hcyl = (lba >> 40) as u8;
            } else {
                self.select = (self.select & !DEV_HEAD) | ((lba >> 24) as u8 & DEV_HEAD);
            }
        } else {
            let per_cylinder = u64::from(chs.heads) * u64::from(chs.sectors);
            let cylinder = lba / per_cylinder;
            let rest = lba % per_cylinder;
            self.hcyl = (cylinder >> 8) as u8;
            self.lcyl = cylinder as u8;
            let head = rest / u64::from(chs.sectors);
            self.select = (self.select & !DEV_HEAD) | (head as u8 & DEV_HEAD);
            self.sector = (rest % u64::from(chs.sectors) + 1) as u8;
        }
    }

    /// The sector count of a command (QEMU's `ide_cmd_lba48_transform`): 0 means 256 (LBA28)
    /// or 65536 (LBA48).
    pub fn sector_count(&self, lba48: bool) -> u32 {
        if lba48 {
            match u32::from(self.hob_nsector) << 8 | u32::from(self.nsector) {
                0 => 65536,
                n => n,
            }
        } else {
            match self.nsector {
                0 => 256,
                n => u32::from(n),
            }
        }
    }

    /// Show `remaining` sectors left in the count registers.
    pub fn set_sector_count(&mut self, remaining: u32, lba48: bool) {
        self.nsector = remaining as u8;
        if lba48 {
            self.hob_nsector = (remaining >> 8) as u8;
        }
    }
}
