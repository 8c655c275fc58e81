//! The small numbers that name things on a machine: a device, one of its regions, one of its
//! timers. Every other module speaks in them, so they sit beneath all of them.

/// Index of a device in its machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(pub u16);

/// Index of a region in the list a device returns from [`crate::device::Device::regions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(pub u16);

/// A device-chosen timer number; each device has its own namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u16);
