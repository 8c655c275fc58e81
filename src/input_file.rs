//! Inputs named on the command line: read safely, told apart, and the setup they record.
//!
//! - **Reading.** Regular files only, opened without blocking (`harness::file`), at most
//!   [`MAX_INPUT_BYTES`]: `/dev/zero`, a FIFO or a directory is a one-line error, not a process
//!   that reads until memory runs out or waits forever.
//! - **Form.** `replay`, `minimize` and `regress` take a `.qtest` name as a text trace and
//!   anything else as a binary input; `convert` looks at the content instead
//!   ([`load_by_content`]), since converting is where a misnamed file does damage.
//! - **Setup.** A `.qtest` header records what reproduces it (`harness::regression::Header`:
//!   planted bugs, machine options, work budget, re-entrancy mode); `devfuzz fuzz` writes one
//!   next to every crash artifact (`crash-….qtest`), and a binary input picks up the header of
//!   that sibling file. [`Setup::apply`] returns the options and the planted bugs (which
//!   reach the machine as its `bugs` option), with what the command line says taking precedence.

use crate::error::UsageError;
use harness::machine::ReentrancyMode;
use harness::qtest::Cmd;
use harness::regression::Header;
use std::path::{Path, PathBuf};

/// The largest input file read: no input can use more. A binary input stops at its RAM
/// budget (16 MiB of written data) long before; a text trace's longest line is 32 MiB.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// What kind of input a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// A qtest text trace.
    Text,
    /// A binary input (docs/ops.md).
    Binary,
}

/// An input file read and told apart.
pub struct Loaded {
    /// Its form.
    pub form: Form,
    /// The bytes as read.
    pub bytes: Vec<u8>,
    /// The commands, for text.
    pub trace: Vec<Cmd>,
    /// Its header (a binary input's is its sibling `.qtest` file's, if any).
    pub header: Header,
    /// The file the header came from, if it has one.
    pub header_file: Option<PathBuf>,
    /// That file is a regression (it has an `# expect:` line).
    pub regression: bool,
}

/// Whether a `.qtest` text has an `# expect:` line (a regression file).
fn has_expect(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("# expect:")))
}

/// Read a file named on the command line (see the module docs).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, UsageError> {
    harness::file::read_capped(path, MAX_INPUT_BYTES, "no input can use more")
        .map_err(|e| UsageError(format!("cannot read {e}")))
}

/// Whether the name says text (`.qtest`).
pub fn is_text_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "qtest")
}

/// Parse `bytes` of `path` as a qtest trace with its header.
pub fn parse_text(path: &Path, bytes: &[u8]) -> Result<(Vec<Cmd>, Header), UsageError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| UsageError(format!("{}: not UTF-8 text", path.display())))?;
    // A check program or a record (reads with `=> VALUE`, trailing `# notes`) is a trace too.
    let cmds = harness::check::parse_program(text)
        .map_err(|e| UsageError(format!("{}:{}: {}", path.display(), e.line, e.error)))?
        .commands();
    let header = Header::parse(text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    Ok((cmds, header))
}

/// The `.qtest` file `devfuzz fuzz` writes next to a binary artifact.
fn sibling_trace(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".qtest");
    PathBuf::from(name)
}

/// A text input (its own header file).
fn text(path: &Path, bytes: Vec<u8>, trace: Vec<Cmd>, header: Header) -> Loaded {
    Loaded {
        form: Form::Text,
        regression: has_expect(&bytes),
        bytes,
        trace,
        header,
        header_file: Some(path.to_path_buf()),
    }
}

/// A binary input with its sibling's header.
fn binary(path: &Path, bytes: Vec<u8>) -> Result<Loaded, UsageError> {
    let sibling = sibling_trace(path);
    let (header, header_file, regression) = if sibling.is_file() {
        let text = read_bytes(&sibling)?;
        let (_, header) = parse_text(&sibling, &text)?;
        (header, Some(sibling), has_expect(&text))
    } else {
        (Header::default(), None, false)
    };
    Ok(Loaded {
        form: Form::Binary,
        bytes,
        trace: Vec::new(),
        header,
        header_file,
        regression,
    })
}

/// Read an input whose form its name says (`.qtest` text, anything else binary).
pub fn load_by_name(path: &Path) -> Result<Loaded, UsageError> {
    let bytes = read_bytes(path)?;
    if is_text_name(path) {
        let (trace, header) = parse_text(path, &bytes)?;
        Ok(text(path, bytes, trace, header))
    } else {
        binary(path, bytes)
    }
}

/// Whether `bytes` look like text a person wrote: UTF-8 with no control characters but tab,
/// CR and LF. (Binary inputs are almost never that; one that is and also parses as a trace
/// is read as text.)
fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
    })
}

/// Read an input and tell its form from its content, not its name: text that parses as a
/// trace is text; text that does not is an error naming the line (when the name says
/// `.qtest`, or the content is clearly meant as text); anything else is binary.
pub fn load_by_content(path: &Path) -> Result<Loaded, UsageError> {
    let bytes = read_bytes(path)?;
    if !bytes.is_empty() && looks_like_text(&bytes) {
        match parse_text(path, &bytes) {
            Ok((trace, header)) => return Ok(text(path, bytes, trace, header)),
            Err(e) if is_text_name(path) => return Err(e),
            Err(_) => {}
        }
    }
    binary(path, bytes)
}

/// What an input runs with: the command line's settings, else its header's.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// Machine options to add to `-O`'s (the header's when `-O` gives none).
    pub machine_opts: String,
    /// Per-input work budget, when the header sets one.
    pub work_per_input: Option<u64>,
    /// Re-entrancy mode the header records.
    pub reentrancy: Option<ReentrancyMode>,
    /// The trace may stop before its end.
    pub may_stop: bool,
    /// Planted bugs in effect (comma-separated).
    pub planted: String,
}

impl Setup {
    /// The settings `loaded`'s header asks for, among them the planted bugs it names (unless
    /// the command line chose some), which [`Setup::planted`] carries to the machine's options; `cli_machine_opts` is `-O`'s (they win over the header's).
    pub fn apply(loaded: &Loaded, session: &crate::session::Session) -> Result<Self, UsageError> {
        let (cli_machine_opts, cli_bugs) = (session.machine_opts.as_str(), session.bugs.as_str());
        let h = &loaded.header;
        let from = loaded
            .header_file
            .as_deref()
            .map_or_else(String::new, |p| p.display().to_string());
        // A regression (it has `# expect:`) names the bugs it was found with for its
        // `expect-planted` check only: it replays as the fixed-bug check it is (`--bugs`
        // selects them).
        let planted = if cli_bugs.is_empty() && !h.planted.is_empty() && !loaded.regression {
            let ids = h.planted.join(",");
            if !models::planted::ENABLED_IN_BUILD {
                return Err(UsageError(format!(
                    "{from} needs the planted bugs '{ids}' (its '# planted:' header), but this devfuzz was built without them: cargo run --release --features planted-bugs -- ..."
                )));
            }
            models::planted::Selection::parse(&ids)
                .map_err(|e| UsageError(format!("{from}: {e}")))?;
            ids
        } else {
            cli_bugs.to_string()
        };
        Ok(Self {
            machine_opts: if cli_machine_opts.trim().is_empty() {
                h.machine_opts.clone()
            } else {
                String::new()
            },
            work_per_input: h.work_per_input,
            reentrancy: h.reentrancy,
            may_stop: h.may_stop,
            planted,
        })
    }

    /// The header a trace derived from this input carries, so it reproduces on its own.
    pub fn header(&self, cli_machine_opts: &str, mode: Option<ReentrancyMode>) -> Header {
        let opts = [self.machine_opts.as_str(), cli_machine_opts]
            .into_iter()
            .filter(|o| !o.trim().is_empty())
            .collect::<Vec<_>>()
            .join(",");
        Header {
            planted: self
                .planted
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            machine_opts: opts,
            work_per_input: self.work_per_input,
            may_stop: false,
            reentrancy: mode,
        }
    }
}
