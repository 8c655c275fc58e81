//! Fuzz target `ps2`: the i8042 controller with its PS/2 keyboard and mouse (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| models::fuzzing::fuzz_one("ps2", data));

/// Without cargo-fuzz (a plain stable build): run the files named on the command line, or else
/// every file of `fuzz/corpus/ps2` and an empty input.
#[cfg(not(fuzzing))]
fn main() {
    let mut files: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    if files.is_empty() {
        let corpus = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/ps2"));
        files.extend(corpus.into_iter().flatten().flatten().map(|e| e.path()));
        models::fuzzing::fuzz_one("ps2", &[]);
    }
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        models::fuzzing::fuzz_one("ps2", &data);
    }
}
