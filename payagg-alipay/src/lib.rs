//! # payagg-alipay
//!
//! The Alipay client of payagg: the classic OpenAPI gateway (`gateway.do`) with RSA2
//! signatures, in public-key or public-key-certificate mode, behind core's object-safe
//! [`payagg_core::Gateway`].
//!
//! ## Quick start
//!
//! No network: the transport below is core's `FakeTransport`, and the page payment builds a
//! signed auto-submitting form without calling Alipay.
//!
//! ```
//! use std::sync::Arc;
//! use payagg_alipay::{AlipayClient, Config};
//! use payagg_core::test_util::FakeTransport;
//! use payagg_core::{Gateway, MerchantOrderNo, Money, PayAction, PayRequest, Scene};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use payagg_alipay::doc_support::{TEST_ALIPAY_PUBLIC_KEY_PEM, TEST_APP_KEY_PEM};
//! // In production: the key tool's files (bare base64 app private key, Alipay public key).
//! let config = Config::builder()
//!     .app_id("2021000122671080")
//!     .app_private_key(TEST_APP_KEY_PEM)
//!     .alipay_public_key(TEST_ALIPAY_PUBLIC_KEY_PEM)
//!     .notify_url("https://shop.example/notify/alipay")
//!     .build()?;
//! let client = AlipayClient::with_transport(config, Arc::new(FakeTransport::new()));
//!
//! let req = PayRequest::new(
//!     MerchantOrderNo::new("A20240520001")?,
//!     Money::cny(1230),
//!     "Tea",
//!     Scene::PcWeb,
//! )?;
//! let resp = client.pay(&req).await?;
//! let PayAction::SubmitForm(form) = resp.action else { unreachable!() };
//! assert!(form.action.starts_with("https://openapi.alipay.com/gateway.do?"));
//! assert_eq!(form.fields[0].0, "biz_content");
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
//! ```
//!
//! ## Operations
//!
//! | core | Alipay |
//! | --- | --- |
//! | `pay` `PcWeb` / `H5` | `alipay.trade.page.pay` / `wap.pay`: [`PayAction::SubmitForm`](payagg_core::PayAction) (or [`AlipayClient::pay_redirect`] for a GET URL) |
//! | `pay` `App` | `alipay.trade.app.pay`: `AppOrderString` |
//! | `pay` `MerchantQr` | `alipay.trade.precreate`: `ShowQrCode` |
//! | `pay` `PaymentCode` | `alipay.trade.pay` `bar_code`; `10003`/unknown → bounded query polling ([`PollSchedule`]) → `alipay.trade.cancel`; always a definite `Completed` / `Pending` or an outcome-unknown error |
//! | `query`, `close` | `alipay.trade.query`, `alipay.trade.close` ([`AlipayClient::cancel`] inherent) |
//! | `refund`, `query_refund` | `alipay.trade.refund` (`out_request_no` = merchant refund no, partial refunds), `alipay.trade.fastpay.refund.query` |
//! | `transfer`, `query_transfer` | `alipay.fund.trans.uni.transfer`, `alipay.fund.trans.common.query` |
//! | `verify_callback` | notifications (V1 / V2 content rules) and return URLs; ack `success` / `fail` |
//! | `download_statement` | `alipay.data.dataservice.bill.downloadurl.query` + ZIP download; the detail CSV kept as GBK and streamed line by line (never decoded whole), totals checked against the footer and summary |
//!
//! ## Transports: classic gateway or v3 REST
//!
//! Server calls (precreate, payment code, query, close, cancel, refund, refund query,
//! transfer, transfer query, bill URL) go to the classic `gateway.do` by default, or to the
//! v3 REST API with [`ConfigBuilder::transport`]`(`[`Transport::V3`]`)` (or
//! `.api_v3(true)`): `Authorization: ALIPAY-SHA256withRSA …` requests, responses verified from
//! the `alipay-signature` / `alipay-timestamp` / `alipay-nonce` (/ `alipay-sn`) headers, error
//! bodies `{code, message, links}` mapped through the same sub-code table. The
//! [`payagg_core::Gateway`] behaviour is the same on both; page / WAP / App payments and
//! notifications are classic on both. See [`Transport`] for the details of the choice.
//!
//! ## Errors
//!
//! Everything is core's [`payagg_core::Error`]. `code`/`sub_code` map to
//! [`payagg_core::GatewayErrorKind`] through the table in [`error`]; `20000`,
//! `ACQ.SYSTEM_ERROR` and the official misspelling `AQC.SYSTEM_ERROR` are `SystemError`
//! (retryable, outcome unknown); `ACQ.TRADE_HAS_SUCCESS` is `OrderPaid`. An unsigned
//! `error_response` is a gateway error whose message says "unverified"; an unsigned or
//! badly-signed success is a verification error, never a success.
//!
//! ## Security
//!
//! - Keys are parsed once in [`ConfigBuilder::build`]; `Debug` redacts the private key, the
//!   AES key and the `app_auth_token`.
//! - Responses are verified over the raw bytes of the response node ([`sign::extract_response`]).
//!   In certificate mode `alipay_cert_sn` (v3: `alipay-sn`) selects the Alipay certificate;
//!   an unknown SN is downloaded once (`alipay.open.app.alipaycert.download`) and accepted
//!   only if it chains to the configured root bundle and is valid now
//!   ([`AlipayClient::add_alipay_certificate`] does the same for an operator-supplied file).
//!   Notifications name no certificate: the configured one verifies them (as the official
//!   SDKs), then any rotated one already accepted; otherwise they fail closed.
//! - Notifications are verified before any field is trusted; check the order with
//!   `Trade::check_matches` (order number, amount, app id, seller id) before booking.
//! - RSA: see the workspace README on RUSTSEC-2023-0071 (no private-key decryption here).
//!
//! ## Unstable modules
//!
//! [`sign`], [`aes`] and [`wire`] are public for the simulator (`payagg-mock`) and are not
//! covered by semver.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod aes;
pub mod bill;
mod client;
mod config;
mod convert;
#[doc(hidden)]
pub mod doc_support;
pub mod error;
mod form;
pub mod sign;
pub mod wire;

pub use client::{AlipayClient, CancelOutcome, Sleeper, TokioSleeper};
pub use config::{
    Config, ConfigBuilder, PRODUCTION_GATEWAY, PRODUCTION_V3_BASE, PollSchedule, SANDBOX_GATEWAY,
    SANDBOX_V3_BASE, Transport,
};

/// The channel this crate speaks to.
pub const CHANNEL: payagg_core::Channel = payagg_core::Channel::Alipay;
