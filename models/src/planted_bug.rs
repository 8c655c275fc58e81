//! What a device needs to plant bugs: its table entries ([`PlantedBug`]), a handle per entry
//! ([`Bug`]) with its canaries, and the part of the selection it was built with ([`Planted`],
//! whose [`Planted::on`] is the one test a planted path makes).
//!
//! This module knows no device; [`crate::planted`] collects the devices' tables into its
//! registry and turns a selection into each device's [`Planted`]. The buggy code paths exist
//! only with the cargo feature `planted-bugs` ([`ENABLED_IN_BUILD`]).
//!
//! # Writing a planted path
//! A planted path is a statement or a function under `#[cfg(feature = "planted-bugs")]`
//! (`if self.planted.on(BUG) { ... }`, the `..._unchecked` helper it calls, the [`Bug`]
//! constant when nothing else names it), so a build without the feature does not contain it:
//! the fixed model is the code as compiled, and `devfuzz coverage` does not count buggy lines
//! the fuzz build cannot run. A parameter only the planted path uses keeps the compiler quiet
//! with `#[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]` on its function.
//! Where the bug is a change inside an expression, [`Planted::on`] (the constant `false`
//! without the feature) does the test in place.
//!
//! # Canaries
//! Each bug counts, separately from whether the harness *detected* anything:
//! - *reached* ([`Bug::reached`]): the buggy code path ran with the bug active;
//! - *triggered* ([`Bug::triggered`]): the condition the fixed model guards against actually
//!   happened there (the state is now corrupt, whether or not anything has failed yet).
//!
//! They go through the device's [`Context`] to the machine, which reports them in the run's
//! [`Outcome`](harness::outcome::Outcome) ([`Outcome::canaries`](harness::outcome::Outcome::canaries)).
//! They only observe; they never change behaviour.

use harness::device::{Canary, Context};

/// Whether this build contains the planted code paths (cargo feature `planted-bugs`).
pub const ENABLED_IN_BUILD: bool = cfg!(feature = "planted-bugs");

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

/// The planted bugs one device was built with (bit `i` for entry `i` of its table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Planted(u32);

impl Planted {
    /// No bug: the fixed model.
    pub const NONE: Self = Self(0);

    /// Entries `i` of the device's table with bit `i` of `bits` set (the registry's
    /// [`Selection::planted`](crate::planted::Selection::planted) computes them).
    pub(crate) const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// Whether `bug` is active: the one test a planted path makes. The constant `false` in a
    /// build without `planted-bugs`.
    #[inline(always)]
    pub const fn on(self, bug: Bug) -> bool {
        ENABLED_IN_BUILD && self.0 & (1 << bug.index) != 0
    }

    /// `Some(bug)` when `bug` is on ([`Planted::on`]), for `let Some(bug) = ... else` paths.
    #[inline(always)]
    pub const fn active(self, bug: Bug) -> Option<Bug> {
        if self.on(bug) { Some(bug) } else { None }
    }
}

/// A device's handle on one entry of its table: where [`Planted::on`] looks and what the
/// canaries are counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bug {
    index: u32,
    id: &'static str,
}

impl Bug {
    /// Entry `index` of the device table `table`.
    pub const fn of(table: &'static [PlantedBug], index: usize) -> Self {
        assert!(index < 32);
        Self {
            index: index as u32,
            id: table[index].id,
        }
    }

    /// The bug's id.
    pub const fn id(self) -> &'static str {
        self.id
    }

    /// Count that the buggy path ran with the bug active.
    #[inline]
    pub fn reached(self, ctx: &mut dyn Context) {
        ctx.canary(self.id, Canary::Reached);
    }

    /// Count that the buggy path corrupted state.
    #[inline]
    pub fn triggered(self, ctx: &mut dyn Context) {
        ctx.canary(self.id, Canary::Triggered);
    }
}
