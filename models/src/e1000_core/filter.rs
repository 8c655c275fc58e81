//! Receive address filtering (facts §1.8): VLAN filter table, exact receive addresses (RAL/RAH
//! with AV), the 4096-bit multicast hash table, broadcast accept, unicast/multicast
//! promiscuous; plus the RCTL buffer size and the loopback rule, which both chips share.

use super::regfile::RegFile;
use super::regs::*;

/// Which address filter accepted a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxKind {
    /// Unicast (RA match, promiscuous or MTA).
    Unicast,
    /// Multicast.
    Multicast,
    /// Broadcast.
    Broadcast,
}

impl RxKind {
    /// The kind of a destination address.
    pub fn of(dst: &[u8; 6]) -> Self {
        if *dst == [0xFF; 6] {
            Self::Broadcast
        } else if dst[0] & 1 != 0 {
            Self::Multicast
        } else {
            Self::Unicast
        }
    }
}

/// The 12-bit multicast table index of `dst` under multicast offset `mo` (RCTL.MO).
pub fn mta_hash(dst: &[u8; 6], mo: u32) -> u16 {
    const SHIFT: [u32; 4] = [4, 3, 2, 0];
    let shift = SHIFT[(mo & 3) as usize];
    ((u16::from(dst[5]) << 8 | u16::from(dst[4])) >> shift) & 0xFFF
}

/// The destination address of a frame (`None` when shorter than 6 bytes).
pub fn destination(frame: &[u8]) -> Option<[u8; 6]> {
    frame.get(..6)?.try_into().ok()
}

/// The 802.1Q tag control of a frame tagged with type `tpid` (at least 18 bytes long).
pub fn vlan_tag(frame: &[u8], tpid: u16) -> Option<u16> {
    if frame.len() < 18 {
        return None;
    }
    let t = u16::from_be_bytes([frame[12], frame[13]]);
    (t == tpid).then(|| u16::from_be_bytes([frame[14], frame[15]]))
}

/// Whether the VLAN filter table lets VLAN `tci` through.
pub fn vfta_pass(regs: &RegFile, tci: u16) -> bool {
    let vid = u64::from(tci & 0xFFF);
    regs.get(VFTA + 4 * (vid >> 5)) & (1 << (vid & 31)) != 0
}

/// The index of the first valid receive address among `entries` pairs at `base` that equals
/// `dst`, with its RAH value.
pub fn ra_lookup(regs: &RegFile, base: u64, entries: u64, dst: &[u8; 6]) -> Option<(u64, u32)> {
    // RAL holds the first four bytes of the address, RAH the last two, little-endian.
    let low = u32::from_le_bytes([dst[0], dst[1], dst[2], dst[3]]);
    let high = u16::from_le_bytes([dst[4], dst[5]]);
    (0..entries).find_map(|i| {
        let rah = regs.get(base + 8 * i + 4);
        (rah & RAH_AV != 0 && rah as u16 == high && regs.get(base + 8 * i) == low)
            .then_some((i, rah))
    })
}

/// Whether `dst`'s multicast hash bit is set in the MTA (RCTL.MO selects the bits).
pub fn mta_match(regs: &RegFile, dst: &[u8; 6]) -> bool {
    let h = u64::from(mta_hash(dst, regs.get(RCTL) >> RCTL_MO_SHIFT));
    regs.get(MTA + 4 * (h >> 5)) & (1 << (h & 31)) != 0
}

/// The address filters in the order of §1.8 with the 16 RA entries at [`RA`]; `None` drops
/// the frame. `tpid` is the VLAN ether type (VET).
pub fn accept(regs: &RegFile, frame: &[u8], tpid: u16) -> Option<RxKind> {
    let rctl = regs.get(RCTL);
    let dst = destination(frame)?;
    if let Some(tci) = vlan_tag(frame, tpid)
        && rctl & RCTL_VFE != 0
        && !vfta_pass(regs, tci)
    {
        return None;
    }
    match RxKind::of(&dst) {
        RxKind::Broadcast => (rctl & (RCTL_BAM | RCTL_MPE) != 0 || mta_match(regs, &dst))
            .then_some(RxKind::Broadcast),
        RxKind::Multicast => {
            (rctl & RCTL_MPE != 0 || mta_match(regs, &dst)).then_some(RxKind::Multicast)
        }
        RxKind::Unicast => (rctl & RCTL_UPE != 0
            || ra_lookup(regs, RA, RA_ENTRIES, &dst).is_some()
            || mta_match(regs, &dst))
        .then_some(RxKind::Unicast),
    }
}

/// The receive buffer size RCTL (FLXBUF, BSEX, BSIZE) selects.
pub fn rctl_buffer_size(rctl: u32) -> usize {
    let flxbuf = rctl >> RCTL_FLXBUF_SHIFT & 0xF;
    if flxbuf != 0 {
        return flxbuf as usize * 1024;
    }
    match (rctl & RCTL_BSEX != 0, rctl >> RCTL_BSIZE_SHIFT & 3) {
        (false, 1) => 1024,
        (false, 2) => 512,
        (false, 3) => 256,
        (true, 1) => 16384,
        (true, 2) => 8192,
        (true, 3) => 4096,
        _ => 2048,
    }
}

/// Transmitted frames go to the receive path: RCTL.LBM = 01 (MAC loopback) or PHY loopback.
pub fn loopback(rctl: u32, phy_loopback: bool) -> bool {
    rctl & RCTL_LBM_MASK == RCTL_LBM_MAC || phy_loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_lookup_finds_the_first_valid_entry_holding_the_address() {
        let mut regs = RegFile::new(0x8000);
        let dst = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        let (ral, rah) = (0x1200_5452, 0x5634);
        regs.set(RA + 8, ral);
        regs.set(RA + 12, rah);
        assert_eq!(ra_lookup(&regs, RA, 16, &dst), None, "not valid (AV clear)");
        regs.set(RA + 12, rah | RAH_AV | 1 << 18);
        assert_eq!(
            ra_lookup(&regs, RA, 16, &dst),
            Some((1, rah | RAH_AV | 1 << 18))
        );
        regs.set(RA + 8 * 5, ral);
        regs.set(RA + 8 * 5 + 4, rah | RAH_AV);
        assert_eq!(
            ra_lookup(&regs, RA, 16, &dst).map(|(i, _)| i),
            Some(1),
            "the first"
        );
        assert_eq!(
            ra_lookup(&regs, RA, 1, &dst),
            None,
            "past the entries looked at"
        );
        for byte in 0..6 {
            let mut other = dst;
            other[byte] ^= 0x80;
            assert_eq!(
                ra_lookup(&regs, RA, 16, &other),
                None,
                "byte {byte} differs"
            );
        }
    }

    #[test]
    fn a_frame_too_short_for_a_tag_has_none_whatever_its_type() {
        let mut frame = [0u8; 18];
        frame[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
        frame[14..16].copy_from_slice(&0x0123u16.to_be_bytes());
        assert_eq!(vlan_tag(&frame, 0x8100), Some(0x0123));
        assert_eq!(vlan_tag(&frame, 0x88a8), None, "another type");
        for len in 0..18 {
            assert_eq!(vlan_tag(&frame[..len], 0x8100), None, "{len} bytes");
        }
    }
}
