//! # payagg
//!
//! One dependency for taking money through China's payment channels behind one typed API,
//! and proving that the money expected is the money that arrived.
//!
//! This facade re-exports [`payagg_core`] at its root and each channel crate behind a feature:
//!
//! | feature | module | crate |
//! |---|---|---|
//! | `wechat` (default) | [`wechat`] | `payagg-wechat` |
//! | `alipay` (default) | [`alipay`] | `payagg-alipay` |
//! | `unionpay` (default) | [`unionpay`] | `payagg-unionpay` |
//! | `mock` | `mock` | `payagg-mock`, the gateway simulator |
//! | `cli` | — | the `payagg` command for finance (`statement unify`, `reconcile`); its dependencies (lexopt, rust_xlsxwriter, indicatif, csv, toml) are never part of the library |
//!
//! ```
//! use payagg::{Money, MerchantOrderNo, PayRequest, Scene};
//!
//! let req = PayRequest::new(MerchantOrderNo::new("A1")?, Money::cny(1), "Tea", Scene::MerchantQr)?;
//! assert_eq!(req.amount.to_major_string(), "0.01");
//! # Ok::<(), payagg::error::InvalidInput>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use payagg_core::*;

#[cfg(feature = "alipay")]
pub use payagg_alipay as alipay;
#[cfg(feature = "mock")]
pub use payagg_mock as mock;
#[cfg(feature = "unionpay")]
pub use payagg_unionpay as unionpay;
#[cfg(feature = "wechat")]
pub use payagg_wechat as wechat;
