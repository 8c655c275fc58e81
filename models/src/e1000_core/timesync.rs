//! The IEEE 1588 time sync clock both chips share (QEMU's model of it): SYSTIM is the
//! virtual clock scaled by TIMINCA (an increment per period, in 1/16 ns units) plus an
//! offset that TIMADJ writes and TIMINCA changes move, so the clock stays continuous.

use super::regfile::RegFile;
use super::regs::{SYSTIMH, SYSTIML, TIMADJH, TIMADJL, TIMINCA, TSYNC_VALID};

/// The clock's offset from the scaled virtual clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeSync {
    adjust: i64,
}

/// The virtual clock `now` scaled by TIMINCA: the increment (23:0) per period (31:24, at
/// least 1), in 1/16 ns units.
fn scaled(now: u64, timinca: u32) -> u64 {
    let increment = u128::from(timinca & 0x00FF_FFFF);
    let period = u128::from((timinca >> 24).max(1));
    (u128::from(now) * increment / period) as u64
}

impl TimeSync {
    /// A SYSTIML read at `now`: latches SYSTIMH too.
    pub fn read_systiml(&self, regs: &mut RegFile, now: u64) -> u32 {
        let t = self
            .adjust
            .wrapping_add((scaled(now, regs.get(TIMINCA)) / 16) as i64) as u64;
        regs.set(SYSTIML, t as u32);
        regs.set(SYSTIMH, (t >> 32) as u32);
        t as u32
    }

    /// A TIMINCA write at `now`.
    pub fn write_timinca(&mut self, regs: &mut RegFile, now: u64, value: u32) {
        let old = scaled(now, regs.get(TIMINCA));
        let new = scaled(now, value);
        self.adjust = self
            .adjust
            .wrapping_add((new.wrapping_sub(old) as i64) / 16);
        regs.set(TIMINCA, value);
    }

    /// A TIMADJH write: the adjustment (TIMADJH:TIMADJL) is added to the clock.
    pub fn write_timadjh(&mut self, regs: &mut RegFile, value: u32) {
        regs.set(TIMADJH, value);
        let adjust = u64::from(value) << 32 | u64::from(regs.get(TIMADJL));
        self.adjust = self.adjust.wrapping_add(adjust as i64);
    }
}

/// A read of a time stamp register that releases the latch: `control`'s VALID bit clears.
pub fn read_releasing(regs: &mut RegFile, offset: u64, control: u64) -> u32 {
    let v = regs.get(control) & !TSYNC_VALID;
    regs.set(control, v);
    regs.get(offset)
}
