//! The differential tools as users rely on them: a record replays and checks itself on every
//! target, captures of real Linux driver runs on QEMU import and check, two records diff, and
//! the lockstep diff against QEMU itself (when QEMU is installed; CI installs it).

use harness::check::{self, LocalServer};
use harness::machine::MachineOptions;
use harness::observe::{self, Observer};
use harness::runner::Runner;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn devfuzz() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_devfuzz"));
    c.current_dir(root());
    c
}

/// Run `devfuzz ARGS FILE` to its end.
fn run(args: &[&str], file: impl AsRef<std::ffi::OsStr>) -> std::process::Output {
    devfuzz().args(args).arg(file).output().unwrap()
}

/// The command ended with `code`; otherwise fail showing what it printed.
fn expect_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The path `name` in `dir`.
/// Run `devfuzz ARGS --corpus fuzz/seeds/ide --against "devfuzz qtest --machine MACHINE"` in
/// `work`: the output and its stdout as text.
fn diff_corpus(work: &Path, args: &[&str], machine: &str) -> (std::process::Output, String) {
    let me = env!("CARGO_BIN_EXE_devfuzz");
    let out = devfuzz()
        .current_dir(work)
        .args(args)
        .arg("--corpus")
        .arg(root().join("fuzz/seeds/ide"))
        .args(["--against", &format!("{me} qtest --machine {machine}")])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, shown)
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn session(target: &harness::target::Target) -> Runner {
    let mut r = Runner::for_machine(
        target.machine,
        MachineOptions {
            work_per_input: u64::MAX,
            ..MachineOptions::default()
        },
    );
    r.reset_cold();
    r
}

/// Record a run of `cmds` on a cold machine of the target's profile.
fn record(target: &harness::target::Target, cmds: &[harness::qtest::Cmd]) -> String {
    let mut runner = session(target);
    runner.machine().observe(Some(Observer::default()));
    let mut text = format!("# machine: {}\n", target.machine.name);
    let outcome = runner
        .run_trace_each(cmds, |_, m| {
            let entries = m.observer_mut().unwrap().take();
            text.push_str(&observe::render(&entries));
        })
        .unwrap();
    assert!(outcome.finding().is_none(), "{outcome:?}");
    text
}

fn seeds(target: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fuzz/seeds").join(target))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "qtest"));
    v.sort();
    v
}

#[test]
fn every_targets_seed_records_then_checks_itself_at_100_percent() {
    let mut checked = 0;
    for target in models::TARGETS {
        for seed in seeds(target.name) {
            let text = std::fs::read_to_string(&seed).unwrap();
            let cmds = check::parse_program(&text).unwrap().commands();
            let rec = record(target, &cmds);
            let program = check::parse_program(&rec).unwrap_or_else(|e| {
                panic!("{}: record does not parse: {e}\n{rec}", seed.display())
            });
            assert_eq!(program.machine.as_deref(), Some(target.machine.name));
            let mut runner = session(target);
            let report = check::check(&program, &mut LocalServer::new(&mut runner));
            assert!(report.clean(), "{}: {}", seed.display(), report.render(10));
            assert_eq!(report.commands, program.lines.len());
            checked += report.reads();
        }
    }
    assert!(checked > 100, "only {checked} reads checked over all seeds");
}

/// The whole-machine seeds that copy a device target's seed (first line `# A copy of PATH (...`)
/// are that seed as it is now, events included: the pc target sends events to every device that
/// takes them, so a copy has no reason to differ.
#[test]
fn the_pc_seeds_that_copy_a_device_seed_are_that_seed() {
    let mut copies = 0;
    for seed in seeds("pc") {
        let text = std::fs::read_to_string(&seed).unwrap();
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let Some(path) = first.strip_prefix("# A copy of ") else {
            continue;
        };
        let path = path.split_whitespace().next().unwrap_or_default();
        let source = std::fs::read_to_string(root().join(path))
            .unwrap_or_else(|e| panic!("{}: copies {path}: {e}", seed.display()));
        assert_eq!(rest, source, "{} is not a copy of {path}", seed.display());
        copies += 1;
    }
    assert!(copies >= 20, "only {copies} copies");
    let pc = models::target("pc").unwrap();
    for device in ["i8042", "piix3-ide", "e1000e"] {
        assert!(pc.event_devices.contains(&device), "{device}");
    }
}

#[test]
fn a_binary_input_with_lazy_dma_fills_records_as_a_program_that_checks() {
    // A binary input's record holds the prologue and every lazy fill as an explicit write
    // before the access that consumed it, so it replays without the input's DMA patterns.
    let target = models::target("e1000e").unwrap();
    use harness::access::AccessSize::B4;
    use harness::ops::Op;
    // A transmit ring in RAM the program never wrote: the NIC's descriptor fetch is filled
    // from the DMA pattern. Region 2 is e1000e-mmio (after the PCI host's two registers).
    let w = |offset: u32, value: u64| Op::Write {
        region: 2,
        offset,
        size: B4,
        value,
    };
    let mut e = harness::ops::Encoder::default();
    for op in [
        Op::DmaPattern(&[0xa5, 0x5a, 0, 0]),
        w(0x3800, 0x10000),
        w(0x3804, 0),
        w(0x3808, 0x80),
        w(0x400, 0x2),
        w(0x3818, 1),
        Op::Read {
            region: 2,
            offset: 0x3810,
            size: B4,
        },
        Op::ClockStep(1_000_000),
        Op::Read {
            region: 2,
            offset: 0xc0,
            size: B4,
        },
    ] {
        e.push(&op).unwrap();
    }
    let with_pattern = e.finish();
    let mut runner = Runner::new(target);
    runner.machine().observe(Some(Observer::default()));
    let mut text = String::from("# machine: pc\n");
    let outcome = runner.run_input_each(&with_pattern, |_, m| {
        text.push_str(&observe::render(&m.observer_mut().unwrap().take()));
    });
    assert!(outcome.finding().is_none());
    assert!(text.contains("# fill "), "{text}");
    let program = check::parse_program(&text).unwrap();
    assert!(program.checked_reads() >= 2, "{outcome:?}\n{text}");
    let mut fresh = session(target);
    let report = check::check(&program, &mut LocalServer::new(&mut fresh));
    assert!(report.clean(), "{}", report.render(10));
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// Each capture: (file, device, machine, least score in percent). `@DISK@` in the machine is
/// the capture's disk image ([`capture_disk`]). The floors are today's scores, or 99% of QEMU's
/// ceiling (QEMU replaying its own capture with `check --against`, configured as the devfuzz
/// machine: `-m 128M`, no serial port; docs/differential.md) where the model reaches it: a
/// model change that answers real drivers worse fails here.
const CAPTURES: &[(&str, &str, &str, f64)] = &[
    // Ceilings: e1000e 91.10%, e1000e-nomsi 91.10%, igb 98.32% (docs/differential.md); the
    // models beat them, because the replay here steps the clock and autonegotiation completes.
    ("e1000e", "e1000e", "pc", 92.4),
    ("e1000e-nomsi", "e1000e", "pc", 92.9),
    ("igb", "igb", "pc,nic=igb", 98.9),
    // Ceiling 89.84%: the keys and mouse events came from QEMU's monitor, not in the log.
    ("ps2", "i8042", "pc", 88.9),
    // Ceiling 97.80% (with the capture's disk image and an empty CD-ROM on both sides).
    (
        "ide",
        "piix3-ide",
        "pc,hda=disk-cow:@DISK@,hdc=cdrom-empty",
        96.8,
    ),
    // One import per PCI function. Ceilings: i440FX 99.31% (RAM size at 0x57: the capture ran
    // 256 MiB), PIIX4_PM 98.64% (serial decode at 0x67: the capture had a serial port), the
    // others 100% (tests/conformance/captures/pci.md).
    ("pci", "i440FX", "pc", 98.3),
    ("pci", "PIIX3", "pc", 99.0),
    ("pci", "piix3-ide", "pc", 99.0),
    ("pci", "PIIX4_PM", "pc", 97.6),
    ("pci", "e1000e", "pc", 100.0),
];

/// The disk image of the `ide` and `pci` captures (tests/conformance/capture/capture.sh,
/// `@DISK@`): 8 MiB, sector n the text "devfuzz sector n " padded with dots to 511 bytes, then
/// a newline. Written into `dir`.
fn capture_disk(dir: &tempfile::TempDir) -> PathBuf {
    let path = tmp(dir, "capture-disk.img");
    let mut image = Vec::with_capacity(16384 * 512);
    for sector in 0..16384 {
        let line = format!("devfuzz sector {sector} ");
        image.extend_from_slice(format!("{line:.<511}\n").as_bytes());
    }
    std::fs::write(&path, image).unwrap();
    path
}

#[test]
fn captures_of_real_linux_drivers_import_and_check() {
    let scratch = tempfile::tempdir().unwrap();
    let disk = capture_disk(&scratch);
    for &(file, device, machine, floor) in CAPTURES {
        let path = root().join(format!("tests/conformance/captures/{file}.log.gz"));
        let log = gunzip(&path);
        let machine = machine.replace("@DISK@", disk.to_str().unwrap());
        let (name, opts) = machine.split_once(',').unwrap_or((&machine, ""));
        let profile = models::machine(name).unwrap();
        let build = profile.builder(opts).unwrap();
        let mut runner = Runner::for_machine_with(
            profile,
            build,
            MachineOptions {
                work_per_input: u64::MAX,
                ..MachineOptions::default()
            },
        );
        runner.reset_cold();
        let (body, summary) = harness::qemu_log::import(
            &log,
            runner.machine(),
            &harness::qemu_log::ImportOptions {
                device: device.into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(summary.reads > 50, "{file}: {summary:?}");
        assert!(summary.qemu_bdf.is_some() || device == "i8042", "{file}");
        let program = check::parse_program(&body).unwrap();
        assert_eq!(program.lines.len(), summary.commands + summary.clock_steps);
        let report = check::check(&program, &mut LocalServer::new(&mut runner));
        assert!(report.stopped.is_none(), "{file}: {:?}", report.stopped);
        assert!(
            report.score() >= floor,
            "{file} ({device}): score {:.2}% below {floor}%\n{}",
            report.score(),
            report.render(15)
        );
    }
}

#[test]
fn import_refuses_a_malformed_log_line_and_an_unknown_device() {
    let scratch = tempfile::tempdir().unwrap();
    let log = tmp(&scratch, "bad.log");
    std::fs::write(
        &log,
        "memory_region_ops_read cpu 0 mr 0x1 addr 0x60 value 0x1 size 4 name 'i8042-data'\nmemory_region_ops_read cpu 0 mr 0x1 addr 0x60 value zz size 1 name 'i8042-data'\n",
    )
    .unwrap();
    let out = run(
        &["import", log.to_str().unwrap(), "--device", "i8042", "-o"],
        tmp(&scratch, "bad.check"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2: malformed memory_region_ops_read event"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = run(
        &["import", log.to_str().unwrap(), "--device", "nosuch", "-o"],
        tmp(&scratch, "bad2.check"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device named 'nosuch'"));
}

#[test]
fn check_exit_codes_name_the_first_divergence() {
    let scratch = tempfile::tempdir().unwrap();
    let good = tmp(&scratch, "good.check");
    std::fs::write(&good, "# machine: pc\noutb 0x64 0xaa\ninb 0x60 => 0x55\n").unwrap();
    let out = run(&["check"], &good);
    expect_exit(&out, 0);
    let bad = tmp(&scratch, "bad-answer.check");
    std::fs::write(
        &bad,
        "# machine: pc\noutb 0x64 0xaa\ninb 0x60 => 0x54\ninb 0x64 => 0x10/0x10\n",
    )
    .unwrap();
    let out = run(&["check"], &bad);
    let text = String::from_utf8_lossy(&out.stdout);
    expect_exit(&out, 1);
    assert!(
        text.contains("first divergence at line 3: inb 0x60"),
        "{text}"
    );
    assert!(text.contains("expected 0x54, got 0x55"), "{text}");
    let malformed = tmp(&scratch, "malformed.check");
    std::fs::write(&malformed, "outb 0x64 0xaa => 1\n").unwrap();
    let out = run(&["check", "--machine", "pc"], &malformed);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["check", "--machine", "nosuch"], &good);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn two_records_diff_by_register_and_watch_shows_the_dma() {
    let scratch = tempfile::tempdir().unwrap();
    let seed = root().join("fuzz/seeds/e1000e/linux-bringup-loopback.qtest");
    let a = tmp(&scratch, "a.record");
    let out = devfuzz()
        .args(["replay", "e1000e"])
        .arg(&seed)
        .arg("--record")
        .arg(&a)
        .output()
        .unwrap();
    expect_exit(&out, 0);
    let text = std::fs::read_to_string(&a).unwrap();
    assert!(
        text.contains("# dma e1000e"),
        "the record shows the NIC's DMA"
    );
    assert!(text.contains("=> 0x"), "reads carry their answers");
    // The record checks itself, and is identical to itself.
    let out = run(&["check"], &a);
    expect_exit(&out, 0);
    let out = devfuzz().arg("diff").arg(&a).arg(&a).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Change one answer: diff names the register and the line.
    let line = text
        .lines()
        .position(|l| l.contains("=> ") && l.contains("e1000e-mmio+0x8"))
        .expect("a STATUS read");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let l = &lines[line];
    let at = l.find("=> ").unwrap();
    let rest = &l[at + 3..];
    let end = rest.find(' ').unwrap_or(rest.len());
    lines[line] = format!("{}=> 0xdead{}", &l[..at], &rest[end..]);
    let b = tmp(&scratch, "b.record");
    std::fs::write(&b, lines.join("\n")).unwrap();
    let out = devfuzz().arg("diff").arg(&a).arg(&b).output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    expect_exit(&out, 1);
    assert!(shown.contains("e1000e-mmio+0x8"), "{shown}");
    assert!(shown.contains("reads compared"), "{shown}");
    // A DMA watchpoint on the first DMA's buffer names the model's source line.
    let dma = text
        .lines()
        .find(|l| l.starts_with("# dma e1000e write"))
        .expect("a DMA write");
    let range = dma.split_whitespace().nth(4).unwrap();
    let out = devfuzz()
        .args(["replay", "e1000e"])
        .arg(&seed)
        .args(["--watch", &format!("{range}:w")])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("e1000e wrote"), "{shown}");
    assert!(shown.contains("linux-bringup-loopback.qtest:"), "{shown}");
    assert!(shown.contains("models/src/"), "{shown}");
    // With --watch-break the first hit is a finding.
    let out = devfuzz()
        .args(["replay", "e1000e"])
        .arg(&seed)
        .args(["--watch", &format!("{range}:w"), "--watch-break"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FINDING watch:e1000e:models/src/"));
}

fn qemu() -> Option<&'static str> {
    let found = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!(
            "CI runs the live diff against QEMU: qemu-system-x86_64 is missing (.ci/run installs it)"
        );
    }
    found.then_some("qemu-system-x86_64 -M pc -m 128M -nodefaults -display none -S -qtest stdio -device e1000e,romfile=")
}

#[test]
fn lockstep_diff_against_qemu_itself() {
    let scratch = tempfile::tempdir().unwrap();
    let Some(against) = qemu() else {
        eprintln!(
            "note: qemu-system-x86_64 not installed; the live diff against QEMU is not run here"
        );
        return;
    };
    let program = tmp(&scratch, "lockstep.qtest");
    std::fs::write(
        &program,
        "outl 0xcf8 0x80001000\ninl 0xcfc\noutl 0xcf8 0x80001010\noutl 0xcfc 0xfebc0000\noutl 0xcf8 0x80001004\noutw 0xcfc 0x6\nreadl 0xfebc0008\nreadl 0xfebc5400\noutb 0x64 0xaa\ninb 0x60\nclock_step 1000\n",
    )
    .unwrap();
    let written = tmp(&scratch, "lockstep.check");
    let out = devfuzz()
        .args(["diff", "--machine", "pc", "--against", against])
        .arg(&program)
        .arg("--write-check")
        .arg(&written)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    expect_exit(&out, 0);
    assert!(shown.contains("4 of       4 reads match"), "{shown}");
    // QEMU from Debian has no qtest accelerator, so it refuses clock_step: listed apart.
    assert!(shown.contains("refused"), "{shown}");
    // The reference's answers became a check program that this machine passes.
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.contains("inl 0xcfc => 0x10d38086"), "{text}");
    let out = run(&["check"], &written);
    assert_eq!(out.status.code(), Some(0));
    // A server that exits is a clear error, exit 2.
    let out = run(&["diff", "--machine", "pc", "--against", "false"], &program);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exited"));
}

#[test]
fn diff_corpus_groups_divergences_by_register_with_any_qtest_server_as_reference() {
    let scratch = tempfile::tempdir().unwrap();
    let work = tmp(&scratch, "diffcorpus");
    std::fs::create_dir_all(work.join("regressions")).unwrap();
    std::fs::create_dir_all(work.join("harness")).unwrap();
    // The same machine as reference: nothing differs.
    let (out, shown) = diff_corpus(&work, &["diff-corpus", "ide"], "pc");
    expect_exit(&out, 0);
    assert!(shown.contains("new divergences: 0"), "{shown}");
    // A reference without the disk: the IDE status reads differ, grouped by register, and the
    // smallest input of each group is written as a check program with the reference's answers.
    let (out, shown) = diff_corpus(&work, &["diff-corpus", "ide"], "pc,hda=none");
    expect_exit(&out, 0);
    // Each input is grouped by its first divergence: a task-file register of the missing disk.
    assert!(shown.contains("ide0-ctl+0x0/1"), "{shown}");
    let written = work.join("fuzz/diffs/ide/ide0-ctl_0x0_1.qtest");
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.contains("# machine: pc"), "{text}");
    // That program is a check program: this machine (with the disk) fails it, the
    // reference's machine passes it.
    let out = run(&["check"], &written);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["check", "--machine", "pc,hda=none"], &written);
    expect_exit(&out, 0);
    // `-O` options reach this side's machine (once) and the files' headers.
    let (out, shown) = diff_corpus(
        &work,
        &["-O", "hda=none", "diff-corpus", "ide"],
        "pc,hda=none",
    );
    expect_exit(&out, 0);
    assert!(shown.contains("new divergences: 0"), "{shown}");
    // A difference written down beside the model is listed apart, with its reason.
    let model = work.join("models/src/ide");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(
        model.join("qemu-differences.txt"),
        "# test\n*  the test's reference has no disk\n",
    )
    .unwrap();
    let (_, shown) = diff_corpus(&work, &["diff-corpus", "ide"], "pc,hda=none");
    let (new, kept) = shown.split_once("intended differences").unwrap();
    assert!(new.contains("new divergences: 0"), "{shown}");
    assert!(
        kept.contains("ide0-ctl+0x0/1") && kept.contains("has no disk"),
        "{shown}"
    );
    // An input is grouped by its first difference that is not written down: with only
    // Alternate Status intended, the inputs that differed there first move on.
    std::fs::write(
        model.join("qemu-differences.txt"),
        "ide0-ctl+0x0  the test's reference has no disk\n",
    )
    .unwrap();
    let (_, shown) = diff_corpus(&work, &["diff-corpus", "ide"], "pc,hda=none");
    let (new, _) = shown.split_once("intended differences").unwrap();
    assert!(
        !new.contains("ide0-ctl+0x0/1") && !new.contains("new divergences: 0"),
        "{shown}"
    );
}

#[test]
fn diff_corpus_sets_accesses_past_a_regions_end_apart() {
    let scratch = tempfile::tempdir().unwrap();
    let work = tmp(&scratch, "pastend");
    std::fs::create_dir_all(work.join("regressions")).unwrap();
    std::fs::create_dir_all(work.join("harness")).unwrap();
    // A stand-in for QEMU, which hands a wide access to the region it starts in: every read
    // answers 0x1818 (the i8042 status twice), every other command OK.
    let script = tmp(&scratch, "wide.py");
    std::fs::write(
        &script,
        "import sys\nfor line in sys.stdin:\n    w = line.split()\n    print('OK 0x1818' if w[0] in ('inb', 'inw', 'inl') else 'OK', flush=True)\n",
    )
    .unwrap();
    let corpus = tmp(&scratch, "corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    // `inw 0x64` runs past the one-byte command port: this bus reads 0xff from 0x65.
    std::fs::write(corpus.join("a.qtest"), "inw 0x64\n").unwrap();
    // `outw 0xcfb` puts its second byte into CONFIG_DATA here (a split write); the read
    // after it is only its consequence.
    std::fs::write(
        corpus.join("b.qtest"),
        "outl 0xcf8 0x80000000\noutw 0xcfb 0x1\ninl 0xcfc\n",
    )
    .unwrap();
    // A read inside one register that differs is a new divergence.
    std::fs::write(corpus.join("c.qtest"), "inb 0x64\n").unwrap();
    // After a system reset the guest asked for, the key says so.
    std::fs::write(
        corpus.join("d.qtest"),
        "outl 0xcf8 0x80000000\noutb 0xcf9 0x6\ninl 0xcf8\n",
    )
    .unwrap();
    // A difference read while a device timer of ours is pending (the disk's request latency)
    // says so.
    std::fs::write(
        corpus.join("e.qtest"),
        "outb 0x1f6 0xe0\noutb 0x1f2 0x1\noutb 0x1f7 0x20\ninb 0x3f6\n",
    )
    .unwrap();
    let out = devfuzz()
        .current_dir(&work)
        .args(["diff-corpus", "ps2", "--corpus"])
        .arg(&corpus)
        .args(["--against", &format!("python3 {}", script.display())])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    expect_exit(&out, 0);
    let (new, kept) = shown.split_once("intended differences").unwrap();
    assert!(
        new.contains("new divergences: 3")
            && new.contains("  i8042-cmd+0x0/1 ")
            && new.contains("after-reset:pci-conf-idx+0x0/4"),
        "{shown}"
    );
    assert!(new.contains("timer-pending:ide0-ctl+0x0/1"), "{shown}");
    assert!(kept.contains("i8042-cmd+0x0/2 past-end"), "{shown}");
    assert!(
        kept.contains("pci-conf-idx+0x3/2 write past-end"),
        "{shown}"
    );
    assert!(kept.contains("docs/ARCHITECTURE.md"), "{shown}");
}

#[test]
fn diff_corpus_marks_differences_after_a_choice_the_model_noted() {
    let scratch = tempfile::tempdir().unwrap();
    let work = tmp(&scratch, "choice");
    std::fs::create_dir_all(work.join("regressions")).unwrap();
    std::fs::create_dir_all(work.join("harness")).unwrap();
    // A stand-in for QEMU: every read answers 0x2 (an m25p80 that kept WEL), the rest OK.
    let script = tmp(&scratch, "wel.py");
    std::fs::write(
        &script,
        "import sys\nfor line in sys.stdin:\n    w = line.split()\n    print('OK 0x2' if w[0].startswith('read') else 'OK', flush=True)\n",
    )
    .unwrap();
    let corpus = tmp(&scratch, "corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    // CS0 in user mode: WREN, a page program, then RDSR. The flash cleared WEL after the
    // program (its datasheet choice) and notes it when RDSR would show QEMU's WEL.
    let cs = |b: &str| format!("writel 0x1e620010 0x7\nwritel 0x1e620010 0x3\n{b}");
    std::fs::write(
        corpus.join("a.qtest"),
        format!(
            "writel 0x1e620000 0x1000a\n{}{}{}writel 0x1e620010 0x7\nreadl 0x1e620000\n",
            cs("writeb 0x20000000 0x6\n"),
            cs("writel 0x20000000 0x2\nwriteb 0x20000000 0xaa\n"),
            cs("writeb 0x20000000 0x5\nreadb 0x20000000\n"),
        ),
    )
    .unwrap();
    // A difference before any choice keeps its plain key.
    std::fs::write(corpus.join("b.qtest"), "readl 0x1e620000\n").unwrap();
    let run_corpus = || {
        let out = devfuzz()
            .current_dir(&work)
            .args(["diff-corpus", "aspeed_fmc", "--corpus"])
            .arg(&corpus)
            .args(["--against", &format!("python3 {}", script.display())])
            .output()
            .unwrap();
        expect_exit(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let key = "choice:wel-cleared-after-write:aspeed.smc.flash+0x0/1";
    let shown = run_corpus();
    let (new, _) = shown.split_once("intended differences").unwrap();
    // The RDSR read is the first difference of a.qtest, marked with the choice (its later
    // read of CONF too, so it is not what a.qtest is grouped by); b.qtest's read is plain.
    assert!(
        new.contains("new divergences: 2") && new.contains(key) && new.contains("aspeed.smc+0x0/4"),
        "{shown}"
    );
    // Written down as `choice:NAME`, every difference after the choice is intended.
    let model = work.join("models/src/aspeed");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(
        model.join("qemu-differences.txt"),
        "choice:wel-cleared-after-write  the test's WEL\n",
    )
    .unwrap();
    let shown = run_corpus();
    let (new, kept) = shown.split_once("intended differences").unwrap();
    assert!(
        new.contains("new divergences: 1") && new.contains("aspeed.smc+0x0/4"),
        "{shown}"
    );
    assert!(
        kept.contains(key) && kept.contains("the test's WEL"),
        "{shown}"
    );
    // With the register alone written down (as for the other marks) only that read is
    // intended: a.qtest moves on to its marked read of CONF. Another choice's name is not
    // enough.
    std::fs::write(
        model.join("qemu-differences.txt"),
        "choice:dummy-counted-in-bytes  another\naspeed.smc.flash+0x0  the register\n",
    )
    .unwrap();
    let shown = run_corpus();
    let (new, _) = shown.split_once("intended differences").unwrap();
    assert!(
        !new.contains(key) && new.contains("choice:wel-cleared-after-write:aspeed.smc+0x0/4"),
        "{shown}"
    );
    std::fs::write(
        model.join("qemu-differences.txt"),
        "choice:dummy-counted-in-bytes  another\n",
    )
    .unwrap();
    let shown = run_corpus();
    let (new, _) = shown.split_once("intended differences").unwrap();
    assert!(new.contains(key), "{shown}");
}

#[test]
fn minimize_with_a_watch_shrinks_to_the_dma_that_touches_the_buffer() {
    let scratch = tempfile::tempdir().unwrap();
    let out_file = tmp(&scratch, "dma.qtest");
    let out = devfuzz()
        .args([
            "minimize",
            "e1000e",
            "fuzz/seeds/e1000e/linux-bringup-loopback.qtest",
            "-o",
        ])
        .arg(&out_file)
        .args(["--watch", "0x30000+0x40:w"])
        .output()
        .unwrap();
    expect_exit(&out, 0);
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        text.contains("# signature: watch:e1000e:models/src/"),
        "{text}"
    );
    let commands = text.lines().filter(|l| !l.starts_with('#')).count();
    assert!(commands < 20, "{commands} commands:\n{text}");
    // The minimised program still writes into the buffer.
    let out = devfuzz()
        .args(["replay", "e1000e"])
        .arg(&out_file)
        .args(["--watch", "0x30000+0x40:w"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("e1000e wrote"));
}

#[test]
fn lockstep_sets_asynchronous_irq_lines_aside() {
    let scratch = tempfile::tempdir().unwrap();
    // A stand-in qtest server that answers like QEMU after `irq_intercept_in`: an `IRQ raise`
    // line may come before any reply.
    let script = tmp(&scratch, "irq-server.py");
    std::fs::write(
        &script,
        "import sys\nfor line in sys.stdin:\n    w = line.split()\n    print('IRQ raise 1', flush=True)\n    if w[0] == 'inb':\n        print('OK 0x0055', flush=True)\n    else:\n        print('OK', flush=True)\n",
    )
    .unwrap();
    let program = tmp(&scratch, "irq.qtest");
    std::fs::write(&program, "outb 0x64 0xaa\ninb 0x60\n").unwrap();
    let out = devfuzz()
        .args(["diff", "--machine", "pc", "--against"])
        .arg(format!("python3 {}", script.display()))
        .arg(&program)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    expect_exit(&out, 0);
    assert!(shown.contains("2 asynchronous IRQ lines"), "{shown}");
}

/// The ASPEED conformance programs hold QEMU's answers (tests/conformance/aspeed/README.md):
/// QEMU, run as each one's `# reference:` line says, still gives all of them. Runs when
/// qemu-system-arm is installed; models/tests/aspeed_qemu_conformance.rs scores our machines.
#[test]
fn aspeed_conformance_checks_are_still_qemus_answers() {
    let found = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!(
            "CI re-runs the ASPEED checks on QEMU: qemu-system-arm is missing (.ci/run installs it)"
        );
    }
    if !found {
        eprintln!("note: qemu-system-arm not installed; the ASPEED checks are not re-run on it");
        return;
    }
    let dir = root().join("tests/conformance/aspeed");
    let mut checks: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "check"))
        .collect();
    checks.sort();
    assert!(checks.len() >= 10, "{checks:?}");
    for check in checks {
        let text = std::fs::read_to_string(&check).unwrap();
        let reference = text
            .lines()
            .find_map(|l| l.strip_prefix("# reference: "))
            .unwrap_or_else(|| panic!("{}: no '# reference:' line", check.display()));
        let out = devfuzz()
            .arg("check")
            .arg(&check)
            .args(["--against", reference])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: QEMU no longer answers as recorded\n{}{}",
            check.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
