//! What the commands share: the target named on the command line, its machine with the options of `--machine NAME,OPTS` and `-O`, a runner
//! set up as an input's header asks, the flags of every run (`RunFlags`) and the workspace
//! root.

use crate::error::UsageError;
use crate::session::Session;
use crate::{input_file, record, trace};
use clap::ValueEnum;
use harness::machine::{MachineOptions, ReentrancyMode};
use harness::runner::Runner;
use harness::target::{MachineProfile, Target};
use std::path::{Path, PathBuf};

/// `--reentrancy`: what a run does with DMA into an engaged device.
#[derive(Clone, Copy, ValueEnum)]
pub enum Reentrancy {
    /// Block accesses into an engaged device (QEMU >= 8.1 behaviour).
    Guard,
    /// Report them as findings.
    Detect,
}

impl From<Reentrancy> for ReentrancyMode {
    fn from(r: Reentrancy) -> Self {
        match r {
            Reentrancy::Guard => ReentrancyMode::Guard,
            Reentrancy::Detect => ReentrancyMode::Detect,
        }
    }
}

/// The flags of every command that runs inputs (`replay`, `qtest`, `check`).
#[derive(clap::Args)]
pub struct RunFlags {
    /// Print trace events whose names match these globs (comma-separated), e.g. 'ps2_*'.
    #[arg(long, value_name = "GLOB")]
    pub trace: Option<trace::Filter>,
    /// What to do with DMA re-entrancy.
    #[arg(long, value_enum, default_value = "guard")]
    pub reentrancy: Reentrancy,
    #[command(flatten)]
    pub observe: record::ObserveFlags,
}

impl RunFlags {
    /// The machine options the flags ask for; turns tracing on when asked.
    pub fn options(&self) -> MachineOptions {
        if let Some(filter) = &self.trace {
            trace::enable(filter.clone());
        }
        MachineOptions {
            reentrancy: self.reentrancy.into(),
            ..MachineOptions::default()
        }
    }
}

/// The builder of `profile` with `extra` options (from `--machine NAME,OPTS`), `-O` and the
/// planted bugs `bugs` (comma-separated ids: its `bugs` option).
pub fn machine_builder(
    session: &Session,
    profile: &MachineProfile,
    extra: &str,
    bugs: &str,
) -> Result<harness::target::Builder, UsageError> {
    let opts = [extra, &session.machine_opts]
        .into_iter()
        .filter(|o| !o.trim().is_empty())
        .collect::<Vec<_>>()
        .join(",");
    profile
        .builder(&harness::target::with_bugs(&opts, bugs))
        .map_err(|e| UsageError(e.to_string()))
}

/// [`machine_builder`] for a target's machine, refusing options that take away a device the
/// target fuzzes (`-O nic=igb` on `e1000e`).
pub fn target_builder(
    session: &Session,
    target: &Target,
    extra: &str,
    bugs: &str,
) -> Result<harness::target::Builder, UsageError> {
    let build = machine_builder(session, target.machine, extra, bugs)?;
    let missing = target.missing_devices(&build);
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "target {} fuzzes device '{}', which machine {} does not have with options '{}'",
            target.name,
            missing.join("', '"),
            target.machine.name,
            [extra, session.machine_opts.as_str()]
                .into_iter()
                .filter(|o| !o.trim().is_empty())
                .collect::<Vec<_>>()
                .join(",")
        )));
    }
    Ok(build)
}

/// The fuzz target `name`, or an error listing the targets.
pub fn find_target(name: &str) -> Result<&'static Target, UsageError> {
    models::target(name).ok_or_else(|| {
        let names: Vec<&str> = models::TARGETS.iter().map(|t| t.name).collect();
        UsageError(format!(
            "unknown target '{name}' (targets: {})",
            names.join(", ")
        ))
    })
}

/// A runner for `target` set up as `setup` says (its machine options, work budget), in
/// `mode`.
pub fn setup_runner(
    session: &Session,
    target: &Target,
    setup: &input_file::Setup,
    mode: ReentrancyMode,
) -> Result<Runner, UsageError> {
    let defaults = MachineOptions::default();
    let opts = MachineOptions {
        reentrancy: mode,
        work_per_input: setup.work_per_input.unwrap_or(defaults.work_per_input),
        ..defaults
    };
    Ok(Runner::with_builder(
        target,
        target_builder(session, target, &setup.machine_opts, &setup.planted)?,
        opts,
    ))
}

/// The workspace root: the nearest ancestor of the current directory holding `regressions/`
/// and `harness/`.
pub fn workspace_root() -> Result<PathBuf, UsageError> {
    let cwd = std::env::current_dir().map_err(|e| UsageError(format!("current directory: {e}")))?;
    cwd.ancestors()
        .find(|d| d.join("regressions").is_dir() && d.join("harness").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| UsageError("run this inside the devfuzz tree (no regressions/ folder above the current directory)".into()))
}
