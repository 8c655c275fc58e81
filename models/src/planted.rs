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
                      program both bases to overlapping nonzero ranges and enable both (four \
                      configuration writes, in any order).",
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
