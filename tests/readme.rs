//! Every shell example of README.md, run as written (issue 14 item 10): `cargo run ... --`
//! becomes the built `devfuzz`; commands that start an engine (`fuzz`, `bench`, `coverage`)
//! run with `DEVFUZZ_DRY_RUN=1`, which checks their arguments and stops; examples needing the
//! planted-bugs build run when this test is built with that feature (`ci/planted-bugs.sh`).
//! Each runs in a scratch copy of the tree's `regressions/` (with `docs/`, `fuzz/` and
//! `harness/` linked), so `regress` examples write there, not into the repository. A `# exit N`
//! comment gives the expected exit code (default 0); output lines shown under a `$ command`
//! must appear in its output, but for lines with `...`.

use std::path::Path;
use std::process::{Command, Stdio};

struct Example {
    line: usize,
    command: String,
    exit: i32,
    expected: Vec<String>,
}

/// The commands of the README's `sh` blocks.
fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    let mut last_dollar = false;
    for (i, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            last_dollar = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some((at, mut cmd)) = pending.take() {
            cmd.push(' ');
            cmd.push_str(line.trim());
            if let Some(c) = cmd.strip_suffix('\\') {
                pending = Some((at, c.to_string()));
            } else {
                out.push(parse(at, &cmd));
            }
            continue;
        }
        let (cmd, dollar) = match line.strip_prefix("$ ") {
            Some(c) => (Some(c), true),
            None if line.starts_with("cargo ") => (Some(line), false),
            None => (None, false),
        };
        match cmd {
            Some(c) => {
                last_dollar = dollar;
                match c.strip_suffix('\\') {
                    Some(c) => pending = Some((i + 1, c.to_string())),
                    None => out.push(parse(i + 1, c)),
                }
            }
            None if last_dollar && !line.trim().is_empty() => {
                if let Some(e) = out.last_mut() {
                    e.expected.push(line.to_string());
                }
            }
            None => {}
        }
    }
    out
}

fn parse(line: usize, text: &str) -> Example {
    let (command, comment) = match text.find("  #").or_else(|| text.find("   #")) {
        Some(i) => (text[..i].trim(), &text[i..]),
        None => (text.trim(), ""),
    };
    let exit = comment
        .split("exit ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Example {
        line,
        command: command.to_string(),
        exit,
        expected: Vec::new(),
    }
}

/// A scratch tree: a copy of `regressions/`, links to the rest the examples read.
fn scratch(root: &Path) -> tempfile::TempDir {
    let scratch = tempfile::tempdir().unwrap();
    let ws = scratch.path();
    let ok = Command::new("cp")
        .arg("-r")
        .arg(root.join("regressions"))
        .arg(ws)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    for d in ["docs", "fuzz", "harness", "tests"] {
        std::os::unix::fs::symlink(root.join(d), ws.join(d)).unwrap();
    }
    scratch
}

#[test]
fn every_readme_example_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let examples = examples(&readme);
    let scratch = scratch(root);
    let ws = scratch.path();
    let planted = cfg!(feature = "planted-bugs");
    let mut ran = 0;
    let mut failures = Vec::new();
    for ex in &examples {
        let c = &ex.command;
        if c.starts_with("cargo test") || c.starts_with("cargo +nightly fuzz") {
            continue; // the test itself; an engine run outside devfuzz (ci/fuzz-smoke.sh)
        }
        if c.contains("--features planted-bugs") && !planted {
            continue;
        }
        let mut shell = c.clone();
        for prefix in [
            "cargo run -q --release --features planted-bugs --",
            "cargo run --release --features planted-bugs --",
            "cargo run -q --release --",
            "cargo run --release --",
        ] {
            shell = shell.replace(prefix, "\"$DEVFUZZ\"");
        }
        assert!(
            !shell.contains("cargo "),
            "README.md:{}: an example this test cannot run: {c}",
            ex.line
        );
        let engine = [" fuzz ", " bench", " coverage "]
            .iter()
            .any(|w| format!("{shell} ").contains(w));
        let out = Command::new("sh")
            .arg("-c")
            .arg(&shell)
            .current_dir(ws)
            .env("DEVFUZZ", env!("CARGO_BIN_EXE_devfuzz"))
            .env("DEVFUZZ_DRY_RUN", if engine { "1" } else { "" })
            .env_remove("DEVFUZZ_BUGS")
            .env_remove("DEVFUZZ_MACHINE_OPTS")
            .env_remove("DEVFUZZ_REENTRANCY")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        ran += 1;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.code() != Some(ex.exit) {
            failures.push(format!(
                "README.md:{}: `{c}` exited {:?}, not {}:\n{text}",
                ex.line,
                out.status.code(),
                ex.exit
            ));
            continue;
        }
        if engine {
            continue;
        }
        for want in ex.expected.iter().filter(|l| !l.contains("...")) {
            if !text.lines().any(|l| l.trim_end() == want.trim_end()) {
                failures.push(format!(
                    "README.md:{}: `{c}` did not print `{want}`:\n{text}",
                    ex.line
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran >= 12, "only {ran} examples ran");
}
