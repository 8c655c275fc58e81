//! The FMC's debug escape hatch: a host file that collects every byte the guest writes to the
//! FMC's `DEBUG_OUT` register, to get data out of a guest without printk (the way the squashfs
//! corruption of the product's first story was tracked down).
//!
//! It is off unless a machine is built with a [`DebugLog`], and a [`DebugLog`] is only made for
//! a file inside the directory it is given: the file name must be relative, must not climb out
//! (`..`), and neither it nor its parent may resolve (through symbolic links) outside the
//! directory. A file stops growing at its size limit ([`DebugLog::DEFAULT_LIMIT`] unless set).
//! In fuzzing builds (`cfg(fuzzing)`: cargo-fuzz, cargo-afl, cargo-hfuzz) the sink writes
//! nothing. See SECURITY.md, "Debug escape hatch".

use std::fmt;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

/// Why a [`DebugLog`] was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebugLogError {
    /// The directory does not exist or is not a directory.
    Directory {
        /// The directory as given.
        dir: PathBuf,
        /// What the file system said.
        reason: String,
    },
    /// The file is not a plain relative name below the directory (absolute, empty, `..`).
    NotRelative(PathBuf),
    /// The file (or its parent) resolves outside the directory.
    Outside(PathBuf),
}

impl fmt::Display for DebugLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Directory { dir, reason } => {
                write!(f, "debug log directory {}: {reason}", dir.display())
            }
            Self::NotRelative(p) => write!(
                f,
                "debug log file {}: give a relative name inside the directory",
                p.display()
            ),
            Self::Outside(p) => write!(
                f,
                "debug log file {} lies outside its directory",
                p.display()
            ),
        }
    }
}

impl std::error::Error for DebugLogError {}

/// An append-only host file inside a given directory, bounded in size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugLog {
    dir: PathBuf,
    path: PathBuf,
    limit: u64,
}

impl DebugLog {
    /// Size a debug log file stops growing at, unless [`DebugLog::with_limit`] says otherwise.
    pub const DEFAULT_LIMIT: u64 = 1 << 20;

    /// A log at `file` (relative) inside `dir` (which must exist). Refused when `file` is absolute
    /// or climbs out with `..`, or when it or its parent resolves outside `dir`.
    pub fn new(dir: impl AsRef<Path>, file: impl AsRef<Path>) -> Result<Self, DebugLogError> {
        let given = dir.as_ref();
        let dir = std::fs::canonicalize(given).map_err(|e| DebugLogError::Directory {
            dir: given.to_path_buf(),
            reason: e.to_string(),
        })?;
        if !dir.is_dir() {
            return Err(DebugLogError::Directory {
                dir: given.to_path_buf(),
                reason: "not a directory".into(),
            });
        }
        let file = file.as_ref();
        let plain = file.components().count() > 0
            && file.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(DebugLogError::NotRelative(file.to_path_buf()));
        }
        let path = dir.join(file);
        let inside = |p: &Path| std::fs::canonicalize(p).is_ok_and(|c| c.starts_with(&dir));
        if !path.parent().is_some_and(inside) {
            return Err(DebugLogError::Outside(file.to_path_buf()));
        }
        if std::fs::symlink_metadata(&path).is_ok() && !inside(&path) {
            return Err(DebugLogError::Outside(file.to_path_buf()));
        }
        Ok(Self {
            dir,
            path,
            limit: Self::DEFAULT_LIMIT,
        })
    }

    /// The same log with another size limit.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `bytes` (as many as the size limit leaves room for); returns how many were
    /// written. A file that became a symbolic link, or a parent that moved outside the
    /// directory, since the log was made is left alone.
    pub fn append(&self, bytes: &[u8]) -> usize {
        if cfg!(fuzzing) {
            return 0;
        }
        let parent_inside = self
            .path
            .parent()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .is_some_and(|p| p.starts_with(&self.dir));
        let is_link =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_symlink());
        if !parent_inside || is_link {
            return 0;
        }
        let len = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        let room = usize::try_from(self.limit.saturating_sub(len)).unwrap_or(usize::MAX);
        let n = bytes.len().min(room);
        if n == 0 {
            return 0;
        }
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(&bytes[..n]));
        if written.is_ok() { n } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_exactly_the_bytes_up_to_the_limit() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let log = DebugLog::new(dir, "out.bin").expect("inside").with_limit(6);
        assert_eq!(log.append(b"abcd"), 4);
        assert_eq!(log.append(b"efgh"), 2);
        assert_eq!(log.append(b"i"), 0);
        assert_eq!(std::fs::read(log.path()).expect("written"), b"abcdef");
    }

    #[test]
    fn refuses_paths_outside_the_directory() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        std::fs::create_dir_all(dir.join("sub")).expect("sub");
        assert!(DebugLog::new(dir, "sub/ok.log").is_ok());
        for bad in ["../escape.log", "/etc/passwd", "", "sub/../../x", "."] {
            assert!(
                matches!(DebugLog::new(dir, bad), Err(DebugLogError::NotRelative(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            DebugLog::new(dir, "missing/x.log"),
            Err(DebugLogError::Outside(_))
        ));
        assert!(matches!(
            DebugLog::new(dir.join("nope"), "x.log"),
            Err(DebugLogError::Directory { .. })
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/tmp", dir.join("link")).expect("symlink");
            assert!(matches!(
                DebugLog::new(dir, "link/x.log"),
                Err(DebugLogError::Outside(_))
            ));
            std::os::unix::fs::symlink("/etc/hostname", dir.join("file-link")).expect("symlink");
            assert!(matches!(
                DebugLog::new(dir, "file-link"),
                Err(DebugLogError::Outside(_))
            ));
        }
    }
}
