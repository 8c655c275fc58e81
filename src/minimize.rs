//! `devfuzz minimize` and `devfuzz regress`: a crashing input to a 1-minimal trace with the
//! same signature, and that trace stored as `regressions/<target>/<name>.qtest`.

use crate::error::{CliResult, UsageError};
use crate::session::Session;
use crate::setup::{Reentrancy, find_target, setup_runner, workspace_root};
use crate::{input_file, output_file};
use harness::machine::ReentrancyMode;
use harness::outcome::Outcome;
use harness::qtest;
use harness::target::Target;
use std::path::Path;
use std::process::ExitCode;

/// The input as a cold-machine trace (text as written, binary through `input_to_trace`) and
/// the setup it records.
pub fn load_trace(
    session: &Session,
    target: &Target,
    input: &Path,
) -> Result<(Vec<qtest::Cmd>, input_file::Setup, bool), UsageError> {
    let loaded = input_file::load_by_name(input)?;
    let setup = input_file::Setup::apply(&loaded, session)?;
    let trace = match loaded.form {
        input_file::Form::Text => loaded.trace,
        input_file::Form::Binary => {
            let mut runner = setup_runner(session, target, &setup, ReentrancyMode::Guard)?;
            runner.input_to_trace(&loaded.bytes).0
        }
    };
    Ok((trace, setup, loaded.header_file.is_some()))
}

/// Minimise in `mode`, or in the mode the input records, or in guard then detect mode.
pub fn minimize_in(
    session: &Session,
    target: &Target,
    trace: &[qtest::Cmd],
    setup: &input_file::Setup,
    mode: Option<ReentrancyMode>,
    max_runs: usize,
    watches: &[harness::observe::Watch],
) -> Result<(harness::minimize::Minimized, ReentrancyMode), UsageError> {
    let modes = match mode.or(setup.reentrancy) {
        Some(m) => vec![m],
        None => vec![ReentrancyMode::Guard, ReentrancyMode::Detect],
    };
    for mode in modes {
        let mut runner = setup_runner(session, target, setup, mode)?;
        if !watches.is_empty() {
            let mut observer = harness::observe::Observer::new(watches.to_vec(), true);
            observer.watch_only = true;
            runner.machine().observe(Some(observer));
        }
        let start = std::time::Instant::now();
        let result = harness::minimize::minimize_bounded(&mut runner, trace, max_runs, |p| {
            eprint!(
                "\rminimize [{}]: {} commands, {} runs   ",
                p.pass, p.commands, p.runs
            );
        });
        match result {
            Ok(m) => {
                eprintln!(
                    "\rminimized {} -> {} commands in {} runs ({:.2} s){}, signature {}",
                    m.original_len,
                    m.trace.len(),
                    m.runs,
                    start.elapsed().as_secs_f64(),
                    if m.budget_exhausted {
                        " — run budget spent, not 1-minimal"
                    } else {
                        ""
                    },
                    m.signature
                );
                return Ok((m, mode));
            }
            Err(harness::minimize::MinimizeError::NoFinding) => continue,
            Err(e) => return Err(UsageError(e.to_string())),
        }
    }
    Err(UsageError(format!(
        "the input gives no finding on target {}{} (nothing to minimise){}",
        target.name,
        if setup.planted.is_empty() {
            String::new()
        } else {
            format!(" with planted bugs {}", setup.planted)
        },
        if setup.planted.is_empty()
            && session.machine_opts.is_empty()
            && setup.machine_opts.is_empty()
        {
            "; a crash from a campaign with planted bugs or machine options needs them again (cargo run --release --features planted-bugs -- --bugs IDS, -O OPTS), or use the .qtest reproducer devfuzz fuzz writes next to it, which records them"
        } else {
            ""
        }
    )))
}

/// `devfuzz minimize TARGET INPUT -o OUTPUT`.
pub fn minimize_cmd(
    session: &Session,
    target: &str,
    input: &Path,
    output: &Path,
    mode: Option<Reentrancy>,
    max_runs: usize,
    watches: &[harness::observe::Watch],
) -> CliResult {
    let target = find_target(target)?;
    output_file::refuse_overwriting(input, output)?;
    output_file::check_form_name(output, true)?;
    let (trace, setup, _) = load_trace(session, target, input)?;
    let mode = mode.map(ReentrancyMode::from);
    let (m, mode) = minimize_in(session, target, &trace, &setup, mode, max_runs, watches)?;
    let mut text = format!(
        "# minimized from {} ({} -> {} commands) on target {}, reentrancy {}\n# signature: {}\n",
        input.display(),
        m.original_len,
        m.trace.len(),
        target.name,
        mode.as_str(),
        m.signature
    );
    text.push_str(&setup.header(&session.machine_opts, Some(mode)).render());
    for c in &m.trace {
        text.push_str(&format!("{c}\n"));
    }
    output_file::write(output, text.as_bytes())?;
    say!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}

/// `kind:device`: the part of a signature that survives edits to the model.
pub fn signature_prefix(signature: &str) -> String {
    signature
        .splitn(3, ':')
        .take(2)
        .collect::<Vec<_>>()
        .join(":")
}

/// `devfuzz regress TARGET INPUT --name NAME`.
pub fn regress(
    session: &Session,
    target: &str,
    input: &Path,
    name: &str,
    bug: Option<String>,
    found_by: Option<String>,
    force: bool,
) -> CliResult {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(UsageError(format!(
            "--name '{name}': use letters, digits, '-' and '_' only"
        )));
    }
    let target = find_target(target)?;
    let root = workspace_root()?;
    let path = root
        .join("regressions")
        .join(target.name)
        .join(format!("{name}.qtest"));
    if path.exists() && !force {
        return Err(UsageError(format!(
            "{} exists (use --force to replace it)",
            path.display()
        )));
    }
    let (trace, setup, _) = load_trace(session, target, input)?;
    let (m, mode) = minimize_in(session, target, &trace, &setup, None, usize::MAX, &[])?;
    let planted: Vec<String> = models::planted::Selection::parse(&setup.planted)
        .map_err(|e| UsageError(e.to_string()))?
        .ids()
        .into_iter()
        .map(String::from)
        .collect();
    let found = signature_prefix(&m.signature);
    let regression = harness::regression::Regression {
        bug: bug.unwrap_or_else(|| format!("{found} found by fuzzing")),
        signature: m.signature.clone(),
        expect: "ok".to_string(),
        expect_without_guard: Some(if mode == ReentrancyMode::Detect {
            found.clone()
        } else {
            "ok".to_string()
        }),
        expect_planted: (!planted.is_empty()).then(|| found.clone()),
        planted: planted.clone(),
        found_by: found_by
            .unwrap_or_else(|| format!("devfuzz fuzz {} ({})", target.name, input.display())),
        header: harness::regression::Header {
            reentrancy: None,
            may_stop: stops_early(session, target, &setup, &m.trace)?,
            ..setup.header(&session.machine_opts, None)
        },
        trace: m.trace,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| UsageError(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(&path, regression.render())
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    say!(
        "wrote {}",
        path.strip_prefix(&root).unwrap_or(&path).display()
    );
    if mode == ReentrancyMode::Guard && planted.is_empty() {
        say!(
            "note: the bug reproduces under the guard in this build; `cargo test` fails on this file until it is fixed"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `trace` ends early under the guard because the input work budget runs out (a
/// regression must then say it may).
pub fn stops_early(
    session: &Session,
    target: &Target,
    setup: &input_file::Setup,
    trace: &[qtest::Cmd],
) -> Result<bool, UsageError> {
    let mut runner = setup_runner(session, target, setup, ReentrancyMode::Guard)?;
    let outcome = runner
        .run_trace(trace)
        .map_err(|e| UsageError(e.to_string()))?;
    Ok(matches!(outcome, Outcome::Ok { ops, .. } if ops < trace.len()))
}
