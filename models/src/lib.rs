//! Device models and machine profiles for devfuzz.

pub mod i8042;
