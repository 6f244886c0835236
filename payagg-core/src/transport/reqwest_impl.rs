//! The default transport: reqwest over rustls (aws-lc-rs provider), redirects off.
//!
//! Server certificates are verified against the operating system's trust store through
//! `rustls-platform-verifier` (on Linux: the system CA bundle, e.g. `/etc/ssl/certs` from the
//! `ca-certificates` package). The store is read when the client is built: with no system CA
//! certificates at all, [`ReqwestTransport::new`] returns a [`ConfigError`] (even for plain-HTTP
//! loopback use). No root certificates are compiled in.

use std::fmt;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};

use super::{HttpTransport, Timeouts};
use crate::error::{ConfigError, Error, Result, TimeoutError, TransportError};

/// A client certificate and key in PEM, for channels that require mutual TLS (WeChat APIv2
/// reversal and refunds).
pub struct ClientIdentity {
    pem: SecretString,
}

impl ClientIdentity {
    /// The certificate chain and private key, concatenated PEM.
    #[must_use]
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Self {
        Self {
            pem: SecretString::from(format!("{cert_pem}\n{key_pem}")),
        }
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientIdentity(***)")
    }
}

/// One reused reqwest client: rustls, no redirects, connect and total timeouts.
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    timeouts: Timeouts,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// A transport with `timeouts`.
    ///
    /// # Errors
    /// [`ConfigError`] if the TLS backend cannot be initialised.
    pub fn new(timeouts: Timeouts) -> Result<Self, ConfigError> {
        Self::build(timeouts, None)
    }

    /// A transport that presents a client certificate.
    ///
    /// # Errors
    /// [`ConfigError`] if the identity cannot be parsed.
    pub fn with_identity(
        timeouts: Timeouts,
        identity: &ClientIdentity,
    ) -> Result<Self, ConfigError> {
        Self::build(timeouts, Some(identity))
    }

    fn build(timeouts: Timeouts, identity: Option<&ClientIdentity>) -> Result<Self, ConfigError> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .tls_backend_rustls()
            .user_agent(concat!("payagg/", env!("CARGO_PKG_VERSION")));
        if let Some(id) = identity {
            let id =
                reqwest::Identity::from_pem(id.pem.expose_secret().as_bytes()).map_err(|e| {
                    ConfigError::new("client identity", "cannot parse certificate/key PEM")
                        .with_source(e)
                })?;
            b = b.identity(id);
        }
        let client = b
            .build()
            .map_err(|e| ConfigError::new("http client", "cannot build").with_source(e))?;
        Ok(Self { client, timeouts })
    }
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>> {
        let started = Instant::now();
        let req = reqwest::Request::try_from(req).map_err(|e| {
            Error::from(TransportError::not_sent("request cannot be converted").with_source(e))
        })?;
        let map_err = |e: reqwest::Error| -> Error {
            if e.is_timeout() {
                let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                Error::from(TimeoutError::new("http request", ms))
            } else if e.is_connect() || e.is_builder() {
                Error::from(TransportError::not_sent("connection failed").with_source(e))
            } else {
                Error::from(TransportError::after_send("exchange failed").with_source(e))
            }
        };
        let resp = self.client.execute(req).await.map_err(map_err)?;
        let mut builder = http::Response::builder()
            .status(resp.status())
            .version(resp.version());
        if let Some(h) = builder.headers_mut() {
            *h = resp.headers().clone();
        }
        let body = resp.bytes().await.map_err(map_err)?;
        builder.body(body).map_err(|e| {
            Error::from(TransportError::after_send("response cannot be rebuilt").with_source(e))
        })
    }
}
