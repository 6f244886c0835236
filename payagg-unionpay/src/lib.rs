//! # payagg-unionpay
//!
//! The China UnionPay (银联全渠道, ACP 5.1.0) client of payagg: [`UnionPayClient`] implements
//! [`payagg_core::Gateway`] for the B2C online gateway (`bizType=000201`), the B2B corporate
//! online-banking gateway (`000202`) and app payments, signing every request and verifying
//! every answer and notification, including UnionPay's SHA-1 certificate chain.
//!
//! ## Quick start
//!
//! Runs without network: a front (browser) consume needs no round trip.
//!
//! ```
//! use std::sync::Arc;
//! use payagg_core::{Gateway, MerchantOrderNo, Money, PayAction, PayRequest, Scene};
//! use payagg_core::test_util::FakeTransport;
//! use payagg_unionpay::sign::SignMethod;
//! use payagg_unionpay::{Config, Environment, UnionPayClient};
//!
//! let config = Config::builder()
//!     .mer_id("777290058110048")
//!     .environment(Environment::Test)
//!     // Production merchants sign with their PFX: .signing_pfx(bytes, password)
//!     // plus .middle_cert_pem(..).root_cert_pem(..) for UnionPay's chain.
//!     .secure_key(SignMethod::SecureKeySha256, "88888888".to_owned().into())
//!     .front_url("https://shop.example/unionpay/return")
//!     .back_url("https://shop.example/unionpay/notify")
//!     .build()?;
//! let client = UnionPayClient::with_transport(config, Arc::new(FakeTransport::new()));
//! let req = PayRequest::new(
//!     MerchantOrderNo::new("B2B20240105120000001")?,
//!     Money::cny(123456),
//!     "Invoice 2024-0001",
//!     Scene::UnionpayB2b { bank: None },
//! )?;
//! let resp = tokio::runtime::Builder::new_current_thread().build()?.block_on(client.pay(&req))?;
//! let PayAction::SubmitForm(form) = resp.action else { unreachable!() };
//! assert!(form.action.ends_with("/gateway/api/frontTransReq.do"));
//! assert!(form.fields.contains(&("bizType".to_owned(), "000202".to_owned())));
//! let txn_time = resp.channel_ref.unwrap(); // keep it: UnionPay queries need orderId + txnTime
//! assert_eq!(txn_time.len(), 14);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Operations
//!
//! | [`payagg_core::Gateway`] | ACP 5.1.0 |
//! | --- | --- |
//! | `pay` `UnionpayB2c` / `UnionpayB2b { bank }` | `frontTransReq.do` form (`SubmitForm`), `issInsCode` = bank |
//! | `pay` `App` | `appTransReq.do` → `AppTransactionNumber(tn)` |
//! | `query` | `queryTrans.do` (`00`/`A6` success, `03`/`04`/`05` query again, `34` unknown, never failure; a failed consume stays `NotPaid` until its `payTimeout`); [`UnionPayClient::query_order`], [`UnionPayClient::query_until_final`] |
//! | `refund` | `backTransReq.do` `txnType=04` by `origQryId` (partial, repeated); sync `00` = accepted |
//! | `query_refund` | `queryTrans.do` on the refund's orderId |
//! | `verify_callback` | `backUrl` form POST, verified; consume → payment, 04/31 → refund |
//! | `download_statement` | `fileTransfer` `txnType=76` → ZM file ([`bill`]) |
//! | `close`, `transfer` | `Unsupported`: ACP has no close (orders lapse at `payTimeout`) and no payouts |
//!
//! Inherent: [`UnionPayClient::cancel`] (`txnType=31`, same day, full amount).
//!
//! ACP 5.1.0 queries by `orderId` + the original `txnTime` only; there is no query by
//! `queryId`. `Gateway::query` with a [`payagg_core::TradeRef::ChannelTradeNo`] is therefore an
//! [`payagg_core::Error::InvalidInput`] on field `trade` (nothing is sent), and so is a
//! `MerchantOrderNo` this client did not send (its `txnTime` is unknown): use
//! [`UnionPayClient::query_order`] with the `txnTime` kept from `pay`. Refunds take either
//! reference (`queryId` directly, `orderId` through a query).
//!
//! UnionPay QR (`txnSubType` 07/06) is not implemented: the brief could not establish the QR
//! product's sync codes, `termId` rules, notification fields and code lifetime.
//!
//! ## Errors
//!
//! Everything is a [`payagg_core::Error`]; `respCode` classes are in [`error`]. Accepted but
//! unknown (`03`/`04`, `12`, `34`, non-200, unsigned answers) is an unknown outcome
//! ([`payagg_core::Error::outcome_unknown`]), never a failure.
//!
//! ## Security
//!
//! - The PFX (3DES or RC2-40) or PEM key is read once at build; `Debug` shows `certId` only.
//! - Answers and notifications must carry the configured `signMethod` and `version`;
//!   `signPubKeyCert` must chain to the configured middle and root at the injected
//!   [`payagg_core::clock::Clock`] time, and name `中国银联股份有限公司` as owner.
//! - GBK-encoded messages are not supported: requests always say `encoding=UTF-8`.
//!
//! ## Modules shared with the simulator
//!
//! [`sign`], [`qstring`] and [`wire`] are public for `payagg-mock` and documented as unstable.
//!
//! ## Features
//!
//! None.
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
