//! `superio-devfuzz`: devfuzz's commands on the vm-superio targets.
fn main() {}
