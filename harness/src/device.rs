//! The device trait and the context through which a device causes side effects.
//!
//! A device is a deterministic state machine. Everything it does to the outside world — DMA, IRQ
//! lines, timers, a reset request, work accounting — goes through [`Context`], so a unit test can
//! drive a device with [`crate::testing::TestContext`] and no machine around it.

use crate::access::{AccessRules, AccessSize, Space};
pub use crate::ids::{DeviceId, RegionId, TimerId};
use crate::pci::PciConfig;
use std::any::Any;
use std::fmt;

/// A region a device exposes: a register block, a port range, a BAR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionSpec {
    /// Name in QEMU's style: the device's name and what the region is ("widget-mmio").
    pub name: &'static str,
    /// Memory or I/O.
    pub space: Space,
    /// Size in bytes (a power of two for BARs).
    pub size: u64,
    /// Valid and implemented access sizes.
    pub rules: AccessRules,
    /// The device legitimately DMAs into this region of its own (the re-entrancy allow-list).
    /// Such a DMA is handed back to the device as [`DmaError::OwnRegion`] instead of being blocked.
    pub self_dma: bool,
}

impl RegionSpec {
    /// A region with the given rules and no self-DMA allowance.
    pub const fn new(name: &'static str, space: Space, size: u64, rules: AccessRules) -> Self {
        Self {
            name,
            space,
            size,
            rules,
            self_dma: false,
        }
    }
}

/// Why a DMA transfer did not (fully) reach its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DmaError {
    /// The device is a PCI function whose Bus Master Enable bit is clear.
    #[error("bus mastering disabled")]
    BusMasterDisabled,
    /// The transfer hit a region of a device that is already handling an access (guard mode):
    /// writes were dropped and reads gave zeros there.
    #[error("blocked by the re-entrancy guard")]
    Blocked,
    /// The transfer starts in one of the calling device's own regions that it allow-listed with
    /// [`RegionSpec::self_dma`]; the device serves it itself. Nothing was transferred.
    #[error("transfer targets the device's own region {region:?} at offset {offset:#x}")]
    OwnRegion {
        /// Which of the device's regions.
        region: RegionId,
        /// Offset of the transfer's start in that region.
        offset: u64,
    },
    /// The input's guest-RAM budget, or (for a transfer into device registers) its work
    /// budget, is spent; the transfer stopped there and the run stops after the current
    /// operation.
    #[error("guest memory or work budget exhausted")]
    Budget,
}

/// Side effects available to a device while it handles an access, a timer or an event.
pub trait Context {
    /// Current virtual time in nanoseconds.
    fn now(&self) -> u64;
    /// Read guest memory as the device's bus master (through normal dispatch and the guard).
    /// On error the parts that could not be read are zero.
    #[track_caller]
    fn dma_read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError>;
    /// [`dma_read`](Self::dma_read) for a device that moves bulk data and treats zeros
    /// specially (a disk that stores no zero sectors), so that it neither copies nor scans
    /// bytes known to be zeros: where the read yields zeros without reading memory — guest RAM
    /// nothing has written this input (no program write, device write or DMA fill), or every
    /// byte while the device's bus mastering is off — it may leave `buf` as it was and pass
    /// that range of `buf` (in order, not empty) to `zeros` instead. Every other byte is read
    /// as by `dma_read`, and the result is `dma_read`'s. The default reads everything.
    #[track_caller]
    fn dma_read_sparse(
        &mut self,
        addr: u64,
        buf: &mut [u8],
        zeros: &mut dyn FnMut(std::ops::Range<usize>),
    ) -> Result<(), DmaError> {
        let _ = zeros;
        self.dma_read(addr, buf)
    }
    /// Write guest memory as the device's bus master (through normal dispatch and the guard).
    #[track_caller]
    fn dma_write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError>;
    /// Drive one of the device's interrupt outputs (pin numbers are the device's own; the
    /// machine profile wires them to machine IRQ lines).
    fn set_irq(&mut self, pin: u8, level: bool);
    /// Arm (or re-arm) `timer` to fire at absolute virtual time `deadline` ns.
    fn timer_set(&mut self, timer: TimerId, deadline: u64);
    /// Disarm `timer`; a no-op if it is not armed.
    fn timer_cancel(&mut self, timer: TimerId);
    /// Ask the machine for a system reset (after the current operation completes).
    fn request_reset(&mut self);
    /// Account `units` of work against the per-operation budget. A model loop that the guest
    /// drives (a ring walk, a FIFO drain) calls this once per iteration; when the budget is
    /// spent the run ends with a hang finding at the caller's location.
    #[track_caller]
    fn work(&mut self, units: u64);
    /// Count a canary of the planted bug `id` (an id the harness does not interpret): its
    /// buggy path ran ([`Canary::Reached`]) or the condition the fix guards against happened
    /// there ([`Canary::Triggered`]). Canaries only observe; the machine adds them up per run
    /// and the run's [`Outcome`](crate::outcome::Outcome) reports them. Ignored by default.
    fn canary(&mut self, id: &'static str, canary: Canary) {
        let _ = (id, canary);
    }
    /// Say that the device just took a documented choice where QEMU behaves differently
    /// (`"wel-cleared-after-write"`): from this access on, what the device answers may differ
    /// from QEMU's by design. Call it where the choice makes a difference QEMU would not, and
    /// only then, so a comparison keeps its power elsewhere. Only observes: a machine without
    /// an observer ignores it (one branch); `devfuzz diff-corpus` marks the device's later
    /// differences `choice:NAME:REGISTER`, and a record writes `# choice DEVICE NAME`
    /// (docs/differential.md). Ignored by default.
    fn note_choice(&mut self, choice: &'static str) {
        let _ = choice;
    }
    /// [`Context::note_choice`] `count` times, as that many byte-by-byte steps would: for a
    /// device that does them in bulk (a machine without an observer checks once).
    fn note_choices(&mut self, choice: &'static str, count: usize) {
        for _ in 0..count {
            self.note_choice(choice);
        }
    }
}

/// What a planted bug's canary saw ([`Context::canary`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Canary {
    /// The buggy code path ran with the bug active.
    Reached,
    /// The condition the fixed model guards against actually happened there (the state is
    /// now corrupt, whether or not anything has failed yet).
    Triggered,
}

/// Saving and loading a device's whole state, for machine checkpoints (the state after a
/// target's prologue, returned to before every input). Every `Clone` type has it: a device
/// model derives `Clone` and is done.
pub trait Snapshot {
    /// A copy of the state.
    fn save(&self) -> Box<dyn Any>;
    /// Return to a state [`save`](Self::save) made; a state of another type is ignored.
    fn load(&mut self, saved: &dyn Any);
}

impl<T: Clone + 'static> Snapshot for T {
    fn save(&self) -> Box<dyn Any> {
        Box::new(self.clone())
    }

    fn load(&mut self, saved: &dyn Any) {
        if let Some(s) = saved.downcast_ref::<T>() {
            self.clone_from(s);
        }
    }
}

/// A deterministic device model.
///
/// Handlers only ever see accesses allowed by the region's [`AccessRules`]: aligned to and sized
/// within the implemented range, with offsets inside the region. A device is `Clone` (see
/// [`Snapshot`]): its state is everything it needs to continue exactly.
pub trait Device: fmt::Debug + Snapshot {
    /// Name as QEMU calls the device (what qtest `event` and findings name it by).
    fn name(&self) -> &'static str;
    /// The device's regions, indexed by [`RegionId`]. Called when a machine is built.
    fn regions(&self) -> Vec<RegionSpec>;
    /// Guest read of `size` bytes at `offset` in `region`.
    fn read(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
    ) -> u64;
    /// Guest write of `size` bytes at `offset` in `region`.
    fn write(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
        value: u64,
    );
    /// The device's PCI configuration space, if it is a PCI function.
    fn pci(&self) -> Option<&PciConfig> {
        None
    }
    /// Mutable access to the PCI configuration space.
    fn pci_mut(&mut self) -> Option<&mut PciConfig> {
        None
    }
    /// Configuration read of `size` bytes at `offset` (0..256, never crossing a dword).
    fn config_read(&mut self, _ctx: &mut dyn Context, offset: u8, size: AccessSize) -> u32 {
        self.pci().map_or(u32::MAX, |cfg| cfg.read(offset, size))
    }
    /// Configuration write of `size` bytes at `offset` (0..256, never crossing a dword). The
    /// machine re-reads BARs and the command register after a write that touches them (0x04-0x05,
    /// 0x10-0x27, 0x30-0x33) and remaps as needed.
    fn config_write(&mut self, _ctx: &mut dyn Context, offset: u8, size: AccessSize, value: u32) {
        if let Some(cfg) = self.pci_mut() {
            cfg.write(offset, size, value);
        }
    }
    /// A timer the device armed has expired.
    fn timer(&mut self, _ctx: &mut dyn Context, _timer: TimerId) {}
    /// An external event (a key press, an incoming frame). The payload format is the device's
    /// own and documented with it; every byte string must be accepted.
    fn event(&mut self, _ctx: &mut dyn Context, _payload: &[u8]) {}
    /// Return to the power-on state (including the PCI configuration space).
    fn reset(&mut self);
}
