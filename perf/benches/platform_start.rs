//! Placeholder: the platform start benchmark is being written.
fn main() {}
