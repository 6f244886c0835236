//! One error type that follows the request life cycle.
//!
//! Each variant answers the question a payment developer asks first: *may the money have
//! moved?* [`Error::outcome_unknown`] is `true` exactly when a write (pay, refund, transfer)
//! may or may not have reached the channel, in which case the caller must query before
//! retrying. [`Error::is_retryable`] says whether sending the same request again can help.

use std::fmt;

use crate::channel::Channel;

/// A boxed, thread-safe source error kept reachable through [`std::error::Error::source`].
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of every fallible payagg operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, in the order it can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable (bad key, certificate, URL). Nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request failed validation before sending. Nothing was sent.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// The channel (or this client) does not support the requested operation or scene.
    /// Nothing was sent.
    #[error(transparent)]
    Unsupported(#[from] Unsupported),
    /// The request may have been sent but no complete answer arrived in time.
    /// **Outcome unknown** for writes: query before retrying.
    #[error(transparent)]
    Timeout(#[from] TimeoutError),
    /// The connection failed. [`TransportError::request_sent`] tells whether bytes left.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A signature, certificate, serial or timestamp check failed. Never retry; alert.
    #[error(transparent)]
    Verification(#[from] VerificationError),
    /// An answer arrived that could not be understood. Outcome unknown for writes.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The channel answered with a business error.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

impl Error {
    /// For a verification error on the answer to a write, mark the outcome unknown (see
    /// [`VerificationError::after_write`]); every other error is returned unchanged.
    #[must_use]
    pub fn after_write(self) -> Self {
        match self {
            Error::Verification(e) => Error::Verification(e.after_write()),
            other => other,
        }
    }

    /// `true` when sending the same request again may succeed (timeouts, connection errors,
    /// rate limits and channel-side system errors). For pay and refund, query first: see
    /// [`Error::outcome_unknown`].
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Config(_)
            | Error::InvalidInput(_)
            | Error::Unsupported(_)
            | Error::Verification(_) => false,
            Error::Timeout(_) | Error::Transport(_) => true,
            Error::Decode(e) => e.retryable,
            Error::Gateway(e) => e.is_retryable(),
        }
    }

    /// `true` when a write may have taken effect at the channel although no definite answer
    /// arrived. Query the order or refund before sending it again.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Config(_) | Error::InvalidInput(_) | Error::Unsupported(_) => false,
            Error::Verification(e) => e.outcome_unknown,
            Error::Timeout(_) => true,
            Error::Transport(e) => e.request_sent,
            Error::Decode(_) => true,
            Error::Gateway(e) => e.kind == GatewayErrorKind::SystemError || e.unverified,
        }
    }

    /// The channel's error code, for gateway errors.
    #[must_use]
    pub fn gateway_code(&self) -> Option<&str> {
        match self {
            Error::Gateway(e) => Some(e.code()),
            _ => None,
        }
    }

    /// The normalized kind of a gateway error.
    #[must_use]
    pub fn gateway_kind(&self) -> Option<GatewayErrorKind> {
        match self {
            Error::Gateway(e) => Some(e.kind()),
            _ => None,
        }
    }

    /// Shorthand for an [`InvalidInput`] error about one field.
    pub fn invalid_input(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput::new(field, reason))
    }

    /// Shorthand for a [`DecodeError`] without a source.
    pub fn decode(what: impl Into<String>) -> Self {
        Error::Decode(DecodeError::new(what))
    }
}

/// The configuration could not be used. Nothing was sent.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {what}: {reason}")]
pub struct ConfigError {
    what: String,
    reason: String,
    #[source]
    source: Option<BoxError>,
}

impl ConfigError {
    /// A config error about `what` (a field or file), saying why.
    pub fn new(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            reason: reason.into(),
            source: None,
        }
    }
    /// Attach the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// Which setting or file was wrong.
    #[must_use]
    pub fn what(&self) -> &str {
        &self.what
    }
    /// Why it was rejected.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A request field failed validation. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    field: &'static str,
    reason: String,
}

impl InvalidInput {
    /// A validation failure of `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
    /// The offending field.
    #[must_use]
    pub fn field(&self) -> &'static str {
        self.field
    }
    /// Why it was rejected.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The operation or scene is not offered by this channel or client. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{channel} does not support {what}")]
pub struct Unsupported {
    channel: Channel,
    what: String,
}

impl Unsupported {
    /// `channel` does not support `what` (an operation or scene name).
    pub fn new(channel: Channel, what: impl Into<String>) -> Self {
        Self {
            channel,
            what: what.into(),
        }
    }
    /// The channel asked.
    #[must_use]
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// What it does not support.
    #[must_use]
    pub fn what(&self) -> &str {
        &self.what
    }
}

/// No complete answer within the time limit. The request may have been processed.
#[derive(Debug, thiserror::Error)]
#[error("{operation} timed out after {elapsed_ms} ms; outcome unknown, query before retrying")]
pub struct TimeoutError {
    operation: String,
    elapsed_ms: u64,
}

impl TimeoutError {
    /// A timeout of `operation` after `elapsed_ms` milliseconds.
    pub fn new(operation: impl Into<String>, elapsed_ms: u64) -> Self {
        Self {
            operation: operation.into(),
            elapsed_ms,
        }
    }
    /// The operation that timed out.
    #[must_use]
    pub fn operation(&self) -> &str {
        &self.operation
    }
}

/// The connection failed.
#[derive(Debug, thiserror::Error)]
#[error("transport error ({}): {message}", if *.request_sent { "request may have been sent" } else { "request not sent" })]
pub struct TransportError {
    message: String,
    request_sent: bool,
    #[source]
    source: Option<BoxError>,
}

impl TransportError {
    /// A failure before any byte of the request left (DNS, connect, TLS handshake).
    pub fn not_sent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            request_sent: false,
            source: None,
        }
    }
    /// A failure after the request may have been sent (connection reset while reading).
    pub fn after_send(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            request_sent: true,
            source: None,
        }
    }
    /// Attach the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// Whether the request may have reached the channel.
    #[must_use]
    pub fn request_sent(&self) -> bool {
        self.request_sent
    }
    /// Human-readable description.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// What exactly failed to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationKind {
    /// The signature did not match the key that was selected.
    BadSignature,
    /// The message named a key, certificate serial or key id this client does not hold.
    UnknownKey,
    /// The timestamp lies outside the accepted window.
    StaleTimestamp,
    /// A required signature header or field was missing.
    MissingSignature,
    /// The certificate chain, name or validity check failed.
    Certificate,
    /// A probe signature (for example WeChat's `WECHATPAY/SIGNTEST/`) was rejected.
    ProbeSignature,
    /// An authenticated ciphertext failed to decrypt (wrong key or tampered data).
    Decryption,
    /// A content digest (for example a bill file's SHA-1) did not match.
    Digest,
    /// The callback's business fields do not match the caller's own order.
    BusinessMismatch,
}

impl fmt::Display for VerificationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerificationKind::BadSignature => "bad signature",
            VerificationKind::UnknownKey => "unknown key",
            VerificationKind::StaleTimestamp => "timestamp outside window",
            VerificationKind::MissingSignature => "missing signature",
            VerificationKind::Certificate => "certificate check failed",
            VerificationKind::ProbeSignature => "probe signature rejected",
            VerificationKind::Decryption => "decryption failed",
            VerificationKind::Digest => "digest mismatch",
            VerificationKind::BusinessMismatch => "business fields mismatch",
        })
    }
}

/// A signature, key, certificate, timestamp or digest check failed.
///
/// It names what was expected and what was presented, so "verify failed" never comes without
/// the key id, serial or field involved. Never carries secret material.
///
/// When the message that failed was the *answer* to a write (pay, refund, cancel, transfer),
/// the channel may have carried the write out although its answer cannot be trusted: such an
/// error is marked with [`VerificationError::after_write`] and reports
/// [`Error::outcome_unknown`], so the caller queries before sending the write again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{channel} verification failed: {kind}: {detail}{}{}{}",
    .expected.as_ref().map(|e| format!("; expected {e}")).unwrap_or_default(),
    .presented.as_ref().map(|p| format!("; presented {p}")).unwrap_or_default(),
    if *.outcome_unknown { "; the write's outcome is unknown, query before retrying" } else { "" })]
pub struct VerificationError {
    channel: Channel,
    kind: VerificationKind,
    detail: String,
    expected: Option<String>,
    presented: Option<String>,
    outcome_unknown: bool,
}

impl VerificationError {
    /// A verification failure of `kind` on `channel`.
    pub fn new(channel: Channel, kind: VerificationKind, detail: impl Into<String>) -> Self {
        Self {
            channel,
            kind,
            detail: detail.into(),
            expected: None,
            presented: None,
            outcome_unknown: false,
        }
    }
    /// Mark the failure as one on the answer to a write the channel may have carried out.
    #[must_use]
    pub fn after_write(mut self) -> Self {
        self.outcome_unknown = true;
        self
    }
    /// What key, serial or value was expected.
    #[must_use]
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }
    /// What key, serial or value the message presented.
    #[must_use]
    pub fn presented(mut self, presented: impl Into<String>) -> Self {
        self.presented = Some(presented.into());
        self
    }
    /// The channel involved.
    #[must_use]
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// What failed.
    #[must_use]
    pub fn kind(&self) -> &VerificationKind {
        &self.kind
    }
    /// The expected key id, serial or value, if known.
    #[must_use]
    pub fn expected_value(&self) -> Option<&str> {
        self.expected.as_deref()
    }
    /// The presented key id, serial or value, if any.
    #[must_use]
    pub fn presented_value(&self) -> Option<&str> {
        self.presented.as_deref()
    }
    /// Free-text detail.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// An answer that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("could not decode {what}{}", .location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default())]
pub struct DecodeError {
    what: String,
    location: Option<String>,
    retryable: bool,
    #[source]
    source: Option<BoxError>,
}

impl DecodeError {
    /// A decode failure of `what` (a response, a bill line, a field).
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            location: None,
            retryable: false,
            source: None,
        }
    }
    /// Where: a file and line, a field path.
    #[must_use]
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
    /// Mark as worth retrying (for example an HTML error page from a proxy).
    #[must_use]
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
    /// Attach the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// What could not be decoded.
    #[must_use]
    pub fn what(&self) -> &str {
        &self.what
    }
    /// Where, if known.
    #[must_use]
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

/// The normalized meaning of a channel business error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GatewayErrorKind {
    /// Payer or merchant balance insufficient.
    InsufficientFunds,
    /// The order is already paid.
    OrderPaid,
    /// The order is closed or revoked.
    OrderClosed,
    /// No such order, refund or transfer.
    NotFound,
    /// Same merchant number reused with different parameters, or a repeated request.
    DuplicateRequest,
    /// Refund larger than what remains refundable.
    RefundExceedsPaid,
    /// Too many requests.
    RateLimited,
    /// A parameter was rejected.
    InvalidParam,
    /// Authentication or signature rejected by the channel.
    AuthFailed,
    /// The merchant lacks permission or the product is not enabled.
    NoPermission,
    /// The payer must act (enter a password); the order is still in progress.
    UserPaying,
    /// The channel reported an internal error; the outcome is unknown, query and retry.
    SystemError,
    /// Anything else.
    Unknown,
}

/// A business error answered by the channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{channel} rejected the request: {code}{}: {message}{}",
    .sub_code.as_ref().map(|s| format!("/{s}")).unwrap_or_default(),
    .request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
pub struct GatewayError {
    channel: Channel,
    kind: GatewayErrorKind,
    code: String,
    sub_code: Option<String>,
    message: String,
    request_id: Option<String>,
    http_status: Option<u16>,
    unverified: bool,
}

impl GatewayError {
    /// A business error from `channel` with its own `code` and `message`.
    pub fn new(
        channel: Channel,
        kind: GatewayErrorKind,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            channel,
            kind,
            code: code.into(),
            sub_code: None,
            message: message.into(),
            request_id: None,
            http_status: None,
            unverified: false,
        }
    }
    /// Mark the answer as unverified (it carried no valid signature): nothing in it can be
    /// trusted, so [`Error::outcome_unknown`] is `true` (a forged "failure" to a refund must
    /// not lead to a second refund under a new number).
    #[must_use]
    pub fn unverified(mut self) -> Self {
        self.unverified = true;
        self
    }
    /// Whether the answer was unverified (see [`GatewayError::unverified`]).
    #[must_use]
    pub fn is_unverified(&self) -> bool {
        self.unverified
    }
    /// Attach the channel's sub-code.
    #[must_use]
    pub fn with_sub_code(mut self, sub_code: impl Into<String>) -> Self {
        self.sub_code = Some(sub_code.into());
        self
    }
    /// Attach the channel's request id (WeChat `Request-ID`, Alipay `trace_id`).
    #[must_use]
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }
    /// Attach the HTTP status.
    #[must_use]
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }
    /// The channel.
    #[must_use]
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// The normalized kind.
    #[must_use]
    pub fn kind(&self) -> GatewayErrorKind {
        self.kind
    }
    /// The channel's code, verbatim.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }
    /// The channel's sub-code, verbatim.
    #[must_use]
    pub fn sub_code(&self) -> Option<&str> {
        self.sub_code.as_deref()
    }
    /// The channel's message, verbatim.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The channel's request id.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The HTTP status, if the channel uses it.
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }
    /// Whether retrying the same request can help.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            GatewayErrorKind::SystemError | GatewayErrorKind::RateLimited
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_is_unknown_and_retryable() {
        let e = Error::from(TimeoutError::new("pay", 5000));
        assert!(e.outcome_unknown());
        assert!(e.is_retryable());
        assert!(e.to_string().contains("query before retrying"));
    }

    #[test]
    fn transport_before_send_is_known() {
        let e = Error::from(TransportError::not_sent("connect refused"));
        assert!(!e.outcome_unknown());
        assert!(e.is_retryable());
        let e = Error::from(TransportError::after_send("reset"));
        assert!(e.outcome_unknown());
    }

    #[test]
    fn verification_names_expected_and_presented() {
        let e = VerificationError::new(
            Channel::Wechat,
            VerificationKind::UnknownKey,
            "platform certificate",
        )
        .expected("5157F09EFDC096DE15EBE81A47057A7232F1B8E1")
        .presented("ABCDEF");
        let s = e.to_string();
        assert!(
            s.contains("expected 5157F09EFDC096DE15EBE81A47057A7232F1B8E1"),
            "{s}"
        );
        assert!(s.contains("presented ABCDEF"), "{s}");
        let e = Error::from(e);
        assert!(!e.is_retryable());
        assert!(!e.outcome_unknown());
        let after_write = Error::from(
            VerificationError::new(
                Channel::Unionpay,
                VerificationKind::BadSignature,
                "refund answer",
            )
            .after_write(),
        );
        assert!(
            after_write.outcome_unknown(),
            "a forged answer to a write leaves the outcome unknown"
        );
        assert!(
            !after_write.is_retryable(),
            "query first, never resend blindly"
        );
        assert!(after_write.to_string().contains("query before retrying"));
    }

    #[test]
    fn gateway_error_kinds() {
        let sys = Error::from(GatewayError::new(
            Channel::Alipay,
            GatewayErrorKind::SystemError,
            "20000",
            "busy",
        ));
        assert!(sys.is_retryable() && sys.outcome_unknown());
        let paid = Error::from(
            GatewayError::new(
                Channel::Alipay,
                GatewayErrorKind::OrderPaid,
                "40004",
                "Business Failed",
            )
            .with_sub_code("ACQ.TRADE_HAS_SUCCESS"),
        );
        assert!(!paid.is_retryable() && !paid.outcome_unknown());
        let forged = Error::from(
            GatewayError::new(
                Channel::Alipay,
                GatewayErrorKind::Unknown,
                "40004",
                "unsigned",
            )
            .unverified(),
        );
        assert!(
            forged.outcome_unknown(),
            "an unsigned failure proves nothing"
        );
        assert!(!forged.is_retryable());
        assert_eq!(paid.gateway_code(), Some("40004"));
        assert!(paid.to_string().contains("40004/ACQ.TRADE_HAS_SUCCESS"));
    }
}
