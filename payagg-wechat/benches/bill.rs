//! Bill parsing throughput (placeholder, filled in below).
fn main() {}
