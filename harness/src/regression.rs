//! Regression files: `regressions/<target>/<name>.qtest`, a header of `# key: value` lines and a
//! qtest trace. One test walks the folder and replays each file in every mode its header names.
//!
//! ```text
//! # bug: i8042 keyboard queue index not bounded (planted ps2-queue-overflow)
//! # signature: panic:i8042:models/src/i8042/queue.rs:57
//! # expect: ok
//! # expect-without-guard: ok
//! # planted: ps2-queue-overflow
//! # expect-planted: panic:i8042
//! # found-by: devfuzz fuzz ps2 (libfuzzer), fuzz/artifacts/ps2/crash-1234
//! outb 0x60 0xee
//! ...
//! ```
//!
//! `expect` is the outcome under the guard in the default build; `expect-without-guard` the
//! outcome in detect mode; `expect-planted` the outcome with the `planted` bugs selected (checked
//! only in a `planted-bugs` build). An expectation is `ok` or a prefix of the finding signature
//! (`kind:device[:location]`), so a line-number drift in the model need not break it.

use crate::outcome::Outcome;
use crate::qtest::{Cmd, TraceError, parse_trace};
use std::fmt::Write as _;

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
        let mut r = Regression::default();
        let mut expect = None;
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix('#') else {
                continue;
            };
            let Some((key, value)) = rest.split_once(':') else {
                continue;
            };
            let value = value.trim().to_string();
            match key.trim() {
                "bug" => r.bug = value,
                "signature" => r.signature = value,
                "expect" => expect = Some(value),
                "expect-without-guard" => r.expect_without_guard = Some(value),
                "planted" => {
                    r.planted = value
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }
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
        if !self.planted.is_empty() {
            let _ = writeln!(s, "# planted: {}", self.planted.join(","));
        }
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
            signature: "panic:i8042:models/src/i8042/queue.rs:57".into(),
            expect: "ok".into(),
            expect_without_guard: Some("ok".into()),
            planted: vec!["ps2-queue-overflow".into()],
            expect_planted: Some("panic:i8042".into()),
            found_by: "devfuzz fuzz ps2".into(),
            trace: parse_trace("outb 0x60 0xee\ninb 0x60\n").unwrap(),
        };
        assert_eq!(Regression::parse(&r.render()).unwrap(), r);
        assert_eq!(
            Regression::parse("outb 0x60 1\n"),
            Err(RegressionError::NoExpect)
        );
    }

    #[test]
    fn expectations_match_ok_or_a_signature_prefix() {
        let f = Outcome::Finding(Box::new(Finding {
            kind: FindingKind::Reentrancy,
            device: "e1000e->e1000e".into(),
            location: "models/src/e1000e/rx.rs:10".into(),
            message: String::new(),
            backtrace: vec![],
            op_index: 3,
        }));
        assert!(matches("reentrancy:e1000e->e1000e", &f));
        assert!(!matches("ok", &f));
        assert!(!matches("", &f));
        assert!(matches("ok", &Outcome::Ok { ops: 1 }));
        assert!(!matches("panic:i8042", &Outcome::Ok { ops: 1 }));
    }
}
