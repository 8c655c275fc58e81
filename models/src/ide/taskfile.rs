//! The registers of one unit (ATA/ATAPI-7 §7: the command and control blocks) and their bits.
//! Both drive kinds and the channel use them; the sector addressing an ATA disk reads from them
//! is in [`super::sector_address`].

// Command block registers (offsets from the base port).
pub(super) const REG_DATA: u64 = 0; // Data (16/32-bit PIO)
pub(super) const REG_ERROR: u64 = 1; // R: Error, W: Features
pub(super) const REG_NSECTOR: u64 = 2; // Sector Count (ATAPI: Interrupt Reason)
pub(super) const REG_SECTOR: u64 = 3; // LBA Low / Sector Number
pub(super) const REG_LCYL: u64 = 4; // LBA Mid / Cylinder Low (ATAPI: Byte Count low)
pub(super) const REG_HCYL: u64 = 5; // LBA High / Cylinder High (ATAPI: Byte Count high)
pub(super) const REG_DEVICE: u64 = 6; // Device/Head
pub(super) const REG_STATUS: u64 = 7; // R: Status, W: Command

// Status register.
pub(super) const STATUS_ERR: u8 = 0x01; // Error
pub(super) const STATUS_DRQ: u8 = 0x08; // Data Request
pub(super) const STATUS_DSC: u8 = 0x10; // Device Seek Complete
pub(super) const STATUS_DRDY: u8 = 0x40; // Device Ready
pub(super) const STATUS_BSY: u8 = 0x80; // Busy
/// Status of an idle ATA device.
pub(super) const STATUS_READY: u8 = STATUS_DRDY | STATUS_DSC;

// Error register.
pub(super) const ERROR_ABRT: u8 = 0x04; // Aborted Command
pub(super) const ERROR_UNC: u8 = 0x40; // Uncorrectable Data Error
/// Error register after a reset or EXECUTE DEVICE DIAGNOSTIC: device 0 passed.
pub(super) const DIAGNOSTIC_PASSED: u8 = 0x01;

// Device Control register.
pub(super) const DEVCTL_NIEN: u8 = 0x02; // interrupt disable
pub(super) const DEVCTL_SRST: u8 = 0x04; // software reset
pub(super) const DEVCTL_HOB: u8 = 0x80; // high order byte readback

// Device/Head register.
pub(super) const DEV_HEAD: u8 = 0x0f; // head number / LBA 27:24
pub(super) const DEV_SELECT: u8 = 0x10; // DEV: 0 master, 1 slave
pub(super) const DEV_LBA: u8 = 0x40; // LBA addressing
pub(super) const DEV_OBSOLETE: u8 = 0xa0; // bits 7 and 5, always read 1 (QEMU)

/// The registers of one unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Taskfile {
    pub feature: u8,
    pub nsector: u8,
    pub sector: u8,
    pub lcyl: u8,
    pub hcyl: u8,
    pub hob_feature: u8,
    pub hob_nsector: u8,
    pub hob_sector: u8,
    pub hob_lcyl: u8,
    pub hob_hcyl: u8,
    pub select: u8,
    pub status: u8,
    pub error: u8,
}

impl Taskfile {
    /// The current byte and the HOB byte of `reg` when it is one of the registers LBA48
    /// doubles (Features, Sector Count, LBA Low, Mid and High); `None` for the others.
    pub fn doubled(&mut self, reg: u64) -> Option<(&mut u8, &mut u8)> {
        Some(match reg {
            REG_ERROR => (&mut self.feature, &mut self.hob_feature),
            REG_NSECTOR => (&mut self.nsector, &mut self.hob_nsector),
            REG_SECTOR => (&mut self.sector, &mut self.hob_sector),
            REG_LCYL => (&mut self.lcyl, &mut self.hob_lcyl),
            REG_HCYL => (&mut self.hcyl, &mut self.hob_hcyl),
            _ => return None,
        })
    }

    /// The reset signature (ATA-8 §9.12): what kind of device answers, if any.
    /// QEMU 10 leaves the device register at 0xA0 (no head, LBA or DEV bit).
    pub fn set_signature(&mut self, cd: Option<bool>) {
        self.select = DEV_OBSOLETE;
        self.nsector = 1;
        self.sector = 1;
        (self.lcyl, self.hcyl) = match cd {
            Some(false) => (0x00, 0x00),
            Some(true) => (0x14, 0xeb),
            None => (0xff, 0xff),
        };
    }
}

impl Taskfile {
    /// The registers after a reset (QEMU's `ide_reset`): all zero, the device register 0xA0,
    /// status 0x50 (also for a packet device and an absent unit), then the signature of `cd`
    /// (see [`Taskfile::set_signature`]).
    pub fn reset(&mut self, cd: Option<bool>) {
        *self = Taskfile {
            select: DEV_OBSOLETE,
            status: STATUS_READY,
            ..Taskfile::default()
        };
        self.set_signature(cd);
    }

    /// What EXECUTE DEVICE DIAGNOSTIC leaves (and SRST after the reset): the signature and
    /// error 0x01; status 0x50, or 0 for a packet device. Returns whether the device interrupts
    /// (all but a packet device, an absent one too, as in QEMU).
    pub fn diagnostic(&mut self, cd: Option<bool>) -> bool {
        self.set_signature(cd);
        self.error = DIAGNOSTIC_PASSED;
        if cd == Some(true) {
            self.status = 0;
            false
        } else {
            self.status = STATUS_READY;
            true
        }
    }

    /// The command fails with `error`: status 0x41 (DRDY, ERR).
    pub fn set_error(&mut self, error: u8) {
        self.status = STATUS_DRDY | STATUS_ERR;
        self.error = error;
    }
}
