//! `devfuzz qtest`: QEMU's qtest protocol on stdin/stdout for a machine, starting cold.

use crate::error::{CliResult, UsageError};
use crate::replay::record_header;
use crate::session::Session;
use crate::setup::RunFlags;
use crate::{differential, qtest_lines, record};
use harness::qtest;
use harness::runner::{Runner, Step};
use std::io::{BufRead, Write};
use std::process::ExitCode;

/// `devfuzz qtest --machine SPEC`: serve stdin until it ends or a command gives a finding (exit 1).
pub fn qtest_server(session: &Session, machine: &str, flags: &RunFlags) -> CliResult {
    // A qtest session is not one fuzz input: no input work budget and all of RAM, as in QEMU.
    let mut runner = differential::session_runner(session, machine, flags.options())?;
    let opts = runner.machine().options();
    harness::outcome::capture_backtraces(true);
    runner.machine().observe(flags.observe.observer());
    let mut rec = record::Recorder::create(&flags.observe, &record_header(session, machine, opts))?;
    let mut line_no = 0usize;
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let result = qtest_loop(&mut runner, &mut rec, &mut line_no, &mut stdin, &mut stdout);
    rec.finish()?;
    result
}

/// Answer each qtest line of `stdin` on `stdout`, recording as `rec` asks.
pub fn qtest_loop(
    runner: &mut Runner,
    rec: &mut record::Recorder,
    line_no: &mut usize,
    stdin: &mut impl BufRead,
    stdout: &mut impl Write,
) -> CliResult {
    while let Some(line) = qtest_lines::next_line(stdin, qtest::MAX_LINE)
        .map_err(|e| UsageError(format!("reading stdin: {e}")))?
    {
        *line_no += 1;
        let line = match line {
            qtest_lines::Line::Text(bytes) => bytes,
            qtest_lines::Line::TooLong(n) => {
                if writeln!(
                    stdout,
                    "ERR line of {n} bytes is longer than {}",
                    qtest::MAX_LINE
                )
                .and_then(|()| stdout.flush())
                .is_err()
                {
                    break;
                }
                continue;
            }
        };
        let line = String::from_utf8_lossy(&line);
        let reply = match qtest::parse_line(&line) {
            Ok(None) => continue,
            Err(e) => e.reply(),
            Ok(Some(cmd)) => match runner.step(&cmd) {
                Step::Reply(r) => {
                    rec.take(runner.machine(), &format!("stdin:{line_no}"));
                    r
                }
                Step::Error(e) => format!("ERR {e}"),
                Step::Finding(f) => {
                    rec.take(runner.machine(), &format!("stdin:{line_no}"));
                    rec.comment(&format!("outcome: {}", f.signature()));
                    let _ = writeln!(stdout, "FAIL finding {}", f.signature());
                    let _ = stdout.flush();
                    eprintln!("devfuzz: finding: {f}");
                    for frame in &f.backtrace {
                        eprintln!("    at {frame}");
                    }
                    return Ok(ExitCode::from(1));
                }
            },
        };
        if writeln!(stdout, "{reply}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break; // the client went away
        }
    }
    Ok(ExitCode::SUCCESS)
}
