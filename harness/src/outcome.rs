//! Outcomes of running one input, findings and their signatures, and the capture of model
//! panics (location and a backtrace trimmed to model frames).
//!
//! Findings that the harness itself raises mid-device (a hang, a re-entrancy in detect mode)
//! travel as a typed panic payload (`Signal`) so they leave the device call at once, exactly
//! like a model panic; the runner catches all three in one place.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::sync::Once;

/// What kind of bug a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A panic in a model (an assertion, an index out of bounds, an overflow in a checked build).
    Panic,
    /// An access entered a device that was already handling one (detect mode only).
    Reentrancy,
    /// One guest operation made a model spend its whole work budget: an endless loop.
    Hang,
    /// A device DMA touched a watched range while watch-break was on (a debugging aid).
    Watch,
}

impl FindingKind {
    /// Lower-case name used in signatures and regression headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Panic => "panic",
            Self::Reentrancy => "reentrancy",
            Self::Hang => "hang",
            Self::Watch => "watch",
        }
    }

    /// Parse [`FindingKind::as_str`] output.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "panic" => Some(Self::Panic),
            "reentrancy" => Some(Self::Reentrancy),
            "hang" => Some(Self::Hang),
            "watch" => Some(Self::Watch),
            _ => None,
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bug found by running an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Panic, re-entrancy or hang.
    pub kind: FindingKind,
    /// The device that was executing (for re-entrancy: `from->into`).
    pub device: String,
    /// Source location in the model (`models/src/widget.rs:120`), workspace-relative.
    pub location: String,
    /// Human-readable detail (the panic message, the blocked address).
    pub message: String,
    /// Backtrace frames inside model code, innermost first (empty when not captured).
    pub backtrace: Vec<String>,
    /// Index of the operation (or trace command) during which it happened.
    pub op_index: usize,
    /// For a re-entrancy: the register the access landed in, `region+offset`
    /// (`widget-mmio+0x400`). Triage groups re-entrancies by it as well as by signature.
    pub register: Option<String>,
    /// The planted-bug canaries the run counted up to the finding.
    pub canaries: Canaries,
}

impl Finding {
    /// The bug's identity across inputs: kind, device and code location.
    pub fn signature(&self) -> String {
        format!("{}:{}:{}", self.kind, self.device, self.location)
    }

    /// What triage groups by: the signature, and for a re-entrancy also the register it
    /// landed in (`reentrancy:widget->widget:models/src/widget/dma.rs:120 @widget-mmio+0x400`):
    /// the path device -> register -> model frame.
    pub fn path(&self) -> String {
        match &self.register {
            Some(r) => format!("{} @{r}", self.signature()),
            None => self.signature(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in {} at {}: {} (op {})",
            self.kind, self.device, self.location, self.message, self.op_index
        )
    }
}

/// How often one planted bug's canaries fired in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CanaryCount {
    /// Times the buggy code path ran with the bug active.
    pub reached: u64,
    /// Times the condition the fix guards against actually happened there.
    pub triggered: u64,
}

/// The canaries a run counted, per bug id, in the order they first fired. Empty (and free)
/// when no planted bug is active.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Canaries(Vec<(&'static str, CanaryCount)>);

impl Canaries {
    /// Count one firing of `canary` for bug `id`.
    pub fn count(&mut self, id: &'static str, canary: crate::device::Canary) {
        let c = self.entry(id);
        match canary {
            crate::device::Canary::Reached => c.reached += 1,
            crate::device::Canary::Triggered => c.triggered += 1,
        }
    }

    fn entry(&mut self, id: &'static str) -> &mut CanaryCount {
        let i = match self.0.iter().position(|(b, _)| *b == id) {
            Some(i) => i,
            None => {
                self.0.push((id, CanaryCount::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    /// The counts of bug `id` (zero when it never fired).
    pub fn get(&self, id: &str) -> CanaryCount {
        self.0
            .iter()
            .find(|(b, _)| *b == id)
            .map_or_else(CanaryCount::default, |(_, c)| *c)
    }

    /// Every bug that fired, with its counts.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, CanaryCount)> + '_ {
        self.0.iter().copied()
    }

    /// Whether no canary fired.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Add `other`'s counts to these.
    pub fn add(&mut self, other: &Canaries) {
        for (id, c) in other.iter() {
            let mine = self.entry(id);
            mine.reached += c.reached;
            mine.triggered += c.triggered;
        }
    }
}

/// Result of running one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No finding. `ops` is how many operations ran.
    Ok {
        /// Operations (or trace commands) executed.
        ops: usize,
        /// The planted-bug canaries the run counted.
        canaries: Canaries,
    },
    /// A bug.
    Finding(Box<Finding>),
}

impl Outcome {
    /// The finding, if any.
    pub fn finding(&self) -> Option<&Finding> {
        match self {
            Outcome::Finding(f) => Some(f),
            Outcome::Ok { .. } => None,
        }
    }

    /// A run with no finding after `ops` operations, and no canary.
    pub fn ok(ops: usize) -> Self {
        Outcome::Ok {
            ops,
            canaries: Canaries::default(),
        }
    }

    /// The planted-bug canaries the run counted ([`crate::device::Context::canary`]).
    pub fn canaries(&self) -> &Canaries {
        match self {
            Outcome::Ok { canaries, .. } => canaries,
            Outcome::Finding(f) => &f.canaries,
        }
    }

    /// `"ok"` or the finding's signature: what regression headers compare.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Ok { .. } => "ok".to_string(),
            Outcome::Finding(f) => f.signature(),
        }
    }
}

/// A harness-raised finding carried as a panic payload out of a device call.
#[derive(Debug)]
pub(crate) enum Signal {
    Hang {
        device: String,
        location: &'static Location<'static>,
    },
    Reentrancy {
        from: String,
        into: String,
        addr: u64,
        register: String,
        location: Option<&'static Location<'static>>,
    },
    Watch {
        device: String,
        addr: u64,
        write: bool,
        location: Option<&'static Location<'static>>,
    },
}

/// Make a source path workspace-relative (`.../models/src/x.rs` -> `models/src/x.rs`) so
/// signatures do not depend on where the tree is checked out.
pub fn relative_path(file: &str) -> &str {
    for marker in ["models/src/", "harness/src/", "src/"] {
        if let Some(i) = file.find(marker) {
            let cut = &file[i..];
            if marker != "src/" || i == 0 {
                return cut;
            }
            // Keep the crate directory in front of a bare `src/`.
            let before = &file[..i.saturating_sub(1)];
            let start = before.rfind('/').map_or(0, |j| j + 1);
            return &file[start..];
        }
    }
    file
}

fn location_string(loc: &Location<'_>) -> String {
    format!("{}:{}", relative_path(loc.file()), loc.line())
}

pub(crate) struct PanicRecord {
    message: String,
    location: String,
    backtrace: backtrace::Backtrace,
}

// A panic hook is process-wide by Rust's design and gets no argument but the panic itself, so
// what it records reaches `catch_unwind`'s caller through this thread's slots (set around one
// run, read right after it); the hook is installed once per process. Nothing here changes what
// a run does, only what a finding reports.
thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// Whether findings carry a resolved backtrace (symbolising takes ~0.5 s, so only reports
    /// a person reads ask for it; fuzzing and minimising need the signature only).
    static BACKTRACES: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<PanicRecord>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Install the panic hook that records model panics while the harness runs an input. Outside a
/// run, and in `panic = "abort"` builds (fuzzing), it also defers to the previous hook so the
/// message reaches stderr before the process ends.
pub(crate) fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CAPTURING.with(Cell::get) {
                previous(info);
                return;
            }
            let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else if let Some(sig) = info.payload().downcast_ref::<Signal>() {
                format!("{sig:?}")
            } else {
                "non-string panic payload".to_string()
            };
            let location = info.location().map(location_string).unwrap_or_default();
            let is_signal = info.payload().is::<Signal>();
            let backtrace = if is_signal || !BACKTRACES.with(Cell::get) {
                backtrace::Backtrace::from(Vec::new())
            } else {
                backtrace::Backtrace::new_unresolved()
            };
            LAST_PANIC.with(|p| {
                *p.borrow_mut() = Some(PanicRecord {
                    message,
                    location,
                    backtrace,
                })
            });
            if cfg!(panic = "abort") {
                // The process ends here: say what the finding is (a `Signal` payload would
                // otherwise print as `Box<dyn Any>`).
                if is_signal {
                    LAST_PANIC.with(|p| {
                        if let Some(r) = p.borrow().as_ref() {
                            eprintln!("devfuzz finding: {}", r.message);
                        }
                    });
                }
                previous(info);
            }
        }));
    });
}

/// Ask for (or stop asking for) resolved model backtraces in findings on this thread. Off by
/// default: resolving symbols costs about half a second a finding.
pub fn capture_backtraces(on: bool) {
    BACKTRACES.with(|b| b.set(on));
}

/// Set while the runner executes an input, so the hook records instead of printing.
pub(crate) struct CaptureScope;

impl CaptureScope {
    pub(crate) fn enter() -> Self {
        install_panic_hook();
        LAST_PANIC.with(|p| p.borrow_mut().take());
        CAPTURING.with(|c| c.set(true));
        CaptureScope
    }
}

impl Drop for CaptureScope {
    fn drop(&mut self) {
        CAPTURING.with(|c| c.set(false));
    }
}

/// Turn a caught panic payload into a finding. `device` is the innermost engaged device.
pub(crate) fn finding_from_panic(
    payload: Box<dyn std::any::Any + Send>,
    device: Option<&str>,
    op_index: usize,
) -> Finding {
    let record = LAST_PANIC.with(|p| p.borrow_mut().take());
    match payload.downcast::<Signal>() {
        Ok(sig) => match *sig {
            Signal::Hang { device, location } => Finding {
                kind: FindingKind::Hang,
                device,
                location: location_string(location),
                message: "work budget of one operation exhausted".to_string(),
                backtrace: Vec::new(),
                op_index,
                register: None,
                canaries: Canaries::default(),
            },
            Signal::Reentrancy {
                from,
                into,
                addr,
                register,
                location,
            } => Finding {
                kind: FindingKind::Reentrancy,
                device: format!("{from}->{into}"),
                location: location
                    .map(location_string)
                    .unwrap_or_else(|| "unknown".to_string()),
                message: format!(
                    "access at {addr:#x} ({register}) re-entered {into} while it was engaged"
                ),
                backtrace: Vec::new(),
                op_index,
                register: Some(register),
                canaries: Canaries::default(),
            },
            Signal::Watch {
                device,
                addr,
                write,
                location,
            } => Finding {
                kind: FindingKind::Watch,
                device,
                location: location
                    .map(location_string)
                    .unwrap_or_else(|| "unknown".to_string()),
                message: format!(
                    "DMA {} at {addr:#x} touched a watched range",
                    if write { "write" } else { "read" }
                ),
                backtrace: Vec::new(),
                op_index,
                register: None,
                canaries: Canaries::default(),
            },
        },
        Err(_) => {
            let (message, location, backtrace) = match record {
                Some(mut r) if !r.backtrace.frames().is_empty() => {
                    r.backtrace.resolve();
                    let frames = model_frames(&r.backtrace);
                    (r.message, r.location, frames)
                }
                Some(r) => (r.message, r.location, Vec::new()),
                None => ("panic".to_string(), "unknown".to_string(), Vec::new()),
            };
            Finding {
                kind: FindingKind::Panic,
                device: device.unwrap_or("machine").to_string(),
                location,
                message,
                backtrace,
                op_index,
                register: None,
                canaries: Canaries::default(),
            }
        }
    }
}

/// The model frames of the current call stack (see [`model_frames`]): where a watched DMA
/// came from. Costs a symbolised backtrace, so only watchpoints call it.
pub(crate) fn model_frames_here() -> Vec<String> {
    model_frames(&backtrace::Backtrace::new())
}

/// Frames whose source lies in model code, innermost first, as `function (file:line)`.
fn model_frames(bt: &backtrace::Backtrace) -> Vec<String> {
    let mut out = Vec::new();
    for frame in bt.frames() {
        for sym in frame.symbols() {
            let Some(file) = sym.filename().and_then(|f| f.to_str()) else {
                continue;
            };
            if !file.contains("models/src/") {
                continue;
            }
            let name = sym
                .name()
                .map(|n| format!("{n:#}"))
                .unwrap_or_else(|| "?".to_string());
            out.push(format!(
                "{name} ({}:{})",
                relative_path(file),
                sym.lineno().unwrap_or(0)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_workspace_relative() {
        assert_eq!(
            relative_path("/home/u/devfuzz/models/src/widget.rs"),
            "models/src/widget.rs"
        );
        assert_eq!(
            relative_path("models/src/widget.rs"),
            "models/src/widget.rs"
        );
        assert_eq!(
            relative_path("../models/src/pc/mod.rs"),
            "models/src/pc/mod.rs"
        );
        assert_eq!(relative_path("/x/foo/src/lib.rs"), "foo/src/lib.rs");
    }

    #[test]
    fn kinds_round_trip_through_text() {
        for k in [
            FindingKind::Panic,
            FindingKind::Reentrancy,
            FindingKind::Hang,
        ] {
            assert_eq!(FindingKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(FindingKind::parse("crash"), None);
    }
}
