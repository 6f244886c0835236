//! Pluggable HTTP and the retry policy.
//!
//! Channel clients send `http::Request<Bytes>` through an [`HttpTransport`], so tests and
//! applications can substitute their own. The default, [`ReqwestTransport`] (feature
//! `reqwest`), uses one reused client over rustls with redirects off and timeouts on.
//!
//! Only idempotent operations are retried ([`crate::Operation::is_idempotent`]): a pay or a
//! refund that timed out is reported as an unknown outcome for the caller to query.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::{Error, InvalidInput, Result};
use crate::gateway::Operation;

#[cfg(feature = "reqwest")]
mod reqwest_impl;
#[cfg(feature = "reqwest")]
pub use reqwest_impl::{ClientIdentity, ReqwestTransport};

/// Sends one HTTP request and returns the whole response.
///
/// Implementations map failures to [`Error::Timeout`] or [`Error::Transport`], telling
/// whether the request may have been sent. They must not follow redirects.
#[async_trait]
pub trait HttpTransport: Send + Sync + fmt::Debug {
    /// Send `req`.
    async fn send(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>>;
}

/// Timeouts for the default transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP + TLS connect.
    pub connect: Duration,
    /// The whole exchange.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// Custom timeouts.
    #[must_use]
    pub fn new(connect: Duration, total: Duration) -> Self {
        Self { connect, total }
    }
}

/// Exponential backoff with jitter for idempotent operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, including the first (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub initial_backoff: Duration,
    /// The longest delay between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    #[must_use]
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// A policy of `max_attempts` attempts with the default backoff.
    #[must_use]
    pub fn attempts(max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (1-based), with full jitter in `[d/2, d]`.
    #[must_use]
    pub fn backoff(&self, retry: u32, jitter: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let d = exp.min(self.max_backoff);
        let half = d / 2;
        let span = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_nanos(u64::from(jitter) % span)
    }

    /// Run `attempt` under this policy: idempotent operations are retried while the error is
    /// retryable; everything else runs exactly once.
    ///
    /// # Errors
    /// The last attempt's error.
    pub async fn run<T, F, Fut>(&self, op: Operation, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let max = if op.is_idempotent() {
            self.max_attempts.max(1)
        } else {
            1
        };
        let mut n = 1;
        loop {
            match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) if n < max && e.is_retryable() => {
                    tracing::debug!(operation = op.as_str(), attempt = n, error = %e, "retrying");
                    tokio::time::sleep(self.backoff(n, jitter())).await;
                    n += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn jitter() -> u32 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u32()
}

/// Check that a configured endpoint is HTTPS, or plain HTTP on a loopback address (the
/// simulator). Secrets never travel in clear text to another host.
///
/// # Errors
/// [`InvalidInput`] naming the URL.
pub fn check_endpoint(url: &str) -> Result<(), InvalidInput> {
    let parsed: http::Uri = url
        .parse()
        .map_err(|_| InvalidInput::new("endpoint", format!("{url:?} is not a URL")))?;
    let host = parsed
        .host()
        .ok_or_else(|| InvalidInput::new("endpoint", format!("{url:?} has no host")))?;
    match parsed.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        _ => Err(InvalidInput::new(
            "endpoint",
            format!("{url:?} must be https (plain http only on loopback)"),
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Read a response body as UTF-8, or a typed decode error.
///
/// # Errors
/// [`Error::Decode`] when the bytes are not UTF-8.
pub fn body_text(body: &[u8], what: &str) -> Result<String> {
    String::from_utf8(body.to_vec()).map_err(|e| {
        Error::Decode(
            crate::error::DecodeError::new(format!("{what}: body is not UTF-8")).with_source(e),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::channel::Channel;
    use crate::error::{GatewayError, GatewayErrorKind, TimeoutError};
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn endpoints() {
        assert!(check_endpoint("https://api.mch.weixin.qq.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(check_endpoint("http://localhost:1").is_ok());
        assert!(check_endpoint("http://[::1]:9/").is_ok());
        assert!(check_endpoint("http://api.mch.weixin.qq.com").is_err());
        assert!(check_endpoint("ftp://127.0.0.1").is_err());
        assert!(check_endpoint("not a url").is_err());
    }

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy::default();
        assert!(p.backoff(1, 0) >= Duration::from_millis(100));
        assert!(p.backoff(1, u32::MAX) <= Duration::from_millis(200));
        assert!(p.backoff(10, u32::MAX) <= Duration::from_secs(2));
    }

    #[tokio::test]
    async fn retries_only_idempotent() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            ..RetryPolicy::attempts(3)
        };
        let calls = AtomicU32::new(0);
        let r: Result<()> = policy
            .run(Operation::Query, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(TimeoutError::new("query", 1).into())
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        calls.store(0, Ordering::SeqCst);
        let r: Result<()> = policy
            .run(Operation::Pay, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(TimeoutError::new("pay", 1).into())
            })
            .await;
        assert!(r.unwrap_err().outcome_unknown());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "pay must never be retried");

        calls.store(0, Ordering::SeqCst);
        let r: Result<u8> = policy
            .run(Operation::Query, || async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(GatewayError::new(
                        Channel::Wechat,
                        GatewayErrorKind::SystemError,
                        "SYSTEM_ERROR",
                        "busy",
                    )
                    .into())
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(r.unwrap(), 7);

        calls.store(0, Ordering::SeqCst);
        let r: Result<u8> = policy
            .run(Operation::Query, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(GatewayError::new(
                    Channel::Wechat,
                    GatewayErrorKind::InvalidParam,
                    "PARAM_ERROR",
                    "bad",
                )
                .into())
            })
            .await;
        assert!(r.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "non-retryable errors are not retried"
        );
    }
}
