//! Issue 14: inputs as a new user would hand them over — special files, a regression that must
//! run to its end, conversions that must not destroy data, reproducers carrying their setup.

use std::path::Path;
use std::process::{Command, Output};

fn devfuzz() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_devfuzz"));
    c.env_remove("DEVFUZZ_MACHINE_OPTS")
        .env_remove("DEVFUZZ_BUGS")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    devfuzz().args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit code 2 with a one-line error containing `what`.
fn refused(out: &Output, what: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(what), "{err}");
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[test]
fn special_files_are_refused_with_one_line_and_exit_2() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let ok = dir.join("ok.qtest");
    std::fs::write(&ok, "outb 0x64 0xaa\n").unwrap();
    refused(
        &run(&[os("replay"), os("ps2"), os("/dev/zero")]),
        "/dev/zero: is a character device, not a regular file",
    );
    refused(
        &run(&[os("replay"), os("ps2"), fifo.as_os_str()]),
        "is a FIFO, not a regular file",
    );
    refused(
        &run(&[
            os("minimize"),
            os("ps2"),
            dir.as_os_str(),
            os("-o"),
            os("x.qtest"),
        ]),
        "is a directory, not a regular file",
    );
    let disk = |v: &Path| {
        let mut o = std::ffi::OsString::from("hda=disk-ro:");
        o.push(v);
        o
    };
    for (opt, what) in [
        (disk(&fifo), "is a FIFO, not a regular file".to_string()),
        (disk(dir), "is a directory, not a regular file".to_string()),
        (
            "hda=disk-cow:".into(),
            "'hda=disk-cow:' does not parse".into(),
        ),
        ("hdc=cdrom:".into(), "'hdc=cdrom:' does not parse".into()),
    ] {
        let out = devfuzz()
            .arg("-O")
            .arg(&opt)
            .args([os("replay"), os("ide"), ok.as_os_str()])
            .output()
            .unwrap();
        refused(&out, &what);
    }
}

#[test]
fn the_tso_ring_regression_replays_to_its_end() {
    let out = run(&[
        os("replay"),
        os("e1000e"),
        os("regressions/e1000e/tso-mss-1-ring-is-not-a-hang.qtest"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(": ok (16 ops)"), "{}", stdout(&out));
}

#[test]
fn replay_says_when_a_trace_stops_before_its_end() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let f = dir.join("tso.qtest");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("regressions/e1000e/tso-mss-1-ring-is-not-a-hang.qtest"),
    )
    .unwrap()
    .replace("# work-per-input: none", "");
    std::fs::write(&f, text).unwrap();
    let out = run(&[os("replay"), os("e1000e"), f.as_os_str()]);
    assert!(
        stdout(&out).contains("stopped after 11 of 16 commands"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn convert_tells_forms_by_content_and_never_destroys_its_input() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let text = dir.join("x.qtest");
    let script = "outb 0x64 0xaa\ninb 0x60\n";
    std::fs::write(&text, script).unwrap();
    // In place: refused, the input untouched.
    let out = run(&[
        os("convert"),
        os("ps2"),
        text.as_os_str(),
        os("-o"),
        text.as_os_str(),
    ]);
    refused(&out, "is the input: refusing to overwrite it");
    assert_eq!(std::fs::read_to_string(&text).unwrap(), script);
    // Through another name of the same file: refused too.
    let link = dir.join("link.bin");
    std::fs::hard_link(&text, &link).unwrap();
    let out = run(&[
        os("convert"),
        os("ps2"),
        text.as_os_str(),
        os("-o"),
        link.as_os_str(),
    ]);
    refused(&out, "is the input");
    // Text to a .qtest name, binary to a non-.qtest name: refused, they would replay wrong.
    let out = run(&[
        os("convert"),
        os("ps2"),
        text.as_os_str(),
        os("-o"),
        dir.join("y.qtest").as_os_str(),
    ]);
    refused(&out, "the output is a binary input");
    let bin = dir.join("x.bin");
    let out = run(&[
        os("convert"),
        os("ps2"),
        text.as_os_str(),
        os("-o"),
        bin.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&[
        os("convert"),
        os("ps2"),
        bin.as_os_str(),
        os("-o"),
        dir.join("z.bin").as_os_str(),
    ]);
    refused(&out, "name it *.qtest");
    // A binary input named .qtest is read as binary (by content), and converts to text.
    let misnamed = dir.join("binary.qtest");
    std::fs::copy(&bin, &misnamed).unwrap();
    let back = dir.join("back.qtest");
    let out = run(&[
        os("convert"),
        os("ps2"),
        misnamed.as_os_str(),
        os("-o"),
        back.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(&back)
            .unwrap()
            .contains("outb 0x64 0xaa\ninb 0x60\n")
    );
    // A text trace named .bin is read as text (by content).
    let text_bin = dir.join("text.bin");
    std::fs::write(&text_bin, script).unwrap();
    let out = run(&[
        os("convert"),
        os("ps2"),
        text_bin.as_os_str(),
        os("-o"),
        dir.join("t.out").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.join("t.out")).unwrap(),
        std::fs::read(&bin).unwrap()
    );
}

#[test]
fn a_reproducer_header_carries_its_machine_options_and_planted_bugs() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    // hda=none: the status register of a missing master reads 0, the default disk's 0x50.
    let f = dir.join("nodisk.qtest");
    std::fs::write(&f, "# machine-opts: hda=none\noutb 0x1f6 0xa0\ninb 0x1f7\n").unwrap();
    let out = run(&[
        os("convert"),
        os("ide"),
        f.as_os_str(),
        os("-o"),
        dir.join("n.bin").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&[
        os("convert"),
        os("ide"),
        dir.join("n.bin").as_os_str(),
        os("-o"),
        dir.join("n2.qtest").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A binary input has no header; converting it back says nothing about hda=none unless
    // -O is given, which the note on stderr asked for.
    let planted = dir.join("planted.qtest");
    std::fs::write(&planted, "# planted: ps2-queue-overflow\noutb 0x64 0xaa\n").unwrap();
    let out = run(&[os("replay"), os("ps2"), planted.as_os_str()]);
    if cfg!(feature = "planted-bugs") {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    } else {
        refused(&out, "needs the planted bugs 'ps2-queue-overflow'");
        assert!(stderr(&out).contains("--features planted-bugs"));
    }
    // A binary artifact picks up the header of the .qtest written next to it.
    let artifact = dir.join("crash-1");
    std::fs::write(&artifact, b"").unwrap();
    std::fs::write(dir.join("crash-1.qtest"), "# planted: ps2-queue-overflow\n").unwrap();
    let out = run(&[
        os("minimize"),
        os("ps2"),
        artifact.as_os_str(),
        os("-o"),
        dir.join("m.qtest").as_os_str(),
    ]);
    if !cfg!(feature = "planted-bugs") {
        refused(&out, "crash-1.qtest needs the planted bugs");
    }
    // Without any header, the no-finding error says what may be missing.
    let plain = dir.join("plain");
    std::fs::write(&plain, b"").unwrap();
    let out = run(&[
        os("minimize"),
        os("ps2"),
        plain.as_os_str(),
        os("-o"),
        dir.join("m.qtest").as_os_str(),
    ]);
    refused(&out, "needs them again");
}

/// Run `qtest --machine <machine>` on `script`; returns (stdout, exit code).
fn session(machine: &str, script: &[u8]) -> (String, Option<i32>) {
    use std::io::Write as _;
    let mut child = devfuzz()
        .args(["qtest", "--machine", machine])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let script = script.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&script);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

#[test]
fn a_session_writes_past_16_mib_like_qemu() {
    let (out, code) = session(
        "pc",
        b"memset 0 0x1000000 0x11\nwriteb 0x1000000 0x55\nreadb 0x1000000\nreadb 0xffffff\n",
    );
    assert_eq!(
        out,
        "OK\nOK\nOK 0x0000000000000055\nOK 0x0000000000000011\n"
    );
    assert_eq!(code, Some(0));
}

#[test]
fn over_long_lines_are_refused_and_errors_echo_little() {
    let mut script = b"write 0 1 0x".to_vec();
    script.resize(harness::qtest::MAX_LINE + 10, b'0');
    script.extend_from_slice(b"\n");
    script.extend_from_slice(&vec![b'z'; 100_000]);
    script.extend_from_slice(b"\noutb 0x64 0xaa\ninb 0x60\n");
    let (out, code) = session("pc", &script);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{}", &out[..out.len().min(300)]);
    assert!(lines[0].starts_with("ERR line of ") && lines[0].contains("is longer than"));
    assert!(lines[1].starts_with("FAIL Unknown command 'zzz") && lines[1].len() < 80);
    assert_eq!(&lines[2..], ["OK", "OK 0x0055"]);
    assert_eq!(code, Some(0));
}

#[test]
fn malformed_lines_get_err_not_ok() {
    let (out, _) = session(
        "pc",
        "write 0 2 0x123\nwrite 0 2 0x11223344\nmemset 0 4 0x1ff\nwriteb\u{a0}0 1\nwrite 0 2 0x11\nread 0 2\n"
            .as_bytes(),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ERR write: bad hex data"), "{out}");
    assert!(
        lines[1].starts_with("ERR write: 4 bytes of data for size 2"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("ERR memset: value '0x1ff' does not fit"),
        "{out}"
    );
    assert!(lines[3].starts_with("FAIL Unknown command"), "{out}");
    assert_eq!(
        &lines[4..],
        ["OK", "OK 0x1100"],
        "shorter data is zero-filled, as QEMU"
    );
}
