//! [`WechatPayClient`]: the APIv3 client implementing [`Gateway`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use payagg_core::callback::{CallbackAck, CallbackEvent, CallbackRequest, VerifiedCallback};
use payagg_core::clock::{Clock, SystemClock};
use payagg_core::crypto::{NonceSource, RandomNonce, RsaPublicKey};
use payagg_core::error::{
    DecodeError, Error, InvalidInput, Result, TransportError, Unsupported, VerificationError,
    VerificationKind,
};
use payagg_core::ids::MerchantTransferNo;
use payagg_core::pay::ClientParams;
use payagg_core::statement::{Statement, StatementKind, StatementRequest};
use payagg_core::transport::{HttpTransport, ReqwestTransport};
use payagg_core::{
    Capabilities, Channel, CloseRequest, Gateway, Operation, PayAction, PayRequest, PayResponse,
    QueryRequest, Refund, RefundQuery, RefundRequest, Scene, SceneKind, SubMerchant, Trade,
    TradeRef, Transfer, TransferRequest, operation_span,
};
use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::CHANNEL;
use crate::certs::{PlatformCertificates, decrypt_certificates};
use crate::config::Config;
use crate::convert;
use crate::crypto::decrypt_resource;
use crate::sign::{self, AuthorizationHeader, encode_path_segment, encode_query_value, headers};
use crate::text::{check_opt, check_text};
use crate::verify::{PUBLIC_KEY_ID_PREFIX, SignatureHeaders, verify_signed};
use crate::wire;

mod transfers;

/// After a refresh, another unknown serial triggers a new download only this much later.
const MIN_REFRESH_INTERVAL: time::Duration = time::Duration::seconds(60);

/// While the newest platform certificate is within the refresh margin of its end, a
/// refresh ahead of expiry happens at most this often (the Java SDK's period).
const AHEAD_REFRESH_INTERVAL: time::Duration = time::Duration::hours(1);

/// The WeChat Pay APIv3 client for one merchant (or one service provider).
///
/// Cheap to share behind an `Arc`; holds the parsed keys, the platform-certificate cache and
/// the transport. Writes (`pay`, `refund`) are never retried; queries, close and statements
/// follow the configured [`payagg_core::transport::RetryPolicy`].
pub struct WechatPayClient {
    config: Config,
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    nonce: Arc<dyn NonceSource>,
    certs: Option<PlatformCertificates>,
    micropay: Option<MicropayHook>,
    last_refresh: tokio::sync::Mutex<Option<OffsetDateTime>>,
}

impl fmt::Debug for WechatPayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatPayClient")
            .field("config", &self.config)
            .field("transport", &self.transport)
            .field(
                "platform_certificates",
                &self.certs.as_ref().map(PlatformCertificates::serials),
            )
            .finish_non_exhaustive()
    }
}

/// The payment-code scene's delegate: the APIv2 micropay client and the till's IP.
#[derive(Debug, Clone)]
struct MicropayHook {
    client: Arc<crate::micropay::MicropayClient>,
    spbill_create_ip: String,
}

/// An HTTP answer that passed signature verification.
struct Verified {
    status: StatusCode,
    body: Bytes,
    /// WeChat's `Request-ID`, for support tickets.
    request_id: Option<String>,
}

impl Verified {
    /// The body as JSON; a decode error names the `Request-ID`.
    fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<Answer<T>> {
        let value = parse_json(&self.body, what)
            .map_err(|e| tag_request_id(e, self.request_id.as_deref()))?;
        Ok(Answer {
            value,
            request_id: self.request_id.clone(),
        })
    }
}

/// A decoded answer and the `Request-ID` it came with.
struct Answer<T> {
    value: T,
    request_id: Option<String>,
}

impl<T> Answer<T> {
    /// Applies `f` (the conversion into core's types); its errors name the `Request-ID`.
    fn then<U>(self, f: impl FnOnce(T) -> Result<U>) -> Result<U> {
        f(self.value).map_err(|e| tag_request_id(e, self.request_id.as_deref()))
    }
}

/// Adds WeChat's `Request-ID` to an error about an answer: on a gateway error as its field,
/// on verification and decode errors (which have no such field) in the detail text as
/// `request id …`. Other errors, and any error when there is no id, are returned unchanged.
pub(crate) fn tag_request_id(e: Error, rid: Option<&str>) -> Error {
    let Some(rid) = rid.filter(|r| !r.is_empty()) else {
        return e;
    };
    let retryable = e.is_retryable();
    match e {
        Error::Gateway(g) if g.request_id().is_none() => Error::Gateway(g.with_request_id(rid)),
        Error::Verification(v) if !v.detail().contains(rid) => {
            let unknown = Error::Verification(v.clone()).outcome_unknown();
            let mut t = VerificationError::new(
                v.channel(),
                v.kind().clone(),
                format!("{} (request id {rid})", v.detail()),
            );
            if let Some(x) = v.expected_value() {
                t = t.expected(x);
            }
            if let Some(x) = v.presented_value() {
                t = t.presented(x);
            }
            if unknown {
                t = t.after_write();
            }
            Error::Verification(t)
        }
        Error::Decode(d) if !d.what().contains(rid) => {
            let mut t = DecodeError::new(format!("{} (request id {rid})", d.what()));
            if let Some(l) = d.location() {
                t = t.at(l);
            }
            if retryable {
                t = t.retryable();
            }
            Error::Decode(t.with_source(d))
        }
        other => other,
    }
}

impl WechatPayClient {
    /// A client over the default transport (reqwest + rustls) with the configured timeouts.
    ///
    /// # Errors
    /// [`Error::Config`] when the transport or a configured certificate cannot be set up.
    pub fn new(config: Config) -> Result<Self> {
        let transport = Arc::new(ReqwestTransport::new(config.timeouts)?);
        Self::with_transport(config, transport)
    }

    /// A client over `transport`.
    ///
    /// # Errors
    /// [`Error::Config`] when a configured platform certificate cannot be used.
    pub fn with_transport(config: Config, transport: Arc<dyn HttpTransport>) -> Result<Self> {
        let certs = match &config.platform_certificates {
            Some(c) => Some(PlatformCertificates::new(c)?),
            None => None,
        };
        Ok(Self {
            config,
            transport,
            clock: Arc::new(SystemClock),
            nonce: Arc::new(RandomNonce),
            certs,
            micropay: None,
            last_refresh: tokio::sync::Mutex::new(None),
        })
    }

    /// Use `clock` for request timestamps and the replay window.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Use `nonce` for request and client-parameter nonces.
    #[must_use]
    pub fn with_nonce_source(mut self, nonce: Arc<dyn NonceSource>) -> Self {
        self.nonce = nonce;
        self
    }

    /// Serve the payment-code scene ([`Scene::PaymentCode`]) through the APIv2 micropay
    /// flow (pay, poll, reverse) of `micropay`, reporting `spbill_create_ip` as the till's IP.
    /// Without it the scene is [`Error::Unsupported`].
    #[must_use]
    pub fn with_micropay(
        mut self,
        micropay: Arc<crate::micropay::MicropayClient>,
        spbill_create_ip: impl Into<String>,
    ) -> Self {
        self.micropay = Some(MicropayHook {
            client: micropay,
            spbill_create_ip: spbill_create_ip.into(),
        });
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The serials of the platform certificates currently cached.
    #[must_use]
    pub fn platform_certificate_serials(&self) -> Vec<String> {
        self.certs
            .as_ref()
            .map(PlatformCertificates::serials)
            .unwrap_or_default()
    }

    /// The ack to send when a callback failed verification or could not be booked: WeChat
    /// resends later (never answer a probe or a bad signature with 200).
    #[must_use]
    pub fn failure_ack() -> CallbackAck {
        CallbackAck::new(
            500,
            Some("application/json"),
            r#"{"code":"FAIL","message":"失败"}"#,
        )
    }

    fn success_ack() -> CallbackAck {
        CallbackAck::new(204, None, "")
    }

    // ---------------------------------------------------------------- keys and verification

    fn key_for(&self, serial: &str, now: OffsetDateTime) -> Option<RsaPublicKey> {
        if let Some((id, key)) = &self.config.public_key
            && id == serial
        {
            return Some(key.clone());
        }
        self.certs.as_ref().and_then(|c| c.key(serial, now))
    }

    fn known_keys(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .config
            .public_key
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        v.extend(self.platform_certificate_serials());
        v
    }

    /// The `Wechatpay-Serial` to send: the public key id when verifying with it, else the
    /// newest platform certificate serial.
    fn accept_serial(&self, now: OffsetDateTime) -> Option<String> {
        match &self.config.public_key {
            Some((id, _)) => Some(id.clone()),
            None => self.certs.as_ref().and_then(|c| c.newest_serial(now)),
        }
    }

    /// Verifies a signed answer or callback; on an unknown platform serial downloads the
    /// certificates once (rate-limited) and tries again.
    async fn verify(&self, hdrs: &http::HeaderMap, body: &[u8]) -> Result<()> {
        let sh = SignatureHeaders::from_headers(hdrs)?;
        let window = self.config.window;
        let first = verify_signed(
            &sh,
            body,
            self.clock.now(),
            window,
            |s| self.key_for(s, self.clock.now()),
            || self.known_keys(),
        );
        match first {
            Err(e)
                if e.kind() == &VerificationKind::UnknownKey
                    && self.certs.is_some()
                    && !sh.serial.starts_with(PUBLIC_KEY_ID_PREFIX) =>
            {
                // Refresh unless one just happened; either way look again, since a
                // concurrent caller may have refreshed while we waited for the lock.
                if let Err(err) = self.refresh_certificates_if_due().await {
                    tracing::warn!(error = %err, "platform certificate refresh failed");
                }
                let now = self.clock.now();
                verify_signed(
                    &sh,
                    body,
                    now,
                    window,
                    |s| self.key_for(s, now),
                    || self.known_keys(),
                )?;
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// Downloads the platform certificates when the one that expires last ends within the
    /// configured margin ([`crate::ConfigBuilder::certificate_refresh_margin`]), at most once
    /// per [`AHEAD_REFRESH_INTERVAL`]. Never fails: the certificates held are still valid.
    /// An empty cache is left to the first unknown serial (bootstrap).
    async fn refresh_ahead_of_expiry(&self) {
        let Some(store) = &self.certs else { return };
        let now = self.clock.now();
        let Some(latest) = store.latest_expiry() else {
            return;
        };
        if latest - now > self.config.refresh_margin {
            return;
        }
        // Another caller is refreshing: go on with what is held.
        let Ok(mut last) = self.last_refresh.try_lock() else {
            return;
        };
        if let Some(t) = *last
            && now - t < AHEAD_REFRESH_INTERVAL
        {
            return;
        }
        *last = Some(now);
        tracing::info!(expires = %latest, "platform certificate nearing its end; refreshing");
        if let Err(e) = self.download_certificates().await {
            tracing::warn!(error = %e, "platform certificate refresh ahead of expiry failed");
        }
    }

    async fn refresh_certificates_if_due(&self) -> Result<()> {
        let mut last = self.last_refresh.lock().await;
        let now = self.clock.now();
        if let Some(t) = *last
            && now - t < MIN_REFRESH_INTERVAL
        {
            return Ok(());
        }
        *last = Some(now);
        self.download_certificates().await?;
        Ok(())
    }

    /// Downloads `/v3/certificates`, decrypts them with the APIv3 key, verifies the answer's
    /// signature (with a held key or one of the downloaded certificates) and adds them to the
    /// cache. Returns the serials now held.
    ///
    /// # Errors
    /// Transport, gateway (`RESOURCE_NOT_EXISTS` for public-key-only merchants), decryption
    /// and verification errors.
    pub async fn refresh_platform_certificates(&self) -> Result<Vec<String>> {
        *self.last_refresh.lock().await = Some(self.clock.now());
        self.download_certificates().await?;
        Ok(self.platform_certificate_serials())
    }

    async fn download_certificates(&self) -> Result<()> {
        let span = tracing::info_span!(
            "payagg",
            channel = CHANNEL.as_str(),
            operation = "download_certificates"
        );
        async {
            let Some(store) = &self.certs else {
                return Err(
                    Unsupported::new(CHANNEL, "platform certificates (public-key mode)").into(),
                );
            };
            let resp = self
                .send_raw(
                    Method::GET,
                    "/v3/certificates?algorithm_type=RSA",
                    None,
                    "application/json",
                )
                .await?;
            if !resp.status().is_success() {
                return Err(crate::error::from_response(
                    resp.status().as_u16(),
                    resp.body(),
                    request_id(resp.headers()),
                ));
            }
            let rid = request_id(resp.headers());
            let tag = |e: Error| tag_request_id(e, rid);
            let certs =
                decrypt_certificates(resp.body(), |r| decrypt_resource(&self.config.apiv3_key, r))
                    .map_err(tag)?;
            let now = self.clock.now();
            // Authenticate the answer with a key we hold or one of the certificates whose
            // decryption with the APIv3 key just proved them genuine.
            let sh = SignatureHeaders::from_headers(resp.headers()).map_err(|e| tag(e.into()))?;
            let lookup = |s: &str| {
                self.key_for(s, now).or_else(|| {
                    certs
                        .iter()
                        .find(|c| c.serial_hex_upper().eq_ignore_ascii_case(s))
                        .and_then(|c| c.public_key().ok())
                })
            };
            verify_signed(&sh, resp.body(), now, self.config.window, lookup, || {
                let mut k = self.known_keys();
                k.extend(
                    certs
                        .iter()
                        .map(payagg_core::crypto::Certificate::serial_hex_upper),
                );
                k
            })
            .map_err(|e| tag(e.into()))?;
            store.merge(&certs, now)?;
            tracing::info!(serials = ?store.serials(), "platform certificates refreshed");
            Ok(())
        }
        .instrument(span)
        .await
    }

    // ---------------------------------------------------------------- HTTP

    /// Signs and sends one request; returns the raw answer (not yet verified).
    async fn send_raw(
        &self,
        method: Method,
        target: &str,
        body: Option<Vec<u8>>,
        accept: &'static str,
    ) -> Result<http::Response<Bytes>> {
        self.send_signed(method, target, body, accept, None).await
    }

    /// Like [`Self::send_raw`], announcing `serial` in `Wechatpay-Serial` (the key a
    /// sensitive field was encrypted with) instead of the default.
    async fn send_signed(
        &self,
        method: Method,
        target: &str,
        body: Option<Vec<u8>>,
        accept: &'static str,
        serial: Option<&str>,
    ) -> Result<http::Response<Bytes>> {
        let url = if target.starts_with("http://") || target.starts_with("https://") {
            target.to_owned()
        } else {
            format!("{}{target}", self.config.base_url)
        };
        let uri: http::Uri = url.parse().map_err(|_| {
            Error::from(InvalidInput::new(
                "url",
                format!("{url:?} is not a valid URI"),
            ))
        })?;
        let canonical = sign::canonical_url(&uri);
        let now = self.clock.now();
        let timestamp = now.unix_timestamp().to_string();
        let nonce = self.nonce.nonce();
        let body = body.unwrap_or_default();
        let auth = AuthorizationHeader::sign(
            &self.config.signing_key,
            self.config.mchid.as_str(),
            &self.config.merchant_serial,
            method.as_str(),
            &canonical,
            &timestamp,
            &nonce,
            &body,
        );
        let mut auth_value = HeaderValue::from_str(&auth.to_header_value()).map_err(|_| {
            Error::from(InvalidInput::new(
                "authorization",
                "not a valid header value",
            ))
        })?;
        auth_value.set_sensitive(true);
        let mut b = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::AUTHORIZATION, auth_value)
            .header(http::header::ACCEPT, accept)
            .header(http::header::USER_AGENT, self.config.user_agent.as_str());
        if !body.is_empty() {
            b = b.header(http::header::CONTENT_TYPE, "application/json");
        }
        if let Some(serial) = serial
            .map(str::to_owned)
            .or_else(|| self.accept_serial(now))
        {
            b = b.header(headers::SERIAL, serial);
        }
        let req = b.body(Bytes::from(body)).map_err(|e| {
            Error::from(TransportError::not_sent("cannot build the request").with_source(e))
        })?;
        self.transport.send(req).await
    }

    /// Sends a signed request and verifies the answer: every 2xx must be signed (including
    /// an empty 204); other statuses become gateway errors.
    async fn call(&self, method: Method, target: &str, body: Option<Vec<u8>>) -> Result<Verified> {
        self.call_with_serial(method, target, body, None).await
    }

    /// [`Self::call`] announcing `serial` (see [`Self::send_signed`]).
    async fn call_with_serial(
        &self,
        method: Method,
        target: &str,
        body: Option<Vec<u8>>,
        serial: Option<&str>,
    ) -> Result<Verified> {
        // An answer to a write that fails verification leaves the write's outcome unknown.
        let is_write = method != Method::GET;
        self.refresh_ahead_of_expiry().await;
        let resp = self
            .send_signed(method, target, body, "application/json", serial)
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(crate::error::from_response(
                status.as_u16(),
                resp.body(),
                request_id(resp.headers()),
            ));
        }
        let rid = request_id(resp.headers()).map(str::to_owned);
        self.verify(resp.headers(), resp.body())
            .await
            .map_err(|e| {
                let e = tag_request_id(e, rid.as_deref());
                if is_write { e.after_write() } else { e }
            })?;
        if status == StatusCode::ACCEPTED {
            // "请使用原参数重复请求一遍": accepted but not processed.
            return Err(payagg_core::error::GatewayError::new(
                CHANNEL,
                payagg_core::GatewayErrorKind::SystemError,
                "ACCEPTED",
                "accepted but not processed; repeat with the same parameters",
            )
            .with_http_status(202)
            .into())
            .map_err(|e| tag_request_id(e, rid.as_deref()));
        }
        Ok(Verified {
            status,
            body: resp.into_body(),
            request_id: rid,
        })
    }

    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        op: Operation,
        method: Method,
        target: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer<T>> {
        let v = self
            .config
            .retry
            .run(op, || self.call(method.clone(), target, body.clone()))
            .await?;
        v.json(target)
    }

    // ---------------------------------------------------------------- helpers

    fn partner_sub<'a>(&self, sub: Option<&'a SubMerchant>) -> Result<Option<&'a SubMerchant>> {
        match (self.config.partner, sub) {
            (true, Some(s)) => Ok(Some(s)),
            (true, None) => {
                Err(InvalidInput::new("sub_merchant", "partner mode needs a sub-merchant").into())
            }
            (false, Some(_)) => Err(InvalidInput::new(
                "sub_merchant",
                "a sub-merchant needs a partner (service provider) configuration",
            )
            .into()),
            (false, None) => Ok(None),
        }
    }

    /// `?mchid=…` or `?sp_mchid=…&sub_mchid=…`.
    fn merchant_query(&self, sub: Option<&SubMerchant>) -> String {
        match sub {
            Some(s) => format!(
                "sp_mchid={}&sub_mchid={}",
                encode_query_value(self.config.mchid.as_str()),
                encode_query_value(s.merchant_id.as_str())
            ),
            None => format!("mchid={}", encode_query_value(self.config.mchid.as_str())),
        }
    }

    fn tx_prefix(&self) -> &'static str {
        if self.config.partner {
            "/v3/pay/partner/transactions"
        } else {
            "/v3/pay/transactions"
        }
    }

    fn timestamp_and_nonce(&self) -> (String, String) {
        (
            self.clock.now().unix_timestamp().to_string(),
            self.nonce.nonce(),
        )
    }

    /// Payment-code (micropay) scene: delegates to the [`crate::micropay::MicropayClient`]
    /// given to [`WechatPayClient::with_micropay`]; unsupported without one.
    async fn pay_payment_code(&self, req: &PayRequest) -> Result<PayResponse> {
        let Some(hook) = &self.micropay else {
            return Err(Unsupported::new(
                CHANNEL,
                "the payment code scene (configure it with WechatPayClient::with_micropay)",
            )
            .into());
        };
        let Scene::PaymentCode { auth_code } = &req.scene else {
            return Err(InvalidInput::new("scene", "not a payment code scene").into());
        };
        if req.sub_merchant.is_some() {
            return Err(InvalidInput::new(
                "sub_merchant",
                "set the sub-merchant on the MicropayConfig for payment codes",
            )
            .into());
        }
        let mut mreq = crate::micropay::MicropayRequest::new(
            req.merchant_order_no.clone(),
            req.amount,
            req.description.clone(),
            auth_code.expose().clone(),
            hook.spbill_create_ip.clone(),
        )?;
        if let Some(a) = &req.attach {
            mreq = mreq.attach(a.clone());
        }
        let trade = hook.client.pay(&mreq).await?;
        let channel_ref = trade
            .channel_trade_no
            .as_ref()
            .map(|n| n.as_str().to_owned());
        let action = if trade.status == payagg_core::TradeStatus::Success {
            PayAction::Completed(trade)
        } else {
            PayAction::Pending(trade)
        };
        let resp = PayResponse::new(req.merchant_order_no.clone(), action);
        Ok(match channel_ref {
            Some(r) => resp.channel_ref(r),
            None => resp,
        })
    }

    async fn prepay(&self, req: &PayRequest) -> Result<PayResponse> {
        let sub = self.partner_sub(req.sub_merchant.as_ref())?;
        req.merchant_order_no.check_channel_rule(
            6,
            32,
            |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*' | '|'),
            "WeChat out_trade_no",
        )?;
        if req.description.chars().count() > 127 {
            return Err(
                InvalidInput::new("description", "WeChat allows at most 127 characters").into(),
            );
        }
        check_text("description", &req.description)?;
        check_opt("attach", req.attach.as_deref())?;
        let notify_url = req
            .notify_url
            .clone()
            .or_else(|| self.config.notify_url.clone())
            .ok_or_else(|| {
                InvalidInput::new("notify_url", "set it on the request or in the config")
            })?;
        let mut body = wire::PrepayRequest {
            description: req.description.clone(),
            out_trade_no: req.merchant_order_no.as_str().to_owned(),
            time_expire: req.expires_at.map(convert::time_to_wire).transpose()?,
            attach: req.attach.clone(),
            notify_url,
            amount: wire::Amount {
                total: convert::amount_to_wire(req.amount, "amount")?,
                currency: Some("CNY".into()),
            },
            ..Default::default()
        };
        let (mchid, appid) = (
            self.config.mchid.as_str().to_owned(),
            self.config.appid.as_str().to_owned(),
        );
        let sub_appid = sub
            .and_then(|s| s.app_id.as_ref())
            .map(|a| a.as_str().to_owned());
        match sub {
            Some(s) => {
                body.sp_mchid = Some(mchid.clone());
                body.sp_appid = Some(appid.clone());
                body.sub_mchid = Some(s.merchant_id.as_str().to_owned());
                body.sub_appid.clone_from(&sub_appid);
            }
            None => {
                body.mchid = Some(mchid.clone());
                body.appid = Some(appid.clone());
            }
        }
        // The app id the payer's client runs under: the sub-merchant's when it has one.
        let client_appid = sub_appid.clone().unwrap_or_else(|| appid.clone());
        let (api, kind) = match &req.scene {
            Scene::MerchantQr => ("native", SceneKind::MerchantQr),
            Scene::Jsapi { payer_id } | Scene::MiniProgram { payer_id } => {
                let openid = payer_id.expose().clone();
                body.payer = Some(match (sub, &sub_appid) {
                    (None, _) => wire::Payer {
                        openid: Some(openid),
                        ..Default::default()
                    },
                    (Some(_), Some(_)) => wire::Payer {
                        sub_openid: Some(openid),
                        ..Default::default()
                    },
                    (Some(_), None) => wire::Payer {
                        sp_openid: Some(openid),
                        ..Default::default()
                    },
                });
                ("jsapi", req.scene.kind())
            }
            Scene::App => ("app", SceneKind::App),
            Scene::H5 { payer_client_ip } => {
                let ip = payer_client_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .ok_or_else(|| {
                        InvalidInput::new("payer_client_ip", "WeChat H5 requires the payer's IP")
                    })?;
                body.scene_info = Some(wire::SceneInfo {
                    payer_client_ip: ip,
                    h5_info: Some(wire::H5Info {
                        kind: "Wap".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                ("h5", SceneKind::H5)
            }
            Scene::PaymentCode { .. } => return self.pay_payment_code(req).await,
            other => {
                return Err(
                    Unsupported::new(CHANNEL, format!("the {} scene", other.kind())).into(),
                );
            }
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| {
            Error::from(DecodeError::new("prepay request serialization").with_source(e))
        })?;
        let target = format!("{}/{api}", self.tx_prefix());
        let answer = self
            .call_json::<wire::PrepayResponse>(Operation::Pay, Method::POST, &target, Some(bytes))
            .await?;
        let rid = answer.request_id;
        let resp = answer.value;
        let order = req.merchant_order_no.clone();
        let missing = |f: &str| {
            tag_request_id(
                Error::from(DecodeError::new(format!("prepay answer without {f}"))),
                rid.as_deref(),
            )
        };
        Ok(match kind {
            SceneKind::MerchantQr => {
                let code_url = resp.code_url.ok_or_else(|| missing("code_url"))?;
                PayResponse::new(order, PayAction::ShowQrCode { code_url })
            }
            SceneKind::H5 => {
                let mut url = resp.h5_url.ok_or_else(|| missing("h5_url"))?;
                if let Some(r) = &req.return_url {
                    url.push_str("&redirect_url=");
                    url.push_str(&encode_query_value(r));
                }
                PayResponse::new(order, PayAction::Redirect { url })
            }
            SceneKind::App => {
                let prepay_id = resp.prepay_id.ok_or_else(|| missing("prepay_id"))?;
                let params = self.app_params(&client_appid, &prepay_id);
                PayResponse::new(order, PayAction::App(params)).channel_ref(prepay_id)
            }
            _ => {
                let prepay_id = resp.prepay_id.ok_or_else(|| missing("prepay_id"))?;
                let params = self.jsapi_params(&client_appid, &prepay_id);
                PayResponse::new(order, PayAction::Jsapi(params)).channel_ref(prepay_id)
            }
        })
    }

    /// Signed parameters for `wx.requestPayment` / `WeixinJSBridge` for `prepay_id`:
    /// `appId, timeStamp, nonceStr, package, signType, paySign`.
    #[must_use]
    pub fn jsapi_params(&self, app_id: &str, prepay_id: &str) -> ClientParams {
        let (ts, nonce) = self.timestamp_and_nonce();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign =
            sign::jsapi_pay_sign(&self.config.signing_key, app_id, &ts, &nonce, &package);
        ClientParams::new(vec![
            ("appId".into(), app_id.to_owned()),
            ("timeStamp".into(), ts),
            ("nonceStr".into(), nonce),
            ("package".into(), package),
            ("signType".into(), "RSA".into()),
            ("paySign".into(), pay_sign),
        ])
    }

    /// Signed parameters for the App SDK's `PayReq` for `prepay_id`:
    /// `appid, partnerid, prepayid, package, noncestr, timestamp, sign`.
    #[must_use]
    pub fn app_params(&self, app_id: &str, prepay_id: &str) -> ClientParams {
        let (ts, nonce) = self.timestamp_and_nonce();
        let sig = sign::app_pay_sign(&self.config.signing_key, app_id, &ts, &nonce, prepay_id);
        ClientParams::new(vec![
            ("appid".into(), app_id.to_owned()),
            ("partnerid".into(), self.config.mchid.as_str().to_owned()),
            ("prepayid".into(), prepay_id.to_owned()),
            ("package".into(), "Sign=WXPay".into()),
            ("noncestr".into(), nonce),
            ("timestamp".into(), ts),
            ("sign".into(), sig),
        ])
    }

    async fn do_download(&self, req: &StatementRequest) -> Result<Statement> {
        let sub = self.partner_sub(req.sub_merchant.as_ref())?;
        let date = req.date;
        let bill_date = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        let target = match req.kind {
            StatementKind::FundFlow => {
                if sub.is_some() {
                    return Err(Unsupported::new(CHANNEL, "sub-merchant fund-flow bills").into());
                }
                format!(
                    "/v3/bill/fundflowbill?bill_date={bill_date}&account_type=BASIC&tar_type=GZIP"
                )
            }
            kind => {
                let bill_type = match kind {
                    StatementKind::SuccessfulTrades => "SUCCESS",
                    StatementKind::Refunds => "REFUND",
                    _ => "ALL",
                };
                let sub_q = sub
                    .map(|s| format!("&sub_mchid={}", encode_query_value(s.merchant_id.as_str())))
                    .unwrap_or_default();
                format!(
                    "/v3/bill/tradebill?bill_date={bill_date}{sub_q}&bill_type={bill_type}&tar_type=GZIP"
                )
            }
        };
        let parser: Arc<dyn payagg_core::statement::StatementParser> = match req.kind {
            StatementKind::FundFlow => Arc::new(crate::bill::FundFlowBillParser::new()),
            _ => Arc::new(crate::bill::TradeBillParser::new()),
        };
        let apply = self
            .config
            .retry
            .run(Operation::DownloadStatement, || {
                self.call(Method::GET, &target, None)
            })
            .await;
        let apply: Answer<wire::BillResponse> = match apply {
            Ok(v) => v.json(&target)?,
            Err(e)
                if e.gateway_code().is_some_and(|c| {
                    c.replace('_', "").eq_ignore_ascii_case("NOSTATEMENTEXIST")
                }) =>
            {
                return Ok(Statement::new(
                    CHANNEL,
                    date,
                    req.kind,
                    Bytes::new(),
                    parser,
                ));
            }
            Err(e) => return Err(e),
        };
        let apply = apply.then(|apply| {
            if !apply.hash_type.eq_ignore_ascii_case("SHA1") {
                return Err(DecodeError::new(format!(
                    "bill hash_type {:?} (expected SHA1)",
                    apply.hash_type
                ))
                .into());
            }
            self.check_download_url(&apply.download_url)?;
            Ok(apply)
        })?;
        let (file, file_rid) = self
            .config
            .retry
            .run(Operation::DownloadStatement, || async {
                let resp = self
                    .send_raw(Method::GET, &apply.download_url, None, "*/*")
                    .await?;
                if !resp.status().is_success() {
                    return Err(crate::error::from_response(
                        resp.status().as_u16(),
                        resp.body(),
                        request_id(resp.headers()),
                    ));
                }
                let rid = request_id(resp.headers()).map(str::to_owned);
                Ok((resp.into_body(), rid))
            })
            .await?;
        // Requested with tar_type=GZIP; accept a plain file too (gzip magic decides).
        let gz = file.starts_with(&[0x1f, 0x8b]);
        let raw = crate::bill::decode_download(file, &apply.hash_value, gz)
            .map_err(|e| tag_request_id(e, file_rid.as_deref()))?;
        Ok(Statement::new(CHANNEL, date, req.kind, raw, parser))
    }

    /// The download URL must point at the configured endpoint's scheme and host, so the
    /// signed request never goes elsewhere.
    fn check_download_url(&self, url: &str) -> Result<()> {
        let got: http::Uri = url
            .parse()
            .map_err(|_| DecodeError::new(format!("download_url {url:?} is not a URI")))?;
        let base: http::Uri = self
            .config
            .base_url
            .parse()
            .map_err(|_| InvalidInput::new("base_url", "not a URI"))?;
        if got.scheme() != base.scheme() || got.authority() != base.authority() {
            return Err(VerificationError::new(
                CHANNEL,
                VerificationKind::BusinessMismatch,
                "download_url host",
            )
            .expected(self.config.base_url.clone())
            .presented(url.to_owned())
            .into());
        }
        Ok(())
    }

    async fn do_verify_callback(&self, req: &CallbackRequest) -> Result<VerifiedCallback> {
        self.refresh_ahead_of_expiry().await;
        self.verify(&req.headers, &req.body).await?;
        let env: wire::NotifyEnvelope = parse_json(&req.body, "notification")?;
        let plain = decrypt_resource(&self.config.apiv3_key, &env.resource)?;
        let event = match env.event_type.as_str() {
            "TRANSACTION.SUCCESS" => {
                let t: wire::Transaction = parse_json(&plain, "transaction resource")?;
                CallbackEvent::Payment(convert::trade_from_wire(&t)?)
            }
            "REFUND.SUCCESS" | "REFUND.ABNORMAL" | "REFUND.CLOSED" => {
                let r: wire::RefundNotification = parse_json(&plain, "refund resource")?;
                CallbackEvent::Refund(convert::refund_from_notification(&r)?)
            }
            "MCHTRANSFER.BILL.FINISHED" => {
                let b: wire::TransferBill = parse_json(&plain, "transfer bill resource")?;
                CallbackEvent::Transfer(convert::transfer_from_bill(&b)?)
            }
            other => {
                let content = serde_json::from_slice(&plain).unwrap_or_else(|_| {
                    serde_json::Value::String(String::from_utf8_lossy(&plain).into_owned())
                });
                CallbackEvent::Other {
                    event_type: other.to_owned(),
                    content,
                }
            }
        };
        Ok(VerifiedCallback::new(
            env.event_type.clone(),
            event,
            Self::success_ack(),
            Self::failure_ack(),
        )
        .notification_id(env.id))
    }
}

fn request_id(h: &http::HeaderMap) -> Option<&str> {
    h.get(headers::REQUEST_ID).and_then(|v| v.to_str().ok())
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::from(DecodeError::new(format!("{what}: JSON")).with_source(e)))
}

#[async_trait]
impl Gateway for WechatPayClient {
    fn channel(&self) -> Channel {
        CHANNEL
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(
            CHANNEL,
            [
                SceneKind::MerchantQr,
                SceneKind::Jsapi,
                SceneKind::MiniProgram,
                SceneKind::App,
                SceneKind::H5,
            ]
            .into_iter()
            .chain(self.micropay.is_some().then_some(SceneKind::PaymentCode)),
            [
                Operation::Pay,
                Operation::Query,
                Operation::Close,
                Operation::Refund,
                Operation::QueryRefund,
                Operation::VerifyCallback,
                Operation::DownloadStatement,
            ]
            .into_iter()
            .chain(
                (!self.config.partner)
                    .then_some([Operation::Transfer, Operation::QueryTransfer])
                    .into_iter()
                    .flatten(),
            ),
            [
                StatementKind::AllTrades,
                StatementKind::SuccessfulTrades,
                StatementKind::Refunds,
                StatementKind::FundFlow,
            ],
        )
    }

    async fn pay(&self, req: &PayRequest) -> Result<PayResponse> {
        let span = operation_span(
            CHANNEL,
            Operation::Pay,
            Some(req.merchant_order_no.as_str()),
        );
        match req.scene {
            Scene::PaymentCode { .. } => self.pay_payment_code(req).instrument(span).await,
            _ => self.prepay(req).instrument(span).await,
        }
    }

    async fn query(&self, req: &QueryRequest) -> Result<Trade> {
        let order = match &req.trade {
            TradeRef::MerchantOrderNo(n) => Some(n.as_str()),
            TradeRef::ChannelTradeNo(_) => None,
        };
        let span = operation_span(CHANNEL, Operation::Query, order);
        async {
            let sub = self.partner_sub(req.sub_merchant.as_ref())?;
            let path = match &req.trade {
                TradeRef::MerchantOrderNo(n) => {
                    format!("out-trade-no/{}", encode_path_segment(n.as_str()))
                }
                TradeRef::ChannelTradeNo(n) => format!("id/{}", encode_path_segment(n.as_str())),
            };
            let target = format!("{}/{path}?{}", self.tx_prefix(), self.merchant_query(sub));
            self.call_json::<wire::Transaction>(Operation::Query, Method::GET, &target, None)
                .await?
                .then(|t| convert::trade_from_wire(&t))
        }
        .instrument(span)
        .await
    }

    async fn close(&self, req: &CloseRequest) -> Result<()> {
        let span = operation_span(
            CHANNEL,
            Operation::Close,
            Some(req.merchant_order_no.as_str()),
        );
        async {
            let sub = self.partner_sub(req.sub_merchant.as_ref())?;
            let body = match sub {
                Some(s) => wire::CloseRequest {
                    sp_mchid: Some(self.config.mchid.as_str().to_owned()),
                    sub_mchid: Some(s.merchant_id.as_str().to_owned()),
                    ..Default::default()
                },
                None => wire::CloseRequest {
                    mchid: Some(self.config.mchid.as_str().to_owned()),
                    ..Default::default()
                },
            };
            let bytes = serde_json::to_vec(&body).map_err(|e| {
                Error::from(DecodeError::new("close request serialization").with_source(e))
            })?;
            let target = format!(
                "{}/out-trade-no/{}/close",
                self.tx_prefix(),
                encode_path_segment(req.merchant_order_no.as_str())
            );
            let v = self
                .config
                .retry
                .run(Operation::Close, || {
                    self.call(Method::POST, &target, Some(bytes.clone()))
                })
                .await?;
            tracing::debug!(status = v.status.as_u16(), "closed");
            Ok(())
        }
        .instrument(span)
        .await
    }

    async fn refund(&self, req: &RefundRequest) -> Result<Refund> {
        let order = match &req.trade {
            TradeRef::MerchantOrderNo(n) => Some(n.as_str()),
            TradeRef::ChannelTradeNo(_) => None,
        };
        let span = operation_span(CHANNEL, Operation::Refund, order);
        async {
            let sub = self.partner_sub(req.sub_merchant.as_ref())?;
            if req.reason.as_ref().is_some_and(|r| r.chars().count() > 80) {
                return Err(
                    InvalidInput::new("reason", "WeChat allows at most 80 characters").into(),
                );
            }
            check_opt("reason", req.reason.as_deref())?;
            let (transaction_id, out_trade_no) = match &req.trade {
                TradeRef::MerchantOrderNo(n) => (None, Some(n.as_str().to_owned())),
                TradeRef::ChannelTradeNo(n) => (Some(n.as_str().to_owned()), None),
            };
            let body = wire::RefundCreateRequest {
                sub_mchid: sub.map(|s| s.merchant_id.as_str().to_owned()),
                transaction_id,
                out_trade_no,
                out_refund_no: req.merchant_refund_no.as_str().to_owned(),
                reason: req.reason.clone(),
                notify_url: req
                    .notify_url
                    .clone()
                    .or_else(|| self.config.refund_notify_url.clone()),
                funds_account: None,
                amount: wire::RefundCreateAmount {
                    refund: convert::amount_to_wire(req.amount, "amount")?,
                    from: None,
                    total: convert::amount_to_wire(req.order_total, "order_total")?,
                    currency: "CNY".into(),
                },
            };
            let bytes = serde_json::to_vec(&body).map_err(|e| {
                Error::from(DecodeError::new("refund request serialization").with_source(e))
            })?;
            self.call_json::<wire::RefundResponse>(
                Operation::Refund,
                Method::POST,
                "/v3/refund/domestic/refunds",
                Some(bytes),
            )
            .await?
            .then(|r| convert::refund_from_wire(&r))
        }
        .instrument(span)
        .await
    }

    async fn query_refund(&self, req: &RefundQuery) -> Result<Refund> {
        let span = operation_span(CHANNEL, Operation::QueryRefund, None);
        async {
            let sub = self.partner_sub(req.sub_merchant.as_ref())?;
            let mut target = format!(
                "/v3/refund/domestic/refunds/{}",
                encode_path_segment(req.merchant_refund_no.as_str())
            );
            if let Some(s) = sub {
                target.push_str("?sub_mchid=");
                target.push_str(&encode_query_value(s.merchant_id.as_str()));
            }
            self.call_json::<wire::RefundResponse>(
                Operation::QueryRefund,
                Method::GET,
                &target,
                None,
            )
            .await?
            .then(|r| convert::refund_from_wire(&r))
        }
        .instrument(span)
        .await
    }

    async fn transfer(&self, req: &TransferRequest) -> Result<Transfer> {
        self.create_transfer_bill(&crate::transfer::TransferBillRequest::new(req.clone()))
            .await
    }

    async fn query_transfer(&self, no: &MerchantTransferNo) -> Result<Transfer> {
        self.query_transfer_bill(no).await
    }

    async fn verify_callback(&self, req: &CallbackRequest) -> Result<VerifiedCallback> {
        let span = operation_span(CHANNEL, Operation::VerifyCallback, None);
        self.do_verify_callback(req).instrument(span).await
    }

    async fn download_statement(&self, req: &StatementRequest) -> Result<Statement> {
        let span = operation_span(CHANNEL, Operation::DownloadStatement, None);
        self.do_download(req).instrument(span).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::doc_support::TEST_KEY_PEM;
    use crate::test_vectors::{aes128, cases, file, s};
    use payagg_core::clock::ManualClock;
    use payagg_core::test_util::FakeTransport;

    fn callback_request(c: &serde_json::Value) -> CallbackRequest {
        let mut h = http::HeaderMap::new();
        for (k, v) in c["inputs"]["headers"].as_object().unwrap() {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.as_str().unwrap().parse().unwrap(),
            );
        }
        CallbackRequest::post(h, s(c, "inputs.body").to_owned())
    }

    /// `notify_verify_decrypt`: 32-byte-key cases go through `verify_callback` end to end;
    /// the wechatpay-go case (16-byte key, which payagg refuses to configure) checks the
    /// signature with payagg's verifier and the plaintext with AES-128-GCM.
    #[tokio::test]
    async fn notify_verify_decrypt_vectors() {
        let Some((dir, cases)) = cases("notify_verify_decrypt_vectors", "notify_verify_decrypt")
        else {
            return;
        };
        for c in &cases {
            let cert_file = c["inputs"]["platform_certificate_file"]
                .as_str()
                .unwrap_or_else(|| s(c, "inputs.certificate_file"));
            let cert_pem = file(&dir, cert_file);
            let apiv3 = s(c, "inputs.apiv3_key");
            let ts: i64 = s(c, "inputs.headers.Wechatpay-Timestamp").parse().unwrap();
            let now = OffsetDateTime::from_unix_timestamp(ts).unwrap();
            let req = callback_request(c);
            let Ok(key) = apiv3.parse::<payagg_core::crypto::SecretKey32>() else {
                let cert = payagg_core::crypto::Certificate::from_pem(&cert_pem).unwrap();
                let pk = cert.public_key().unwrap();
                let sh = SignatureHeaders::from_headers(&req.headers).unwrap();
                verify_signed(
                    &sh,
                    &req.body,
                    now,
                    crate::verify::DEFAULT_WINDOW,
                    |_| Some(pk.clone()),
                    Vec::new,
                )
                .unwrap();
                let env: wire::NotifyEnvelope = serde_json::from_slice(&req.body).unwrap();
                assert_eq!(env.id, s(c, "expected.event_id"));
                assert_eq!(env.event_type, s(c, "expected.event_type"));
                let plain = aes128(apiv3, &env.resource).unwrap();
                assert_eq!(
                    plain,
                    s(c, "expected.resource_plaintext").as_bytes(),
                    "{}",
                    c["id"]
                );
                continue;
            };
            let config = Config::builder()
                .mchid("1230000109")
                .appid("wxd678efh567hg6787")
                .private_key_pem(TEST_KEY_PEM)
                .merchant_serial_no("ABC123")
                .apiv3_key(key)
                .platform_certificate_pem(cert_pem)
                .build()
                .unwrap();
            let client = WechatPayClient::with_transport(config, Arc::new(FakeTransport::new()))
                .unwrap()
                .with_clock(Arc::new(ManualClock::new(now)));
            let v = client.verify_callback(&req).await.unwrap();
            assert_eq!(v.event_type, "TRANSACTION.SUCCESS");
            assert_eq!(v.ack.status, 204);
            assert!(v.retry_ack.status >= 400);
            let CallbackEvent::Payment(trade) = &v.event else {
                panic!("{:?}", v.event)
            };
            assert_eq!(
                trade.merchant_order_no.as_str(),
                s(c, "expected.out_trade_no")
            );
            assert_eq!(
                trade.channel_trade_no.as_ref().unwrap().as_str(),
                s(c, "expected.transaction_id")
            );
            assert_eq!(
                trade.amount.minor_units(),
                c["expected"]["amount_total_fen"].as_u64().unwrap()
            );
            assert_eq!(trade.raw_status, s(c, "expected.trade_state"));
            let paid = time::OffsetDateTime::parse(
                s(c, "expected.success_time"),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            assert_eq!(trade.paid_at, Some(paid));
            // Six minutes later the same callback is a replay.
            let late = WechatPayClient::with_transport(
                client.config.clone(),
                Arc::new(FakeTransport::new()),
            )
            .unwrap()
            .with_clock(Arc::new(ManualClock::new(now + time::Duration::minutes(6))));
            let e = late.verify_callback(&req).await.unwrap_err();
            assert!(
                matches!(&e, Error::Verification(v) if v.kind() == &VerificationKind::StaleTimestamp),
                "{e}"
            );
            // A tampered body fails.
            let mut bad = req.clone();
            bad.body = Bytes::from(
                s(c, "inputs.body").replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCEST"),
            );
            let e = client.verify_callback(&bad).await.unwrap_err();
            assert!(
                matches!(&e, Error::Verification(v) if v.kind() == &VerificationKind::BadSignature),
                "{e}"
            );
        }
    }

    #[tokio::test]
    async fn payment_code_goes_through_the_micropay_hook() {
        use crate::micropay::{MicropayClient, MicropayConfig, SignType, encode_xml, sign};
        use std::collections::BTreeMap;
        let v2key = secrecy::SecretString::from("192006250b4c09247ec02edce69f6a2d");
        let mut p: BTreeMap<String, String> = [
            ("return_code", "SUCCESS"),
            ("return_msg", "OK"),
            ("result_code", "SUCCESS"),
            ("appid", "wxd678efh567hg6787"),
            ("mch_id", "1230000109"),
            ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
            ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
            ("trade_type", "MICROPAY"),
            ("bank_type", "OTHERS"),
            ("fee_type", "CNY"),
            ("total_fee", "100"),
            ("cash_fee", "100"),
            ("transaction_id", "4200000001202405201234567890"),
            ("out_trade_no", "1217752501201407033233368018"),
            ("time_end", "20240520100000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let sig = sign(&p, &v2key, SignType::Md5);
        p.insert("sign".into(), sig);
        let v2 = Arc::new(FakeTransport::new());
        v2.push(
            http::Response::builder()
                .status(200)
                .body(Bytes::from(encode_xml(&p).unwrap()))
                .unwrap(),
        );
        let micropay = MicropayClient::new(
            MicropayConfig::new("wxd678efh567hg6787", "1230000109", v2key),
            v2.clone(),
            Arc::new(FakeTransport::new()),
        )
        .unwrap();
        let config = Config::builder()
            .mchid("1230000109")
            .appid("wxd678efh567hg6787")
            .private_key_pem(TEST_KEY_PEM)
            .merchant_serial_no("ABC123")
            .apiv3_key("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb".parse().unwrap())
            .build()
            .unwrap();
        let plain = WechatPayClient::with_transport(config.clone(), Arc::new(FakeTransport::new()))
            .unwrap();
        assert!(!plain.supports(SceneKind::PaymentCode));
        let client = WechatPayClient::with_transport(config, Arc::new(FakeTransport::new()))
            .unwrap()
            .with_micropay(Arc::new(micropay), "10.0.0.8");
        assert!(client.supports(SceneKind::PaymentCode));
        let req = PayRequest::new(
            payagg_core::MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
            payagg_core::Money::cny(100),
            "Tea",
            Scene::PaymentCode {
                auth_code: payagg_core::Sensitive::new("134567890123456789".into()),
            },
        )
        .unwrap();
        let e = plain.pay(&req).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)), "{e}");
        let r = client.pay(&req).await.unwrap();
        assert_eq!(
            r.channel_ref.as_deref(),
            Some("4200000001202405201234567890")
        );
        let PayAction::Completed(t) = r.action else {
            panic!("{:?}", r.action)
        };
        assert_eq!(t.status, payagg_core::TradeStatus::Success);
        let sent = v2.requests();
        assert_eq!(sent.len(), 1);
        assert!(String::from_utf8_lossy(sent[0].body()).contains("10.0.0.8"));
    }
}
