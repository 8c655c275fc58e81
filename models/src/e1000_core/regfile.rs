//! The register file: one dword per 4 bytes of BAR0 up to a model's end, plus the statistics
//! counter rules (saturating adds; clear on read; 64-bit pairs clear when the high half is read).

use super::regs::{GORCH, GORCL, GOTCH, GOTCL, TORH, TORL, TOTH, TOTL};

/// Dword storage for a register file of `end` bytes. Offsets past the end read 0 and drop
/// writes, so no guest offset can index outside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegFile {
    words: Box<[u32]>,
}

impl RegFile {
    /// A zeroed register file covering byte offsets `[0, end)`.
    pub fn new(end: u64) -> Self {
        Self {
            words: vec![0; (end / 4) as usize].into_boxed_slice(),
        }
    }

    /// Zero every register (keeps the allocation).
    pub fn clear(&mut self) {
        self.words.fill(0);
    }

    /// The register at byte `offset` (0 outside the file).
    pub fn get(&self, offset: u64) -> u32 {
        self.words.get((offset / 4) as usize).copied().unwrap_or(0)
    }

    /// Store `value` at byte `offset` (dropped outside the file).
    pub fn set(&mut self, offset: u64, value: u32) {
        if let Some(r) = self.words.get_mut((offset / 4) as usize) {
            *r = value;
        }
    }

    /// Store only the bits of `mask`, keeping the others.
    pub fn set_masked(&mut self, offset: u64, value: u32, mask: u32) {
        let old = self.get(offset);
        self.set(offset, (old & !mask) | (value & mask));
    }

    /// Add to a 32-bit statistics counter, saturating as the hardware does.
    pub fn count(&mut self, offset: u64, n: u32) {
        let v = self.get(offset).saturating_add(n);
        self.set(offset, v);
    }

    /// Add to a 64-bit statistics counter (low at `low`, high at `low + 4`).
    pub fn count64(&mut self, low: u64, n: u64) {
        let v = (u64::from(self.get(low + 4)) << 32 | u64::from(self.get(low))).saturating_add(n);
        self.set(low, v as u32);
        self.set(low + 4, (v >> 32) as u32);
    }

    /// Read a statistics register: clear on read, except that a 64-bit pair clears both halves
    /// when its high half is read.
    pub fn read_stat(&mut self, offset: u64) -> u32 {
        let value = self.get(offset);
        match offset {
            GORCL | GOTCL | TORL | TOTL => {}
            GORCH | GOTCH | TORH | TOTH => {
                self.set(offset - 4, 0);
                self.set(offset, 0);
            }
            _ => self.set(offset, 0),
        }
        value
    }
}
