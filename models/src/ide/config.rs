//! Which drives the IDE function carries, and how a machine profile's options say so.
//!
//! # Drive options
//! The `pc` profiles take the drives as options (`--machine pc,hda=none`, or `-O`/
//! `DEVFUZZ_MACHINE_OPTS` for a target's machine); [`IdeConfig::parse`] starts from the default
//! (a disk as `hda`, a CD-ROM with the blank medium as `hdc`; `pc-nodisk` starts from none)
//! and applies comma-separated `slot=value` items, slots named as QEMU's
//! `-hda`..`-hdd` (`hda` primary master, `hdb` primary slave, `hdc` secondary master, `hdd`
//! secondary slave):
//! - `none`: no drive;
//! - `disk`: a 1 GiB sparse in-memory disk; `disk:<sectors>`: one of that many sectors;
//! - `disk-cow:<path>`: a raw image, writes kept in memory; `disk-ro:<path>`: read-only;
//! - `cdrom`: a CD-ROM with the blank medium; `cdrom-empty`: with no medium;
//!   `cdrom:<path>`: with an ISO image;
//! - `<slot>.fail=<sector>` / `<slot>.fail-unc=<sector>`: the sector fails with an I/O error /
//!   a medium error from power-on (see the event payload in the module doc).
//!
//! Example: `--machine pc,hda=disk-cow:/tmp/linux.img,hdc=cdrom:/tmp/boot.iso,hda.fail=2048`.

use super::ata::AtaDisk;
use super::atapi::AtapiCd;
use super::backend::{
    self, DEFAULT_DISK_SECTORS, Disk, Fault, ImageFile, ImageMode, IoError, Medium,
};
use super::unit::Drive;
use std::fmt;
use std::path::PathBuf;

/// What a disk stores its data on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskBacking {
    /// A sparse in-memory disk of this many 512-byte sectors, reading zeros until written.
    Memory {
        /// Capacity in sectors.
        sectors: u64,
    },
    /// A raw image file.
    Image {
        /// The file.
        path: PathBuf,
        /// Read-only or copy-on-write.
        mode: ImageMode,
    },
}

/// The medium in a CD-ROM drive at power-on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediumConfig {
    /// No medium (the tray is closed and empty).
    None,
    /// The generated blank ISO 9660 volume.
    Blank,
    /// An ISO image file.
    Image(PathBuf),
}

/// One drive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveConfig {
    /// An ATA hard disk.
    Disk {
        /// Its contents.
        backing: DiskBacking,
        /// A sector failing from power-on.
        fault: Option<Fault>,
    },
    /// An ATAPI CD-ROM drive.
    Cdrom {
        /// The medium.
        medium: MediumConfig,
        /// A sector failing from power-on.
        fault: Option<Fault>,
    },
}

impl DriveConfig {
    /// The default disk: 1 GiB in memory.
    pub fn disk() -> Self {
        Self::Disk {
            backing: DiskBacking::Memory {
                sectors: DEFAULT_DISK_SECTORS,
            },
            fault: None,
        }
    }

    /// The default CD-ROM: the blank medium inserted.
    pub fn cdrom() -> Self {
        Self::Cdrom {
            medium: MediumConfig::Blank,
            fault: None,
        }
    }

    fn fault_mut(&mut self) -> &mut Option<Fault> {
        match self {
            Self::Disk { fault, .. } | Self::Cdrom { fault, .. } => fault,
        }
    }
}

/// The drives of both channels: `drives[channel][unit]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdeConfig {
    /// Primary (0) and secondary (1) channel; master (0) and slave (1).
    pub drives: [[Option<DriveConfig>; 2]; 2],
}

impl Default for IdeConfig {
    /// A disk as primary master and a CD-ROM with the blank medium as secondary master.
    fn default() -> Self {
        Self {
            drives: [
                [Some(DriveConfig::disk()), None],
                [Some(DriveConfig::cdrom()), None],
            ],
        }
    }
}

/// A configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A drive option that does not parse.
    Syntax(String),
    /// An image file that cannot be opened.
    Image {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(item) => write!(
                f,
                "drive option '{item}' does not parse (slots hda..hdd; values none, disk[:SECTORS], \
                 disk-cow:PATH, disk-ro:PATH, cdrom, cdrom-empty, cdrom:PATH; SLOT.fail=N, \
                 SLOT.fail-unc=N)"
            ),
            Self::Image { path, reason } => {
                write!(f, "cannot open {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl IdeConfig {
    /// No drive on either channel.
    pub fn empty() -> Self {
        Self {
            drives: [[None, None], [None, None]],
        }
    }

    /// The default with `items` applied (comma-separated `slot=value` items, see the module
    /// documentation).
    pub fn parse(items: &str) -> Result<Self, ConfigError> {
        Self::default().with_items(items)
    }

    /// This configuration with `items` applied.
    pub fn with_items(mut self, items: &str) -> Result<Self, ConfigError> {
        for item in items.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            self.apply(item)?;
        }
        Ok(self)
    }

    fn apply(&mut self, item: &str) -> Result<(), ConfigError> {
        let bad = || ConfigError::Syntax(item.to_string());
        let (key, value) = item.split_once('=').ok_or_else(bad)?;
        let (slot, property) = match key.split_once('.') {
            Some((slot, property)) => (slot, Some(property)),
            None => (key, None),
        };
        let index = ["hda", "hdb", "hdc", "hdd"]
            .iter()
            .position(|s| *s == slot)
            .ok_or_else(bad)?;
        let drive = &mut self.drives[index / 2][index % 2];
        if let Some(property) = property {
            let error = match property {
                "fail" => IoError::Io,
                "fail-unc" => IoError::Medium,
                _ => return Err(bad()),
            };
            let sector = parse_number(value).ok_or_else(bad)?;
            *drive.as_mut().ok_or_else(bad)?.fault_mut() = Some(Fault { sector, error });
            return Ok(());
        }
        let (kind, arg) = match value.split_once(':') {
            Some((kind, arg)) => (kind, Some(arg)),
            None => (value, None),
        };
        *drive = match (kind, arg) {
            ("none", None) => None,
            ("disk", None) => Some(DriveConfig::disk()),
            ("disk", Some(n)) => Some(DriveConfig::Disk {
                backing: DiskBacking::Memory {
                    sectors: parse_number(n).ok_or_else(bad)?,
                },
                fault: None,
            }),
            ("disk-cow" | "disk-ro" | "cdrom", Some("")) => return Err(bad()),
            ("disk-cow" | "disk-ro", Some(path)) => Some(DriveConfig::Disk {
                backing: DiskBacking::Image {
                    path: PathBuf::from(path),
                    mode: if kind == "disk-ro" {
                        ImageMode::ReadOnly
                    } else {
                        ImageMode::CopyOnWrite
                    },
                },
                fault: None,
            }),
            ("cdrom", None) => Some(DriveConfig::cdrom()),
            ("cdrom-empty", None) => Some(DriveConfig::Cdrom {
                medium: MediumConfig::None,
                fault: None,
            }),
            ("cdrom", Some(path)) => Some(DriveConfig::Cdrom {
                medium: MediumConfig::Image(PathBuf::from(path)),
                fault: None,
            }),
            _ => return Err(bad()),
        };
        Ok(())
    }

    /// Build the drives, opening image files.
    pub(crate) fn open(&self) -> Result<[[Option<Drive>; 2]; 2], ConfigError> {
        let mut out: [[Option<Drive>; 2]; 2] = Default::default();
        for (channel, units) in self.drives.iter().enumerate() {
            for (unit, drive) in units.iter().enumerate() {
                let number = (channel * 2 + unit + 1) as u8;
                out[channel][unit] = match drive {
                    None => None,
                    Some(config) => Some(open_drive(config, number)?),
                };
            }
        }
        Ok(out)
    }

    /// The drives of the default configuration (which opens no file, so cannot fail).
    pub(crate) fn default_drives() -> [[Option<Drive>; 2]; 2] {
        [
            [
                Some(Drive::Disk(AtaDisk::new(
                    Disk::memory(DEFAULT_DISK_SECTORS),
                    None,
                    1,
                ))),
                None,
            ],
            [
                Some(Drive::Cd(AtapiCd::new(Some(Medium::blank()), None, 3))),
                None,
            ],
        ]
    }
}

fn open_image(path: &std::path::Path) -> Result<std::sync::Arc<ImageFile>, ConfigError> {
    ImageFile::open(path).map_err(|e| ConfigError::Image {
        path: path.to_path_buf(),
        reason: e.reason(),
    })
}

fn open_drive(config: &DriveConfig, number: u8) -> Result<Drive, ConfigError> {
    Ok(match config {
        DriveConfig::Disk { backing, fault } => {
            let disk = match backing {
                DiskBacking::Memory { sectors } => Disk::memory(*sectors),
                DiskBacking::Image { path, mode } => backend::Disk::image(open_image(path)?, *mode),
            };
            Drive::Disk(AtaDisk::new(disk, *fault, number))
        }
        DriveConfig::Cdrom { medium, fault } => {
            let medium = match medium {
                MediumConfig::None => None,
                MediumConfig::Blank => Some(Medium::blank()),
                MediumConfig::Image(path) => Some(Medium::image(open_image(path)?)),
            };
            Drive::Cd(AtapiCd::new(medium, *fault, number))
        }
    })
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_spec_is_the_default() {
        assert_eq!(IdeConfig::parse(""), Ok(IdeConfig::default()));
        assert_eq!(IdeConfig::parse(" , "), Ok(IdeConfig::default()));
    }

    #[test]
    fn items_change_or_remove_drives() {
        let c =
            IdeConfig::parse("hda=none,hdb=disk:2048,hdc=cdrom-empty,hdd=disk-ro:/x.img").unwrap();
        assert_eq!(c.drives[0][0], None);
        assert_eq!(
            c.drives[0][1],
            Some(DriveConfig::Disk {
                backing: DiskBacking::Memory { sectors: 2048 },
                fault: None
            })
        );
        assert_eq!(
            c.drives[1][0],
            Some(DriveConfig::Cdrom {
                medium: MediumConfig::None,
                fault: None
            })
        );
        assert_eq!(
            c.drives[1][1],
            Some(DriveConfig::Disk {
                backing: DiskBacking::Image {
                    path: PathBuf::from("/x.img"),
                    mode: ImageMode::ReadOnly
                },
                fault: None
            })
        );
    }

    #[test]
    fn fail_items_set_a_power_on_fault() {
        let c = IdeConfig::parse("hda.fail-unc=0x10,hdc.fail=7").unwrap();
        assert_eq!(
            c.drives[0][0],
            Some(DriveConfig::Disk {
                backing: DiskBacking::Memory {
                    sectors: DEFAULT_DISK_SECTORS
                },
                fault: Some(Fault {
                    sector: 16,
                    error: IoError::Medium
                })
            })
        );
        assert!(matches!(
            &c.drives[1][0],
            Some(DriveConfig::Cdrom {
                fault: Some(Fault {
                    sector: 7,
                    error: IoError::Io
                }),
                ..
            })
        ));
    }

    #[test]
    fn bad_items_are_errors_naming_them() {
        for bad in [
            "hde=disk",
            "hda",
            "hda=floppy",
            "hdb.fail=1",
            "hda.fail=x",
            "hda=disk:x",
        ] {
            let e = IdeConfig::parse(bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn a_missing_image_is_an_error_naming_the_file() {
        let c = IdeConfig::parse("hda=disk-cow:/nonexistent/devfuzz.img").unwrap();
        let e = c.open().expect_err("cannot open");
        assert!(e.to_string().contains("/nonexistent/devfuzz.img"), "{e}");
    }
}
