//! The MSI-X table and pending-bit array as real memory-mapped state (BAR3): `N` entries of
//! four dwords (address low, address high, data, vector control) at offset 0, the PBA dword at
//! a model-chosen offset. Vectors start masked (PCI spec).

/// The MSI-X table and PBA of `N` vectors (`N` <= 32).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msix<const N: usize> {
    table: [[u32; 4]; N],
    pba: u32,
    pba_offset: u64,
}

impl<const N: usize> Msix<N> {
    /// Every vector masked, nothing pending; the PBA at `pba_offset`.
    pub fn new(pba_offset: u64) -> Self {
        Self {
            table: [[0, 0, 0, 1]; N],
            pba: 0,
            pba_offset,
        }
    }

    /// The pending bits.
    pub fn pba(&self) -> u32 {
        self.pba
    }

    /// A guest read of the dword at `offset`.
    pub fn read(&self, offset: u64) -> u32 {
        let idx = (offset / 4) as usize;
        if let Some(entry) = self.table.get(idx / 4) {
            entry[idx % 4]
        } else if offset == self.pba_offset {
            self.pba
        } else {
            0
        }
    }

    /// A guest write of the dword at `offset`. Unmasking a vector whose pending bit is set
    /// clears the bit and returns the vector: the model delivers it.
    pub fn write(&mut self, offset: u64, value: u32) -> Option<usize> {
        let idx = (offset / 4) as usize;
        let vector = idx / 4;
        let entry = self.table.get_mut(vector)?;
        entry[idx % 4] = if idx % 4 == 3 { value & 1 } else { value };
        if idx % 4 == 3 && value & 1 == 0 && self.pba & (1 << vector) != 0 {
            self.pba &= !(1 << vector);
            return Some(vector);
        }
        None
    }

    /// The message of `vector`, or `None` (and the pending bit set) when the vector or the
    /// whole function (`function_masked`) is masked, or the vector does not exist.
    pub fn message(&mut self, vector: usize, function_masked: bool) -> Option<(u64, u32)> {
        let entry = self.table.get(vector)?;
        if entry[3] & 1 != 0 || function_masked {
            self.pba |= 1 << vector;
            return None;
        }
        Some((u64::from(entry[0]) | u64::from(entry[1]) << 32, entry[2]))
    }

    /// Clear the pending bits of `bits` (the 82576's PBACLR).
    pub fn clear_pending(&mut self, bits: u32) {
        self.pba &= !bits;
    }

    /// The pending vectors the guest has since unmasked (`function_masked` now clear and the
    /// vector's own mask clear): their pending bits clear and the model delivers them.
    pub fn take_unmasked_pending(&mut self, function_masked: bool) -> u32 {
        if function_masked {
            return 0;
        }
        let mut bits = 0;
        for (vector, entry) in self.table.iter().enumerate() {
            if self.pba & (1 << vector) != 0 && entry[3] & 1 == 0 {
                bits |= 1 << vector;
            }
        }
        self.pba &= !bits;
        bits
    }
}
