//! [`AlipayClient`]: the client implementing [`payagg_core::Gateway`] on the classic gateway
//! or the v3 REST API ([`crate::Transport`]).

mod v3;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use payagg_core::callback::{CallbackAck, CallbackEvent, CallbackRequest, VerifiedCallback};
use payagg_core::clock::{Clock, SystemClock};
use payagg_core::crypto::{Certificate, NonceSource, RandomNonce, RsaPublicKey};
use payagg_core::error::{
    ConfigError, DecodeError, Error, InvalidInput, Result, TimeoutError, TransportError,
    Unsupported, VerificationError, VerificationKind,
};
use payagg_core::gateway::{Capabilities, Gateway, Operation};
use payagg_core::ids::{
    AppId, ChannelTradeNo, ChannelTransferNo, MerchantId, MerchantOrderNo, MerchantRefundNo,
    MerchantTransferNo,
};
use payagg_core::pay::{HtmlForm, PayAction, PayRequest, PayResponse, Scene, SceneKind};
use payagg_core::refund::{Refund, RefundQuery, RefundRequest};
use payagg_core::statement::{Statement, StatementKind, StatementRequest};
use payagg_core::trade::{CloseRequest, QueryRequest, SubMerchant, Trade, TradeRef, TradeStatus};
use payagg_core::transfer::{Payee, Transfer, TransferRequest};
use payagg_core::transport::HttpTransport;
use payagg_core::{GatewayErrorKind, Sensitive, operation_span};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::CHANNEL;
use crate::bill;
use crate::config::{Config, KeyMode, Transport};
use crate::convert::{
    format_beijing, parse_beijing, parse_yuan, refund_status, trade_status, transfer_status, yuan,
};
use crate::error::{gateway_error, is_unverified, unverified_gateway_error};
use crate::form;
use crate::sign::{self, ResponseNode, SignType};
use crate::wire::{self, ResponseStatus, methods};

/// Waits between payment-code polls. Injected so tests do not wait real time.
#[async_trait]
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Sleep for `d`.
    async fn sleep(&self, d: Duration);
}

/// The real [`Sleeper`], on tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// The answer to [`AlipayClient::cancel`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CancelOutcome {
    /// `retry_flag=Y`: call cancel again.
    pub retry: bool,
    /// `close` (was unpaid) or `refund` (was paid and is refunded).
    pub action: Option<String>,
    /// Alipay's trade number, when a trade existed.
    pub channel_trade_no: Option<String>,
}

/// A classic-gateway request before it is sent: protocol parameters for the query string,
/// application parameters for the form body (the Java SDK's layout, brief §1.3).
#[derive(Debug, Clone)]
struct Signed {
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
}

impl Signed {
    fn all_sorted(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> =
            self.query.iter().chain(self.body.iter()).cloned().collect();
        all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        all
    }
}

/// The Alipay client. Cheap to clone; one per app (several side by side are fine).
///
/// See the crate docs for a runnable example.
#[derive(Clone)]
pub struct AlipayClient {
    config: Arc<Config>,
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    /// v3 `nonce` and `alipay-request-id`.
    nonce: Arc<dyn NonceSource>,
    /// Certificate mode: Alipay certificate SN → verify key (configured + downloaded).
    alipay_keys: Arc<RwLock<HashMap<String, RsaPublicKey>>>,
    cert_fetch: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for AlipayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlipayClient")
            .field("config", &self.config)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn verification(kind: VerificationKind, detail: impl Into<String>) -> Error {
    Error::Verification(VerificationError::new(CHANNEL, kind, detail))
}

fn decode(what: impl Into<String>) -> Error {
    Error::Decode(DecodeError::new(what))
}

fn no_sub_merchant(sub: Option<&SubMerchant>) -> Result<()> {
    match sub {
        None => Ok(()),
        Some(_) => Err(Unsupported::new(
            CHANNEL,
            "SubMerchant: Alipay partner mode uses app_auth_token (ConfigBuilder::app_auth_token), one client per token",
        )
        .into()),
    }
}

fn trade_ref_fields(r: &TradeRef) -> (Option<String>, Option<String>) {
    match r {
        TradeRef::MerchantOrderNo(n) => (Some(n.as_str().to_owned()), None),
        TradeRef::ChannelTradeNo(n) => (None, Some(n.as_str().to_owned())),
    }
}

impl AlipayClient {
    /// A client on the default transport (reqwest over rustls, the config's timeouts).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the transport cannot be built.
    pub fn new(config: Config) -> Result<Self> {
        let transport = payagg_core::transport::ReqwestTransport::new(config.timeouts)?;
        Ok(Self::with_transport(config, Arc::new(transport)))
    }

    /// A client on `transport` (tests, custom HTTP stacks).
    #[must_use]
    pub fn with_transport(config: Config, transport: Arc<dyn HttpTransport>) -> Self {
        let mut keys = HashMap::new();
        if let KeyMode::Cert {
            alipay_cert_sn,
            alipay_key,
            ..
        } = &config.keys
        {
            keys.insert(alipay_cert_sn.clone(), alipay_key.clone());
        }
        Self {
            config: Arc::new(config),
            transport,
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            nonce: Arc::new(RandomNonce),
            alipay_keys: Arc::new(RwLock::new(keys)),
            cert_fetch: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Use `clock` for request timestamps and certificate validity.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Wait with `sleeper` in the payment-code flow.
    #[must_use]
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Draw v3 `nonce`s and `alipay-request-id`s from `nonce` (default: 32 random characters).
    #[must_use]
    pub fn with_nonce(mut self, nonce: Arc<dyn NonceSource>) -> Self {
        self.nonce = nonce;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The acknowledgement Alipay expects after a notification was booked: `success`.
    #[must_use]
    pub fn success_ack() -> CallbackAck {
        CallbackAck::new(200, Some("text/plain"), "success")
    }

    /// The answer that makes Alipay resend later: `fail`.
    #[must_use]
    pub fn failure_ack() -> CallbackAck {
        CallbackAck::new(200, Some("text/plain"), "fail")
    }

    /// The Alipay certificate SNs this client can verify (certificate mode).
    #[must_use]
    pub fn alipay_cert_sns(&self) -> Vec<String> {
        let mut v: Vec<String> = read(&self.alipay_keys).keys().cloned().collect();
        v.sort();
        v
    }

    /// Adds a (rotated) Alipay certificate without a download, e.g. after the operator
    /// replaced `alipayCertPublicKey_RSA2.crt`. It must chain to the configured root bundle
    /// (or a configured intermediate) and be valid now. Returns its SN.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] outside certificate mode or if the text does not parse;
    /// [`Error::Verification`] if it does not chain or is expired.
    pub fn add_alipay_certificate(&self, pem: &str) -> Result<String> {
        let KeyMode::Cert { anchors, .. } = &self.config.keys else {
            return Err(ConfigError::new(
                "Alipay certificate",
                "add_alipay_certificate needs certificate mode",
            )
            .into());
        };
        let chain = Certificate::pem_bundle(pem)?;
        let leaf = chain
            .first()
            .ok_or_else(|| ConfigError::new("Alipay certificate", "empty"))?;
        let now = self.clock.now();
        if !leaf.is_valid_at(now) {
            return Err(verification(
                VerificationKind::Certificate,
                "Alipay certificate is outside its validity period",
            ));
        }
        let extra: Vec<Certificate> = chain.iter().skip(1).cloned().collect();
        if !chains_to(leaf, &extra, anchors, 0) {
            return Err(verification(
                VerificationKind::Certificate,
                format!(
                    "Alipay certificate issued by {} does not chain to the configured root bundle",
                    leaf.issuer_rfc4514()
                ),
            ));
        }
        let sn = sign::cert_sn(leaf);
        write(&self.alipay_keys).insert(sn.clone(), leaf.public_key()?);
        Ok(sn)
    }

    // ----- request building -----

    fn signed(
        &self,
        method: &str,
        biz_content: Option<&str>,
        notify_url: Option<&str>,
        return_url: Option<&str>,
    ) -> Signed {
        let cfg = &self.config;
        let mut query: Vec<(String, String)> = vec![
            ("app_id".into(), cfg.app_id.clone()),
            ("method".into(), method.into()),
            ("format".into(), "JSON".into()),
            ("charset".into(), "utf-8".into()),
            ("sign_type".into(), SignType::Rsa2.as_str().into()),
            ("timestamp".into(), format_beijing(self.clock.now())),
            ("version".into(), "1.0".into()),
        ];
        if let Some(u) = notify_url.filter(|u| !u.is_empty()) {
            query.push(("notify_url".into(), u.into()));
        }
        if let Some(u) = return_url.filter(|u| !u.is_empty()) {
            query.push(("return_url".into(), u.into()));
        }
        if let KeyMode::Cert {
            app_cert_sn,
            root_cert_sn,
            ..
        } = &cfg.keys
        {
            query.push(("app_cert_sn".into(), app_cert_sn.clone()));
            query.push(("alipay_root_cert_sn".into(), root_cert_sn.clone()));
        }
        let mut body = Vec::new();
        if let Some(content) = biz_content {
            match &cfg.aes_key {
                Some(key) => {
                    query.push(("encrypt_type".into(), "AES".into()));
                    body.push(("biz_content".into(), key.encrypt_b64(content.as_bytes())));
                }
                None => body.push(("biz_content".into(), content.into())),
            }
        }
        if let Some(token) = &cfg.app_auth_token {
            body.push(("app_auth_token".into(), token.expose_secret().to_owned()));
        }
        let signature = sign::sign_params(
            &cfg.private_key,
            SignType::Rsa2,
            query.iter().chain(body.iter()).map(|(k, v)| (k, v)),
        );
        query.push(("sign".into(), signature));
        Signed { query, body }
    }

    fn request_url(&self, s: &Signed) -> String {
        format!(
            "{}?{}",
            self.config.gateway_url,
            form::encode_pairs(&s.query, true)
        )
    }

    fn biz<T: Serialize>(content: &T) -> Result<String> {
        serde_json::to_string(content).map_err(|e| {
            Error::InvalidInput(InvalidInput::new(
                "biz_content",
                format!("cannot serialize: {e}"),
            ))
        })
    }

    /// Sends `method` with `content` and returns the verified, decoded response node.
    async fn call<C: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        content: &C,
    ) -> Result<R> {
        let biz = Self::biz(content)?;
        self.call_raw(method, &biz, None).await
    }

    async fn call_raw<R: DeserializeOwned>(
        &self,
        method: &str,
        biz: &str,
        notify_url: Option<&str>,
    ) -> Result<R> {
        if self.config.transport == Transport::V3 && v3::endpoint(method).is_some() {
            return self.call_v3(method, biz, notify_url).await;
        }
        let signed = self.signed(method, Some(biz), notify_url, None);
        let url = self.request_url(&signed);
        let body = form::encode_pairs(&signed.body, true);
        let req = http::Request::builder()
            .method(http::Method::POST)
            .uri(url)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::from(body))
            .map_err(|e| {
                Error::InvalidInput(InvalidInput::new(
                    "gateway_url",
                    format!("bad request: {e}"),
                ))
            })?;
        let resp = self.transport.send(req).await?;
        if resp.status() != http::StatusCode::OK {
            return Err(TransportError::after_send(format!(
                "{method}: HTTP {} from the Alipay gateway",
                resp.status().as_u16()
            ))
            .into());
        }
        // A write's answer that fails verification leaves the write's outcome unknown.
        let is_write = !(method.ends_with(".query") || method.ends_with(".download"));
        let plain = self
            .verify_response(method, resp.body())
            .await
            .map_err(|e| if is_write { e.after_write() } else { e })?;
        serde_json::from_slice(&plain).map_err(|e| {
            Error::Decode(DecodeError::new(format!("{method}: response node")).with_source(e))
        })
    }

    async fn key_for(&self, method: &str, sn: Option<&str>, success: bool) -> Result<RsaPublicKey> {
        match &self.config.keys {
            KeyMode::PublicKey(k) => Ok(k.clone()),
            KeyMode::Cert { alipay_key, .. } => {
                let Some(sn) = sn else {
                    if success && method != methods::CERT_DOWNLOAD {
                        return Err(verification(
                            VerificationKind::UnknownKey,
                            "certificate mode: signed response without alipay_cert_sn",
                        ));
                    }
                    return Ok(alipay_key.clone());
                };
                if let Some(k) = read(&self.alipay_keys).get(sn) {
                    return Ok(k.clone());
                }
                if method == methods::CERT_DOWNLOAD {
                    // Never download to verify a download (that would wait on itself): the
                    // configured certificate must verify it, or it fails closed.
                    return Ok(alipay_key.clone());
                }
                self.fetch_alipay_cert(sn).await
            }
        }
    }

    /// Rotation: download the certificate Alipay names, check it chains to the configured
    /// roots, cache it. Single-flight: concurrent callers wait for one download.
    async fn fetch_alipay_cert(&self, sn: &str) -> Result<RsaPublicKey> {
        let _guard = self.cert_fetch.lock().await;
        if let Some(k) = read(&self.alipay_keys).get(sn) {
            return Ok(k.clone());
        }
        let resp: wire::CertDownloadResponse = Box::pin(self.call(
            methods::CERT_DOWNLOAD,
            &wire::CertDownloadContent {
                alipay_cert_sn: sn.to_owned(),
            },
        ))
        .await?;
        let content = resp.alipay_cert_content.unwrap_or_default();
        let pem =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, content.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| decode("alipay_cert_content is not base64 PEM text"))?;
        let got = self.add_alipay_certificate(&pem)?;
        if got != sn {
            return Err(verification(
                VerificationKind::UnknownKey,
                "downloaded Alipay certificate has another SN",
            )
            .map_presented(got, sn));
        }
        read(&self.alipay_keys).get(sn).cloned().ok_or_else(|| {
            verification(
                VerificationKind::UnknownKey,
                "Alipay certificate not cached",
            )
        })
    }

    /// Verifies a classic response over its raw bytes and returns the node's plaintext JSON.
    async fn verify_response(&self, method: &str, body: &[u8]) -> Result<Vec<u8>> {
        let ex = sign::extract_response(body, method).map_err(|e| {
            Error::Decode(DecodeError::new(format!("{method}: response body")).with_source(e))
        })?;
        let status_of = |bytes: &[u8]| serde_json::from_slice::<ResponseStatus>(bytes).ok();
        let Some(sig) = ex.sign.clone() else {
            // Unsigned: only a failure may pass, and only as an unverified error.
            if ex.is_encrypted() {
                return Err(verification(
                    VerificationKind::MissingSignature,
                    format!("{method}: encrypted response without sign"),
                ));
            }
            let status = status_of(ex.content)
                .ok_or_else(|| decode(format!("{method}: unsigned response node")))?;
            if ex.node == ResponseNode::Error || !status.is_success() {
                return Err(unverified_gateway_error(&status).into());
            }
            return Err(verification(
                VerificationKind::MissingSignature,
                format!("{method}: success response without sign"),
            ));
        };
        let success_hint = ex.node == ResponseNode::Method
            && (ex.is_encrypted() || status_of(ex.content).is_some_and(|s| s.is_success()));
        let key = self
            .key_for(method, ex.alipay_cert_sn.as_deref(), success_hint)
            .await?;
        let ok = sign::verify(&key, SignType::Rsa2, ex.content, &sig).is_ok() || {
            // The Java SDK retries once with `\/` unescaped.
            let alt = String::from_utf8_lossy(ex.content).replace("\\/", "/");
            alt.as_bytes() != ex.content
                && sign::verify(&key, SignType::Rsa2, alt.as_bytes(), &sig).is_ok()
        };
        if !ok {
            let mut e = VerificationError::new(
                CHANNEL,
                VerificationKind::BadSignature,
                format!("{method}: response signature does not verify"),
            );
            if let Some(sn) = &ex.alipay_cert_sn {
                e = e.presented(sn.clone());
            }
            return Err(e.into());
        }
        let plain = match ex.ciphertext() {
            Some(ct) => {
                let key = self.config.aes_key.as_ref().ok_or_else(|| {
                    verification(
                        VerificationKind::Decryption,
                        format!("{method}: encrypted response but no AES key configured"),
                    )
                })?;
                key.decrypt_b64(&ct).map_err(|_| {
                    verification(
                        VerificationKind::Decryption,
                        format!("{method}: response content does not decrypt"),
                    )
                })?
            }
            None => ex.content.to_vec(),
        };
        let status = status_of(&plain)
            .ok_or_else(|| decode(format!("{method}: response node has no status")))?;
        if !status.is_success() || !matches!(status.code.as_str(), "10000" | "10003") {
            return Err(gateway_error(&status).into());
        }
        Ok(plain)
    }

    // ----- operations -----

    fn page_like(&self, req: &PayRequest, product_code: &str) -> Result<String> {
        let content = wire::PagePayContent {
            out_trade_no: req.merchant_order_no.as_str().to_owned(),
            total_amount: yuan(req.amount),
            subject: req.description.clone(),
            product_code: product_code.to_owned(),
            time_expire: req.expires_at.map(format_beijing),
            passback_params: req.attach.as_deref().map(|a| form::encode(a, false)),
            ..wire::PagePayContent::default()
        };
        Self::biz(&content)
    }

    fn notify_url<'a>(&'a self, req: &'a PayRequest) -> Option<&'a str> {
        req.notify_url
            .as_deref()
            .or(self.config.notify_url.as_deref())
    }

    /// `alipay.trade.page.pay` / `wap.pay` as a GET redirect URL (every parameter, sorted,
    /// URL-encoded) instead of the default auto-submitting form.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for scenes other than `PcWeb` and `H5`.
    pub fn pay_redirect(&self, req: &PayRequest) -> Result<PayResponse> {
        let (method, product) = match req.scene {
            Scene::PcWeb => (methods::PAGE_PAY, "FAST_INSTANT_TRADE_PAY"),
            Scene::H5 { .. } => (methods::WAP_PAY, "QUICK_WAP_WAY"),
            _ => return Err(Unsupported::new(CHANNEL, "redirect for this scene").into()),
        };
        let biz = self.page_like(req, product)?;
        let return_url = req
            .return_url
            .as_deref()
            .or(self.config.return_url.as_deref());
        let s = self.signed(method, Some(&biz), self.notify_url(req), return_url);
        let url = format!(
            "{}?{}",
            self.config.gateway_url,
            form::encode_pairs(&s.all_sorted(), true)
        );
        Ok(PayResponse::new(
            req.merchant_order_no.clone(),
            PayAction::Redirect { url },
        ))
    }

    async fn pay_inner(&self, req: &PayRequest) -> Result<PayResponse> {
        no_sub_merchant(req.sub_merchant.as_ref())?;
        let order = req.merchant_order_no.clone();
        match &req.scene {
            Scene::PcWeb | Scene::H5 { .. } => {
                let (method, product) = if matches!(req.scene, Scene::PcWeb) {
                    (methods::PAGE_PAY, "FAST_INSTANT_TRADE_PAY")
                } else {
                    (methods::WAP_PAY, "QUICK_WAP_WAY")
                };
                let biz = self.page_like(req, product)?;
                let return_url = req
                    .return_url
                    .as_deref()
                    .or(self.config.return_url.as_deref());
                let s = self.signed(method, Some(&biz), self.notify_url(req), return_url);
                let form = HtmlForm::new(self.request_url(&s), "POST", s.body.clone());
                Ok(PayResponse::new(order, PayAction::SubmitForm(form)))
            }
            Scene::App => {
                let biz = self.page_like(req, "QUICK_MSECURITY_PAY")?;
                let s = self.signed(methods::APP_PAY, Some(&biz), self.notify_url(req), None);
                let order_string = form::encode_pairs(&s.all_sorted(), false);
                Ok(PayResponse::new(
                    order,
                    PayAction::AppOrderString(order_string),
                ))
            }
            Scene::MerchantQr => {
                let content = wire::PrecreateContent {
                    out_trade_no: order.as_str().to_owned(),
                    total_amount: yuan(req.amount),
                    subject: req.description.clone(),
                    time_expire: req.expires_at.map(format_beijing),
                    ..wire::PrecreateContent::default()
                };
                let biz = Self::biz(&content)?;
                let resp: wire::PrecreateResponse = self
                    .call_raw(methods::PRECREATE, &biz, self.notify_url(req))
                    .await?;
                let code_url = resp
                    .qr_code
                    .filter(|q| !q.is_empty())
                    .ok_or_else(|| decode("alipay.trade.precreate: no qr_code"))?;
                Ok(PayResponse::new(order, PayAction::ShowQrCode { code_url }))
            }
            Scene::PaymentCode { auth_code } => self.pay_code(req, auth_code).await,
            _ => Err(Unsupported::new(CHANNEL, format!("the {} scene", req.scene.kind())).into()),
        }
    }

    async fn pay_code(
        &self,
        req: &PayRequest,
        auth_code: &Sensitive<String>,
    ) -> Result<PayResponse> {
        let order = req.merchant_order_no.clone();
        let content = wire::TradePayContent {
            out_trade_no: order.as_str().to_owned(),
            scene: "bar_code".into(),
            auth_code: auth_code.expose().clone(),
            total_amount: yuan(req.amount),
            subject: req.description.clone(),
            ..wire::TradePayContent::default()
        };
        let biz = Self::biz(&content)?;
        let first: Result<wire::TradePayResponse> = self
            .call_raw(methods::PAY, &biz, self.notify_url(req))
            .await;
        let sched = self.config.poll;
        let polls = match first {
            Ok(r) if r.status.code == "10000" => {
                let trade = self.pay_response_trade(&order, req, &r)?;
                return Ok(PayResponse::new(order, PayAction::Completed(trade)));
            }
            // 10003: the buyer must confirm: poll the whole schedule.
            Ok(_) => (sched.timeout.as_millis() / sched.interval.as_millis().max(1)).max(1),
            // Unknown outcome (20000, timeout, an answer that does not verify, an unsigned
            // error_response): one query, then cancel.
            Err(e) if e.outcome_unknown() || is_unverified(&e) => 1,
            Err(e) => return Err(e),
        };
        let query = QueryRequest::new(TradeRef::MerchantOrderNo(order.clone()));
        for _ in 0..polls {
            self.sleeper.sleep(sched.interval).await;
            match self.query_inner(&query).await {
                Ok(t) if t.status.is_paid() => {
                    return Ok(PayResponse::new(order, PayAction::Completed(t)));
                }
                Ok(t) if t.status == TradeStatus::Closed => {
                    return Ok(PayResponse::new(order, PayAction::Pending(t)));
                }
                // Still waiting, or no answer that decides anything: the cancel decides.
                Ok(_) | Err(_) => {}
            }
        }
        // Cancel right after the last query (no pause before the first attempt).
        for attempt in 0..sched.cancel_attempts.max(1) {
            if attempt > 0 {
                self.sleeper.sleep(sched.cancel_interval).await;
            }
            match self.cancel_inner(&order).await {
                Ok(c) if !c.retry => {
                    let status = if c.action.as_deref() == Some("refund") {
                        TradeStatus::Refunded
                    } else {
                        TradeStatus::Revoked
                    };
                    let mut trade = Trade::new(
                        CHANNEL,
                        order.clone(),
                        status,
                        format!("CANCELLED:{}", c.action.as_deref().unwrap_or("")),
                        req.amount,
                    );
                    trade.channel_trade_no =
                        c.channel_trade_no.and_then(|n| ChannelTradeNo::new(n).ok());
                    return Ok(PayResponse::new(order, PayAction::Pending(trade)));
                }
                Ok(_) => {}
                // Only a verified ACQ.TRADE_NOT_EXIST proves no trade exists (an unsigned one
                // is downgraded to Unknown and retried below).
                Err(e)
                    if e.gateway_kind() == Some(GatewayErrorKind::NotFound)
                        && !is_unverified(&e) =>
                {
                    let trade = Trade::new(
                        CHANNEL,
                        order.clone(),
                        TradeStatus::Failed,
                        "TRADE_NOT_EXIST",
                        req.amount,
                    );
                    return Ok(PayResponse::new(order, PayAction::Pending(trade)));
                }
                Err(e) if e.outcome_unknown() || is_unverified(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Err(TimeoutError::new(
            "alipay.trade.pay: cancel did not complete; handle the order manually",
            u64::try_from(sched.timeout.as_millis()).unwrap_or(u64::MAX),
        )
        .into())
    }

    fn pay_response_trade(
        &self,
        order: &MerchantOrderNo,
        req: &PayRequest,
        r: &wire::TradePayResponse,
    ) -> Result<Trade> {
        let amount = match &r.total_amount {
            Some(a) => parse_yuan(a, "total_amount")?,
            None => req.amount,
        };
        let mut t = Trade::new(
            CHANNEL,
            order.clone(),
            TradeStatus::Success,
            "TRADE_SUCCESS",
            amount,
        );
        t.channel_trade_no = r
            .trade_no
            .as_deref()
            .and_then(|n| ChannelTradeNo::new(n).ok());
        t.paid_at = r.gmt_payment.as_deref().and_then(parse_beijing);
        t.payer = r
            .buyer_user_id
            .clone()
            .or(r.buyer_open_id.clone())
            .map(Sensitive::new);
        if let Some(p) = &r.buyer_pay_amount {
            t.payer_amount = parse_yuan(p, "buyer_pay_amount").ok();
        }
        t.app_id = AppId::new(self.config.app_id.clone()).ok();
        Ok(t)
    }

    async fn query_inner(&self, req: &QueryRequest) -> Result<Trade> {
        no_sub_merchant(req.sub_merchant.as_ref())?;
        let (out_trade_no, trade_no) = trade_ref_fields(&req.trade);
        let r: wire::TradeQueryResponse = self
            .call(
                methods::QUERY,
                &wire::TradeQueryContent {
                    out_trade_no,
                    trade_no,
                    ..Default::default()
                },
            )
            .await?;
        let raw = r.trade_status.clone().unwrap_or_default();
        let order = r
            .out_trade_no
            .as_deref()
            .and_then(|o| MerchantOrderNo::new(o).ok())
            .or_else(|| match &req.trade {
                TradeRef::MerchantOrderNo(o) => Some(o.clone()),
                _ => None,
            })
            .ok_or_else(|| decode("alipay.trade.query: no out_trade_no"))?;
        let amount = parse_yuan(
            r.total_amount
                .as_deref()
                .ok_or_else(|| decode("alipay.trade.query: no total_amount"))?,
            "total_amount",
        )?;
        let mut t = Trade::new(CHANNEL, order, trade_status(&raw), raw, amount);
        t.channel_trade_no = r
            .trade_no
            .as_deref()
            .and_then(|n| ChannelTradeNo::new(n).ok());
        t.paid_at = r.send_pay_date.as_deref().and_then(parse_beijing);
        t.payer = r
            .buyer_user_id
            .clone()
            .or(r.buyer_open_id.clone())
            .map(Sensitive::new);
        t.payer_amount = r
            .buyer_pay_amount
            .as_deref()
            .and_then(|a| parse_yuan(a, "buyer_pay_amount").ok());
        t.app_id = AppId::new(self.config.app_id.clone()).ok();
        t.attach = r.passback_params.clone();
        Ok(t)
    }

    async fn cancel_inner(&self, order: &MerchantOrderNo) -> Result<CancelOutcome> {
        let r: wire::TradeCancelResponse = self
            .call(
                methods::CANCEL,
                &wire::TradeCancelContent {
                    out_trade_no: Some(order.as_str().to_owned()),
                    trade_no: None,
                },
            )
            .await?;
        Ok(CancelOutcome {
            retry: r.retry_flag.as_deref() == Some("Y"),
            action: r.action,
            channel_trade_no: r.trade_no,
        })
    }

    /// `alipay.trade.cancel`: closes an unpaid trade or refunds a paid one (payment code,
    /// within 24 h). Call again while [`CancelOutcome::retry`] is set.
    ///
    /// # Errors
    ///
    /// Transport, verification and gateway errors (`ACQ.TRADE_CANCEL_TIME_OUT` → use refund).
    pub async fn cancel(&self, order: &MerchantOrderNo) -> Result<CancelOutcome> {
        self.cancel_inner(order)
            .instrument(operation_span(
                CHANNEL,
                Operation::Close,
                Some(order.as_str()),
            ))
            .await
    }

    async fn refund_inner(&self, req: &RefundRequest) -> Result<Refund> {
        no_sub_merchant(req.sub_merchant.as_ref())?;
        let (out_trade_no, trade_no) = trade_ref_fields(&req.trade);
        let r: wire::TradeRefundResponse = self
            .call(
                methods::REFUND,
                &wire::TradeRefundContent {
                    out_trade_no,
                    trade_no,
                    refund_amount: yuan(req.amount),
                    out_request_no: Some(req.merchant_refund_no.as_str().to_owned()),
                    refund_reason: req.reason.clone(),
                    operator_id: None,
                },
            )
            .await?;
        let fund_change = r.fund_change.clone().unwrap_or_default();
        if fund_change != "Y" {
            // `10000` with fund_change=N (or none): this call moved no money. Either it repeats
            // a refund that already went through under the same out_request_no (Alipay answers
            // a repeat idempotently with N), or the refund is not done (yet). Only the refund
            // query tells which (brief §4.7-4.8; review of issue 4: N → confirm by refund query).
            return Ok(self.confirm_refund(req, &r, &fund_change).await);
        }
        let mut refund = Refund::new(
            CHANNEL,
            req.merchant_refund_no.clone(),
            req.amount,
            payagg_core::RefundStatus::Success,
            format!("fund_change={fund_change}"),
        );
        refund.merchant_order_no = r
            .out_trade_no
            .as_deref()
            .and_then(|o| MerchantOrderNo::new(o).ok());
        refund.channel_trade_no = r
            .trade_no
            .as_deref()
            .and_then(|n| ChannelTradeNo::new(n).ok());
        refund.succeeded_at = r.gmt_refund_pay.as_deref().and_then(parse_beijing);
        Ok(refund)
    }

    /// After `10000` without `fund_change=Y`: the refund query decides. `REFUND_SUCCESS`
    /// (verified) → [`RefundStatus::Success`](payagg_core::RefundStatus::Success) with the
    /// queried amount (a repeated request: the money moved on the first call); anything else
    /// (no `refund_status`, an error, an answer that does not verify) →
    /// [`RefundStatus::Processing`](payagg_core::RefundStatus::Processing): query again later
    /// (Alipay suggests ≥ 10 s after the refund) or re-send with the **same** out_request_no.
    async fn confirm_refund(
        &self,
        req: &RefundRequest,
        r: &wire::TradeRefundResponse,
        fund_change: &str,
    ) -> Refund {
        let q = RefundQuery::new(req.merchant_refund_no.clone()).trade(req.trade.clone());
        let raw = format!("fund_change={fund_change}");
        match self.query_refund_inner(&q).await {
            Ok(mut found) if found.status == payagg_core::RefundStatus::Success => {
                found.raw_status = format!("{raw}; {}", found.raw_status);
                fill_trade_refs(&mut found, r.out_trade_no.as_deref(), r.trade_no.as_deref());
                found
            }
            other => {
                let detail = match other {
                    Ok(found) => format!("refund query: {}", found.raw_status),
                    Err(e) => format!("refund query failed: {e}"),
                };
                tracing::warn!(
                    refund = req.merchant_refund_no.as_str(),
                    "{raw} and not confirmed ({detail}): reported as processing"
                );
                let mut refund = Refund::new(
                    CHANNEL,
                    req.merchant_refund_no.clone(),
                    req.amount,
                    payagg_core::RefundStatus::Processing,
                    raw,
                );
                refund.merchant_order_no = r
                    .out_trade_no
                    .as_deref()
                    .and_then(|o| MerchantOrderNo::new(o).ok());
                refund.channel_trade_no = r
                    .trade_no
                    .as_deref()
                    .and_then(|n| ChannelTradeNo::new(n).ok());
                refund
            }
        }
    }

    async fn query_refund_inner(&self, req: &RefundQuery) -> Result<Refund> {
        no_sub_merchant(req.sub_merchant.as_ref())?;
        let trade = req.trade.as_ref().ok_or_else(|| {
            Error::InvalidInput(InvalidInput::new(
                "trade",
                "Alipay's refund query needs the trade (out_trade_no or trade_no)",
            ))
        })?;
        let (out_trade_no, trade_no) = trade_ref_fields(trade);
        let r: wire::RefundQueryResponse = self
            .call(
                methods::REFUND_QUERY,
                &wire::RefundQueryContent {
                    out_trade_no,
                    trade_no,
                    out_request_no: req.merchant_refund_no.as_str().to_owned(),
                    query_options: vec!["gmt_refund_pay".into()],
                },
            )
            .await?;
        let amount = match r.refund_amount.as_deref() {
            Some(a) => parse_yuan(a, "refund_amount")?,
            None => payagg_core::Money::cny(0),
        };
        let mut refund = Refund::new(
            CHANNEL,
            req.merchant_refund_no.clone(),
            amount,
            refund_status(r.refund_status.as_deref()),
            r.refund_status.clone().unwrap_or_default(),
        );
        refund.merchant_order_no = r
            .out_trade_no
            .as_deref()
            .and_then(|o| MerchantOrderNo::new(o).ok());
        refund.channel_trade_no = r
            .trade_no
            .as_deref()
            .and_then(|n| ChannelTradeNo::new(n).ok());
        refund.succeeded_at = r.gmt_refund_pay.as_deref().and_then(parse_beijing);
        Ok(refund)
    }

    async fn transfer_inner(&self, req: &TransferRequest) -> Result<Transfer> {
        let (identity_type, identity) = match &req.payee {
            Payee::AlipayUserId(id) => ("ALIPAY_USER_ID", id.expose().clone()),
            Payee::AlipayOpenId(id) => ("ALIPAY_OPEN_ID", id.expose().clone()),
            Payee::AlipayLogonId(id) => {
                if req.payee_name.is_none() {
                    return Err(InvalidInput::new(
                        "payee_name",
                        "required for ALIPAY_LOGON_ID payees",
                    )
                    .into());
                }
                ("ALIPAY_LOGON_ID", id.expose().clone())
            }
            _ => return Err(Unsupported::new(CHANNEL, "this payee kind").into()),
        };
        let content = wire::TransferContent {
            out_biz_no: req.merchant_transfer_no.as_str().to_owned(),
            trans_amount: yuan(req.amount),
            product_code: "TRANS_ACCOUNT_NO_PWD".into(),
            biz_scene: "DIRECT_TRANSFER".into(),
            order_title: Some(req.remark.clone()),
            payee_info: wire::PayeeInfo {
                identity,
                identity_type: identity_type.into(),
                name: req.payee_name.as_ref().map(|n| n.expose().clone()),
            },
            remark: Some(req.remark.clone()),
            business_params: None,
        };
        let r: wire::TransferResponse = self.call(methods::TRANSFER, &content).await?;
        let raw = r.trans_status.clone().unwrap_or_default();
        let mut t = Transfer::new(
            CHANNEL,
            req.merchant_transfer_no.clone(),
            req.amount,
            transfer_status(&raw),
            raw,
        );
        t.channel_transfer_no = r
            .order_id
            .as_deref()
            .and_then(|o| ChannelTransferNo::new(o).ok());
        t.finished_at = r.trans_date.as_deref().and_then(parse_beijing);
        Ok(t)
    }

    async fn query_transfer_inner(&self, no: &MerchantTransferNo) -> Result<Transfer> {
        let r: wire::TransferQueryResponse = self
            .call(
                methods::TRANSFER_QUERY,
                &wire::TransferQueryContent {
                    product_code: Some("TRANS_ACCOUNT_NO_PWD".into()),
                    biz_scene: Some("DIRECT_TRANSFER".into()),
                    out_biz_no: Some(no.as_str().to_owned()),
                    ..Default::default()
                },
            )
            .await?;
        let raw = r.trans_status.clone().unwrap_or_default();
        let amount = match r.trans_amount.as_deref() {
            Some(a) => parse_yuan(a, "trans_amount")?,
            None => payagg_core::Money::cny(0),
        };
        let mut t = Transfer::new(CHANNEL, no.clone(), amount, transfer_status(&raw), raw);
        t.channel_transfer_no = r
            .order_id
            .as_deref()
            .and_then(|o| ChannelTransferNo::new(o).ok());
        t.finished_at = r.pay_date.as_deref().and_then(parse_beijing);
        t.fail_reason = r.fail_reason.or(r.error_code);
        Ok(t)
    }

    /// Verifies an already-decoded notification or return-URL parameter set (see
    /// [`Gateway::verify_callback`] for raw requests).
    ///
    /// A refund notification (`out_biz_no` with `refund_fee` / `gmt_refund`) does not say how
    /// much **this** refund returned: `refund_fee` is the trade's cumulative refunded amount
    /// (brief §6.2), so after two partial refunds of 1.00 and 2.00 the second notification
    /// says 3.00. The single amount is the difference to the previous cumulative, which only the
    /// merchant's books know. Without a network call this method therefore reports such a
    /// notification as [`CallbackEvent::Other`] with `event_type` `refund_unconfirmed` and the
    /// verified fields as content (`out_biz_no`, `refund_fee`, `gmt_refund`, …), never as a
    /// [`CallbackEvent::Refund`] with the cumulative amount.
    /// [`Gateway::verify_callback`] resolves it with `alipay.trade.fastpay.refund.query`
    /// (`out_trade_no` + `out_request_no` = `out_biz_no`), whose `refund_amount` is the single
    /// refund's amount.
    ///
    /// # Errors
    ///
    /// [`Error::Verification`] for a missing or bad signature, or an `app_id` / `seller_id`
    /// that is not this app's; [`Error::Decode`] for malformed amounts.
    pub fn verify_notification_params(
        &self,
        params: &[(String, String)],
    ) -> Result<VerifiedCallback> {
        self.verify_params(params).map(|(v, _)| v)
    }

    /// Checks a notification's signature.
    ///
    /// Certificate mode: notifications carry no `alipay_cert_sn`, and the official Java SDK
    /// (`AlipaySignature.rsaCertCheckV1` / `certVerifyV1`) simply verifies with the public key
    /// of the configured `alipayCertPublicKey_RSA2.crt`; there is nothing to download by. So
    /// the configured certificate is tried first, as the SDK does; then, beyond the SDK, the
    /// rotated Alipay certificates this client has already accepted (downloaded on a
    /// response's `alipay_cert_sn`, or added with [`AlipayClient::add_alipay_certificate`]),
    /// each of which was checked to chain to the configured Alipay root. A notification no
    /// known certificate verifies fails closed with an error that says how to recover. When a
    /// notification does name an `alipay_cert_sn`, only that certificate is used.
    fn verify_notification_signature(
        &self,
        params: &[(String, String)],
        named_sn: Option<&str>,
    ) -> Result<()> {
        let bad = |detail: String| verification(VerificationKind::BadSignature, detail);
        let (configured_sn, configured_key) = match &self.config.keys {
            KeyMode::PublicKey(k) => {
                return sign::verify_notification(k, params)
                    .map(drop)
                    .map_err(|_| bad("notification signature does not verify".into()));
            }
            KeyMode::Cert {
                alipay_cert_sn,
                alipay_key,
                ..
            } => (alipay_cert_sn, alipay_key),
        };
        if let Some(sn) = named_sn.filter(|s| !s.is_empty()) {
            let key = read(&self.alipay_keys).get(sn).cloned().ok_or_else(|| {
                verification(
                    VerificationKind::UnknownKey,
                    "notification names an unknown alipay_cert_sn",
                )
                .map_presented(sn.to_owned(), "")
            })?;
            return sign::verify_notification(&key, params)
                .map(drop)
                .map_err(|_| {
                    bad(format!(
                        "notification signature does not verify with Alipay certificate {sn}"
                    ))
                });
        }
        if sign::verify_notification(configured_key, params).is_ok() {
            return Ok(());
        }
        let mut rotated: Vec<(String, RsaPublicKey)> = read(&self.alipay_keys)
            .iter()
            .filter(|(sn, _)| *sn != configured_sn)
            .map(|(sn, k)| (sn.clone(), k.clone()))
            .collect();
        rotated.sort_by(|a, b| a.0.cmp(&b.0));
        if rotated
            .iter()
            .any(|(_, k)| sign::verify_notification(k, params).is_ok())
        {
            return Ok(());
        }
        Err(bad(format!(
            "notification signature does not verify with the configured Alipay certificate \
             ({configured_sn}) nor {} rotated one(s); notifications name no certificate, so a \
             rotated one cannot be downloaded for them: if Alipay rotated its certificate, \
             install the new alipayCertPublicKey_RSA2.crt (AlipayClient::add_alipay_certificate \
             or the config), or let any API call pick it up from a response's alipay_cert_sn",
            rotated.len()
        )))
    }

    /// The verified callback, and for a refund notification the refund query that gives the
    /// single refund's amount and status.
    fn verify_params(
        &self,
        params: &[(String, String)],
    ) -> Result<(
        VerifiedCallback,
        Option<(RefundQuery, wire::TradeNotification)>,
    )> {
        let get = |k: &str| {
            params
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        if get("sign").is_none_or(str::is_empty) {
            return Err(verification(
                VerificationKind::MissingSignature,
                "notification without sign",
            ));
        }
        self.verify_notification_signature(params, get("alipay_cert_sn"))?;
        // Business cross-check on what the config knows (the caller checks order and amount
        // with Trade::check_matches).
        if let Some(app) = get("app_id")
            && app != self.config.app_id
        {
            return Err(VerificationError::new(
                CHANNEL,
                VerificationKind::BusinessMismatch,
                "app_id",
            )
            .expected(self.config.app_id.clone())
            .presented(app.to_owned())
            .into());
        }
        if let (Some(want), Some(got)) = (self.config.seller_id.as_deref(), get("seller_id"))
            && want != got
        {
            return Err(VerificationError::new(
                CHANNEL,
                VerificationKind::BusinessMismatch,
                "seller_id",
            )
            .expected(want.to_owned())
            .presented(got.to_owned())
            .into());
        }
        let ack = Self::success_ack();
        let retry = Self::failure_ack();
        let notify_type = get("notify_type").unwrap_or_default();
        let event_type = if notify_type.is_empty() {
            get("method")
                .or(get("msg_method"))
                .unwrap_or("unknown")
                .to_owned()
        } else {
            notify_type.to_owned()
        };
        let content = || {
            serde_json::Value::Object(
                params
                    .iter()
                    .filter(|(k, _)| k != "sign")
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        };
        let mut pending = None;
        let event = if notify_type == "trade_status_sync" {
            let n = wire::TradeNotification::from_params(params);
            match self.trade_event(&n)? {
                TradeEvent::Event(e) => e,
                TradeEvent::Refund(q) => {
                    pending = Some((q, n));
                    CallbackEvent::Other {
                        event_type: "refund_unconfirmed".into(),
                        content: content(),
                    }
                }
            }
        } else {
            CallbackEvent::Other {
                event_type: event_type.clone(),
                content: content(),
            }
        };
        let mut v = VerifiedCallback::new(event_type, event, ack, retry);
        if let Some(id) = get("notify_id") {
            v = v.notification_id(id);
        }
        Ok((v, pending))
    }

    /// A refund notification resolved by the refund query: the single refund's amount and
    /// status as Alipay reports them for `out_request_no` = `out_biz_no`.
    async fn resolve_refund_notification(
        &self,
        q: &RefundQuery,
        n: &wire::TradeNotification,
    ) -> Result<Refund> {
        let mut r = self.query_refund_inner(q).await?;
        fill_trade_refs(&mut r, n.out_trade_no.as_deref(), n.trade_no.as_deref());
        if r.status == payagg_core::RefundStatus::Success && r.succeeded_at.is_none() {
            r.succeeded_at = n.gmt_refund.as_deref().and_then(parse_beijing);
        }
        Ok(r)
    }

    fn trade_event(&self, n: &wire::TradeNotification) -> Result<TradeEvent> {
        let order = n
            .out_trade_no
            .as_deref()
            .and_then(|o| MerchantOrderNo::new(o).ok())
            .ok_or_else(|| decode("notification: no out_trade_no"))?;
        let trade_no = n
            .trade_no
            .as_deref()
            .and_then(|t| ChannelTradeNo::new(t).ok());
        // A refund notification: out_biz_no (the refund request) with refund fields.
        if let Some(out_biz_no) = n
            .out_biz_no
            .as_deref()
            .filter(|_| n.refund_fee.is_some() || n.gmt_refund.is_some())
        {
            // `refund_fee` is cumulative: validated here, never reported as this refund's
            // amount (see verify_notification_params).
            parse_yuan(n.refund_fee.as_deref().unwrap_or("0"), "refund_fee")?;
            let q = RefundQuery::new(MerchantRefundNo::new(out_biz_no).map_err(Error::from)?)
                .trade(TradeRef::MerchantOrderNo(order));
            return Ok(TradeEvent::Refund(q));
        }
        let raw = n.trade_status.clone().unwrap_or_default();
        let amount = parse_yuan(
            n.total_amount
                .as_deref()
                .ok_or_else(|| decode("notification: no total_amount"))?,
            "total_amount",
        )?;
        let mut t = Trade::new(CHANNEL, order, trade_status(&raw), raw, amount);
        t.channel_trade_no = trade_no;
        t.paid_at = n.gmt_payment.as_deref().and_then(parse_beijing);
        t.payer = n
            .buyer_id
            .clone()
            .or(n.buyer_open_id.clone())
            .map(Sensitive::new);
        t.payer_amount = n
            .buyer_pay_amount
            .as_deref()
            .and_then(|a| parse_yuan(a, "buyer_pay_amount").ok());
        t.app_id = n.app_id.as_deref().and_then(|a| AppId::new(a).ok());
        t.merchant_id = n.seller_id.as_deref().and_then(|s| MerchantId::new(s).ok());
        t.attach = n.passback_params.clone();
        Ok(TradeEvent::Event(CallbackEvent::Payment(t)))
    }

    async fn download_inner(&self, req: &StatementRequest) -> Result<Statement> {
        no_sub_merchant(req.sub_merchant.as_ref())?;
        if req.kind != StatementKind::AllTrades {
            return Err(Unsupported::new(CHANNEL, format!("{:?} statements", req.kind)).into());
        }
        let date = req.date;
        let bill_date = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        let r: Result<wire::BillDownloadUrlResponse> = self
            .call(
                methods::BILL_URL,
                &wire::BillDownloadUrlContent {
                    bill_type: "trade".into(),
                    bill_date,
                },
            )
            .await;
        let r = match r {
            Ok(r) => r,
            // No bill for the day: an empty statement.
            Err(e) if e.gateway_kind() == Some(GatewayErrorKind::NotFound) => {
                return Ok(Statement::new(
                    CHANNEL,
                    date,
                    req.kind,
                    Bytes::new(),
                    Arc::new(bill::GbkTradeBillParser),
                ));
            }
            Err(e) => return Err(e),
        };
        let url = r
            .bill_download_url
            .filter(|u| !u.is_empty())
            .ok_or_else(|| decode("bill download: no bill_download_url"))?;
        let get = http::Request::builder()
            .method(http::Method::GET)
            .uri(&url)
            .body(Bytes::new())
            .map_err(|e| decode(format!("bill_download_url is not a URL: {e}")))?;
        let resp = self.transport.send(get).await?;
        if resp.status() != http::StatusCode::OK {
            return Err(TransportError::after_send(format!(
                "bill download: HTTP {}",
                resp.status().as_u16()
            ))
            .into());
        }
        // The detail stays GBK: checked and later parsed line by line, never decoded whole.
        let files = bill::unzip_bill_raw(resp.body())?;
        bill::check_summary_gbk(&files)?;
        Ok(Statement::new(
            CHANNEL,
            date,
            req.kind,
            Bytes::from(files.detail),
            Arc::new(bill::GbkTradeBillParser),
        ))
    }
}

/// A `trade_status_sync` notification: a payment event, or a refund to confirm by query.
enum TradeEvent {
    Event(CallbackEvent),
    Refund(RefundQuery),
}

/// Whether `cert` is signed by an anchor (directly, or through `extra` intermediates).
fn chains_to(
    cert: &Certificate,
    extra: &[Certificate],
    anchors: &[Certificate],
    depth: u8,
) -> bool {
    if depth > 3 {
        return false;
    }
    let issuer = cert.issuer_rfc4514();
    if anchors
        .iter()
        .any(|a| a.subject_rfc4514() == issuer && cert.verify_issued_by(a).is_ok())
    {
        return true;
    }
    extra.iter().any(|i| {
        i.subject_rfc4514() == issuer
            && cert.verify_issued_by(i).is_ok()
            && chains_to(i, extra, anchors, depth + 1)
    })
}

trait Presented {
    fn map_presented(self, presented: String, expected: &str) -> Error;
}

impl Presented for Error {
    fn map_presented(self, presented: String, expected: &str) -> Error {
        match self {
            Error::Verification(v) => {
                let v = v.presented(presented);
                Error::Verification(if expected.is_empty() {
                    v
                } else {
                    v.expected(expected.to_owned())
                })
            }
            other => other,
        }
    }
}

#[async_trait]
impl Gateway for AlipayClient {
    fn channel(&self) -> payagg_core::Channel {
        CHANNEL
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(
            CHANNEL,
            [
                SceneKind::PcWeb,
                SceneKind::H5,
                SceneKind::App,
                SceneKind::MerchantQr,
                SceneKind::PaymentCode,
            ],
            [
                Operation::Pay,
                Operation::Query,
                Operation::Close,
                Operation::Refund,
                Operation::QueryRefund,
                Operation::Transfer,
                Operation::QueryTransfer,
                Operation::VerifyCallback,
                Operation::DownloadStatement,
            ],
            [StatementKind::AllTrades],
        )
    }

    async fn pay(&self, req: &PayRequest) -> Result<PayResponse> {
        self.pay_inner(req)
            .instrument(operation_span(
                CHANNEL,
                Operation::Pay,
                Some(req.merchant_order_no.as_str()),
            ))
            .await
    }

    async fn query(&self, req: &QueryRequest) -> Result<Trade> {
        let order = match &req.trade {
            TradeRef::MerchantOrderNo(o) => Some(o.as_str().to_owned()),
            _ => None,
        };
        self.query_inner(req)
            .instrument(operation_span(CHANNEL, Operation::Query, order.as_deref()))
            .await
    }

    async fn close(&self, req: &CloseRequest) -> Result<()> {
        let fut = async {
            no_sub_merchant(req.sub_merchant.as_ref())?;
            let _: wire::TradeCloseResponse = self
                .call(
                    methods::CLOSE,
                    &wire::TradeCloseContent {
                        out_trade_no: Some(req.merchant_order_no.as_str().to_owned()),
                        ..Default::default()
                    },
                )
                .await?;
            Ok(())
        };
        fut.instrument(operation_span(
            CHANNEL,
            Operation::Close,
            Some(req.merchant_order_no.as_str()),
        ))
        .await
    }

    async fn refund(&self, req: &RefundRequest) -> Result<Refund> {
        self.refund_inner(req)
            .instrument(operation_span(CHANNEL, Operation::Refund, None))
            .await
    }

    async fn query_refund(&self, req: &RefundQuery) -> Result<Refund> {
        self.query_refund_inner(req)
            .instrument(operation_span(CHANNEL, Operation::QueryRefund, None))
            .await
    }

    async fn transfer(&self, req: &TransferRequest) -> Result<Transfer> {
        self.transfer_inner(req)
            .instrument(operation_span(
                CHANNEL,
                Operation::Transfer,
                Some(req.merchant_transfer_no.as_str()),
            ))
            .await
    }

    async fn query_transfer(&self, no: &MerchantTransferNo) -> Result<Transfer> {
        self.query_transfer_inner(no)
            .instrument(operation_span(
                CHANNEL,
                Operation::QueryTransfer,
                Some(no.as_str()),
            ))
            .await
    }

    /// Verifies the notification; a refund notification is resolved with one refund query
    /// (the notification carries only the cumulative `refund_fee`, see
    /// [`AlipayClient::verify_notification_params`]). If that query fails, the error is
    /// returned: answer with the retry acknowledgement (`fail`) and Alipay sends again.
    async fn verify_callback(&self, req: &CallbackRequest) -> Result<VerifiedCallback> {
        let span = operation_span(CHANNEL, Operation::VerifyCallback, None);
        let (mut v, pending) = {
            let _entered = span.enter();
            let params = if req.method == http::Method::GET {
                form::decode_form(req.query.as_bytes())
            } else {
                form::decode_form(&req.body)
            };
            self.verify_params(&params)?
        };
        if let Some((q, n)) = pending {
            let r = self
                .resolve_refund_notification(&q, &n)
                .instrument(span)
                .await?;
            v.event = CallbackEvent::Refund(r);
        }
        Ok(v)
    }

    async fn download_statement(&self, req: &StatementRequest) -> Result<Statement> {
        self.download_inner(req)
            .instrument(operation_span(CHANNEL, Operation::DownloadStatement, None))
            .await
    }
}

/// Fills a refund's order references the refund query left empty from another answer of
/// the same trade (the refund response or the notification).
fn fill_trade_refs(r: &mut Refund, out_trade_no: Option<&str>, trade_no: Option<&str>) {
    if r.merchant_order_no.is_none() {
        r.merchant_order_no = out_trade_no.and_then(|o| MerchantOrderNo::new(o).ok());
    }
    if r.channel_trade_no.is_none() {
        r.channel_trade_no = trade_no.and_then(|t| ChannelTradeNo::new(t).ok());
    }
}
