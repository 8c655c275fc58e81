//! `devfuzz convert`: a binary input to a `.qtest` trace and back, the direction from the
//! input's content.

use crate::error::{CliResult, UsageError};
use crate::session::Session;
use crate::setup::{find_target, setup_runner};
use crate::{input_file, output_file};
use harness::machine::ReentrancyMode;
use std::path::Path;
use std::process::ExitCode;

/// `devfuzz convert TARGET INPUT -o OUTPUT`.
pub fn convert(session: &Session, target: &str, input: &Path, output: &Path) -> CliResult {
    let target = find_target(target)?;
    let loaded = input_file::load_by_content(input)?;
    output_file::refuse_overwriting(input, output)?;
    let to_text = loaded.form == input_file::Form::Binary;
    output_file::check_form_name(output, to_text)?;
    let setup = input_file::Setup::apply(&loaded, session)?;
    let mut runner = setup_runner(session, target, &setup, ReentrancyMode::Guard)?;
    let data = if to_text {
        let (cmds, outcome) = runner.input_to_trace(&loaded.bytes);
        let mut text = format!(
            "# devfuzz trace of {} on target {}\n# outcome: {}\n",
            input.display(),
            target.name,
            outcome.summary()
        );
        text.push_str(&setup.header(&session.machine_opts, None).render());
        for c in cmds {
            text.push_str(&c.to_string());
            text.push('\n');
        }
        text.into_bytes()
    } else {
        let encoded = runner
            .trace_to_input(&loaded.trace)
            .map_err(|e| UsageError(format!("{}: {e}", input.display())))?;
        for (i, cmd) in &encoded.dropped {
            eprintln!(
                "devfuzz: note: command {} ('{cmd}') has no binary form on target {}; left out",
                i + 1,
                target.name
            );
        }
        let header = setup.header(&session.machine_opts, None);
        if !header.planted.is_empty() || !header.machine_opts.is_empty() {
            eprintln!(
                "devfuzz: note: a binary input has no header; replay it with{}{}",
                if header.planted.is_empty() {
                    String::new()
                } else {
                    format!(" --bugs {}", header.planted.join(","))
                },
                if header.machine_opts.is_empty() {
                    String::new()
                } else {
                    format!(" -O {}", header.machine_opts)
                }
            );
        }
        encoded.bytes
    };
    output_file::write(output, &data)?;
    Ok(ExitCode::SUCCESS)
}
