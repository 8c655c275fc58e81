//! The IDE function's planted bugs: its table for [`crate::planted`]'s registry, and the handles
//! the planted sites (in `channel.rs`, `ata.rs` and `atapi.rs`) test.

use crate::planted_bug::{Bug, PlantedBug};

/// The IDE function's planted bugs (see [`crate::planted`]).
pub const PLANTED: &[PlantedBug] = &[
    PlantedBug {
        id: "ide-prd-zero-sectors",
        device: "piix3-ide",
        target: "ide",
        cites: "CVE-2014-9718: QEMU IDE/AHCI `prepare_buf` returning \"no complete sectors\" \
                taken as progress (commit 3251bdcf, \"ide: Correct handling of malformed/short \
                PRDTs\")",
        description: "The DMA step walks the PRD table for the sectors it wants; a table shorter \
                      than that ends the transfer (status 0x50, ACTIVE clear, no interrupt). \
                      The planted bug reads a table with fewer than 512 bytes as \"success, no \
                      sector complete yet\" and re-arms the step (reached on every short \
                      table, triggered when it re-arms): the step never ends, a hang. \
                      Sequence: BAR4 at 0xc000 and bus mastering on, one PRD with a count \
                      below 512 and EOT (`write 0x1000 0x8 0x0000200000010080`), `outl 0xc004 \
                      0x1000`, READ DMA `outb 0x1f7 0xc8`, START `outb 0xc000 0x9`, \
                      `clock_step`.",
    },
    PlantedBug {
        id: "ide-atapi-data-overrun",
        device: "piix3-ide",
        target: "ide_atapi",
        cites: "CVE-2015-5154: QEMU ATAPI START STOP UNIT left incomplete with DRQ set, then \
                the data port writes past `data_end` (commits d2ff8585, 03441c3a, cb72cba8)",
        description: "Three fixes of one bug, all undone: START STOP UNIT with a power \
                      condition returns without completing (reached), the data port leaves \
                      DRQ for the end-of-transfer step to clear, and it has no `p + 2 > \
                      data_end` bound. So after the packet the transfer stays current with \
                      its pointer at its end, and the next data write lands past it \
                      (triggered): out of bounds of the transfer window. Sequence (secondary \
                      channel, CD-ROM): PACKET `outb 0x177 0xa0`, the CDB 1B 00 00 00 10 00 \
                      00 00 00 00 00 00 as six `outw 0x170` (0x001b, 0, 0x0010, 0, 0, 0), \
                      then one more `outw 0x170 0`.",
    },
    PlantedBug {
        id: "ide-atapi-lba-overread",
        device: "piix3-ide",
        target: "ide_atapi",
        cites: "CVE-2020-29443: QEMU ATAPI `cmd_read` without an LBA/length range check; \
                `ide_atapi_cmd_reply_end` reads past `io_buffer` (commit b8d7f1bc)",
        description: "READ(10)/READ(12) check LBA + length against the medium and answer \
                      ILLEGAL REQUEST / LBA out of range. The planted bug skips the check \
                      (reached by every READ, triggered when the range ends past the \
                      medium), and the sector fetch indexes the in-memory medium (1024 \
                      sectors by default) past its end. Sequence (secondary channel): \
                      `outb 0x177 0xa0`, READ(10) of 1 sector at LBA 1024 as `outw 0x170` \
                      0x0028, 0, 0x0004, 0, 0x0001, 0, then `clock_step` (PIO; by DMA the \
                      read runs when the bus master starts).",
    },
    PlantedBug {
        id: "ide-dma-partial-sector",
        device: "piix3-ide",
        target: "ide",
        cites: "CVE-2019-20175 (disputed): QEMU `ide_dma_cb` asserts that a transfer is a \
                whole number of 512-byte sectors",
        description: "A PRD table that ends inside a sector is short for the request and \
                      ends the transfer in the fixed model. The planted bug transfers what the \
                      table describes instead (reached on every short table with a complete \
                      sector, triggered when its length is not a multiple of 512), and the \
                      sector bookkeeping's assertion that only whole sectors moved fails. \
                      Sequence: BAR4 at 0xc000, bus mastering on, one PRD of 768 bytes with \
                      EOT (`write 0x1000 0x8 0x0000200000030080`), `outl 0xc004 0x1000`, \
                      `outb 0x1f2 0x2`, READ DMA `outb 0x1f7 0xc8`, `outb 0xc000 0x9`, \
                      `clock_step`.",
    },
    PlantedBug {
        id: "ide-chs-zero-geometry",
        device: "piix3-ide",
        target: "ide",
        cites: "Morphuzz (USENIX Sec '22) IDE class: FPE in `ide_set_sector` when the CHS \
                conversion divides by a zero heads/sectors geometry field",
        description: "INITIALIZE DEVICE PARAMETERS sets the CHS translation (SECTOR COUNT \
                      sectors per track); the fixed model refuses 0. The planted bug takes it \
                      (reached by every 0x91, triggered by a zero count), and the next CHS \
                      command that advances the taskfile divides by heads x sectors = 0. \
                      Sequence: `outb 0x1f2 0`, `outb 0x1f7 0x91`, READ SECTORS in CHS mode \
                      `outb 0x1f7 0x20` (the reset signature addresses C/H/S 0/0/1), \
                      `clock_step`.",
    },
];

/// `ide-prd-zero-sectors` (CVE-2014-9718).
#[cfg(feature = "planted-bugs")]
pub(super) const PRD_ZERO_SECTORS: Bug = Bug::of(PLANTED, 0);
/// `ide-atapi-data-overrun` (CVE-2015-5154).
pub(super) const ATAPI_DATA_OVERRUN: Bug = Bug::of(PLANTED, 1);
/// `ide-atapi-lba-overread` (CVE-2020-29443).
pub(super) const ATAPI_LBA_OVERREAD: Bug = Bug::of(PLANTED, 2);
/// `ide-dma-partial-sector` (CVE-2019-20175).
#[cfg(feature = "planted-bugs")]
pub(super) const DMA_PARTIAL_SECTOR: Bug = Bug::of(PLANTED, 3);
/// `ide-chs-zero-geometry` (Morphuzz).
pub(super) const CHS_ZERO_GEOMETRY: Bug = Bug::of(PLANTED, 4);
