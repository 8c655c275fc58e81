//! The engine's floor for `devfuzz bench`: a libFuzzer target that does nothing with its input.
//! Kept out of `fuzz_targets/` so the smoke run and ClusterFuzzLite build only real targets.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    std::hint::black_box(data);
});

#[cfg(not(fuzzing))]
fn main() {}
