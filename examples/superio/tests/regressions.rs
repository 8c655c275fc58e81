//! Every file of `regressions/<target>/*.qtest` replays with the outcome its header expects
//! (`harness::cli::check_regressions`, the same as `superio-devfuzz regressions regressions`).

#[test]
fn every_regression_replays_as_its_header_expects() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut out = Vec::new();
    let failed = harness::cli::check_regressions(devfuzz_superio::TARGETS, &dir, &mut out)
        .unwrap_or_else(|e| panic!("{}", e.0));
    let report = String::from_utf8(out).unwrap();
    assert_eq!(failed, 0, "{report}");
    assert!(report.lines().count() >= 1, "no regression replayed");
}

#[test]
fn every_seed_replays_clean_on_its_target() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for target in devfuzz_superio::TARGETS {
        let dir = seeds.join(target.name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        assert!(files.len() >= 2, "{}: at least two seeds", target.name);
        let args: Vec<String> = std::iter::once("replay".to_string())
            .chain(std::iter::once(target.name.to_string()))
            .chain(files.iter().map(|f| f.display().to_string()))
            .collect();
        let mut out = Vec::new();
        let code = harness::cli::run("superio-devfuzz", devfuzz_superio::TARGETS, &args, &mut out);
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    }
}

#[test]
fn the_rtc_is_caught_reading_the_host_clock() {
    // Two runs of the driver's probe, 1.1 s apart: RTCDR answers differ.
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds/superio_rtc/linux-pl031-probe.qtest");
    let args: Vec<String> = [
        "determinism",
        "superio_rtc",
        seed.to_str().unwrap(),
        "--pause-ms",
        "1100",
    ]
    .map(String::from)
    .to_vec();
    let mut out = Vec::new();
    let code = harness::cli::run("superio-devfuzz", devfuzz_superio::TARGETS, &args, &mut out);
    let report = String::from_utf8(out).unwrap();
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("NONDETERMINISTIC") && report.contains("readl 0x9010000 =>"),
        "{report}"
    );
    // The serial port has no such source.
    let serial = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/superio_serial");
    let args: Vec<String> = [
        "determinism",
        "superio_serial",
        serial.to_str().unwrap(),
        "--pause-ms",
        "10",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        harness::cli::run(
            "superio-devfuzz",
            devfuzz_superio::TARGETS,
            &args,
            &mut Vec::new()
        ),
        0
    );
}

#[test]
fn the_fuzz_entry_flags_a_run_that_differs_from_itself() {
    // check_determinism on the RTC probe: equal within one second, so retry across a second
    // boundary (at most ~2.2 s).
    let seed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds/superio_rtc/linux-pl031-probe.qtest"),
    )
    .unwrap();
    let target = harness::entry::find(devfuzz_superio::TARGETS, "superio_rtc").unwrap();
    let mut runner = harness::runner::Runner::new(target);
    let input = runner
        .trace_to_input(&harness::qtest::parse_trace(&seed).unwrap())
        .unwrap()
        .bytes;
    let start = std::time::Instant::now();
    let a = harness::entry::observe(&mut runner, &input);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let b = harness::entry::observe(&mut runner, &input);
        if let Some(d) = a.difference(&b) {
            assert!(d.starts_with("record line"), "{d}");
            break;
        }
        assert!(start.elapsed().as_secs() < 3, "no difference in 3 s");
    }
}
