//! # payagg-wechat
//!
//! The WeChat Pay APIv3 client of payagg.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bill;
mod certs;
mod client;
mod config;
mod convert;
pub mod crypto;
#[doc(hidden)]
pub mod doc_support;
pub mod error;
pub mod sign;
pub mod verify;
pub mod wire;

#[cfg(test)]
mod test_vectors;

pub use client::WechatPayClient;
pub use config::{Config, ConfigBuilder, DEFAULT_BASE_URL, VerificationMode};

/// The channel this crate speaks to.
pub const CHANNEL: payagg_core::Channel = payagg_core::Channel::Wechat;
