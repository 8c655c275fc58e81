//! Where `devfuzz bench` keeps the working corpora of its libFuzzer runs: on tmpfs
//! (`/dev/shm`) when there is one, else under `fuzz/target/bench-corpus/`; removed when the
//! bench ends, also when it fails or is interrupted.
//!
//! A short run from the seeds writes many new-corpus files; on a disk file system creating them
//! costs every build of a side-by-side run alike and pulls the exec/s ratios towards 1.

use std::path::{Path, PathBuf};

/// The tmpfs the corpora go to when it is mounted.
const TMPFS: &str = "/dev/shm";

/// The folder under the workspace root used when there is no tmpfs.
const ON_DISK: &str = "fuzz/target/bench-corpus";

/// The folder holding one bench's corpora (one sub-folder per run); removed on drop.
pub struct Corpora {
    dir: PathBuf,
    on_tmpfs: bool,
}

impl Corpora {
    /// A folder for the corpora of this bench: on `/dev/shm` if it is a tmpfs this process can
    /// write, else under `root`'s `fuzz/target/bench-corpus/`.
    pub fn new(root: &Path) -> Result<Corpora, String> {
        let tmpfs = std::fs::read_to_string("/proc/mounts")
            .ok()
            .filter(|m| is_tmpfs_mount(m, TMPFS))
            .map(|_| PathBuf::from(TMPFS));
        Corpora::under(root, tmpfs.as_deref())
    }

    /// A folder for the corpora under `tmpfs` when given and writable, else on disk.
    pub(crate) fn under(root: &Path, tmpfs: Option<&Path>) -> Result<Corpora, String> {
        if let Some(base) = tmpfs {
            let dir = base.join(format!("devfuzz-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            if std::fs::create_dir_all(&dir).is_ok() {
                return Ok(Corpora {
                    dir,
                    on_tmpfs: true,
                });
            }
        }
        let dir = root.join(ON_DISK);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Corpora {
            dir,
            on_tmpfs: false,
        })
    }

    /// A fresh corpus `name` holding only the target's seeds (converted from
    /// `fuzz/seeds/<target>`), so every run starts from the same place: never from what
    /// earlier campaigns accumulated in `fuzz/corpus/`.
    pub fn seeds_only(
        &self,
        root: &Path,
        name: &str,
        target: Option<&harness::target::Target>,
    ) -> Result<PathBuf, String> {
        let dir = self.dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if let Some(t) = target {
            crate::campaign::seed_corpus_into(root, t, &dir)?;
        }
        Ok(dir)
    }

    /// The folder of corpus `name` ([`Corpora::seeds_only`] made it).
    pub fn dir_of(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A fresh, empty folder `name` for this bench.
    pub fn fresh(&self, name: &str) -> Result<PathBuf, String> {
        self.seeds_only(Path::new(""), name, None)
    }

    /// Where the corpora were, for the notes of the results.
    pub fn note(&self) -> String {
        if self.on_tmpfs {
            format!(
                "working corpora of the libFuzzer runs on tmpfs ({}), removed afterwards",
                self.dir.display()
            )
        } else {
            format!(
                "working corpora of the libFuzzer runs on disk ({ON_DISK}/, no writable tmpfs at {TMPFS}): file creation costs every build alike and pulls side-by-side ratios towards 1"
            )
        }
    }
}

impl Drop for Corpora {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `mounts` (the text of `/proc/mounts`) mounts a tmpfs at `point`.
fn is_tmpfs_mount(mounts: &str, point: &str) -> bool {
    mounts.lines().any(|l| {
        let mut f = l.split_whitespace().skip(1);
        f.next() == Some(point) && f.next() == Some("tmpfs")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tmpfs_is_found_in_the_mount_table() {
        let mounts = "proc /proc proc rw 0 0\ntmpfs /dev/shm tmpfs rw,size=64k 0 0\n";
        assert!(is_tmpfs_mount(mounts, "/dev/shm"));
        assert!(!is_tmpfs_mount(mounts, "/proc"));
        assert!(!is_tmpfs_mount("shm /dev/shm ext4 rw 0 0\n", "/dev/shm"));
    }

    #[test]
    fn corpora_live_on_the_tmpfs_and_are_removed_with_it() {
        let root = tempfile::tempdir().unwrap();
        let shm = tempfile::tempdir().unwrap();
        let corpora = Corpora::under(root.path(), Some(shm.path())).unwrap();
        let c = corpora.seeds_only(root.path(), "ps2", None).unwrap();
        assert!(c.starts_with(shm.path()) && c.is_dir());
        std::fs::write(c.join("input"), b"x").unwrap();
        // Asked again: empty again.
        let again = corpora.seeds_only(root.path(), "ps2", None).unwrap();
        assert_eq!(std::fs::read_dir(&again).unwrap().count(), 0);
        assert!(corpora.note().contains("tmpfs"), "{}", corpora.note());
        let dir = corpora.dir.clone();
        drop(corpora);
        assert!(!dir.exists());
        assert!(!root.path().join(ON_DISK).exists());
    }

    #[test]
    fn without_a_tmpfs_corpora_go_under_fuzz_target_and_are_removed_too() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("no-such-tmpfs/\0");
        let corpora = Corpora::under(root.path(), Some(&missing)).unwrap();
        let c = corpora.seeds_only(root.path(), "ps2", None).unwrap();
        assert!(c.starts_with(root.path().join(ON_DISK)));
        assert!(corpora.note().contains("on disk"), "{}", corpora.note());
        drop(corpora);
        assert!(!root.path().join(ON_DISK).exists());
    }
}
