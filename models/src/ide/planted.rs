//! The IDE function's planted bugs (see [`crate::planted`]): which are active in a device, read
//! once when it is built, and the canaries their sites count.

/// The IDE planted bugs, in the order of [`Planted`]'s table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bug {
    /// `ide-prd-zero-sectors` (CVE-2014-9718).
    PrdZeroSectors,
    /// `ide-atapi-data-overrun` (CVE-2015-5154).
    AtapiDataOverrun,
    /// `ide-atapi-lba-overread` (CVE-2020-29443).
    AtapiLbaOverread,
    /// `ide-dma-partial-sector` (CVE-2019-20175).
    DmaPartialSector,
    /// `ide-chs-zero-geometry` (Morphuzz).
    ChsZeroGeometry,
}

impl Bug {
    #[cfg(feature = "planted-bugs")]
    const ALL: [Bug; 5] = [
        Bug::PrdZeroSectors,
        Bug::AtapiDataOverrun,
        Bug::AtapiLbaOverread,
        Bug::DmaPartialSector,
        Bug::ChsZeroGeometry,
    ];

    /// The id in [`crate::planted::BUGS`].
    #[cfg(feature = "planted-bugs")]
    fn id(self) -> &'static str {
        match self {
            Bug::PrdZeroSectors => "ide-prd-zero-sectors",
            Bug::AtapiDataOverrun => "ide-atapi-data-overrun",
            Bug::AtapiLbaOverread => "ide-atapi-lba-overread",
            Bug::DmaPartialSector => "ide-dma-partial-sector",
            Bug::ChsZeroGeometry => "ide-chs-zero-geometry",
        }
    }
}

/// The planted bugs a device was built with: for each active one, its index in the registry
/// (found by id when the device is built). Without the `planted-bugs` feature none is ever
/// active and the buggy paths compile away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Planted {
    #[cfg(feature = "planted-bugs")]
    active: [Option<usize>; 5],
}

impl Planted {
    /// The current selection.
    pub(crate) fn current() -> Self {
        #[cfg(feature = "planted-bugs")]
        {
            let selection = crate::planted::Active::current();
            let active = Bug::ALL
                .map(|bug| crate::planted::index_of(bug.id()).filter(|&i| selection.has(i)));
            Self { active }
        }
        #[cfg(not(feature = "planted-bugs"))]
        Self::default()
    }

    /// The registry index of `bug` if it is active.
    #[inline(always)]
    pub(crate) fn index(self, bug: Bug) -> Option<usize> {
        #[cfg(feature = "planted-bugs")]
        {
            self.active[bug as usize]
        }
        #[cfg(not(feature = "planted-bugs"))]
        {
            let _ = bug;
            None
        }
    }
}

/// Count that a planted bug's path ran with the bug active.
#[inline(always)]
pub(crate) fn planted_reached(_bug: usize) {
    #[cfg(feature = "planted-bugs")]
    crate::planted::reached(_bug);
}

/// Count that a planted bug corrupted state.
#[inline(always)]
pub(crate) fn planted_triggered(_bug: usize) {
    #[cfg(feature = "planted-bugs")]
    crate::planted::triggered(_bug);
}
