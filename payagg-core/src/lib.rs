//! # payagg-core
//!
//! The foundation of payagg: the unified payment model, the [`Gateway`] trait every channel
//! client implements, exact [`Money`], the error model, the crypto the channels and the
//! simulator share, injectable clocks and nonces, pluggable HTTP, and the unified statement
//! record that reconciliation works on.
//!
//! Applications normally depend on the `payagg` facade crate; channel crates
//! (`payagg-wechat`, `payagg-alipay`, `payagg-unionpay`) and `payagg-mock` build on this one.
//!
//! ## Quick start
//!
//! ```
//! use payagg_core::{MerchantOrderNo, Money, PayRequest, RefundRequest, Scene};
//! use payagg_core::ids::MerchantRefundNo;
//!
//! let order = MerchantOrderNo::new("A20240520001")?;
//! let amount = Money::parse_major("12.30", payagg_core::Currency::Cny)?;
//! let pay = PayRequest::new(order.clone(), amount, "Tea", Scene::MerchantQr)?;
//! // Refunds are checked against the order total before anything is sent.
//! let refund = RefundRequest::new(order, MerchantRefundNo::new("R1")?, Money::cny(500), pay.amount)?;
//! assert_eq!(refund.amount.to_major_string(), "5.00");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Operations
//! [`Gateway::pay`] for every [`Scene`], [`Gateway::query`], [`Gateway::close`],
//! [`Gateway::refund`], [`Gateway::query_refund`], [`Gateway::transfer`],
//! [`Gateway::verify_callback`] and [`Gateway::download_statement`]. Unsupported combinations
//! return [`Error::Unsupported`]; [`Gateway::capabilities`] lists what is supported.
//!
//! ## Errors
//! One [`Error`] whose variants follow the request life cycle. [`Error::outcome_unknown`]
//! says whether a write may have happened (query before retrying);
//! [`Error::is_retryable`] whether sending again can help. Verification errors name the key,
//! serial or value expected and presented.
//!
//! ## Security
//! - Keys are parsed once when a configuration is built and held in types that redact
//!   themselves in `Debug`. On drop, the raw bytes of the 32-byte keys and the `rsa` crate's
//!   private keys are zeroized, and AWS-LC (the signing and AES backend) overwrites its key
//!   copies as it frees them; temporaries inside the `rsa` crate's arithmetic, decrypted
//!   plaintexts handed to the caller, and the PEM text or `SecretString` the caller passed in
//!   (the caller's to drop) are not wiped by payagg-core ([`crypto`]).
//! - Signatures and MACs are compared in constant time ([`crypto::ct_eq`]).
//! - Callback and response verification take a [`clock::Clock`] and reject timestamps
//!   outside the replay window.
//! - Personal data travels in [`Sensitive`], redacted in logs.
//! - RSA PKCS#1 v1.5 signing and verification, AES-256-GCM and HMAC use `aws-lc-rs`
//!   (constant-time; RSA-2048 signing about 0.88× and verification about 0.69× of
//!   `openssl speed` thanks to AWS-LC's AVX512-IFMA code, where `ring` signed at 0.36×), the
//!   same backend as rustls in the default transport, so the dependency tree carries one
//!   crypto library. `rsa` is used for key formats, OAEP and legacy `SHA1withRSA` signing.
//!   The `rsa` crate's RUSTSEC-2023-0071 (Marvin timing side channel) concerns private-key
//!   *decryption*; payagg's clients never decrypt with a private key, only the simulator does.
//! - The default transport refuses plain HTTP except to loopback addresses.
//!
//! ## Features
//! - `reqwest` (default): [`transport::ReqwestTransport`], reqwest over rustls with the
//!   aws-lc-rs provider; server certificates are checked against the operating system's trust
//!   store (`rustls-platform-verifier`).
//! - `test-util`: [`test_util::FakeTransport`] for tests.
//!
//! ## MSRV
//! Rust 1.88.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bank;
pub mod callback;
pub mod channel;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod gateway;
pub mod ids;
pub mod money;
pub mod pay;
pub mod reconcile;
pub mod refund;
pub mod sensitive;
pub mod statement;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod trade;
pub mod transfer;
pub mod transport;

pub use callback::{CallbackAck, CallbackEvent, CallbackRequest, VerifiedCallback};
pub use channel::Channel;
pub use error::{Error, GatewayErrorKind, Result};
pub use gateway::{Capabilities, Gateway, Operation};
pub use ids::{ChannelRefundNo, ChannelTradeNo, MerchantOrderNo, MerchantRefundNo};
pub use money::{Currency, ExactAmount, Money};
pub use pay::{PayAction, PayRequest, PayResponse, Scene, SceneKind};
pub use refund::{Refund, RefundQuery, RefundRequest, RefundStatus};
pub use sensitive::Sensitive;
pub use statement::{RecordKind, Statement, StatementKind, StatementRecord, StatementRequest};
pub use trade::{
    CloseRequest, ExpectedOrder, QueryRequest, SubMerchant, Trade, TradeRef, TradeStatus,
};
pub use transfer::{Payee, Transfer, TransferRequest, TransferStatus};

/// A tracing span for one gateway operation. Carries the channel, the operation and the
/// merchant's order number only: never secrets or personal data.
#[must_use]
pub fn operation_span(
    channel: Channel,
    op: Operation,
    merchant_order_no: Option<&str>,
) -> tracing::Span {
    tracing::info_span!(
        "payagg",
        channel = channel.as_str(),
        operation = op.as_str(),
        order = merchant_order_no.unwrap_or("")
    )
}
