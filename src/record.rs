//! `--record FILE`, `--watch ADDR[+LEN][:r|w|rw]` and `--watch-break`: what a run did, written
//! as a check program, and the DMA that touched a buffer.

use crate::error::UsageError;
use harness::machine::Machine;
use harness::observe::{self, Observer, Watch};
use std::io::Write;
use std::path::PathBuf;

/// The observation flags of `replay`, `qtest` and `check`.
#[derive(clap::Args, Default)]
pub struct ObserveFlags {
    /// Write every guest access (with the value answered), clock step and event to FILE as a
    /// check program, with DMA, lazy fills, IRQ changes and timer expiries as comments.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Show every device DMA and lazy fill that touches this guest-physical range
    /// (repeatable): device, direction, bytes, the command and the model's source line.
    #[arg(long = "watch", value_name = "ADDR[+LEN][:r|w|rw]")]
    pub watch: Vec<Watch>,
    /// Make the first watch hit a finding (kind `watch`), so `minimize` can shrink a program
    /// down to the DMA that touches the buffer.
    #[arg(long, requires = "watch")]
    pub watch_break: bool,
}

impl ObserveFlags {
    /// Whether anything is to be observed.
    pub fn active(&self) -> bool {
        self.record.is_some() || !self.watch.is_empty()
    }

    /// The observer to install on the machine.
    pub fn observer(&self) -> Option<Observer> {
        self.active()
            .then(|| Observer::new(self.watch.clone(), self.watch_break))
    }
}

/// Writes a record as the run goes, and prints watch hits.
pub struct Recorder {
    out: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
    watches: Vec<Watch>,
    /// Watch hits printed so far.
    pub hits: usize,
}

impl Recorder {
    /// Start a record (if `--record` was given) with `header` comment lines.
    pub fn create(flags: &ObserveFlags, header: &[String]) -> Result<Self, UsageError> {
        let out = match &flags.record {
            Some(path) => {
                let f = std::fs::File::create(path).map_err(|e| {
                    UsageError(format!("cannot write record {}: {e}", path.display()))
                })?;
                let mut w = std::io::BufWriter::new(f);
                let mut text = String::from("# devfuzz record v1\n");
                for h in header {
                    text.push_str(&format!("# {h}\n"));
                }
                w.write_all(text.as_bytes())
                    .map_err(|e| UsageError(format!("writing {}: {e}", path.display())))?;
                Some((path.clone(), w))
            }
            None => None,
        };
        Ok(Self {
            out,
            watches: flags.watch.clone(),
            hits: 0,
        })
    }

    /// Take the machine's log: append it to the record, print its watch hits naming `at`
    /// (a file line or an op index).
    pub fn take(&mut self, machine: &mut Machine, at: &str) {
        let Some(o) = machine.observer_mut() else {
            return;
        };
        let entries = o.take();
        for (device, write, hit) in observe::watch_hits(&entries) {
            self.hits += 1;
            let w = self.watches.get(hit.watch).copied();
            let range = w.map_or(String::new(), |w| format!("{:#x}+{:#x}", w.start, w.len));
            say!(
                "watch {range}: {device} {} {:#x}+{:#x} at {at}: {}",
                if write { "wrote" } else { "read" },
                hit.addr,
                hit.data.len(),
                harness::qtest::hex(&hit.data)
            );
            for f in &hit.frames {
                say!("    at {f}");
            }
        }
        if let Some((_, w)) = &mut self.out {
            let _ = w.write_all(observe::render(&entries).as_bytes());
        }
    }

    /// Append a comment line.
    pub fn comment(&mut self, text: &str) {
        if let Some((_, w)) = &mut self.out {
            let _ = writeln!(w, "# {text}");
        }
    }

    /// Flush the record; say where it is.
    pub fn finish(mut self) -> Result<(), UsageError> {
        if let Some((path, w)) = &mut self.out {
            w.flush()
                .map_err(|e| UsageError(format!("writing {}: {e}", path.display())))?;
            eprintln!("devfuzz: record written to {}", path.display());
        }
        Ok(())
    }
}

/// The record of `trace` run cold on `runner` (as text, without a header): what `fuzz
/// --record` writes beside each reproducer.
pub fn record_trace(runner: &mut harness::runner::Runner, trace: &[harness::qtest::Cmd]) -> String {
    runner.machine().observe(Some(Observer::default()));
    let mut text = String::new();
    let outcome = runner.run_trace_each(trace, |_, m| {
        if let Some(o) = m.observer_mut() {
            text.push_str(&observe::render(&o.take()));
        }
    });
    if let Some(o) = runner.machine().observer_mut() {
        text.push_str(&observe::render(&o.take()));
    }
    runner.machine().observe(None);
    match outcome {
        Ok(o) => text.push_str(&format!("# outcome: {}\n", o.summary())),
        Err(e) => text.push_str(&format!("# stopped: {e}\n")),
    }
    text
}
