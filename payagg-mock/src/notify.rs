//! The notification dispatcher: POSTs signed notifications to each order's notify URL with the
//! channel's retry schedule (compressed by the time scale), stops on the channel's
//! acknowledgement, records every attempt, and on demand duplicates or reorders deliveries.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use payagg_core::Channel;
use payagg_core::clock::Clock;
use serde::Serialize;
use time::OffsetDateTime;

/// Signs a notification body at send time: returns the headers to send with it.
pub(crate) type Signer = Arc<dyn Fn(&[u8]) -> Vec<(String, String)> + Send + Sync>;

/// One notification waiting to be delivered.
#[derive(Clone)]
pub(crate) struct Outgoing {
    pub(crate) channel: Channel,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) url: String,
    pub(crate) body: Bytes,
    pub(crate) signer: Signer,
    /// Delays before each retry, in seconds (the first attempt is immediate).
    pub(crate) schedule: &'static [u64],
    /// Whether a response acknowledges the notification.
    pub(crate) ack: fn(u16, &[u8]) -> bool,
}

/// One delivery attempt, as recorded for tests.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Delivery {
    /// The channel that sent it.
    pub channel: Channel,
    /// The notification id (WeChat: the envelope `id`).
    pub event_id: String,
    /// The event type (WeChat: `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`).
    pub event_type: String,
    /// Where it was sent.
    pub url: String,
    /// 1 for the first attempt, 2 for the first retry...
    pub attempt: u32,
    /// 0 for the original, 1.. for injected duplicates.
    pub copy: u32,
    /// The headers sent.
    pub headers: Vec<(String, String)>,
    /// The raw body sent.
    #[serde(serialize_with = "ser_bytes")]
    pub body: Bytes,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// The receiver's response body (lossy UTF-8).
    pub response_body: String,
    /// Why the attempt failed at the transport level.
    pub error: Option<String>,
    /// Whether the receiver acknowledged it (no more retries).
    pub acknowledged: bool,
    /// When it was sent, on the simulator clock.
    pub sent_at: OffsetDateTime,
}

fn ser_bytes<S: serde::Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

impl Delivery {
    /// The body as UTF-8 text.
    #[must_use]
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }

    /// A header's value (case-insensitive name).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Inner {
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    time_scale: u32,
    deliveries: Mutex<Vec<Delivery>>,
    held: Mutex<Vec<Outgoing>>,
    hold: AtomicBool,
    duplicates: AtomicU32,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    changed: tokio::sync::Notify,
}

/// The notification dispatcher of a running simulator.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("time_scale", &self.inner.time_scale)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Notifier {
    pub(crate) fn new(clock: Arc<dyn Clock>, time_scale: u32) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                client,
                clock,
                time_scale: time_scale.max(1),
                deliveries: Mutex::new(Vec::new()),
                held: Mutex::new(Vec::new()),
                hold: AtomicBool::new(false),
                duplicates: AtomicU32::new(0),
                tasks: Mutex::new(Vec::new()),
                changed: tokio::sync::Notify::new(),
            }),
        }
    }

    /// Every delivery attempt so far, in the order they were made.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.inner.deliveries).clone()
    }

    /// Send each future notification `n` extra times (as separate deliveries, each with its
    /// own retry schedule). 0 turns duplicates off.
    pub fn set_duplicates(&self, n: u32) {
        self.inner.duplicates.store(n, Ordering::SeqCst);
    }

    /// Hold future notifications instead of sending them, until [`Notifier::release`].
    pub fn hold(&self) {
        self.inner.hold.store(true, Ordering::SeqCst);
    }

    /// Stop holding and send the held notifications, newest first when `reversed` (out-of-order
    /// delivery). Returns how many were released.
    pub fn release(&self, reversed: bool) -> usize {
        self.inner.hold.store(false, Ordering::SeqCst);
        let mut held = std::mem::take(&mut *lock(&self.inner.held));
        if reversed {
            held.reverse();
        }
        let n = held.len();
        for (i, o) in held.into_iter().enumerate() {
            // Stagger so the receiver sees them in the chosen order.
            self.spawn(o, Duration::from_millis(20 * u64::try_from(i).unwrap_or(0)));
        }
        n
    }

    /// Wait (up to `timeout`, real time) until `pred` holds for the deliveries so far.
    /// Returns whether it did.
    pub async fn wait_until(&self, timeout: Duration, pred: impl Fn(&[Delivery]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.changed.notified();
            if pred(&lock(&self.inner.deliveries)) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return pred(&lock(&self.inner.deliveries));
            }
        }
    }

    pub(crate) fn dispatch(&self, o: Outgoing) {
        if self.inner.hold.load(Ordering::SeqCst) {
            lock(&self.inner.held).push(o);
            return;
        }
        self.spawn(o, Duration::ZERO);
    }

    fn spawn(&self, o: Outgoing, delay: Duration) {
        let copies = self.inner.duplicates.load(Ordering::SeqCst);
        for copy in 0..=copies {
            let this = self.clone();
            let o = o.clone();
            let handle = tokio::spawn(async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                this.deliver(o, copy).await;
            });
            let mut tasks = lock(&self.inner.tasks);
            tasks.retain(|t| !t.is_finished());
            tasks.push(handle.abort_handle());
        }
    }

    async fn deliver(&self, o: Outgoing, copy: u32) {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let headers = (o.signer)(&o.body);
            let mut req = self.inner.client.post(&o.url).body(o.body.clone());
            for (k, v) in &headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let sent_at = self.inner.clock.now();
            let (status, response_body, error) = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.unwrap_or_default();
                    (Some(status), body, None)
                }
                Err(e) => (None, Bytes::new(), Some(e.to_string())),
            };
            let acknowledged = status.is_some_and(|s| (o.ack)(s, &response_body));
            lock(&self.inner.deliveries).push(Delivery {
                channel: o.channel,
                event_id: o.event_id.clone(),
                event_type: o.event_type.clone(),
                url: o.url.clone(),
                attempt,
                copy,
                headers,
                body: o.body.clone(),
                status,
                response_body: String::from_utf8_lossy(&response_body).into_owned(),
                error,
                acknowledged,
                sent_at,
            });
            self.inner.changed.notify_waiters();
            if acknowledged {
                return;
            }
            let Some(delay) = o
                .schedule
                .get(usize::try_from(attempt - 1).unwrap_or(usize::MAX))
            else {
                return;
            };
            let real = Duration::from_millis(
                delay.saturating_mul(1000) / u64::from(self.inner.time_scale),
            );
            tokio::time::sleep(real).await;
        }
    }

    /// Abort every delivery in flight (the server is shutting down).
    pub(crate) fn shutdown(&self) {
        for t in lock(&self.inner.tasks).drain(..) {
            t.abort();
        }
    }
}
