//! Files named by users (inputs, traces, device images, capture files): regular files
//! only, opened without blocking, read with a cap.
//!
//! A path may name anything: `/dev/zero` reads forever, opening a FIFO blocks until someone
//! opens its other end, a directory opens on some systems and reads as an error later. These
//! helpers open with `O_NONBLOCK` (which changes nothing for a regular file), then refuse
//! whatever the opened file is not, so neither a special file nor one swapped in between a
//! check and the open can hang or exhaust the process.

use std::fs::{File, OpenOptions};
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Why a user-named file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// An empty path (an option value such as `image:` with nothing after the colon).
    #[error("empty file name")]
    EmptyPath,
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not a regular file.
    #[error("{}: is a {kind}, not a regular file", path.display())]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than what its use can take.
    #[error("{}: larger than {max} bytes ({what})", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap.
        max: u64,
        /// Why that cap.
        what: &'static str,
    },
}

impl FileError {
    /// The message without the path (for callers that name the file themselves).
    pub fn reason(&self) -> String {
        match self {
            FileError::EmptyPath => "empty file name".to_string(),
            FileError::Io { source, .. } => source.to_string(),
            FileError::NotRegular { kind, .. } => format!("is a {kind}, not a regular file"),
            FileError::TooLarge { max, what, .. } => format!("larger than {max} bytes ({what})"),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What kind of file `meta` describes, in words, when it is not a regular file.
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    Some(if t.is_file() {
        return None;
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    })
}

fn check_regular(path: &Path, file: &File) -> Result<(), FileError> {
    let meta = file.metadata().map_err(io(path))?;
    match not_regular(&meta) {
        Some(kind) => Err(FileError::NotRegular {
            path: path.to_path_buf(),
            kind,
        }),
        None => Ok(()),
    }
}

/// Open `path` for reading: a regular file, never blocking on a FIFO.
pub fn open_regular(path: &Path) -> Result<File, FileError> {
    if path.as_os_str().is_empty() {
        return Err(FileError::EmptyPath);
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io(path))?;
    check_regular(path, &file)?;
    Ok(file)
}

/// Create or truncate `path` for writing: a regular file (or a new one), never blocking on a
/// FIFO nor writing into a device.
pub fn create_regular(path: &Path) -> Result<File, FileError> {
    if path.as_os_str().is_empty() {
        return Err(FileError::EmptyPath);
    }
    // Refuse before truncating: opening a device or FIFO for writing has effects of its own.
    if let Ok(meta) = std::fs::metadata(path)
        && let Some(kind) = not_regular(&meta)
    {
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
            kind,
        });
    }
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io(path))?;
    check_regular(path, &file)?;
    Ok(file)
}

/// Read all of the regular file `path`, refusing one larger than `max` bytes (`what` says why
/// that is the cap, for the error).
pub fn read_capped(path: &Path, max: u64, what: &'static str) -> Result<Vec<u8>, FileError> {
    let file = open_regular(path)?;
    let mut data = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io(path))?;
    if data.len() as u64 > max {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            max,
            what,
        });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_without_blocking_or_reading_forever() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let fifo = dir.join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        for (path, kind) in [
            (Path::new("/dev/zero"), "character device"),
            (dir, "directory"),
            (fifo.as_path(), "FIFO"),
        ] {
            let e = read_capped(path, 100, "test").unwrap_err();
            assert!(
                e.to_string()
                    .ends_with(&format!("is a {kind}, not a regular file")),
                "{e}"
            );
            assert!(open_regular(path).is_err());
        }
        assert!(create_regular(&fifo).is_err(), "no write into a FIFO");
        assert!(create_regular(Path::new("/dev/null")).is_err());
        assert!(matches!(
            read_capped(Path::new(""), 1, "test"),
            Err(FileError::EmptyPath)
        ));
    }

    #[test]
    fn regular_files_read_up_to_the_cap() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let f = dir.join("f");
        std::fs::write(&f, [7u8; 10]).unwrap();
        assert_eq!(read_capped(&f, 10, "test").unwrap(), vec![7; 10]);
        let e = read_capped(&f, 9, "an input").unwrap_err();
        assert!(
            e.to_string().ends_with("larger than 9 bytes (an input)"),
            "{e}"
        );
        let out = dir.join("out");
        std::io::Write::write_all(&mut create_regular(&out).unwrap(), b"x").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"x");
    }
}
