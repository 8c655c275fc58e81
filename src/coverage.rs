//! `devfuzz coverage`: line coverage of the models from a corpus, the target's own device files
//! first.
//!
//! `cargo fuzz coverage` builds the target with `-Cinstrument-coverage`, runs every corpus input
//! and merges the profiles into `fuzz/coverage/<target>/coverage.profdata`; `llvm-cov export
//! -summary-only` then gives the per-file summary (JSON) and `llvm-cov show` the HTML report
//! (`fuzz/coverage/<target>/html/index.html`). The LLVM tools must be of the LLVM that the
//! nightly rustc was built with (its `rustc -vV` says which): Debian's `llvm-<major>` package,
//! whose `llvm-profdata-<major>` and `llvm-cov-<major>` are on PATH. When they are missing and
//! devfuzz runs as root, it installs that package with apt-get.

use crate::coverage_unreached::{self, UnreachedBlock};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which sources are each target's own device files: a device's (by its `Device::name`), a PCI
/// function's configuration space (`config:<device>`), what a target leaves out
/// (`target:<name>`), the devices' setup files (`setup:`, never device files); one a line, the
/// name then paths from the root (folders end in `/`).
const DEVICE_FILES: &str = "fuzz/device-files.txt";

/// The LLVM major version to use when the nightly rustc does not say: the one of nightly rustc
/// when this was written.
const DEFAULT_LLVM_MAJOR: u32 = 22;

/// Source files that are not the project's: the cargo registry and git checkouts, the standard
/// library (remapped to `/rustc/<hash>/` or under a rustup toolchain) and the fuzz target stubs.
const IGNORE_FILENAME_REGEX: &str =
    r"(\.cargo/(registry|git)/|/rustc/[0-9a-f]+/|\.rustup/toolchains/|/lib/rustlib/src/)";

/// What `devfuzz coverage` measured.
#[derive(Debug, Clone)]
pub struct CoverageReport {
    /// Per-file summary (lines, functions, regions): the target's own device files first with
    /// their total, then the other files under `models/` and `harness/`, with a total for
    /// each; paths relative to the root.
    pub table: String,
    /// `fuzz/coverage/<target>/html/index.html`.
    pub html_index: PathBuf,
    /// Lines of the target's own device files, and how many of them the corpus executed.
    pub device_lines: LineCoverage,
    /// Percentage of the lines of all files under `models/` that the corpus executed.
    pub line_percent_models: f64,
    /// The largest runs of the device files' lines that never ran, largest first (as many as
    /// asked for).
    pub unreached: Vec<UnreachedBlock>,
}

/// Lines of a set of files and how many of them ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LineCoverage {
    /// Lines executed at least once.
    pub covered: u64,
    /// Lines with code.
    pub total: u64,
}

impl LineCoverage {
    /// `covered / total` in percent (100 for no lines).
    pub fn percent(&self) -> f64 {
        percent(self.total, self.total - self.covered.min(self.total))
    }
}

/// A target's own device files: paths under the root (folders end in `/`) it counts, less the
/// ones it leaves out and the setup files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceSources {
    /// Files and folders counted.
    pub include: Vec<String>,
    /// Files and folders inside `include` that are not (parts of a device the target's regions
    /// do not reach).
    pub exclude: Vec<String>,
    /// Files inside `include` that run only for a machine option (its parsing, the image and
    /// capture files it names), which no target's machine sets: shown apart, never counted.
    pub setup: Vec<String>,
}

impl DeviceSources {
    /// Whether `file` (relative to the root) is one of the target's device files.
    pub fn contains(&self, file: &str) -> bool {
        self.includes(file) && !self.setup.iter().any(|s| under(file, s))
    }

    /// Whether `file` is a setup file of the target's devices (see [`DeviceSources::setup`]).
    pub fn is_setup(&self, file: &str) -> bool {
        self.includes(file) && self.setup.iter().any(|s| under(file, s))
    }

    fn includes(&self, file: &str) -> bool {
        self.include.iter().any(|s| under(file, s)) && !self.exclude.iter().any(|s| under(file, s))
    }
}

/// Whether `file` is `path`, or lies under it when it is a folder (ends in `/`).
fn under(file: &str, path: &str) -> bool {
    file == path || (path.ends_with('/') && file.starts_with(path))
}

/// The sources of the devices `target` fuzzes, from `fuzz/device-files.txt` (its comments say
/// the rules): its READ/WRITE and EVENT devices' sources (every device of its machine for `*`);
/// for a target of PCI configuration space alone, every PCI function's configuration-space
/// sources and the shared header's; less what the file says the target leaves out.
pub fn device_sources(
    root: &Path,
    target: &harness::target::Target,
) -> Result<DeviceSources, String> {
    let path = root.join(DEVICE_FILES);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table = parse_device_files(&text);
    let spec = (target.machine.build)();
    let mut keys: Vec<String> = Vec::new();
    let mut add = |k: String| {
        if !keys.contains(&k) {
            keys.push(k);
        }
    };
    for d in target.devices.iter().chain(target.event_devices) {
        if *d == "*" {
            spec.devices
                .iter()
                .for_each(|dev| add(dev.name().to_string()));
        } else {
            add(d.to_string());
        }
    }
    // A target of PCI configuration space alone (no device regions of its own): the
    // configuration space of every PCI function. Other targets reach configuration space too,
    // but it is not what they fuzz.
    if target.pci && target.devices.is_empty() && target.event_devices.is_empty() {
        config_keys(&spec).into_iter().for_each(&mut add);
    }
    let mut sources = DeviceSources::default();
    let mut unknown = Vec::new();
    for k in &keys {
        match table.iter().find(|(name, _)| name == k) {
            Some((_, files)) => {
                for f in files {
                    if !sources.include.contains(f) {
                        sources.include.push(f.clone());
                    }
                }
            }
            None => unknown.push(k.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "{}: no entry for device(s) {} of target {}",
            DEVICE_FILES,
            unknown.join(", "),
            target.name
        ));
    }
    let own = format!("target:{}", target.name);
    for (_, files) in table.iter().filter(|(name, _)| *name == own) {
        for f in files {
            match f.strip_prefix('-') {
                Some(left_out) => sources.exclude.push(left_out.to_string()),
                None => {
                    return Err(format!(
                        "{DEVICE_FILES}: '{f}' under {own}: a target's line lists files it leaves out, each as -path"
                    ));
                }
            }
        }
    }
    for (_, files) in table.iter().filter(|(name, _)| name == "setup:") {
        sources.setup.extend(files.iter().cloned());
    }
    Ok(sources)
}

/// The `config:` keys of a machine's PCI functions: the shared header (`config:*`), each
/// function's own (`config:<device>`), and the expansion ROM BAR's (`config:rom`) and the
/// 64-bit BARs' (`config:bar64`) when a function declares one.
fn config_keys(spec: &harness::machine::MachineSpec) -> Vec<String> {
    let mut keys = vec!["config:*".to_string()];
    let functions = spec
        .pci
        .iter()
        .filter_map(|(_, id)| spec.devices.get(usize::from(id.0)));
    for dev in functions {
        keys.push(format!("config:{}", dev.name()));
        for (key, declared) in [
            ("config:rom", dev.pci().is_some_and(|c| c.has_rom())),
            ("config:bar64", dev.pci().is_some_and(|c| c.has_bar64())),
        ] {
            if declared && !keys.iter().any(|k| k == key) {
                keys.push(key.into());
            }
        }
    }
    keys
}

/// `fuzz/device-files.txt`: (name, sources) per line; `#` starts a comment.
fn parse_device_files(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?;
            Some((name.to_string(), words.map(String::from).collect()))
        })
        .collect()
}

/// One file's row of the coverage summary (counts only; percentages are derived).
#[derive(Debug, Clone, Default, PartialEq)]
struct FileRow {
    /// Path relative to the root when it lies under it.
    file: String,
    regions: u64,
    missed_regions: u64,
    functions: u64,
    missed_functions: u64,
    lines: u64,
    missed_lines: u64,
}

impl FileRow {
    fn add(&mut self, other: &FileRow) {
        self.regions += other.regions;
        self.missed_regions += other.missed_regions;
        self.functions += other.functions;
        self.missed_functions += other.missed_functions;
        self.lines += other.lines;
        self.missed_lines += other.missed_lines;
    }
}

/// The LLVM tools used: `llvm-cov` of the right version, and a folder holding the matching
/// `llvm-profdata` for `cargo fuzz coverage --llvm-path`.
#[derive(Debug)]
struct LlvmTools {
    cov: PathBuf,
    bin_dir: PathBuf,
}

/// A coverage measurement: the per-file rows and what made them.
struct Measured {
    rows: Vec<FileRow>,
    binary: PathBuf,
    instr_profile: String,
    ignore: String,
    cov: PathBuf,
    out_dir: PathBuf,
}

/// Build the coverage binary, run `corpus` (default: the seeds in `fuzz/corpus/<target>`)
/// through it and read the per-file summary.
fn measure(root: &Path, target: &str, corpus: Option<&Path>) -> Result<Measured, String> {
    let Some(t) = models::target(target) else {
        let names: Vec<&str> = models::TARGETS.iter().map(|t| t.name).collect();
        return Err(format!(
            "unknown target '{target}' (targets: {})",
            names.join(", ")
        ));
    };
    let fuzz_dir = root.join("fuzz");
    let target_file = fuzz_dir.join("fuzz_targets").join(format!("{target}.rs"));
    if !target_file.is_file() {
        return Err(format!(
            "no cargo-fuzz target {target} (expected {})",
            target_file.display()
        ));
    }
    crate::campaign::ensure_cargo_fuzz()?;
    let tools = ensure_llvm_tools(&fuzz_dir)?;

    let corpus = match corpus {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(format!(
                    "corpus {} is not a folder of inputs",
                    dir.display()
                ));
            }
            dir.to_path_buf()
        }
        None => {
            let seeded = crate::campaign::seed_corpus(root, t)?;
            eprintln!("devfuzz: {seeded} seed(s) converted into fuzz/corpus/{target}");
            fuzz_dir.join("corpus").join(target)
        }
    };
    let inputs = std::fs::read_dir(&corpus)
        .map_err(|e| format!("cannot read corpus {}: {e}", corpus.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .count();
    if inputs == 0 {
        return Err(format!("corpus {} holds no input files", corpus.display()));
    }

    let out_dir = fuzz_dir.join("coverage").join(target);
    // Profiles of an earlier, larger run would otherwise be merged in.
    let _ = std::fs::remove_dir_all(out_dir.join("raw"));
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let log = out_dir.join("cargo-fuzz-coverage.log");
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args(["+nightly", "fuzz", "coverage"])
        // The campaign's build flags (no sanitizer: coverage of the same code, faster runs).
        .args(crate::campaign::fuzz_build_args("none", false))
        .arg("--llvm-path")
        .arg(&tools.bin_dir)
        .arg(target)
        .arg(&corpus)
        .env_remove("DEVFUZZ_BUGS");
    eprintln!(
        "devfuzz: running cargo +nightly fuzz coverage --sanitizer none --llvm-path {} {target} {} ({inputs} inputs; log in {})",
        tools.bin_dir.display(),
        corpus.display(),
        rel(root, &log)
    );
    run_logged(&mut cmd, &log)?;

    let profdata = out_dir.join("coverage.profdata");
    if !profdata.is_file() {
        return Err(format!(
            "cargo fuzz coverage wrote no {} (see {})",
            profdata.display(),
            log.display()
        ));
    }
    let binary = find_coverage_binary(root, target)?;
    let instr_profile = format!("-instr-profile={}", profdata.display());
    let ignore = format!("-ignore-filename-regex={IGNORE_FILENAME_REGEX}");

    eprintln!(
        "devfuzz: running {} export -summary-only {} {instr_profile} {ignore}",
        tools.cov.display(),
        rel(root, &binary)
    );
    let export = llvm_cov(
        &tools.cov,
        "export",
        [&binary, Path::new(&instr_profile), Path::new(&ignore)],
        ["-summary-only"],
    )?;
    let rows = parse_export(&export, root)?;
    if rows.is_empty() {
        return Err(format!(
            "the coverage summary names no file under models/ or harness/ (binary {}, profile {})",
            binary.display(),
            profdata.display()
        ));
    }
    Ok(Measured {
        rows,
        binary,
        instr_profile,
        ignore,
        cov: tools.cov,
        out_dir,
    })
}

/// Lines of `target`'s own device files that the inputs in `corpus` execute (no HTML report).
pub fn device_lines(root: &Path, target: &str, corpus: &Path) -> Result<LineCoverage, String> {
    let t = models::target(target).ok_or_else(|| format!("unknown target '{target}'"))?;
    let sources = device_sources(root, t)?;
    let m = measure(root, target, Some(corpus))?;
    Ok(sum_lines(
        m.rows.iter().filter(|r| sources.contains(&r.file)),
    ))
}

/// The lines of `rows` together.
fn sum_lines<'a>(rows: impl Iterator<Item = &'a FileRow>) -> LineCoverage {
    rows.fold(LineCoverage::default(), |acc, r| LineCoverage {
        covered: acc.covered + (r.lines - r.missed_lines.min(r.lines)),
        total: acc.total + r.lines,
    })
}

/// Measure the line coverage of `target`'s fuzz target on `corpus` (a folder of binary inputs;
/// default `fuzz/corpus/<target>`, first refreshed from the seeds), under the workspace `root`,
/// with the `unreached` largest unreached blocks of its device files.
///
/// Installs cargo-fuzz and the LLVM tools when they are missing (see the module docs), runs
/// `cargo +nightly fuzz coverage`, and writes the HTML report to `fuzz/coverage/<target>/html`.
/// Progress goes to stderr.
pub fn run(
    root: &Path,
    target: &str,
    corpus: Option<&Path>,
    unreached: usize,
) -> Result<CoverageReport, String> {
    let t = models::target(target).ok_or_else(|| format!("unknown target '{target}'"))?;
    let sources = device_sources(root, t)?;
    let Measured {
        rows,
        binary,
        instr_profile,
        ignore,
        cov,
        out_dir,
    } = measure(root, target, corpus)?;
    let (table, line_percent_models) = render_table(&rows, &sources);
    let device_lines = sum_lines(rows.iter().filter(|r| sources.contains(&r.file)));
    let tools = LlvmTools {
        cov,
        bin_dir: PathBuf::new(),
    };

    let html_dir = out_dir.join("html");
    let _ = std::fs::remove_dir_all(&html_dir);
    let mut show = Command::new(&tools.cov);
    show.arg("show")
        .arg(&binary)
        .arg(&instr_profile)
        .arg(&ignore)
        .arg("-format=html")
        .arg(format!("-output-dir={}", html_dir.display()))
        .arg(format!("-project-title=devfuzz {target}"))
        .arg("-show-line-counts-or-regions")
        .arg("-show-instantiations=false");
    if let Some(rustfilt) = find_on_path("rustfilt") {
        show.arg(format!("-Xdemangler={}", rustfilt.display()));
    }
    eprintln!(
        "devfuzz: running {} show -format=html -output-dir={}",
        tools.cov.display(),
        rel(root, &html_dir)
    );
    let shown = show
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tools.cov.display()))?;
    let html_index = html_dir.join("index.html");
    if !shown.status.success() || !html_index.is_file() {
        return Err(format!(
            "{} show failed: {}",
            tools.cov.display(),
            String::from_utf8_lossy(&shown.stderr).trim()
        ));
    }
    let device_files: Vec<&str> = rows
        .iter()
        .filter(|r| sources.contains(&r.file))
        .map(|r| r.file.as_str())
        .collect();
    let unreached = match device_files.first() {
        Some(first) if unreached > 0 => {
            let files = device_files.iter().map(|f| root.join(f));
            let shown = llvm_cov(
                &tools.cov,
                "show",
                [&binary, Path::new(&instr_profile), Path::new(&ignore)],
                ["-format=text".into(), "-show-instantiations=false".into()]
                    .into_iter()
                    .chain(files),
            )?;
            let text = String::from_utf8_lossy(&shown);
            let mut blocks = coverage_unreached::parse(&text, first, &root.to_string_lossy());
            blocks.truncate(unreached);
            blocks
        }
        _ => Vec::new(),
    };
    Ok(CoverageReport {
        table,
        html_index,
        device_lines,
        line_percent_models,
        unreached,
    })
}

/// `cov SUBCOMMAND BINARY PROFILE IGNORE ARGS...` (the last three of `common` as the measurement
/// made them); its standard output, or an error with what it printed on stderr.
fn llvm_cov<A: AsRef<std::ffi::OsStr>>(
    cov: &Path,
    subcommand: &str,
    common: [&Path; 3],
    args: impl IntoIterator<Item = A>,
) -> Result<Vec<u8>, String> {
    let out = Command::new(cov)
        .arg(subcommand)
        .args(common)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cov.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {subcommand} failed: {}",
            cov.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// Run `cmd` with its output in `log`; on failure, the end of the log is in the error.
fn run_logged(cmd: &mut Command, log: &Path) -> Result<(), String> {
    let file =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run cargo fuzz coverage: {e}"))?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(25).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "cargo fuzz coverage failed ({status}); the end of {}:\n{}",
        log.display(),
        tail.join("\n")
    ))
}

/// The LLVM major version of the nightly rustc (`LLVM version: 22.1.4` in `rustc -vV`).
fn rustc_llvm_major() -> Option<u32> {
    let out = Command::new("rustc")
        .args(["+nightly", "-vV"])
        .output()
        .ok()?;
    parse_llvm_major(&String::from_utf8_lossy(&out.stdout))
}

/// The major version in `rustc -vV` output.
fn parse_llvm_major(verbose_version: &str) -> Option<u32> {
    verbose_version
        .lines()
        .find_map(|l| l.strip_prefix("LLVM version:"))
        .and_then(|v| v.trim().split('.').next()?.parse().ok())
}

/// `name` in a folder of PATH.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `llvm-profdata-<major>` and `llvm-cov-<major>` on PATH (or in Debian's
/// `/usr/lib/llvm-<major>/bin`).
fn find_llvm_tools(major: u32) -> Option<(PathBuf, PathBuf)> {
    let find = |tool: &str| {
        find_on_path(&format!("{tool}-{major}")).or_else(|| {
            let p = PathBuf::from(format!("/usr/lib/llvm-{major}/bin/{tool}"));
            p.is_file().then_some(p)
        })
    };
    Some((find("llvm-profdata")?, find("llvm-cov")?))
}

/// Whether this process runs as root (`id -u` says 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Find the LLVM tools of rustc's LLVM, installing Debian's `llvm-<major>` when they are missing
/// and this runs as root.
fn ensure_llvm_tools(fuzz_dir: &Path) -> Result<LlvmTools, String> {
    let major = rustc_llvm_major().unwrap_or(DEFAULT_LLVM_MAJOR);
    let package = format!("llvm-{major}");
    let (profdata, cov) = match find_llvm_tools(major) {
        Some(found) => found,
        None => {
            if !is_root() {
                return Err(format!(
                    "llvm-profdata-{major} and llvm-cov-{major} (the LLVM of nightly rustc) are not on PATH: install Debian's {package} (sudo apt-get install -y {package})"
                ));
            }
            for args in [
                vec!["update"],
                vec!["install", "-y", "--no-install-recommends", package.as_str()],
            ] {
                eprintln!("devfuzz: running apt-get {}", args.join(" "));
                let status = Command::new("apt-get")
                    .args(&args)
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .stdin(Stdio::null())
                    .status()
                    .map_err(|e| format!("cannot run apt-get (install {package} by hand): {e}"))?;
                if !status.success() {
                    return Err(format!(
                        "apt-get {} failed ({status}); install {package} by hand",
                        args.join(" ")
                    ));
                }
            }
            find_llvm_tools(major).ok_or_else(|| {
                format!("{package} is installed but llvm-profdata-{major}/llvm-cov-{major} are not on PATH")
            })?
        }
    };
    // `cargo fuzz coverage --llvm-path DIR` runs DIR/llvm-profdata. Debian's versioned names are
    // links into /usr/lib/llvm-<major>/bin, which has it; otherwise make such a folder.
    let bin_dir = match std::fs::canonicalize(&profdata) {
        Ok(real) if real.file_name().is_some_and(|n| n == "llvm-profdata") => real
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/")),
        _ => {
            let dir = fuzz_dir.join("coverage").join(format!(".llvm-{major}-bin"));
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let link = dir.join("llvm-profdata");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&profdata, &link)
                .map_err(|e| format!("cannot create {}: {e}", link.display()))?;
            dir
        }
    };
    Ok(LlvmTools { cov, bin_dir })
}

/// The instrumented binary `cargo fuzz coverage` built, `<dir>/<triple>/coverage/<triple>/release/<target>`
/// where `<dir>` is the target folder of the workspace cargo-fuzz was run from (`target/` of the
/// root: cargo-fuzz asks `cargo metadata` in the current folder), `$CARGO_TARGET_DIR`, or
/// `fuzz/target/`; the newest of those that exist.
fn find_coverage_binary(root: &Path, target: &str) -> Result<PathBuf, String> {
    let triple = crate::fuzz_build::host_triple();
    let mut dirs = vec![root.join("target"), root.join("fuzz").join("target")];
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.insert(0, root.join(dir));
    }
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for dir in &dirs {
        // Any triple, in case rustc's host differs from the one cargo-fuzz was told.
        for a in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            for b in std::fs::read_dir(a.path().join("coverage"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let p = b.path().join("release").join(target);
                if let Ok(m) = std::fs::metadata(&p).and_then(|m| m.modified()) {
                    found.push((m, p));
                }
            }
        }
    }
    found.sort();
    found.pop().map(|(_, p)| p).ok_or_else(|| {
        let shape = format!("{triple}/coverage/{triple}/release/{target}");
        let looked: Vec<String> = dirs
            .iter()
            .map(|d| d.join(&shape).display().to_string())
            .collect();
        format!(
            "cargo fuzz coverage built no binary (looked for {})",
            looked.join(", ")
        )
    })
}

/// `path` relative to `root` when it lies under it.
fn rel(root: &Path, path: &Path) -> String {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let path_c = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    path_c
        .strip_prefix(&root)
        .or_else(|_| path.strip_prefix(&root))
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// `llvm-cov export -summary-only` output: per file, counts of lines, functions and regions.
#[derive(Deserialize)]
struct Export {
    data: Vec<ExportData>,
}

#[derive(Deserialize)]
struct ExportData {
    files: Vec<ExportFile>,
}

#[derive(Deserialize)]
struct ExportFile {
    filename: String,
    summary: ExportSummary,
}

#[derive(Deserialize)]
struct ExportSummary {
    lines: ExportCounts,
    functions: ExportCounts,
    regions: ExportCounts,
}

#[derive(Deserialize)]
struct ExportCounts {
    count: u64,
    covered: u64,
}

/// The rows of `llvm-cov export -summary-only` JSON for files under `models/` and `harness/`
/// of `root`, sorted by path.
fn parse_export(json: &[u8], root: &Path) -> Result<Vec<FileRow>, String> {
    let export: Export = serde_json::from_slice(json)
        .map_err(|e| format!("cannot read llvm-cov export output: {e}"))?;
    let mut rows: Vec<FileRow> = Vec::new();
    for f in export.data.into_iter().flat_map(|d| d.files) {
        let path = Path::new(&f.filename);
        let file = if path.is_absolute() {
            rel(root, path)
        } else {
            f.filename.clone()
        };
        if !(file.starts_with("models/") || file.starts_with("harness/")) {
            continue;
        }
        let s = &f.summary;
        let missed = |c: &ExportCounts| c.count - c.covered.min(c.count);
        rows.push(FileRow {
            file,
            regions: s.regions.count,
            missed_regions: missed(&s.regions),
            functions: s.functions.count,
            missed_functions: missed(&s.functions),
            lines: s.lines.count,
            missed_lines: missed(&s.lines),
        });
    }
    rows.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(rows)
}

/// `covered / total` as a percentage (100 for an empty total).
fn percent(total: u64, missed: u64) -> f64 {
    if total == 0 {
        100.0
    } else {
        100.0 * (total - missed.min(total)) as f64 / total as f64
    }
}

/// The summary table, the target's device files (`sources`) first, and the line percentage of
/// all `models/` files.
fn render_table(rows: &[FileRow], sources: &DeviceSources) -> (String, f64) {
    const DEVICE_TOTAL: &str = "TOTAL device files";
    let width = rows
        .iter()
        .map(|r| r.file.len())
        .max()
        .unwrap_or(0)
        .max(DEVICE_TOTAL.len());
    let mut out = String::new();
    let header = |out: &mut String, what: &str| {
        out.push_str(&format!(
            "{:<width$} {:>7} {:>7} {:>8} {:>6} {:>6} {:>8} {:>8} {:>8}\n",
            what, "lines", "missed", "lines%", "fns", "missed", "fns%", "regions", "regions%"
        ));
    };
    let line = |out: &mut String, r: &FileRow| {
        out.push_str(&format!(
            "{:<width$} {:>7} {:>7} {:>7.2}% {:>6} {:>6} {:>7.2}% {:>8} {:>7.2}%\n",
            r.file,
            r.lines,
            r.missed_lines,
            percent(r.lines, r.missed_lines),
            r.functions,
            r.missed_functions,
            percent(r.functions, r.missed_functions),
            r.regions,
            percent(r.regions, r.missed_regions),
        ));
    };
    let rule = "-".repeat(width + 66);
    let total = |name: &str| FileRow {
        file: name.into(),
        ..FileRow::default()
    };
    let (device, other): (Vec<&FileRow>, Vec<&FileRow>) =
        rows.iter().partition(|r| sources.contains(&r.file));
    let (setup, other): (Vec<&FileRow>, Vec<&FileRow>) =
        other.into_iter().partition(|r| sources.is_setup(&r.file));
    for (title, files, name) in [
        ("the target's device files", &device, DEVICE_TOTAL),
        (
            "their setup files (machine options only)",
            &setup,
            "TOTAL setup files",
        ),
    ] {
        if files.is_empty() && name != DEVICE_TOTAL {
            continue;
        }
        header(&mut out, title);
        let mut sum = total(name);
        for r in files {
            line(&mut out, r);
            sum.add(r);
        }
        out.push_str(&format!("{rule}\n"));
        line(&mut out, &sum);
        out.push('\n');
    }
    header(&mut out, "other files");
    let mut totals = [
        total("TOTAL models/"),
        total("TOTAL harness/"),
        total("TOTAL"),
    ];
    for r in &other {
        line(&mut out, r);
    }
    for r in rows {
        let i = if r.file.starts_with("models/") { 0 } else { 1 };
        totals[i].add(r);
        totals[2].add(r);
    }
    out.push_str(&format!("{rule}\n"));
    for t in &totals {
        line(&mut out, t);
    }
    let models = &totals[0];
    let models_percent = if models.lines == 0 {
        0.0
    } else {
        percent(models.lines, models.missed_lines)
    };
    (out, models_percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llvm_major_from_rustc_verbose_version() {
        let vv = "rustc 1.97.0-nightly (e50aa6fba 2026-05-19)\nhost: x86_64-unknown-linux-gnu\nLLVM version: 22.1.4\n";
        assert_eq!(parse_llvm_major(vv), Some(22));
        assert_eq!(parse_llvm_major("rustc 1.0\n"), None);
    }

    #[test]
    fn export_rows_keep_models_and_harness_files_and_device_files_come_first() {
        let root = Path::new("/nonexistent-devfuzz-root");
        let file = |name: &str, lines: (u64, u64)| {
            format!(
                r#"{{"filename":"{name}","summary":{{"lines":{{"count":{},"covered":{},"percent":0}},"functions":{{"count":10,"covered":8,"percent":80}},"regions":{{"count":20,"covered":15,"notcovered":5,"percent":75}},"branches":{{"count":0,"covered":0,"notcovered":0,"percent":0}},"instantiations":{{"count":0,"covered":0,"percent":0}}}}}}"#,
                lines.0, lines.1
            )
        };
        let json = format!(
            r#"{{"type":"llvm.coverage.json.export","version":"3.0.1","data":[{{"files":[{},{},{},{},{}],"totals":{{}}}}]}}"#,
            file("/nonexistent-devfuzz-root/fuzz/fuzz_targets/ps2.rs", (4, 4)),
            file("/nonexistent-devfuzz-root/harness/src/ops.rs", (200, 150)),
            file(
                "/nonexistent-devfuzz-root/models/src/i8042/mod.rs",
                (100, 90)
            ),
            file("models/src/ide/ata.rs", (20, 0)),
            file("models/src/i8042/options.rs", (10, 0)),
        );
        let rows = parse_export(json.as_bytes(), root).unwrap();
        let files: Vec<&str> = rows.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "harness/src/ops.rs",
                "models/src/i8042/mod.rs",
                "models/src/i8042/options.rs",
                "models/src/ide/ata.rs"
            ]
        );
        assert_eq!((rows[1].lines, rows[1].missed_lines), (100, 10));
        let sources = DeviceSources {
            include: vec!["models/src/i8042/".to_string()],
            exclude: Vec::new(),
            setup: vec!["models/src/i8042/options.rs".to_string()],
        };
        let (table, models) = render_table(&rows, &sources);
        assert!((models - 100.0 * 90.0 / 130.0).abs() < 1e-9, "{models}");
        let device = table.find("models/src/i8042/mod.rs").unwrap();
        let setup = table.find("models/src/i8042/options.rs").unwrap();
        assert!(
            device < setup && setup < table.find("harness/src/ops.rs").unwrap(),
            "{table}"
        );
        // The setup file has its own total and stays out of the device files'.
        assert!(table.contains("TOTAL setup files"), "{table}");
        assert!(!sources.contains("models/src/i8042/options.rs"));
        assert!(sources.is_setup("models/src/i8042/options.rs"));
        assert!(table.contains("TOTAL device files"), "{table}");
        assert!(!table.contains("fuzz_targets"), "{table}");
        let lines = sum_lines(rows.iter().filter(|r| sources.contains(&r.file)));
        assert_eq!(
            lines,
            LineCoverage {
                covered: 90,
                total: 100
            }
        );
        assert!(parse_export(b"not json", root).is_err());
    }

    #[test]
    fn every_target_has_its_device_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for t in models::TARGETS {
            let sources = device_sources(root, t).unwrap();
            assert!(!sources.include.is_empty(), "{}", t.name);
            for s in sources
                .include
                .iter()
                .chain(&sources.exclude)
                .chain(&sources.setup)
            {
                assert!(root.join(s).exists(), "{}: {s}", t.name);
            }
            for s in &sources.exclude {
                assert!(
                    sources.include.iter().any(|i| s.starts_with(i.as_str())),
                    "{}: {s} leaves out nothing it counts",
                    t.name
                );
            }
        }
        let of = |t: &str| device_sources(root, models::target(t).unwrap()).unwrap();
        assert_eq!(of("ps2").include, ["models/src/i8042/"]);
        assert_eq!(
            of("e1000e").include,
            ["models/src/e1000e/", "models/src/e1000_core/"]
        );
        assert!(of("e1000e").exclude.is_empty());
        let i8042 = of("ps2");
        assert!(i8042.contains("models/src/i8042/queue.rs"));
        assert!(!i8042.contains("models/src/i8042x.rs"));
        assert!(!i8042.contains("harness/src/pci/mod.rs"));
        // Setup files are the targets' whose devices they belong to, and never device files.
        for (t, setup) in [
            ("ide", "models/src/ide/config.rs"),
            ("ide_atapi", "models/src/ide/backend/image.rs"),
            ("e1000e", "models/src/e1000_core/pcap.rs"),
            ("pc", "models/src/e1000_core/pcap.rs"),
        ] {
            let s = of(t);
            assert!(s.is_setup(setup) && !s.contains(setup), "{t}: {setup}");
        }
        assert!(!i8042.is_setup("models/src/ide/config.rs"));
        assert!(!of("ide").is_setup("models/src/ide/ata.rs"));
    }

    #[test]
    fn a_target_of_configuration_space_alone_counts_the_functions_configuration_space() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pci = device_sources(root, models::target("pci").unwrap()).unwrap();
        assert_eq!(
            pci.include,
            [
                "harness/src/pci/mod.rs",
                "models/src/pc/chipset.rs",
                "models/src/e1000_core/function.rs"
            ]
        );
        // Not the folders of the functions' devices, whose regions it does not reach.
        assert!(!pci.contains("models/src/ide/ata.rs"));
        assert!(!pci.contains("models/src/e1000e/rx.rs"));
        // Targets with devices of their own count those, not the configuration-space lines.
        let e1000e = device_sources(root, models::target("e1000e").unwrap()).unwrap();
        assert!(!e1000e.contains("harness/src/pci/mod.rs"));
        // No pc function has an expansion ROM or a 64-bit BAR: their code is not the target's.
        assert!(!pci.contains("harness/src/pci/rom.rs"));
        assert!(!pci.contains("harness/src/pci/bar64.rs"));
    }

    #[test]
    fn a_function_with_a_rom_or_a_64_bit_bar_counts_that_bars_code() {
        use harness::access::AccessSize;
        use harness::device::{Context, Device, RegionSpec};
        use harness::ids::RegionId;
        use harness::pci::{Bdf, PciConfig};

        #[derive(Clone, Debug)]
        struct Function(PciConfig, &'static str);
        impl Device for Function {
            fn name(&self) -> &'static str {
                self.1
            }
            fn regions(&self) -> Vec<RegionSpec> {
                Vec::new()
            }
            fn read(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize) -> u64 {
                0
            }
            fn write(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize, _: u64) {}
            fn pci(&self) -> Option<&PciConfig> {
                Some(&self.0)
            }
            fn pci_mut(&mut self) -> Option<&mut PciConfig> {
                Some(&mut self.0)
            }
            fn reset(&mut self) {}
        }
        let header = || PciConfig::new(0x8086, 0x100e, 0x020000, 3, 0);
        let mut spec = harness::machine::MachineSpec::default();
        let plain = spec.add(Box::new(Function(header(), "plain")));
        spec.add_pci(Bdf::new(0, 1, 0), plain);
        assert_eq!(config_keys(&spec), ["config:*", "config:plain"]);
        for slot in [2, 3] {
            let rom = header().with_rom(RegionId(0), 0x10000);
            let dev = spec.add(Box::new(Function(rom, "nic")));
            spec.add_pci(Bdf::new(0, slot, 0), dev);
        }
        assert_eq!(
            config_keys(&spec),
            [
                "config:*",
                "config:plain",
                "config:nic",
                "config:rom",
                "config:nic"
            ]
        );
        let bar64 = harness::pci::BarDef {
            region: RegionId(1),
            kind: harness::pci::BarKind::Memory64 {
                prefetchable: false,
            },
            size: 0x4000,
        };
        let dev = spec.add(Box::new(Function(header().with_bar(3, bar64), "igb")));
        spec.add_pci(Bdf::new(0, 4, 0), dev);
        assert_eq!(config_keys(&spec)[5..], ["config:igb", "config:bar64"]);
        let table = parse_device_files(
            &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(DEVICE_FILES))
                .unwrap(),
        );
        for (key, file) in [
            ("config:rom", "harness/src/pci/rom.rs"),
            ("config:bar64", "harness/src/pci/bar64.rs"),
        ] {
            let line = table
                .iter()
                .find(|(k, _)| k == key)
                .expect("a line per BAR kind");
            assert_eq!(line.1, [file]);
        }
    }

    #[test]
    fn each_aspeed_target_counts_its_socs_fmc_file_and_not_the_others() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let fmc = "models/src/aspeed/fmc/";
        for (target, own, other) in [
            ("aspeed_fmc", "ast2500.rs", "ast2600.rs"),
            ("aspeed_fmc_2600", "ast2600.rs", "ast2500.rs"),
        ] {
            let s = device_sources(root, models::target(target).unwrap()).unwrap();
            for counted in ["mod.rs", own] {
                assert!(
                    s.contains(&format!("{fmc}{counted}")),
                    "{target}: {counted}"
                );
            }
            assert!(!s.contains(&format!("{fmc}{other}")), "{target}: {other}");
            assert!(s.contains("models/src/aspeed/spi_nor.rs"), "{target}");
        }
        // Only the FMC's dispatch (fmc/mod.rs) calls into the SoC files: another source that
        // did would run the other SoC's lines on a machine that does not count them.
        let aspeed = root.join("models/src/aspeed");
        let mut sources = vec![aspeed.join("mod.rs"), aspeed.join("spi_nor.rs")];
        sources.push(aspeed.join("debug_log.rs"));
        sources.extend(["ast2500.rs", "ast2600.rs"].map(|f| root.join(fmc).join(f)));
        for path in sources {
            let text = std::fs::read_to_string(&path).unwrap();
            for module in ["ast2500::", "ast2600::"] {
                assert!(!text.contains(module), "{} names {module}", path.display());
            }
        }
    }

    #[test]
    fn each_ide_target_counts_the_command_set_of_the_drive_on_its_channel() {
        use models::ide::config::{DriveConfig, IdeConfig};
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let of = |t: &str| device_sources(root, models::target(t).unwrap()).unwrap();
        let (ide, atapi) = (of("ide"), of("ide_atapi"));
        assert!(ide.contains("models/src/ide/ata.rs") && !ide.contains("models/src/ide/atapi.rs"));
        assert!(
            atapi.contains("models/src/ide/atapi.rs") && !atapi.contains("models/src/ide/ata.rs")
        );
        // What each leaves out beside the other drive's command set is that drive's alone: no
        // IDE source but the command set (and the setup, tests and module files that declare
        // or build it) names it.
        let disk_only = [
            ("scratch.rs", "scratch"),
            ("sector_address.rs", "sector_address"),
            ("backend/disk.rs", "backend::Disk"),
        ];
        let cd_only = [("backend/medium.rs", "backend::Medium")];
        let sources: Vec<(String, String)> = ["models/src/ide", "models/src/ide/backend"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap().flatten())
            .filter(|f| f.path().extension().is_some_and(|e| e == "rs"))
            .map(|f| {
                let path = f.path();
                let rel = path.strip_prefix(root.join("models/src/ide")).unwrap();
                let text = std::fs::read_to_string(&path).unwrap();
                let text: String = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                // The code's paths, with `use a::{b, c}` spelt out as `a::b a::c`.
                let mut paths = String::new();
                for stmt in text.split(';').map(str::trim) {
                    let stmt: String = stmt.split_whitespace().collect();
                    match stmt.split_once("::{") {
                        Some((base, list)) if stmt.starts_with("use") => {
                            for item in list.trim_end_matches('}').split(',') {
                                paths.push_str(&format!(" {base}::{item}"));
                            }
                        }
                        _ => paths.push_str(&format!(" {stmt}")),
                    }
                }
                (rel.to_string_lossy().into_owned(), paths)
            })
            .collect();
        let builders = ["mod.rs", "config.rs", "tests.rs", "backend/mod.rs"];
        let check = |only: &[(&str, &str)], users: &str, set: &DeviceSources| {
            for (file, name) in only {
                let path = format!("models/src/ide/{file}");
                assert!(set.contains(&path), "{path}");
                assert!(!ide.contains(&path) || !atapi.contains(&path), "{path}");
                for (rel, text) in &sources {
                    let same_drive = only.iter().any(|(f, _)| f == rel);
                    if !same_drive && rel != users && !builders.contains(&rel.as_str()) {
                        let named = text
                            .split(|c: char| !c.is_alphanumeric() && c != '_' && c != ':')
                            .any(|w| {
                                w == *name
                                    || w.ends_with(&format!("::{name}"))
                                    || w.starts_with(&format!("{name}::"))
                                    || w.contains(&format!("::{name}::"))
                            });
                        assert!(!named, "{rel} names {name}, which {file} holds");
                    }
                }
            }
        };
        check(&disk_only, "ata.rs", &ide);
        check(&cd_only, "atapi.rs", &atapi);
        for f in [
            "models/src/ide/channel.rs",
            "models/src/ide/bmdma.rs",
            "models/src/ide/drive.rs",
        ] {
            assert!(ide.contains(f) && atapi.contains(f), "{f}");
        }
        // What device-files.txt says of the drives holds: the pc machine's primary channel has
        // disks only, its secondary CD-ROMs only, and each target addresses its channel alone.
        let drives = IdeConfig::default().drives;
        let is_disk = |d: &Option<DriveConfig>| matches!(d, None | Some(DriveConfig::Disk { .. }));
        let is_cdrom =
            |d: &Option<DriveConfig>| matches!(d, None | Some(DriveConfig::Cdrom { .. }));
        assert!(drives[0].iter().all(is_disk) && drives[1].iter().all(is_cdrom));
        for (t, channel) in [("ide", "ide0-"), ("ide_atapi", "ide1-")] {
            let target = models::target(t).unwrap();
            assert!(std::ptr::eq(target.machine, &models::pc::PC), "{t}");
            let drive_regions: Vec<&&str> = target
                .regions
                .iter()
                .filter(|r| r.starts_with("ide") && *r != &"ide-bmdma")
                .collect();
            assert!(!drive_regions.is_empty(), "{t}");
            assert!(
                drive_regions.iter().all(|r| r.starts_with(channel)),
                "{t}: {drive_regions:?}"
            );
        }
    }

    #[test]
    fn percent_of_nothing_is_full() {
        assert_eq!(percent(0, 0), 100.0);
        assert_eq!(percent(4, 1), 75.0);
    }
}
