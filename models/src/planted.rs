//! Planted bugs: re-introduced root causes of real, cited historical bugs, for measuring how
//! fast (and whether) the fuzzer finds them, Magma-style.
//!
//! Each device declares its own bugs beside its code (a `PLANTED` table of [`PlantedBug`]s and
//! a [`Bug`] handle per entry, from [`crate::planted_bug`], which knows no device); this module
//! only collects the tables into [`BUGS`], parses a selection ([`Selection`]) and gives each
//! device its part of it ([`Selection::planted`]).
//!
//! The registry and the selection are compiled in every build, so the command line can list
//! the bugs and say when a build cannot run them. The buggy code paths exist only with the
//! cargo feature `planted-bugs` ([`ENABLED_IN_BUILD`]), so the default build is the all-fixed
//! control: see [`crate::planted_bug`] for how a device writes them.
//!
//! # Selection
//! A selection is part of the options a machine is built with: the profile option `bugs`
//! (`bugs=ps2-queue-overflow+pci-bar-overlap`, or `bugs=all`; see
//! [`harness::target::BUGS_OPTION`]), which the command line (`--bugs`, `DEVFUZZ_BUGS`,
//! `# planted:` headers) and the fuzz entries (`DEVFUZZ_BUGS`) fill in. Whoever builds a device
//! (a machine profile's builder) hands it its part, `selection.planted(<device>::PLANTED)`, a
//! [`Planted`] the device keeps across its resets; the machine is rebuilt with the same options
//! after a finding. With the feature on and a bug not selected, its device behaves exactly as
//! the fixed model.
//!
//! # Canaries
//! Each bug counts *reached* and *triggered* ([`Bug::reached`], [`Bug::triggered`]) through the
//! device's `Context`, separately from whether the harness *detected* anything; the run's
//! [`Outcome`](harness::outcome::Outcome) reports them
//! ([`Outcome::canaries`](harness::outcome::Outcome::canaries)).

pub use crate::planted_bug::{Bug, ENABLED_IN_BUILD, Planted, PlantedBug};
use harness::target::ProfileOption;
use std::fmt;

/// Every device's table, in registry order (append new devices at the end).
const TABLES: &[&[PlantedBug]] = &[
    crate::i8042::PLANTED,
    crate::pc::chipset::PLANTED,
    crate::aspeed::fmc::PLANTED,
    crate::aspeed::spi_nor::PLANTED,
    crate::e1000e::PLANTED,
    crate::ide::planted::PLANTED,
];

const COUNT: usize = {
    let mut n = 0;
    let mut t = 0;
    while t < TABLES.len() {
        n += TABLES[t].len();
        t += 1;
    }
    n
};

const ALL: [PlantedBug; COUNT] = {
    let mut out = [PlantedBug {
        id: "",
        device: "",
        target: "",
        cites: "",
        description: "",
    }; COUNT];
    let (mut k, mut t) = (0, 0);
    while t < TABLES.len() {
        let mut i = 0;
        while i < TABLES[t].len() {
            out[k] = TABLES[t][i];
            k += 1;
            i += 1;
        }
        t += 1;
    }
    out
};

const _: () = assert!(COUNT <= 32, "a selection is a u32 bit mask");

/// Every planted bug: the devices' tables, collected.
pub static BUGS: &[PlantedBug] = &ALL;

/// Environment variable the command line and the fuzz entries read a selection from.
pub const ENV_VAR: &str = harness::entry::BUGS_VAR;

/// The `bugs` option of the machine profiles that have planted bugs (for `devfuzz list`).
pub const PROFILE_OPTION: ProfileOption = ProfileOption {
    key: harness::target::BUGS_OPTION,
    help: "<id>+<id>... | all: planted bugs the devices re-introduce (builds with --features planted-bugs; see `devfuzz list`)",
};

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

/// A set of planted bugs (bit `i` for `BUGS[i]`): what a machine's devices are built with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selection(u32);

impl Selection {
    /// No bug.
    pub const NONE: Self = Self(0);

    /// Parse ids separated by `,` or `+` (spaces around them ignored), `all` for every bug,
    /// nothing for none.
    pub fn parse(ids: &str) -> Result<Self, UnknownBug> {
        let mut mask = 0u32;
        for id in ids
            .split([',', '+'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if id == "all" {
                mask |= ((1u64 << BUGS.len()) - 1) as u32;
            } else {
                let i = BUGS
                    .iter()
                    .position(|b| b.id == id)
                    .ok_or_else(|| UnknownBug { id: id.to_string() })?;
                mask |= 1 << i;
            }
        }
        Ok(Self(mask))
    }

    /// The selection the profile options `items` carry (their `bugs` item; none without
    /// one), and the other items.
    pub fn from_items(items: &[(String, String)]) -> Result<(Self, Vec<(String, String)>), String> {
        let mut selection = Self::NONE;
        let mut rest = Vec::new();
        for (key, value) in items {
            if key == harness::target::BUGS_OPTION {
                selection = Self::parse(value).map_err(|e| e.to_string())?;
            } else {
                rest.push((key.clone(), value.clone()));
            }
        }
        Ok((selection, rest))
    }

    /// Whether no bug is selected.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether bug `id` is selected (whether or not this build can run it).
    pub fn contains(self, id: &str) -> bool {
        BUGS.iter()
            .position(|b| b.id == id)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// The selected ids, in registry order.
    pub fn ids(self) -> Vec<&'static str> {
        BUGS.iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, b)| b.id)
            .collect()
    }

    /// The part of the selection in a device's table `table`, as the device keeps it: none
    /// is ever on in a build without `planted-bugs`.
    pub fn planted(self, table: &[PlantedBug]) -> Planted {
        let mut mask = 0;
        for (i, bug) in table.iter().enumerate() {
            if self.contains(bug.id) {
                mask |= 1 << i;
            }
        }
        Planted::from_bits(mask)
    }
}

/// The ids, comma-separated.
impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ids().join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_keeps_its_order() {
        let ids: Vec<&str> = BUGS.iter().map(|b| b.id).collect();
        assert_eq!(
            ids[..3],
            [
                "ps2-queue-overflow",
                "ps2-mouse-param-index",
                "pci-bar-overlap"
            ]
        );
        assert_eq!(ids.len(), 16);
    }

    #[test]
    fn parse_accepts_lists_all_and_nothing() {
        assert_eq!(Selection::parse(""), Ok(Selection::NONE));
        assert_eq!(Selection::parse(" , "), Ok(Selection::NONE));
        assert_eq!(Selection::parse("all").unwrap().ids().len(), BUGS.len());
        assert_eq!(
            Selection::parse("pci-bar-overlap, ps2-queue-overflow"),
            Ok(Selection(0b101))
        );
        assert_eq!(
            Selection::parse("pci-bar-overlap+ps2-queue-overflow"),
            Ok(Selection(0b101))
        );
        let err = Selection::parse("ps2-queue-overflow,nope").unwrap_err();
        assert_eq!(err.id(), "nope");
        let shown = err.to_string();
        assert!(
            shown.contains("'nope'") && shown.contains("pci-bar-overlap"),
            "{shown}"
        );
    }

    #[test]
    fn a_device_sees_its_part_of_the_selection_only_with_the_feature() {
        let sel = Selection::parse("ps2-mouse-param-index,pci-bar-overlap").unwrap();
        let planted = sel.planted(crate::i8042::PLANTED);
        let mouse = Bug::of(crate::i8042::PLANTED, 1);
        let keyboard = Bug::of(crate::i8042::PLANTED, 0);
        assert_eq!(mouse.id(), "ps2-mouse-param-index");
        assert_eq!(planted.on(mouse), ENABLED_IN_BUILD);
        assert!(!planted.on(keyboard));
        assert!(!Planted::NONE.on(mouse));
        assert_eq!(sel.to_string(), "ps2-mouse-param-index,pci-bar-overlap");
    }
}
