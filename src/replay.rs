//! `devfuzz replay`: inputs (binary or `.qtest`) run on a target, each outcome printed; with
//! `--record`/`--watch`, what the run did.

use crate::error::{CliResult, UsageError};
use crate::session::Session;
use crate::setup::{RunFlags, find_target, setup_runner, target_builder};
use crate::{differential, input_file, record};
use harness::machine::{MachineOptions, ReentrancyMode};
use harness::outcome::Outcome;
use harness::runner::Runner;
use harness::target::Target;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One input's outcome: `ok (N ops)`, or the finding with its message and backtrace.
pub fn print_outcome(path: &Path, outcome: &Outcome) {
    match outcome {
        Outcome::Ok { ops, .. } => say!("{}: ok ({ops} ops)", path.display()),
        Outcome::Finding(f) => {
            say!("{}: FINDING {}", path.display(), f.signature());
            say!("  {}", f.message);
            say!("  during op {}", f.op_index);
            for frame in &f.backtrace {
                say!("    at {frame}");
            }
        }
    }
}

/// What makes two inputs' runners the same: machine options, input work budget, re-entrancy
/// mode and planted bugs.
pub type RunnerKey = (String, Option<u64>, ReentrancyMode, String);

/// `devfuzz replay TARGET FILES...`: exit 1 when any input gives a finding.
pub fn replay(session: &Session, target: &str, files: &[PathBuf], flags: &RunFlags) -> CliResult {
    harness::outcome::capture_backtraces(true);
    let target = find_target(target)?;
    let opts = flags.options();
    target_builder(session, target, "", &session.bugs)?; // refuse bad -O options before reading any file
    if flags.observe.active() {
        let mut runner = Runner::with_builder(
            target,
            target_builder(session, target, "", &session.bugs)?,
            opts,
        );
        return replay_observed(session, target, &mut runner, files, flags);
    }
    let mut found = false;
    // Inputs with the same setup share one runner (a corpus replays without building a
    // machine per file); the planted bugs are part of the key, devices read them when built.
    let mut cached: Option<(RunnerKey, Runner)> = None;
    for path in files {
        let input = input_file::load_by_name(path)?;
        let setup = input_file::Setup::apply(&input, session)?;
        // A reproducer found in detect mode replays in detect mode.
        let mode = match (opts.reentrancy, setup.reentrancy) {
            (ReentrancyMode::Guard, Some(recorded)) => recorded,
            (mode, _) => mode,
        };
        let key = (
            setup.machine_opts.clone(),
            setup.work_per_input,
            mode,
            setup.planted.clone(),
        );
        let runner = match &mut cached {
            Some((k, r)) if *k == key => r,
            _ => {
                let r = setup_runner(session, target, &setup, mode)?;
                &mut cached.insert((key, r)).1
            }
        };
        let outcome = match input.form {
            input_file::Form::Text => runner
                .run_trace(&input.trace)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?,
            input_file::Form::Binary => runner.run_input(&input.bytes),
        };
        found |= outcome.finding().is_some();
        print_outcome(path, &outcome);
        if let Outcome::Ok { ops, .. } = outcome
            && input.form == input_file::Form::Text
            && ops < input.trace.len()
        {
            say!(
                "  stopped after {ops} of {} commands: the input's work budget is spent{}",
                input.trace.len(),
                if setup.may_stop {
                    " (its header allows it)"
                } else {
                    " ('# work-per-input: none' in its header lifts it)"
                }
            );
        }
    }
    Ok(if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The record header naming the machine and its options.
pub fn record_header(session: &Session, machine: &str, opts: MachineOptions) -> Vec<String> {
    let extra = &session.machine_opts;
    vec![
        format!(
            "machine: {machine}{}",
            if extra.is_empty() {
                String::new()
            } else {
                format!(",{extra}")
            }
        ),
        format!(
            "options: reentrancy={} work_per_op={} work_per_input={}",
            opts.reentrancy.as_str(),
            opts.work_per_op,
            opts.work_per_input
        ),
    ]
}

/// `replay` with `--record` / `--watch`: one input, its log taken command by command.
pub fn replay_observed(
    session: &Session,
    target: &Target,
    runner: &mut Runner,
    files: &[PathBuf],
    flags: &RunFlags,
) -> CliResult {
    if flags.observe.record.is_some() && files.len() > 1 {
        return Err(UsageError(
            "--record takes one input (a record is one run)".into(),
        ));
    }
    let mut header = record_header(session, target.machine.name, runner.machine().options());
    header.push(format!("target: {}", target.name));
    let mut found = false;
    for path in files {
        let mut rec = record::Recorder::create(&flags.observe, &{
            let mut h = header.clone();
            h.push(format!("input: {}", path.display()));
            h
        })?;
        runner.machine().observe(flags.observe.observer());
        let name = path.display().to_string();
        let outcome = if input_file::is_text_name(path) {
            let program = differential::load_program(path)?;
            let lines: Vec<usize> = program.lines.iter().map(|l| l.number).collect();
            runner
                .run_trace_each(&program.commands(), |i, m| {
                    rec.take(m, &format!("{name}:{}", lines[i]))
                })
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
        } else {
            let bytes = input_file::read_bytes(path)?;
            runner.run_input_each(&bytes, |i, m| rec.take(m, &format!("op {i}")))
        };
        rec.take(runner.machine(), "the end of the input");
        rec.comment(&format!("outcome: {}", outcome.summary()));
        rec.finish()?;
        runner.machine().observe(None);
        found |= outcome.finding().is_some();
        print_outcome(path, &outcome);
    }
    Ok(if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
