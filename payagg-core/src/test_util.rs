//! Fakes for tests and doc examples, and where the shared test vectors are (feature
//! `test-util`).

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::{Error, Result, TransportError};
use crate::transport::HttpTransport;

mod vectors;

pub use vectors::vectors_dir;

/// A transport that records requests and answers from a queue of canned responses.
#[derive(Debug, Default)]
pub struct FakeTransport {
    responses: Mutex<VecDeque<Result<http::Response<Bytes>>>>,
    requests: Mutex<Vec<http::Request<Bytes>>>,
}

impl FakeTransport {
    /// An empty fake; every request fails until responses are pushed.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue a response.
    pub fn push(&self, resp: http::Response<Bytes>) {
        lock(&self.responses).push_back(Ok(resp));
    }

    /// Queue an error (a timeout, a dropped connection).
    pub fn push_error(&self, err: Error) {
        lock(&self.responses).push_back(Err(err));
    }

    /// The requests sent so far.
    #[must_use]
    pub fn requests(&self) -> Vec<http::Request<Bytes>> {
        lock(&self.requests).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait]
impl HttpTransport for FakeTransport {
    async fn send(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>> {
        lock(&self.requests).push(req);
        lock(&self.responses).pop_front().unwrap_or_else(|| {
            Err(TransportError::not_sent("FakeTransport has no response queued").into())
        })
    }
}
