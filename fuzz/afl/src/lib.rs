//! What the AFL++ entries (`targets/<target>.rs`) do when built without `cargo afl`: a plain
//! stable build has no `--cfg fuzzing`, so each entry replays inputs instead of fuzzing.

/// Replay inputs on `target` with no engine: see `harness::entry::replay_without_engine`.
pub fn replay(target: &str) {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(target);
    harness::entry::replay_without_engine(models::TARGETS, target, &corpus);
}
