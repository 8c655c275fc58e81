//! The virtual clock: nanoseconds that pass only when the program says so, and the timers
//! devices arm on it.

use crate::ids::{DeviceId, TimerId};

/// An armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed {
    /// Absolute expiry time in ns.
    pub deadline: u64,
    /// Owning device.
    pub device: DeviceId,
    /// The device's timer number.
    pub timer: TimerId,
    order: u64,
}

/// Virtual time and armed timers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Clock {
    now: u64,
    armed: Vec<Armed>,
    next_order: u64,
}

clone_by_field!(Clock {
    now,
    armed,
    next_order
});

impl Clock {
    /// Current time in ns.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Arm (or re-arm) a device's timer.
    pub fn set(&mut self, device: DeviceId, timer: TimerId, deadline: u64) {
        self.cancel(device, timer);
        self.armed.push(Armed {
            deadline,
            device,
            timer,
            order: self.next_order,
        });
        self.next_order += 1;
    }

    /// Disarm a device's timer.
    pub fn cancel(&mut self, device: DeviceId, timer: TimerId) {
        self.armed
            .retain(|a| !(a.device == device && a.timer == timer));
    }

    /// Disarm all of a device's timers.
    pub fn cancel_device(&mut self, device: DeviceId) {
        self.armed.retain(|a| a.device != device);
    }

    /// Earliest deadline, if any timer is armed.
    pub fn next_deadline(&self) -> Option<u64> {
        self.armed.iter().map(|a| a.deadline).min()
    }

    /// Remove and return the earliest timer due at or before `until` (ties fire in arming
    /// order), advancing the clock to its deadline; deadlines in the past fire at `now`.
    pub fn pop_due(&mut self, until: u64) -> Option<Armed> {
        let (i, _) = self
            .armed
            .iter()
            .enumerate()
            .filter(|(_, a)| a.deadline <= until)
            .min_by_key(|(_, a)| (a.deadline, a.order))?;
        let a = self.armed.swap_remove(i);
        self.now = self.now.max(a.deadline);
        Some(a)
    }

    /// Move the clock to `t` (never backwards).
    pub fn advance_to(&mut self, t: u64) {
        self.now = self.now.max(t);
    }

    /// Time zero, no timers.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Currently armed timers.
    pub fn armed(&self) -> &[Armed] {
        &self.armed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_in_deadline_then_arming_order() {
        let mut c = Clock::default();
        let d = DeviceId(0);
        c.set(d, TimerId(1), 300);
        c.set(d, TimerId(2), 100);
        c.set(DeviceId(1), TimerId(2), 100);
        let order: Vec<_> = std::iter::from_fn(|| c.pop_due(1000))
            .map(|a| (a.device.0, a.timer.0, a.deadline))
            .collect();
        assert_eq!(order, vec![(0, 2, 100), (1, 2, 100), (0, 1, 300)]);
        assert_eq!(c.now(), 300);
    }

    #[test]
    fn rearming_replaces_and_cancel_removes() {
        let mut c = Clock::default();
        c.set(DeviceId(0), TimerId(0), 50);
        c.set(DeviceId(0), TimerId(0), 70);
        assert_eq!(c.next_deadline(), Some(70));
        c.cancel(DeviceId(0), TimerId(0));
        assert_eq!(c.next_deadline(), None);
        assert!(c.pop_due(u64::MAX).is_none());
    }
}
