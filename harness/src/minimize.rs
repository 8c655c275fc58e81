//! Minimising a crashing trace while keeping its *signature* (not just "some crash").
//!
//! Three passes, all deterministic: cut everything after the command that fails; delta
//! debugging (ddmin) over commands; shrinking of values, bulk lengths, bulk data and clock steps;
//! then single-command removal until no command can go, so the result is 1-minimal.

use crate::outcome::Outcome;
use crate::qtest::Cmd;
use crate::runner::{RunError, Runner};

/// Why a trace cannot be minimised.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MinimizeError {
    /// The trace gives no finding to keep.
    #[error("the input gives no finding")]
    NoFinding,
    /// The trace itself is bad.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// Progress of a minimisation, for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Which pass: "cut", "ddmin", "shrink", "1-minimal".
    pub pass: &'static str,
    /// Commands left.
    pub commands: usize,
    /// Trace replays so far.
    pub runs: usize,
}

/// A minimised trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimized {
    /// The smallest trace found.
    pub trace: Vec<Cmd>,
    /// The signature it keeps.
    pub signature: String,
    /// Commands before minimising.
    pub original_len: usize,
    /// Trace replays it took.
    pub runs: usize,
    /// The run budget ran out: the trace still gives the signature but may not be 1-minimal.
    pub budget_exhausted: bool,
}

struct Oracle<'r, F> {
    runner: &'r mut Runner,
    signature: String,
    runs: usize,
    max_runs: usize,
    /// A candidate was refused for lack of budget.
    out_of_budget: bool,
    progress: F,
}

impl<F: FnMut(Progress)> Oracle<'_, F> {
    fn keeps(&mut self, cmds: &[Cmd]) -> bool {
        if self.runs >= self.max_runs {
            self.out_of_budget = true;
            return false; // every further candidate is refused
        }
        self.runs += 1;
        matches!(self.runner.run_trace(cmds), Ok(Outcome::Finding(f)) if f.signature() == self.signature)
    }

    fn report(&mut self, pass: &'static str, commands: usize) {
        (self.progress)(Progress {
            pass,
            commands,
            runs: self.runs,
        });
    }
}

/// Minimise `trace` on `runner`'s machine (run cold, as text replays run), keeping the finding's
/// signature. `progress` is called after each improvement.
pub fn minimize(
    runner: &mut Runner,
    trace: &[Cmd],
    progress: impl FnMut(Progress),
) -> Result<Minimized, MinimizeError> {
    minimize_bounded(runner, trace, usize::MAX, progress)
}

/// [`minimize`] with at most `max_runs` trace replays: a slow crash (a long DMA, a hang that
/// spends its whole work budget) cannot stall triage. When the budget runs out the passes
/// stop and the best trace so far is returned, with `budget_exhausted` set.
pub fn minimize_bounded(
    runner: &mut Runner,
    trace: &[Cmd],
    max_runs: usize,
    progress: impl FnMut(Progress),
) -> Result<Minimized, MinimizeError> {
    let first = runner.run_trace(trace)?;
    let Outcome::Finding(f) = first else {
        return Err(MinimizeError::NoFinding);
    };
    let mut o = Oracle {
        runner,
        signature: f.signature(),
        runs: 1,
        max_runs: max_runs.max(1),
        out_of_budget: false,
        progress,
    };
    // The failing command is the last one that matters.
    let mut cmds: Vec<Cmd> = trace[..(f.op_index + 1).min(trace.len())].to_vec();
    if !o.keeps(&cmds) {
        cmds = trace.to_vec();
    }
    o.report("cut", cmds.len());
    ddmin(&mut o, &mut cmds);
    shrink_values(&mut o, &mut cmds);
    one_minimal(&mut o, &mut cmds);
    Ok(Minimized {
        signature: o.signature.clone(),
        original_len: trace.len(),
        runs: o.runs,
        budget_exhausted: o.out_of_budget,
        trace: cmds,
    })
}

fn ddmin<F: FnMut(Progress)>(o: &mut Oracle<'_, F>, cmds: &mut Vec<Cmd>) {
    let mut n = 2usize;
    while cmds.len() >= 2 {
        let chunk = cmds.len().div_ceil(n);
        let kept = (0..n)
            .map(|i| i * chunk)
            .take_while(|&start| start < cmds.len())
            .find_map(|start| {
                let end = (start + chunk).min(cmds.len());
                let candidate: Vec<Cmd> =
                    cmds[..start].iter().chain(&cmds[end..]).cloned().collect();
                o.keeps(&candidate).then_some(candidate)
            });
        match kept {
            Some(candidate) => {
                *cmds = candidate;
                n = (n - 1).max(2);
                o.report("ddmin", cmds.len());
            }
            None if n >= cmds.len() => break,
            None => n = (n * 2).min(cmds.len()),
        }
    }
}

/// Smaller versions of a command to try, simplest first.
fn simpler(cmd: &Cmd) -> Vec<Cmd> {
    let mut out = Vec::new();
    match cmd {
        Cmd::Write { size, addr, value } if *value != 0 => {
            for v in shrink_u64(*value) {
                out.push(Cmd::Write {
                    size: *size,
                    addr: *addr,
                    value: v,
                });
            }
        }
        Cmd::Out { size, port, value } if *value != 0 => {
            for v in shrink_u64(u64::from(*value)) {
                out.push(Cmd::Out {
                    size: *size,
                    port: *port,
                    value: v as u32,
                });
            }
        }
        Cmd::WriteBulk { addr, data, base64 } => {
            let mut len = data.len() / 2;
            while len > 0 {
                out.push(Cmd::WriteBulk {
                    addr: *addr,
                    data: data[..len].to_vec(),
                    base64: *base64,
                });
                len /= 2;
            }
            if data.iter().any(|&b| b != 0) {
                out.push(Cmd::WriteBulk {
                    addr: *addr,
                    data: vec![0; data.len()],
                    base64: *base64,
                });
            }
        }
        Cmd::ClockStep(Some(ns)) if *ns > 1 => {
            out.push(Cmd::ClockStep(None));
            out.push(Cmd::ClockStep(Some(ns / 2)));
        }
        Cmd::Event { device, payload } if payload.len() > 1 => {
            out.push(Cmd::Event {
                device: device.clone(),
                payload: payload[..payload.len() / 2].to_vec(),
            });
        }
        _ => {}
    }
    out
}

fn shrink_u64(v: u64) -> Vec<u64> {
    let mut c = vec![0, 1];
    let mut x = v >> 1;
    while x > 1 {
        c.push(x);
        x >>= 1;
    }
    c.retain(|&x| x < v);
    c
}

fn shrink_values<F: FnMut(Progress)>(o: &mut Oracle<'_, F>, cmds: &mut [Cmd]) {
    for i in 0..cmds.len() {
        // Greedy: take the first simpler form that keeps the signature, then try again from it.
        loop {
            let mut improved = false;
            for candidate in simpler(&cmds[i]) {
                let saved = std::mem::replace(&mut cmds[i], candidate);
                if o.keeps(cmds) {
                    improved = true;
                    break;
                }
                cmds[i] = saved;
            }
            if !improved {
                break;
            }
        }
        // Bulk data: zero what is not needed, byte by byte, for short writes.
        if let Cmd::WriteBulk { data, .. } = &cmds[i]
            && data.len() <= 64
        {
            for b in 0..data.len() {
                let Cmd::WriteBulk { data, .. } = &mut cmds[i] else {
                    break;
                };
                if data[b] == 0 {
                    continue;
                }
                let old = std::mem::replace(&mut data[b], 0);
                if !o.keeps(cmds) {
                    if let Cmd::WriteBulk { data, .. } = &mut cmds[i] {
                        data[b] = old;
                    }
                }
            }
        }
    }
    o.report("shrink", cmds.len());
}

fn one_minimal<F: FnMut(Progress)>(o: &mut Oracle<'_, F>, cmds: &mut Vec<Cmd>) {
    loop {
        let mut removed = false;
        let mut i = cmds.len();
        while i > 0 {
            i -= 1;
            let candidate: Vec<Cmd> = cmds[..i].iter().chain(&cmds[i + 1..]).cloned().collect();
            if o.keeps(&candidate) {
                *cmds = candidate;
                removed = true;
                o.report("1-minimal", cmds.len());
            }
        }
        if !removed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shrink_u64;

    #[test]
    fn value_candidates_are_smaller_and_simplest_first() {
        assert_eq!(shrink_u64(0x10), vec![0, 1, 8, 4, 2]);
        assert_eq!(shrink_u64(1), vec![0]);
        assert!(shrink_u64(u64::MAX).iter().all(|&v| v < u64::MAX));
    }
}
