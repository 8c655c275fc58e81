//! Planted bugs: re-introduced root causes of real, cited historical bugs, for measuring how
//! fast (and whether) the fuzzer finds them, Magma-style.
//!
//! The registry ([`BUGS`]), the selection and the canaries are compiled in every build, so the
//! command line can list the bugs and say when a build cannot run them. The buggy code paths
//! themselves exist only with the cargo feature `planted-bugs` ([`ENABLED_IN_BUILD`]); the default
//! build is the all-fixed control.
//!
//! # Selection
//! [`select`] (or [`select_from_env`], reading `DEVFUZZ_BUGS`) sets the process-wide set of active
//! bugs: comma-separated ids, `all`, or nothing. It is process configuration: set it before
//! machines are built. A device reads it once, when it is constructed, and keeps it across its
//! resets; nothing reads it on the per-access path. (The harness rebuilds a machine after a
//! finding; the rebuilt devices take the selection in force then.) With the feature on and a bug
//! not selected, its device behaves exactly as the fixed model.
//!
//! # Canaries
//! Each bug counts, separately from whether the harness *detected* anything:
//! - *reached*: the buggy code path ran with the bug active;
//! - *triggered*: the condition the fixed model guards against actually happened there (the state
//!   is now corrupt, whether or not anything has failed yet).
//!
//! The counters only observe; they never change behaviour. They are process-wide: reset them
//! with [`reset_canaries`] between measurements.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// One planted bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlantedBug {
    /// Stable id, as `DEVFUZZ_BUGS` and regression headers name it.
    pub id: &'static str,
    /// The device model it lives in (the name a finding reports).
    pub device: &'static str,
    /// The fuzz target that reaches it.
    pub target: &'static str,
    /// The CVE, upstream commit or issue whose root cause it re-creates (one line).
    pub cites: &'static str,
    /// Root cause, and the sequence of operations that triggers it.
    pub description: &'static str,
}

/// Most planted bugs the selection (a `u32` bit mask) can hold.
const CAPACITY: usize = 32;

/// Index in [`BUGS`] of `ps2-queue-overflow`.
#[cfg_attr(not(feature = "planted-bugs"), allow(dead_code))]
pub(crate) const PS2_QUEUE_OVERFLOW: usize = 0;
/// Index in [`BUGS`] of `ps2-mouse-param-index`.
#[cfg_attr(not(feature = "planted-bugs"), allow(dead_code))]
pub(crate) const PS2_MOUSE_PARAM_INDEX: usize = 1;
/// Index in [`BUGS`] of `pci-bar-overlap`.
#[cfg_attr(not(feature = "planted-bugs"), allow(dead_code))]
pub(crate) const PCI_BAR_OVERLAP: usize = 2;

/// Append new bugs at the end (indices of existing ones must not move); a model finds its
/// bug's index with [`index_of`] when it is built.
const TABLE: &[PlantedBug] = &[
    PlantedBug {
        id: "ps2-queue-overflow",
        device: "i8042",
        target: "ps2",
        cites: "QEMU hw/input/ps2.c ps2_queue `count >= PS2_QUEUE_SIZE` bound \
                (ps2_common_post_load count/rptr/wptr validation; queue rework 47db2432)",
        description: "The keyboard queues scancodes without the `count >= PS2_QUEUE_SIZE` bound, \
                      so with 16 bytes unread further bytes are stored anyway: the count grows \
                      past the ring's size and unread bytes are overwritten (triggered). The \
                      write slot is head + count folded back into the ring once, which is exact \
                      only while count <= size, so once 32 bytes are unread (from a fresh queue) \
                      the next byte is written past the backing array (index out of bounds). \
                      Sequence: key events without reading port 0x60, e.g. five taps of Pause \
                      (8 bytes each in scancode set 2: `event i8042 0x020f` x5), or, fewest, \
                      Right Alt held then three taps of Print Screen (13 bytes each): \
                      `event i8042 0x0060`, `event i8042 0x020d` x3.",
    },
    PlantedBug {
        id: "ps2-mouse-param-index",
        device: "i8042",
        target: "ps2",
        cites: "bug-classes.md PS/2 (c): mouse command parameter (0xE8 set resolution) used \
                unvalidated as a table index (cf. HyperPill \"Abort in \
                I8042Device::HandleCommand\")",
        description: "0xE8 (set resolution) stores its parameter without checking it is a \
                      resolution code 0-3 (triggered when it is not); the mouse later converts \
                      the code to counts/mm through a 4-entry table on every status request \
                      (0xE9) and movement packet, which indexes out of bounds. Sequence: \
                      0xD4,0xE8 then 0xD4,<4..255> then 0xD4,0xE9 (controller command 0xD4 on \
                      port 0x64, the mouse byte on port 0x60).",
    },
    PlantedBug {
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
    },
    PlantedBug {
        id: "fmc-cs-index",
        device: "aspeed.fmc-ast2500",
        target: "aspeed_fmc",
        cites: "ViDeZZo (S&P '23): QEMU aspeed_smc out-of-bounds `cs_lines[fl->id]` with the \
                flash id >= num_cs (bug-classes.md ASPEED FMC/SMC)",
        description: "A flash-window access goes to the chip select whose segment holds it. \
                      The fixed FMC treats a chip select with no flash as unpopulated (reads \
                      0xFF, writes dropped); the planted bug indexes the table of populated \
                      flashes (one, on CS0, as on ast2500-evb) with the decoded chip select \
                      unchecked (reached on every window access, triggered when the chip \
                      select is not populated): index out of bounds. Sequence: any access to \
                      CS1's default segment, e.g. `readl 0x28000000` (read mode).",
    },
    PlantedBug {
        id: "fmc-register-window",
        device: "aspeed.fmc-ast2500",
        target: "aspeed_fmc",
        cites: "QEMU GitLab #3290 (aspeed I2C `regs[28]` behind a 0x80-byte MMIO window: \
                out-of-bounds read), the same class in the FMC register file",
        description: "The FMC register window is 0x100 bytes; its register array backs \
                      0x00-0x9F. The fixed model answers an offset with no register as \
                      unimplemented (reads all-ones, writes ignored); the planted bug serves \
                      every such offset from the array (reached), which is out of bounds from \
                      0xA0 on (triggered). Sequence: one access at FMC + 0xA0..0xFC, e.g. \
                      `readl 0x1e6200a0` or `writel 0x1e6200f0 0`.",
    },
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
    PlantedBug {
        id: "e1000e-head-outside-ring",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2016-1981 / CVE-2017-9310: e1000/e1000e infinite loop when the ring head \
                starts outside the ring (\"eliminate infinite loops on out-of-bounds transfer \
                start\")",
        description: "The transmit walk wraps the head to 0 only when it equals the ring size \
                      and has no one-lap bound, so a TDH at or past TDLEN/16 (and different \
                      from TDT) walks on forever (triggered): a hang. Sequence: bus mastering \
                      on, TDLEN=0x80, TDH=9, TDT=1, TCTL.EN (or TDT written after TCTL.EN).",
    },
    PlantedBug {
        id: "e1000e-tso-zero-mss",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2015-6815 / CVE-2021-20257: e1000 process_tx_desc TSO segment size 0 \
                (commit b947ac2, \"e1000: fail early for evil descriptor\")",
        description: "TCP segmentation takes the MSS from the context descriptor unchecked \
                      (reached on every TSO packet, triggered when it is 0): a zero segment \
                      size never advances through the payload, a hang. Sequence: TX ring with \
                      a context descriptor (DEXT, DTYP 0, TSE, HDRLEN < frame, MSS 0) then an \
                      extended data descriptor (DEXT|DTYP_D, TSE|EOP, length > HDRLEN), \
                      TCTL.EN, TDT=2.",
    },
    PlantedBug {
        id: "e1000e-rx-oversize",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2012-6075: e1000_receive buffer overflow with RCTL.SBP and RCTL.LPE clear \
                and a frame larger than the receive buffer",
        description: "Without LPE and SBP an oversized frame (> 1522 bytes) is not dropped: the \
                      receive path copies the whole frame into one receive buffer (reached), \
                      past its end when the frame is larger than the buffer (triggered): index \
                      out of bounds. Sequence: RX ring with free descriptors, RCTL.EN (no \
                      LPE/SBP, BSIZE 2048 or less), then an `event e1000e` frame of more than \
                      2048 bytes accepted by the filters, or the same frame looped back.",
    },
    PlantedBug {
        id: "e1000e-loopback-bypass",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2021-3416: loopback delivery bypassing the net-queue re-entrancy check \
                (commits 705df546, 1caff034 \"switch to use qemu_receive_packet() for loopback\")",
        description: "In loopback the receive DMA is handed straight to the device's own \
                      register handlers when the buffer lies in BAR0 (reached and triggered), \
                      so the guard never sees it: a buffer on TCTL with a frame whose first \
                      dword keeps TCTL.EN re-kicks transmit from the same descriptor, TX -> RX \
                      -> TCTL -> TX, until the stack is gone (a panic here). Sequence: rings \
                      set up, RCTL.EN|LBM=01, RX descriptor buffer = BAR0 + 0x400, TX a frame \
                      starting 0x02 0x00 0x00 0x00 ... with RS|EOP, TDT=1.",
    },
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

const _: () = assert!(TABLE.len() <= CAPACITY, "the selection is a u32 bit mask");

/// Every planted bug.
pub static BUGS: &[PlantedBug] = TABLE;

/// Whether this build contains the planted code paths (cargo feature `planted-bugs`).
pub const ENABLED_IN_BUILD: bool = cfg!(feature = "planted-bugs");

/// Environment variable [`select_from_env`] reads.
pub const ENV_VAR: &str = "DEVFUZZ_BUGS";

/// The selected bugs, bit `i` for `BUGS[i]`.
static SELECTED: AtomicU32 = AtomicU32::new(0);

static REACHED: [AtomicU64; CAPACITY] = [const { AtomicU64::new(0) }; CAPACITY];
static TRIGGERED: [AtomicU64; CAPACITY] = [const { AtomicU64::new(0) }; CAPACITY];

/// A selection named a bug that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownBug {
    id: String,
}

impl UnknownBug {
    /// The id that matched no bug.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for UnknownBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown planted bug '{}' (valid: ", self.id)?;
        for bug in BUGS {
            write!(f, "{}, ", bug.id)?;
        }
        f.write_str("all)")
    }
}

impl std::error::Error for UnknownBug {}

/// The index in [`BUGS`] of the bug `id`.
pub(crate) fn index_of(id: &str) -> Option<usize> {
    BUGS.iter().position(|b| b.id == id)
}

/// Parse a selection into a bit mask without storing it.
fn parse(ids: &str) -> Result<u32, UnknownBug> {
    let mut mask = 0u32;
    for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if id == "all" {
            mask |= ((1u64 << TABLE.len()) - 1) as u32;
        } else {
            let i = index_of(id).ok_or_else(|| UnknownBug { id: id.to_string() })?;
            mask |= 1 << i;
        }
    }
    Ok(mask)
}

/// Select the active bugs: comma-separated ids (spaces around them ignored), `all` for every
/// bug, an empty string for none. Replaces the previous selection; on an unknown id it is left
/// unchanged. Devices built afterwards use the new selection. In a build without `planted-bugs`
/// the ids are checked and stored, but no bug is ever active ([`is_active`] stays false).
pub fn select(ids: &str) -> Result<(), UnknownBug> {
    let mask = parse(ids)?;
    SELECTED.store(mask, Ordering::SeqCst);
    Ok(())
}

/// [`select`] with the value of `DEVFUZZ_BUGS` (unset means none).
pub fn select_from_env() -> Result<(), UnknownBug> {
    select(&std::env::var(ENV_VAR).unwrap_or_default())
}

/// Whether bug `id` is selected and this build can run it (always false without the feature, and
/// for unknown ids).
pub fn is_active(id: &str) -> bool {
    index_of(id).is_some_and(|i| active_mask() & (1 << i) != 0)
}

/// The ids of the active bugs, in registry order.
pub fn active() -> Vec<&'static str> {
    BUGS.iter()
        .filter(|b| is_active(b.id))
        .map(|b| b.id)
        .collect()
}

/// The selection as a bit mask, zero when the build has no planted code.
fn active_mask() -> u32 {
    if ENABLED_IN_BUILD {
        SELECTED.load(Ordering::SeqCst)
    } else {
        0
    }
}

/// How often a bug's buggy code ran and how often it corrupted state (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Canary {
    /// Times the buggy code path ran with the bug active.
    pub reached: u64,
    /// Times the condition the fix guards against actually happened there.
    pub triggered: u64,
}

/// The canary counters of bug `id` (zero for an unknown id, and always zero without the
/// feature).
pub fn canary(id: &str) -> Canary {
    index_of(id).map_or_else(Canary::default, |i| Canary {
        reached: REACHED[i].load(Ordering::Relaxed),
        triggered: TRIGGERED[i].load(Ordering::Relaxed),
    })
}

/// Every bug's canary, in registry order.
pub fn canaries() -> Vec<(&'static str, Canary)> {
    BUGS.iter().map(|b| (b.id, canary(b.id))).collect()
}

/// Zero every canary counter.
pub fn reset_canaries() {
    for c in REACHED.iter().chain(TRIGGERED.iter()) {
        c.store(0, Ordering::Relaxed);
    }
}

/// Count that the buggy path of `BUGS[bug]` ran with the bug active.
#[cfg(feature = "planted-bugs")]
pub(crate) fn reached(bug: usize) {
    if let Some(c) = REACHED.get(bug) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Count that the buggy path of `BUGS[bug]` corrupted state.
#[cfg(feature = "planted-bugs")]
pub(crate) fn triggered(bug: usize) {
    if let Some(c) = TRIGGERED.get(bug) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The bugs a device was built with: the selection when it was constructed. Devices keep one
/// and consult it only on their planted paths.
#[cfg(feature = "planted-bugs")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Active(u32);

#[cfg(feature = "planted-bugs")]
impl Active {
    /// No bug active.
    pub(crate) const NONE: Self = Self(0);

    /// The current selection.
    pub(crate) fn current() -> Self {
        Self(active_mask())
    }

    /// Whether `BUGS[bug]` is active.
    pub(crate) fn has(self, bug: usize) -> bool {
        bug < TABLE.len() && self.0 & (1 << bug) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_name_their_bugs() {
        assert_eq!(BUGS[PS2_QUEUE_OVERFLOW].id, "ps2-queue-overflow");
        assert_eq!(BUGS[PS2_MOUSE_PARAM_INDEX].id, "ps2-mouse-param-index");
        assert_eq!(BUGS[PCI_BAR_OVERLAP].id, "pci-bar-overlap");
    }

    #[test]
    fn parse_accepts_lists_all_and_nothing() {
        assert_eq!(parse(""), Ok(0));
        assert_eq!(parse(" , "), Ok(0));
        assert_eq!(parse("all"), Ok(((1u64 << BUGS.len()) - 1) as u32));
        assert_eq!(parse("pci-bar-overlap, ps2-queue-overflow"), Ok(0b101));
        let err = parse("ps2-queue-overflow,nope").unwrap_err();
        assert_eq!(err.id(), "nope");
        let shown = err.to_string();
        assert!(
            shown.contains("'nope'") && shown.contains("pci-bar-overlap"),
            "{shown}"
        );
    }
}
