//! # payagg-alipay
//!
//! The Alipay client of payagg. Under construction: the crate compiles and is part of the
//! workspace so the facade and the simulator can depend on it; its operations land issue by
//! issue (see the repository README's feature table).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The channel this crate speaks to.
pub const CHANNEL: payagg_core::Channel = payagg_core::Channel::Alipay;
