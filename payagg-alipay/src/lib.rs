//! # payagg-alipay
//!
//! The Alipay (mainland Open Platform, classic `gateway.do`) client of payagg. Under
//! construction.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod aes;
pub mod sign;
pub mod wire;

/// The channel this crate speaks to.
pub const CHANNEL: payagg_core::Channel = payagg_core::Channel::Alipay;
