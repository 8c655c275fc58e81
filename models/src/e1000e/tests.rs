use super::*;
use crate::e1000_core::MSIX_CTRL_ENABLE;
use crate::e1000_core::testing::{ctx, rd, wr};
use harness::testing::TestContext;

#[test]
fn reset_equals_fresh() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    wr(&mut dev, &mut c, RCTL, 0x805a);
    wr(&mut dev, &mut c, IMS, 0xff);
    wr(&mut dev, &mut c, ICS, ICR_LSC);
    wr(
        &mut dev,
        &mut c,
        MDIC,
        MDIC_OP_WRITE | PHY_ADDRESS << MDIC_PHY_SHIFT | 0x4140,
    );
    dev.write(&mut c, IO_REGION, IOADDR, AccessSize::B4, 0x100);
    dev.write(&mut c, MSIX_REGION, 0, AccessSize::B4, 0xfee0_0000);
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    dev.reset();
    assert_eq!(dev, E1000e::new());
}

#[test]
fn ctrl_rst_restores_register_reset_values_and_self_clears() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    wr(&mut dev, &mut c, RCTL, 0x805a);
    wr(&mut dev, &mut c, RA, 0x1122_3344);
    wr(&mut dev, &mut c, CTRL, CTRL_RST);
    assert_eq!(rd(&mut dev, &mut c, CTRL), 0x0014_0241);
    assert_eq!(rd(&mut dev, &mut c, RCTL), 0);
    assert_eq!(rd(&mut dev, &mut c, RA), 0x1200_5452);
    assert_eq!(rd(&mut dev, &mut c, RA + 4), 0x8000_5634);
    assert_eq!(rd(&mut dev, &mut c, TARC0), 0x403);
}

/// CTRL.RST gives the register file a fresh device has, but for the packet buffer sizes and
/// interrupt throttling it keeps: the same file as writing every reset value again, the kept
/// ones after `RESET_VALUES`, then the MAC address.
#[test]
fn software_reset_equals_writing_the_reset_values_again() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    for (offset, value) in [
        (RCTL, 0x805a),
        (PBA, 0x0018_0010),
        (PBS, 0x11),
        (ITR, 0x200),
        (EITR + 4, 0x300),
        (EITR + 16, 0x400),
        (TDBAL, 0x1000),
        (RA, 0x1122_3344),
    ] {
        wr(&mut dev, &mut c, offset, value);
    }
    let kept: Vec<(u64, u32)> = [PBA, PBS, ITR]
        .into_iter()
        .chain((0..MSIX_VECTORS as u64).map(|i| EITR + 4 * i))
        .map(|r| (r, dev.regs.get(r)))
        .collect();
    wr(&mut dev, &mut c, CTRL, CTRL_RST);
    let mut want = RegFile::new(REG_FILE_END);
    for &(offset, value) in RESET_VALUES.iter().chain(&kept) {
        want.set(offset, value);
    }
    let mac = dev.permanent_mac();
    want.set(RA, u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]));
    want.set(
        RA + 4,
        u32::from(u16::from_le_bytes([mac[4], mac[5]])) | RAH_AV,
    );
    assert_eq!(dev.regs, want);
    assert_eq!(dev.regs.get(EITR + 16), 0x400);
}

#[test]
fn eeprom_words_sum_to_0xbaba() {
    let dev = E1000e::new();
    let sum = dev.eeprom().iter().fold(0u16, |s, &w| s.wrapping_add(w));
    assert_eq!(sum, EEPROM_SUM);
    assert_eq!(&dev.eeprom()[..3], &[0x5452, 0x1200, 0x5634]);
}

#[test]
fn eerd_reads_words_and_refuses_addresses_past_64() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    wr(&mut dev, &mut c, EERD, 1 << 2 | EERD_START);
    assert_eq!(rd(&mut dev, &mut c, EERD), 0x1200_0006);
    wr(&mut dev, &mut c, EERD, 64 << 2 | EERD_START);
    assert_eq!(rd(&mut dev, &mut c, EERD) & EERD_DONE, 0);
}

#[test]
fn eeprom_image_and_phy_page_0_are_qemus() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    for (word, value) in [
        (3u32, 0x0420u32),
        (0x0F, 0x8058),
        (0x17, 0x2704),
        (0x3F, 0x1CE3),
    ] {
        wr(&mut dev, &mut c, EERD, word << 2 | EERD_START);
        assert_eq!(rd(&mut dev, &mut c, EERD) >> 16, value, "word {word:#x}");
    }
    let mdic_read = |reg: u32| MDIC_OP_READ | 1 << MDIC_PHY_SHIFT | reg << MDIC_REG_SHIFT;
    wr(&mut dev, &mut c, MDIC, mdic_read(0x11));
    assert_eq!(
        rd(&mut dev, &mut c, MDIC) & 0xFFFF,
        0xAC08,
        "copper specific status"
    );
    wr(&mut dev, &mut c, MDIC, mdic_read(0x1B));
    assert_ne!(
        rd(&mut dev, &mut c, MDIC) & MDIC_ERROR,
        0,
        "no such register"
    );
}

#[test]
fn msix_icr_read_acknowledges_an_enabled_cause_and_other_follows_other_causes() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    dev.config_write(&mut c, 0xA2, AccessSize::B2, u32::from(MSIX_CTRL_ENABLE));
    wr(&mut dev, &mut c, IMS, ICR_LSC);
    wr(&mut dev, &mut c, ICS, ICR_RXDMT0);
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_RXDMT0);
    assert_eq!(
        rd(&mut dev, &mut c, ICR),
        ICR_INT_ASSERTED | ICR_RXDMT0,
        "nothing enabled is pending: the read keeps it"
    );
    wr(&mut dev, &mut c, ICS, ICR_LSC);
    assert_eq!(
        rd(&mut dev, &mut c, ICR),
        ICR_INT_ASSERTED | ICR_OTHER | ICR_LSC | ICR_RXDMT0
    );
    assert_eq!(rd(&mut dev, &mut c, ICR), 0);
}

#[test]
fn registers_answer_with_qemus_masks() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    for (offset, written, read) in [
        (CTRL_DUP, 0x0010_0249, 0),
        (TIDV, 0x1234, 0),
        (EEWR, 0x1234_0101, EEWR_DONE),
        (GCR, 0, GCR_RO),
        (TARC0, u32::MAX, 0x7800_07FF),
        (PBS, u32::MAX, 0x3F),
        (RA + 4, u32::MAX, u32::MAX),
        (0x160, u32::MAX, 0xFFF8),
        (TDFH, u32::MAX, 0x1FFF),
        (0x0B608, 0x01A0_0000, 0x01A0_0000),
    ] {
        wr(&mut dev, &mut c, offset, written);
        assert_eq!(rd(&mut dev, &mut c, offset), read, "{offset:#x}");
    }
    assert_eq!(
        rd(&mut dev, &mut c, CTRL),
        0x0010_0249,
        "CTRL_DUP writes CTRL"
    );
    assert_eq!(rd(&mut dev, &mut c, EXTCNF_CTRL), 0x8);
    assert_eq!(
        rd(&mut dev, &mut c, 0x08018),
        0x600,
        "TDFT through its alias"
    );
}

#[test]
fn ims_imc_ics_drive_intx_level() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    wr(&mut dev, &mut c, ICS, ICR_TXDW);
    assert!(!c.irq_level(IRQ_PIN), "masked");
    wr(&mut dev, &mut c, IMS, ICR_TXDW);
    assert!(c.irq_level(IRQ_PIN));
    assert_eq!(
        rd(&mut dev, &mut c, ICS),
        ICR_INT_ASSERTED | ICR_TXDW,
        "ICS reads without clearing"
    );
    wr(&mut dev, &mut c, IMC, ICR_TXDW);
    assert!(!c.irq_level(IRQ_PIN));
    wr(&mut dev, &mut c, ICR, ICR_TXDW);
    assert_eq!(
        rd(&mut dev, &mut c, ICS),
        ICR_INT_ASSERTED,
        "W1C cleared the last cause; INT_ASSERTED stays until read (QEMU)"
    );
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED);
    assert_eq!(rd(&mut dev, &mut c, ICS), 0);
}

#[test]
fn mta_hash_follows_the_multicast_offset() {
    let dst = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
    assert_eq!(mta_hash(&dst, 0), 0x010);
    assert_eq!(mta_hash(&dst, 3), 0x100);
    let dst = [0x33, 0x33, 0x00, 0x00, 0xab, 0xcd];
    assert_eq!(mta_hash(&dst, 0), 0xcda);
    assert_eq!(mta_hash(&dst, 1), (0xcdab >> 3) & 0xfff);
}

#[test]
fn filters_accept_ra_broadcast_mta_and_promiscuous() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    let mut f = vec![0u8; 60];
    f[..6].copy_from_slice(&DEFAULT_MAC);
    assert_eq!(dev.rx_filter(&f), Some(RxKind::Unicast), "RA0");
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    assert_eq!(dev.rx_filter(&f), None, "other unicast");
    wr(&mut dev, &mut c, RCTL, RCTL_UPE);
    assert_eq!(dev.rx_filter(&f), Some(RxKind::Unicast), "UPE");
    f[..6].fill(0xff);
    assert_eq!(dev.rx_filter(&f), None, "broadcast without BAM");
    wr(&mut dev, &mut c, RCTL, RCTL_BAM);
    assert_eq!(dev.rx_filter(&f), Some(RxKind::Broadcast));
    f[..6].copy_from_slice(&[0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]);
    assert_eq!(dev.rx_filter(&f), None, "multicast not in MTA");
    let hash = u64::from(mta_hash(&[0x01, 0x00, 0x5e, 0x00, 0x00, 0x01], 0));
    wr(&mut dev, &mut c, MTA + 4 * (hash >> 5), 1 << (hash & 31));
    assert_eq!(dev.rx_filter(&f), Some(RxKind::Multicast));
}

#[test]
fn vlan_filter_drops_tags_missing_from_vfta() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    wr(&mut dev, &mut c, RCTL, RCTL_UPE | RCTL_VFE);
    let mut f = vec![0u8; 64];
    f[12..16].copy_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    assert_eq!(dev.rx_filter(&f), None);
    wr(&mut dev, &mut c, VFTA, 1 << 5);
    assert_eq!(dev.rx_filter(&f), Some(RxKind::Unicast));
}

#[test]
fn rx_buffer_size_from_bsize_bsex_and_flxbuf() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    for (rctl, size) in [
        (0, 2048),
        (3 << 16, 256),
        (RCTL_BSEX | 1 << 16, 16384),
        (RCTL_BSEX | 3 << 16, 4096),
        (3 << RCTL_FLXBUF_SHIFT, 3072),
    ] {
        wr(&mut dev, &mut c, RCTL, rctl);
        assert_eq!(dev.rx_buffer_size(), size, "RCTL {rctl:#x}");
    }
}

fn tx_ring(dev: &mut E1000e, c: &mut TestContext, tdlen: u32, tdh: u32) {
    wr(dev, c, TDBAL, 0x1000);
    wr(dev, c, TDLEN, tdlen);
    wr(dev, c, TDH, tdh);
    wr(dev, c, TCTL, TCTL_EN | TCTL_PSP);
}

#[test]
fn tx_head_outside_the_ring_ends_within_one_lap() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    tx_ring(&mut dev, &mut c, 0x80, 9);
    wr(&mut dev, &mut c, TDT, 1);
    assert_eq!(rd(&mut dev, &mut c, TDH), 1);
    assert!(c.work <= 16, "work {}", c.work);
}

#[test]
fn zero_length_ring_or_tail_outside_processes_nothing_but_raises_txqe() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    tx_ring(&mut dev, &mut c, 0, 0);
    wr(&mut dev, &mut c, TDT, 3);
    assert_eq!(rd(&mut dev, &mut c, TDH), 0);
    let mut dev = E1000e::new();
    tx_ring(&mut dev, &mut c, 0x80, 0);
    wr(&mut dev, &mut c, TDT, 8);
    assert_eq!(rd(&mut dev, &mut c, TDH), 0);
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_TXQE);
}

#[test]
fn tx_without_rs_writes_nothing_back() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    c.ram[0x1000..0x1010].copy_from_slice(&[0, 0x20, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0x03, 0, 0, 0, 0]);
    tx_ring(&mut dev, &mut c, 0x80, 0);
    wr(&mut dev, &mut c, TDT, 1);
    assert_eq!(c.ram[0x100c], 0);
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_TXQE);
    assert_eq!(dev.sent_frames().count(), 1);
}

#[test]
fn tso_context_with_zero_mss_drops_the_frame_and_counts_it() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    // Context: HDRLEN 14, MSS 0, TSE.
    c.ram[0x1000..0x1010].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x24, 0, 14, 0, 0]);
    // Extended data: 100 bytes, DEXT|DTYP_D, TSE|EOP|RS.
    c.ram[0x1010..0x1020]
        .copy_from_slice(&[0, 0x20, 0, 0, 0, 0, 0, 0, 100, 0, 0x10, 0x2d, 0, 0, 0, 0]);
    tx_ring(&mut dev, &mut c, 0x80, 0);
    wr(&mut dev, &mut c, TDT, 2);
    assert_eq!(rd(&mut dev, &mut c, TDH), 2);
    assert_eq!(dev.tx_malformed(), 1);
    assert_eq!(dev.sent_frames().count(), 0);
    assert_eq!(rd(&mut dev, &mut c, TSCTFC), 1);
}

#[test]
fn tso_splits_the_payload_into_mss_segments() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    c.ram[0x1000..0x1010].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x24, 0, 14, 40, 0]);
    c.ram[0x1010..0x1020]
        .copy_from_slice(&[0, 0x20, 0, 0, 0, 0, 0, 0, 114, 0, 0x10, 0x2d, 0, 0, 0, 0]);
    tx_ring(&mut dev, &mut c, 0x80, 0);
    wr(&mut dev, &mut c, TDT, 2);
    let lens: Vec<usize> = dev.sent_frames().map(<[u8]>::len).collect();
    assert_eq!(lens, [60, 60, 60], "14 + 40, 14 + 40, 14 + 20 padded");
}

#[test]
fn a_huge_tso_ring_yields_to_the_clock_and_finishes_there() {
    let mut c = ctx();
    let mut dev = E1000e::new();
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    // Context: HDRLEN 14, MSS 1; then 63 TSO packets of 14 + 2000 bytes: 2000 segments each.
    c.ram[0x1000..0x1010].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x24, 0, 14, 1, 0]);
    for i in 1..64 {
        let at = 0x1000 + 16 * i;
        c.ram[at..at + 16].copy_from_slice(&[
            0, 0x80, 0, 0, 0, 0, 0, 0, 0xde, 0x07, 0x10, 0x2d, 0, 0, 0, 0,
        ]);
    }
    wr(&mut dev, &mut c, IMS, ICR_TXQE);
    tx_ring(&mut dev, &mut c, 0x800, 0);
    rd(&mut dev, &mut c, ICR); // enabling TX on an empty queue raised TXQE
    wr(&mut dev, &mut c, TDT, 64);
    let first = rd(&mut dev, &mut c, TDH);
    assert!((2..64).contains(&first), "yielded part-way: TDH {first}");
    assert_eq!(
        rd(&mut dev, &mut c, ICR) & ICR_TXQE,
        0,
        "queue not empty yet"
    );
    assert_eq!(
        c.ram[0x101c] & 1,
        1,
        "descriptors before the yield are written back"
    );
    assert_eq!(c.ram[0x1000 + 16 * 63 + 12] & 1, 0, "the last one is not");
    let mut steps = 0;
    while let Some(&deadline) = c.timers.get(&TIMER_TX_RESUME) {
        c.timers.remove(&TIMER_TX_RESUME);
        c.now = deadline;
        dev.timer(&mut c, TIMER_TX_RESUME);
        steps += 1;
        assert!(steps < 64, "the engine makes progress every kick");
    }
    assert_eq!(rd(&mut dev, &mut c, TDH), 64);
    assert_eq!(rd(&mut dev, &mut c, ICR) & ICR_TXQE, ICR_TXQE);
    assert_eq!(rd(&mut dev, &mut c, TSCTC), 63);
    assert_eq!(c.ram[0x1000 + 16 * 63 + 12] & 1, 1);
    assert!(
        c.now >= 63 * 2000 * 60 * 8,
        "wire time at 1 Gb/s: {} ns",
        c.now
    );
}

#[test]
fn a_ring_of_empty_descriptors_is_walked_one_descriptor_quota_per_kick() {
    use crate::e1000_core::kick::TX_DESCS_PER_KICK;
    let mut c = ctx();
    let mut dev = E1000e::new();
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    // 1024 zeroed legacy descriptors (length 0: nothing to send, nothing to write back).
    tx_ring(&mut dev, &mut c, 1024 * 16, 0);
    wr(&mut dev, &mut c, TDT, 1000);
    assert_eq!(rd(&mut dev, &mut c, TDH), TX_DESCS_PER_KICK);
    let mut kicks = 1;
    while let Some(&deadline) = c.timers.get(&TIMER_TX_RESUME) {
        c.timers.remove(&TIMER_TX_RESUME);
        c.now = deadline;
        dev.timer(&mut c, TIMER_TX_RESUME);
        kicks += 1;
    }
    assert_eq!(rd(&mut dev, &mut c, TDH), 1000);
    assert_eq!(kicks, 1000u32.div_ceil(TX_DESCS_PER_KICK));
    assert_eq!(
        c.now,
        u64::from(TX_DESCS_PER_KICK) * 16 * 8 * 3,
        "each yield waits the fetch time of its descriptors at 1 Gb/s"
    );
}

#[test]
fn pci_identity_bars_and_capability_chain() {
    let dev = E1000e::new();
    let cfg = dev.pci().expect("pci");
    assert_eq!(cfg.u32(0), 0x10d3_8086);
    assert_eq!(cfg.u32(0x08) >> 8, 0x02_0000);
    assert_eq!(cfg.u8(0x34), 0xc8);
    let mut chain = vec![];
    let mut p = cfg.u8(0x34);
    while p != 0 && chain.len() < 8 {
        chain.push((p, cfg.u8(p)));
        p = cfg.u8(p + 1);
    }
    assert_eq!(
        chain,
        [(0xc8, 0x01), (0xd0, 0x05), (0xe0, 0x10), (0xa0, 0x11)]
    );
    let mut dev = dev;
    let mut c = ctx();
    for (bar, want) in [
        (0x10u8, 0xfffe_0000u32),
        (0x14, 0xfffe_0000),
        (0x18, 0xffff_ffe1),
        (0x1c, 0xffff_c000),
    ] {
        dev.config_write(&mut c, bar, AccessSize::B4, u32::MAX);
        assert_eq!(
            dev.config_read(&mut c, bar, AccessSize::B4),
            want,
            "BAR {bar:#x}"
        );
    }
}
