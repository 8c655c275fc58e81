//! Access sizes, address spaces and the access rules a region declares.
//!
//! The rules follow QEMU's `MemoryRegionOps` split: `valid` says which guest accesses the region
//! accepts at all, `implemented` says which sizes the device's handler is written for. The
//! dispatcher (see [`crate::space`]) widens or splits a valid access into implemented ones.

use std::fmt;

/// Width of one guest access: 1, 2, 4 or 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessSize {
    /// One byte.
    B1 = 1,
    /// Two bytes.
    B2 = 2,
    /// Four bytes.
    B4 = 4,
    /// Eight bytes.
    B8 = 8,
}

impl AccessSize {
    /// The access size for a byte count, if it is 1, 2, 4 or 8.
    pub fn from_bytes(bytes: u64) -> Option<Self> {
        match bytes {
            1 => Some(Self::B1),
            2 => Some(Self::B2),
            4 => Some(Self::B4),
            8 => Some(Self::B8),
            _ => None,
        }
    }

    /// Size chosen by two bits of fuzzer input: 1, 2, 4 or 8 bytes.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Self::B1,
            1 => Self::B2,
            2 => Self::B4,
            _ => Self::B8,
        }
    }

    /// Number of bytes.
    pub fn bytes(self) -> u64 {
        self as u64
    }

    /// Mask covering the low `bytes()` bytes of a value.
    pub fn mask(self) -> u64 {
        match self {
            Self::B8 => u64::MAX,
            s => (1u64 << (s.bytes() * 8)) - 1,
        }
    }
}

impl fmt::Display for AccessSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bytes())
    }
}

/// The largest naturally aligned access at `addr` of at most `left` bytes that stays within the
/// `room` bytes left in its segment and that a region with `rules` accepts (QEMU's
/// `memory_access_size`): how bulk and DMA transfers are cut into guest accesses. Unassigned
/// space (`rules` = `None`) is cut into pieces of up to 8 bytes.
pub fn piece_size(addr: u64, left: u64, room: u64, rules: Option<&AccessRules>) -> AccessSize {
    let max = rules.map_or(8, |r| r.valid_max.bytes());
    let mut p = 8u64;
    while p > 1 && (p > left || p > room || p > max || addr % p != 0) {
        p /= 2;
    }
    AccessSize::from_bytes(p).unwrap_or(AccessSize::B1)
}

/// Which address space an access travels in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    /// Guest-physical memory (MMIO and RAM).
    Memory,
    /// x86 port I/O (64 KiB).
    Io,
}

impl Space {
    /// Largest address + 1 in this space.
    pub fn limit(self) -> u128 {
        match self {
            Space::Memory => 1u128 << 64,
            Space::Io => 1u128 << 16,
        }
    }
}

/// What a region accepts from the guest and what its handler implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessRules {
    /// Smallest access the guest may make; smaller ones are treated as unassigned.
    pub valid_min: AccessSize,
    /// Largest access the guest may make; larger ones are treated as unassigned.
    pub valid_max: AccessSize,
    /// Whether the guest may make accesses not aligned to their size.
    pub unaligned: bool,
    /// Smallest access the handler sees; narrower accesses are widened.
    pub impl_min: AccessSize,
    /// Largest access the handler sees; wider accesses are split.
    pub impl_max: AccessSize,
    /// Whether the handler takes an unaligned access as it is (QEMU's `.impl.unaligned`, as
    /// its port I/O lists have); otherwise it is split into aligned pieces.
    pub impl_unaligned: bool,
}

impl AccessRules {
    /// Any size 1..=8, unaligned allowed; the handler sees an aligned access unchanged, an
    /// unaligned one in aligned pieces.
    pub const ANY: Self = Self {
        valid_min: AccessSize::B1,
        valid_max: AccessSize::B8,
        unaligned: true,
        impl_min: AccessSize::B1,
        impl_max: AccessSize::B8,
        impl_unaligned: false,
    };

    /// Byte-wide registers (ISA ports): any guest size, split into byte accesses.
    pub const BYTES: Self = Self {
        valid_min: AccessSize::B1,
        valid_max: AccessSize::B8,
        unaligned: true,
        impl_min: AccessSize::B1,
        impl_max: AccessSize::B1,
        impl_unaligned: false,
    };

    /// A 32-bit register file: guest 1..=4 bytes, handler always sees aligned dwords.
    pub const DWORDS: Self = Self {
        valid_min: AccessSize::B1,
        valid_max: AccessSize::B4,
        unaligned: false,
        impl_min: AccessSize::B4,
        impl_max: AccessSize::B4,
        impl_unaligned: false,
    };

    /// Whether the guest access `(offset, size)` is valid under these rules.
    pub fn accepts(&self, offset: u64, size: AccessSize) -> bool {
        size >= self.valid_min
            && size <= self.valid_max
            && (self.unaligned || offset % size.bytes() == 0)
    }
}
