//! What the drives store their data on: disks (a sparse in-memory disk, or a raw image file opened
//! read-only or copy-on-write), CD media (a generated blank ISO 9660 volume, or an image file), and
//! the injected faults that make a sector fail.
//!
//! Everything here is deterministic: an image file is only read, never written, and what a guest
//! writes lives in a sparse overlay that a device reset drops.
//!
//! - `disk.rs`: an ATA disk's contents ([`Disk`]), a base under a sparse overlay of written
//!   sectors;
//! - `medium.rs`: a CD medium ([`Medium`]);
//! - `image.rs`: the raw image files a machine option names ([`ImageFile`]), which either reads.

mod disk;
mod image;
mod medium;

pub use disk::Disk;
pub use image::{ImageFile, ImageMode};
pub use medium::Medium;

/// ATA logical sector size.
pub const SECTOR_SIZE: usize = 512;
/// CD-ROM (mode 1) user-data sector size.
pub const CD_SECTOR_SIZE: usize = 2048;
/// Sectors of the default in-memory disk: 1 GiB, the size of QEMU's `null-co` driver.
pub const DEFAULT_DISK_SECTORS: u64 = (1 << 30) / SECTOR_SIZE as u64;
/// Sectors of the default generated CD medium (2 MiB: a volume descriptor set and room to read).
pub const DEFAULT_CD_SECTORS: u64 = 1024;
/// Most distinct non-zero sectors the guest may store in an overlay (8 MiB): a write past it
/// fails like a full thin-provisioned backend (the bound on guest-driven allocation).
pub const OVERLAY_MAX_SECTORS: usize = 16 * 1024;

/// Why a backend request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoError {
    /// An I/O error (QEMU's `-EIO`): reported as an aborted command (ABRT).
    Io,
    /// An unrecoverable medium error: reported as UNC (ATA) or MEDIUM ERROR (ATAPI).
    Medium,
    /// A write to a read-only image.
    ReadOnly,
    /// The overlay is full (see [`OVERLAY_MAX_SECTORS`]).
    NoSpace,
    /// A CD-ROM request found no medium (the tray was opened meanwhile).
    NoMedium,
}

/// A sector that fails when a request touches it (injected through the device's event or set by
/// the profile).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The failing sector (512-byte LBA for a disk, 2048-byte LBA for a CD).
    pub sector: u64,
    /// How it fails.
    pub error: IoError,
}

impl Fault {
    /// Whether a request for `count` sectors at `first` touches the failing sector.
    pub fn check(fault: Option<Fault>, first: u64, count: u64) -> Result<(), IoError> {
        match fault {
            Some(f) if f.sector >= first && f.sector - first < count => Err(f.error),
            _ => Ok(()),
        }
    }
}
