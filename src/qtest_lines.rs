//! Lines of a qtest session, read with a cap: a line longer than
//! [`harness::qtest::MAX_LINE`] is skipped up to its newline without being held in memory,
//! and answered with an error.

use std::io::BufRead;

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (without its newline) of at most the cap.
    Text(Vec<u8>),
    /// A line longer than the cap, of this many bytes, skipped.
    TooLong(usize),
}

/// Read the next line of at most `max` bytes from `r`; `None` at the end of input.
pub fn next_line<R: BufRead>(r: &mut R, max: usize) -> std::io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let mut skipped: Option<usize> = None;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(match skipped {
                Some(n) => Some(Line::TooLong(n)),
                None if buf.is_empty() => None,
                None => Some(Line::Text(buf)),
            });
        }
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        match &mut skipped {
            Some(n) => *n += part.len(),
            None if buf.len() + part.len() > max => {
                skipped = Some(buf.len() + part.len());
                buf = Vec::new();
            }
            None => buf.extend_from_slice(part),
        }
        let used = done.unwrap_or(chunk.len());
        r.consume(used);
        if done.is_some() {
            return Ok(Some(match skipped {
                Some(n) => Line::TooLong(n),
                None => Line::Text(buf),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_not_held() {
        let input = format!("ab\n{}\ncd", "x".repeat(100));
        let mut r = std::io::BufReader::with_capacity(8, input.as_bytes());
        assert_eq!(
            next_line(&mut r, 10).unwrap(),
            Some(Line::Text(b"ab".to_vec()))
        );
        assert_eq!(next_line(&mut r, 10).unwrap(), Some(Line::TooLong(100)));
        assert_eq!(
            next_line(&mut r, 10).unwrap(),
            Some(Line::Text(b"cd".to_vec()))
        );
        assert_eq!(next_line(&mut r, 10).unwrap(), None);
        let mut r = std::io::BufReader::new(&b"\n0123456789\n01234567890"[..]);
        assert_eq!(next_line(&mut r, 10).unwrap(), Some(Line::Text(Vec::new())));
        assert_eq!(
            next_line(&mut r, 10).unwrap(),
            Some(Line::Text(b"0123456789".to_vec()))
        );
        assert_eq!(next_line(&mut r, 10).unwrap(), Some(Line::TooLong(11)));
    }
}
