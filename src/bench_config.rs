//! What `devfuzz bench` is asked to measure ([`BenchConfig`]) and the time-to-bug record
//! ([`TimeToBug`]) that both the bench and its trials (`bench_time_to_bug`) use.

use crate::fuzz_build::Instrument;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What to measure.
pub struct BenchConfig {
    /// Workspace root.
    pub root: PathBuf,
    /// Seconds per libFuzzer exec/s measurement.
    pub exec_seconds: u64,
    /// Trials per planted bug.
    pub trials: u32,
    /// Time limit per trial in seconds.
    pub trial_seconds: u64,
    /// Skip the engine measurements (in-process figures only).
    pub in_process_only: bool,
    /// cargo-fuzz sanitizer.
    pub sanitizer: String,
    /// Targets to measure (`None`: all).
    pub targets: Option<Vec<String>>,
    /// Planted bugs to time (`None`: every bug of the measured targets; empty: none).
    pub bugs: Option<Vec<String>>,
    /// Trials run at once (each is one libFuzzer process).
    pub jobs: usize,
    /// The instrumentation configurations of this tree to build and measure (the first is the
    /// one the single-build figures use).
    pub instruments: Vec<Instrument>,
    /// Another revision to build and measure side by side with this tree.
    pub baseline: Option<String>,
    /// How to build the baseline (every revision before `--instrument` existed built `full`).
    pub baseline_instrument: Instrument,
    /// Rounds of a side-by-side run: every build measured once per round, in turn.
    pub rounds: u32,
    /// Also measure each target's device-file line coverage by its exec/s run's corpus (the
    /// runs then take the target's dictionary and `-seed=1`, as a coverage campaign does).
    pub device_lines: bool,
}

impl BenchConfig {
    /// Whether this run measures the per-target figures (exec/s, programs/s, minimisation):
    /// not when it only names bugs to time (`--time-to-bug` without `--targets`).
    pub(crate) fn measures_targets(&self) -> bool {
        self.targets.is_some() || self.bugs.as_ref().is_none_or(Vec::is_empty)
    }

    pub(crate) fn wants_target(&self, name: &str) -> bool {
        self.targets
            .as_ref()
            .is_none_or(|t| t.iter().any(|x| x == name))
    }

    /// Whether this run measures builds side by side (`--baseline`, or several
    /// `--instrument`s).
    pub(crate) fn side_by_side(&self) -> bool {
        self.baseline.is_some() || self.instruments.len() > 1
    }

    /// The instrumentation of the single-build figures.
    pub(crate) fn instrument(&self) -> Instrument {
        self.instruments
            .first()
            .copied()
            .unwrap_or(Instrument::DEFAULT)
    }

    pub(crate) fn wants_bug(&self, bug: &models::planted::PlantedBug) -> bool {
        match &self.bugs {
            Some(ids) => ids.iter().any(|x| x == bug.id),
            None => self.wants_target(bug.target),
        }
    }
}

/// Time-to-bug for one planted bug.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimeToBug {
    /// Bug id.
    pub bug: String,
    /// Target fuzzed.
    pub target: String,
    /// Seconds to the crash for each trial that found it; `None` for a trial that did not.
    #[serde(rename = "trials_seconds")]
    pub trials: Vec<Option<f64>>,
    /// Time limit of each trial.
    #[serde(default)]
    pub trial_limit_seconds: u64,
    /// Crashes of the trials that were not the planted bug's finding (each triaged as a finding
    /// of its own; the trial went on); `None`: a run from before they were told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_crashes: Option<u32>,
    /// The build of a side-by-side run (empty: the run's only build).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub build: String,
    /// The run it was measured in: `2026-12-06 at 0123456789` (empty: a run from before
    /// runs were stamped). A `--targets` run replaces only its own rows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub measured: String,
}

impl TimeToBug {
    pub(crate) fn found(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.trials.iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        v
    }
    pub(crate) fn median(&self) -> Option<f64> {
        let v = self.found();
        if v.len() * 2 <= self.trials.len() {
            return None; // fewer than half found: the median is a miss
        }
        let n = self.trials.len();
        // Misses count as +inf, so with more than half found the median is a found value.
        Some(if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v.get(n / 2).copied().unwrap_or(f64::INFINITY)) / 2.0
        })
    }
}
