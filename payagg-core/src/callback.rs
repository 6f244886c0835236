//! Channel notifications (callbacks): what comes in, what is verified, what goes back.

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::refund::Refund;
use crate::trade::Trade;
use crate::transfer::Transfer;

/// An incoming notification exactly as the web framework received it.
///
/// Pass the raw body bytes: signatures are computed over them, and re-serializing a parsed
/// body breaks verification.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallbackRequest {
    /// The HTTP method (`POST` for notifications, `GET` for Alipay return URLs).
    pub method: Method,
    /// The request target's query string without `?`, empty if none.
    pub query: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl CallbackRequest {
    /// A POSTed notification.
    #[must_use]
    pub fn post(headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            method: Method::POST,
            query: String::new(),
            headers,
            body: body.into(),
        }
    }
    /// A GET with a query string (browser return URLs).
    #[must_use]
    pub fn get(query: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            query: query.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }
    /// A header's value as text, if present and valid.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The HTTP answer a channel expects for a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackAck {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if the channel cares.
    pub content_type: Option<&'static str>,
    /// The exact body.
    pub body: String,
}

impl CallbackAck {
    /// An answer with `status`, `content_type` and `body`.
    #[must_use]
    pub fn new(status: u16, content_type: Option<&'static str>, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
        }
    }
}

/// What a verified notification says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackEvent {
    /// A payment's state changed (usually: paid). Check it with [`Trade::check_matches`]
    /// before booking.
    Payment(Trade),
    /// A refund's state changed.
    Refund(Refund),
    /// A payout's state changed.
    Transfer(Transfer),
    /// An event payagg does not model; its type and verified (decrypted) content are kept.
    Other {
        /// The channel's event type.
        event_type: String,
        /// The verified content as JSON.
        content: serde_json::Value,
    },
}

/// A notification whose signature (and, for WeChat, encryption) checked out.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedCallback {
    /// The channel's notification id, for de-duplication (channels resend).
    pub notification_id: Option<String>,
    /// The channel's event type verbatim (`TRANSACTION.SUCCESS`, `TRADE_SUCCESS`...).
    pub event_type: String,
    /// What happened.
    pub event: CallbackEvent,
    /// Send this once the event is safely booked: the channel stops resending.
    pub ack: CallbackAck,
    /// Send this if booking failed: the channel will resend later.
    pub retry_ack: CallbackAck,
}

impl VerifiedCallback {
    /// A verified callback.
    #[must_use]
    pub fn new(
        event_type: impl Into<String>,
        event: CallbackEvent,
        ack: CallbackAck,
        retry_ack: CallbackAck,
    ) -> Self {
        Self {
            notification_id: None,
            event_type: event_type.into(),
            event,
            ack,
            retry_ack,
        }
    }
    /// With the channel's notification id.
    #[must_use]
    pub fn notification_id(mut self, id: impl Into<String>) -> Self {
        self.notification_id = Some(id.into());
        self
    }
}
