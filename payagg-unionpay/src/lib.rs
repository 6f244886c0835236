//! # payagg-unionpay
//!
//! The China UnionPay (银联全渠道, ACP 5.1.0) client of payagg, B2C and B2B gateways.
//!
//! ## Modules shared with the simulator
//!
//! [`sign`], [`qstring`] and [`wire`] are public for `payagg-mock` and documented as unstable.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod bill;
mod client;
mod config;
mod convert;
pub mod error;
mod keys;
pub mod qstring;
pub mod sign;
pub mod verify;
pub mod wire;

#[cfg(test)]
mod test_vectors;

pub use client::{QuerySchedule, Sleeper, TokioSleeper, UnionPayClient};
pub use config::{Config, ConfigBuilder, Environment};

/// The channel this crate speaks to.
pub const CHANNEL: payagg_core::Channel = payagg_core::Channel::Unionpay;
