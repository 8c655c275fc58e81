//! Planted bugs for measuring the fuzzer (filled in by the planted-bugs work).
