//! Transmit queue 0 (facts §1.6, §1.7).

use super::*;

/// Descriptor size.
pub(super) const DESC_LEN: u64 = 16;
/// Fragments per packet (QEMU's cap).
const MAX_FRAGMENTS: u16 = 64;
/// Choice where QEMU's e1000e differs (noted through `Context::note_choice`, written down in
/// qemu-differences.txt): a TSE data descriptor without a usable TSO context (MSS or header
/// length 0, or a header longer than the frame) is dropped and counted in TSCTFC (82574
/// datasheet); QEMU sends it.
pub const CHOICE_TSO_WITHOUT_CONTEXT_DROPPED: &str = "tso-without-context-dropped";
/// Choice (the interrupt delay timers are not modelled, mod.rs): a write-back of a descriptor
/// with IDE raises TXDW at once; QEMU holds it back for TIDV on its virtual clock, which
/// stands still under qtest -S. Noted at such a write-back outside MSI-X.
pub const CHOICE_TX_DELAY_NOT_MODELLED: &str = "tx-interrupt-delay-not-modelled";
/// Largest packet assembled from fragments (a TSO super-frame).
pub(super) const MAX_TX_PACKET: usize = 64 << 10;
/// Frames one kick may send before it yields (shared with igb: [`crate::e1000_core::kick`]).
#[allow(unused_imports)]
pub(super) use crate::e1000_core::kick::TX_FRAMES_PER_KICK;

/// TX descriptor command bits (byte 11 / dword1 bits 31:24).
const CMD_EOP: u32 = 0x0100_0000;
const CMD_IFCS: u32 = 0x0200_0000;
const CMD_IC: u32 = 0x0400_0000;
const CMD_TSE: u32 = 0x0400_0000;
const CMD_RS: u32 = 0x0800_0000;
/// Interrupt delay enable: the write-back's cause waits for TIDV (not modelled here).
const CMD_IDE: u32 = 0x8000_0000;
const CMD_DEXT: u32 = 0x2000_0000;
const CMD_VLE: u32 = 0x4000_0000;
const DTYP_D: u32 = 0x0010_0000;
/// Extended data POPTS: insert IP checksum, insert TCP/UDP checksum.
const POPTS_IXSM: u32 = 1 << 8;
const POPTS_TXSM: u32 = 1 << 9;
/// Context TUCMD: IPv4, TCP.
const TUCMD_IP: u32 = 1 << 25;
const TUCMD_TCP: u32 = 1 << 24;
/// STA.DD in the upper dword.
const STA_DD: u32 = 1;

/// The offload context from the last context descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TxContext {
    ipcss: u8,
    ipcso: u8,
    ipcse: u16,
    tucss: u8,
    tucso: u8,
    tucse: u16,
    tucmd: u32,
    hdr_len: u8,
    mss: u16,
}

/// A packet being assembled from data descriptors.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct TxState {
    context: TxContext,
    packet: Vec<u8>,
    fragments: u16,
    /// The packet overflowed: skip to EOP and drop it.
    skip: bool,
    /// Options of the packet's data descriptors: TSE, IXSM, TXSM, VLE and the VLAN tag.
    tse: bool,
    ixsm: bool,
    txsm: bool,
    vlan: Option<u16>,
    /// Legacy checksum insertion (CSO, CSS).
    legacy_csum: Option<(u8, u8)>,
}

harness::clone_by_field!(TxState {
    context,
    packet,
    fragments,
    skip,
    tse,
    ixsm,
    txsm,
    vlan,
    legacy_csum,
});

impl E1000e {
    pub(super) fn write_tdt(&mut self, ctx: &mut dyn Context, value: u32) {
        self.set_reg(TDT, value & 0xFFFF);
        self.start_xmit(ctx);
    }

    pub(super) fn write_tctl(&mut self, ctx: &mut dyn Context, value: u32) {
        self.set_reg(TCTL, value);
        self.start_xmit(ctx);
    }

    /// The transmit-resume timer fired: go on where the last kick stopped.
    pub(super) fn resume_xmit(&mut self, ctx: &mut dyn Context) {
        self.start_xmit(ctx);
    }

    /// Process queue 0 from TDH towards TDT, synchronously as QEMU does, up to
    /// [`TX_FRAMES_PER_KICK`] frames; the rest follows on [`TIMER_TX_RESUME`].
    fn start_xmit(&mut self, ctx: &mut dyn Context) {
        ctx.timer_cancel(TIMER_TX_RESUME);
        self.tx_kick = TxKick::default();
        if self.reg(TCTL) & TCTL_EN == 0 || self.reg(TARC0) & TARC_ENABLE == 0 {
            return;
        }
        let ring_len = u64::from(self.reg(TDLEN));
        let count = ring_len / DESC_LEN;
        let base = u64::from(self.reg(TDBAH)) << 32 | u64::from(self.reg(TDBAL));
        let tail = u64::from(self.reg(TDT));
        let mut head = u64::from(self.reg(TDH));
        let mut written_back = false;
        let mut yielded = false;
        if count != 0 && tail < count {
            #[cfg(feature = "planted-bugs")]
            if self.planted.on(HEAD_OUTSIDE_RING) && head >= count {
                self.xmit_head_outside_ring(ctx, base, count, tail);
                return;
            }
            // One lap, plus the one descriptor a head outside the ring names before it wraps.
            for _ in 0..=count {
                if head == tail {
                    break;
                }
                ctx.work(1);
                let addr = base.wrapping_add(head.wrapping_mul(DESC_LEN));
                written_back |= self.process_tx_desc(ctx, addr);
                head += 1;
                if head >= count {
                    head = 0;
                }
                self.set_reg(TDH, head as u32);
                if self.tx_kick.spent() && head != tail {
                    let busy = self.tx_kick.busy_ns();
                    tracing::trace!(target: "e1000e_tx_yield", "head {head} tail {tail} after {busy} ns");
                    ctx.timer_set(TIMER_TX_RESUME, ctx.now().saturating_add(busy));
                    yielded = true;
                    break;
                }
            }
        }
        // The queue is empty unless the kick yielded with descriptors left.
        let mut causes = if yielded { 0 } else { ICR_TXQE };
        if written_back {
            // With MSI-X on the queue's own cause replaces TXDW (QEMU).
            causes |= if self.msix_enabled() {
                ICR_TXQ0
            } else {
                ICR_TXDW
            };
        }
        self.raise(ctx, causes);
    }

    /// CVE-2016-1981 / CVE-2017-9310: the head only wraps when it *equals* the ring size, so a
    /// head past the end walks on until the work budget ends it.
    #[cfg(feature = "planted-bugs")]
    fn xmit_head_outside_ring(&mut self, ctx: &mut dyn Context, base: u64, count: u64, tail: u64) {
        HEAD_OUTSIDE_RING.reached(ctx);
        HEAD_OUTSIDE_RING.triggered(ctx);
        let mut head = u64::from(self.reg(TDH));
        while head != tail {
            ctx.work(1);
            let addr = base.wrapping_add(head.wrapping_mul(DESC_LEN));
            self.process_tx_desc(ctx, addr);
            head = head.wrapping_add(1);
            if head == count {
                head = 0;
            }
            self.set_reg(TDH, head as u32);
        }
    }

    /// Handle one descriptor; returns whether it was written back.
    fn process_tx_desc(&mut self, ctx: &mut dyn Context, addr: u64) -> bool {
        if !self.bus_master() {
            return false;
        }
        let mut desc = [0u8; DESC_LEN as usize];
        self.tx_kick.fetched_descriptor(DESC_LEN);
        if ctx.dma_read(addr, &mut desc).is_err() {
            tracing::trace!(target: "e1000e_tx_desc_dma_error", "addr {addr:#x}");
        }
        let buffer = u64::from_le_bytes(desc[0..8].try_into().unwrap_or_default());
        let dword1 = u32::from_le_bytes(desc[8..12].try_into().unwrap_or_default());
        let dword2 = u32::from_le_bytes(desc[12..16].try_into().unwrap_or_default());
        tracing::trace!(target: "e1000e_tx_descr", "addr {addr:#x} {buffer:#x} {dword1:#x} {dword2:#x}");
        match dword1 & (CMD_DEXT | DTYP_D) {
            CMD_DEXT => self.tx_context(&desc),
            d if d == CMD_DEXT | DTYP_D => {
                let len = (dword1 & 0xFFFF) as usize;
                if self.tx.fragments == 0 {
                    self.tx.tse = dword1 & CMD_TSE != 0;
                }
                self.tx.ixsm |= dword2 & POPTS_IXSM != 0;
                self.tx.txsm |= dword2 & POPTS_TXSM != 0;
                if dword1 & CMD_VLE != 0 {
                    self.tx.vlan = Some((dword2 >> 16) as u16);
                }
                self.tx_fragment(ctx, buffer, len);
                if dword1 & CMD_EOP != 0 {
                    self.tx_packet_done(ctx, dword1 & CMD_IFCS != 0);
                }
            }
            _ => {
                let len = (dword1 & 0xFFFF) as usize;
                if dword1 & CMD_IC != 0 {
                    self.tx.legacy_csum = Some((desc[10], desc[13]));
                }
                if dword1 & CMD_VLE != 0 {
                    self.tx.vlan = Some(u16::from_le_bytes([desc[14], desc[15]]));
                }
                self.tx_fragment(ctx, buffer, len);
                if dword1 & CMD_EOP != 0 {
                    self.tx_packet_done(ctx, dword1 & CMD_IFCS != 0);
                }
            }
        }
        if dword1 & CMD_RS != 0 || self.reg(IVAR) & IVAR_TX_INT_EVERY_WB != 0 {
            if dword1 & CMD_IDE != 0 && !self.msix_enabled() {
                ctx.note_choice(CHOICE_TX_DELAY_NOT_MODELLED);
            }
            let status = dword2 | STA_DD;
            let _ = ctx.dma_write(addr + 12, &status.to_le_bytes());
            true
        } else {
            false
        }
    }

    fn tx_context(&mut self, desc: &[u8; 16]) {
        self.tx.context = TxContext {
            ipcss: desc[0],
            ipcso: desc[1],
            ipcse: u16::from_le_bytes([desc[2], desc[3]]),
            tucss: desc[4],
            tucso: desc[5],
            tucse: u16::from_le_bytes([desc[6], desc[7]]),
            tucmd: u32::from_le_bytes([desc[8], desc[9], desc[10], desc[11]]),
            hdr_len: desc[13],
            mss: u16::from_le_bytes([desc[14], desc[15]]),
        };
    }

    fn tx_fragment(&mut self, ctx: &mut dyn Context, buffer: u64, len: usize) {
        if self.tx.skip {
            return;
        }
        if self.tx.fragments >= MAX_FRAGMENTS || self.tx.packet.len() + len > MAX_TX_PACKET {
            self.tx.skip = true;
            return;
        }
        self.tx.fragments += 1;
        self.tx_kick.fetched(len as u64);
        let start = self.tx.packet.len();
        self.tx.packet.resize(start + len, 0);
        let _ = ctx.dma_read(buffer, &mut self.tx.packet[start..]);
    }

    /// EOP: offloads, then send the packet (or its TSO segments); the packet state resets.
    fn tx_packet_done(&mut self, ctx: &mut dyn Context, _ifcs: bool) {
        let mut state = std::mem::take(&mut self.tx);
        self.tx.context = state.context;
        if state.skip {
            self.tx_malformed += 1;
            return;
        }
        let mut frame = std::mem::take(&mut state.packet);
        if let Some((cso, css)) = state.legacy_csum {
            insert_checksum(&mut frame, usize::from(css), usize::from(cso), 0);
        }
        if state.tse {
            self.tx_tso(ctx, &frame, &state);
            return;
        }
        let c = state.context;
        if state.ixsm {
            insert_checksum(&mut frame, c.ipcss.into(), c.ipcso.into(), c.ipcse.into());
        }
        if state.txsm {
            insert_checksum(&mut frame, c.tucss.into(), c.tucso.into(), c.tucse.into());
        }
        self.tx_send(ctx, frame, state.vlan);
    }

    /// TCP segmentation: the header (`hdr_len` bytes) in front of each `mss` bytes of payload,
    /// with IP total length and checksums fixed up per segment (a simple model: no TCP sequence
    /// numbers or flags are rewritten).
    fn tx_tso(&mut self, ctx: &mut dyn Context, frame: &[u8], state: &TxState) {
        let c = state.context;
        let hdr_len = usize::from(c.hdr_len);
        let mss = usize::from(c.mss);
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(TSO_ZERO_MSS) {
            return self.tx_tso_unchecked(ctx, frame, state);
        }
        if mss == 0 || hdr_len == 0 || hdr_len > frame.len() {
            tracing::trace!(target: "e1000e_tx_tso_bad_context", "hdr_len {hdr_len} mss {mss}");
            ctx.note_choice(CHOICE_TSO_WITHOUT_CONTEXT_DROPPED);
            self.tx_malformed += 1;
            self.count(TSCTFC, 1);
            return;
        }
        self.count(TSCTC, 1);
        let (header, payload) = frame.split_at(hdr_len);
        for chunk in payload.chunks(mss) {
            ctx.work(1);
            let seg = self.tso_segment(header, chunk, state);
            self.tx_send(ctx, seg, state.vlan);
        }
        if payload.is_empty() {
            let seg = self.tso_segment(header, &[], state);
            self.tx_send(ctx, seg, state.vlan);
        }
    }

    /// CVE-2015-6815 / CVE-2021-20257: bytes per segment computed without checking the context,
    /// so `mss = 0` never advances.
    #[cfg(feature = "planted-bugs")]
    fn tx_tso_unchecked(&mut self, ctx: &mut dyn Context, frame: &[u8], state: &TxState) {
        TSO_ZERO_MSS.reached(ctx);
        let hdr_len = usize::from(state.context.hdr_len).min(frame.len());
        let mss = usize::from(state.context.mss);
        if mss == 0 {
            TSO_ZERO_MSS.triggered(ctx);
        }
        let (header, payload) = frame.split_at(hdr_len);
        let mut offset = 0;
        while offset < payload.len() {
            ctx.work(1);
            let bytes = mss.min(payload.len() - offset);
            let seg = self.tso_segment(header, &payload[offset..offset + bytes], state);
            self.tx_send(ctx, seg, state.vlan);
            offset += bytes;
        }
    }

    fn tso_segment(&self, header: &[u8], chunk: &[u8], state: &TxState) -> Vec<u8> {
        let c = state.context;
        let mut seg = Vec::with_capacity(header.len() + chunk.len());
        seg.extend_from_slice(header);
        seg.extend_from_slice(chunk);
        let ipcss = usize::from(c.ipcss);
        if c.tucmd & TUCMD_IP != 0 {
            // IPv4 total length.
            let total = (seg.len().saturating_sub(ipcss)) as u16;
            if let Some(field) = seg.get_mut(ipcss + 2..ipcss + 4) {
                field.copy_from_slice(&total.to_be_bytes());
            }
        }
        if state.ixsm {
            insert_checksum(&mut seg, ipcss, c.ipcso.into(), c.ipcse.into());
        }
        if state.txsm && c.tucmd & TUCMD_TCP != 0 {
            insert_checksum(&mut seg, c.tucss.into(), c.tucso.into(), c.tucse.into());
        }
        seg
    }

    /// Put a frame on the wire, or loop it back to the receive path.
    fn tx_send(&mut self, ctx: &mut dyn Context, mut frame: Vec<u8>, vlan: Option<u16>) {
        if let Some(tag) = vlan.filter(|_| self.reg(CTRL) & CTRL_VME != 0) {
            if frame.len() >= 12 {
                let vet = (self.reg(VET) as u16).to_be_bytes();
                let t = tag.to_be_bytes();
                frame.splice(12..12, [vet[0], vet[1], t[0], t[1]]);
            }
        }
        if self.reg(TCTL) & TCTL_PSP != 0 && frame.len() < MIN_FRAME {
            frame.resize(MIN_FRAME, 0);
        }
        self.tx_stats(&frame);
        self.tx_kick.sent(frame.len());
        if crate::e1000_core::filter::loopback(self.reg(RCTL), self.phy_loopback()) {
            tracing::trace!(target: "e1000e_tx_loopback", "len {}", frame.len());
            self.loopback(ctx, &frame);
        } else {
            tracing::trace!(target: "e1000e_tx_send", "len {}", frame.len());
            if let Some(pcap) = &self.pcap {
                pcap.record(&frame, ctx.now());
            }
            if self.sent.len() == SENT_FRAMES_KEPT {
                self.sent.pop_front();
            }
            self.sent.push_back(frame);
        }
    }

    fn tx_stats(&mut self, frame: &[u8]) {
        crate::e1000_core::offload::count_tx(&mut self.regs, frame);
    }
}

pub(super) use crate::e1000_core::offload::{MIN_FRAME, insert_checksum};
