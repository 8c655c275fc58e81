//! How the libFuzzer fuzz targets are built: which crates get sanitizer-coverage
//! instrumentation, and of what kind.
//!
//! devfuzz runs `cargo +nightly build` on `fuzz/Cargo.toml` itself with the flags `cargo fuzz
//! build` uses (release, debug assertions and overflow checks, one codegen unit, `--cfg fuzzing`),
//! but chooses per crate what sanitizer coverage to compile in ([`Instrument`]): cargo-fuzz can
//! only instrument every crate alike through `RUSTFLAGS`. Per-crate flags are profile rustflags
//! (`-Zprofile-rustflags`, nightly) given on the command line with `--config`, so
//! `fuzz/Cargo.toml` stays buildable on stable.
//!
//! Each configuration builds into its own folder, `fuzz/target/<instrument>/`, so switching
//! between them (as `devfuzz bench --instrument` does) never rebuilds.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The models crate: the code the fuzzer should learn from.
const MODELS_PACKAGE: &str = "devfuzz-models";
/// The harness crate: machine plumbing, op decoding, the mutator.
const HARNESS_PACKAGE: &str = "devfuzz-harness";

/// Edge coverage as libFuzzer reads it (cargo-fuzz's flags but for the level): inline 8-bit
/// counters, a PC table, per-function stack depth, and no branch folding (so each branch keeps
/// its edge). Level 3 is edges; cargo-fuzz's level 4 adds a hook on every indirect call
/// (`HandleCallerCallee`, 4-7% of a NIC target's time: every `dyn Device` and `dyn Context`
/// call), which only feeds libFuzzer's value profile, and devfuzz runs without
/// `-use_value_profile`.
const EDGE_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=3",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
];

/// cargo-fuzz's own edge flags (level 4: edges and indirect calls), which `full` keeps so that
/// it stays `cargo fuzz build`'s build.
const CARGO_FUZZ_EDGE_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
];

/// Compare tracing: libFuzzer's hooks on every integer compare and switch, which feed its
/// table of recent compare operands (value profile, `-use_cmp`).
const COMPARE_FLAG: &str = "-Cllvm-args=-sanitizer-coverage-trace-compares";

/// Which crates of a fuzz build get sanitizer coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Instrument {
    /// Every crate (models, harness, third-party) gets edge coverage and compare tracing:
    /// `cargo fuzz build`'s default, and devfuzz's build before per-crate scoping.
    Full,
    /// The models get edge coverage and compare tracing, the harness edge coverage only,
    /// third-party crates nothing.
    Scoped,
    /// Only the models are instrumented (edges and compares); harness and third-party
    /// crates nothing.
    Models,
    /// Every crate gets edge coverage, none compare tracing (`cargo fuzz build
    /// --no-trace-compares`, without its indirect-call hooks).
    Edges,
    /// Only the models get edge coverage, none compare tracing; harness and third-party
    /// crates nothing: libFuzzer's per-run scan of the counters sees only device code.
    ModelEdges,
    /// The project's crates (models and harness) get edge coverage, none compare tracing;
    /// third-party crates nothing.
    ProjectEdges,
}

impl Instrument {
    /// The configuration `devfuzz fuzz` and `devfuzz bench` build when not told otherwise,
    /// chosen by measurement (`bench/instrumentation.md`): edge coverage of the models alone
    /// reached the same or more device lines than `edges` on every target at up to 1.6x its
    /// exec/s (libFuzzer's per-run scan of the counters no longer walks the harness's and
    /// third-party crates'), and found the planted bugs as fast or faster.
    pub const DEFAULT: Instrument = Instrument::ModelEdges;

    /// Its command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Instrument::Full => "full",
            Instrument::Scoped => "scoped",
            Instrument::Models => "models",
            Instrument::Edges => "edges",
            Instrument::ModelEdges => "model-edges",
            Instrument::ProjectEdges => "project-edges",
        }
    }

    /// Sanitizer-coverage flags for every crate (`RUSTFLAGS`).
    fn global_flags(self) -> Vec<&'static str> {
        match self {
            Instrument::Full => [CARGO_FUZZ_EDGE_FLAGS, &[COMPARE_FLAG]].concat(),
            Instrument::Edges => EDGE_FLAGS.to_vec(),
            Instrument::Scoped
            | Instrument::Models
            | Instrument::ModelEdges
            | Instrument::ProjectEdges => Vec::new(),
        }
    }

    /// Sanitizer-coverage flags of single packages (profile rustflags).
    fn package_flags(self) -> Vec<(&'static str, Vec<&'static str>)> {
        let models = || (MODELS_PACKAGE, [EDGE_FLAGS, &[COMPARE_FLAG]].concat());
        match self {
            Instrument::Full | Instrument::Edges => Vec::new(),
            Instrument::Scoped => vec![models(), (HARNESS_PACKAGE, EDGE_FLAGS.to_vec())],
            Instrument::Models => vec![models()],
            Instrument::ModelEdges => vec![(MODELS_PACKAGE, EDGE_FLAGS.to_vec())],
            Instrument::ProjectEdges => vec![
                (MODELS_PACKAGE, EDGE_FLAGS.to_vec()),
                (HARNESS_PACKAGE, EDGE_FLAGS.to_vec()),
            ],
        }
    }
}

impl std::fmt::Display for Instrument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One libFuzzer build of the fuzz targets of a source tree.
#[derive(Clone, Debug)]
pub struct FuzzBuild {
    /// The tree's root (holds `fuzz/Cargo.toml`).
    pub root: PathBuf,
    /// What gets sanitizer coverage.
    pub instrument: Instrument,
    /// A sanitizer (`address`, `memory`, ...) or `none`.
    pub sanitizer: String,
    /// With the models' planted bugs (`--features planted-bugs`).
    pub planted: bool,
}

impl FuzzBuild {
    /// The build of the targets under `root`.
    pub fn new(root: &Path, instrument: Instrument, sanitizer: &str, planted: bool) -> FuzzBuild {
        FuzzBuild {
            root: root.to_path_buf(),
            instrument,
            sanitizer: sanitizer.to_string(),
            planted,
        }
    }

    /// The cargo target folder of this configuration: `fuzz/target/<instrument>`.
    pub fn target_dir(&self) -> PathBuf {
        self.root.join("fuzz/target").join(self.instrument.as_str())
    }

    /// The binary built for fuzz target `name`.
    pub fn binary(&self, name: &str) -> PathBuf {
        self.target_dir()
            .join(host_triple())
            .join("release")
            .join(name)
    }

    /// `RUSTFLAGS` of the build: cargo-fuzz's for every crate, then the global part of the
    /// instrumentation, then the caller's own `RUSTFLAGS`.
    pub fn rustflags(&self) -> String {
        let mut v: Vec<String> = self
            .instrument
            .global_flags()
            .into_iter()
            .map(String::from)
            .collect();
        v.extend(
            [
                "--cfg",
                "fuzzing",
                "-Cdebug-assertions",
                "-Ccodegen-units=1",
            ]
            .into_iter()
            .map(String::from),
        );
        if self.sanitizer != "none" {
            v.push(format!("-Zsanitizer={}", self.sanitizer));
            if self.sanitizer == "memory" {
                v.push("-Zsanitizer-memory-track-origins".into());
            }
        }
        if let Ok(extra) = std::env::var("RUSTFLAGS")
            && !extra.trim().is_empty()
        {
            v.push(extra);
        }
        v.join(" ")
    }

    /// The `cargo` arguments (after `cargo +nightly`) that build `bins` (all when empty).
    pub fn cargo_args(&self, bins: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "build".into(),
            "--manifest-path".into(),
            self.root.join("fuzz/Cargo.toml").display().to_string(),
            "--target".into(),
            host_triple(),
            "--release".into(),
            "--config".into(),
            "profile.release.debug=\"line-tables-only\"".into(),
            "--target-dir".into(),
            self.target_dir().display().to_string(),
        ];
        let packages = self.instrument.package_flags();
        if !packages.is_empty() {
            v.extend(["-Z".into(), "profile-rustflags".into()]);
        }
        for (package, flags) in packages {
            let list: Vec<String> = flags.iter().map(|f| format!("\"{f}\"")).collect();
            v.push("--config".into());
            v.push(format!(
                "profile.release.package.{package}.rustflags=[{}]",
                list.join(",")
            ));
        }
        if self.planted {
            v.extend(["--features".into(), "planted-bugs".into()]);
        }
        if self.sanitizer == "memory" {
            v.extend(["-Z".into(), "build-std".into()]);
        }
        if bins.is_empty() {
            v.push("--bins".into());
        }
        for b in bins {
            v.extend(["--bin".into(), (*b).to_string()]);
        }
        v
    }

    /// The build command for `bins` (all when empty).
    pub fn command(&self, bins: &[&str]) -> Command {
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&self.root)
            .arg("+nightly")
            .args(self.cargo_args(bins))
            .env("RUSTFLAGS", self.rustflags())
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        if self.sanitizer == "address" {
            cmd.env("ASAN_OPTIONS", "detect_odr_violation=0");
        }
        cmd
    }

    /// Build `bins` (all when empty); cargo's output goes to stderr.
    pub fn build(&self, bins: &[&str]) -> Result<(), String> {
        eprintln!(
            "devfuzz: building the fuzz targets of {} ({} instrumentation{}{})",
            self.root.display(),
            self.instrument,
            if self.sanitizer == "none" {
                String::new()
            } else {
                format!(", {} sanitizer", self.sanitizer)
            },
            if self.planted { ", planted bugs" } else { "" }
        );
        let status = self
            .command(bins)
            .status()
            .map_err(|e| format!("cannot run cargo +nightly build: {e}"))?;
        if !status.success() {
            return Err(format!(
                "building the fuzz targets ({} instrumentation) failed ({status})",
                self.instrument
            ));
        }
        Ok(())
    }
}

/// The host triple cargo-fuzz builds for when rustc does not say.
const DEFAULT_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// The host triple of the nightly rustc.
pub fn host_triple() -> String {
    Command::new("rustc")
        .args(["+nightly", "-vV"])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host:").map(|h| h.trim().to_string()))
        })
        .unwrap_or_else(|| DEFAULT_TRIPLE.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(i: Instrument) -> FuzzBuild {
        FuzzBuild::new(Path::new("/r"), i, "none", false)
    }

    #[test]
    fn full_instruments_every_crate_with_compares() {
        let b = build(Instrument::Full);
        let flags = b.rustflags();
        assert!(flags.contains("-Cpasses=sancov-module"), "{flags}");
        assert!(flags.contains(COMPARE_FLAG), "{flags}");
        assert!(
            flags.contains("coverage-level=4"),
            "cargo-fuzz's level: {flags}"
        );
        assert!(flags.contains("--cfg fuzzing"), "{flags}");
        let args = b.cargo_args(&[]);
        assert!(!args.iter().any(|a| a.contains("profile-rustflags")));
        assert!(args.contains(&"--bins".to_string()));
        assert_eq!(b.target_dir(), Path::new("/r/fuzz/target/full"));
    }

    #[test]
    fn scoped_gives_compares_to_the_models_only_and_nothing_to_third_party_crates() {
        let b = build(Instrument::Scoped);
        let flags = b.rustflags();
        assert!(!flags.contains("sancov"), "{flags}");
        assert!(flags.contains("--cfg fuzzing"), "{flags}");
        let args = b.cargo_args(&["ps2"]).join(" ");
        assert!(args.contains("-Z profile-rustflags"), "{args}");
        let models = args
            .split("--config ")
            .find(|a| a.starts_with("profile.release.package.devfuzz-models"))
            .expect("models flags");
        assert!(models.contains("trace-compares"), "{models}");
        let harness = args
            .split("--config ")
            .find(|a| a.starts_with("profile.release.package.devfuzz-harness"))
            .expect("harness flags");
        assert!(harness.contains("sancov-module"), "{harness}");
        assert!(!harness.contains("trace-compares"), "{harness}");
        assert!(args.ends_with("--bin ps2"), "{args}");
    }

    #[test]
    fn edges_trace_no_compares_and_models_leaves_the_harness_bare() {
        assert!(!build(Instrument::Edges).rustflags().contains(COMPARE_FLAG));
        assert!(build(Instrument::Edges).rustflags().contains("sancov"));
        let args = build(Instrument::Models).cargo_args(&[]).join(" ");
        assert!(!args.contains("devfuzz-harness"), "{args}");
        assert!(args.contains("devfuzz-models"), "{args}");
        let args = build(Instrument::ModelEdges).cargo_args(&[]).join(" ");
        assert!(!args.contains("devfuzz-harness"), "{args}");
        assert!(!args.contains("trace-compares"), "{args}");
        assert!(args.contains("devfuzz-models"), "{args}");
        assert!(!build(Instrument::ModelEdges).rustflags().contains("sancov"));
        assert!(
            args.contains("coverage-level=3") && !args.contains("coverage-level=4"),
            "no indirect-call hooks: {args}"
        );
        let args = build(Instrument::ProjectEdges).cargo_args(&[]).join(" ");
        assert!(args.contains("devfuzz-harness"), "{args}");
        assert!(args.contains("devfuzz-models"), "{args}");
        assert!(!args.contains("trace-compares"), "{args}");
        assert!(
            !build(Instrument::ProjectEdges)
                .rustflags()
                .contains("sancov")
        );
        for i in [
            "full",
            "scoped",
            "models",
            "edges",
            "model-edges",
            "project-edges",
        ] {
            let parsed = <Instrument as clap::ValueEnum>::from_str(i, false).unwrap();
            assert_eq!(parsed.to_string(), i);
        }
    }

    #[test]
    fn planted_bugs_are_a_feature() {
        let b = FuzzBuild::new(Path::new("/r"), Instrument::Full, "none", true);
        assert!(
            b.cargo_args(&[])
                .join(" ")
                .contains("--features planted-bugs")
        );
    }
}
