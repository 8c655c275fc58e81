//! A fuzz engine's raw output goes to a log file (`fuzz/logs/<target>.log`); devfuzz shows one
//! status line instead — updated in place on a terminal, a new line every 10 s otherwise —
//! and then its own summary. A 30 s planted-bugs campaign prints hundreds of KiB of byte
//! dumps and backtraces, and every libFuzzer run built with `--sanitizer none` prints three
//! `WARNING: Failed to find function __sanitizer_*` lines (libFuzzer looking for sanitizer
//! hooks that such a build does not have; harmless): all of that stays in the log.

use std::io::{BufRead, BufReader, IsTerminal as _, Write as _};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the engine's output said so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Executions.
    pub execs: Option<u64>,
    /// Coverage counter.
    pub cov: Option<u64>,
    /// Corpus entries.
    pub corpus: Option<u64>,
    /// Executions per second.
    pub exec_s: Option<u64>,
    /// Crashes seen.
    pub crashes: u64,
}

impl Progress {
    /// Take what a libFuzzer output line says (plain or `-fork` status lines, crash notes).
    pub fn libfuzzer_line(&mut self, line: &str) {
        if line.contains("Test unit written to") {
            self.crashes += 1;
        }
        let Some(rest) = line.strip_prefix('#') else {
            return;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let number = |w: &str| -> Option<u64> {
            w.trim_end_matches(':')
                .split('/')
                .next()?
                .trim_end_matches('b')
                .parse()
                .ok()
        };
        if let Some(first) = words.first().and_then(|w| number(w)) {
            self.execs = Some(first);
        }
        for pair in words.windows(2) {
            let value = number(pair[1]);
            match pair[0] {
                "cov:" => self.cov = value.or(self.cov),
                "corp:" | "corp" => self.corpus = value.or(self.corpus),
                "exec/s:" | "exec/s" => self.exec_s = value.or(self.exec_s),
                "oom/timeout/crash:" => {
                    if let Some(c) = pair[1].rsplit('/').next().and_then(|c| c.parse().ok()) {
                        self.crashes = self.crashes.max(c);
                    }
                }
                _ => {}
            }
        }
    }

    /// The status line.
    pub fn render(&self, label: &str, elapsed: Duration) -> String {
        let show = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        format!(
            "{label} {:>4}s  execs {}  cov {}  corpus {}  exec/s {}  crashes {}",
            elapsed.as_secs(),
            show(self.execs),
            show(self.cov),
            show(self.corpus),
            show(self.exec_s),
            self.crashes
        )
    }
}

/// Run `cmd` with stdout and stderr into `log` (created or truncated), showing progress as
/// `parse` reads it from each line; returns the engine's exit status and the last progress.
pub fn run_logged(
    cmd: &mut Command,
    log: &Path,
    label: &str,
    parse: fn(&mut Progress, &str),
) -> Result<(ExitStatus, Progress), String> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut file =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    let out = child
        .stdout
        .take()
        .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
    let err = child
        .stderr
        .take()
        .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
    for stream in [out, err].into_iter().flatten() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let terminal = std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut shown = Instant::now();
    let mut progress = Progress::default();
    let show = |p: &Progress, last: bool| {
        let line = p.render(label, start.elapsed());
        if terminal {
            eprint!("\r{line}\x1b[K{}", if last { "\n" } else { "" });
        } else {
            eprintln!("{line}");
        }
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(line) => {
                let _ = writeln!(file, "{line}");
                parse(&mut progress, &line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let every = if terminal {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(10)
        };
        if shown.elapsed() >= every {
            shown = Instant::now();
            show(&progress, false);
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the engine: {e}"))?;
    show(&progress, true);
    Ok((status, progress))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libfuzzer_status_lines_become_progress() {
        let mut p = Progress::default();
        p.libfuzzer_line("INFO: Seed: 123");
        p.libfuzzer_line(
            "#2048\tpulse  cov: 310 ft: 900 corp: 41/2113b lim: 4096 exec/s: 1024 rss: 60Mb",
        );
        assert_eq!(
            (p.execs, p.cov, p.corpus, p.exec_s),
            (Some(2048), Some(310), Some(41), Some(1024))
        );
        p.libfuzzer_line("#90127: cov: 415 ft: 1700 corp: 120 exec/s 9000 oom/timeout/crash: 0/0/7 time: 12s job: 3 dft_time: 0");
        assert_eq!(
            (p.execs, p.cov, p.corpus, p.exec_s, p.crashes),
            (Some(90127), Some(415), Some(120), Some(9000), 7)
        );
        p.libfuzzer_line("WARNING: Failed to find function __sanitizer_acquire_crash_state.");
        assert_eq!(p.crashes, 7);
        assert!(
            p.render("ps2", Duration::from_secs(3))
                .contains("crashes 7")
        );
    }
}
