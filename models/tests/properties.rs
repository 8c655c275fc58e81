//! Properties every target must keep on any input.

mod common;
use common::random_bytes;
use fastrand::Rng;
use harness::machine::{Machine, MachineOptions};
use harness::observe::Observer;
use harness::ops::{Op, encode};
use harness::runner::Runner;

fn random_input(rng: &mut Rng) -> Vec<u8> {
    let len = rng.usize(..600);
    let mut bytes = random_bytes(rng, len);
    // Sprinkle separators so inputs hold many ops, as mutated corpora do.
    let mut i = 0;
    while i + 4 < bytes.len() {
        if rng.u8(..5) == 0 {
            bytes[i..i + 4].copy_from_slice(b"FUZZ");
        }
        i += 8 + rng.usize(..16);
    }
    bytes
}

#[test]
fn random_inputs_never_give_a_finding_on_correct_models() {
    for target in models::TARGETS {
        let mut runner = Runner::new(target);
        let mut rng = Rng::with_seed(0x5eed ^ target.name.len() as u64);
        for case in 0..1500 {
            let input = random_input(&mut rng);
            let outcome = runner.run_input(&input);
            assert!(
                outcome.finding().is_none(),
                "{} case {case}: {:?}",
                target.name,
                outcome
            );
        }
    }
}

#[test]
fn the_same_input_gives_the_same_outcome_and_state() {
    for target in models::TARGETS {
        let mut a = Runner::new(target);
        let mut b = Runner::new(target);
        let mut rng = Rng::with_seed(77);
        for _ in 0..200 {
            let input = random_input(&mut rng);
            assert_eq!(a.run_input(&input), b.run_input(&input));
            assert_eq!(
                a.machine().state_text(),
                b.machine().state_text(),
                "{}",
                target.name
            );
        }
    }
}

/// A run watched by an observer takes the plain paths where an unwatched one takes shortcuts
/// that skip what a record would show (a sparse DMA read leaves RAM nothing wrote uncopied):
/// every input, a seed or random, must end the same both ways.
#[test]
fn watching_a_run_changes_nothing_in_it() {
    let seeds_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for target in models::TARGETS {
        let mut plain = Runner::new(target);
        let mut watched = Runner::new(target);
        watched.machine().observe(Some(Observer::default()));
        let same = |case: &str, plain: &mut Runner, watched: &mut Runner| {
            assert_eq!(
                plain.machine().state_text(),
                watched.machine().state_text(),
                "{} {case}",
                target.name
            );
        };
        let mut seeds: Vec<_> = std::fs::read_dir(seeds_dir.join(target.name))
            .expect("the target's seeds")
            .map(|e| e.expect("a seed").path())
            .collect();
        seeds.sort();
        for seed in seeds {
            let text = std::fs::read_to_string(&seed).expect("a seed");
            let cmds = harness::qtest::parse_trace(&text).expect("a valid seed");
            assert_eq!(
                plain.run_trace(&cmds).ok(),
                watched.run_trace(&cmds).ok(),
                "{}",
                seed.display()
            );
            same(&seed.display().to_string(), &mut plain, &mut watched);
        }
        let mut rng = Rng::with_seed(99 ^ target.name.len() as u64);
        for case in 0..200 {
            let input = random_input(&mut rng);
            assert_eq!(
                plain.run_input(&input),
                watched.run_input(&input),
                "{} case {case}",
                target.name
            );
            same(&format!("case {case}"), &mut plain, &mut watched);
        }
    }
}

#[test]
fn an_input_runs_the_same_after_any_other_as_on_a_fresh_runner() {
    // Inputs after the first start from the machine's checkpoint (the state after the
    // prologue) instead of a reset and the prologue: that must be indistinguishable.
    for target in models::TARGETS {
        let mut reused = Runner::new(target);
        let mut rng = Rng::with_seed(4321 ^ target.name.len() as u64);
        for case in 0..150 {
            let input = if case % 10 == 0 {
                Vec::new()
            } else {
                random_input(&mut rng)
            };
            let mut fresh = Runner::new(target);
            assert_eq!(
                reused.run_input(&input),
                fresh.run_input(&input),
                "{} case {case}",
                target.name
            );
            assert_eq!(
                reused.machine().state_text(),
                fresh.machine().state_text(),
                "{} case {case}",
                target.name
            );
        }
    }
}

#[test]
fn a_machine_after_any_program_and_a_reset_equals_a_fresh_one() {
    for target in models::TARGETS {
        let fresh = Machine::new(target.machine.build, MachineOptions::default()).state_text();
        let mut runner = Runner::new(target);
        let mut rng = Rng::with_seed(1234);
        for _ in 0..300 {
            let input = random_input(&mut rng);
            runner.run_input(&input);
            runner.machine().reset();
            assert_eq!(runner.machine().state_text(), fresh, "{}", target.name);
        }
    }
}

#[test]
fn binary_to_text_to_binary_keeps_the_outcome() {
    let target = models::target("ps2").expect("ps2 target");
    let mut runner = Runner::new(target);
    let input = encode(&[
        Op::Write {
            region: 1,
            offset: 0,
            size: harness::access::AccessSize::B1,
            value: 0xaa,
        },
        Op::Read {
            region: 0,
            offset: 0,
            size: harness::access::AccessSize::B1,
        },
        Op::Event {
            device: 0,
            payload: &[2, 5],
        },
        Op::Read {
            region: 0,
            offset: 0,
            size: harness::access::AccessSize::B1,
        },
    ])
    .expect("encodes");
    let (trace, outcome) = runner.input_to_trace(&input);
    let text: String = trace.iter().map(|c| format!("{c}\n")).collect();
    assert!(
        text.contains("outb 0x64 0xaa\ninb 0x60\nevent i8042 0x0205\ninb 0x60"),
        "{text}"
    );
    let back = runner.trace_to_input(&trace).expect("encodes back");
    assert!(back.dropped.is_empty(), "{:?}", back.dropped);
    assert_eq!(runner.run_input(&back.bytes), outcome);
}
