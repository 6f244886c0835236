//! Integration tests: the shared vectors and wiremock flows per operation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod common;
mod failures;
mod flows;
mod money;
mod notify;
mod v3;
mod vectors;
