//! Regression files: `regressions/<target>/<name>.qtest`, a header of `# key: value` lines and a
//! qtest trace. One test walks the folder and replays each file in every mode its header names.
//!
//! ```text
//! # bug: widget FIFO index not bounded (planted widget-fifo-overflow)
//! # signature: panic:widget:models/src/widget/fifo.rs:57
//! # expect: ok
//! # expect-without-guard: ok
//! # planted: widget-fifo-overflow
//! # expect-planted: panic:widget
//! # found-by: devfuzz fuzz widget (libfuzzer), fuzz/artifacts/widget/crash-1234
//! outb 0x60 0xee
//! ...
//! ```
//!
//! `expect` is the outcome under the guard in the default build; `expect-without-guard` the
//! outcome in detect mode; `expect-planted` the outcome with the `planted` bugs selected (checked
//! only in a `planted-bugs` build). An expectation is `ok` or a prefix of the finding signature
//! (`kind:device[:location]`), so a line-number drift in the model need not break it.
//!
//! What a trace needs to reproduce is a [`Header`], which any `.qtest` file (a regression, a
//! crash reproducer written by `devfuzz fuzz`) may carry and `devfuzz replay`, `minimize` and
//! `regress` read: `planted` (the planted bugs), `machine-opts` (the machine profile's
//! options), `work-per-input` (the per-input work budget to replay under: a number, or `none`
//! for a trace written by hand that runs like a qtest session) and `may-stop: yes` (the trace
//! may end before its last command when the input budget runs out; without it a regression
//! that stops early fails), `reentrancy` (`guard` or `detect`: the mode it was found in).

use crate::outcome::Outcome;
use crate::qtest::{Cmd, TraceError, parse_trace};
use std::fmt::Write as _;

/// What a `.qtest` file's header says it needs to reproduce (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Planted bug ids (`# planted:`).
    pub planted: Vec<String>,
    /// Options of the target's machine profile (`# machine-opts:`), empty for the defaults.
    pub machine_opts: String,
    /// Per-input work budget to replay under (`# work-per-input:`); `None` for the default,
    /// `Some(u64::MAX)` for `none`.
    pub work_per_input: Option<u64>,
    /// The trace may end before its last command (`# may-stop: yes`).
    pub may_stop: bool,
    /// The re-entrancy mode it was found in (`# reentrancy: guard|detect`), if recorded.
    pub reentrancy: Option<crate::machine::ReentrancyMode>,
}

/// A header line with a value it cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("header '# {key}: {value}': {reason}")]
pub struct HeaderError {
    /// The key.
    pub key: String,
    /// The value given.
    pub value: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl Header {
    /// Read the header keys of a `.qtest` file's `#` lines (other lines and keys are ignored).
    pub fn parse(text: &str) -> Result<Self, HeaderError> {
        let mut h = Header::default();
        for (key, value) in header_lines(text) {
            let bad = |reason| HeaderError {
                key: key.to_string(),
                value: value.to_string(),
                reason,
            };
            match key {
                "planted" => {
                    h.planted = value
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }
                "machine-opts" => h.machine_opts = value.to_string(),
                "work-per-input" => {
                    h.work_per_input = Some(if value == "none" {
                        u64::MAX
                    } else {
                        crate::qtest::parse_number(value)
                            .filter(|&n| n > 0)
                            .ok_or_else(|| bad("a positive number or 'none'"))?
                    })
                }
                "reentrancy" => {
                    h.reentrancy = Some(match value {
                        "guard" => crate::machine::ReentrancyMode::Guard,
                        "detect" => crate::machine::ReentrancyMode::Detect,
                        _ => return Err(bad("'guard' or 'detect'")),
                    })
                }
                "may-stop" => {
                    h.may_stop = match value {
                        "yes" => true,
                        "no" => false,
                        _ => return Err(bad("'yes' or 'no'")),
                    }
                }
                _ => {}
            }
        }
        Ok(h)
    }

    /// The header's lines, each `# key: value\n`; keys at their defaults are left out.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if !self.planted.is_empty() {
            let _ = writeln!(s, "# planted: {}", self.planted.join(","));
        }
        if !self.machine_opts.is_empty() {
            let _ = writeln!(s, "# machine-opts: {}", self.machine_opts);
        }
        match self.work_per_input {
            Some(u64::MAX) => s.push_str("# work-per-input: none\n"),
            Some(n) => {
                let _ = writeln!(s, "# work-per-input: {n}");
            }
            None => {}
        }
        if self.may_stop {
            s.push_str("# may-stop: yes\n");
        }
        if let Some(mode) = self.reentrancy {
            let _ = writeln!(s, "# reentrancy: {}", mode.as_str());
        }
        s
    }
}

/// The `# key: value` lines of a text, trimmed.
fn header_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let rest = line.trim().strip_prefix('#')?;
        let (key, value) = rest.split_once(':')?;
        Some((key.trim(), value.trim()))
    })
}

/// A parsed regression file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Regression {
    /// What the bug was.
    pub bug: String,
    /// Signature of the finding when it was found.
    pub signature: String,
    /// Expected outcome under the guard (default build).
    pub expect: String,
    /// Expected outcome in detect mode, if checked.
    pub expect_without_guard: Option<String>,
    /// Planted bug ids the file was found with.
    pub planted: Vec<String>,
    /// Expected outcome with those bugs selected.
    pub expect_planted: Option<String>,
    /// How it was found.
    pub found_by: String,
    /// Machine options, work budget and whether it may stop early (its `planted` field is
    /// [`Regression::planted`]'s copy).
    pub header: Header,
    /// The trace.
    pub trace: Vec<Cmd>,
}

/// A regression file that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegressionError {
    /// No `# expect:` line.
    #[error("missing '# expect:' header")]
    NoExpect,
    /// The trace has a bad line.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A header line has a bad value.
    #[error(transparent)]
    Header(#[from] HeaderError),
}

/// Whether `outcome` matches an expectation (`ok` or a signature prefix).
pub fn matches(expectation: &str, outcome: &Outcome) -> bool {
    let expectation = expectation.trim();
    match outcome {
        Outcome::Ok { .. } => expectation == "ok",
        Outcome::Finding(f) => {
            expectation != "ok" && !expectation.is_empty() && f.signature().starts_with(expectation)
        }
    }
}

impl Regression {
    /// Parse a file's text.
    pub fn parse(text: &str) -> Result<Self, RegressionError> {
        let mut r = Regression {
            header: Header::parse(text)?,
            ..Regression::default()
        };
        r.planted = r.header.planted.clone();
        let mut expect = None;
        for (key, value) in header_lines(text) {
            let value = value.to_string();
            match key {
                "bug" => r.bug = value,
                "signature" => r.signature = value,
                "expect" => expect = Some(value),
                "expect-without-guard" => r.expect_without_guard = Some(value),
                "expect-planted" => r.expect_planted = Some(value),
                "found-by" => r.found_by = value,
                _ => {}
            }
        }
        r.expect = expect.ok_or(RegressionError::NoExpect)?;
        r.trace = parse_trace(text)?;
        Ok(r)
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# bug: {}", self.bug);
        let _ = writeln!(s, "# signature: {}", self.signature);
        let _ = writeln!(s, "# expect: {}", self.expect);
        if let Some(e) = &self.expect_without_guard {
            let _ = writeln!(s, "# expect-without-guard: {e}");
        }
        let header = Header {
            planted: self.planted.clone(),
            ..self.header.clone()
        };
        s.push_str(&header.render());
        if let Some(e) = &self.expect_planted {
            let _ = writeln!(s, "# expect-planted: {e}");
        }
        let _ = writeln!(s, "# found-by: {}", self.found_by);
        for c in &self.trace {
            let _ = writeln!(s, "{c}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Finding, FindingKind};

    #[test]
    fn files_round_trip_and_need_an_expectation() {
        let r = Regression {
            bug: "queue index".into(),
            signature: "panic:widget:models/src/widget/fifo.rs:57".into(),
            expect: "ok".into(),
            expect_without_guard: Some("ok".into()),
            planted: vec!["widget-fifo-overflow".into()],
            expect_planted: Some("panic:widget".into()),
            found_by: "devfuzz fuzz widget".into(),
            header: Header {
                planted: vec!["widget-fifo-overflow".into()],
                machine_opts: "hda=none".into(),
                work_per_input: Some(u64::MAX),
                may_stop: true,
                reentrancy: Some(crate::machine::ReentrancyMode::Detect),
            },
            trace: parse_trace("outb 0x60 0xee\ninb 0x60\n").unwrap(),
        };
        assert_eq!(Regression::parse(&r.render()).unwrap(), r);
        assert!(
            r.render()
                .contains("# machine-opts: hda=none\n# work-per-input: none\n")
        );
        for bad in [
            "# work-per-input: 0",
            "# work-per-input: lots",
            "# may-stop: maybe",
            "# reentrancy: off",
        ] {
            assert!(Header::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Header::parse("# work-per-input: 0x100")
                .unwrap()
                .work_per_input,
            Some(256)
        );
        assert_eq!(
            Regression::parse("outb 0x60 1\n"),
            Err(RegressionError::NoExpect)
        );
    }

    #[test]
    fn expectations_match_ok_or_a_signature_prefix() {
        let f = Outcome::Finding(Box::new(Finding {
            kind: FindingKind::Reentrancy,
            device: "widget->widget".into(),
            location: "models/src/widget/dma.rs:10".into(),
            message: String::new(),
            backtrace: vec![],
            op_index: 3,
            register: None,
            canaries: Default::default(),
        }));
        assert!(matches("reentrancy:widget->widget", &f));
        assert!(!matches("ok", &f));
        assert!(!matches("", &f));
        assert!(matches("ok", &Outcome::ok(1)));
        assert!(!matches("panic:widget", &Outcome::ok(1)));
    }
}
