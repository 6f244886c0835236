//! # payagg-wechat
//!
//! The WeChat Pay (微信支付) APIv3 client of payagg: [`WechatPayClient`] implements
//! [`payagg_core::Gateway`] for a direct merchant or a service provider (partner mode),
//! signing every request, verifying every signed answer and callback, and decrypting
//! callback resources and platform certificates.
//!
//! ## Quick start
//!
//! Runs without network: a canned, signed answer stands in for WeChat.
//!
//! ```
//! use std::sync::Arc;
//! use payagg_core::{Gateway, MerchantOrderNo, Money, PayAction, PayRequest, Scene};
//! use payagg_core::crypto::RsaPrivateKey;
//! use payagg_core::test_util::FakeTransport;
//! use payagg_wechat::doc_support::{TEST_KEY_PEM, TEST_PUBLIC_KEY_PEM};
//! use payagg_wechat::{sign, Config, WechatPayClient};
//!
//! let config = Config::builder()
//!     .mchid("1230000109")
//!     .appid("wxd678efh567hg6787")
//!     .private_key_pem(TEST_KEY_PEM)              // apiclient_key.pem
//!     .merchant_serial_no("F5765756002FDD77")     // its certificate's serial
//!     .apiv3_key("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb".parse()?)
//!     .wechatpay_public_key("PUB_KEY_ID_0000000000000024101100397200000006", TEST_PUBLIC_KEY_PEM)
//!     .notify_url("https://shop.example/notify/wechat")
//!     .build()?;
//!
//! // What WeChat would answer, signed with the (test) WeChat Pay key.
//! let body = r#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#;
//! let ts = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
//! let sig = sign::sign_response(&RsaPrivateKey::from_pem(TEST_KEY_PEM)?, &ts, "nonce", body.as_bytes());
//! let transport = Arc::new(FakeTransport::new());
//! transport.push(
//!     http::Response::builder()
//!         .status(200)
//!         .header("Wechatpay-Timestamp", ts)
//!         .header("Wechatpay-Nonce", "nonce")
//!         .header("Wechatpay-Serial", "PUB_KEY_ID_0000000000000024101100397200000006")
//!         .header("Wechatpay-Signature", sig)
//!         .body(bytes::Bytes::from(body))?,
//! );
//!
//! let client = WechatPayClient::with_transport(config, transport.clone())?;
//! let req = PayRequest::new(MerchantOrderNo::new("A20240520001")?, Money::cny(1230), "Tea", Scene::MerchantQr)?;
//! let resp = tokio::runtime::Builder::new_current_thread().build()?.block_on(client.pay(&req))?;
//! assert!(matches!(resp.action, PayAction::ShowQrCode { .. }));
//! let sent = &transport.requests()[0];
//! assert!(sent.headers()["authorization"].to_str()?.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In production use [`WechatPayClient::new`] (reqwest over rustls) and the merchant's real
//! keys; point [`ConfigBuilder::base_url`] at `http://127.0.0.1:port` to use `payagg-mock`.
//!
//! ## Operations
//!
//! | [`payagg_core::Gateway`] | WeChat Pay APIv3 |
//! | --- | --- |
//! | `pay` `MerchantQr` / `Jsapi` / `MiniProgram` / `App` / `H5` | `POST /v3/pay[/partner]/transactions/{native,jsapi,app,h5}`; JSAPI and App answers carry signed client parameters |
//! | `pay` `PaymentCode` | APIv2 micropay (pay, poll, reverse) through [`micropay::MicropayClient`] when given with [`WechatPayClient::with_micropay`]; `Unsupported` otherwise |
//! | `query` | `GET …/transactions/id/{transaction_id}` or `…/out-trade-no/{out_trade_no}` |
//! | `close` | `POST …/out-trade-no/{out_trade_no}/close` (signed 204) |
//! | `refund`, `query_refund` | `POST /v3/refund/domestic/refunds`, `GET …/refunds/{out_refund_no}` |
//! | `verify_callback` | `TRANSACTION.SUCCESS` → payment, `REFUND.*` → refund, `MCHTRANSFER.BILL.FINISHED` → transfer, anything else → `Other` |
//! | `download_statement` | `/v3/bill/tradebill` or `/v3/bill/fundflowbill`, then the file (gzip, SHA-1 checked), parsed by [`bill`] |
//! | `transfer`, `query_transfer` | transfer bills: `POST /v3/fund-app/mch-transfer/transfer-bills`, `GET …/out-bill-no/{out_bill_no}` (direct mode; the scene comes from [`ConfigBuilder::transfer_scene_id`], default [`DEFAULT_TRANSFER_SCENE_ID`]) |
//!
//! Inherent: [`WechatPayClient::refresh_platform_certificates`],
//! [`WechatPayClient::jsapi_params`], [`WechatPayClient::app_params`]; payouts with a
//! per-call scene ([`WechatPayClient::create_transfer_bill`] with a
//! [`transfer::TransferBillRequest`]), [`WechatPayClient::query_transfer_bill_by_channel_no`],
//! [`WechatPayClient::cancel_transfer_bill`], and the legacy batch API
//! ([`WechatPayClient::create_transfer_batch`], [`WechatPayClient::query_transfer_batch`],
//! [`WechatPayClient::query_transfer_batch_detail`]).
//!
//! A payee's real name (`user_name`) is encrypted with RSA-OAEP (SHA-1) under the key the
//! client verifies with (the WeChat Pay public key, else the newest platform certificate),
//! whose id goes in `Wechatpay-Serial`; without such a key the call fails before sending.
//!
//! ## Errors
//!
//! Everything is a [`payagg_core::Error`]. Non-2xx answers become gateway errors with
//! WeChat's code, message, `Request-ID` and HTTP status, normalized by [`error::WechatErrorCode`]
//! (`SYSTEM_ERROR`/5xx: retryable, outcome unknown). Timeouts are outcome-unknown: query
//! before sending a pay, refund or transfer again. Pay, refund and transfer are never retried
//! automatically.
//!
//! ## Security
//!
//! - Keys are parsed once in [`ConfigBuilder::build`]; `Debug` shows serials and
//!   fingerprints only. The `Authorization` header is marked sensitive.
//! - Every 2xx answer must be signed, including an empty 204; the answer, and every
//!   callback, is verified over its raw bytes with the key its `Wechatpay-Serial` names, within
//!   a 5-minute window on the injected [`payagg_core::clock::Clock`]. `WECHATPAY/SIGNTEST/`
//!   probes are rejected: answer them with [`WechatPayClient::failure_ack`].
//! - An unknown platform serial triggers one download of `/v3/certificates` (at most once a
//!   minute); the certificates are decrypted with the APIv3 key and the answer is verified.
//! - Only 32-byte APIv3 keys are accepted (AES-256-GCM).
//! - Bill downloads are only fetched from the configured endpoint's host.
//! - The `rsa` crate's RUSTSEC-2023-0071 concerns private-key decryption, which this crate
//!   never performs.
//!
//! ## Modules shared with the simulator
//!
//! [`sign`] and [`wire`] are public for `payagg-mock` and documented as unstable.
//!
//! ## Features
//!
//! None.
//!
//! ## MSRV
//!
//! Rust 1.88.
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
pub mod micropay;
pub mod sign;
pub mod text;
pub mod transfer;
pub mod verify;
pub mod wire;

#[cfg(test)]
mod test_vectors;

pub use client::WechatPayClient;
pub use config::{
    Config, ConfigBuilder, DEFAULT_BASE_URL, DEFAULT_REFRESH_MARGIN, DEFAULT_TRANSFER_SCENE_ID,
    VerificationMode,
};

/// The channel this crate speaks to.
pub const CHANNEL: payagg_core::Channel = payagg_core::Channel::Wechat;
