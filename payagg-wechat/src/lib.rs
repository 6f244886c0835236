//! # payagg-wechat
//!
//! The WeChat Pay APIv3 client of payagg.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bill;
pub mod sign;
pub mod wire;

#[cfg(test)]
mod test_vectors;

/// The channel this crate speaks to.
pub const CHANNEL: payagg_core::Channel = payagg_core::Channel::Wechat;
