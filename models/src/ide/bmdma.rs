//! The PIIX bus-master IDE function of one channel (facts §3.4): BMICOM, BMISTA, BMIDTP, and the
//! walk of the Physical Region Descriptor table it performs for a DMA command.

use super::backend::IoError;
use harness::device::{Context, DmaError};

/// BMICOM: Start/Stop Bus Master (SSBM).
pub const BM_CMD_START: u8 = 0x01;
/// BMICOM: Read/Write Control: 1 = the bus master writes memory (a READ DMA).
pub const BM_CMD_WRITE_MEMORY: u8 = 0x08;
/// BMICOM: the bits that are stored.
const BM_CMD_MASK: u8 = BM_CMD_START | BM_CMD_WRITE_MEMORY;
/// BMISTA: Bus Master IDE Active (read-only).
pub const BM_STATUS_ACTIVE: u8 = 0x01;
/// BMISTA: IDE DMA Error (write 1 to clear).
pub const BM_STATUS_ERROR: u8 = 0x02;
/// BMISTA: IDE Interrupt Status (write 1 to clear).
pub const BM_STATUS_INT: u8 = 0x04;
/// BMISTA: drive 0 and drive 1 DMA capable (read/write scratch bits).
const BM_STATUS_DRIVE_CAPABLE: u8 = 0x60;

/// PRD byte 4-7 bit 31: End Of Table.
const PRD_EOT: u32 = 0x8000_0000;
/// PRD byte count: bits 15:1 (bit 0 is ignored); a count of 0 means 64 KiB.
const PRD_COUNT_MASK: u32 = 0xfffe;
/// Bytes a PRD with a count of 0 describes.
const PRD_COUNT_ZERO: u32 = 0x1_0000;
/// Size of one PRD.
const PRD_SIZE: u32 = 8;
/// The bus master stops reading a table after 4 KiB (512 entries), as QEMU's fail-safe does: a
/// table must not cross a 64 KiB boundary on real hardware, and one page of entries is the most
/// a single transfer can need.
pub const PRD_TABLE_LIMIT: u32 = 4096;
/// Most memory segments one walk can produce: the remainder of a partly used entry plus a
/// table's worth of entries.
pub const MAX_SEGMENTS: usize = (PRD_TABLE_LIMIT / PRD_SIZE) as usize + 1;

/// One piece of guest memory a transfer covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Guest-physical address.
    pub addr: u32,
    /// Length in bytes.
    pub len: u32,
}

/// The memory segments of one transfer, as the PRD table describes them (at most
/// [`MAX_SEGMENTS`]; a list grown as the walk finds them, so a short transfer costs no more than
/// its entries).
#[derive(Clone, Debug, Default)]
pub struct Segments {
    list: Vec<Segment>,
    /// Total bytes.
    pub total: u64,
}

impl Segments {
    fn push(&mut self, seg: Segment) {
        if self.list.len() < MAX_SEGMENTS {
            self.list.push(seg);
            self.total += u64::from(seg.len);
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.total = 0;
    }

    /// The segments, in order.
    pub fn as_slice(&self) -> &[Segment] {
        &self.list
    }
}

/// A position in a list of segments, to scatter data into memory or gather it from there.
pub struct Cursor<'a> {
    segs: &'a [Segment],
    index: usize,
    offset: u32,
    /// A transfer stopped because the input's work is spent (`DmaError::Budget`).
    out_of_budget: bool,
}

impl<'a> Cursor<'a> {
    /// At the start of `segs`.
    pub fn new(segs: &'a Segments) -> Self {
        Self {
            segs: segs.as_slice(),
            index: 0,
            offset: 0,
            out_of_budget: false,
        }
    }

    /// `Err(IoError::Io)` once a transfer stopped because the input's work is spent: the
    /// machine ends the input after this operation, so the request fails there rather than
    /// walk the rest of a long data phase (up to 32 MiB) that moves nothing.
    pub fn budget_check(&self) -> Result<(), IoError> {
        if self.out_of_budget {
            Err(IoError::Io)
        } else {
            Ok(())
        }
    }

    /// Whether a DMA result says the input's work is spent.
    fn spent(r: Result<(), DmaError>) -> bool {
        r == Err(DmaError::Budget)
    }

    /// Call `f(address, start, end)` for each memory piece covering the next `len` bytes.
    fn walk(&mut self, len: usize, mut f: impl FnMut(u64, usize, usize)) {
        let mut done = 0usize;
        while done < len {
            let Some(seg) = self.segs.get(self.index) else {
                return;
            };
            let left = (seg.len - self.offset) as usize;
            let n = left.min(len - done);
            let addr = u64::from(seg.addr) + u64::from(self.offset);
            f(addr, done, done + n);
            done += n;
            self.offset += n as u32;
            if self.offset == seg.len {
                self.index += 1;
                self.offset = 0;
            }
        }
    }

    /// Write `data` to memory at the cursor. DMA errors (bus mastering disabled, a blocked
    /// re-entrant access) lose the bytes, as on a bus that master-aborts.
    pub fn put(&mut self, ctx: &mut dyn Context, data: &[u8]) {
        let mut spent = false;
        self.walk(data.len(), |addr, start, end| {
            spent |= Self::spent(ctx.dma_write(addr, &data[start..end]));
        });
        self.out_of_budget |= spent;
    }

    /// Read `buf.len()` bytes of memory at the cursor.
    pub fn get(&mut self, ctx: &mut dyn Context, buf: &mut [u8]) {
        let mut spent = false;
        self.walk(buf.len(), |addr, start, end| {
            spent |= Self::spent(ctx.dma_read(addr, &mut buf[start..end]));
        });
        self.out_of_budget |= spent;
    }

    /// Read `buf.len()` bytes of memory at the cursor, except the parts that are zeros without
    /// a copy (`Context::dma_read_sparse`): those are left as they were and their ranges in
    /// `buf` pushed onto `zeros`, in order, adjacent ones merged.
    pub fn get_sparse(
        &mut self,
        ctx: &mut dyn Context,
        buf: &mut [u8],
        zeros: &mut Vec<std::ops::Range<usize>>,
    ) {
        let mut spent = false;
        self.walk(buf.len(), |addr, start, end| {
            let r = ctx.dma_read_sparse(addr, &mut buf[start..end], &mut |r| {
                let r = start + r.start..start + r.end;
                match zeros.last_mut() {
                    Some(last) if last.end == r.start => last.end = r.end,
                    _ => zeros.push(r),
                }
            });
            spent |= Self::spent(r);
        });
        self.out_of_budget |= spent;
    }
}

/// One channel's bus-master registers and its position in the PRD table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusMaster {
    /// BMICOM.
    cmd: u8,
    /// BMISTA.
    status: u8,
    /// BMIDTP: the PRD table address the guest programmed.
    table: u32,
    /// Table address latched when START went 0 -> 1.
    walk_table: u32,
    /// Address of the next PRD to fetch.
    next_entry: u32,
    /// Memory address where the current PRD's unused bytes start.
    prd_addr: u32,
    /// Bytes left in the current PRD.
    prd_left: u32,
    /// The current PRD carries EOT.
    prd_last: bool,
}

impl BusMaster {
    /// BMICOM as the guest reads it.
    pub fn cmd(&self) -> u8 {
        self.cmd
    }

    /// BMISTA as the guest reads it.
    pub fn status(&self) -> u8 {
        self.status
    }

    /// Whether ACTIVE is set: the bus master accepts DMA requests.
    pub fn active(&self) -> bool {
        self.status & BM_STATUS_ACTIVE != 0
    }

    /// Set bits of BMISTA on the device side (INT, ERROR).
    pub fn add_status(&mut self, bits: u8) {
        self.status |= bits;
    }

    /// Clear ACTIVE (the transfer ended at the end of the table, or with an error).
    pub fn set_inactive(&mut self) {
        self.status &= !BM_STATUS_ACTIVE;
    }

    /// BMICOM write. Returns what the channel must do about it.
    pub fn write_cmd(&mut self, value: u8) -> CmdEffect {
        let old = self.cmd;
        self.cmd = value & BM_CMD_MASK;
        match (old & BM_CMD_START != 0, value & BM_CMD_START != 0) {
            (true, false) => CmdEffect::Stop,
            (false, true) => {
                self.walk_table = self.table;
                self.next_entry = self.table;
                if self.active() {
                    CmdEffect::None
                } else {
                    self.status |= BM_STATUS_ACTIVE;
                    CmdEffect::Start
                }
            }
            _ => CmdEffect::None,
        }
    }

    /// After a stop: ACTIVE clears.
    pub fn stopped(&mut self) {
        self.status &= !BM_STATUS_ACTIVE;
    }

    /// BMISTA write: ERROR and INT are write-1-to-clear, the drive-capable bits are stored,
    /// ACTIVE and simplex are read-only.
    pub fn write_status(&mut self, value: u8) {
        let w1c = BM_STATUS_ERROR | BM_STATUS_INT;
        self.status = (value & BM_STATUS_DRIVE_CAPABLE)
            | (self.status & BM_STATUS_ACTIVE)
            | (self.status & !value & w1c);
    }

    /// BMIDTP read of `len` bytes at byte `offset` (0..4) of the register.
    pub fn read_table(&self, offset: u64, len: u64) -> u64 {
        let mask = if len >= 4 {
            u64::MAX
        } else {
            (1 << (8 * len)) - 1
        };
        (u64::from(self.table) >> (8 * offset)) & mask
    }

    /// BMIDTP write of `len` bytes at byte `offset`; bits 1:0 always read 0.
    pub fn write_table(&mut self, offset: u64, len: u64, value: u64) {
        let mask = if len >= 4 {
            u64::from(u32::MAX)
        } else {
            (1 << (8 * len)) - 1
        };
        let shift = 8 * offset;
        let merged = (u64::from(self.table) & !(mask << shift)) | ((value & mask) << shift);
        self.table = merged as u32 & !3;
    }

    /// A new DMA command starts: forget the current PRD (its unused bytes and its EOT flag);
    /// the next fetch continues with the entry after it, as QEMU's `bmdma_start_dma` does.
    pub fn new_transfer(&mut self) {
        self.prd_addr = 0;
        self.prd_left = 0;
        self.prd_last = false;
    }

    /// Whether the table is used up: the current PRD is exhausted and it carried EOT (or the
    /// table limit is reached). While it is not, ACTIVE stays set after a transfer ends.
    pub fn table_exhausted(&self) -> bool {
        self.prd_left == 0 && (self.prd_last || self.table_limit_reached())
    }

    fn table_limit_reached(&self) -> bool {
        self.next_entry.wrapping_sub(self.walk_table) >= PRD_TABLE_LIMIT
    }

    /// Walk the table from the current position for up to `limit` bytes and return the memory
    /// segments found. Fewer bytes than `limit` means the table ended first.
    pub fn prepare(&mut self, ctx: &mut dyn Context, limit: u64, segs: &mut Segments) {
        segs.clear();
        while segs.total < limit {
            if self.prd_left == 0 {
                if self.prd_last || self.table_limit_reached() {
                    break;
                }
                ctx.work(1);
                let mut prd = [0u8; PRD_SIZE as usize];
                let _ = ctx.dma_read(u64::from(self.next_entry), &mut prd);
                self.next_entry = self.next_entry.wrapping_add(PRD_SIZE);
                let addr = u32::from_le_bytes([prd[0], prd[1], prd[2], prd[3]]);
                let count = u32::from_le_bytes([prd[4], prd[5], prd[6], prd[7]]);
                // Bit 0 of the base address is reserved (word alignment).
                self.prd_addr = addr & !1;
                self.prd_left = match count & PRD_COUNT_MASK {
                    0 => PRD_COUNT_ZERO,
                    n => n,
                };
                self.prd_last = count & PRD_EOT != 0;
            }
            let take = u64::from(self.prd_left).min(limit - segs.total) as u32;
            segs.push(Segment {
                addr: self.prd_addr,
                len: take,
            });
            self.prd_addr = self.prd_addr.wrapping_add(take);
            self.prd_left -= take;
        }
    }
}

/// What a BMICOM write asks the channel to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdEffect {
    /// Nothing beyond storing the bits.
    None,
    /// START went 0 -> 1 with the engine idle: a pending DMA command may now run.
    Start,
    /// START went 1 -> 0: finish an in-flight transfer, then clear ACTIVE.
    Stop,
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::testing::TestContext;

    fn prd(ctx: &mut TestContext, at: usize, addr: u32, count: u32) {
        ctx.ram[at..at + 4].copy_from_slice(&addr.to_le_bytes());
        ctx.ram[at + 4..at + 8].copy_from_slice(&count.to_le_bytes());
    }

    fn started(table: u32) -> BusMaster {
        let mut bm = BusMaster::default();
        bm.write_table(0, 4, u64::from(table));
        assert_eq!(
            bm.write_cmd(BM_CMD_START | BM_CMD_WRITE_MEMORY),
            CmdEffect::Start
        );
        bm.new_transfer();
        bm
    }

    #[test]
    fn status_write_clears_w1c_bits_and_keeps_active() {
        // facts §3.4: new = (val & 0x60) | (old & 0x01) | (old & ~val & 0x06).
        let mut bm = BusMaster {
            status: BM_STATUS_ACTIVE | BM_STATUS_ERROR | BM_STATUS_INT,
            ..BusMaster::default()
        };
        bm.write_status(0xe4);
        assert_eq!(bm.status(), BM_STATUS_ACTIVE | BM_STATUS_ERROR | 0x60);
        bm.write_status(0x02);
        assert_eq!(bm.status(), BM_STATUS_ACTIVE);
    }

    #[test]
    fn table_pointer_drops_the_low_bits_and_takes_partial_writes() {
        let mut bm = BusMaster::default();
        bm.write_table(0, 4, 0x1234_5677);
        assert_eq!(bm.read_table(0, 4), 0x1234_5674);
        bm.write_table(2, 2, 0xabcd);
        assert_eq!(bm.read_table(0, 4), 0xabcd_5674);
        assert_eq!(bm.read_table(1, 1), 0x56);
    }

    #[test]
    fn start_latches_the_table_and_stop_reports_it() {
        let mut bm = BusMaster::default();
        assert_eq!(bm.write_cmd(BM_CMD_START), CmdEffect::Start);
        assert!(bm.active());
        assert_eq!(bm.write_cmd(0xff), CmdEffect::None);
        assert_eq!(bm.cmd(), BM_CMD_START | BM_CMD_WRITE_MEMORY);
        assert_eq!(bm.write_cmd(0), CmdEffect::Stop);
    }

    #[test]
    fn prd_walk_stops_at_eot_and_a_zero_count_is_64k() {
        let mut ctx = TestContext::new(0x10000);
        prd(&mut ctx, 0x100, 0x2001, 0x0000);
        prd(&mut ctx, 0x108, 0x4000, PRD_EOT | 0x0201);
        let mut bm = started(0x100);
        let mut segs = Segments::default();
        bm.prepare(&mut ctx, u64::MAX, &mut segs);
        assert_eq!(
            segs.as_slice(),
            [
                Segment {
                    addr: 0x2000,
                    len: 0x10000
                },
                Segment {
                    addr: 0x4000,
                    len: 0x200
                }
            ]
        );
        assert!(bm.table_exhausted());
    }

    #[test]
    fn prd_walk_stops_at_the_limit_and_keeps_the_rest_of_an_entry() {
        let mut ctx = TestContext::new(0x10000);
        prd(&mut ctx, 0, 0x1000, PRD_EOT | 0x400);
        let mut bm = started(0);
        let mut segs = Segments::default();
        bm.prepare(&mut ctx, 0x200, &mut segs);
        assert_eq!(segs.total, 0x200);
        assert!(!bm.table_exhausted(), "0x200 bytes of the entry are left");
        bm.prepare(&mut ctx, 0x1000, &mut segs);
        assert_eq!(
            segs.as_slice(),
            [Segment {
                addr: 0x1200,
                len: 0x200
            }]
        );
        assert!(bm.table_exhausted());
    }

    #[test]
    fn prd_walk_reads_at_most_one_page_of_entries() {
        let mut ctx = TestContext::new(0x10000);
        for i in 0..1024 {
            prd(&mut ctx, i * 8, 0x8000, 2);
        }
        let mut bm = started(0);
        let mut segs = Segments::default();
        bm.prepare(&mut ctx, u64::MAX, &mut segs);
        assert_eq!(segs.as_slice().len(), 512);
        assert_eq!(segs.total, 1024);
        assert!(bm.table_exhausted());
        assert_eq!(ctx.work, 512);
    }

    #[test]
    fn cursor_scatters_across_segments() {
        let mut ctx = TestContext::new(0x100);
        let mut segs = Segments::default();
        segs.push(Segment { addr: 0x10, len: 3 });
        segs.push(Segment { addr: 0x40, len: 5 });
        let mut c = Cursor::new(&segs);
        c.put(&mut ctx, &[1, 2, 3, 4]);
        c.put(&mut ctx, &[5, 6, 7, 8, 9]);
        assert_eq!(&ctx.ram[0x10..0x13], &[1, 2, 3]);
        assert_eq!(&ctx.ram[0x40..0x45], &[4, 5, 6, 7, 8]);
        assert_eq!(ctx.ram[0x45], 0, "past the segments nothing is written");
        let mut back = [0u8; 8];
        Cursor::new(&segs).get(&mut ctx, &mut back);
        assert_eq!(back, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
