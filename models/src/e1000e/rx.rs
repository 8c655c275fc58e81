//! Receive queue 0: filters, ring, write-back (facts §1.6, §1.8), and loopback delivery.

use super::tx::{DESC_LEN, MIN_FRAME};
use super::*;
use crate::e1000_core::filter;
use crate::e1000_core::ring::rx_free_descriptors;

/// Largest frame accepted without LPE or SBP (1518 + a VLAN tag).
pub const MAX_NORMAL_FRAME: usize = 1522;
/// Loopback deliveries nested inside one another before the planted bypass gives up.
#[cfg(feature = "planted-bugs")]
const LOOPBACK_STACK_LIMIT: u32 = 32;

const RX_STATUS_DD: u8 = 0x01;
const RX_STATUS_EOP: u8 = 0x02;
const RX_STATUS_VP: u8 = 0x08;

impl E1000e {
    /// The receive buffer size RCTL (FLXBUF, BSEX, BSIZE) selects.
    pub(super) fn rx_buffer_size(&self) -> usize {
        filter::rctl_buffer_size(self.reg(RCTL))
    }

    /// The address filters in the order of §1.8; `None` drops the frame.
    pub(super) fn rx_filter(&self, frame: &[u8]) -> Option<RxKind> {
        filter::accept(&self.regs, frame, self.reg(VET) as u16)
    }

    /// The 802.1Q tag control of a frame tagged with VET's type.
    fn vlan_tag(&self, frame: &[u8]) -> Option<u16> {
        filter::vlan_tag(frame, self.reg(VET) as u16)
    }

    /// Loopback delivery of a transmitted frame (RCTL.LBM = MAC or PHY BMCR loopback).
    pub(super) fn loopback(&mut self, ctx: &mut dyn Context, frame: &[u8]) {
        self.loopback_depth += 1;
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(LOOPBACK_BYPASS) && self.loopback_depth > LOOPBACK_STACK_LIMIT {
            // The planted bypass recursed TX -> RX -> registers -> TX without end; a real
            // device model's stack would be gone by now.
            panic!("e1000e: loopback recursion overflowed the stack (CVE-2021-3416)");
        }
        self.receive(ctx, frame);
        self.loopback_depth -= 1;
    }

    /// Deliver one frame (without FCS) to receive queue 0. Returns whether it was stored.
    pub(super) fn receive(&mut self, ctx: &mut dyn Context, frame: &[u8]) -> bool {
        let rctl = self.reg(RCTL);
        if rctl & RCTL_EN == 0 || !self.bus_master() {
            tracing::trace!(target: "e1000e_rx_can_recv_disabled", "");
            return false;
        }
        let long_ok = rctl & (RCTL_LPE | RCTL_SBP) != 0;
        let oversize_unchecked = self.planted.on(RX_OVERSIZE) && !long_ok;
        let limit = if long_ok { MAX_FRAME } else { MAX_NORMAL_FRAME };
        if frame.len() > limit && !oversize_unchecked {
            tracing::trace!(target: "e1000e_rx_oversized", "len {}", frame.len());
            self.count(ROC, 1);
            return false;
        }
        let Some(kind) = self.rx_filter(frame) else {
            tracing::trace!(target: "e1000e_rx_flt_dropped", "");
            return false;
        };
        // The frame as stored, built in the device's scratch buffer (taken, so a delivery
        // nested in this one would get a fresh one) instead of a new Vec per frame.
        let mut data = std::mem::take(&mut self.rx_scratch);
        data.extend_from_slice(frame);
        if data.len() < MIN_FRAME {
            data.resize(MIN_FRAME, 0);
            self.count(RUC, 1);
        }
        let mut status = RX_STATUS_EOP;
        let mut special = 0u16;
        if self.reg(CTRL) & CTRL_VME != 0
            && let Some(tci) = self.vlan_tag(&data)
        {
            data.drain(12..16);
            status |= RX_STATUS_VP;
            special = tci;
        }
        let wire_len = data.len() + 4;
        if rctl & RCTL_SECRC == 0 {
            let fcs = ethernet_crc(&data);
            data.extend_from_slice(&fcs.to_le_bytes());
        }
        let stored = self.write_rx_ring(ctx, &data, status, special, oversize_unchecked);
        if stored {
            self.rx_stats(kind, wire_len);
        }
        data.clear();
        self.rx_scratch = data;
        stored
    }

    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn write_rx_ring(
        &mut self,
        ctx: &mut dyn Context,
        data: &[u8],
        last_status: u8,
        special: u16,
        oversize_unchecked: bool,
    ) -> bool {
        let rctl = self.reg(RCTL);
        let extended = self.reg(RFCTL) & RFCTL_EXTEN != 0;
        if rctl & RCTL_DTYP_MASK == RCTL_DTYP_PS {
            // Packet split is not modelled: drop the frame and count it.
            tracing::trace!(target: "e1000e_rx_desc_ps_unsupported", "");
            self.count(MPC, 1);
            return false;
        }
        let count = u64::from(self.reg(RDLEN)) / DESC_LEN;
        let base = u64::from(self.reg(RDBAH)) << 32 | u64::from(self.reg(RDBAL));
        let mut head = u64::from(self.reg(RDH));
        let tail = u64::from(self.reg(RDT));
        // A zero-length ring, or a head or tail outside the ring, is a programming error the
        // datasheet leaves undefined: no descriptor is free there (QEMU takes the descriptors
        // from the head up to the tail; following it let one burst walk millions of null
        // descriptors in one operation). Inside the ring the walk below stops at the end of
        // the frame, at most one lap.
        let free = rx_free_descriptors(count, head, tail);
        let buf_size = self.rx_buffer_size();
        let needed = data.len().div_ceil(buf_size) as u64;
        if needed > free {
            tracing::trace!(target: "e1000e_rx_not_enough_descs", "free {free} needed {needed}");
            self.count(RNBC, 1);
            self.raise(ctx, ICR_RXO);
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
            let buffer = u64::from_le_bytes(desc[0..8].try_into().unwrap_or_default());
            let mut chunk = 0usize;
            if buffer != 0 {
                chunk = (data.len() - offset).min(buf_size);
                #[cfg(feature = "planted-bugs")]
                if oversize_unchecked && data.len() > MAX_NORMAL_FRAME {
                    self.rx_oversize_copy(ctx, buf_size, data);
                }
                self.rx_dma(ctx, buffer, &data[offset..offset + chunk]);
                offset += chunk;
            }
            let done = offset == data.len();
            let status = RX_STATUS_DD | if done { last_status } else { 0 };
            self.rx_write_back(
                ctx,
                addr,
                &mut desc,
                chunk as u16,
                status,
                special,
                extended,
            );
            head += 1;
            if head >= count {
                head = 0;
            }
            self.set_reg(RDH, head as u32);
            if done {
                break;
            }
        }
        // With MSI-X on the queue's own cause replaces RXT0 and RXDMT0 (QEMU).
        let causes = if self.msix_enabled() {
            ICR_RXQ0
        } else {
            let threshold = count >> ((rctl >> RCTL_RDMTS_SHIFT & 3) + 1);
            ICR_RXT0
                | if free - used == threshold {
                    ICR_RXDMT0
                } else {
                    0
                }
        };
        self.raise(ctx, causes);
        true
    }

    /// CVE-2012-6075: the whole frame copied into one receive buffer.
    #[cfg(feature = "planted-bugs")]
    fn rx_oversize_copy(&mut self, ctx: &mut dyn Context, buf_size: usize, data: &[u8]) {
        RX_OVERSIZE.reached(ctx);
        if data.len() > buf_size {
            RX_OVERSIZE.triggered(ctx);
        }
        let mut staging = vec![0u8; buf_size];
        staging[..data.len()].copy_from_slice(data);
    }

    /// DMA received bytes to a buffer. A buffer on the device's own registers re-enters it: the
    /// harness blocks that (guard) or reports it (detect); the frame is still consumed.
    fn rx_dma(&mut self, ctx: &mut dyn Context, buffer: u64, bytes: &[u8]) {
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(LOOPBACK_BYPASS)
            && self.loopback_depth > 0
            && self.rx_bypass_into_own_registers(ctx, buffer, bytes)
        {
            return;
        }
        if let Err(e) = ctx.dma_write(buffer, bytes) {
            tracing::trace!(target: "e1000e_rx_dma_error", "addr {buffer:#x}: {e}");
        }
    }

    /// CVE-2021-3416: loopback delivery that hands the data to the device's own register
    /// handlers directly instead of through the bus (and its re-entrancy guard).
    #[cfg(feature = "planted-bugs")]
    fn rx_bypass_into_own_registers(
        &mut self,
        ctx: &mut dyn Context,
        buffer: u64,
        bytes: &[u8],
    ) -> bool {
        let Some(bar) = self.pci.bar_mapping(0) else {
            return false;
        };
        if buffer < bar.base || buffer - bar.base >= bar.size {
            return false;
        }
        LOOPBACK_BYPASS.reached(ctx);
        LOOPBACK_BYPASS.triggered(ctx);
        let start = buffer - bar.base;
        for (i, dword) in bytes.chunks_exact(4).enumerate() {
            let offset = start + 4 * i as u64;
            if offset >= bar.size {
                break;
            }
            let value = u32::from_le_bytes(dword.try_into().unwrap_or_default());
            self.mmio_write(ctx, offset, value);
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn rx_write_back(
        &mut self,
        ctx: &mut dyn Context,
        addr: u64,
        desc: &mut [u8; 16],
        len: u16,
        status: u8,
        special: u16,
        extended: bool,
    ) {
        if extended {
            desc[0..8].fill(0);
            let status_error = u32::from(status);
            desc[8..12].copy_from_slice(&status_error.to_le_bytes());
            desc[12..14].copy_from_slice(&len.to_le_bytes());
            desc[14..16].copy_from_slice(&special.to_le_bytes());
        } else {
            desc[8..10].copy_from_slice(&len.to_le_bytes());
            desc[10..12].fill(0);
            desc[12] = status;
            desc[13] = 0;
            desc[14..16].copy_from_slice(&special.to_le_bytes());
        }
        tracing::trace!(target: "e1000e_rx_descr", "addr {addr:#x} len {len} status {status:#x}");
        let _ = ctx.dma_write(addr, &desc[..]);
    }

    fn rx_stats(&mut self, kind: RxKind, wire_len: usize) {
        crate::e1000_core::offload::count_rx(&mut self.regs, kind, wire_len);
    }
}
