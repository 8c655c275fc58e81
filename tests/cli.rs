//! The `devfuzz` binary as users drive it: exit codes, one-line errors, the qtest server.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn devfuzz() -> Command {
    Command::new(env!("CARGO_BIN_EXE_devfuzz"))
}

/// `contents` as the file `name` in `dir`.
fn tmp(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn qtest_server_answers_the_issue_example() {
    let mut child = devfuzz()
        .args(["qtest", "--machine", "pc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"outb 0x64 0xaa\ninb 0x60\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\nOK 0x0055\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn qtest_server_replies_in_lockstep_and_survives_bad_lines() {
    let mut child = devfuzz()
        .args(["qtest", "-M", "pc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut reply = String::new();
        stdout.read_line(&mut reply).unwrap();
        reply.trim_end().to_string()
    };
    // Each reply arrives before the next command is sent.
    assert_eq!(ask("outl 0xcf8 0x80000000"), "OK");
    assert_eq!(ask("inl 0xcfc"), "OK 0x12378086");
    assert_eq!(ask("outb 0x60"), "ERR outb: missing value");
    assert_eq!(ask("bogus"), "FAIL Unknown command 'bogus'");
    assert_eq!(ask("read 0x0 0"), "ERR read: size 0 outside 1..=16777216");
    assert_eq!(ask("write 0x1000 4 0x11223344"), "OK");
    assert_eq!(ask("read 0x1000 4"), "OK 0x11223344");
    assert_eq!(ask("readl 0x1000"), "OK 0x0000000044332211");
    assert_eq!(ask("clock_step 100"), "OK 100");
    assert_eq!(ask("endianness"), "OK little");
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn replay_exit_codes_and_one_line_errors() {
    let scratch = tempfile::tempdir().unwrap();
    let ok = tmp(
        &scratch,
        "ok.qtest",
        b"# self-test\noutb 0x64 0xaa\ninb 0x60\n",
    );
    let out = devfuzz().args(["replay", "ps2"]).arg(&ok).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (2 ops)"));

    let bad = tmp(&scratch, "bad.qtest", b"outb 0x64 0xaa\nfrobnicate 1\n");
    let out = devfuzz()
        .args(["replay", "ps2"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.qtest:2: Unknown command 'frobnicate'"),
        "{err}"
    );

    for args in [
        &["replay", "nosuch", "x"][..],
        &["replay", "ps2", "/no/such/file"],
        &["qtest", "-M", "nosuch"],
        &["replay", "ps2", "x", "--reentrancy", "maybe"],
    ] {
        let out = devfuzz().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{args:?}"
        );
    }
}

#[test]
fn random_binary_files_replay_without_a_harness_error() {
    let scratch = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    let mut files = Vec::new();
    for i in 0..20 {
        let mut bytes = vec![0; (i * 97) % 700];
        rng.fill(&mut bytes);
        files.push(tmp(&scratch, &format!("rand{i}.bin"), &bytes));
    }
    for target in ["ps2", "pci", "pc"] {
        let out = devfuzz()
            .args(["replay", target])
            .args(&files)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{target}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn convert_round_trips_binary_and_text() {
    let scratch = tempfile::tempdir().unwrap();
    let text = tmp(
        &scratch,
        "seed.qtest",
        b"outb 0x64 0xaa\ninb 0x60\nevent i8042 0x0210\ninb 0x60\n",
    );
    let bin = text.with_extension("bin");
    let back = text.with_extension("back.qtest");
    let out = devfuzz()
        .args(["convert", "ps2"])
        .arg(&text)
        .arg("-o")
        .arg(&bin)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = devfuzz()
        .args(["convert", "ps2"])
        .arg(&bin)
        .arg("-o")
        .arg(&back)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed = std::fs::read_to_string(&back).unwrap();
    assert!(
        printed.contains("outb 0x64 0xaa\ninb 0x60\nevent i8042 0x0210\ninb 0x60\n"),
        "{printed}"
    );
    let out = devfuzz()
        .args(["replay", "ps2"])
        .arg(&back)
        .arg(&bin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn trace_globs_print_qemu_named_events_on_stderr() {
    let scratch = tempfile::tempdir().unwrap();
    let f = tmp(
        &scratch,
        "trace.qtest",
        b"outb 0x64 0xaa\ninb 0x60\noutl 0xcf8 0x80000000\ninl 0xcfc\n",
    );
    let out = devfuzz()
        .args(["replay", "pc", "--trace", "pci_cfg_*"])
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pci_cfg_read") && err.contains("i440FX 00:00.0 @0x0 -> 0x12378086"),
        "{err}"
    );
    assert!(!err.contains("pckbd"), "only the selected events: {err}");
    // A glob that does not parse is a usage error, not a filter that never matches.
    let out = devfuzz()
        .args(["replay", "pc", "--trace", "pci_cfg_["])
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unclosed character class"), "{err}");
}

#[test]
fn a_reader_that_goes_away_is_not_a_panic() {
    let scratch = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..200)
        .map(|i| {
            tmp(
                &scratch,
                &format!("pipe{i}.qtest"),
                b"outb 0x64 0xaa\ninb 0x60\n",
            )
        })
        .collect();
    let mut child = devfuzz()
        .args(["replay", "ps2"])
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head -0`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// Run `qtest` with `args` on `script`; returns (stdout, stderr, exit code).
fn qtest_with(args: &[&str], script: &str) -> (String, String, Option<i32>) {
    let mut child = devfuzz()
        .args(args)
        .env_remove("DEVFUZZ_MACHINE_OPTS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A refused machine exits before reading: a closed pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(script.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn machine_options_change_the_machine_and_bad_ones_are_refused() {
    // IDENTIFY's status on the primary master: a disk by default, nothing with hda=none.
    let status = "inb 0x1f7\n";
    let (with_disk, _, code) = qtest_with(&["qtest", "--machine", "pc"], status);
    assert_eq!((with_disk.as_str(), code), ("OK 0x0050\n", Some(0)));
    let (no_disk, _, _) = qtest_with(&["qtest", "--machine", "pc,hda=none"], status);
    assert_eq!(no_disk, "OK 0x0000\n");
    let (via_flag, _, _) = qtest_with(&["-O", "hda=none", "qtest", "--machine", "pc"], status);
    assert_eq!(via_flag, no_disk);
    // The NIC at 00:02.0: vendor/device of e1000e, then igb.
    let id = "outl 0xcf8 0x80001000\ninl 0xcfc\n";
    let (e1000e, _, _) = qtest_with(&["qtest", "--machine", "pc"], id);
    assert_eq!(e1000e, "OK\nOK 0x10d38086\n");
    let (igb, _, _) = qtest_with(&["qtest", "--machine", "pc,nic=igb"], id);
    assert_eq!(igb, "OK\nOK 0x10c98086\n");
    for (args, says) in [
        (
            vec!["qtest", "--machine", "pc,hdx=none"],
            "has no option 'hdx'",
        ),
        (
            vec!["qtest", "--machine", "pc,hda=floppy"],
            "'hda=floppy' does not parse",
        ),
        (vec!["qtest", "--machine", "pc,nic=rtl8139"], "nic=rtl8139"),
        (
            vec!["qtest", "--machine", "ast2500,flash=zz"],
            "unknown flash part",
        ),
        (
            vec!["qtest", "--machine", "ast2500,debug-dir=/nonexistent/dir"],
            "/nonexistent/dir",
        ),
        (
            vec!["-O", "hda", "replay", "ide", "x.qtest"],
            "not key=value",
        ),
    ] {
        let (out, err, code) = qtest_with(&args, "");
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn the_pcap_option_captures_sent_and_delivered_frames_with_virtual_timestamps() {
    let scratch = tempfile::tempdir().unwrap();
    let pcap = tmp(&scratch, "nic.pcap", b"stale");
    let script = "outl 0xcf8 0x80001010\noutl 0xcfc 0xfebc0000\noutl 0xcf8 0x80001004\n\
                  outw 0xcfc 0x0006\nwrite 0x2000 0x3c 0xffffffffffff5254001234560800\n\
                  write 0x1000 0x10 0x00200000000000003c00000300000000\n\
                  writel 0xfebc3800 0x1000\nwritel 0xfebc3808 0x80\n\
                  writel 0xfebc0400 0x0000000a\nwritel 0xfebc3818 0x1\nclock_step 1000000\n\
                  event e1000e 0x525400123456aabbccddeeff0806\n";
    for nic in ["e1000e", "igb"] {
        let machine = format!("pc,nic={nic},pcap={}", pcap.display());
        let script = if nic == "igb" {
            script.replace("event e1000e", "event igb")
        } else {
            script.to_string()
        };
        let (_, err, code) = qtest_with(&["qtest", "--machine", &machine], &script);
        assert_eq!(code, Some(0), "{err}");
        let bytes = std::fs::read(&pcap).unwrap();
        assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "{nic}: pcap magic");
        assert_eq!(&bytes[20..24], &[1, 0, 0, 0], "Ethernet");
        let mut records = Vec::new();
        let mut at = 24;
        while at + 16 <= bytes.len() {
            let word = |o: usize| u32::from_le_bytes(bytes[at + o..at + o + 4].try_into().unwrap());
            let len = word(8) as usize;
            records.push((word(0), word(4), bytes[at + 16..at + 16 + len].to_vec()));
            at += 16 + len;
        }
        assert_eq!(at, bytes.len(), "{nic}: whole records");
        if nic == "e1000e" {
            // The transmitted frame (60 bytes at t=0), then the delivered one at 1 ms.
            assert_eq!(records.len(), 2, "{nic}: {records:?}");
            assert_eq!(records[0].2.len(), 60);
            assert_eq!(&records[0].2[..6], &[0xff; 6]);
            assert_eq!((records[0].0, records[0].1), (0, 0));
        }
        // igb's legacy descriptor path may differ; the delivered frame is always last.
        let last = records.last().unwrap();
        assert_eq!((last.0, last.1), (0, 1000), "{nic}");
        assert_eq!(
            last.2,
            [
                0x52, 0x54, 0, 0x12, 0x34, 0x56, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 8, 6
            ]
        );
    }
    let (_, err, code) = qtest_with(&["qtest", "--machine", "pc,pcap=/nonexistent/x.pcap"], "");
    assert_eq!(code, Some(2));
    assert!(err.contains("pcap=/nonexistent/x.pcap"), "{err}");
}
