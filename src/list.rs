//! `devfuzz list`: the fuzz targets, planted bugs, machines with their options, devices and
//! regions.

use crate::error::CliResult;
use harness::machine::MachineOptions;
use harness::runner::Runner;
use std::process::ExitCode;

/// `devfuzz list`.
pub fn list() -> CliResult {
    say!("targets:");
    for t in models::TARGETS {
        say!(
            "  {:<10} machine {:<6} {}",
            t.name,
            t.machine.name,
            t.description
        );
    }
    say!(
        "planted bugs ({}):",
        if models::planted::ENABLED_IN_BUILD {
            "built in; select with --bugs or DEVFUZZ_BUGS"
        } else {
            "not in this build: --features planted-bugs"
        }
    );
    for b in models::planted::BUGS {
        say!(
            "  {:<22} target {:<4} {:<9} {}",
            b.id,
            b.target,
            b.device,
            b.cites
        );
    }
    say!("machines:");
    for profile in models::MACHINES {
        say!("  {:<10} {}", profile.name, profile.description);
        for o in profile.options {
            say!("    option {}={}", o.key, o.help);
        }
        let mut runner = Runner::for_machine(profile, MachineOptions::default());
        let m = runner.machine();
        let pci = m.pci_functions();
        for d in 0..m.device_count() {
            let id = harness::device::DeviceId(d as u16);
            let at = pci
                .iter()
                .find(|(_, dev)| *dev == id)
                .map(|(b, _)| format!(" pci {b}"))
                .unwrap_or_default();
            say!("    device {}{at}", m.device_name(id));
            for (r, spec) in m.device_regions(id).iter().enumerate() {
                let backing =
                    harness::space::Backing::Device(id, harness::device::RegionId(r as u16));
                let place = m
                    .space(spec.space)
                    .mapping_of(backing)
                    .map(|mp| format!("at {:#x}", mp.base))
                    .unwrap_or_else(|| "unmapped (BAR)".to_string());
                say!(
                    "      region {:<16} {:?} size {:#x} {place}",
                    spec.name,
                    spec.space,
                    spec.size
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
