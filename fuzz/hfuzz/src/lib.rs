//! What the honggfuzz entries (`targets/<target>.rs`) do when built without `cargo hfuzz`: a plain
//! stable build has no `--cfg fuzzing`, so each entry replays inputs instead of fuzzing.

use std::path::{Path, PathBuf};

/// Run the files named on the command line on `target` through
/// `models::fuzzing::fuzz_one`, or else every file of `fuzz/corpus/<target>` and an empty
/// input. A finding panics with its `devfuzz finding ...` line, like under the engine.
pub fn replay(target: &str) {
    let mut files: Vec<PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    if files.is_empty() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../corpus")
            .join(target);
        files.extend(
            std::fs::read_dir(corpus)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path()),
        );
        files.sort();
        models::fuzzing::fuzz_one(target, &[]);
    }
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        models::fuzzing::fuzz_one(target, &data);
    }
}
