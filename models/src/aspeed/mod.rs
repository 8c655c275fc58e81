//! ASPEED BMC SoCs (AST2400, AST2500, AST2600): the firmware memory controller (FMC) with its
//! SPI-NOR flash, as the machines `ast2400` (palmetto-bmc), `ast2500` (ast2500-evb) and `ast2600`
//! (ast2600-evb) of QEMU have them. Facts: ../shared/facts/devices.md §2.
//!
//! Only the FMC is modelled: no CPU, interrupt controller, SCU, SPI1/SPI2 controllers or other
//! peripherals. The FMC's interrupt is machine line 0 (`fmc`: VIC IRQ 19 on the AST2400/2500,
//! GIC SPI 39 on the AST2600).
//!
//! # Memory map (all three)
//! - FMC registers at [`FMC_BASE`] (0x100 bytes), flash window at [`FLASH_WINDOW_BASE`] (256 MiB)
//!   with the SoC's chip selects and default segments (§2.1): AST2400 five (64 MiB at the window
//!   base, then 32 MiB each), AST2500 three (128 MiB, 32 MiB, 32 MiB), AST2600 three (128 MiB,
//!   128 MiB, disabled).
//! - DRAM at the SoC's base ([`Soc::dram_base`]; [`DRAM_BASE`] on the AST2500/2600), sized as the
//!   board's (256 MiB palmetto, 512 MiB ast2500-evb, 1 GiB ast2600-evb).
//! - One flash on CS0, as on QEMU's boards: n25q256a (palmetto), mx25l25635e (ast2500-evb),
//!   mx66u51235f (ast2600-evb). The other chip selects are not populated.
//!
//! # Board options
//! [`build`] takes [`BoardOptions`]: another CS0 part (n25q256a and w25q256 selectable), a flash
//! image, and the FMC's debug escape hatch ([`DebugLog`], off by default). The profiles take
//! them as machine options ([`ASPEED_OPTIONS`], [`BoardOptions::from_items`]):
//! `--machine ast2500,flash=w25q256,flash-image=fw.bin,debug-dir=out` for qtest, `-O`/
//! `DEVFUZZ_MACHINE_OPTS` for a target's machine: `flash` (part name), `flash-image` (a file,
//! at most the part's size is used), `debug-dir` with `debug-file` (a file name inside that
//! directory, default `fmc-debug.log`). A refused option is an error, never a silent default.
//! Fuzzing builds (`cfg(fuzzing)`) ignore the debug log.
//!
//! # Planted bugs
//! Builds with the cargo feature `planted-bugs` can select `fmc-cs-index`, `fmc-register-window`,
//! `m25p80-command-buffer` and `m25p80-address-wrap` (see [`crate::planted`]); the FMC and its
//! flashes are handed their parts of the selection when they are built and keep them across
//! resets.

pub mod debug_log;
pub mod fmc;
pub mod spi_nor;

pub use debug_log::{DebugLog, DebugLogError};
pub use fmc::{
    DEBUG_OUT, DMA_BURST, DMA_BURST_NS, Fmc, FmcConfig, IRQ_PIN, REGS_REGION, REGS_SIZE,
    WINDOW_REGION, WINDOW_SIZE,
};
pub use spi_nor::{FlashPart, PAGE_SIZE, SECTOR_SIZE, SpiNor};

use harness::machine::MachineSpec;
use harness::target::{Builder, MachineProfile, ProfileOption};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Address of the FMC register block.
pub const FMC_BASE: u64 = 0x1E62_0000;
/// Address of the FMC flash window.
pub const FLASH_WINDOW_BASE: u64 = 0x2000_0000;
/// DRAM base of the AST2500 and AST2600 (the AST2400's is 0x40000000).
pub const DRAM_BASE: u64 = 0x8000_0000;
/// Machine IRQ line of the FMC.
pub const IRQ_LINE: usize = 0;

/// An ASPEED SoC generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Soc {
    /// AST2400 (palmetto-bmc).
    Ast2400,
    /// AST2500 (ast2500-evb).
    Ast2500,
    /// AST2600 (ast2600-evb).
    Ast2600,
}

impl Soc {
    /// The most chip selects an FMC has (the AST2400's five).
    pub const CS_MAX: usize = 5;

    /// The FMC's name (QEMU's type name).
    pub const fn fmc_name(self) -> &'static str {
        match self {
            Self::Ast2400 => "aspeed.fmc-ast2400",
            Self::Ast2500 => "aspeed.fmc-ast2500",
            Self::Ast2600 => "aspeed.fmc-ast2600",
        }
    }

    /// Chip selects of the FMC.
    pub const fn cs_count(self) -> usize {
        match self {
            Self::Ast2400 => 5,
            Self::Ast2500 | Self::Ast2600 => 3,
        }
    }

    /// Where DRAM starts.
    pub const fn dram_base(self) -> u64 {
        match self {
            Self::Ast2400 => 0x4000_0000,
            Self::Ast2500 | Self::Ast2600 => DRAM_BASE,
        }
    }

    /// DRAM of the evaluation board (QEMU's default `-m` for the machine).
    pub const fn dram_size(self) -> u64 {
        match self {
            Self::Ast2400 => 256 << 20,
            Self::Ast2500 => 512 << 20,
            Self::Ast2600 => 1 << 30,
        }
    }

    /// The flash on CS0 of the board QEMU models.
    pub const fn evb_flash(self) -> FlashPart {
        match self {
            Self::Ast2400 => FlashPart::N25q256a,
            Self::Ast2500 => FlashPart::Mx25l25635e,
            Self::Ast2600 => FlashPart::Mx66u51235f,
        }
    }

    /// CONF at power-on: SPI flash type on the chip selects (facts §2.2 [V]).
    const fn conf_reset(self) -> u32 {
        match self {
            Self::Ast2400 => 0x2,
            Self::Ast2500 => 0xA,
            Self::Ast2600 => 0x2A,
        }
    }

    /// Segment register `cs` at power-on (facts §2.1/2.2 [V]).
    fn segment_reset(self, cs: usize) -> u32 {
        let table: &[u32] = match self {
            Self::Ast2400 => &[
                0x4840_0000,
                0x4C48_0000,
                0x504C_0000,
                0x5450_0000,
                0x5854_0000,
            ],
            Self::Ast2500 => &[0x5040_0000, 0x5450_0000, 0x5854_0000],
            Self::Ast2600 => &[0x07F0_0000, 0x0FF0_0800, 0],
        };
        table.get(cs).copied().unwrap_or(0)
    }

    /// The AST2600 encodes segments as 1 MiB offsets in the window; older SoCs as 8 MiB units
    /// of absolute addresses.
    const fn segments_in_window_offsets(self) -> bool {
        matches!(self, Self::Ast2600)
    }

    /// Segment register bits that exist (the others read 0): AST2400/2500 the end and start
    /// bytes, AST2600 the two 1 MiB fields (as QEMU).
    const fn segment_mask(self) -> u32 {
        match self {
            Self::Ast2400 | Self::Ast2500 => 0xFFFF_0000,
            Self::Ast2600 => 0x0FF0_0FF0,
        }
    }

    /// DMA_DRAM_ADDR bits the controller keeps (an offset in DRAM).
    const fn dma_dram_mask(self) -> u32 {
        match self {
            Self::Ast2400 => 0x1FFF_FFFC,
            Self::Ast2500 | Self::Ast2600 => 0x3FFF_FFFC,
        }
    }

    /// Bytes a DMA moves for DMA_LEN 0: the transfer is DMA_LEN + this, rounded up to words.
    ///
    /// Why LEN + 4 on the AST2400/2500 (and not ALIGN_UP(LEN, 4), what facts §2.4 gives for
    /// QEMU 7.2): ASPEED's own statement of the hardware, in the QEMU patch "aspeed/smc: support
    /// dma start length and 1 byte length unit" (Jamin Lin, ASPEED, 2024; in QEMU since 9.1):
    /// the AST2500 moves 4 bytes to 32 MiB, register 0 = 4 bytes, 0x1FFFFFC = 32 MiB; the
    /// AST2600 moves 1 byte to 32 MiB, 0 = 1 byte, 0x1FFFFFF = 32 MiB (ASPEED's AST2600/2700
    /// u-boot writes length - 1). QEMU 10.0 does exactly this, measured through qtest
    /// (tests/conformance/aspeed/dma-*.check, and palmetto-bmc for the AST2400): DMA_LEN 0 moves
    /// 4 bytes, 1..4 move 8, 0x3C moves 0x40 and 0x3D..0x40 move 0x44 on the AST2400/2500;
    /// 0..3 move 4, 4..7 move 8, 0x3C..0x3F move 0x40 on the AST2600. No datasheet text was at
    /// hand to check the "+ 4" against. ASPEED's AST2500 u-boot writes the 4-aligned byte count
    /// itself, so hardware that adds 4 reads one word past the buffer there (harmless for a
    /// copy to DRAM with room, and checksums are only compared with each other).
    const fn dma_start_length(self) -> u32 {
        match self {
            Self::Ast2400 | Self::Ast2500 => 4,
            Self::Ast2600 => 1,
        }
    }
}

/// Options of the ASPEED machines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoardOptions {
    /// The part on CS0 instead of the board's.
    pub flash: Option<FlashPart>,
    /// Contents of the CS0 flash (erased when `None`).
    pub flash_image: Option<Arc<[u8]>>,
    /// The FMC's debug escape hatch (off when `None`).
    pub debug_log: Option<DebugLog>,
    /// The planted bugs the FMC and its flashes are built with (option `bugs`).
    pub planted: crate::planted::Selection,
}

/// A board option that could not be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoardOptionsError {
    /// No supported part has this name.
    UnknownFlash(String),
    /// The image file could not be read.
    Image {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        reason: String,
    },
    /// The debug log was refused.
    DebugLog(DebugLogError),
    /// `debug-file` without `debug-dir`.
    DebugFileWithoutDir,
}

impl fmt::Display for BoardOptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownFlash(name) => {
                let names: Vec<&str> = FlashPart::ALL.iter().map(|p| p.name()).collect();
                write!(
                    f,
                    "flash={name}: unknown flash part (known: {})",
                    names.join(", ")
                )
            }
            Self::Image { path, reason } => {
                write!(f, "flash image {}: {reason}", path.display())
            }
            Self::DebugLog(e) => e.fmt(f),
            Self::DebugFileWithoutDir => {
                f.write_str("debug-file needs debug-dir (the directory the file must stay in)")
            }
        }
    }
}

impl std::error::Error for BoardOptionsError {}

/// Largest image read (the largest supported part).
const IMAGE_MAX: u64 = 64 << 20;

impl BoardOptions {
    /// The file name used when only the debug directory is given.
    pub const DEBUG_FILE_DEFAULT: &'static str = "fmc-debug.log";

    /// The options `items` ask for (keys of [`ASPEED_OPTIONS`]; absent keys: the board's
    /// defaults).
    pub fn from_items(items: &[(String, String)]) -> Result<Self, BoardOptionsError> {
        let get = |key: &str| {
            items
                .iter()
                .rev()
                .find(|(k, v)| k == key && !v.is_empty())
                .map(|(_, v)| v.as_str())
        };
        let mut opts = Self::default();
        if let Some(name) = get("flash") {
            opts.flash = Some(
                FlashPart::from_name(name)
                    .ok_or_else(|| BoardOptionsError::UnknownFlash(name.to_string()))?,
            );
        }
        if let Some(path) = get("flash-image") {
            opts.flash_image = Some(Self::load_image(Path::new(path))?);
        }
        if let Some(dir) = get("debug-dir") {
            let file = get("debug-file").unwrap_or(Self::DEBUG_FILE_DEFAULT);
            opts.debug_log = Some(DebugLog::new(dir, file).map_err(BoardOptionsError::DebugLog)?);
        } else if get("debug-file").is_some() {
            return Err(BoardOptionsError::DebugFileWithoutDir);
        }
        Ok(opts)
    }

    /// Read a flash image (at most 64 MiB; a part uses as much of it as it holds).
    pub fn load_image(path: &Path) -> Result<Arc<[u8]>, BoardOptionsError> {
        use std::io::Read as _;
        let err = |e: std::io::Error| BoardOptionsError::Image {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let mut data = Vec::new();
        harness::file::open_regular(path)
            .map_err(|e| BoardOptionsError::Image {
                path: path.to_path_buf(),
                reason: e.reason(),
            })?
            .take(IMAGE_MAX)
            .read_to_end(&mut data)
            .map_err(err)?;
        Ok(Arc::from(data))
    }
}

/// The options of the ASPEED profiles.
pub const ASPEED_OPTIONS: &[ProfileOption] = &[
    ProfileOption {
        key: "flash",
        help: "the part on CS0 instead of the board's: n25q256a | mx25l25635e | mx66u51235f | w25q256",
    },
    ProfileOption {
        key: "flash-image",
        help: "<file>: CS0 flash contents (read once, at most 64 MiB; erased flash otherwise)",
    },
    ProfileOption {
        key: "debug-dir",
        help: "<dir>: enable the FMC debug escape hatch, appending to a file inside <dir> (SECURITY.md)",
    },
    ProfileOption {
        key: "debug-file",
        help: "<name>: the escape hatch's file inside debug-dir (default fmc-debug.log)",
    },
    crate::planted::PROFILE_OPTION,
];

fn configure(soc: Soc, items: &[(String, String)]) -> Result<Builder, String> {
    let (planted, items) = crate::planted::Selection::from_items(items)?;
    let opts = BoardOptions {
        planted,
        ..BoardOptions::from_items(&items).map_err(|e| e.to_string())?
    };
    Ok(Arc::new(move || build(soc, &opts)))
}

fn configure_ast2400(items: &[(String, String)]) -> Result<Builder, String> {
    configure(Soc::Ast2400, items)
}

fn configure_ast2500(items: &[(String, String)]) -> Result<Builder, String> {
    configure(Soc::Ast2500, items)
}

fn configure_ast2600(items: &[(String, String)]) -> Result<Builder, String> {
    configure(Soc::Ast2600, items)
}

/// Build an ASPEED machine with `opts`.
pub fn build(soc: Soc, opts: &BoardOptions) -> MachineSpec {
    let mut config = FmcConfig::new(soc);
    if let Some(part) = opts.flash {
        config.flashes[0] = part;
    }
    config.image = opts.flash_image.clone();
    config.debug_log = opts.debug_log.clone();
    config.planted = opts.planted.planted(fmc::PLANTED);
    config.flash_planted = opts.planted.planted(spi_nor::PLANTED);
    let mut spec = MachineSpec {
        ram_base: soc.dram_base(),
        ram_size: soc.dram_size(),
        irq_lines: vec!["fmc"],
        ..MachineSpec::default()
    };
    let fmc = spec.add(Box::new(Fmc::new(config)));
    spec.map_fixed(fmc, REGS_REGION, FMC_BASE, 0);
    spec.map_fixed(fmc, WINDOW_REGION, FLASH_WINDOW_BASE, 0);
    spec.wire_irq(fmc, IRQ_PIN, IRQ_LINE);
    spec
}

fn build_ast2400() -> MachineSpec {
    build(Soc::Ast2400, &BoardOptions::default())
}

fn build_ast2500() -> MachineSpec {
    build(Soc::Ast2500, &BoardOptions::default())
}

fn build_ast2600() -> MachineSpec {
    build(Soc::Ast2600, &BoardOptions::default())
}

/// The `ast2400` profile (QEMU `-M palmetto-bmc`, FMC only).
pub static AST2400: MachineProfile = MachineProfile {
    name: "ast2400",
    description: "ASPEED AST2400 (palmetto-bmc): FMC at 0x1E620000, flash window 0x20000000 (n25q256a on CS0), 256 MiB DRAM at 0x40000000",
    build: build_ast2400,
    options: ASPEED_OPTIONS,
    configure: Some(configure_ast2400),
};

/// The `ast2500` profile (QEMU `-M ast2500-evb`, FMC only).
pub static AST2500: MachineProfile = MachineProfile {
    name: "ast2500",
    description: "ASPEED AST2500 (ast2500-evb): FMC at 0x1E620000, flash window 0x20000000 (mx25l25635e on CS0), 512 MiB DRAM at 0x80000000",
    build: build_ast2500,
    options: ASPEED_OPTIONS,
    configure: Some(configure_ast2500),
};

/// The `ast2600` profile (QEMU `-M ast2600-evb`, FMC only).
pub static AST2600: MachineProfile = MachineProfile {
    name: "ast2600",
    description: "ASPEED AST2600 (ast2600-evb): FMC at 0x1E620000, flash window 0x20000000 (mx66u51235f on CS0), 1 GiB DRAM at 0x80000000",
    build: build_ast2600,
    options: ASPEED_OPTIONS,
    configure: Some(configure_ast2600),
};
