//! Issue 14 item 9: resident memory stays bounded over a long campaign, whatever pages its
//! inputs dirty. One test in its own binary, so the process's RSS is this test's alone.

use harness::ops::{Op, encode};
use harness::runner::Runner;

/// Resident set size of this process in bytes (Linux `/proc/self/statm`).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn guest_ram_held_across_72_inputs_of_4096_new_pages_stays_bounded() {
    let target = models::target("aspeed_fmc_2600").expect("target");
    let mut runner = Runner::new(target);
    let budget = harness::machine::MachineOptions::default().ram_page_budget as u64;
    let mut most = 0;
    for input in 0..72u64 {
        let ops: Vec<Op<'_>> = (0..budget)
            .map(|page| Op::RamWrite {
                addr: (((input * budget + page) * 4096) % (1 << 31)) as u32 + 8,
                data: &[0x5a],
            })
            .collect();
        let bytes = encode(&ops).unwrap();
        assert!(runner.run_input(&bytes).finding().is_none());
        most = most.max(runner.machine().ram().allocated_pages());
    }
    assert!(
        most >= budget as usize,
        "each input dirtied its whole budget"
    );
    let limit = budget as usize + harness::ram::POOL_MAX_PAGES;
    assert!(most <= limit, "{most} guest pages held (limit {limit})");
    let rss = rss_bytes();
    assert!(rss < 256 << 20, "resident {} MiB", rss >> 20);
}
