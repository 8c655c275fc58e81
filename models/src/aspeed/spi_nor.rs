//! SPI-NOR flash behind the FMC, modelled on the command set QEMU's `m25p80` implements (facts
//! §2.5): 3- and 4-byte addressing (EN4B/EX4B, the extended address register, 4-byte opcodes),
//! WREN/WRDI, status and configuration registers with block protection, JEDEC ID, SFDP, READ and
//! the fast reads, page program, 4K/32K/64K/chip erase, reset enable/reset, flag status.
//!
//! Not emulated: timing (WIP is always 0), dual/quad/QPI line widths (the dual and quad
//! commands share the single-line data path), OTP/security registers, suspend/resume, the WP#
//! pin, Winbond's CMP bit, die erase.
//!
//! # Choices (and where they differ from QEMU's m25p80)
//! - A transaction is what happens between chip select asserted and deasserted. Bytes after a
//!   rejected or finished command are ignored until the deselect, as on real parts (m25p80
//!   decodes every byte it sees in its idle state as a new opcode).
//! - WEL is cleared when a program, erase or register write completes, as real parts do (QEMU
//!   keeps it set). A page program latches its data in a 256-byte page buffer, wrapping inside
//!   the page, and programs the page (by AND) when CS is deasserted, as real parts do (QEMU
//!   programs each byte at once and wraps at the device size).
//! - The Macronix configuration register read (RDCR, 0x15) answers once, as QEMU's; RDSR
//!   repeats its register while CS# is held (measured on QEMU; the facts say nothing of RDCR).
//! - Dummy phases are counted in bytes as the controller sends them: one byte for the fast reads
//!   and SFDP; the quad I/O reads (0xEB/0xEC) take the part's mode + dummy clocks on four lines
//!   (Macronix: configuration register bits 7:6 select 6/4/8/10 clocks, 3/2/4/5 bytes; Micron:
//!   the volatile configuration register's dummy clocks, default 10; Winbond: 3 bytes).
//! - Every part has an SFDP table (JESD216 header and basic parameter table built from its
//!   geometry, plus the Macronix vendor table on the MX25L25635E, byte for byte what QEMU
//!   answers there); m25p80 has tables for some parts only (none for the MX66U51235F). The
//!   SFDP space repeats every 256 bytes, as m25p80's tables do (the datasheets define only the
//!   tables). Flag status (0x70) answers on every part
//!   (as m25p80), bit 7 ready and bit 0 the 4-byte mode.
//! - Where a choice above makes this model answer differently from QEMU, the model says so at
//!   that moment (`Context::note_choice` with a `CHOICE_*` name), so `devfuzz diff-corpus` keys
//!   what follows `choice:NAME:REG` (docs/differential.md); each is written down in
//!   `qemu-differences.txt`.
//! - Contents are sparse 4 KiB sectors over the part's erased state (0xFF) or a loaded image;
//!   [`SpiNor::reset`] returns to them (the device's power-on state is what the harness needs
//!   between inputs, so contents are not kept across a reset).

use crate::planted_bug::{Bug, Planted, PlantedBug};
use harness::device::Context;
use std::fmt;
use std::sync::Arc;

/// Choice where QEMU's m25p80 differs (noted through [`Context::note_choice`], written down in
/// qemu-differences.txt): WEL is cleared when a program, erase or register write completes; it
/// is noted when QEMU's WEL, still set, would show (RDSR) or let a command through that needs it.
pub const CHOICE_WEL_CLEARED: &str = "wel-cleared-after-write";
/// Choice: bytes after a finished or refused command are ignored until the deselect; noted
/// when such a byte is not 0x00 (m25p80 would decode it as a new command; 0x00 does nothing
/// there either).
pub const CHOICE_IGNORED_UNTIL_DESELECT: &str = "bytes-ignored-until-deselect";
/// Choice: dummy phases are counted in bytes; noted where QEMU would count a different number
/// of them: a dummy byte clocked by a read in user mode (QEMU's controller expands only written
/// dummy bytes into 8 clock cycles), a written one of a command whose dummy clocks are not one
/// byte's eight, and a command mode whose dummy field is not the part's count for the opcode.
pub const CHOICE_DUMMY_BYTES: &str = "dummy-counted-in-bytes";

/// Choice: every part answers RDSFDP with its table (the parts have one); QEMU's m25p80 has
/// tables for some parts only and answers zeros on the others (the MX66U51235F). Noted when
/// such a part streams SFDP data.
pub const CHOICE_SFDP_TABLE: &str = "sfdp-table-on-every-part";
/// Choice: a command of another vendor's parts is ignored (the part does not have it); QEMU's
/// m25p80 answers several on every part (RDNVCR 0xB5 on the MX66U51235F reads 0x8FFF there).
/// Noted when such a command is decoded.
pub const CHOICE_VENDOR_COMMANDS: &str = "other-vendors-commands-ignored";

/// Page program buffer size (all supported parts).
pub const PAGE_SIZE: u32 = 256;
/// Smallest erase unit, and the granularity of the sparse contents.
pub const SECTOR_SIZE: u32 = 4096;
const SECTOR: usize = SECTOR_SIZE as usize;
/// Bytes of address or register data a command collects (the longest: a 4-byte address).
const CMD_BUF_LEN: usize = 8;
/// Bytes RDID returns before the flash goes quiet (m25p80's SPI_NOR_MAX_ID_LEN).
const ID_LEN: usize = 6;
/// MISO while the flash does not drive data (command, address and dummy phases).
const IDLE_OUT: u8 = 0x00;

// Opcodes (names as in the parts' datasheets and m25p80).
const WRSR: u8 = 0x01; // Write Status Register (Macronix/Winbond: + configuration / SR2)
const PP: u8 = 0x02; // Page Program
const READ: u8 = 0x03; // Read Data
const WRDI: u8 = 0x04; // Write Disable
const RDSR: u8 = 0x05; // Read Status Register
const WREN: u8 = 0x06; // Write Enable
const FAST_READ: u8 = 0x0B; // Fast Read
const FAST_READ4: u8 = 0x0C; // Fast Read, 4-byte address
const WRSR3: u8 = 0x11; // Winbond: Write Status Register-3
const PP4: u8 = 0x12; // Page Program, 4-byte address
const READ4: u8 = 0x13; // Read Data, 4-byte address
const RDCR: u8 = 0x15; // Macronix: Read Configuration Register; Winbond: Read Status Register-3
const BE_4K: u8 = 0x20; // Sector (4 KiB) Erase
const BE4_4K: u8 = 0x21; // Sector (4 KiB) Erase, 4-byte address
const WRSR2: u8 = 0x31; // Winbond: Write Status Register-2
const QPP: u8 = 0x32; // Quad Input Page Program
const QPP4: u8 = 0x34; // Quad Input Page Program, 4-byte address
const RDSR2: u8 = 0x35; // Winbond: Read Status Register-2
const PP_1_4_4: u8 = 0x38; // Macronix 4PP: quad address and data page program
const DOR: u8 = 0x3B; // Dual Output Fast Read
const DOR4: u8 = 0x3C; // Dual Output Fast Read, 4-byte address
const PP4_4: u8 = 0x3E; // Quad I/O Page Program, 4-byte address
const CLFSR: u8 = 0x50; // Micron: Clear Flag Status Register
const BE_32K: u8 = 0x52; // Block (32 KiB) Erase
const RDSFDP: u8 = 0x5A; // Read Serial Flash Discoverable Parameters
const BE4_32K: u8 = 0x5C; // Block (32 KiB) Erase, 4-byte address
const CE_ALT: u8 = 0x60; // Chip Erase (alternative opcode)
const WREVCR: u8 = 0x61; // Micron: Write Enhanced Volatile Configuration Register
const RDEVCR: u8 = 0x65; // Micron: Read Enhanced Volatile Configuration Register
const RSTEN: u8 = 0x66; // Reset Enable
const QOR: u8 = 0x6B; // Quad Output Fast Read
const QOR4: u8 = 0x6C; // Quad Output Fast Read, 4-byte address
const RDFSR: u8 = 0x70; // Read Flag Status Register
const WRVCR: u8 = 0x81; // Micron: Write Volatile Configuration Register
const RDVCR: u8 = 0x85; // Micron: Read Volatile Configuration Register
const RST: u8 = 0x99; // Reset Memory
const RDID: u8 = 0x9F; // Read Identification (JEDEC)
const DPP: u8 = 0xA2; // Dual Input Page Program
const WRNVCR: u8 = 0xB1; // Micron: Write Non-Volatile Configuration Register
const RDNVCR: u8 = 0xB5; // Micron: Read Non-Volatile Configuration Register
const EN4B: u8 = 0xB7; // Enter 4-byte Address Mode
const DIOR: u8 = 0xBB; // Dual I/O Fast Read
const DIOR4: u8 = 0xBC; // Dual I/O Fast Read, 4-byte address
const WREAR: u8 = 0xC5; // Write Extended Address Register
const CE: u8 = 0xC7; // Chip (Bulk) Erase
const RDEAR: u8 = 0xC8; // Read Extended Address Register
const SE: u8 = 0xD8; // Sector / Block (64 KiB) Erase
const SE4: u8 = 0xDC; // Sector / Block (64 KiB) Erase, 4-byte address
const EX4B: u8 = 0xE9; // Exit 4-byte Address Mode
const QIOR: u8 = 0xEB; // Quad I/O Fast Read
const QIOR4: u8 = 0xEC; // Quad I/O Fast Read, 4-byte address

// Status register.
const SR_WIP: u8 = 0x01; // Write In Progress (always 0 here: operations complete at once)
const SR_WEL: u8 = 0x02; // Write Enable Latch
const SR_WRITABLE: u8 = 0xFC; // BP bits, TB/QE/BP3, SRWD
// Macronix configuration register.
const MX_CR_TB: u8 = 0x08; // Top/Bottom block protect (OTP on real parts)
const MX_CR_4BYTE: u8 = 0x20; // 4-byte address mode (read-only indicator)
const MX_CR_WRITABLE: u8 = 0xCF; // DC 7:6, TB 3, ODS 2:0
const MX_CR_DC_SHIFT: u8 = 6; // Dummy Cycle bits 7:6
/// Power-on value: output driver strength (bits 2:0) 111, the parts' default; what QEMU's
/// m25p80 answers too (tests/conformance/aspeed/jedec-*).
const MX_CR_DEFAULT: u8 = 0x07;
// Micron status register fields.
const MT_SR_TB: u8 = 0x20; // Top/Bottom
const MT_SR_BP3: u8 = 0x40; // BP3
// Winbond status registers.
const WB_SR_TB: u8 = 0x40; // Top/Bottom
const WB_SR3_ADS: u8 = 0x01; // Current address mode (read-only)
// Flag status register.
const FSR_READY: u8 = 0x80; // Program or erase controller ready
const FSR_4BYTE: u8 = 0x01; // 4-byte addressing enabled

// Micron configuration registers.
const MT_NVCR_DEFAULT: u16 = 0xFFFF;
const MT_NVCR_3BYTE: u16 = 0x0001; // bit 0: 1 = 3-byte addressing at power-on
const MT_VCR_DEFAULT: u8 = 0xFB;
const MT_VCR_DUMMY_SHIFT: u8 = 4; // dummy clock cycles, bits 7:4 (0 and 15: the default)
const MT_EVCR_DEFAULT: u8 = 0xDF;

/// A supported flash part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlashPart {
    /// Macronix MX25L25635E, 32 MiB (ast2500-evb's FMC flash).
    Mx25l25635e,
    /// Macronix MX66U51235F, 64 MiB (ast2600-evb's FMC flash).
    Mx66u51235f,
    /// Micron N25Q256A, 32 MiB (palmetto-bmc's FMC flash).
    N25q256a,
    /// Winbond W25Q256, 32 MiB.
    W25q256,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Vendor {
    Macronix,
    Micron,
    Winbond,
}

/// What distinguishes the parts.
#[derive(Debug)]
struct PartInfo {
    name: &'static str,
    vendor: Vendor,
    /// JEDEC ID bytes as RDID returns them (padded with zeros to [`ID_LEN`]).
    id: [u8; ID_LEN],
    size: u32,
    /// Size of the 0xD8 erase block.
    block_size: u32,
    /// Whether 0x52/0x5C (32 KiB erase) exists.
    erase_32k: bool,
}

/// Each part's facts, in the order of [`FlashPart`]'s variants (a table, as QEMU's m25p80 has
/// `known_devices`).
const PARTS: [PartInfo; FlashPart::ALL.len()] = [
    // FlashPart::Mx25l25635e
    PartInfo {
        name: "mx25l25635e",
        vendor: Vendor::Macronix,
        id: [0xC2, 0x20, 0x19, 0xC2, 0x20, 0x19],
        size: 32 << 20,
        block_size: 64 << 10,
        erase_32k: true,
    },
    // FlashPart::Mx66u51235f
    PartInfo {
        name: "mx66u51235f",
        vendor: Vendor::Macronix,
        id: [0xC2, 0x25, 0x3A, 0, 0, 0],
        size: 64 << 20,
        block_size: 64 << 10,
        erase_32k: true,
    },
    // FlashPart::N25q256a
    PartInfo {
        name: "n25q256a",
        vendor: Vendor::Micron,
        id: [0x20, 0xBA, 0x19, 0, 0, 0],
        size: 32 << 20,
        block_size: 64 << 10,
        erase_32k: false,
    },
    // FlashPart::W25q256
    PartInfo {
        name: "w25q256",
        vendor: Vendor::Winbond,
        id: [0xEF, 0x40, 0x19, 0, 0, 0],
        size: 32 << 20,
        block_size: 64 << 10,
        erase_32k: true,
    },
];

impl FlashPart {
    /// Every supported part.
    pub const ALL: [FlashPart; 4] = [
        Self::Mx25l25635e,
        Self::Mx66u51235f,
        Self::N25q256a,
        Self::W25q256,
    ];

    fn info(self) -> &'static PartInfo {
        &PARTS[self as usize]
    }
}

// `PARTS` is indexed by the variant's discriminant: `ALL` lists the variants in that order.
const _: () = {
    let mut i = 0;
    while i < FlashPart::ALL.len() {
        assert!(FlashPart::ALL[i] as usize == i);
        i += 1;
    }
};

impl FlashPart {
    /// The part's name as QEMU's `m25p80` knows it (`mx25l25635e`).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The part named `name` (QEMU's names).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether QEMU's m25p80 has an SFDP table for the part (only for noting
    /// [`CHOICE_SFDP_TABLE`]).
    fn qemu_has_sfdp(self) -> bool {
        matches!(self, Self::Mx25l25635e | Self::W25q256)
    }

    /// Capacity in bytes.
    pub fn size(self) -> u32 {
        self.info().size
    }

    /// The JEDEC manufacturer, memory type and capacity bytes.
    #[cfg(test)]
    pub fn jedec_id(self) -> [u8; 3] {
        let id = self.info().id;
        [id[0], id[1], id[2]]
    }
}

/// Whether every byte of `data` is zero: compared with a block of zeros (a byte loop here
/// would be instrumented in fuzz builds; the comparison is a library call).
fn all_zero(data: &[u8]) -> bool {
    const ZEROS: [u8; 1024] = [0; 1024];
    data.chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()])
}

// ---- SFDP (JESD216) ----------------------------------------------------------------------------

/// The SFDP space repeats every this many bytes: QEMU's m25p80 indexes its 256-byte tables
/// modulo their size (measured: RDSFDP at 0x072000 reads the header's "S"); the parts'
/// datasheets define only the tables.
const SFDP_SPACE: u32 = 0x100;
/// Where RDSFDP's data starts in the bytes after its opcode: after 3 address bytes and a dummy.
const SFDP_DATA_AT: usize = 4;
/// Where the basic flash parameter table starts in the SFDP space.
const SFDP_BFPT: u32 = 0x30;
/// Its length in dwords (JESD216, first revision).
const SFDP_BFPT_DWORDS: u32 = 9;
/// Where a vendor parameter table starts (after the BFPT, on parts that have one).
const SFDP_VENDOR: u32 = 0x60;

/// The vendor parameter table of the MX25L25635E/F (Macronix, ID 0xC2, revision 1.0, 4 dwords),
/// as the part's datasheet gives it and QEMU's m25p80 answers (measured): VCC 3.6 V max, 2.7 V
/// min; HW reset#, WP#/HOLD#, deep power down, software reset (0x66/0x99), suspend/resume.
const MX25L25635_VENDOR: [u32; 4] = [0x2700_3600, 0xFFFF_4FF7, 0xFFFF_C8D9, 0xFFFF_FFFF];

/// The vendor parameter table of `part`, if it has one here.
fn sfdp_vendor_table(part: FlashPart) -> Option<&'static [u32; 4]> {
    (part == FlashPart::Mx25l25635e).then_some(&MX25L25635_VENDOR)
}

/// Where `part`'s SFDP space has nothing more (0xFF from there on).
fn sfdp_end(part: FlashPart) -> u32 {
    match sfdp_vendor_table(part) {
        Some(t) => SFDP_VENDOR + 4 * t.len() as u32,
        None => SFDP_BFPT + 4 * SFDP_BFPT_DWORDS,
    }
}

/// The byte at `addr` of the part's SFDP space: the JESD216 header, the parameter headers, the
/// basic flash parameter table derived from the part's geometry and, on the MX25L25635E, the
/// Macronix vendor table; 0xFF elsewhere. Unused fields read as JESD216 asks (reserved bits 1,
/// an unsupported mode's opcode 0xFF, an unused erase type size 0 and opcode 0xFF), which is
/// also what the MX25L25635E's table in QEMU holds (tests/conformance/aspeed/jedec-ast2500).
fn sfdp_byte(part: FlashPart, addr: u32) -> u8 {
    let addr = addr % SFDP_SPACE;
    sfdp_dword(part, addr & !3).to_le_bytes()[(addr & 3) as usize]
}

/// The SFDP dword at `addr` (4-aligned, inside [`SFDP_SPACE`]); all ones past the tables.
fn sfdp_dword(part: FlashPart, addr: u32) -> u32 {
    let info = part.info();
    let vendor = sfdp_vendor_table(part);
    match addr {
        0x00 => u32::from_le_bytes(*b"SFDP"),
        // Minor 0, major 1, parameter headers minus one (NPH), access protocol 0xFF.
        0x04 => 0xFF00_0100 | (u32::from(vendor.is_some()) << 16),
        0x08 => 0x0901_0000,             // parameter ID LSB 0, rev 1.0, 9 dwords
        0x0C => 0xFF00_0000 | SFDP_BFPT, // table pointer, parameter ID MSB 0xFF
        // The vendor table's header: ID LSB 0xC2 (Macronix), rev 1.0, 4 dwords, its pointer.
        0x10 if vendor.is_some() => 0x0401_00C2,
        0x14 if vendor.is_some() => 0xFF00_0000 | SFDP_VENDOR,
        a if (SFDP_BFPT..SFDP_BFPT + 4 * SFDP_BFPT_DWORDS).contains(&a) => {
            match (a - SFDP_BFPT) / 4 {
                // 4 KiB erase (0x20), page >= 64 bytes, 3- or 4-byte addressing, 1-1-2, 1-2-2,
                // 1-4-4 and 1-1-4 reads; reserved bits set.
                0 => 0xFFF3_20E5,
                // Density in bits, minus one.
                1 => (info.size << 3).wrapping_sub(1),
                // 1-4-4 (0xEB: 2 mode + 4 dummy clocks) and 1-1-4 (0x6B: 8 dummy clocks).
                2 => 0x6B08_EB44,
                // 1-1-2 (0x3B: 8 dummy clocks) and 1-2-2 (0xBB: 4 dummy clocks).
                3 => 0xBB04_3B08,
                // No 2-2-2 or 4-4-4.
                4 => 0xFFFF_FFEE,
                5 | 6 => 0xFF00_FFFF,
                // Erase types 1 and 2: 4 KiB (0x20), then 32 KiB (0x52) or 64 KiB (0xD8).
                7 if info.erase_32k => 0x520F_200C,
                7 => 0xD810_200C,
                // Erase type 3: 64 KiB (0xD8) where type 2 is 32 KiB; type 4 unused.
                _ if info.erase_32k => 0xFF00_D810,
                _ => 0xFF00_FF00,
            }
        }
        a if vendor.is_some() && (SFDP_VENDOR..sfdp_end(part)).contains(&a) => {
            vendor.map_or(u32::MAX, |t| t[((a - SFDP_VENDOR) / 4) as usize])
        }
        _ => u32::MAX,
    }
}

// ---- contents --------------------------------------------------------------------------------

/// Sectors per chunk of the sector table (see [`Storage`]): the square root of the largest
/// part's 16384 sectors, so that a first write copies as few entries as possible.
const CHUNK_SECTORS: usize = 128;

/// One sector's bytes, shared copy-on-write.
type Sector = Arc<[u8; SECTOR]>;
/// [`CHUNK_SECTORS`] sectors of the table; `None` where a sector is pristine.
type Chunk = [Option<Sector>; CHUNK_SECTORS];

/// Sparse contents: 4 KiB sectors materialised on first program; an absent sector reads as its
/// pristine bytes (the image's, else erased 0xFF).
///
/// The sector table is two-level and shared copy-on-write (`Arc`) at each level: the machine
/// clones every device a fuzz input entered to restore its checkpoint, and a 64 MiB part has
/// 16384 sectors. A clone costs a reference count; the first program or erase of an input
/// copies the table of chunks and the chunk it touches (not the 16384 sectors' entries), and
/// each sector it changes.
#[derive(Clone)]
struct Storage {
    /// Chunk `i` holds sectors `i * CHUNK_SECTORS..`; `None` where all of them are pristine.
    chunks: Arc<Vec<Option<Arc<Chunk>>>>,
    /// The part's sectors (a multiple of [`CHUNK_SECTORS`] on every part).
    sector_count: usize,
    image: Option<Arc<[u8]>>,
    /// Counts programs and erases (bookkeeping: tells a caller the contents may have changed).
    generation: u64,
}

impl fmt::Debug for Storage {
    /// Lists the materialised sectors with a content digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (i, s) in self.sectors() {
            let digest = s.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            map.entry(
                &format_args!("{:#x}", i * SECTOR),
                &format_args!("{digest:016x}"),
            );
        }
        map.finish()
    }
}

/// Equal contents: the same sectors materialised with the same bytes (a chunk of pristine
/// sectors equals an absent one; the generation is bookkeeping).
impl PartialEq for Storage {
    fn eq(&self, other: &Self) -> bool {
        self.sector_count == other.sector_count
            && self.image == other.image
            && self.sectors().eq(other.sectors())
    }
}

impl Eq for Storage {}

impl Storage {
    /// No contents at all (a placeholder while the real ones are moved).
    fn empty() -> Self {
        Self::new(0, None)
    }

    fn new(size: u32, image: Option<Arc<[u8]>>) -> Self {
        let sector_count = (size / SECTOR_SIZE) as usize;
        Self {
            chunks: Arc::new(vec![None; sector_count.div_ceil(CHUNK_SECTORS)]),
            sector_count,
            image,
            generation: 0,
        }
    }

    /// The materialised sectors, in order, with their indices.
    fn sectors(&self) -> impl Iterator<Item = (usize, &[u8; SECTOR])> {
        self.chunks
            .iter()
            .enumerate()
            .filter_map(|(c, chunk)| Some((c, chunk.as_ref()?)))
            .flat_map(|(c, chunk)| {
                chunk
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, s)| Some((c * CHUNK_SECTORS + i, &**s.as_ref()?)))
            })
    }

    /// Sector `index`, if materialised (`None` also past the part).
    fn sector(&self, index: usize) -> Option<&[u8; SECTOR]> {
        let chunk = self.chunks.get(index / CHUNK_SECTORS)?.as_ref()?;
        chunk[index % CHUNK_SECTORS].as_deref()
    }

    fn pristine(&self, addr: u32) -> u8 {
        self.image
            .as_deref()
            .and_then(|img| img.get(addr as usize))
            .copied()
            .unwrap_or(0xFF)
    }

    /// The byte at `addr` (inside the part).
    fn byte(&self, addr: u32) -> u8 {
        match self.sector((addr / SECTOR_SIZE) as usize) {
            Some(sector) => sector[addr as usize % SECTOR],
            None => self.pristine(addr),
        }
    }

    /// [`Storage::read_into`] for the few bytes of a word: with one sector lookup and no
    /// library calls when they lie in one sector (a DMA word always does).
    fn read_few(&self, addr: u32, size: u32, buf: &mut [u8]) {
        let addr = addr & (size - 1);
        let offset = addr as usize % SECTOR;
        let end = offset + buf.len();
        if buf.len() > 16 || end > SECTOR || u64::from(addr) + buf.len() as u64 > u64::from(size) {
            return self.read_into(addr, size, buf);
        }
        // A word is copied as one (an instrumented byte loop, or a library call, costs more).
        match self.sector((addr / SECTOR_SIZE) as usize) {
            Some(sector) => match <&mut [u8; 4]>::try_from(&mut *buf) {
                Ok(word) => word.copy_from_slice(&sector[offset..end]),
                Err(_) => buf.copy_from_slice(&sector[offset..end]),
            },
            None if self.image.is_none() => match <&mut [u8; 4]>::try_from(&mut *buf) {
                Ok(word) => *word = [0xFF; 4],
                Err(_) => buf.fill(0xFF),
            },
            None => {
                for (i, out) in buf.iter_mut().enumerate() {
                    *out = self.pristine(addr + i as u32);
                }
            }
        }
    }

    /// `buf.len()` bytes from `addr` on, wrapping at `size` (a power of two holding `addr`).
    fn read_into(&self, addr: u32, size: u32, buf: &mut [u8]) {
        let mut addr = addr & (size - 1);
        let mut done = 0;
        while done < buf.len() {
            let offset = addr as usize % SECTOR;
            let n = (SECTOR - offset)
                .min(buf.len() - done)
                .min((size - addr) as usize);
            let out = &mut buf[done..done + n];
            match self.sector((addr / SECTOR_SIZE) as usize) {
                Some(sector) => out.copy_from_slice(&sector[offset..offset + n]),
                None => {
                    let image = self.image.as_deref().unwrap_or(&[]);
                    let start = (addr as usize).min(image.len());
                    let from_image = image.len().saturating_sub(start).min(n);
                    out[..from_image].copy_from_slice(&image[start..start + from_image]);
                    out[from_image..].fill(0xFF);
                }
            }
            done += n;
            addr = (addr + n as u32) & (size - 1);
        }
    }

    /// PLANTED BUG `m25p80-address-wrap`: the byte at `addr` read straight from the sector table,
    /// trusting that `addr` lies inside the part.
    #[cfg(feature = "planted-bugs")]
    fn byte_unwrapped(&self, addr: u32) -> u8 {
        let (index, offset) = ((addr / SECTOR_SIZE) as usize, addr as usize % SECTOR);
        match &self.chunks[index / CHUNK_SECTORS] {
            Some(chunk) => match &chunk[index % CHUNK_SECTORS] {
                Some(sector) => sector[offset],
                None => self.pristine(addr),
            },
            None => self.pristine(addr),
        }
    }

    /// The table entry of sector `index` (inside the part), its chunk copied if shared.
    fn entry_mut(&mut self, index: usize) -> &mut Option<Sector> {
        let chunk = Arc::make_mut(&mut self.chunks)[index / CHUNK_SECTORS]
            .get_or_insert_with(|| Arc::new([const { None }; CHUNK_SECTORS]));
        &mut Arc::make_mut(chunk)[index % CHUNK_SECTORS]
    }

    /// The sector holding `addr`, materialised from its pristine bytes.
    fn sector_mut(&mut self, addr: u32) -> Option<&mut [u8; SECTOR]> {
        let index = (addr / SECTOR_SIZE) as usize;
        if index >= self.sector_count {
            return None;
        }
        if self.sector(index).is_none() {
            let base = index as u32 * SECTOR_SIZE;
            let mut sector = [0xFF; SECTOR];
            if self.image.is_some() {
                for (i, b) in sector.iter_mut().enumerate() {
                    *b = self.pristine(base + i as u32);
                }
            }
            *self.entry_mut(index) = Some(Arc::new(sector));
        }
        self.entry_mut(index).as_mut().map(Arc::make_mut)
    }

    /// Program `data` at `addr` (inside the part, not crossing a page): bits only go 1 -> 0.
    fn program(&mut self, addr: u32, data: &[u8; PAGE_SIZE as usize], latched: &[u64; 4]) {
        self.generation += 1;
        let offset = addr as usize % SECTOR;
        if let Some(sector) = self.sector_mut(addr) {
            for (i, &b) in data.iter().enumerate() {
                if latched[i / 64] & (1 << (i % 64)) != 0
                    && let Some(slot) = sector.get_mut(offset + i)
                {
                    *slot &= b;
                }
            }
        }
    }

    /// PLANTED BUG `m25p80-address-wrap`: program a page straight into the sector table,
    /// trusting that `addr` lies inside the part.
    #[cfg(feature = "planted-bugs")]
    fn program_unwrapped(
        &mut self,
        addr: u32,
        data: &[u8; PAGE_SIZE as usize],
        latched: &[u64; 4],
    ) {
        let index = (addr / SECTOR_SIZE) as usize;
        if self.chunks[index / CHUNK_SECTORS].is_none() {
            let _ = self.sector_mut(addr);
        }
        self.program(addr, data, latched);
    }

    /// Erase `len` bytes at `start` (sector aligned, inside the part) to 0xFF.
    fn erase(&mut self, start: u32, len: u32) {
        self.generation += 1;
        let first = (start / SECTOR_SIZE) as usize;
        let count = (len / SECTOR_SIZE) as usize;
        for index in first..first.saturating_add(count).min(self.sector_count) {
            if self.image.is_some() {
                *self.entry_mut(index) = Some(Arc::new([0xFF; SECTOR]));
            } else if self.sector(index).is_some() {
                *self.entry_mut(index) = None;
            }
        }
    }

    /// Back to the pristine contents.
    fn reset(&mut self) {
        if self.chunks.iter().any(Option::is_some) {
            *self = Self::new(self.sector_count as u32 * SECTOR_SIZE, self.image.take());
        }
        self.generation = 0;
    }
}

/// The longest header [`SpiNor::read_transactions`] takes: an opcode, four address bytes and
/// up to seven dummy bytes (the FMC's command modes).
pub const HEADER_MAX: usize = 12;

/// An array read transaction [`SpiNor::read_array_at_once`] takes in one step (see
/// [`SpiNor::array_read`]).
struct ArrayRead {
    cmd: u8,
    /// Header bytes after the opcode, and bytes read.
    sent: usize,
    rx_len: usize,
    /// Address bytes, and where the data starts in the bytes after the opcode.
    addr_len: usize,
    data_at: usize,
    /// The part's size.
    size: u32,
}

impl ArrayRead {
    /// Whether a transaction of `header` then `rx_len` bytes has this one's shape (then, on
    /// a flash in the same state, this one's plan holds for it).
    fn fits(&self, header: &[u8], rx_len: usize) -> bool {
        header.first() == Some(&self.cmd) && header.len() == self.sent + 1 && rx_len == self.rx_len
    }
}

// ---- the flash -------------------------------------------------------------------------------

/// Where the flash is in a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Chip selected, waiting for an opcode.
    Idle,
    /// Collecting the address bytes of `cmd`.
    Address,
    /// Clocking the dummy bytes of `cmd`.
    Dummy,
    /// Streaming the array from `cur_addr`.
    ReadArray,
    /// Streaming the SFDP space from `cur_addr`.
    ReadSfdp,
    /// Streaming `buf[..len]` (again and again when `reg_loop`).
    ReadRegister,
    /// Latching page-program data.
    Program,
    /// Collecting the register data of `cmd`.
    Data,
    /// The command is done or was refused: ignore the rest of the transaction.
    Ignore,
}

/// The flash's planted bugs (see [`crate::planted`]).
pub const PLANTED: &[PlantedBug] = &[
    PlantedBug {
        id: "m25p80-command-buffer",
        device: "aspeed.fmc-ast2500",
        target: "aspeed_fmc",
        cites: "bug-classes.md ASPEED: m25p80 `needed_bytes`/`data[]` overflow by commands \
                with long address and dummy phases in 4-byte address mode",
        description: "The flash collects a command's address in its 8-byte command buffer and \
                      counts the dummy bytes. The planted bug collects the dummy bytes into \
                      the buffer too, after the address, without checking that they fit \
                      (reached by every array read, triggered when address + dummy bytes \
                      exceed 8): a quad I/O read with a 4-byte address (0xEC, or 0xEB after \
                      EN4B) and the Macronix dummy-cycle setting DC=3 (10 clocks, 5 bytes) \
                      writes past it. Sequence (ast2500, CS0 in user mode): \
                      `writel 0x1e620000 0x1000a` (CS0 writes), `writel 0x1e620010 0x3` (user \
                      mode, CS asserted), `writeb 0x20000000 0x6` (WREN), \
                      `writel 0x1e620010 0x7`, `writel 0x1e620010 0x3` (CS toggled), \
                      `writeb 0x20000000 0x1`, `writew 0x20000000 0xc000` (WRSR: status 0, \
                      configuration 0xC0), CS toggled, `writeb 0x20000000 0xec`, \
                      `writel 0x20000000 0` (address), `writel 0x20000000 0`, \
                      `writeb 0x20000000 0` (the fifth dummy byte).",
    },
    PlantedBug {
        id: "m25p80-address-wrap",
        device: "aspeed.fmc-ast2500",
        target: "aspeed_fmc",
        cites: "bug-classes.md ASPEED: m25p80 `cur_addr` not wrapped at the flash size on \
                READ/PP (devices.md 2.5: reads and programs wrap at the device size)",
        description: "Array addresses wrap at the part's size when a command's address is \
                      complete and as a read streams on. The planted bug keeps them unwrapped \
                      (reached on every array byte read and page program, triggered when the \
                      address lies past the part) and indexes the sector table with them: \
                      index out of bounds. Sequence (ast2500, 32 MiB mx25l25635e): \
                      `writel 0x1e620000 0x1000a`, `writel 0x1e620010 0x3` (CS0 user mode), \
                      `writel 0x20000000 0x213`, `writeb 0x20000000 0` (READ4 at 0x02000000), \
                      `readb 0x20000000`; or EN4B, CE_CTRL bit 0 and a read-mode access past \
                      32 MiB of CS0's 128 MiB segment; or a page program there.",
    },
];

/// `m25p80-command-buffer`, in the dummy phase.
const COMMAND_BUFFER: Bug = Bug::of(PLANTED, 0);
/// `m25p80-address-wrap`, in array addressing.
const ADDRESS_WRAP: Bug = Bug::of(PLANTED, 1);

/// A SPI-NOR flash: a byte-wide full-duplex state machine behind a chip select. See the
/// [module documentation](self).
#[derive(Debug, PartialEq, Eq)]
pub struct SpiNor {
    part: FlashPart,
    storage: Storage,
    /// Status register (WEL in bit 1; WIP always 0).
    status: u8,
    /// WEL is clear here but QEMU's m25p80 would still hold it (it keeps WEL after programs,
    /// erases and register writes): only for noting [`CHOICE_WEL_CLEARED`].
    qemu_keeps_wel: bool,
    /// Macronix configuration register / Winbond status register 2 (bit 5 of the Macronix one
    /// is derived from the address mode).
    config: u8,
    /// Micron non-volatile, volatile and enhanced volatile configuration registers.
    nvcr: u16,
    vcr: u8,
    evcr: u8,
    four_byte: bool,
    /// Extended address register: A31:24 of 3-byte addresses.
    ear: u8,
    /// The previous command was RSTEN.
    reset_enabled: bool,
    phase: Phase,
    cmd: u8,
    buf: [u8; CMD_BUF_LEN],
    pos: usize,
    len: usize,
    dummy_left: u8,
    reg_loop: bool,
    cur_addr: u32,
    /// The current command consumed address or data bytes (see [`SpiNor::addressed`]).
    addressed: bool,
    /// Page-program latch: data, which bytes were latched, the page's address.
    page: [u8; PAGE_SIZE as usize],
    page_latched: [u64; 4],
    page_addr: u32,
    /// Planted bugs this flash was built with (kept across resets).
    planted: Planted,
}

harness::clone_by_field!(SpiNor {
    part,
    storage,
    status,
    qemu_keeps_wel,
    config,
    nvcr,
    vcr,
    evcr,
    four_byte,
    ear,
    reset_enabled,
    phase,
    cmd,
    buf,
    pos,
    len,
    dummy_left,
    reg_loop,
    cur_addr,
    addressed,
    page,
    page_latched,
    page_addr,
    planted,
});

impl SpiNor {
    /// A fresh part, erased or holding `image` (bytes past the part's size are ignored, a
    /// shorter image reads 0xFF after its end).
    pub fn new(part: FlashPart, image: Option<Arc<[u8]>>) -> Self {
        Self::with_storage(part, Storage::new(part.size(), image))
    }

    /// [`SpiNor::new`] with `planted`, its part of the selection (entries of [`PLANTED`]),
    /// kept across resets.
    pub fn with_planted(part: FlashPart, image: Option<Arc<[u8]>>, planted: Planted) -> Self {
        let mut flash = Self::new(part, image);
        flash.planted = planted;
        flash
    }

    fn with_storage(part: FlashPart, storage: Storage) -> Self {
        let nvcr = MT_NVCR_DEFAULT;
        Self {
            part,
            storage,
            status: 0,
            qemu_keeps_wel: false,
            config: if part.info().vendor == Vendor::Macronix {
                MX_CR_DEFAULT
            } else {
                0
            },
            nvcr,
            vcr: MT_VCR_DEFAULT,
            evcr: MT_EVCR_DEFAULT,
            four_byte: part.info().vendor == Vendor::Micron && nvcr & MT_NVCR_3BYTE == 0,
            ear: 0,
            reset_enabled: false,
            phase: Phase::Idle,
            cmd: 0,
            buf: [0; CMD_BUF_LEN],
            pos: 0,
            len: 0,
            dummy_left: 0,
            reg_loop: false,
            cur_addr: 0,
            addressed: false,
            page: [0xFF; PAGE_SIZE as usize],
            page_latched: [0; 4],
            page_addr: 0,
            planted: Planted::NONE,
        }
    }

    /// Power-on state: contents back to the image (or erased), registers to their defaults.
    pub fn reset(&mut self) {
        let mut storage = std::mem::replace(&mut self.storage, Storage::empty());
        storage.reset();
        let planted = self.planted;
        *self = Self::with_storage(self.part, storage);
        self.planted = planted;
    }

    /// The byte at `addr` (wrapped at the part's size) without any SPI traffic.
    #[cfg(test)]
    pub fn peek(&self, addr: u32) -> u8 {
        self.storage.byte(addr & self.mask())
    }

    /// Whether the part is in 4-byte address mode.
    #[cfg(test)]
    pub fn four_byte_mode(&self) -> bool {
        self.four_byte
    }

    fn vendor(&self) -> Vendor {
        self.part.info().vendor
    }

    fn mask(&self) -> u32 {
        self.part.size() - 1
    }

    fn wel(&self) -> bool {
        self.status & SR_WEL != 0
    }

    /// Chip select deasserted: finish what completes on CS# high, back to idle.
    pub fn deselect(&mut self, ctx: &mut dyn Context) {
        match self.phase {
            Phase::Data if self.cmd == WRSR && self.pos > 0 => self.write_status_registers(),
            Phase::Program => self.program_page(ctx),
            _ => {}
        }
        tracing::trace!(target: "m25p80_select", "deselect {}", self.part.name());
        self.phase = Phase::Idle;
        self.pos = 0;
        self.len = 0;
        self.dummy_left = 0;
        self.reg_loop = false;
    }

    /// One byte clocked out to the flash while `tx` is clocked in: returns the flash's MISO.
    pub fn transfer(&mut self, ctx: &mut dyn Context, tx: u8) -> u8 {
        match self.phase {
            Phase::Idle => {
                self.decode(ctx, tx);
                IDLE_OUT
            }
            Phase::Address => {
                if let Some(slot) = self.buf.get_mut(self.pos) {
                    *slot = tx;
                }
                self.pos += 1;
                if self.pos >= self.len {
                    self.address_complete(ctx);
                }
                IDLE_OUT
            }
            Phase::Dummy => {
                self.dummy_byte(tx);
                IDLE_OUT
            }
            Phase::ReadArray => {
                let v = self.read_array_byte(ctx);
                tracing::trace!(target: "m25p80_read_byte", "addr {:#x} value {v:#04x}", self.cur_addr);
                self.cur_addr = self.next_addr(self.cur_addr);
                v
            }
            Phase::ReadSfdp => {
                if !self.part.qemu_has_sfdp() {
                    ctx.note_choice(CHOICE_SFDP_TABLE);
                }
                let v = sfdp_byte(self.part, self.cur_addr);
                tracing::trace!(target: "m25p80_read_sfdp", "addr {:#x} value {v:#04x}", self.cur_addr);
                self.cur_addr = self.cur_addr.wrapping_add(1) & 0x00FF_FFFF;
                v
            }
            Phase::ReadRegister => {
                let v = self.buf.get(self.pos).copied().unwrap_or(IDLE_OUT);
                tracing::trace!(target: "m25p80_read_data", "pos {} value {v:#04x}", self.pos);
                self.pos += 1;
                if self.pos >= self.len {
                    if self.reg_loop {
                        self.pos = 0;
                    } else {
                        self.phase = Phase::Ignore;
                    }
                }
                v
            }
            Phase::Program => {
                let offset = (self.cur_addr % PAGE_SIZE) as usize;
                tracing::trace!(target: "m25p80_page_program", "addr {:#x} tx {tx:#04x}", self.cur_addr);
                self.page[offset] = tx;
                self.page_latched[offset / 64] |= 1 << (offset % 64);
                self.cur_addr = self.page_addr | (self.cur_addr.wrapping_add(1) % PAGE_SIZE);
                IDLE_OUT
            }
            Phase::Data => {
                if let Some(slot) = self.buf.get_mut(self.pos) {
                    *slot = tx;
                    self.pos += 1;
                }
                if self.pos >= self.len {
                    self.data_complete();
                }
                IDLE_OUT
            }
            Phase::Ignore => {
                if tx != 0 {
                    ctx.note_choice(CHOICE_IGNORED_UNTIL_DESELECT);
                }
                IDLE_OUT
            }
        }
    }

    /// Clock in `buf.len()` bytes while clocking out zeros, as the FMC's user mode reads them:
    /// what [`SpiNor::clock_in`] does, except that a byte read in a dummy phase is noted as
    /// [`CHOICE_DUMMY_BYTES`] (QEMU's controller turns it into 8 dummy clock cycles, one byte's
    /// worth only for RDSFDP's count).
    pub fn read_stream(&mut self, ctx: &mut dyn Context, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let rest = &mut buf[done..];
            done += if self.phase == Phase::Dummy && self.cmd != RDSFDP {
                ctx.note_choice(CHOICE_DUMMY_BYTES);
                self.dummy_byte(0);
                rest[0] = IDLE_OUT;
                1
            } else {
                self.clock_in_some(ctx, rest)
            };
        }
    }

    /// Clock in `buf.len()` bytes while clocking out zeros: exactly what as many
    /// `transfer(0)` calls return and do (the same answers, state, choices noted and canaries),
    /// with the long phases done in bulk.
    pub fn clock_in(&mut self, ctx: &mut dyn Context, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            done += self.clock_in_some(ctx, &mut buf[done..]);
        }
    }

    /// The first bytes of [`SpiNor::clock_in`] of `rest` (at least one): the rest of a long
    /// phase at once, else one byte. Returns how many.
    fn clock_in_some(&mut self, ctx: &mut dyn Context, rest: &mut [u8]) -> usize {
        match self.phase {
            Phase::ReadArray if !self.planted_wrap() => {
                self.storage
                    .read_into(self.cur_addr, self.part.size(), rest);
                self.cur_addr = self.cur_addr.wrapping_add(rest.len() as u32) & self.mask();
                rest.len()
            }
            Phase::Ignore => {
                rest.fill(IDLE_OUT);
                rest.len()
            }
            Phase::Program => {
                self.latch_zeros(rest.len());
                rest.fill(IDLE_OUT);
                rest.len()
            }
            Phase::ReadRegister if self.reg_loop && self.len > 0 => {
                // The register's bytes again and again: one turn, then doubling copies.
                let (len, n) = (self.len, rest.len());
                for (i, b) in rest.iter_mut().take(len).enumerate() {
                    *b = self.buf[(self.pos + i) % len];
                }
                let mut filled = len.min(n);
                while filled < n {
                    let more = filled.min(n - filled);
                    rest.copy_within(..more, filled);
                    filled += more;
                }
                self.pos = (self.pos + n) % len;
                n
            }
            Phase::ReadSfdp if self.cur_addr % SFDP_SPACE >= sfdp_end(self.part) => {
                let n = rest
                    .len()
                    .min((SFDP_SPACE - self.cur_addr % SFDP_SPACE) as usize);
                if !self.part.qemu_has_sfdp() {
                    ctx.note_choices(CHOICE_SFDP_TABLE, n);
                }
                rest[..n].fill(0xFF);
                self.cur_addr = (self.cur_addr + n as u32) & 0x00FF_FFFF;
                n
            }
            _ => {
                rest[0] = self.transfer(ctx, 0);
                1
            }
        }
    }

    /// One whole transaction from `header` on: `header` clocked out, then `rx.len()` bytes
    /// clocked in while zeros go out, then the chip select deasserted. Exactly what `transfer`
    /// on each byte of `header`, [`SpiNor::read_stream`] of `rx` and [`SpiNor::deselect`] do
    /// (the same answers, state, choices noted and canaries); an array read command from idle,
    /// which the FMC's read modes and its DMA send once per word, is taken in one step.
    pub fn read_transaction(&mut self, ctx: &mut dyn Context, header: &[u8], rx: &mut [u8]) {
        match self.array_read(header, rx.len()) {
            Some(read) => {
                let traced = tracing::level_enabled!(tracing::Level::TRACE);
                self.read_array_at_once(ctx, &read, header, rx, traced);
            }
            None if self.phase == Phase::Idle
                && header.first() == Some(&RDSFDP)
                && header.len() - 1 + rx.len() >= SFDP_DATA_AT =>
            {
                self.read_sfdp_at_once(ctx, header, rx);
            }
            None => {
                for &b in header {
                    self.transfer(ctx, b);
                }
                self.read_stream(ctx, rx);
                self.deselect(ctx);
            }
        }
    }

    /// [`SpiNor::read_transaction`] on each `unit` bytes of `rx` in turn, with the header
    /// `header(i, ctx, bytes)` writes into `bytes` (returning its length) for the `i`th. The
    /// FMC's command modes send one command per word; from one word to the next only the
    /// address changes, and an array read changes nothing that decides how the flash takes
    /// the next one, so what the command decides is worked out once.
    pub fn read_transactions(
        &mut self,
        ctx: &mut dyn Context,
        rx: &mut [u8],
        unit: usize,
        mut header: impl FnMut(usize, &mut dyn Context, &mut [u8; HEADER_MAX]) -> usize,
    ) {
        let mut bytes = [0; HEADER_MAX];
        let mut read: Option<ArrayRead> = None;
        let traced = tracing::level_enabled!(tracing::Level::TRACE);
        // No trace event to build and no planted bug to reach: each word in a few steps.
        let quiet = !traced && !self.planted.on(COMMAND_BUFFER);
        for (i, rx) in rx.chunks_mut(unit.max(1)).enumerate() {
            let len = header(i, ctx, &mut bytes);
            let header = &bytes[..len];
            if !read.as_ref().is_some_and(|r| r.fits(header, rx.len())) {
                read = self.array_read(header, rx.len());
            }
            match &read {
                Some(r) if quiet => {
                    self.read_array_word(ctx, r, header, rx);
                }
                Some(r) => self.read_array_at_once(ctx, r, header, rx, traced),
                None => self.read_transaction(ctx, header, rx),
            }
        }
    }

    /// The whole words of a run of array-read transactions that differ only in the bytes sent
    /// after the opcode, in one step when no trace event is built and no planted bug is on:
    /// exactly what [`SpiNor::read_transactions`] does for them, with each word's transaction
    /// worked out from numbers rather than from its header's bytes. Word `i` is `unit` bytes of
    /// `rx` read after `cmd` and `sent` more bytes, of which `first_sent(i)` gives the first four
    /// (zeros past `sent`); `choices_each` more [`CHOICE_DUMMY_BYTES`] are noted per word (the
    /// caller's, as its header closure would). Returns how many bytes of `rx` it read: none
    /// when it cannot take the run, else every whole word; the rest is the caller's.
    pub fn read_array_words(
        &mut self,
        ctx: &mut dyn Context,
        (cmd, sent): (u8, usize),
        rx: &mut [u8],
        unit: usize,
        choices_each: usize,
        first_sent: impl Fn(usize) -> [u8; 4],
    ) -> usize {
        let words = rx.len() / unit.max(1);
        if words == 0
            || unit == 0
            || sent >= HEADER_MAX
            || tracing::level_enabled!(tracing::Level::TRACE)
            || self.planted.on(COMMAND_BUFFER)
        {
            return 0;
        }
        let mut header = [0u8; HEADER_MAX];
        header[0] = cmd;
        let Some(read) = self.array_read(&header[..=sent], unit) else {
            return 0;
        };
        if !(1..=4).contains(&read.addr_len) {
            return 0;
        }
        let mask = read.size - 1;
        // What every word shares (see `read_array_word`).
        let dummies = read.data_at.saturating_sub(sent.max(read.addr_len));
        let unanswered = sent.saturating_sub(read.data_at);
        let idle = read.data_at.saturating_sub(sent).min(unit);
        let ear = if read.addr_len == 3 {
            u32::from(self.ear) << 24
        } else {
            0
        };
        let shift = 8 * (4 - read.addr_len as u32);
        let mut last = ([0u8; 4], 0u32);
        for (i, word) in rx[..words * unit].chunks_exact_mut(unit).enumerate() {
            let bytes = first_sent(i);
            let addr = ((u32::from_be_bytes(bytes) >> shift) | ear) & mask;
            let start = addr.wrapping_add(unanswered as u32) & mask;
            word[..idle].fill(IDLE_OUT);
            self.storage.read_few(start, read.size, &mut word[idle..]);
            last = (bytes, start);
        }
        ctx.note_choices(CHOICE_DUMMY_BYTES, words * (choices_each + dummies));
        // The state the last word's transaction leaves (each one overwrites the one before).
        self.cmd = read.cmd;
        self.reset_enabled = false;
        self.addressed = true;
        self.buf[..read.addr_len].copy_from_slice(&last.0[..read.addr_len]);
        self.cur_addr = last.1.wrapping_add((unit - idle) as u32) & mask;
        words * unit
    }

    /// What an array read transaction of `header` then `rx_len` bytes does, when
    /// [`SpiNor::read_array_at_once`] can take it: the flash is idle, `header` starts with an
    /// array read command and the transaction reaches that command's data phase (and, with a
    /// planted bug on, the bug needs nothing the byte path alone does: a wrapped address, a
    /// dummy phase that fits the command buffer).
    fn array_read(&self, header: &[u8], rx_len: usize) -> Option<ArrayRead> {
        let (&cmd, sent) = header.split_first()?;
        let addr_len = self.read_address_len(cmd)?;
        let data_at = addr_len + usize::from(self.dummy_bytes_of(cmd));
        let takes = self.phase == Phase::Idle
            && sent.len() + rx_len >= data_at
            && !self.planted_wrap()
            && !(self.planted.on(COMMAND_BUFFER) && data_at > CMD_BUF_LEN);
        takes.then_some(ArrayRead {
            cmd,
            sent: sent.len(),
            rx_len,
            addr_len,
            data_at,
            size: self.part.size(),
        })
    }

    /// The transaction `read` describes, in one step: exactly what the byte path of
    /// [`SpiNor::read_transaction`] does, up to and with its deselect. Its trace events are
    /// only built when `traced`, which says whether a subscriber may listen.
    fn read_array_at_once(
        &mut self,
        ctx: &mut dyn Context,
        read: &ArrayRead,
        header: &[u8],
        rx: &mut [u8],
        traced: bool,
    ) {
        let &ArrayRead {
            cmd,
            addr_len,
            data_at,
            size,
            ..
        } = read;
        let sent = &header[1..];
        if traced {
            tracing::trace!(target: "m25p80_command_decoded", "cmd {cmd:#04x}");
        }
        let addr = self.read_array_word(ctx, read, header, rx);
        if traced {
            let mask = size - 1;
            tracing::trace!(target: "m25p80_complete_collecting", "cmd {cmd:#04x} bytes {addr_len} ear {:#x} cur_addr {addr:#x}", self.ear);
            for k in 0..sent.len().saturating_sub(data_at) {
                let at = addr.wrapping_add(k as u32) & mask;
                tracing::trace!(target: "m25p80_read_byte", "addr {at:#x} value {:#04x}", self.storage.byte(at));
            }
            tracing::trace!(target: "m25p80_select", "deselect {}", self.part.name());
        }
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(COMMAND_BUFFER) {
            COMMAND_BUFFER.reached(ctx);
            // PLANTED BUG `m25p80-command-buffer` (see `dummy_byte`): here the dummy bytes fit.
            for k in addr_len..data_at {
                self.buf[k] = sent.get(k).copied().unwrap_or(0);
            }
        }
    }

    /// What [`SpiNor::read_array_at_once`] does but its trace events and planted bug: the
    /// state, choices and answers of the transaction. Inlined into the FMC's word loops, whose
    /// words are each a transaction. Returns the address the command sent (inside the part).
    #[inline(always)]
    fn read_array_word(
        &mut self,
        ctx: &mut dyn Context,
        read: &ArrayRead,
        header: &[u8],
        rx: &mut [u8],
    ) -> u32 {
        let sent = &header[1..];
        // What `decode` does for a read command (none needs WEL).
        self.cmd = read.cmd;
        self.reset_enabled = false;
        self.addressed = true;
        // The bytes clocked after the opcode: `sent`, then zeros while `rx` is read.
        let addr = match sent.get(..read.addr_len) {
            // The address whole in the header (the usual case): no byte loop.
            Some(&[a, b, c]) => {
                self.buf[..3].copy_from_slice(&[a, b, c]);
                u32::from_be_bytes([self.ear, a, b, c])
            }
            Some(&[a, b, c, d]) => {
                self.buf[..4].copy_from_slice(&[a, b, c, d]);
                u32::from_be_bytes([a, b, c, d])
            }
            _ => {
                let mut addr = 0u32;
                for k in 0..read.addr_len {
                    let b = sent.get(k).copied().unwrap_or(0);
                    self.buf[k] = b;
                    addr = (addr << 8) | u32::from(b);
                }
                if read.addr_len == 3 {
                    addr |= u32::from(self.ear) << 24;
                }
                addr
            }
        };
        let mask = read.size - 1;
        let addr = addr & mask;
        // Dummy bytes clocked by the read, as `read_stream` notes them.
        let dummies = read.data_at.saturating_sub(sent.len().max(read.addr_len));
        if dummies > 0 {
            ctx.note_choices(CHOICE_DUMMY_BYTES, dummies);
        }
        // Data bytes: those clocked out with `sent` are read and go unanswered, then `rx`'s.
        let unanswered = sent.len().saturating_sub(read.data_at);
        let start = addr.wrapping_add(unanswered as u32) & mask;
        let idle = read.data_at.saturating_sub(sent.len()).min(rx.len());
        if idle > 0 {
            rx[..idle].fill(IDLE_OUT);
        }
        self.storage.read_few(start, read.size, &mut rx[idle..]);
        // The deselect: the flash stays idle (`pos`, `len`, `dummy_left` were not used).
        self.cur_addr = start.wrapping_add((rx.len() - idle) as u32) & mask;
        addr
    }

    /// The whole words of a run of RDSFDP transactions from idle (as the FMC's read modes send
    /// them when the guest sets RDSFDP as their command), in one step when no trace event is
    /// built: exactly what [`SpiNor::read_transaction`] does for each. Word `i` is `unit` bytes
    /// of `rx` read after the opcode `cmd` and `sent` more bytes, of which `first_sent(i)` gives the
    /// first four (zeros past `sent`); before each word's own choices, `dummy_each` notes one
    /// [`CHOICE_DUMMY_BYTES`] (the caller's, as its loop would). Returns how many bytes of `rx`
    /// it read: none when it cannot take the run (or it is too short to pay for the table it
    /// builds), else every whole word; the rest is the caller's.
    pub fn read_sfdp_words(
        &mut self,
        ctx: &mut dyn Context,
        (cmd, sent): (u8, usize),
        rx: &mut [u8],
        unit: usize,
        dummy_each: bool,
        first_sent: impl Fn(usize) -> [u8; 4],
    ) -> usize {
        const FEWEST_WORDS: usize = 8;
        let words = rx.len() / unit.max(1);
        if cmd != RDSFDP
            || unit == 0
            || words < FEWEST_WORDS
            || self.phase != Phase::Idle
            || self.read_address_len(RDSFDP).is_some()
            || sent + unit < SFDP_DATA_AT
            || tracing::level_enabled!(tracing::Level::TRACE)
        {
            return 0;
        }
        let mut table = [0u8; SFDP_SPACE as usize];
        for (at, dword) in table.chunks_exact_mut(4).enumerate() {
            dword.copy_from_slice(&sfdp_dword(self.part, 4 * at as u32).to_le_bytes());
        }
        // What every word shares (see `read_sfdp_at_once`).
        let idle = SFDP_DATA_AT.saturating_sub(sent).min(unit);
        let unanswered = sent.saturating_sub(SFDP_DATA_AT);
        let clocked = unanswered + unit - idle;
        let sfdp_choices = if self.part.qemu_has_sfdp() {
            0
        } else {
            clocked
        };
        let mut last = [0u8; 4];
        for (i, word) in rx[..words * unit].chunks_exact_mut(unit).enumerate() {
            if dummy_each {
                ctx.note_choice(CHOICE_DUMMY_BYTES);
            }
            if sfdp_choices > 0 {
                ctx.note_choices(CHOICE_SFDP_TABLE, sfdp_choices);
            }
            last = first_sent(i);
            let addr = u32::from_be_bytes(last) >> 8;
            word[..idle].fill(IDLE_OUT);
            // The space repeats every 256 bytes, and the 24-bit address wraps at a multiple.
            let from = addr.wrapping_add(unanswered as u32) as usize;
            for (at, out) in (from..).zip(&mut word[idle..]) {
                *out = table[at % table.len()];
            }
        }
        // The state the last word's transaction leaves (each one overwrites the one before).
        self.cmd = RDSFDP;
        self.reset_enabled = false;
        self.addressed = true;
        self.buf[..SFDP_DATA_AT - 1].copy_from_slice(&last[..SFDP_DATA_AT - 1]);
        let addr = u32::from_be_bytes(last) >> 8;
        self.cur_addr = addr.wrapping_add(clocked as u32) & 0x00FF_FFFF;
        self.phase = Phase::Idle;
        self.pos = 0;
        self.len = 0;
        self.dummy_left = 0;
        self.reg_loop = false;
        words * unit
    }

    /// An RDSFDP transaction from idle that reaches its data, in one step: exactly what the byte
    /// path of [`SpiNor::read_transaction`] does, up to and with its deselect. (The FMC's read
    /// modes send it once per word when the guest sets RDSFDP as their command.)
    fn read_sfdp_at_once(&mut self, ctx: &mut dyn Context, header: &[u8], rx: &mut [u8]) {
        let traced = tracing::level_enabled!(tracing::Level::TRACE);
        if traced {
            tracing::trace!(target: "m25p80_command_decoded", "cmd {RDSFDP:#04x}");
        }
        let sent = &header[1..];
        self.cmd = RDSFDP;
        self.reset_enabled = false;
        self.addressed = true;
        let mut addr = 0u32;
        for k in 0..SFDP_DATA_AT - 1 {
            let b = sent.get(k).copied().unwrap_or(0);
            self.buf[k] = b;
            addr = (addr << 8) | u32::from(b);
        }
        self.cur_addr = addr;
        // The bytes clocked out while the address and dummy byte go in answer nothing.
        let idle = SFDP_DATA_AT.saturating_sub(sent.len()).min(rx.len());
        rx[..idle].fill(IDLE_OUT);
        let unanswered = sent.len().saturating_sub(SFDP_DATA_AT);
        if !self.part.qemu_has_sfdp() {
            ctx.note_choices(CHOICE_SFDP_TABLE, unanswered + rx.len() - idle);
        }
        // One table lookup per dword.
        let mut dword: Option<(u32, [u8; 4])> = None;
        for k in 0..unanswered + rx.len() - idle {
            let at = self.cur_addr % SFDP_SPACE;
            let bytes = match dword {
                Some((from, bytes)) if from == at & !3 => bytes,
                _ => sfdp_dword(self.part, at & !3).to_le_bytes(),
            };
            dword = Some((at & !3, bytes));
            let v = bytes[(at & 3) as usize];
            if let Some(out) = k.checked_sub(unanswered).map(|i| &mut rx[idle + i]) {
                *out = v;
            }
            if traced {
                tracing::trace!(target: "m25p80_read_sfdp", "addr {:#x} value {v:#04x}", self.cur_addr);
            }
            self.cur_addr = self.cur_addr.wrapping_add(1) & 0x00FF_FFFF;
        }
        // The deselect.
        if traced {
            tracing::trace!(target: "m25p80_select", "deselect {}", self.part.name());
        }
        self.phase = Phase::Idle;
        self.pos = 0;
        self.len = 0;
        self.dummy_left = 0;
        self.reg_loop = false;
    }

    /// Clock out `data`, ignoring what comes back, as the FMC's user mode writes it: what
    /// [`SpiNor::clock_out`] does, except that a byte written in a dummy phase is noted as
    /// [`CHOICE_DUMMY_BYTES`] for the commands without 8 dummy clocks.
    pub fn write_stream(&mut self, ctx: &mut dyn Context, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let rest = &data[done..];
            done += if self.phase == Phase::Dummy {
                // QEMU's controller turns a written dummy byte into 8 clock cycles, which
                // is one byte's worth only for the commands with 8 dummy clocks.
                if !matches!(
                    self.cmd,
                    FAST_READ | FAST_READ4 | DOR | DOR4 | QOR | QOR4 | RDSFDP
                ) {
                    ctx.note_choice(CHOICE_DUMMY_BYTES);
                }
                self.dummy_byte(rest[0]);
                1
            } else {
                self.clock_out_some(ctx, rest)
            };
        }
    }

    /// Clock out `data`, ignoring what comes back: exactly what as many `transfer` calls do
    /// (the same state, choices noted and canaries), with the long phases done in bulk.
    pub fn clock_out(&mut self, ctx: &mut dyn Context, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            done += self.clock_out_some(ctx, &data[done..]);
        }
    }

    /// The first bytes of [`SpiNor::clock_out`] of `rest` (at least one): the rest of a long
    /// phase at once, else one byte. Returns how many.
    fn clock_out_some(&mut self, ctx: &mut dyn Context, rest: &[u8]) -> usize {
        match self.phase {
            Phase::ReadArray if !self.planted_wrap() => {
                self.cur_addr = self.cur_addr.wrapping_add(rest.len() as u32) & self.mask();
                rest.len()
            }
            Phase::Ignore => {
                if !all_zero(rest) {
                    let sent = rest.iter().filter(|&&b| b != 0).count();
                    ctx.note_choices(CHOICE_IGNORED_UNTIL_DESELECT, sent);
                }
                rest.len()
            }
            Phase::Program => {
                self.latch(rest);
                rest.len()
            }
            Phase::ReadSfdp if self.part.qemu_has_sfdp() => {
                self.cur_addr = self.cur_addr.wrapping_add(rest.len() as u32) & 0x00FF_FFFF;
                rest.len()
            }
            Phase::ReadRegister if self.reg_loop && self.len > 0 => {
                self.pos = (self.pos + rest.len()) % self.len;
                rest.len()
            }
            _ => {
                self.transfer(ctx, rest[0]);
                1
            }
        }
    }

    /// Page-program data bytes: only the last 256 count, each at its offset in the page.
    fn latch(&mut self, data: &[u8]) {
        let skip = data.len().saturating_sub(PAGE_SIZE as usize);
        let mut offset = (self.cur_addr as usize + skip) % PAGE_SIZE as usize;
        for &b in &data[skip..] {
            self.page[offset] = b;
            self.page_latched[offset / 64] |= 1 << (offset % 64);
            offset = (offset + 1) % PAGE_SIZE as usize;
        }
        self.cur_addr = self.page_addr | offset as u32;
    }

    fn latch_zeros(&mut self, n: usize) {
        let zeros = [0u8; PAGE_SIZE as usize];
        let skip = n.saturating_sub(PAGE_SIZE as usize);
        self.cur_addr =
            self.page_addr | ((self.cur_addr as usize + skip) % PAGE_SIZE as usize) as u32;
        self.latch(&zeros[..n - skip]);
    }

    /// Whether the current command consumed address or register data bytes, or streams or
    /// programs the array: what it does may depend on the address sent.
    pub fn addressed(&self) -> bool {
        self.addressed
    }

    /// Address bytes the array read `opcode` takes now; `None` for other opcodes.
    pub fn read_address_len(&self, opcode: u8) -> Option<usize> {
        match opcode {
            READ | FAST_READ | DOR | QOR | DIOR | QIOR => Some(self.addr_len()),
            READ4 | FAST_READ4 | DOR4 | QOR4 | DIOR4 | QIOR4 => Some(4),
            _ => None,
        }
    }

    /// Whether the flash waits for the dummy bytes of a read command that took a 3-byte
    /// address (only for noting [`CHOICE_DUMMY_BYTES`]: QEMU's AST2600 controller takes the
    /// first of them for a fourth address byte).
    pub fn dummy_after_3_byte_address(&self) -> bool {
        self.phase == Phase::Dummy && self.cmd != RDSFDP && self.len == 3
    }

    /// Whether the flash collects a command's address or dummy bytes.
    pub fn before_data(&self) -> bool {
        matches!(self.phase, Phase::Address | Phase::Dummy)
    }

    /// Everything a command can change except the transaction's own progress: two commands
    /// that leave it equal, and are not [`SpiNor::addressed`], had the same (no) effect.
    pub fn fingerprint(&self) -> impl PartialEq + use<> {
        (
            (self.status, self.config, self.vcr, self.evcr, self.ear),
            (self.nvcr, self.four_byte, self.reset_enabled),
            self.storage.generation,
        )
    }

    /// The contents and registers as text, without the transaction's progress (tests).
    #[cfg(test)]
    pub(super) fn durable_state(&self) -> String {
        format!(
            "{:?} {:?}",
            self.storage,
            (
                (self.status, self.config, self.vcr, self.evcr, self.ear),
                (self.nvcr, self.four_byte, self.reset_enabled),
            )
        )
    }

    fn planted_wrap(&self) -> bool {
        self.planted.on(ADDRESS_WRAP)
    }

    /// Whether `cmd` is refused without WEL (program, erase, register writes).
    fn needs_wel(&self, cmd: u8) -> bool {
        match cmd {
            PP | QPP | DPP | PP_1_4_4 | PP4 | QPP4 | PP4_4 | BE_4K | BE4_4K | SE | SE4 | BE_32K
            | BE4_32K | CE | CE_ALT | WRSR | WREAR => true,
            WRSR2 | WRSR3 => self.vendor() == Vendor::Winbond,
            WRNVCR => self.vendor() == Vendor::Micron,
            _ => false,
        }
    }

    /// WEL cleared by a completed write (QEMU keeps it: see [`CHOICE_WEL_CLEARED`]).
    fn clear_wel_after_write(&mut self) {
        self.qemu_keeps_wel |= self.wel();
        self.status &= !SR_WEL;
    }

    /// The first byte of a transaction.
    fn decode(&mut self, ctx: &mut dyn Context, cmd: u8) {
        tracing::trace!(target: "m25p80_command_decoded", "cmd {cmd:#04x}");
        if self.qemu_keeps_wel && (cmd == RDSR || self.needs_wel(cmd)) {
            ctx.note_choice(CHOICE_WEL_CLEARED);
        }
        self.cmd = cmd;
        self.pos = 0;
        self.addressed = false;
        let reset_enabled = std::mem::take(&mut self.reset_enabled);
        let vendor = self.vendor();
        self.phase = Phase::Ignore;
        match cmd {
            WREN => {
                self.status |= SR_WEL;
                self.qemu_keeps_wel = false;
            }
            WRDI => {
                self.status &= !SR_WEL;
                self.qemu_keeps_wel = false;
            }
            RDSR => self.respond(&[self.status], true),
            // Once, then the rest of the transaction is ignored: the facts say nothing of a
            // repeat (RDSR's is measured), and QEMU's m25p80 answers it once.
            RDCR if vendor == Vendor::Macronix => self.respond(&[self.macronix_config()], false),
            RDCR if vendor == Vendor::Winbond => {
                let sr3 = if self.four_byte { WB_SR3_ADS } else { 0 };
                self.respond(&[sr3], true);
            }
            RDSR2 if vendor == Vendor::Winbond => self.respond(&[self.config], true),
            RDFSR => {
                let fsr = FSR_READY | if self.four_byte { FSR_4BYTE } else { 0 };
                self.respond(&[fsr], true);
            }
            CLFSR if vendor == Vendor::Micron => {}
            RDID => {
                let id = self.part.info().id;
                self.respond(&id, false);
            }
            RDEAR => self.respond(&[self.ear], true),
            RDNVCR if vendor == Vendor::Micron => self.respond(&self.nvcr.to_le_bytes(), true),
            RDVCR if vendor == Vendor::Micron => self.respond(&[self.vcr], true),
            RDEVCR if vendor == Vendor::Micron => self.respond(&[self.evcr], true),
            EN4B => self.four_byte = true,
            EX4B => self.four_byte = false,
            RSTEN => self.reset_enabled = true,
            RST if reset_enabled => self.software_reset(),
            CE | CE_ALT => self.chip_erase(),
            WRSR => self.collect_data(if vendor == Vendor::Micron { 1 } else { 2 }),
            WRSR2 | WRSR3 if vendor == Vendor::Winbond => self.collect_data(1),
            WREAR => self.collect_data(1),
            WRNVCR if vendor == Vendor::Micron => self.collect_data(2),
            WRVCR | WREVCR if vendor == Vendor::Micron => self.collect_data(1),
            RDSFDP => self.collect_address(3),
            READ | FAST_READ | DOR | QOR | DIOR | QIOR => self.collect_address(self.addr_len()),
            READ4 | FAST_READ4 | DOR4 | QOR4 | DIOR4 | QIOR4 => self.collect_address(4),
            PP | QPP | DPP | PP_1_4_4 | BE_4K | SE => {
                if self.wel() {
                    self.collect_address(self.addr_len());
                }
            }
            BE_32K if self.wel() && self.part.info().erase_32k => {
                self.collect_address(self.addr_len());
            }
            PP4 | QPP4 | PP4_4 | BE4_4K | SE4 => {
                if self.wel() {
                    self.collect_address(4);
                }
            }
            BE4_32K if self.wel() && self.part.info().erase_32k => self.collect_address(4),
            RDCR | RDSR2 | WRSR2 | WRSR3 | CLFSR | RDNVCR | WRNVCR | RDVCR | WRVCR | RDEVCR
            | WREVCR => {
                ctx.note_choice(CHOICE_VENDOR_COMMANDS);
                tracing::trace!(target: "m25p80_unknown_cmd", "cmd {cmd:#04x} of another vendor ignored");
            }
            _ => {
                tracing::trace!(target: "m25p80_unknown_cmd", "cmd {cmd:#04x} ignored");
            }
        }
    }

    /// Address bytes of the commands that follow the address mode.
    fn addr_len(&self) -> usize {
        if self.four_byte { 4 } else { 3 }
    }

    fn respond(&mut self, data: &[u8], repeat: bool) {
        let n = data.len().min(CMD_BUF_LEN);
        self.buf[..n].copy_from_slice(&data[..n]);
        self.len = n;
        self.pos = 0;
        self.reg_loop = repeat;
        self.phase = Phase::ReadRegister;
    }

    fn collect_address(&mut self, bytes: usize) {
        self.addressed = true;
        self.len = bytes;
        self.pos = 0;
        self.phase = Phase::Address;
    }

    /// Register writes need WEL, except the Micron volatile ones.
    fn collect_data(&mut self, bytes: usize) {
        let volatile = matches!(self.cmd, WRVCR | WREVCR);
        if self.wel() || volatile {
            self.addressed = true;
            self.len = bytes;
            self.pos = 0;
            self.phase = Phase::Data;
        }
    }

    /// Dummy bytes the current read command clocks between its address and its data.
    fn dummy_bytes(&self) -> u8 {
        self.dummy_bytes_of(self.cmd)
    }

    /// The dummy transfers QEMU's m25p80 takes for `opcode` when its count is this part's
    /// dummy bytes now: clock cycles on the opcode's dummy lines (8 per byte on one line, 4 on
    /// two, 2 on four), but one for RDSFDP, which m25p80 counts in bytes. Only for noting
    /// [`CHOICE_DUMMY_BYTES`].
    pub fn qemu_dummy_cycles_of(&self, opcode: u8) -> u32 {
        let clocks_per_byte = match opcode {
            RDSFDP => 1,
            DIOR | DIOR4 => 4,
            QIOR | QIOR4 => 2,
            _ => 8,
        };
        u32::from(self.dummy_bytes_of(opcode)) * clocks_per_byte
    }

    /// Dummy bytes read command `opcode` clocks between its address and its data now (1 for
    /// RDSFDP; 0 for commands without a dummy phase).
    pub fn dummy_bytes_of(&self, opcode: u8) -> u8 {
        if self.read_address_len(opcode).is_none() {
            return u8::from(opcode == RDSFDP);
        }
        match opcode {
            READ | READ4 => 0,
            QIOR | QIOR4 => match self.vendor() {
                Vendor::Macronix => match self.config >> MX_CR_DC_SHIFT {
                    0 => 3,
                    1 => 2,
                    2 => 4,
                    _ => 5,
                },
                Vendor::Micron => match self.vcr >> MT_VCR_DUMMY_SHIFT {
                    0 | 15 => 5,
                    clocks => clocks.div_ceil(2),
                },
                Vendor::Winbond => 3,
            },
            _ => 1,
        }
    }

    /// The address of `cmd` is complete.
    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn address_complete(&mut self, ctx: &mut dyn Context) {
        let n = self.len.min(CMD_BUF_LEN);
        let mut addr = self.buf[..n]
            .iter()
            .fold(0u32, |a, &b| (a << 8) | u32::from(b));
        if self.cmd == RDSFDP {
            self.cur_addr = addr;
            self.dummy_left = 1;
            self.phase = Phase::Dummy;
            return;
        }
        if n == 3 {
            addr |= u32::from(self.ear) << 24;
        }
        self.cur_addr = self.wrap(addr);
        tracing::trace!(target: "m25p80_complete_collecting", "cmd {:#04x} bytes {n} ear {:#x} cur_addr {:#x}", self.cmd, self.ear, self.cur_addr);
        match self.cmd {
            PP | PP4 | QPP | QPP4 | PP4_4 | PP_1_4_4 | DPP => {
                self.page_addr = self.cur_addr & !(PAGE_SIZE - 1);
                self.page = [0xFF; PAGE_SIZE as usize];
                self.page_latched = [0; 4];
                self.phase = Phase::Program;
            }
            BE_4K | BE4_4K => self.erase(SECTOR_SIZE),
            BE_32K | BE4_32K => self.erase(32 << 10),
            SE | SE4 => self.erase(self.part.info().block_size),
            _ => {
                self.dummy_left = self.dummy_bytes();
                self.phase = if self.dummy_left > 0 {
                    Phase::Dummy
                } else {
                    Phase::ReadArray
                };
                #[cfg(feature = "planted-bugs")]
                if self.planted.on(COMMAND_BUFFER) {
                    COMMAND_BUFFER.reached(ctx);
                    if self.len + usize::from(self.dummy_left) > CMD_BUF_LEN {
                        COMMAND_BUFFER.triggered(ctx);
                    }
                }
            }
        }
    }

    /// One dummy byte clocked.
    fn dummy_byte(&mut self, tx: u8) {
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(COMMAND_BUFFER) && self.cmd != RDSFDP {
            // PLANTED BUG `m25p80-command-buffer`: the dummy phase is collected into the command
            // buffer after the address, as m25p80 collects `needed_bytes`, without checking that
            // address + dummy bytes fit it.
            self.buf[self.pos] = tx;
            self.pos += 1;
        }
        let _ = tx;
        self.dummy_left = self.dummy_left.saturating_sub(1);
        if self.dummy_left == 0 {
            self.phase = if self.cmd == RDSFDP {
                Phase::ReadSfdp
            } else {
                Phase::ReadArray
            };
        }
    }

    /// An array address inside the part.
    fn wrap(&self, addr: u32) -> u32 {
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(ADDRESS_WRAP) {
            return addr;
        }
        addr & self.mask()
    }

    /// The next array address of a streaming read: it wraps at the part's end.
    fn next_addr(&self, addr: u32) -> u32 {
        self.wrap(addr.wrapping_add(1))
    }

    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn read_array_byte(&self, ctx: &mut dyn Context) -> u8 {
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(ADDRESS_WRAP) {
            ADDRESS_WRAP.reached(ctx);
            if self.cur_addr > self.mask() {
                ADDRESS_WRAP.triggered(ctx);
            }
            // PLANTED BUG `m25p80-address-wrap`: the unwrapped address indexes the contents.
            return self.storage.byte_unwrapped(self.cur_addr);
        }
        self.storage.byte(self.cur_addr)
    }

    /// Bytes `[start, start + len)` protected by the block-protect bits.
    fn protected(&self, start: u32, len: u32) -> bool {
        let (bp, bottom) = match self.vendor() {
            Vendor::Macronix => ((self.status >> 2) & 0xF, self.config & MX_CR_TB != 0),
            Vendor::Micron => (
                ((self.status >> 2) & 0x7) | if self.status & MT_SR_BP3 != 0 { 8 } else { 0 },
                self.status & MT_SR_TB != 0,
            ),
            Vendor::Winbond => ((self.status >> 2) & 0xF, self.status & WB_SR_TB != 0),
        };
        if bp == 0 {
            return false;
        }
        let size = u64::from(self.part.size());
        let block = u64::from(self.part.info().block_size);
        let span = (block << (bp - 1)).min(size);
        let (lo, hi) = if bottom {
            (0, span)
        } else {
            (size - span, size)
        };
        let (s, e) = (u64::from(start), u64::from(start) + u64::from(len));
        s < hi && e > lo
    }

    fn erase(&mut self, len: u32) {
        let start = self.cur_addr & !(len - 1) & self.mask();
        if self.protected(start, len) {
            tracing::trace!(target: "m25p80_flash_erase", "offset {start:#x} len {len:#x} protected");
        } else {
            tracing::trace!(target: "m25p80_flash_erase", "offset {start:#x} len {len:#x}");
            self.storage.erase(start, len);
        }
        self.clear_wel_after_write();
        self.phase = Phase::Ignore;
    }

    fn chip_erase(&mut self) {
        if !self.wel() {
            return;
        }
        let size = self.part.size();
        if self.protected(0, size) {
            tracing::trace!(target: "m25p80_chip_erase", "protected");
        } else {
            tracing::trace!(target: "m25p80_chip_erase", "");
            self.storage.erase(0, size);
        }
        self.clear_wel_after_write();
    }

    /// CS# high after page-program data: program the latched bytes.
    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn program_page(&mut self, ctx: &mut dyn Context) {
        if self.page_latched.iter().any(|&w| w != 0) {
            #[cfg(feature = "planted-bugs")]
            if self.planted.on(ADDRESS_WRAP) {
                ADDRESS_WRAP.reached(ctx);
                if self.page_addr > self.mask() {
                    ADDRESS_WRAP.triggered(ctx);
                }
                // PLANTED BUG `m25p80-address-wrap`: the page address was not wrapped.
                self.storage
                    .program_unwrapped(self.page_addr, &self.page, &self.page_latched);
                self.clear_wel_after_write();
                return;
            }
            if self.protected(self.page_addr, PAGE_SIZE) {
                tracing::trace!(target: "m25p80_page_program", "page {:#x} protected", self.page_addr);
            } else {
                self.storage
                    .program(self.page_addr, &self.page, &self.page_latched);
            }
        }
        self.clear_wel_after_write();
    }

    /// The register data of `cmd` is complete (or CS# went high during a WRSR).
    fn data_complete(&mut self) {
        match self.cmd {
            WRSR => self.write_status_registers(),
            WRSR2 => {
                self.config = self.buf[0];
                self.clear_wel_after_write();
            }
            WRSR3 => self.clear_wel_after_write(),
            WREAR => {
                self.ear = self.buf[0];
                self.clear_wel_after_write();
            }
            WRNVCR => {
                self.nvcr = u16::from_le_bytes([self.buf[0], self.buf[1]]);
                self.clear_wel_after_write();
            }
            WRVCR => self.vcr = self.buf[0],
            WREVCR => self.evcr = self.buf[0],
            _ => {}
        }
        self.phase = Phase::Ignore;
    }

    /// WRSR with `pos` bytes: the status register, then (Macronix) the configuration register
    /// or (Winbond) status register 2.
    fn write_status_registers(&mut self) {
        self.status = (self.status & !SR_WRITABLE) | (self.buf[0] & SR_WRITABLE);
        if self.pos >= 2 {
            match self.vendor() {
                Vendor::Macronix => {
                    self.config = (self.config & !MX_CR_WRITABLE) | (self.buf[1] & MX_CR_WRITABLE);
                }
                Vendor::Winbond => self.config = self.buf[1],
                Vendor::Micron => {}
            }
        }
        self.status &= !(SR_WEL | SR_WIP);
        self.qemu_keeps_wel = false;
        self.phase = Phase::Ignore;
        self.pos = 0;
    }

    fn macronix_config(&self) -> u8 {
        (self.config & !MX_CR_4BYTE) | if self.four_byte { MX_CR_4BYTE } else { 0 }
    }

    /// RSTEN then RST: back to the power-on register state (contents kept).
    fn software_reset(&mut self) {
        tracing::trace!(target: "m25p80_reset_done", "");
        self.status &= !SR_WEL;
        self.qemu_keeps_wel = false;
        self.four_byte = self.vendor() == Vendor::Micron && self.nvcr & MT_NVCR_3BYTE == 0;
        self.ear = 0;
        self.vcr = MT_VCR_DEFAULT;
        self.evcr = MT_EVCR_DEFAULT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::testing::TestContext;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    /// One transaction: select, clock `tx`, read `rx_len` more bytes, deselect.
    fn xfer(f: &mut SpiNor, tx: &[u8], rx_len: usize) -> Vec<u8> {
        for &b in tx {
            f.transfer(&mut TestContext::default(), b);
        }
        let rx = (0..rx_len)
            .map(|_| f.transfer(&mut TestContext::default(), 0))
            .collect();
        f.deselect(&mut TestContext::default());
        rx
    }

    fn mx() -> SpiNor {
        SpiNor::new(FlashPart::Mx25l25635e, None)
    }

    #[test]
    fn jedec_ids_are_the_parts() {
        assert_eq!(
            xfer(&mut mx(), &[RDID], 7),
            [0xC2, 0x20, 0x19, 0xC2, 0x20, 0x19, 0]
        );
        for (part, id) in [
            (FlashPart::Mx66u51235f, [0xC2, 0x25, 0x3A]),
            (FlashPart::N25q256a, [0x20, 0xBA, 0x19]),
            (FlashPart::W25q256, [0xEF, 0x40, 0x19]),
        ] {
            let mut f = SpiNor::new(part, None);
            assert_eq!(xfer(&mut f, &[RDID], 6), [id[0], id[1], id[2], 0, 0, 0]);
            assert_eq!(part.jedec_id(), id);
            assert_eq!(FlashPart::from_name(part.name()), Some(part));
        }
    }

    #[test]
    fn erased_reads_ff_and_read_wraps_at_the_part_end() {
        let mut f = mx();
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[PP4, 0, 0, 0, 0, 0x12], 0);
        assert_eq!(
            xfer(&mut f, &[READ, 0xFF, 0xFF, 0xFE], 3),
            [0xFF, 0xFF, 0xFF]
        );
        xfer(&mut f, &[EN4B], 0);
        assert_eq!(
            xfer(&mut f, &[READ, 0x01, 0xFF, 0xFF, 0xFF], 2),
            [0xFF, 0x12],
            "wraps to 0"
        );
    }

    #[test]
    fn page_program_needs_wel_ands_and_clears_wel() {
        let mut f = mx();
        xfer(&mut f, &[PP, 0, 0x10, 0, 0x00], 0);
        assert_eq!(
            xfer(&mut f, &[READ, 0, 0x10, 0], 1),
            [0xFF],
            "no WEL: ignored"
        );
        xfer(&mut f, &[WREN], 0);
        assert_eq!(xfer(&mut f, &[RDSR], 2), [SR_WEL, SR_WEL]);
        xfer(&mut f, &[PP, 0, 0x10, 0, 0xF0, 0x0F], 0);
        assert_eq!(xfer(&mut f, &[RDSR], 1), [0], "WEL cleared by the program");
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[PP, 0, 0x10, 0, 0x3C, 0xFF], 0);
        assert_eq!(xfer(&mut f, &[READ, 0, 0x10, 0], 2), [0x30, 0x0F], "AND");
    }

    #[test]
    fn page_program_wraps_inside_the_page() {
        let mut f = mx();
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[PP, 0, 0x01, 0xFF, 0xA1, 0xA2], 0);
        assert_eq!(xfer(&mut f, &[READ, 0, 0x01, 0x00], 1), [0xA2]);
        assert_eq!(
            xfer(&mut f, &[READ, 0, 0x01, 0xFF], 2),
            [0xA1, 0xFF],
            "reads run on"
        );
        assert_eq!(f.peek(0x200), 0xFF, "next page untouched");
    }

    #[test]
    fn erases_restore_ff_at_their_granularity() {
        let mut f = mx();
        for addr in [0x0000u32, 0x1000, 0x8000, 0x10000] {
            xfer(&mut f, &[WREN], 0);
            let a = addr.to_be_bytes();
            xfer(&mut f, &[PP, a[1], a[2], a[3], 0], 0);
        }
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[BE_4K, 0, 0x10, 0x00], 0);
        assert_eq!([f.peek(0), f.peek(0x1000)], [0, 0xFF]);
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[BE_32K, 0, 0x7F, 0xFF], 0);
        assert_eq!([f.peek(0), f.peek(0x8000)], [0xFF, 0]);
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[SE, 0, 0x80, 0x00], 0);
        assert_eq!([f.peek(0x8000), f.peek(0x10000)], [0xFF, 0]);
        xfer(&mut f, &[BE_4K, 0x00, 0x00, 0x00], 0);
        assert_eq!(f.peek(0x10000), 0, "no WEL: erase ignored");
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[CE], 0);
        assert_eq!(f.peek(0x10000), 0xFF);
        assert_eq!(f.storage, mx().storage, "all erased");
    }

    #[test]
    fn block_protection_refuses_program_and_erase() {
        let mut f = mx();
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[WRSR, 0x04], 0); // BP0: the top 64 KiB block
        assert_eq!(xfer(&mut f, &[RDSR], 1), [0x04]);
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[PP4, 0x01, 0xFF, 0x00, 0x00, 0x00], 0);
        assert_eq!(f.peek(0x01FF_0000), 0xFF, "top block protected");
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[PP, 0x00, 0x00, 0x00, 0x00], 0);
        assert_eq!(f.peek(0), 0);
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[CE], 0);
        assert_eq!(
            f.peek(0),
            0,
            "chip erase refused while any block is protected"
        );
    }

    #[test]
    fn four_byte_mode_extended_address_and_4byte_opcodes() {
        let mut f = mx();
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[PP4, 0x01, 0x23, 0x45, 0x67, 0x5A], 0);
        assert_eq!(xfer(&mut f, &[READ4, 0x01, 0x23, 0x45, 0x67], 1), [0x5A]);
        assert_eq!(xfer(&mut f, &[READ, 0x23, 0x45, 0x67], 1), [0xFF], "EAR 0");
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[WREAR, 0x01], 0);
        assert_eq!(xfer(&mut f, &[RDEAR], 1), [0x01]);
        assert_eq!(
            xfer(&mut f, &[READ, 0x23, 0x45, 0x67], 1),
            [0x5A],
            "EAR prefix"
        );
        xfer(&mut f, &[EN4B], 0);
        assert_eq!(xfer(&mut f, &[RDCR], 1), [MX_CR_DEFAULT | MX_CR_4BYTE]);
        assert_eq!(xfer(&mut f, &[RDFSR], 1), [FSR_READY | FSR_4BYTE]);
        assert_eq!(
            xfer(&mut f, &[FAST_READ, 0x01, 0x23, 0x45, 0x67, 0x00], 1),
            [0x5A]
        );
        xfer(&mut f, &[EX4B], 0);
        assert!(!f.four_byte_mode());
    }

    #[test]
    fn macronix_dummy_cycles_set_the_quad_io_dummy_phase() {
        let mut f = mx();
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[PP, 0, 0, 0, 0x77], 0);
        // DC = 3: ten clocks, five bytes on four lines.
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[WRSR, 0x00, 0xC0], 0);
        assert_eq!(xfer(&mut f, &[RDCR], 1), [0xC0]);
        assert_eq!(
            xfer(&mut f, &[RDCR], 3),
            [0xC0, 0, 0],
            "answered once, as QEMU"
        );
        assert_eq!(xfer(&mut f, &[QIOR, 0, 0, 0, 1, 2, 3, 4, 5], 1), [0x77]);
        assert_eq!(xfer(&mut f, &[QIOR4, 0, 0, 0, 0, 1, 2, 3, 4, 5], 1), [0x77]);
    }

    #[test]
    fn sfdp_header_and_density() {
        let mut f = SpiNor::new(FlashPart::Mx66u51235f, None);
        let t = xfer(&mut f, &[RDSFDP, 0, 0, 0, 0], 0x54);
        assert_eq!(&t[..4], b"SFDP");
        assert_eq!(t[0x0C], 0x30, "BFPT pointer");
        assert_eq!(
            u32::from_le_bytes([t[0x34], t[0x35], t[0x36], t[0x37]]),
            (64u32 << 23) - 1
        );
        assert_eq!(t[0x31], BE_4K);
        assert_eq!(xfer(&mut f, &[RDSFDP, 0, 0, 0xF0, 0], 1), [0xFF]);
    }

    #[test]
    fn sfdp_space_repeats_every_256_bytes_as_in_qemu() {
        let mut f = mx();
        // QEMU's m25p80 answers the header's "S" at 0x072000 (its tables are indexed modulo
        // their 256 bytes).
        assert_eq!(xfer(&mut f, &[RDSFDP, 0x07, 0x20, 0, 0], 4), b"SFDP");
        // Streamed across a 256-byte boundary, byte by byte and in bulk alike.
        let want = [0xFF, 0xFF, 0xFF, 0xFF, b'S', b'F', b'D', b'P'];
        assert_eq!(xfer(&mut f, &[RDSFDP, 0x12, 0x34, 0xFC, 0], 8), want);
        for &b in &[RDSFDP, 0x12, 0x34, 0xFC, 0] {
            f.transfer(&mut TestContext::default(), b);
        }
        let mut buf = [0u8; 8];
        f.read_stream(&mut TestContext::default(), &mut buf);
        f.deselect(&mut TestContext::default());
        assert_eq!(buf, want);
    }

    #[test]
    fn reset_needs_reset_enable_first() {
        let mut f = mx();
        xfer(&mut f, &[EN4B], 0);
        xfer(&mut f, &[RST], 0);
        assert!(f.four_byte_mode());
        xfer(&mut f, &[RSTEN], 0);
        xfer(&mut f, &[RDSR], 1);
        xfer(&mut f, &[RST], 0);
        assert!(f.four_byte_mode(), "RSTEN must come right before RST");
        xfer(&mut f, &[RSTEN], 0);
        xfer(&mut f, &[RST], 0);
        assert!(!f.four_byte_mode());
    }

    #[test]
    fn bytes_after_a_command_are_ignored_until_deselect() {
        let mut f = mx();
        xfer(&mut f, &[WREN, PP, 0, 0, 0, 0], 0);
        assert_eq!(f.peek(0), 0xFF);
        assert_eq!(xfer(&mut f, &[RDSR], 1), [SR_WEL]);
    }

    #[test]
    fn micron_volatile_config_and_flag_status() {
        let mut f = SpiNor::new(FlashPart::N25q256a, None);
        assert_eq!(xfer(&mut f, &[RDNVCR], 2), [0xFF, 0xFF]);
        xfer(&mut f, &[WRVCR, 0x1B], 0);
        assert_eq!(xfer(&mut f, &[RDVCR], 1), [0x1B]);
        assert_eq!(f.dummy_bytes_for(QIOR), 1);
        assert_eq!(xfer(&mut f, &[RDFSR], 1), [FSR_READY]);
    }

    #[test]
    fn image_contents_survive_reset_and_writes_do_not() {
        let image: Arc<[u8]> = Arc::from(vec![0x11u8; 5000]);
        let fresh = SpiNor::new(FlashPart::W25q256, Some(image.clone()));
        let mut f = fresh.clone();
        assert_eq!([f.peek(0), f.peek(4999), f.peek(5000)], [0x11, 0x11, 0xFF]);
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[BE_4K, 0, 0, 0], 0);
        assert_eq!([f.peek(0), f.peek(4096)], [0xFF, 0x11]);
        f.reset();
        assert_eq!(f, fresh);
    }

    #[test]
    fn all_zero_looks_at_every_byte() {
        let mut data = vec![0u8; 3000];
        assert!(all_zero(&data) && all_zero(&[]));
        for i in [0, 1023, 1024, 2999] {
            data[i] = 1;
            assert!(!all_zero(&data), "{i}");
            data[i] = 0;
        }
    }

    #[test]
    fn reset_equals_fresh() {
        for part in FlashPart::ALL {
            let fresh = SpiNor::new(part, None);
            let mut f = fresh.clone();
            xfer(&mut f, &[WREN], 0);
            xfer(&mut f, &[PP, 0, 0, 0, 1, 2, 3], 0);
            xfer(&mut f, &[EN4B], 0);
            xfer(&mut f, &[WREN], 0);
            xfer(&mut f, &[WREAR, 3], 0);
            f.transfer(&mut TestContext::default(), READ);
            f.transfer(&mut TestContext::default(), 1);
            f.reset();
            assert_eq!(f, fresh, "{}", part.name());
        }
    }

    #[test]
    fn writes_in_other_chunks_leave_the_checkpoint_and_are_undone_by_restore_and_reset() {
        // Sectors 0, 130 (the second chunk of the table) and the part's last one.
        let addrs = [0x0000_0010u32, 130 * SECTOR_SIZE + 0x20, (64 << 20) - 0x100];
        let fresh = SpiNor::new(FlashPart::Mx66u51235f, Some(Arc::from(vec![0x11u8; 5000])));
        let checkpoint = fresh.clone();
        let mut f = checkpoint.clone();
        for (i, addr) in addrs.into_iter().enumerate() {
            xfer(&mut f, &[WREN], 0);
            let a = addr.to_be_bytes();
            xfer(&mut f, &[PP4, a[0], a[1], a[2], a[3], 0x40 + i as u8], 0);
        }
        xfer(&mut f, &[WREN], 0);
        xfer(&mut f, &[BE_4K, 0, 0x10, 0], 0); // sector 1: an image sector erased
        assert_eq!(
            addrs.map(|a| f.peek(a)),
            [0x00, 0x41, 0x42],
            "AND with 0x11 / 0xFF"
        );
        assert_eq!(f.peek(0x1000), 0xFF);
        assert_ne!(f, fresh);
        assert_eq!(
            checkpoint, fresh,
            "copy-on-write: the checkpoint is untouched"
        );
        assert_eq!(addrs.map(|a| checkpoint.peek(a)), [0x11, 0xFF, 0xFF]);
        let mut restored = f.clone();
        restored.clone_from(&checkpoint);
        assert_eq!(restored, fresh);
        assert_eq!(format!("{restored:?}"), format!("{fresh:?}"));
        f.reset();
        assert_eq!(f, fresh);
        assert_eq!(format!("{f:?}"), format!("{fresh:?}"));
        assert_eq!(addrs.map(|a| f.peek(a)), [0x11, 0xFF, 0xFF]);
    }

    /// One round of the stream property: a command with its header bytes, then a stream of
    /// `n` bytes, read (`None`) or written (`Some(first)`: the data counts up from `first`).
    fn stream_round() -> impl Strategy<Value = (Vec<u8>, usize, Option<u8>)> {
        let opcodes = vec![
            WREN, WRDI, RDSR, RDCR, RDID, RDSFDP, READ, READ4, FAST_READ, QIOR4, PP, PP4, BE_4K,
            SE, CE, EN4B, EX4B, WREAR, RDEAR, WRSR, RDFSR, RSTEN, RST, 0x00, 0xFF,
        ];
        let header_byte = prop_oneof![Just(0u8), Just(0xFF), any::<u8>()];
        (
            (
                prop::sample::select(opcodes),
                prop::collection::vec(header_byte, 0..7),
            )
                .prop_map(|(op, header)| [vec![op], header].concat()),
            prop::sample::select(vec![1usize, 3, 255, 256, 257, 600, 5000]),
            prop::option::of(any::<u8>()),
        )
    }

    proptest! {
        // A fixed seed: the same cases in every run (a failure still shrinks).
        #![proptest_config(Config { cases: 64, rng_seed: RngSeed::Fixed(0x5eed), ..Config::default() })]
        #[test]
        fn streams_do_exactly_what_single_transfers_do(
            part in prop::sample::select(FlashPart::ALL.to_vec()),
            rounds in prop::collection::vec(stream_round(), 1..100),
        ) {
            let mut a = SpiNor::new(part, Some(Arc::from(vec![0x3C; 10_000])));
            let mut b = a.clone();
            for (round, (tx, n, write)) in rounds.iter().enumerate() {
                for &t in tx {
                    prop_assert_eq!(
                        a.transfer(&mut TestContext::default(), t),
                        b.transfer(&mut TestContext::default(), t)
                    );
                }
                match write {
                    None => {
                        let mut bulk = vec![0u8; *n];
                        a.read_stream(&mut TestContext::default(), &mut bulk);
                        let single: Vec<u8> = (0..*n).map(|_| b.transfer(&mut TestContext::default(), 0)).collect();
                        prop_assert_eq!(bulk, single, "round {}: {:02x?} read {}", round, tx, n);
                    }
                    Some(first) => {
                        let data: Vec<u8> =
                            (0..*n).map(|i| first.wrapping_add(i as u8)).collect();
                        a.write_stream(&mut TestContext::default(), &data);
                        for &d in &data {
                            b.transfer(&mut TestContext::default(), d);
                        }
                    }
                }
                prop_assert_eq!(a.light(), b.light(), "round {}: {:02x?} stream {}", round, tx, n);
                a.deselect(&mut TestContext::default());
                b.deselect(&mut TestContext::default());
            }
            prop_assert_eq!(a, b);
        }
    }

    /// One step of the transaction property: a set-up command sent byte by byte to both flashes
    /// (`Err`), or a transaction (`Ok`): its header (a command, then address, dummy or data
    /// bytes, zeros and low addresses often) and how many bytes it reads.
    fn transaction_step() -> impl Strategy<Value = Result<(Vec<u8>, usize), Vec<u8>>> {
        let opcodes = vec![
            READ, READ4, FAST_READ, FAST_READ4, DOR, DOR4, QOR, QOR4, DIOR, DIOR4, QIOR, QIOR4,
            RDSFDP, RDSR, RDID, WREN, PP, BE_4K, 0x00,
        ];
        let byte = prop_oneof![Just(0u8), Just(1), any::<u8>()];
        let transaction = (
            (
                prop::sample::select(opcodes),
                prop::collection::vec(byte.clone(), 0..12),
            )
                .prop_map(|(op, rest)| [vec![op], rest].concat()),
            prop::sample::select(vec![0usize, 1, 2, 3, 4, 5, 6, 8, 9, 16, 300, 5000]),
        );
        let setup = prop_oneof![
            Just(vec![WREN]),
            Just(vec![EN4B]),
            Just(vec![EX4B]),
            Just(vec![RSTEN]),
            byte.clone().prop_map(|c| vec![WRSR, 0, c]),
            byte.clone().prop_map(|e| vec![WREAR, e]),
            byte.clone().prop_map(|v| vec![WRVCR, v]),
            prop::collection::vec(byte, 5..12).prop_map(|b| [vec![PP4], b].concat()),
        ];
        prop_oneof![3 => transaction.prop_map(Ok), 1 => setup.prop_map(Err)]
    }

    /// A flash of `part` with a patterned image and the planted bugs `planted`, given the
    /// set-up commands among `steps` byte by byte; `None` if one panics (with the address-wrap
    /// bug on, a program past the part does).
    fn set_up_flash<'a>(
        part: FlashPart,
        planted: u32,
        steps: impl Iterator<Item = &'a Result<(Vec<u8>, usize), Vec<u8>>>,
    ) -> Option<SpiNor> {
        let image: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(7) ^ (i >> 8)) as u8)
            .collect();
        let mut f = SpiNor::with_planted(part, Some(Arc::from(image)), Planted::from_bits(planted));
        for step in steps.filter_map(|s| s.as_ref().err()) {
            let run =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| xfer(&mut f, step, 0)));
            run.ok()?;
        }
        Some(f)
    }

    /// The byte path of [`SpiNor::read_transaction`]: what it must do.
    fn transaction_byte_by_byte(
        f: &mut SpiNor,
        ctx: &mut TestContext,
        header: &[u8],
        rx: &mut [u8],
    ) {
        for &b in header {
            f.transfer(ctx, b);
        }
        f.read_stream(ctx, rx);
        f.deselect(ctx);
    }

    /// The closing check of the transaction properties, a fast path (`a`, `ca`, `ra`) against
    /// the same bytes sent one `transfer` at a time (`b`, `cb`, `rb`): both panicked or neither,
    /// the same canaries and choices, and, when neither panicked, the same bytes read and the
    /// same flash state. `Ok(false)` when they panicked: the property stops there.
    fn same_as_byte_by_byte(
        what: &str,
        panicked: (bool, bool),
        (ca, cb): (&TestContext, &TestContext),
        (ra, rb): (&[u8], &[u8]),
        (a, b): (&SpiNor, &SpiNor),
    ) -> Result<bool, TestCaseError> {
        prop_assert_eq!(panicked.0, panicked.1, "{}: panicked", what);
        prop_assert_eq!(&ca.canaries, &cb.canaries, "{}: canaries", what);
        prop_assert_eq!(&ca.choices, &cb.choices, "{}: choices", what);
        if panicked.0 {
            return Ok(false);
        }
        prop_assert_eq!(ra, rb, "{}: bytes read", what);
        prop_assert_eq!(a, b, "{}: flash state", what);
        Ok(true)
    }

    proptest! {
        #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(0x7ea0), ..Config::default() })]
        /// With either flash planted bug on too (a build with `planted-bugs`): the
        /// command-buffer bug panics in the same transactions, the canaries count the same.
        #[test]
        fn read_transactions_do_exactly_what_single_transfers_do(
            part in prop::sample::select(FlashPart::ALL.to_vec()),
            planted in prop::sample::select(vec![0u32, 1, 2]),
            steps in prop::collection::vec(transaction_step(), 1..60),
        ) {
            let image: Vec<u8> = (0..70_000u32).map(|i| (i.wrapping_mul(7) ^ (i >> 8)) as u8).collect();
            let mut a = SpiNor::with_planted(part, Some(Arc::from(image)), Planted::from_bits(planted));
            let mut b = a.clone();
            let (mut ca, mut cb) = (TestContext::default(), TestContext::default());
            for (i, step) in steps.iter().enumerate() {
                match step {
                    Err(setup) => {
                        // (With the address-wrap bug on, a program past the part panics.)
                        let panicked = [&mut a, &mut b].map(|f| {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                xfer(f, setup, 0);
                            }))
                            .is_err()
                        });
                        if panicked[0] {
                            break;
                        }
                    }
                    Ok((header, n)) => {
                        let (mut ra, mut rb) = (vec![0xA5; *n], vec![0x5A; *n]);
                        let fast = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            a.read_transaction(&mut ca, header, &mut ra)
                        }));
                        let slow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            transaction_byte_by_byte(&mut b, &mut cb, header, &mut rb)
                        }));
                        let what = format!("step {i}: {header:02x?} read {n}");
                        if !same_as_byte_by_byte(&what, (fast.is_err(), slow.is_err()), (&ca, &cb), (&ra, &rb), (&a, &b))? {
                            break;
                        }
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(0x7ea1), ..Config::default() })]
        /// Runs of transactions as the FMC's command modes send them (one per unit, the
        /// address bytes counting up), on flashes set up as in the property above.
        #[test]
        fn read_transaction_runs_do_exactly_what_single_transfers_do(
            part in prop::sample::select(FlashPart::ALL.to_vec()),
            planted in prop::sample::select(vec![0u32, 1, 2]),
            setup in prop::collection::vec(transaction_step(), 0..20),
            runs in prop::collection::vec(
                (transaction_step(), prop::sample::select(vec![1usize, 2, 3, 4, 8]), 0usize..70),
                1..8,
            ),
        ) {
            let Some(mut a) = set_up_flash(part, planted, setup.iter().chain(runs.iter().map(|r| &r.0))) else {
                return Ok(());
            };
            let mut b = a.clone();
            let (mut ca, mut cb) = (TestContext::default(), TestContext::default());
            for (run, (step, unit, len)) in runs.iter().enumerate() {
                let Ok((template, _)) = step else { continue };
                let template = &template[..template.len().min(HEADER_MAX)];
                let header = |i: usize, bytes: &mut [u8; HEADER_MAX]| {
                    bytes[..template.len()].copy_from_slice(template);
                    for (k, b) in bytes[1..template.len().min(4)].iter_mut().enumerate() {
                        *b = b.wrapping_add(((i * unit) >> (8 * (2 - k))) as u8);
                    }
                    template.len()
                };
                let (mut ra, mut rb) = (vec![0xA5; *len], vec![0x5A; *len]);
                let fast = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    a.read_transactions(&mut ca, &mut ra, *unit, |i, _, bytes| header(i, bytes));
                }));
                let slow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut bytes = [0; HEADER_MAX];
                    for (i, rx) in rb.chunks_mut(*unit).enumerate() {
                        let n = header(i, &mut bytes);
                        transaction_byte_by_byte(&mut b, &mut cb, &bytes[..n], rx);
                    }
                }));
                let what = format!("run {run}: {template:02x?} unit {unit}");
                if !same_as_byte_by_byte(&what, (fast.is_err(), slow.is_err()), (&ca, &cb), (&ra, &rb), (&a, &b))? {
                    break;
                }
            }
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(0x7ea2), ..Config::default() })]
        /// Runs of array reads and RDSFDP reads worked out from numbers (`read_sfdp_words`,
        /// `read_array_words`, then the byte path for what they leave) against the same words sent byte by byte, each with its own
        /// choices as the FMC's header closure notes them: the same bytes, state and choices.
        #[test]
        fn array_and_sfdp_words_do_exactly_what_single_transfers_do(
            part in prop::sample::select(FlashPart::ALL.to_vec()),
            planted in prop::sample::select(vec![0u32, 1, 2]),
            setup in prop::collection::vec(transaction_step(), 0..20),
            runs in prop::collection::vec(
                (
                    transaction_step(),
                    prop::sample::select(vec![1usize, 2, 3, 4, 8]),
                    0usize..70,
                    (3usize..=4, any::<u32>(), 0usize..2),
                ),
                1..8,
            ),
        ) {
            let Some(mut a) = set_up_flash(part, planted, setup.iter().chain(runs.iter().map(|r| &r.0))) else {
                return Ok(());
            };
            let mut b = a.clone();
            let (mut ca, mut cb) = (TestContext::default(), TestContext::default());
            for (run, (step, unit, len, (width, base, choices_each))) in runs.iter().enumerate() {
                let Ok((template, _)) = step else { continue };
                let template = &template[..template.len().min(HEADER_MAX)];
                // The address of word `i`, `width` bytes big-endian, over the template's first bytes.
                let header = |i: usize, bytes: &mut [u8; HEADER_MAX]| {
                    bytes[..template.len()].copy_from_slice(template);
                    let addr = u64::from(*base) + (i * unit) as u64;
                    for (k, b) in bytes[1..template.len()].iter_mut().take(*width).enumerate() {
                        *b = (addr >> (8 * (width - 1 - k))) as u8;
                    }
                    template.len()
                };
                let first_sent = |i: usize| {
                    let mut bytes = [0; HEADER_MAX];
                    let n = header(i, &mut bytes);
                    let mut sent = [0u8; 4];
                    let m = (n - 1).min(4);
                    sent[..m].copy_from_slice(&bytes[1..=m]);
                    sent
                };
                let (mut ra, mut rb) = (vec![0xA5; *len], vec![0x5A; *len]);
                let fast = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let shape = (template[0], template.len() - 1);
                    let sfdp = a.read_sfdp_words(&mut ca, shape, &mut ra, *unit, *choices_each == 1, first_sent);
                    let (_, rest) = ra.split_at_mut(sfdp);
                    let array = a.read_array_words(&mut ca, shape, rest, *unit, *choices_each, |i| first_sent(sfdp / unit + i));
                    let done = sfdp + array;
                    prop_assert_eq!(done % unit, 0);
                    let words = done / unit;
                    a.read_transactions(&mut ca, &mut ra[done..], *unit, |i, ctx, bytes| {
                        ctx.note_choices(CHOICE_DUMMY_BYTES, *choices_each);
                        header(words + i, bytes)
                    });
                    Ok(())
                }));
                let slow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut bytes = [0; HEADER_MAX];
                    for (i, rx) in rb.chunks_mut(*unit).enumerate() {
                        cb.note_choices(CHOICE_DUMMY_BYTES, *choices_each);
                        let n = header(i, &mut bytes);
                        transaction_byte_by_byte(&mut b, &mut cb, &bytes[..n], rx);
                    }
                }));
                // (What the fast side checked on the way: its word counts.)
                if let Ok(Err(inner)) = fast {
                    return Err(inner);
                }
                let what = format!("run {run}: {template:02x?} unit {unit}");
                if !same_as_byte_by_byte(&what, (fast.is_err(), slow.is_err()), (&ca, &cb), (&ra, &rb), (&a, &b))? {
                    break;
                }
            }
        }
    }

    /// One step of the clocking property: clock in this many bytes (`Ok`), clock out these
    /// bytes (`Err`, zeros often), or deselect (an empty `Err`).
    fn clocking_step() -> impl Strategy<Value = Result<usize, Vec<u8>>> {
        let byte = prop_oneof![Just(0u8), Just(1), any::<u8>()];
        prop_oneof![
            prop::sample::select(vec![1usize, 2, 3, 4, 7, 64, 300, 5000]).prop_map(Ok),
            prop::collection::vec(byte.clone(), 1..8).prop_map(Err),
            prop::collection::vec(byte, 200..600).prop_map(Err),
            Just(Err(Vec::new())),
        ]
    }

    proptest! {
        #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(0x7ea2), ..Config::default() })]
        /// `clock_in` and `clock_out` in any phase of any command (a transaction's header
        /// left open): the same answers, state, choices and canaries as a `transfer` per byte.
        #[test]
        fn clocking_in_bulk_does_exactly_what_single_transfers_do(
            part in prop::sample::select(FlashPart::ALL.to_vec()),
            planted in prop::sample::select(vec![0u32, 1, 2]),
            setup in prop::collection::vec(transaction_step(), 0..8),
            steps in prop::collection::vec(clocking_step(), 1..24),
        ) {
            let image: Vec<u8> = (0..70_000u32).map(|i| (i.wrapping_mul(7) ^ (i >> 8)) as u8).collect();
            let mut a = SpiNor::with_planted(part, Some(Arc::from(image)), Planted::from_bits(planted));
            for step in &setup {
                let tx = match step {
                    Ok((header, _)) | Err(header) => header,
                };
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| xfer(&mut a, tx, 0))).is_err() {
                    return Ok(());
                }
            }
            // The last set-up header is left open: its command's phases are what the steps meet.
            if let Some(Ok((header, _))) = setup.last() {
                for &b in header {
                    a.transfer(&mut TestContext::default(), b);
                }
            }
            let mut b = a.clone();
            let (mut ca, mut cb) = (TestContext::default(), TestContext::default());
            for (i, step) in steps.iter().enumerate() {
                let (mut ra, mut rb) = (Vec::new(), Vec::new());
                let bulk = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match step {
                    Ok(n) => {
                        ra = vec![0xA5; *n];
                        a.clock_in(&mut ca, &mut ra);
                    }
                    Err(tx) if tx.is_empty() => a.deselect(&mut ca),
                    Err(tx) => a.clock_out(&mut ca, tx),
                }));
                let single = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match step {
                    Ok(n) => rb = (0..*n).map(|_| b.transfer(&mut cb, 0)).collect(),
                    Err(tx) if tx.is_empty() => b.deselect(&mut cb),
                    Err(tx) => {
                        for &t in tx {
                            b.transfer(&mut cb, t);
                        }
                    }
                }));
                prop_assert_eq!(bulk.is_err(), single.is_err(), "step {}", i);
                prop_assert_eq!(&ca.canaries, &cb.canaries, "step {}", i);
                prop_assert_eq!(&ca.choices, &cb.choices, "step {}", i);
                if bulk.is_err() {
                    break;
                }
                prop_assert_eq!(ra, rb, "step {}", i);
                prop_assert_eq!(&a, &b, "step {}", i);
            }
        }
    }

    impl SpiNor {
        /// Everything but the contents, cheap to compare.
        #[allow(clippy::type_complexity)]
        fn light(
            &self,
        ) -> (
            Phase,
            u8,
            [usize; 2],
            u8,
            bool,
            u32,
            [u64; 4],
            u32,
            bool,
            [u8; 8],
            u64,
        ) {
            (
                self.phase,
                self.cmd,
                [self.pos, self.len],
                self.dummy_left,
                self.reg_loop,
                self.cur_addr,
                self.page_latched,
                self.page_addr,
                self.addressed,
                [
                    self.status,
                    self.config,
                    self.vcr,
                    self.evcr,
                    self.ear,
                    u8::from(self.four_byte),
                    u8::from(self.reset_enabled),
                    0,
                ],
                self.storage.generation,
            )
        }

        fn dummy_bytes_for(&mut self, cmd: u8) -> u8 {
            self.cmd = cmd;
            self.dummy_bytes()
        }
    }
}
