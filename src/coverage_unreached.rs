//! The largest unreached blocks of a coverage report: runs of source lines whose code never ran,
//! read from `llvm-cov show -format=text`, largest first. `devfuzz coverage` lists them for the
//! target's device files, so a model author sees what the corpus misses without opening the
//! HTML report.

use std::fmt;

/// A run of lines with code that never ran (lines without code inside it do not break it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreachedBlock {
    /// Source file, as the report names it (relative to the root when it is under it).
    pub file: String,
    /// First line of the run.
    pub start: u32,
    /// Last line of the run.
    pub end: u32,
    /// Lines with code in the run.
    pub lines: u32,
    /// The first of them, trimmed.
    pub first: String,
}

impl fmt::Display for UnreachedBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first: String = self.first.chars().take(70).collect();
        write!(
            f,
            "{:4} lines  {}:{}-{}  {}",
            self.lines, self.file, self.start, self.end, first
        )
    }
}

/// The unreached blocks of `text` (`llvm-cov show -format=text` of one or more files), largest
/// first (then by file and line). A report of several files heads each with its path and a
/// colon; a report of one file has no such line, so its blocks are named `single_file`. Paths
/// under `root` are given relative to it.
pub fn parse(text: &str, single_file: &str, root: &str) -> Vec<UnreachedBlock> {
    let mut blocks = Vec::new();
    let mut file = single_file.to_string();
    let mut run: Option<UnreachedBlock> = None;
    for line in text.lines() {
        if line.starts_with('/') && line.ends_with(':') {
            blocks.extend(run.take());
            let path = &line[..line.len() - 1];
            file = path
                .strip_prefix(root)
                .map(|p| p.trim_start_matches('/'))
                .unwrap_or(path)
                .to_string();
            continue;
        }
        let Some((number, count, code)) = split_line(line) else {
            continue;
        };
        match count {
            // No code on this line: it neither extends nor ends a run.
            "" => {}
            "0" => {
                let block = run.get_or_insert_with(|| UnreachedBlock {
                    file: file.clone(),
                    start: number,
                    end: number,
                    lines: 0,
                    first: code.trim().to_string(),
                });
                block.end = number;
                block.lines += 1;
            }
            _ => blocks.extend(run.take()),
        }
    }
    blocks.extend(run);
    blocks.sort_by(|a, b| {
        b.lines
            .cmp(&a.lines)
            .then_with(|| a.file.cmp(&b.file))
            .then(a.start.cmp(&b.start))
    });
    blocks
}

/// `"  123|      0|    code"` -> (123, "0", "    code"); `None` for any other line.
fn split_line(line: &str) -> Option<(u32, &str, &str)> {
    let mut parts = line.splitn(3, '|');
    let number = parts.next()?.trim().parse().ok()?;
    let count = parts.next()?.trim();
    let code = parts.next()?;
    Some((number, count, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_FILES: &str = "\
/root/models/src/a.rs:
    1|       |//! A device.
    2|      5|fn run() {
    3|      0|    if never {
    4|       |        // a comment inside the run
    5|      0|        nothing();
    6|      0|    }
    7|  1.23k|    done();
    8|      0|    tail();
    9|      5|}
/root/models/src/b.rs:
    1|      0|fn unused() {
    2|      0|    body();
";

    #[test]
    fn runs_of_zero_counts_are_blocks_largest_first_and_code_less_lines_do_not_break_them() {
        let blocks = parse(TWO_FILES, "unused", "/root");
        let got: Vec<(&str, u32, u32, u32, &str)> = blocks
            .iter()
            .map(|b| (b.file.as_str(), b.start, b.end, b.lines, b.first.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("models/src/a.rs", 3, 6, 3, "if never {"),
                ("models/src/b.rs", 1, 2, 2, "fn unused() {"),
                ("models/src/a.rs", 8, 8, 1, "tail();"),
            ]
        );
        assert_eq!(
            blocks[0].to_string(),
            "   3 lines  models/src/a.rs:3-6  if never {"
        );
    }

    #[test]
    fn a_report_of_one_file_names_it_and_other_lines_are_ignored() {
        let text = "    1|      0|fn f() {}\nnot a source line\n    2|      1|fn g() {}\n";
        let blocks = parse(text, "models/src/c.rs", "/root");
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            (blocks[0].file.as_str(), blocks[0].start, blocks[0].lines),
            ("models/src/c.rs", 1, 1)
        );
        assert!(parse("", "x", "/root").is_empty());
    }
}
