//! QEMU's qtest language: parse and print the commands reproducers are written in.
//!
//! Supported: `outb/outw/outl`, `inb/inw/inl`, `readb/readw/readl/readq`,
//! `writeb/writew/writel/writeq`, `read ADDR SIZE`, `write ADDR SIZE 0xDATA`,
//! `b64read ADDR SIZE`, `b64write ADDR SIZE B64`, `memset ADDR SIZE BYTE`, `clock_step [NS]`,
//! `clock_set NS`, `endianness`, `#` comments and blank lines — plus one devfuzz verb for what
//! qtest cannot say: `event DEVICE 0xPAYLOAD` (an external event such as a key press or an
//! incoming frame; the payload format is the device's). Numbers are read like `strtoul(s, 0)`
//! with the whole word required to parse: `0x` hex, leading `0` octal, otherwise decimal, an
//! optional sign (a minus wraps, as in C).

use crate::access::AccessSize;
use base64::Engine as _;
use std::fmt;

/// Largest `read`/`write`/`memset` size accepted (QEMU has none; we bound allocation).
pub const MAX_BULK: u64 = 1 << 24;

/// Longest line accepted, in bytes: well above the longest legal command (a `write` of
/// [`MAX_BULK`] bytes is 32 MiB of hex digits and a few words).
pub const MAX_LINE: usize = 2 * MAX_BULK as usize + (1 << 16);

/// Most characters of a user's word an error message echoes.
pub const MAX_ECHO: usize = 40;

/// `word` as an error message shows it: at most [`MAX_ECHO`] characters, then `...`.
pub fn shown(word: &str) -> String {
    match word.char_indices().nth(MAX_ECHO) {
        Some((cut, _)) => format!("{}...", &word[..cut]),
        None => word.to_string(),
    }
}

/// One qtest command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// `outb/outw/outl PORT VALUE`.
    Out {
        /// 1, 2 or 4 bytes.
        size: AccessSize,
        /// Port (<= 0xffff).
        port: u16,
        /// Value, truncated to `size`.
        value: u32,
    },
    /// `inb/inw/inl PORT`.
    In {
        /// 1, 2 or 4 bytes.
        size: AccessSize,
        /// Port.
        port: u16,
    },
    /// `writeb..writeq ADDR VALUE`.
    Write {
        /// 1, 2, 4 or 8 bytes.
        size: AccessSize,
        /// Guest-physical address.
        addr: u64,
        /// Value, truncated to `size`.
        value: u64,
    },
    /// `readb..readq ADDR`.
    Read {
        /// 1, 2, 4 or 8 bytes.
        size: AccessSize,
        /// Guest-physical address.
        addr: u64,
    },
    /// `write ADDR SIZE 0xDATA` (or `b64write` when `base64`).
    WriteBulk {
        /// Guest-physical address.
        addr: u64,
        /// The bytes (length = SIZE).
        data: Vec<u8>,
        /// Printed as `b64write`.
        base64: bool,
    },
    /// `read ADDR SIZE` (or `b64read` when `base64`).
    ReadBulk {
        /// Guest-physical address.
        addr: u64,
        /// Byte count.
        len: u64,
        /// Reply in base64.
        base64: bool,
    },
    /// `memset ADDR SIZE BYTE`.
    Memset {
        /// Guest-physical address.
        addr: u64,
        /// Byte count.
        len: u64,
        /// Fill byte.
        byte: u8,
    },
    /// `clock_step [NS]`: by NS, or to the next timer deadline.
    ClockStep(Option<u64>),
    /// `clock_set NS`: to absolute time NS (never backwards).
    ClockSet(u64),
    /// `endianness`.
    Endianness,
    /// `event DEVICE 0xPAYLOAD` (devfuzz).
    Event {
        /// Device name as `devfuzz list` shows it.
        device: String,
        /// Payload bytes.
        payload: Vec<u8>,
    },
}

/// Why a line is not a command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The first word is no command (QEMU answers `FAIL Unknown command '...'`).
    #[error("Unknown command '{0}'")]
    Unknown(String),
    /// A known command with bad operands.
    #[error("{0}")]
    Bad(String),
}

impl ParseError {
    /// The reply line QEMU's protocol gives for this error (`FAIL ...` or `ERR ...`).
    pub fn reply(&self) -> String {
        match self {
            ParseError::Unknown(_) => format!("FAIL {self}"),
            ParseError::Bad(m) => format!("ERR {m}"),
        }
    }
}

/// Parse a number as `strtoul(s, NULL, 0)` would, requiring the whole word to be consumed.
pub fn parse_number(word: &str) -> Option<u64> {
    let (neg, rest) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    let (radix, digits) =
        if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
            (16, h)
        } else if rest.len() > 1 && rest.starts_with('0') {
            (8, &rest[1..])
        } else {
            (10, rest)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

fn num(words: &[&str], i: usize, what: &str) -> Result<u64, ParseError> {
    let w = words
        .get(i)
        .ok_or_else(|| ParseError::Bad(format!("{}: missing {what}", words[0])))?;
    parse_number(w)
        .ok_or_else(|| ParseError::Bad(format!("{}: bad {what} '{}'", words[0], shown(w))))
}

/// A value operand that must fit an access of `size`: `0x1ff` is refused for a byte (QEMU
/// truncates it silently); a negative number (as `strtoul` wraps it) is taken when it fits as
/// a signed value of that width (`-1` is `0xff` for a byte).
fn value(words: &[&str], i: usize, size: AccessSize) -> Result<u64, ParseError> {
    let v = num(words, i, "value")?;
    let mask = size.mask();
    let sign = (mask >> 1) + 1;
    if v <= mask || (v & !mask == !mask && v & sign != 0) {
        Ok(v & mask)
    } else {
        Err(ParseError::Bad(format!(
            "{}: value '{}' does not fit in {} byte(s)",
            words[0],
            shown(words[i]),
            size.bytes()
        )))
    }
}

fn bulk_len(words: &[&str]) -> Result<u64, ParseError> {
    let len = num(words, 2, "size")?;
    if len == 0 || len > MAX_BULK {
        return Err(ParseError::Bad(format!(
            "{}: size {len} outside 1..={MAX_BULK}",
            words[0]
        )));
    }
    Ok(len)
}

fn expect_words(words: &[&str], n: usize) -> Result<(), ParseError> {
    if words.len() > n {
        return Err(ParseError::Bad(format!(
            "{}: unexpected '{}'",
            words[0],
            shown(words[n])
        )));
    }
    Ok(())
}

/// Parse hex digits after an optional `0x` into bytes, two digits a byte; an odd number of
/// digits is refused.
fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if h.len() % 2 != 0 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(
        h.as_bytes()
            .chunks(2)
            .map(|c| {
                let hi = (c[0] as char).to_digit(16).unwrap_or(0) as u8;
                let lo = c
                    .get(1)
                    .map_or(0, |&d| (d as char).to_digit(16).unwrap_or(0) as u8);
                hi << 4 | lo
            })
            .collect(),
    )
}

/// Whether `c` separates words: ASCII space and tab (any run of them), as a person types them.
/// QEMU splits on single spaces only; other white space (U+00A0 ...) separates nothing.
fn is_separator(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Parse one line. `Ok(None)` for blank lines and `#` comments.
pub fn parse_line(line: &str) -> Result<Option<Cmd>, ParseError> {
    if line.len() > MAX_LINE {
        return Err(ParseError::Bad(format!(
            "line of {} bytes is longer than {MAX_LINE}",
            line.len()
        )));
    }
    let line = line.trim_matches(|c| is_separator(c) || c == '\r' || c == '\n');
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let words: Vec<&str> = line.split(is_separator).filter(|w| !w.is_empty()).collect();
    let size_of = |suffix: char| match suffix {
        'b' => Some(AccessSize::B1),
        'w' => Some(AccessSize::B2),
        'l' => Some(AccessSize::B4),
        'q' => Some(AccessSize::B8),
        _ => None,
    };
    let cmd = words[0];
    let port = |words: &[&str]| -> Result<u16, ParseError> {
        let p = num(words, 1, "port")?;
        u16::try_from(p)
            .map_err(|_| ParseError::Bad(format!("{}: port {p:#x} above 0xffff", words[0])))
    };
    let parsed = match cmd {
        "outb" | "outw" | "outl" => {
            expect_words(&words, 3)?;
            let size = size_of(cmd.chars().last().unwrap_or('b')).unwrap_or(AccessSize::B1);
            Cmd::Out {
                size,
                port: port(&words)?,
                value: value(&words, 2, size)? as u32,
            }
        }
        "inb" | "inw" | "inl" => {
            expect_words(&words, 2)?;
            Cmd::In {
                size: size_of(cmd.chars().last().unwrap_or('b')).unwrap_or(AccessSize::B1),
                port: port(&words)?,
            }
        }
        "writeb" | "writew" | "writel" | "writeq" => {
            expect_words(&words, 3)?;
            let size = size_of(cmd.chars().last().unwrap_or('b')).unwrap_or(AccessSize::B1);
            Cmd::Write {
                size,
                addr: num(&words, 1, "address")?,
                value: value(&words, 2, size)?,
            }
        }
        "readb" | "readw" | "readl" | "readq" => {
            expect_words(&words, 2)?;
            Cmd::Read {
                size: size_of(cmd.chars().last().unwrap_or('b')).unwrap_or(AccessSize::B1),
                addr: num(&words, 1, "address")?,
            }
        }
        "read" | "b64read" => {
            expect_words(&words, 3)?;
            Cmd::ReadBulk {
                addr: num(&words, 1, "address")?,
                len: bulk_len(&words)?,
                base64: cmd == "b64read",
            }
        }
        "write" => {
            expect_words(&words, 4)?;
            let addr = num(&words, 1, "address")?;
            let len = bulk_len(&words)?;
            let text = words
                .get(3)
                .ok_or_else(|| ParseError::Bad("write: missing data".into()))?;
            if !text.starts_with("0x") && !text.starts_with("0X") {
                return Err(ParseError::Bad("write: data must start with 0x".into()));
            }
            let mut data = parse_hex_bytes(text).ok_or_else(|| {
                ParseError::Bad(format!(
                    "write: bad hex data '{}' (two digits a byte)",
                    shown(text)
                ))
            })?;
            longer_than_size("write", data.len(), len)?;
            data.resize(len as usize, 0);
            Cmd::WriteBulk {
                addr,
                data,
                base64: false,
            }
        }
        "b64write" => {
            expect_words(&words, 4)?;
            let addr = num(&words, 1, "address")?;
            let len = bulk_len(&words)?;
            let text = words
                .get(3)
                .ok_or_else(|| ParseError::Bad("b64write: missing data".into()))?;
            let mut data = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| ParseError::Bad(format!("b64write: bad base64: {e}")))?;
            longer_than_size("b64write", data.len(), len)?;
            data.resize(len as usize, 0);
            Cmd::WriteBulk {
                addr,
                data,
                base64: true,
            }
        }
        "memset" => {
            expect_words(&words, 4)?;
            Cmd::Memset {
                addr: num(&words, 1, "address")?,
                len: bulk_len(&words)?,
                byte: value(&words, 3, AccessSize::B1)? as u8,
            }
        }
        "clock_step" => {
            expect_words(&words, 2)?;
            Cmd::ClockStep(if words.len() > 1 {
                Some(num(&words, 1, "nanoseconds")?)
            } else {
                None
            })
        }
        "clock_set" => {
            expect_words(&words, 2)?;
            Cmd::ClockSet(num(&words, 1, "nanoseconds")?)
        }
        "endianness" => {
            expect_words(&words, 1)?;
            Cmd::Endianness
        }
        "event" => {
            expect_words(&words, 3)?;
            let device = words
                .get(1)
                .ok_or_else(|| ParseError::Bad("event: missing device".into()))?
                .to_string();
            let text = words.get(2).copied().unwrap_or("0x");
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            if digits.len() % 2 != 0 {
                return Err(ParseError::Bad(format!(
                    "event: payload '{}' has an odd number of hex digits",
                    shown(text)
                )));
            }
            let payload = parse_hex_bytes(text).ok_or_else(|| {
                ParseError::Bad(format!("event: bad hex payload '{}'", shown(text)))
            })?;
            Cmd::Event { device, payload }
        }
        other => return Err(ParseError::Unknown(shown(other))),
    };
    Ok(Some(parsed))
}

/// Data longer than the command's SIZE is refused (QEMU drops the rest silently); shorter data
/// is zero-filled to SIZE, as QEMU does on purpose.
fn longer_than_size(cmd: &str, got: usize, size: u64) -> Result<(), ParseError> {
    if got as u64 > size {
        return Err(ParseError::Bad(format!(
            "{cmd}: {got} bytes of data for size {size}"
        )));
    }
    Ok(())
}

/// A parse error with the line it happened on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct TraceError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub error: ParseError,
}

/// Parse a whole trace; the first bad line is an error naming its number.
pub fn parse_trace(text: &str) -> Result<Vec<Cmd>, TraceError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(c)) => out.push(c),
            Ok(None) => {}
            Err(error) => return Err(TraceError { line: i + 1, error }),
        }
    }
    Ok(out)
}

/// The width letter of `inb`/`readw`/...: `b`, `w`, `l` or `q`.
pub(crate) fn suffix(size: AccessSize) -> char {
    match size {
        AccessSize::B1 => 'b',
        AccessSize::B2 => 'w',
        AccessSize::B4 => 'l',
        AccessSize::B8 => 'q',
    }
}

/// Bytes as lower-case hex without a prefix.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmd::Out { size, port, value } => {
                write!(f, "out{} {port:#x} {value:#x}", suffix(*size))
            }
            Cmd::In { size, port } => write!(f, "in{} {port:#x}", suffix(*size)),
            Cmd::Write { size, addr, value } => {
                write!(f, "write{} {addr:#x} {value:#x}", suffix(*size))
            }
            Cmd::Read { size, addr } => write!(f, "read{} {addr:#x}", suffix(*size)),
            Cmd::WriteBulk {
                addr,
                data,
                base64: false,
            } => write!(f, "write {addr:#x} {:#x} 0x{}", data.len(), hex(data)),
            Cmd::WriteBulk {
                addr,
                data,
                base64: true,
            } => write!(
                f,
                "b64write {addr:#x} {:#x} {}",
                data.len(),
                base64::engine::general_purpose::STANDARD.encode(data)
            ),
            Cmd::ReadBulk { addr, len, base64 } => write!(
                f,
                "{} {addr:#x} {len:#x}",
                if *base64 { "b64read" } else { "read" }
            ),
            Cmd::Memset { addr, len, byte } => write!(f, "memset {addr:#x} {len:#x} {byte:#x}"),
            Cmd::ClockStep(Some(ns)) => write!(f, "clock_step {ns}"),
            Cmd::ClockStep(None) => write!(f, "clock_step"),
            Cmd::ClockSet(ns) => write!(f, "clock_set {ns}"),
            Cmd::Endianness => write!(f, "endianness"),
            Cmd::Event { device, payload } => write!(f, "event {device} 0x{}", hex(payload)),
        }
    }
}

/// The answer to one command; `Display` prints QEMU's reply line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `OK`.
    Ok,
    /// A port read: `OK 0x%04x`.
    In(u64),
    /// A memory read: `OK 0x%016x`.
    Read(u64),
    /// A bulk read: `OK 0x<hex>` or `OK <base64>`.
    Bulk {
        /// The bytes read.
        data: Vec<u8>,
        /// Print as base64.
        base64: bool,
    },
    /// A clock command: `OK <ns>`.
    Clock(u64),
    /// `endianness`: `OK little`.
    Little,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Ok => f.write_str("OK"),
            Reply::In(v) => f.write_str(&reply_in(*v)),
            Reply::Read(v) => f.write_str(&reply_read(*v)),
            Reply::Bulk { data, base64 } => f.write_str(&reply_bulk(data, *base64)),
            Reply::Clock(ns) => write!(f, "OK {ns}"),
            Reply::Little => f.write_str("OK little"),
        }
    }
}

/// Reply to `inb/inw/inl`, as QEMU prints it (`OK 0x%04x`).
pub fn reply_in(value: u64) -> String {
    format!("OK 0x{value:04x}")
}

/// Reply to `readb..readq` (`OK 0x%016x`).
pub fn reply_read(value: u64) -> String {
    format!("OK 0x{value:016x}")
}

/// Reply to `read` (`OK 0x` + bytes in memory order) or `b64read`.
pub fn reply_bulk(data: &[u8], base64: bool) -> String {
    if base64 {
        format!(
            "OK {}",
            base64::engine::general_purpose::STANDARD.encode(data)
        )
    } else {
        format!("OK 0x{}", hex(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_like_strtoul_base_zero() {
        assert_eq!(parse_number("0x1f"), Some(31));
        assert_eq!(parse_number("017"), Some(15));
        assert_eq!(parse_number("17"), Some(17));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("-1"), Some(u64::MAX));
        assert_eq!(parse_number("0x"), None);
        assert_eq!(parse_number("08"), None);
        assert_eq!(parse_number("12abc"), None);
        assert_eq!(parse_number("0x10000000000000000"), None);
        assert_eq!(parse_number(""), None);
    }

    #[test]
    fn reproducer_lines_parse_and_print_back() {
        for line in [
            "outl 0xcf8 0x80001010",
            "outw 0xcfc 0x7",
            "inb 0x60",
            "writeq 0x99000429 0x133a940000188101",
            "readl 0xe0000000",
            "write 0x51 0x1 0x04",
            "read 0x1000 0x8",
            "clock_step 100",
            "clock_step",
            "memset 0x0 0x10 0xff",
            "event widget 0x0222",
            "b64write 0x10 0x3 AQID",
        ] {
            let cmd = parse_line(line).unwrap().unwrap();
            let again = parse_line(&cmd.to_string()).unwrap().unwrap();
            assert_eq!(cmd, again, "{line}");
        }
    }

    #[test]
    fn write_data_is_zero_filled_to_size() {
        let cmd = parse_line("write 0x100 4 0xde").unwrap().unwrap();
        assert_eq!(
            cmd,
            Cmd::WriteBulk {
                addr: 0x100,
                data: vec![0xde, 0, 0, 0],
                base64: false
            }
        );
    }

    #[test]
    fn bad_lines_get_one_line_answers_not_panics() {
        assert_eq!(
            parse_line("bogus 1").unwrap_err().reply(),
            "FAIL Unknown command 'bogus'"
        );
        for bad in [
            "outb",
            "outb 0x60",
            "outb 0x10000 1",
            "read 0x0 0",
            "write 0 4 zz",
            "write 0 4 0xzz",
            "inb 0x60 0x61",
            "clock_step abc",
            "read 0 0x2000000",
            "b64write 0 4 !!",
            "event widget 0x20f",
            // Issue 14 item 8: malformed lines QEMU answers OK.
            "write 0 2 0x123",
            "write 0 2 0x11223344",
            "b64write 0 2 AQIDBA==",
            "memset 0 4 0x1ff",
            "outb 0x80 0x1ff",
            "outw 0x80 0x10000",
            "writeb 0 0x100",
            "writel 0 0x100000000",
            "outb 0x80\u{a0}1",
        ] {
            let e = parse_line(bad).unwrap_err();
            assert!(e.reply().starts_with("ERR "), "{bad}: {}", e.reply());
        }
        assert_eq!(
            parse_line("outb\u{a0}0x80 1").unwrap_err().reply(),
            "FAIL Unknown command 'outb\u{a0}0x80'",
            "a no-break space separates nothing"
        );
        assert_eq!(parse_line("  # comment").unwrap(), None);
        assert_eq!(parse_line("").unwrap(), None);
    }

    #[test]
    fn separators_values_and_echoes_are_as_documented() {
        let out = |v| Cmd::Out {
            size: AccessSize::B1,
            port: 0x80,
            value: v,
        };
        assert_eq!(parse_line("  outb\t0x80   1 \r").unwrap(), Some(out(1)));
        assert_eq!(parse_line("outb 0x80 -1").unwrap(), Some(out(0xff)));
        assert_eq!(parse_line("outb 0x80 -128").unwrap(), Some(out(0x80)));
        assert!(parse_line("outb 0x80 -129").is_err());
        assert_eq!(
            parse_line("writeq 0 -1").unwrap(),
            Some(Cmd::Write {
                size: AccessSize::B8,
                addr: 0,
                value: u64::MAX
            })
        );
        let long = "x".repeat(1000);
        let reply = parse_line(&long).unwrap_err().reply();
        assert_eq!(
            reply,
            format!("FAIL Unknown command '{}...'", "x".repeat(MAX_ECHO))
        );
        let reply = parse_line(&format!("write 0 4 0x{long}"))
            .unwrap_err()
            .reply();
        assert!(reply.len() < 100, "{reply}");
        let huge = format!("write 0 4 0x{}", "0".repeat(MAX_LINE));
        assert!(
            parse_line(&huge)
                .unwrap_err()
                .reply()
                .contains("longer than")
        );
        assert_eq!(shown("ééé"), "ééé");
    }

    #[test]
    fn trace_errors_name_the_line() {
        let e = parse_trace("outb 0x64 0xaa\n\nfrob\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.to_string(), "line 3: Unknown command 'frob'");
    }

    #[test]
    fn replies_use_qemu_formats() {
        assert_eq!(reply_in(0x55), "OK 0x0055");
        assert_eq!(reply_in(0x10d38086), "OK 0x10d38086");
        assert_eq!(reply_read(0x88), "OK 0x0000000000000088");
        assert_eq!(reply_bulk(&[0x11, 0x22], false), "OK 0x1122");
    }
}
