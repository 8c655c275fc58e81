//! The 16 transmit queues (facts §1.7, §1.11): ring walks, advanced and legacy descriptors,
//! checksum offload, TSO, head write-back, the quota per kick, loopback.

use super::*;
use crate::e1000_core::filter;
use crate::e1000_core::offload::{self, MIN_FRAME};

/// Descriptor size.
pub(super) const DESC_LEN: u64 = 16;
/// Fragments per packet (QEMU's cap).
const MAX_FRAGMENTS: u16 = 64;
/// Choice where QEMU's igb differs (noted through `Context::note_choice`, written down in
/// qemu-differences.txt): a write-back with RS raises ICR.TXDW whatever the queue's IVAR entry
/// (82576 datasheet); QEMU raises it only when the entry is valid. Noted when the entry is not
/// valid and TXDW was not already set.
pub const CHOICE_TXDW_WITHOUT_IVAR: &str = "txdw-without-valid-ivar";
/// Choice: a frame looped back (MAC or PHY loopback) is received without link (82576
/// datasheet); QEMU's igb drops every frame until autonegotiation sets STATUS.LU. Noted at such
/// a frame.
pub const CHOICE_LOOPBACK_WITHOUT_LINK: &str = "loopback-receive-without-link";
/// Largest packet assembled from fragments (a TSO super-frame).
const MAX_TX_PACKET: usize = 64 << 10;

/// cmd_type_len bits.
const CMD_EOP: u32 = 1 << 24;
const CMD_IC: u32 = 1 << 26; // legacy: insert checksum
const CMD_RS: u32 = 1 << 27;
const CMD_DEXT: u32 = 1 << 29;
const CMD_VLE: u32 = 1 << 30;
const CMD_TSE: u32 = 1 << 31;
const DTYP_SHIFT: u32 = 20;
const DTYP_CONTEXT: u32 = 0x2;
const DTYP_DATA: u32 = 0x3;
/// olinfo_status: context slot (QEMU uses bit 4: two slots), IXSM, TXSM.
const OLINFO_IDX: u32 = 1 << 4;
const POPTS_IXSM: u32 = 1 << 8;
const POPTS_TXSM: u32 = 1 << 9;
/// Context TUCMD: IPv4, L4 type TCP, SCTP.
const TUCMD_IPV4: u32 = 1 << 10;
const TUCMD_L4T_TCP: u32 = 1 << 11;
const TUCMD_L4T_SCTP: u32 = 1 << 12;
const STA_DD: u32 = 1;

/// An advanced context descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TxContext {
    iplen: u16,
    maclen: u8,
    vlan: u16,
    tucmd: u32,
    l4len: u8,
    mss: u16,
}

/// One queue's packet being assembled.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct TxQueue {
    contexts: [TxContext; 2],
    packet: Vec<u8>,
    fragments: u16,
    /// The packet overflowed: skip to EOP and drop it.
    skip: bool,
    /// Options from the packet's first data descriptor.
    slot: usize,
    tse: bool,
    ixsm: bool,
    txsm: bool,
    vlan: Option<u16>,
    /// Legacy checksum insertion (CSO, CSS).
    legacy_csum: Option<(u8, u8)>,
}

harness::clone_by_field!(TxQueue {
    contexts,
    packet,
    fragments,
    skip,
    slot,
    tse,
    ixsm,
    txsm,
    vlan,
    legacy_csum,
});

impl Igb {
    /// TCTL was written: kick every queue.
    pub(super) fn kick_all(&mut self, ctx: &mut dyn Context) {
        for n in 0..QUEUES {
            self.kick(ctx, n);
        }
    }

    /// The resume timer fired: kick the queues that yielded.
    pub(super) fn resume_xmit(&mut self, ctx: &mut dyn Context) {
        let pending = std::mem::take(&mut self.tx_resume);
        for n in 0..QUEUES {
            if pending & (1 << n) != 0 {
                self.kick(ctx, n);
            }
        }
    }

    fn tx_enabled(&self, n: usize) -> bool {
        self.reg(TCTL) & TCTL_EN != 0
            && self.reg(txq(n, Q_DCTL)) & DCTL_QUEUE_ENABLE != 0
            && (!self.vmdq() || self.reg(VFTE) & (1 << (n % POOLS)) != 0)
    }

    /// Process queue `n` from TDH towards TDT synchronously, up to the kick quota; the rest
    /// follows on [`TIMER_TX_RESUME`].
    pub(super) fn kick(&mut self, ctx: &mut dyn Context, n: usize) {
        self.tx_resume &= !(1 << n);
        self.tx_kick = TxKick::default();
        if !self.tx_enabled(n) {
            return;
        }
        let count = u64::from(self.reg(txq(n, Q_LEN))) / DESC_LEN;
        let base = u64::from(self.reg(txq(n, Q_BAH))) << 32 | u64::from(self.reg(txq(n, Q_BAL)));
        let tail = u64::from(self.reg(txq(n, Q_TAIL)));
        let mut head = u64::from(self.reg(txq(n, Q_HEAD)));
        let mut written_back = false;
        if count == 0 || tail >= count {
            return;
        }
        // One lap, plus the one descriptor a head outside the ring names before it wraps.
        for _ in 0..=count {
            if head == tail {
                break;
            }
            ctx.work(1);
            let addr = base.wrapping_add(head.wrapping_mul(DESC_LEN));
            head += 1;
            if head >= count {
                head = 0;
            }
            self.set_reg(txq(n, Q_HEAD), head as u32);
            written_back |= self.process_desc(ctx, n, addr, head as u32);
            if self.tx_kick.spent() && head != tail {
                let busy = self.tx_kick.busy_ns();
                tracing::trace!(target: "igb_tx_yield", "queue {n} head {head} tail {tail} after {busy} ns");
                self.tx_resume |= 1 << n;
                ctx.timer_set(TIMER_TX_RESUME, ctx.now().saturating_add(busy));
                break;
            }
        }
        if written_back {
            let eicr = self.tx_eicr(n);
            if eicr == 0 && self.reg(ICR) & ICR_TXDW == 0 {
                ctx.note_choice(CHOICE_TXDW_WITHOUT_IVAR);
            }
            self.raise_causes(ctx, ICR_TXDW, eicr);
        }
    }

    /// Handle one descriptor of queue `n` (the head already moved to `new_head`); returns
    /// whether it was written back.
    fn process_desc(&mut self, ctx: &mut dyn Context, n: usize, addr: u64, new_head: u32) -> bool {
        if !self.bus_master() {
            return false;
        }
        let mut desc = [0u8; DESC_LEN as usize];
        self.tx_kick.fetched_descriptor(DESC_LEN);
        if ctx.dma_read(addr, &mut desc).is_err() {
            tracing::trace!(target: "igb_tx_desc_dma_error", "addr {addr:#x}");
        }
        let dword = |i: usize| u32::from_le_bytes([desc[i], desc[i + 1], desc[i + 2], desc[i + 3]]);
        let buffer = u64::from(dword(0)) | u64::from(dword(4)) << 32;
        let cmd = dword(8);
        let olinfo = dword(12);
        tracing::trace!(target: "igb_tx_descr", "queue {n} addr {addr:#x} {buffer:#x} {cmd:#x} {olinfo:#x}");
        let advanced = cmd & CMD_DEXT != 0;
        if !advanced {
            self.legacy_desc(ctx, n, buffer, &desc);
        } else {
            match cmd >> DTYP_SHIFT & 0xF {
                DTYP_CONTEXT => self.context_desc(n, &desc),
                DTYP_DATA => self.data_desc(ctx, n, buffer, cmd, olinfo),
                _ => tracing::trace!(target: "igb_tx_bad_dtyp", "queue {n} cmd {cmd:#x}"),
            }
        }
        if cmd & CMD_RS == 0 {
            return false;
        }
        let wbal = self.reg(txq(n, Q_TDWBAL));
        if wbal & TDWBAL_ENABLE != 0 {
            let at = (u64::from(self.reg(txq(n, Q_TDWBAH))) << 32 | u64::from(wbal)) & !3;
            let _ = ctx.dma_write(at, &new_head.to_le_bytes());
        } else if advanced {
            let mut wb = [0u8; 8];
            wb[4..].copy_from_slice(&STA_DD.to_le_bytes());
            let _ = ctx.dma_write(addr + 8, &wb);
        } else {
            let status = olinfo | STA_DD;
            let _ = ctx.dma_write(addr + 12, &status.to_le_bytes());
        }
        true
    }

    fn context_desc(&mut self, n: usize, desc: &[u8; 16]) {
        let macip = u32::from_le_bytes([desc[0], desc[1], desc[2], desc[3]]);
        let tucmd = u32::from_le_bytes([desc[8], desc[9], desc[10], desc[11]]);
        let mss_l4 = u32::from_le_bytes([desc[12], desc[13], desc[14], desc[15]]);
        let slot = usize::from(mss_l4 & OLINFO_IDX != 0);
        self.tx[n].contexts[slot] = TxContext {
            iplen: (macip & 0x1FF) as u16,
            maclen: (macip >> 9 & 0x7F) as u8,
            vlan: (macip >> 16) as u16,
            tucmd,
            l4len: (mss_l4 >> 8) as u8,
            mss: (mss_l4 >> 16) as u16,
        };
    }

    fn data_desc(&mut self, ctx: &mut dyn Context, n: usize, buffer: u64, cmd: u32, olinfo: u32) {
        let q = &mut self.tx[n];
        if q.fragments == 0 && !q.skip {
            q.tse = cmd & CMD_TSE != 0;
            q.slot = usize::from(olinfo & OLINFO_IDX != 0);
            q.ixsm = olinfo & POPTS_IXSM != 0;
            q.txsm = olinfo & POPTS_TXSM != 0;
            if cmd & CMD_VLE != 0 {
                q.vlan = Some(q.contexts[q.slot].vlan);
            }
        }
        self.fragment(ctx, n, buffer, (cmd & 0xFFFF) as usize);
        if cmd & CMD_EOP != 0 {
            self.packet_done(ctx, n);
        }
    }

    fn legacy_desc(&mut self, ctx: &mut dyn Context, n: usize, buffer: u64, desc: &[u8; 16]) {
        let cmd = u32::from(desc[11]) << 24;
        let q = &mut self.tx[n];
        if cmd & CMD_IC != 0 {
            q.legacy_csum = Some((desc[10], desc[13]));
        }
        if cmd & CMD_VLE != 0 {
            q.vlan = Some(u16::from_le_bytes([desc[14], desc[15]]));
        }
        let len = usize::from(u16::from_le_bytes([desc[8], desc[9]]));
        self.fragment(ctx, n, buffer, len);
        if cmd & CMD_EOP != 0 {
            self.packet_done(ctx, n);
        }
    }

    fn fragment(&mut self, ctx: &mut dyn Context, n: usize, buffer: u64, len: usize) {
        let q = &mut self.tx[n];
        if q.skip {
            return;
        }
        if q.fragments >= MAX_FRAGMENTS || q.packet.len() + len > MAX_TX_PACKET {
            q.skip = true;
            return;
        }
        q.fragments += 1;
        self.tx_kick.fetched(len as u64);
        let start = q.packet.len();
        q.packet.resize(start + len, 0);
        let _ = ctx.dma_read(buffer, &mut q.packet[start..]);
    }

    /// EOP: offloads, then send the packet (or its TSO segments); the packet state resets.
    fn packet_done(&mut self, ctx: &mut dyn Context, n: usize) {
        let contexts = self.tx[n].contexts;
        let mut state = std::mem::take(&mut self.tx[n]);
        self.tx[n].contexts = contexts;
        if state.skip {
            self.tx_malformed += 1;
            return;
        }
        let mut frame = std::mem::take(&mut state.packet);
        if let Some((cso, css)) = state.legacy_csum {
            offload::insert_checksum(&mut frame, usize::from(css), usize::from(cso), 0);
        }
        let c = state.contexts[state.slot];
        if state.tse {
            return self.tso(ctx, &frame, &state, c);
        }
        let ip = usize::from(c.maclen);
        let l4 = ip + usize::from(c.iplen);
        if state.ixsm && c.tucmd & TUCMD_IPV4 != 0 && c.iplen != 0 {
            offload::insert_checksum(&mut frame, ip, ip + 10, l4 - 1);
        }
        if state.txsm
            && let Some(at) = l4_checksum_offset(c.tucmd, l4)
        {
            offload::insert_seeded_checksum(&mut frame, l4, at, 0);
        }
        self.send(ctx, frame, state.vlan);
    }

    /// TCP segmentation with an advanced context: header = MACLEN + IPLEN + L4LEN bytes, then
    /// MSS bytes of payload per segment, with IP length/ID/checksum and TCP sequence number,
    /// flags and checksum fixed up per segment. A context that does not fit the frame drops it.
    fn tso(&mut self, ctx: &mut dyn Context, frame: &[u8], state: &TxQueue, c: TxContext) {
        let ip = usize::from(c.maclen);
        let l4 = ip + usize::from(c.iplen);
        let hdr_len = l4 + usize::from(c.l4len);
        let mss = usize::from(c.mss);
        let tcp = c.tucmd & TUCMD_L4T_TCP != 0;
        if mss == 0 || c.iplen < 20 || ip < 14 || c.l4len < 8 || hdr_len > frame.len() {
            tracing::trace!(target: "igb_tx_tso_bad_context", "hdr_len {hdr_len} mss {mss}");
            self.tx_malformed += 1;
            self.regs.count(TSCTFC, 1);
            return;
        }
        self.regs.count(TSCTC, 1);
        let (header, payload) = frame.split_at(hdr_len);
        let chunks = payload.len().div_ceil(mss).max(1);
        for i in 0..chunks {
            ctx.work(1);
            let start = (i * mss).min(payload.len());
            let end = (start + mss).min(payload.len());
            let mut seg = Vec::with_capacity(hdr_len + end - start);
            seg.extend_from_slice(header);
            seg.extend_from_slice(&payload[start..end]);
            let last = i + 1 == chunks;
            let seg_len = seg.len();
            if c.tucmd & TUCMD_IPV4 != 0 {
                put_be16(&mut seg, ip + 2, (seg_len - ip) as u16);
                let id = get_be16(&seg, ip + 4).wrapping_add(i as u16);
                put_be16(&mut seg, ip + 4, id);
                offload::insert_checksum(&mut seg, ip, ip + 10, l4 - 1);
            } else {
                put_be16(&mut seg, ip + 4, seg_len.saturating_sub(l4) as u16);
            }
            if tcp {
                let seq = get_be32(&seg, l4 + 4).wrapping_add(start as u32);
                put_be32(&mut seg, l4 + 4, seq);
                if !last && let Some(flags) = seg.get_mut(l4 + 13) {
                    *flags &= !0x09; // FIN, PSH only on the last segment
                }
            }
            if let Some(at) = l4_checksum_offset(c.tucmd, l4) {
                let l4_len = (seg.len() - l4) as u16;
                offload::insert_seeded_checksum(&mut seg, l4, at, l4_len);
            }
            self.send(ctx, seg, state.vlan);
        }
    }

    /// Put a frame on the wire, or loop it back to the receive path.
    fn send(&mut self, ctx: &mut dyn Context, mut frame: Vec<u8>, vlan: Option<u16>) {
        if let Some(tag) = vlan
            && frame.len() >= 12
        {
            let tpid = (self.reg(VET) as u16).to_be_bytes();
            let t = tag.to_be_bytes();
            frame.splice(12..12, [tpid[0], tpid[1], t[0], t[1]]);
        }
        if self.reg(TCTL) & TCTL_PSP != 0 && frame.len() < MIN_FRAME {
            frame.resize(MIN_FRAME, 0);
        }
        offload::count_tx(&mut self.regs, &frame);
        self.tx_kick.sent(frame.len());
        if filter::loopback(self.reg(RCTL), self.phy.loopback()) {
            tracing::trace!(target: "igb_tx_loopback", "len {}", frame.len());
            if self.reg(STATUS) & STATUS_LU == 0 {
                ctx.note_choice(CHOICE_LOOPBACK_WITHOUT_LINK);
            }
            self.receive(ctx, &frame);
        } else {
            tracing::trace!(target: "igb_tx_send", "len {}", frame.len());
            if let Some(pcap) = &self.pcap {
                pcap.record(&frame, ctx.now());
            }
            if self.sent.len() == SENT_FRAMES_KEPT {
                self.sent.pop_front();
            }
            self.sent.push_back(frame);
        }
    }
}

/// Where the L4 checksum goes: TCP +16, UDP +6; SCTP (a CRC, not offloaded here) none.
fn l4_checksum_offset(tucmd: u32, l4: usize) -> Option<usize> {
    if tucmd & TUCMD_L4T_SCTP != 0 {
        None
    } else if tucmd & TUCMD_L4T_TCP != 0 {
        Some(l4 + 16)
    } else {
        Some(l4 + 6)
    }
}

fn get_be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn put_be16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

fn get_be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn put_be32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}
