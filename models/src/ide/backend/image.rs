//! Raw image files: what a machine option (`disk-cow:`, `disk-ro:`, `cdrom:`) puts under a disk
//! or in a CD-ROM drive. A file is only read, never written.

use super::IoError;
use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A raw image file, opened once for reading and shared by every clone of the device.
pub struct ImageFile {
    path: PathBuf,
    len: u64,
    file: Mutex<File>,
}

impl fmt::Debug for ImageFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageFile({}, {} bytes)", self.path.display(), self.len)
    }
}

impl PartialEq for ImageFile {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.len == other.len
    }
}

impl Eq for ImageFile {}

impl ImageFile {
    /// Open `path` for reading: a regular file (a directory, FIFO or device is refused).
    pub fn open(path: &Path) -> Result<Arc<Self>, harness::file::FileError> {
        let file = harness::file::open_regular(path)?;
        let len = file
            .metadata()
            .map_err(|source| harness::file::FileError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        Ok(Arc::new(Self {
            path: path.to_path_buf(),
            len,
            file: Mutex::new(file),
        }))
    }

    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Read `buf.len()` bytes at `offset`; a read past the end of the file fails.
    pub(super) fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let end = offset.checked_add(buf.len() as u64).ok_or(IoError::Io)?;
        if end > self.len {
            return Err(IoError::Io);
        }
        let mut file = self.file.lock().map_err(|_| IoError::Io)?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|_| IoError::Io)?;
        file.read_exact(buf).map_err(|_| IoError::Io)
    }
}

/// How a disk image is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageMode {
    /// Writes fail (the drive reports them as aborted commands).
    ReadOnly,
    /// Writes go to an in-memory overlay that a device reset drops; the file is never written.
    CopyOnWrite,
}
