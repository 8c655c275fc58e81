//! A reusable byte buffer for data on its way between guest memory and a disk: its contents
//! are no part of the drive's state, so a DMA step does not allocate and zero a fresh buffer
//! (at 64 KiB per step that was a tenth of the `ide` target's time).

use std::fmt;

/// Bytes in transit. Cloning gives an empty buffer, loading a snapshot leaves it as it is, and
/// any two compare equal: whoever takes a slice writes every byte of it before reading one.
#[derive(Default)]
pub(super) struct Scratch(Vec<u8>);

impl Scratch {
    /// `len` bytes of the buffer, grown (with zeros) if it is shorter; what they hold is left
    /// from earlier use: the caller must write each byte before it reads it.
    pub(super) fn take(&mut self, len: usize) -> &mut [u8] {
        if self.0.len() < len {
            self.0.resize(len, 0);
        }
        &mut self.0[..len]
    }
}

impl Clone for Scratch {
    fn clone(&self) -> Self {
        Self::default()
    }

    fn clone_from(&mut self, _source: &Self) {}
}

impl PartialEq for Scratch {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Scratch {}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scratch")
    }
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn a_scratch_buffer_is_no_state() {
        let mut a = Scratch::default();
        a.take(4).copy_from_slice(&[1, 2, 3, 4]);
        let mut b = a.clone();
        assert_eq!(b.take(4), &[0; 4], "a clone starts empty");
        assert_eq!(a, Scratch::default(), "contents do not compare");
        b.clone_from(&a);
        assert_eq!(a.take(2), &[1, 2], "kept for reuse, not zeroed");
        assert_eq!(a.take(6).len(), 6, "grows on demand");
    }
}
