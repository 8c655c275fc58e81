//! One list of targets drives everything: `models::TARGETS` and, for each target, the
//! libFuzzer, AFL++ and honggfuzz entries (their `[[bin]]` in the engine crate's manifest and
//! the one-line entry file), the seeds, the dictionary and the libFuzzer options under `fuzz/`.
//! A target missing from any of them, or any of them naming no target, fails here: these are
//! the steps of docs/adding-a-device.md, section "The target".

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn targets() -> BTreeSet<String> {
    models::TARGETS.iter().map(|t| t.name.to_string()).collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `(name, path)` of every `[[bin]]` of the manifest `manifest`.
fn bins(manifest: &Path) -> Vec<(String, String)> {
    let text = read(manifest);
    let mut out = Vec::new();
    for block in text.split("[[bin]]").skip(1) {
        let block = block.split("\n[").next().unwrap_or_default();
        let field = |key: &str| {
            block
                .lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().trim_matches('"').to_string())
                .unwrap_or_else(|| panic!("{}: a [[bin]] without {key}", manifest.display()))
        };
        out.push((field("name"), field("path")));
    }
    out
}

/// The stems of the files in `dir` ending in `ext` (`None`: the subdirectories).
fn names_in(dir: &Path, ext: Option<&str>) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| match ext {
            None => p.is_dir(),
            Some(ext) => p.extension().is_some_and(|e| e == ext),
        })
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .collect()
}

/// Each engine crate: its directory under fuzz/, where its entries live, what every entry
/// must contain for target `{}`, and bins that are not targets.
struct Engine {
    name: &'static str,
    dir: &'static str,
    entries: &'static str,
    calls: &'static [&'static str],
    extra_bins: &'static [&'static str],
}

const ENGINES: &[Engine] = &[
    Engine {
        name: "libFuzzer (cargo-fuzz)",
        dir: "",
        entries: "fuzz_targets",
        calls: &["harness::fuzz_target!(models::TARGETS, \"{}\");"],
        extra_bins: &["empty"],
    },
    Engine {
        name: "AFL++",
        dir: "afl",
        entries: "targets",
        calls: &[
            "harness::entry::fuzz_one(models::TARGETS, \"{}\", data)",
            "devfuzz_afl::replay(\"{}\")",
        ],
        extra_bins: &[],
    },
    Engine {
        name: "honggfuzz",
        dir: "hfuzz",
        entries: "targets",
        calls: &[
            "harness::entry::fuzz_one(models::TARGETS, \"{}\", data)",
            "devfuzz_hfuzz::replay(\"{}\")",
        ],
        extra_bins: &[],
    },
];

#[test]
fn every_engine_has_one_entry_per_target_and_no_other() {
    let targets = targets();
    for engine in ENGINES {
        let crate_dir = fuzz_dir().join(engine.dir);
        let bins = bins(&crate_dir.join("Cargo.toml"));
        let names: BTreeSet<String> = bins
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| !engine.extra_bins.contains(&n.as_str()))
            .collect();
        assert_eq!(
            names,
            targets,
            "{}: the [[bin]]s of {}/Cargo.toml are not models::TARGETS",
            engine.name,
            crate_dir.display()
        );
        for (name, path) in &bins {
            if !targets.contains(name) {
                continue;
            }
            assert_eq!(
                path,
                &format!("{}/{name}.rs", engine.entries),
                "{}: bin {name}",
                engine.name
            );
            let text = read(&crate_dir.join(path));
            for call in engine.calls {
                let call = call.replace("{}", name);
                assert!(
                    text.contains(&call),
                    "{}: {path} does not call {call}",
                    engine.name
                );
            }
        }
        assert_eq!(
            names_in(&crate_dir.join(engine.entries), Some("rs")),
            targets,
            "{}: the files of {}/{} are not models::TARGETS",
            engine.name,
            crate_dir.display(),
            engine.entries
        );
    }
}

#[test]
fn every_target_has_seeds_a_dictionary_and_options_and_nothing_else_does() {
    let targets = targets();
    let fuzz = fuzz_dir();
    assert_eq!(
        names_in(&fuzz.join("seeds"), None),
        targets,
        "fuzz/seeds/<target>/"
    );
    assert_eq!(
        names_in(&fuzz.join("dicts"), Some("dict")),
        targets,
        "fuzz/dicts/<target>.dict"
    );
    assert_eq!(
        names_in(&fuzz.join("options"), Some("options")),
        targets,
        "fuzz/options/<target>.options"
    );
    for t in &targets {
        let seeds = names_in(&fuzz.join("seeds").join(t), Some("qtest"));
        assert!(!seeds.is_empty(), "fuzz/seeds/{t}/ has no .qtest seed");
        let options = read(&fuzz.join("options").join(format!("{t}.options")));
        assert!(options.contains("[libfuzzer]"), "fuzz/options/{t}.options");
    }
}

#[test]
fn every_planted_bug_names_a_target() {
    let targets = targets();
    for bug in models::planted::BUGS {
        assert!(
            targets.contains(bug.target),
            "{}: no target {}",
            bug.id,
            bug.target
        );
    }
}
