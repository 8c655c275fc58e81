//! Receive (facts §1.8, §1.11): filters, VMDq pool selection, the per-queue rings with legacy
//! or advanced one-buffer descriptors, write-back ordering, statistics.

use super::tx::DESC_LEN;
use super::*;
use crate::e1000_core::filter::{self, RxKind};
use crate::e1000_core::offload::{self, MIN_FRAME, ethernet_crc};
use crate::e1000_core::ring::rx_free_descriptors;

/// Largest frame accepted without LPE, FCS included (1518 + a VLAN tag).
pub const MAX_NORMAL_FRAME: usize = 1522;

const STATUS_DD: u32 = 0x01;
const STATUS_EOP: u32 = 0x02;
const STATUS_VP: u32 = 0x08;
/// Advanced write-back packet type bits (pkt_info 12:4): IPv4, IPv6, TCP, UDP.
const PTYPE_IPV4: u16 = 0x01 << 4;
const PTYPE_IPV6: u16 = 0x04 << 4;
const PTYPE_TCP: u16 = 0x10 << 4;
const PTYPE_UDP: u16 = 0x20 << 4;

/// How one copy of a frame is stored.
struct Delivery {
    kind: RxKind,
    /// Receive queue.
    queue: usize,
    /// Largest frame with FCS.
    limit: usize,
    strip_crc: bool,
    strip_vlan: bool,
}

impl Igb {
    /// The queues (pools) a frame goes to, `None` when the filters drop it. Outside VMDq that
    /// is queue 0; in VMDq mode every pool that accepts it (at most [`POOLS`]).
    fn rx_targets(&self, frame: &[u8]) -> Option<(RxKind, u8)> {
        let rctl = self.reg(RCTL);
        let dst = filter::destination(frame)?;
        if let Some(tci) = filter::vlan_tag(frame, self.reg(VET) as u16)
            && rctl & RCTL_VFE != 0
            && !filter::vfta_pass(&self.regs, tci)
        {
            return None;
        }
        let kind = RxKind::of(&dst);
        let ra = filter::ra_lookup(&self.regs, RA, RA_ENTRIES, &dst)
            .or_else(|| filter::ra_lookup(&self.regs, RA2, RA2_FILTER_ENTRIES, &dst));
        let mta = filter::mta_match(&self.regs, &dst);
        if !self.vmdq() {
            let ok = match kind {
                RxKind::Broadcast => rctl & (RCTL_BAM | RCTL_MPE) != 0 || mta,
                RxKind::Multicast => rctl & RCTL_MPE != 0 || mta,
                RxKind::Unicast => rctl & RCTL_UPE != 0 || ra.is_some() || mta,
            };
            return ok.then_some((kind, 1));
        }
        let vmolr = |p: usize| self.reg(VMOLR + 4 * p as u64);
        let default_pool = || {
            let vt = self.reg(VT_CTL);
            if vt & VT_CTL_DIS_DEF_POOL != 0 {
                0
            } else {
                1u8 << (vt >> VT_CTL_DEF_POOL_SHIFT & 7)
            }
        };
        let mut pools = match kind {
            RxKind::Broadcast => (0..POOLS)
                .filter(|&p| vmolr(p) & VMOLR_BAM != 0)
                .fold(0u8, |m, p| m | 1 << p),
            RxKind::Multicast => (0..POOLS)
                .filter(|&p| vmolr(p) & VMOLR_MPME != 0 || (mta && vmolr(p) & VMOLR_ROMPE != 0))
                .fold(0u8, |m, p| m | 1 << p),
            RxKind::Unicast => match ra {
                Some((_, rah)) if (rah >> RAH_POOL_SHIFT) as u8 != 0 => {
                    (rah >> RAH_POOL_SHIFT) as u8
                }
                Some(_) => default_pool(),
                None if rctl & RCTL_UPE != 0 => default_pool(),
                None => 0,
            },
        };
        pools &= self.reg(VFRE) as u8;
        (pools != 0).then_some((kind, pools))
    }

    /// Deliver one frame (without FCS) from the wire or loopback. Returns whether any queue
    /// stored it.
    pub(super) fn receive(&mut self, ctx: &mut dyn Context, frame: &[u8]) -> bool {
        let rctl = self.reg(RCTL);
        if rctl & RCTL_EN == 0 || !self.bus_master() {
            tracing::trace!(target: "igb_rx_can_recv_disabled", "");
            return false;
        }
        let Some((kind, targets)) = self.rx_targets(frame) else {
            tracing::trace!(target: "igb_rx_flt_dropped", "");
            return false;
        };
        let vmdq = self.vmdq();
        let mut stored = false;
        for q in 0..POOLS {
            if targets & (1 << q) == 0 {
                continue;
            }
            ctx.work(1);
            let d = if vmdq {
                let vmolr = self.reg(VMOLR + 4 * q as u64);
                Delivery {
                    kind,
                    queue: q,
                    limit: if vmolr & VMOLR_LPE != 0 {
                        (vmolr & VMOLR_RLPML_MASK) as usize
                    } else {
                        MAX_NORMAL_FRAME
                    },
                    strip_crc: vmolr & VMOLR_STRCRC != 0,
                    strip_vlan: vmolr & VMOLR_STRVLAN != 0,
                }
            } else {
                Delivery {
                    kind,
                    queue: 0,
                    limit: if rctl & RCTL_LPE != 0 {
                        self.reg(RLPML) as usize
                    } else {
                        MAX_NORMAL_FRAME
                    },
                    strip_crc: rctl & RCTL_SECRC != 0,
                    strip_vlan: self.reg(CTRL) & CTRL_VME != 0,
                }
            };
            stored |= self.deliver(ctx, frame, &d);
        }
        stored
    }

    fn deliver(&mut self, ctx: &mut dyn Context, frame: &[u8], d: &Delivery) -> bool {
        if frame.len() + 4 > d.limit.min(MAX_FRAME) {
            tracing::trace!(target: "igb_rx_oversized", "len {}", frame.len());
            self.regs.count(ROC, 1);
            return false;
        }
        let q = d.queue;
        if self.reg(rxq(q, Q_DCTL)) & DCTL_QUEUE_ENABLE == 0 {
            tracing::trace!(target: "igb_rx_queue_disabled", "queue {q}");
            self.regs.count(rxq(q, Q_RQDPC), 1);
            return false;
        }
        // The frame as stored, built in the device's scratch buffer (taken, so a delivery
        // nested in this one would get a fresh one) instead of a new Vec per frame.
        let mut data = std::mem::take(&mut self.rx_scratch);
        data.extend_from_slice(frame);
        if data.len() < MIN_FRAME {
            data.resize(MIN_FRAME, 0);
            self.regs.count(RUC, 1);
        }
        let mut status = STATUS_EOP;
        let mut vlan = 0u16;
        if d.strip_vlan
            && let Some(tci) = filter::vlan_tag(&data, self.reg(VET) as u16)
        {
            data.drain(12..16);
            status |= STATUS_VP;
            vlan = tci;
        }
        let ptype = packet_type(&data);
        let wire_len = data.len() + 4;
        if !d.strip_crc {
            let fcs = ethernet_crc(&data);
            data.extend_from_slice(&fcs.to_le_bytes());
        }
        let stored = self.write_ring(ctx, q, &data, status, vlan, ptype);
        if stored {
            offload::count_rx(&mut self.regs, d.kind, wire_len);
        }
        data.clear();
        self.rx_scratch = data;
        stored
    }

    fn rx_buffer_size(&self, q: usize) -> usize {
        let packet = self.reg(rxq(q, Q_SRRCTL)) & SRRCTL_BSIZEPACKET_MASK;
        if packet != 0 {
            packet as usize * 1024
        } else {
            filter::rctl_buffer_size(self.reg(RCTL))
        }
    }

    fn write_ring(
        &mut self,
        ctx: &mut dyn Context,
        q: usize,
        data: &[u8],
        last_status: u32,
        vlan: u16,
        ptype: u16,
    ) -> bool {
        let srrctl = self.reg(rxq(q, Q_SRRCTL));
        let advanced = srrctl >> SRRCTL_DESCTYPE_SHIFT & 7 != DESCTYPE_LEGACY;
        let count = u64::from(self.reg(rxq(q, Q_LEN))) / DESC_LEN;
        let base = u64::from(self.reg(rxq(q, Q_BAH))) << 32 | u64::from(self.reg(rxq(q, Q_BAL)));
        let mut head = u64::from(self.reg(rxq(q, Q_HEAD)));
        let tail = u64::from(self.reg(rxq(q, Q_TAIL)));
        // A zero-length ring, or a head or tail outside the ring, is a programming error the
        // datasheet leaves undefined: no descriptor is free there (QEMU takes the descriptors
        // from the head up to the tail; following it let one burst walk millions of null
        // descriptors in one operation). Inside the ring the walk below stops at the end of
        // the frame, at most one lap.
        let free = rx_free_descriptors(count, head, tail);
        let buf_size = self.rx_buffer_size(q);
        let needed = data.len().div_ceil(buf_size) as u64;
        if needed > free {
            tracing::trace!(target: "igb_rx_not_enough_descs", "queue {q} free {free} needed {needed}");
            self.regs.count(RNBC, 1);
            if srrctl & SRRCTL_DROP_EN != 0 {
                self.regs.count(rxq(q, Q_RQDPC), 1);
            }
            self.raise_causes(ctx, ICR_RXO, 0);
            return false;
        }
        let mut offset = 0usize;
        let mut used = 0u64;
        while used < free {
            ctx.work(1);
            used += 1;
            let addr = base.wrapping_add(head.wrapping_mul(DESC_LEN));
            let mut desc = [0u8; DESC_LEN as usize];
            let _ = ctx.dma_read(addr, &mut desc);
            let buffer = u64::from_le_bytes([
                desc[0], desc[1], desc[2], desc[3], desc[4], desc[5], desc[6], desc[7],
            ]);
            let mut chunk = 0usize;
            if buffer != 0 {
                chunk = (data.len() - offset).min(buf_size);
                if let Err(e) = ctx.dma_write(buffer, &data[offset..offset + chunk]) {
                    tracing::trace!(target: "igb_rx_dma_error", "addr {buffer:#x}: {e}");
                }
                offset += chunk;
            }
            let done = offset == data.len();
            let status = STATUS_DD | if done { last_status } else { 0 };
            if advanced {
                write_back_advanced(ctx, addr, chunk as u16, status, vlan, ptype);
            } else {
                write_back_legacy(ctx, addr, &mut desc, chunk as u16, status, vlan);
            }
            head += 1;
            if head >= count {
                head = 0;
            }
            self.set_reg(rxq(q, Q_HEAD), head as u32);
            if done {
                break;
            }
        }
        let mut causes = ICR_RXDW;
        let threshold = u64::from(srrctl >> SRRCTL_RDMTS_SHIFT & 0x1F) * 16;
        if threshold != 0 && free - used == threshold {
            causes |= ICR_RXDMT0;
        }
        let eicr = self.rx_eicr(q);
        self.raise_causes(ctx, causes, eicr);
        true
    }
}

/// Legacy write-back: length, checksum 0, status, errors 0, VLAN (the buffer address stays).
fn write_back_legacy(
    ctx: &mut dyn Context,
    addr: u64,
    desc: &mut [u8; 16],
    len: u16,
    status: u32,
    vlan: u16,
) {
    desc[8..10].copy_from_slice(&len.to_le_bytes());
    desc[10..12].fill(0);
    desc[12] = status as u8;
    desc[13] = 0;
    desc[14..16].copy_from_slice(&vlan.to_le_bytes());
    tracing::trace!(target: "igb_rx_descr", "addr {addr:#x} len {len} status {status:#x}");
    let _ = ctx.dma_write(addr, &desc[..]);
}

/// Advanced write-back: the whole descriptor with DD clear, then the status dword with DD, so
/// a driver that sees DD sees the rest (facts §1.11).
fn write_back_advanced(
    ctx: &mut dyn Context,
    addr: u64,
    len: u16,
    status: u32,
    vlan: u16,
    ptype: u16,
) {
    let mut wb = [0u8; 16];
    wb[0..2].copy_from_slice(&ptype.to_le_bytes());
    wb[8..12].copy_from_slice(&(status & !STATUS_DD).to_le_bytes());
    wb[12..14].copy_from_slice(&len.to_le_bytes());
    wb[14..16].copy_from_slice(&vlan.to_le_bytes());
    tracing::trace!(target: "igb_rx_descr", "addr {addr:#x} len {len} status {status:#x}");
    let _ = ctx.dma_write(addr, &wb);
    let _ = ctx.dma_write(addr + 8, &status.to_le_bytes());
}

/// The advanced write-back packet type of an untagged frame: IPv4/IPv6 and TCP/UDP.
fn packet_type(frame: &[u8]) -> u16 {
    let ethertype = frame
        .get(12..14)
        .map_or(0, |t| u16::from_be_bytes([t[0], t[1]]));
    let (mut ptype, proto) = match ethertype {
        0x0800 => (PTYPE_IPV4, frame.get(23).copied()),
        0x86DD => (PTYPE_IPV6, frame.get(20).copied()),
        _ => return 0,
    };
    match proto {
        Some(6) => ptype |= PTYPE_TCP,
        Some(17) => ptype |= PTYPE_UDP,
        _ => {}
    }
    ptype
}
