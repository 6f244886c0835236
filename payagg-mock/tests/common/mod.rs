//! A scripted notification receiver shared by the channel tests.
#![allow(clippy::unwrap_used, dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};

/// What the receiver saw: when each request arrived (real time) and its body.
#[derive(Clone, Default)]
pub(crate) struct Hits(Arc<Mutex<Vec<(Instant, Bytes)>>>);

impl Hits {
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub(crate) fn bodies(&self) -> Vec<Bytes> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Real time between consecutive hits.
    pub(crate) fn gaps(&self) -> Vec<Duration> {
        let g = self.0.lock().unwrap();
        g.windows(2).map(|w| w[1].0 - w[0].0).collect()
    }
}

/// A receiver answering the n-th request with `script[n]` (status, body); the last entry
/// repeats.
pub(crate) async fn scripted(script: Vec<(u16, &'static str)>) -> (String, Hits) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Hits::default();
    let h = hits.clone();
    let script = Arc::new(script);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (h, script) = (h.clone(), script.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (h, script) = (h.clone(), script.clone());
                        async move {
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let n = {
                                let mut g = h.0.lock().unwrap();
                                g.push((Instant::now(), body));
                                g.len() - 1
                            };
                            let (status, text) = script[n.min(script.len() - 1)];
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from(text)))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/notify"), hits)
}

/// Asserts each real-time gap matches `schedule_secs` divided by `time_scale`: never early,
/// and late by no more than scheduling noise.
pub(crate) fn assert_schedule(gaps: &[Duration], schedule_secs: &[u64], time_scale: u32) {
    let time_scale = u64::from(time_scale);
    assert_eq!(gaps.len(), schedule_secs.len(), "gaps {gaps:?}");
    for (gap, secs) in gaps.iter().zip(schedule_secs) {
        let want = Duration::from_millis(secs * 1000 / time_scale);
        assert!(
            *gap + Duration::from_millis(5) >= want
                && *gap <= want * 3 / 2 + Duration::from_millis(150),
            "gap {gap:?}, scheduled {want:?} ({secs} s / {time_scale}); all gaps {gaps:?}"
        );
    }
}
