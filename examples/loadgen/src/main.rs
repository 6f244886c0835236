//! `loadgen`: signed WeChat Pay APIv3 load against `payagg-mock` (issue 6's performance check).
//!
//! Each of `-c N` workers holds one keep-alive connection and alternates a Native prepay
//! (`POST /v3/pay/transactions/native`, a fresh `out_trade_no`) with a query of the order it
//! just created (`GET /v3/pay/transactions/out-trade-no/{no}?mchid=…`): a 50/50 create + query
//! mix. Every request is built as a real client builds it: a fresh timestamp and nonce and an
//! RSA-2048 `SHA256withRSA` signature in `Authorization` ([`AuthorizationHeader::sign`]); every
//! answer's `Wechatpay-Signature` is verified. It stops after `-d SECS` or `-n REQUESTS`,
//! whichever comes first, and prints requests/s, p50/p90/p99/max latency and the error count.
//!
//! ```sh
//! export CARGO_TARGET_DIR=$HOME/.cache/payagg-target
//! cargo build --release -p payagg-mock -p loadgen
//! # against a running simulator (loopback only); --config names its mock.json for the keys
//! $CARGO_TARGET_DIR/release/payagg-mock init /tmp/pm
//! $CARGO_TARGET_DIR/release/payagg-mock serve --config /tmp/pm/mock.json --listen 127.0.0.1:18080 &
//! $CARGO_TARGET_DIR/release/loadgen --url http://127.0.0.1:18080 --config /tmp/pm/mock.json -c 32 -d 10
//! # or with the simulator in-process (client and server share the runtime)
//! $CARGO_TARGET_DIR/release/loadgen -c 32 -d 10
//! ```
//!
//! The simulator clock is frozen, so request timestamps are the wall clock shifted by the
//! offset to the simulator clock read once at start (`GET /__mock/clock`), keeping them inside
//! the 5-minute window as a client using the simulator's clock would.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use payagg::crypto::{RsaPrivateKey, RsaPublicKey};
use payagg::mock::{MockConfig, MockServer};
use payagg::wechat::sign::{AuthorizationHeader, headers, verify_response};
use time::OffsetDateTime;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "\
usage: loadgen [--url http://127.0.0.1:PORT --config DIR/mock.json] [-c CONNECTIONS] [-d SECS] [-n REQUESTS]
  --url       a running `payagg-mock serve` (loopback only); without it the simulator runs in-process
  --config    the mock.json that server was started with (for the merchant key); needed with --url
  -c          concurrent connections (default 32)
  -d          duration in seconds (default 10, at most 600)
  -n          stop after this many requests (default 1000000)
  --sign-bench SECS
              instead: time payagg's RSA-2048 SHA256withRSA signing on one thread (signatures/s)";

/// What to run.
#[derive(Debug, Clone)]
struct Opts {
    url: Option<String>,
    config: Option<PathBuf>,
    connections: usize,
    duration: Duration,
    requests: u64,
    sign_bench: Option<Duration>,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            url: None,
            config: None,
            connections: 32,
            duration: Duration::from_secs(10),
            requests: 1_000_000,
            sign_bench: None,
        }
    }
}

fn parse_args(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => o.url = Some(val()?.trim_end_matches('/').to_owned()),
            "--config" => o.config = Some(PathBuf::from(val()?)),
            "-c" | "--connections" => {
                o.connections = val()?.parse().map_err(|_| "-c needs a number")?;
            }
            "-d" | "--duration" => {
                let s: u64 = val()?.parse().map_err(|_| "-d needs seconds")?;
                o.duration = Duration::from_secs(s.min(600));
            }
            "-n" | "--requests" => o.requests = val()?.parse().map_err(|_| "-n needs a number")?,
            "--sign-bench" => {
                let s: u64 = val()?.parse().map_err(|_| "--sign-bench needs seconds")?;
                o.sign_bench = Some(Duration::from_secs(s.clamp(1, 60)));
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.connections == 0 {
        return Err("-c must be at least 1".into());
    }
    if let Some(url) = &o.url {
        let host = url.strip_prefix("http://").ok_or("--url must be http://")?;
        let host = host.split('/').next().unwrap_or_default();
        let loopback = host.starts_with("[::1]")
            || host.split(':').next().is_some_and(|h| {
                h == "localhost"
                    || h.parse::<std::net::Ipv4Addr>()
                        .is_ok_and(|a| a.is_loopback())
            });
        if !loopback {
            return Err(format!("--url must be a loopback address, not {host}"));
        }
        if o.config.is_none() {
            return Err("--url needs --config (the server's mock.json)".into());
        }
    }
    Ok(o)
}

/// The merchant's view of the simulator.
#[derive(Debug)]
struct Target {
    base: String,
    mchid: String,
    appid: String,
    merchant_serial: String,
    key: RsaPrivateKey,
    pub_key: RsaPublicKey,
    pub_key_id: String,
    /// Simulator clock minus wall clock, seconds.
    clock_offset: i64,
}

impl Target {
    fn new(base: String, config: &MockConfig, sim_now: OffsetDateTime) -> Self {
        let w = &config.wechat;
        Self {
            base,
            mchid: w.mchid().to_owned(),
            appid: w.appid().to_owned(),
            merchant_serial: w.merchant_serial(),
            key: w.merchant_key().clone(),
            pub_key: w.pub_key().clone(),
            pub_key_id: w.pub_key_id().to_owned(),
            clock_offset: sim_now.unix_timestamp() - OffsetDateTime::now_utc().unix_timestamp(),
        }
    }
}

/// The outcome of a run.
#[derive(Debug)]
struct Report {
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    /// Sorted.
    latencies: Vec<Duration>,
}

impl Report {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let last = self.latencies.len() - 1;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((last as f64) * p).round() as usize;
        self.latencies[i.min(last)]
    }
}

/// A 32-hex-digit nonce, fresh per call (std's randomly keyed SipHash; no extra dependency).
fn nonce() -> String {
    let a = RandomState::new().build_hasher().finish();
    let mut h = RandomState::new().build_hasher();
    h.write_u64(a);
    format!("{a:016X}{:016X}", h.finish())
}

/// One signed request; `Ok` when it answered 200 with a valid response signature.
async fn call(
    client: &reqwest::Client,
    t: &Target,
    method: reqwest::Method,
    target: &str,
    body: String,
) -> Result<(), String> {
    let timestamp = (OffsetDateTime::now_utc().unix_timestamp() + t.clock_offset).to_string();
    let nonce = nonce();
    let auth = AuthorizationHeader::sign(
        &t.key,
        &t.mchid,
        &t.merchant_serial,
        method.as_str(),
        target,
        &timestamp,
        &nonce,
        body.as_bytes(),
    );
    let mut rb = client
        .request(method, format!("{}{target}", t.base))
        .header(headers::AUTHORIZATION, auth.to_header_value())
        .header("Accept", "application/json")
        .header("User-Agent", "payagg-loadgen/0.1")
        .header(headers::SERIAL, &t.pub_key_id);
    if !body.is_empty() {
        rb = rb.header("Content-Type", "application/json").body(body);
    }
    let resp = rb.send().await.map_err(|e| format!("send: {e}"))?;
    let status = resp.status();
    let h = resp.headers().clone();
    let bytes = resp.bytes().await.map_err(|e| format!("body: {e}"))?;
    if status != reqwest::StatusCode::OK {
        return Err(format!(
            "{target}: HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default();
    verify_response(
        &t.pub_key,
        get(headers::TIMESTAMP),
        get(headers::NONCE),
        &bytes,
        get(headers::SIGNATURE),
    )
    .map_err(|_| format!("{target}: response signature does not verify"))
}

async fn worker(
    t: Arc<Target>,
    run: String,
    id: usize,
    budget: Arc<AtomicU64>,
    limit: u64,
    deadline: Instant,
) -> (Vec<Duration>, u64, Option<String>) {
    let mut lat = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    let client = match reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(e) => return (lat, 1, Some(e.to_string())),
    };
    let mut last: Option<String> = None;
    let mut seq = 0u64;
    while Instant::now() < deadline && budget.fetch_add(1, Ordering::Relaxed) < limit {
        let start = Instant::now();
        let result = match last.take() {
            Some(no) => {
                let target = format!("/v3/pay/transactions/out-trade-no/{no}?mchid={}", t.mchid);
                call(&client, &t, reqwest::Method::GET, &target, String::new()).await
            }
            None => {
                seq += 1;
                let no = format!("LG{run}{id:04}{seq:010}");
                let body = format!(
                    r#"{{"appid":"{}","mchid":"{}","description":"loadgen","out_trade_no":"{no}","notify_url":"https://example.invalid/notify","amount":{{"total":1,"currency":"CNY"}}}}"#,
                    t.appid, t.mchid
                );
                let r = call(
                    &client,
                    &t,
                    reqwest::Method::POST,
                    "/v3/pay/transactions/native",
                    body,
                )
                .await;
                if r.is_ok() {
                    last = Some(no);
                }
                r
            }
        };
        lat.push(start.elapsed());
        if let Err(e) = result {
            errors += 1;
            first_error.get_or_insert(e);
        }
    }
    (lat, errors, first_error)
}

async fn load(t: Arc<Target>, opts: &Opts) -> Report {
    let run = format!(
        "{:08X}",
        RandomState::new().build_hasher().finish() & 0xFFFF_FFFF
    );
    let budget = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + opts.duration;
    let tasks: Vec<_> = (0..opts.connections)
        .map(|id| {
            tokio::spawn(worker(
                t.clone(),
                run.clone(),
                id,
                budget.clone(),
                opts.requests,
                deadline,
            ))
        })
        .collect();
    let mut report = Report {
        requests: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for task in tasks {
        match task.await {
            Ok((lat, errors, first)) => {
                report.latencies.extend(lat);
                report.errors += errors;
                if report.first_error.is_none() {
                    report.first_error = first;
                }
            }
            Err(e) => {
                report.errors += 1;
                report.first_error.get_or_insert(e.to_string());
            }
        }
    }
    report.elapsed = start.elapsed();
    report.requests = report.latencies.len() as u64;
    report.latencies.sort_unstable();
    report
}

/// Reads the simulator clock (`GET /__mock/clock` → `{"now":"RFC 3339"}`).
async fn sim_clock(base: &str) -> Result<OffsetDateTime, BoxError> {
    let text = reqwest::get(format!("{base}/__mock/clock"))
        .await?
        .text()
        .await?;
    let now = text
        .split("\"now\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| format!("unexpected /__mock/clock answer: {text}"))?;
    Ok(OffsetDateTime::parse(
        now,
        &time::format_description::well_known::Rfc3339,
    )?)
}

/// Runs the load; with no `--url`, against a simulator started here (kept alive for the run).
async fn run(opts: &Opts) -> Result<Report, BoxError> {
    match &opts.url {
        Some(url) => {
            let path = opts.config.as_ref().ok_or("--url needs --config")?;
            let config = MockConfig::load(path)?;
            let now = sim_clock(url).await?;
            Ok(load(Arc::new(Target::new(url.clone(), &config, now)), opts).await)
        }
        None => {
            let server = MockServer::start(MockConfig::generate()?).await?;
            let t = Target::new(server.base_url(), server.config(), server.now());
            let report = load(Arc::new(t), opts).await;
            drop(server);
            Ok(report)
        }
    }
}

/// Single-thread signing rate of the key type the simulator and the client both use, over a
/// request-sized message (what each side pays per request).
fn sign_bench(for_: Duration) -> Result<f64, BoxError> {
    let key = RsaPrivateKey::generate(2048)?;
    let msg = payagg::wechat::sign::request_message(
        "POST",
        "/v3/pay/transactions/native",
        "1700000000",
        &nonce(),
        &[b'x'; 200],
    );
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < for_ {
        std::hint::black_box(key.sign_sha256(std::hint::black_box(&msg)));
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("loadgen: {e}");
            }
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Some(d) = opts.sign_bench {
        return match sign_bench(d) {
            Ok(rate) => {
                println!(
                    "loadgen: payagg RSA-2048 SHA256withRSA signing, one thread: {rate:.0} signatures/s"
                );
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadgen: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    match run(&opts).await {
        Ok(r) => {
            println!(
                "loadgen: {} connections, {} requests in {:.2} s (50/50 native prepay + query, signed)",
                opts.connections,
                r.requests,
                r.elapsed.as_secs_f64()
            );
            println!("  requests/s  {:.0}", r.rate());
            println!(
                "  latency     p50 {}  p90 {}  p99 {}  max {}",
                ms(r.percentile(0.50)),
                ms(r.percentile(0.90)),
                ms(r.percentile(0.99)),
                ms(r.latencies.last().copied().unwrap_or_default())
            );
            println!("  errors      {}", r.errors);
            if let Some(e) = &r.first_error {
                println!("  first error {e}");
            }
            if r.errors == 0 {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_and_keeps_to_loopback() {
        let o = parse_args(&args("-c 8 -d 3 -n 100")).unwrap_or_default();
        assert_eq!(
            (o.connections, o.duration.as_secs(), o.requests),
            (8, 3, 100)
        );
        assert!(parse_args(&args("--url http://127.0.0.1:1 --config m.json")).is_ok());
        assert!(parse_args(&args("--url http://10.0.0.1:1 --config m.json")).is_err());
        assert!(parse_args(&args("--url http://127.0.0.1:1")).is_err());
        assert!(parse_args(&args("-c 0")).is_err());
    }

    /// 20 signed requests in-process: every one answers 200 with a valid signature.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn smoke_twenty_requests() -> Result<(), BoxError> {
        let opts = Opts {
            connections: 2,
            requests: 20,
            ..Opts::default()
        };
        let r = run(&opts).await?;
        assert_eq!(r.requests, 20);
        assert_eq!(r.errors, 0, "{:?}", r.first_error);
        Ok(())
    }
}
