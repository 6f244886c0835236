//! The WeChat APIv3 half of the simulator, driven by requests signed with
//! `payagg_wechat::sign` directly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::Full;
use payagg_core::Channel;
use payagg_core::crypto::{Certificate, RsaPublicKey};
use payagg_mock::{FaultKind, FaultRule, FaultScope, MockConfig, MockServer};
use payagg_wechat::sign::{self, AuthorizationHeader};
use payagg_wechat::wire;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config() -> MockConfig {
    static CFG: OnceLock<MockConfig> = OnceLock::new();
    CFG.get_or_init(|| MockConfig::generate().unwrap())
        .clone()
        .with_time_scale(1000)
}

struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Bytes,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, n: &str) -> &str {
        self.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn auth(server: &MockServer, method: &str, target: &str, body: &str, ts: i64) -> String {
    let wx = server.wechat();
    AuthorizationHeader::sign(
        wx.merchant_key(),
        wx.mchid(),
        &wx.merchant_serial(),
        method,
        target,
        &ts.to_string(),
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        body.as_bytes(),
    )
    .to_header_value()
}

async fn send_with(
    server: &MockServer,
    method: &str,
    target: &str,
    body: &str,
    authorization: &str,
    serial: Option<&str>,
) -> Resp {
    let client = reqwest::Client::new();
    let url = format!("{}{}", server.base_url(), target);
    let mut req = client
        .request(method.parse().unwrap(), url)
        .header("Accept", "application/json")
        .header("User-Agent", "payagg-mock-tests/0.1")
        .header("Authorization", authorization);
    if let Some(s) = serial {
        req = req.header("Wechatpay-Serial", s);
    }
    if !body.is_empty() {
        req = req
            .header("Content-Type", "application/json")
            .body(body.to_owned());
    }
    let r = req.send().await.unwrap();
    Resp {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap(),
    }
}

async fn call(server: &MockServer, method: &str, target: &str, body: &str) -> Resp {
    let a = auth(server, method, target, body, server.now().unix_timestamp());
    send_with(server, method, target, body, &a, None).await
}

/// Verify a signed response with the key its `Wechatpay-Serial` names.
fn verify(server: &MockServer, r: &Resp) -> String {
    let wx = server.wechat();
    let serial = r.header("Wechatpay-Serial").to_owned();
    let key: RsaPublicKey = if serial == wx.pub_key_id() {
        wx.pub_key().clone()
    } else {
        assert_eq!(serial, wx.platform_serial());
        wx.platform_cert().public_key().unwrap()
    };
    sign::verify_response(
        &key,
        r.header("Wechatpay-Timestamp"),
        r.header("Wechatpay-Nonce"),
        &r.body,
        r.header("Wechatpay-Signature"),
    )
    .expect("response signature verifies");
    assert_eq!(
        r.header("Wechatpay-Signature-Type"),
        "WECHATPAY2-SHA256-RSA2048"
    );
    serial
}

fn decrypt(server: &MockServer, res: &wire::EncryptedResource) -> Value {
    let key = payagg_core::crypto::SecretKey32::from_secret(server.wechat().apiv3_key()).unwrap();
    let ct = B64.decode(&res.ciphertext).unwrap();
    let pt = key
        .decrypt(res.nonce.as_bytes(), res.associated_data.as_bytes(), &ct)
        .unwrap();
    serde_json::from_slice(&pt).unwrap()
}

fn prepay_body(server: &MockServer, no: &str, total: i64, notify_url: &str) -> String {
    json!({
        "appid": server.wechat().appid(),
        "mchid": server.wechat().mchid(),
        "description": "Tea",
        "out_trade_no": no,
        "notify_url": notify_url,
        "amount": {"total": total, "currency": "CNY"},
    })
    .to_string()
}

/// A notification receiver that fails the first `fail_first` attempts with 500, then
/// acknowledges with 204.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(Mutex::new(0usize));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let h = h.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| {
                    let h = h.clone();
                    async move {
                        let n = {
                            let mut g = h.lock().unwrap();
                            *g += 1;
                            *g
                        };
                        let (status, body) = if n <= fail_first {
                            (500, r#"{"code":"FAIL","message":"失败"}"#)
                        } else {
                            (204, "")
                        };
                        hyper::Response::builder()
                            .status(status)
                            .body(Full::new(Bytes::from(body)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/notify"), hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_bad_signature_stale_timestamp_unknown_serial_and_missing_headers() {
    let server = MockServer::start(config()).await.unwrap();
    let target = "/v3/pay/transactions/out-trade-no/NOPE000001?mchid=1900000001";
    let now = server.now().unix_timestamp();

    // Signature over a different URL.
    let a = auth(
        &server,
        "GET",
        "/v3/pay/transactions/out-trade-no/OTHER00001?mchid=1900000001",
        "",
        now,
    );
    let r = send_with(&server, "GET", target, "", &a, None).await;
    assert_eq!(r.status, 401);
    let j = r.json();
    assert_eq!(j["code"], "SIGN_ERROR");
    assert_eq!(j["detail"]["field"], "signature");
    assert_eq!(j["detail"]["sign_information"]["url"], target);
    assert!(
        r.headers.get("Wechatpay-Signature").is_none(),
        "errors are not signed"
    );

    // Stale timestamp (6 minutes).
    let a = auth(&server, "GET", target, "", now - 360);
    let r = send_with(&server, "GET", target, "", &a, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "SIGN_ERROR");
    assert!(r.json()["message"].as_str().unwrap().contains("5分钟"));

    // Unknown merchant serial.
    let a = auth(&server, "GET", target, "", now).replace(
        &server.wechat().merchant_serial(),
        "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
    );
    let r = send_with(&server, "GET", target, "", &a, None).await;
    assert_eq!(r.status, 401);
    assert!(r.json()["message"].as_str().unwrap().contains("证书序列号"));

    // Malformed header.
    let r = send_with(
        &server,
        "GET",
        target,
        "",
        "WECHATPAY2-SHA256-RSA2048 mchid=1900000001",
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (401, Some("SIGN_ERROR"))
    );

    // Missing User-Agent.
    let a = auth(&server, "GET", target, "", now);
    let r = reqwest::Client::new()
        .get(format!("{}{}", server.base_url(), target))
        .header("Accept", "application/json")
        .header("Authorization", a.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let j: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(j["code"], "INVALID_REQUEST");

    // And a good one: 404 ORDER_NOT_EXIST, unsigned.
    let r = send_with(&server, "GET", target, "", &a, None).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (404, Some("ORDER_NOT_EXIST"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_lifecycle_with_notifications_and_refunds() {
    let server = MockServer::start(config()).await.unwrap();
    let (notify_url, hits) = receiver(1).await;

    let body = prepay_body(&server, "LIFE000001", 1000, &notify_url);
    let r = call(&server, "POST", "/v3/pay/transactions/native", &body).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    verify(&server, &r);
    let prepay: wire::PrepayResponse = serde_json::from_slice(&r.body).unwrap();
    assert!(
        prepay
            .code_url
            .unwrap()
            .starts_with("weixin://wxpay/bizpayurl?pr=")
    );

    // Same number, same parameters: the same answer; other parameters: OUT_TRADE_NO_USED.
    let again = call(&server, "POST", "/v3/pay/transactions/native", &body).await;
    assert_eq!(again.body, r.body);
    let other = call(
        &server,
        "POST",
        "/v3/pay/transactions/native",
        &prepay_body(&server, "LIFE000001", 999, &notify_url),
    )
    .await;
    assert_eq!(
        (other.status, other.json()["code"].as_str()),
        (403, Some("OUT_TRADE_NO_USED"))
    );

    // NOTPAY by out_trade_no; not visible by id yet.
    let q = call(
        &server,
        "GET",
        "/v3/pay/transactions/out-trade-no/LIFE000001?mchid=1900000001",
        "",
    )
    .await;
    assert_eq!(q.json()["trade_state"], "NOTPAY");

    // The payer pays through the control API.
    let paid = reqwest::Client::new()
        .post(format!(
            "{}/__mock/orders/wechat/LIFE000001/pay",
            server.base_url()
        ))
        .body(r#"{"payer":"oPayer123"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 200);

    // Delivered: first attempt answered 500, the retry 204.
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d
                .iter()
                .any(|d| d.acknowledged))
            .await
    );
    let deliveries = server.notifications();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(*hits.lock().unwrap(), 2);
    assert_eq!(
        (deliveries[0].status, deliveries[0].acknowledged),
        (Some(500), false)
    );
    assert_eq!(
        (deliveries[1].status, deliveries[1].attempt),
        (Some(204), 2)
    );
    let d = &deliveries[1];
    let platform = server.wechat().platform_cert().public_key().unwrap();
    sign::verify_response(
        &platform,
        d.header("Wechatpay-Timestamp").unwrap(),
        d.header("Wechatpay-Nonce").unwrap(),
        &d.body,
        d.header("Wechatpay-Signature").unwrap(),
    )
    .unwrap();
    let env: wire::NotifyEnvelope = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(
        (env.event_type.as_str(), env.resource.algorithm.as_str()),
        ("TRANSACTION.SUCCESS", "AEAD_AES_256_GCM")
    );
    let tx: wire::Transaction = serde_json::from_value(decrypt(&server, &env.resource)).unwrap();
    assert_eq!(tx.trade_state, "SUCCESS");
    assert_eq!(tx.payer.unwrap().openid.as_deref(), Some("oPayer123"));
    let txid = tx.transaction_id.unwrap();

    // Query by id, signed with the public key because the request names it.
    let target = format!("/v3/pay/transactions/id/{txid}?mchid=1900000001");
    let a = auth(&server, "GET", &target, "", server.now().unix_timestamp());
    let q = send_with(
        &server,
        "GET",
        &target,
        "",
        &a,
        Some(server.wechat().pub_key_id()),
    )
    .await;
    assert_eq!(q.status, 200);
    assert_eq!(verify(&server, &q), server.wechat().pub_key_id());
    assert_eq!(q.json()["trade_state"], "SUCCESS");
    assert_eq!(q.json()["amount"]["payer_total"], 1000);

    // Partial refund, twice; then one too large.
    let refund = |no: &str, amt: i64| {
        json!({"out_trade_no": "LIFE000001", "out_refund_no": no, "amount": {"refund": amt, "total": 1000, "currency": "CNY"}}).to_string()
    };
    let r1 = call(
        &server,
        "POST",
        "/v3/refund/domestic/refunds",
        &refund("R1", 300),
    )
    .await;
    assert_eq!(r1.status, 200, "{}", String::from_utf8_lossy(&r1.body));
    verify(&server, &r1);
    assert_eq!(r1.json()["status"], "PROCESSING");
    let r1b = call(
        &server,
        "POST",
        "/v3/refund/domestic/refunds",
        &refund("R1", 300),
    )
    .await;
    assert_eq!(
        r1b.json()["refund_id"],
        r1.json()["refund_id"],
        "same out_refund_no is idempotent"
    );
    let r2 = call(
        &server,
        "POST",
        "/v3/refund/domestic/refunds",
        &refund("R2", 600),
    )
    .await;
    assert_eq!(r2.status, 200);
    let too_much = call(
        &server,
        "POST",
        "/v3/refund/domestic/refunds",
        &refund("R3", 101),
    )
    .await;
    assert_eq!(
        (too_much.status, too_much.json()["code"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );
    let rq = call(&server, "GET", "/v3/refund/domestic/refunds/R1", "").await;
    assert_eq!(rq.json()["status"], "SUCCESS");

    // Refund notifications arrive, decrypt, and say REFUND.SUCCESS.
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d
                .iter()
                .filter(|d| d.event_type == "REFUND.SUCCESS" && d.acknowledged)
                .count()
                == 2)
            .await
    );
    let rn = server
        .notifications()
        .into_iter()
        .find(|d| d.event_type == "REFUND.SUCCESS")
        .unwrap();
    let env: wire::NotifyEnvelope = serde_json::from_slice(&rn.body).unwrap();
    let n: wire::RefundNotification =
        serde_json::from_value(decrypt(&server, &env.resource)).unwrap();
    assert_eq!(n.refund_status, "SUCCESS");
    assert_eq!(n.amount.total, 1000);

    let q = call(
        &server,
        "GET",
        "/v3/pay/transactions/out-trade-no/LIFE000001?mchid=1900000001",
        "",
    )
    .await;
    assert_eq!(q.json()["trade_state"], "REFUND");

    // Close of a paid order is refused; of an open one answers a signed 204.
    let close = call(
        &server,
        "POST",
        "/v3/pay/transactions/out-trade-no/LIFE000001/close",
        r#"{"mchid":"1900000001"}"#,
    )
    .await;
    assert_eq!(close.status, 400);
    call(
        &server,
        "POST",
        "/v3/pay/transactions/jsapi",
        &prepay_body(&server, "LIFE000002", 1, &notify_url),
    )
    .await;
    let body2 = json!({"appid": server.wechat().appid(), "mchid": "1900000001", "description": "Tea", "out_trade_no": "LIFE000002",
        "notify_url": notify_url, "amount": {"total": 1}, "payer": {"openid": "o1"}}).to_string();
    assert_eq!(
        call(&server, "POST", "/v3/pay/transactions/jsapi", &body2)
            .await
            .status,
        200
    );
    let close = call(
        &server,
        "POST",
        "/v3/pay/transactions/out-trade-no/LIFE000002/close",
        r#"{"mchid":"1900000001"}"#,
    )
    .await;
    assert_eq!(close.status, 204);
    assert!(close.body.is_empty());
    verify(&server, &close);
    let reopen = call(&server, "POST", "/v3/pay/transactions/jsapi", &body2).await;
    assert_eq!(reopen.json()["code"], "ORDER_CLOSED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_follows_the_mock_clock_and_control_transitions() {
    let server = MockServer::start(config()).await.unwrap();
    for no in ["EXPIRE0001", "FAILED0001"] {
        let r = call(
            &server,
            "POST",
            "/v3/pay/transactions/app",
            &prepay_body(&server, no, 5, "https://example.invalid/n"),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    server.user_paying(Channel::Wechat, "FAILED0001").unwrap();
    let q = call(
        &server,
        "GET",
        "/v3/pay/transactions/out-trade-no/FAILED0001?mchid=1900000001",
        "",
    )
    .await;
    assert_eq!(q.json()["trade_state"], "USERPAYING");
    server.fail(Channel::Wechat, "FAILED0001").unwrap();
    assert!(server.pay(Channel::Wechat, "FAILED0001", None).is_err());

    server.advance(time::Duration::hours(2) + time::Duration::seconds(1));
    let q = call(
        &server,
        "GET",
        "/v3/pay/transactions/out-trade-no/EXPIRE0001?mchid=1900000001",
        "",
    )
    .await;
    assert_eq!(q.json()["trade_state"], "CLOSED");
    let q = call(
        &server,
        "GET",
        "/v3/pay/transactions/out-trade-no/FAILED0001?mchid=1900000001",
        "",
    )
    .await;
    assert_eq!(q.json()["trade_state"], "PAYERROR");
    let orders = reqwest::get(format!("{}/__mock/orders", server.base_url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let orders: Value = serde_json::from_slice(&orders).unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_injection_produces_each_fault() {
    let mut cfg = config();
    cfg.hang_for = Duration::from_millis(300);
    let server = MockServer::start(cfg).await.unwrap();
    let target = "/v3/pay/transactions/out-trade-no/FAULT00001?mchid=1900000001";

    server
        .faults()
        .add(FaultRule::new(FaultKind::SystemError, FaultScope::Next(1)).endpoint("wechat.query"));
    let r = call(&server, "GET", target, "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (500, Some("SYSTEM_ERROR"))
    );
    assert_eq!(
        call(&server, "GET", target, "").await.status,
        404,
        "only the next one"
    );

    server.faults().clear();
    server.faults().add(
        FaultRule::new(FaultKind::HttpStatus { status: 503 }, FaultScope::Next(1))
            .channel(Channel::Wechat),
    );
    assert_eq!(call(&server, "GET", target, "").await.status, 503);

    server.faults().add(FaultRule::new(
        FaultKind::Latency { millis: 300 },
        FaultScope::Next(1),
    ));
    let t = std::time::Instant::now();
    assert_eq!(call(&server, "GET", target, "").await.status, 404);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // Dropped connection and timeout, through the control API.
    let client = reqwest::Client::new();
    for (kind, timeout_ms) in [("drop_connection", 5000u64), ("timeout", 5000)] {
        let rule =
            json!({"fault": {"kind": kind}, "scope": {"next": 1}, "endpoint": "wechat.query"});
        let r = client
            .post(format!("{}/__mock/faults", server.base_url()))
            .body(rule.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let a = auth(&server, "GET", target, "", server.now().unix_timestamp());
        let t = std::time::Instant::now();
        let r = client
            .get(format!("{}{}", server.base_url(), target))
            .header("Accept", "*/*")
            .header("User-Agent", "t")
            .header("Authorization", a)
            .timeout(Duration::from_millis(timeout_ms))
            .send()
            .await;
        assert!(r.is_err(), "{kind}: no answer expected");
        if kind == "timeout" {
            assert!(t.elapsed() >= Duration::from_millis(300));
        }
    }
    assert_eq!(call(&server, "GET", target, "").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_form_request_line_and_certificates() {
    let server = MockServer::start(config()).await.unwrap();
    let target = "/v3/certificates?algorithm_type=RSA";
    let a = auth(&server, "GET", target, "", server.now().unix_timestamp());
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let req = format!(
        "GET http://api.mch.weixin.qq.com{target} HTTP/1.1\r\nHost: api.mch.weixin.qq.com\r\nAccept: application/json\r\nUser-Agent: raw/1\r\nAuthorization: {a}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    let certs: wire::CertificatesResponse = serde_json::from_str(body).unwrap();
    assert_eq!(certs.data.len(), 1);
    assert_eq!(certs.data[0].serial_no, server.wechat().platform_serial());
    let pem = decrypt_raw(&server, &certs.data[0].encrypt_certificate);
    assert_eq!(
        Certificate::from_pem(&pem).unwrap().serial_hex_upper(),
        server.wechat().platform_serial()
    );
}

fn decrypt_raw(server: &MockServer, res: &wire::EncryptedResource) -> String {
    let key = payagg_core::crypto::SecretKey32::from_secret(server.wechat().apiv3_key()).unwrap();
    let ct = B64.decode(&res.ciphertext).unwrap();
    String::from_utf8(
        key.decrypt(res.nonce.as_bytes(), res.associated_data.as_bytes(), &ct)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_notifications() {
    let server = MockServer::start(config()).await.unwrap();
    let (url, _hits) = receiver(0).await;
    for no in ["ORDER00001", "ORDER00002"] {
        call(
            &server,
            "POST",
            "/v3/pay/transactions/native",
            &prepay_body(&server, no, 1, &url),
        )
        .await;
    }
    server.notifier().hold();
    server.notifier().set_duplicates(1);
    server.pay(Channel::Wechat, "ORDER00001", None).unwrap();
    server.pay(Channel::Wechat, "ORDER00002", None).unwrap();
    assert!(server.notifications().is_empty());
    assert_eq!(server.notifier().release(true), 2);
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d.len() == 4)
            .await
    );
    let d = server.notifications();
    let order_of = |i: usize| {
        let env: wire::NotifyEnvelope = serde_json::from_slice(&d[i].body).unwrap();
        decrypt(&server, &env.resource)["out_trade_no"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(order_of(0), "ORDER00002", "reversed");
    assert_eq!(
        d.iter().filter(|x| x.copy == 1).count(),
        2,
        "each sent twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chosen_wallet_is_the_bank_type_in_notification_and_query() {
    let server = MockServer::start(config()).await.unwrap();
    let (url, _hits) = receiver(0).await;
    for no in ["WALLET0001", "WALLET0002", "WALLET0003"] {
        let r = call(
            &server,
            "POST",
            "/v3/pay/transactions/native",
            &prepay_body(&server, no, 100, &url),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let http = reqwest::Client::new();
    let pay = |no: &str, body: Value| {
        http.post(format!(
            "{}/__mock/orders/wechat/{no}/pay",
            server.base_url()
        ))
        .body(body.to_string())
        .send()
    };
    // 花呗 is Alipay's, an unknown code is no wallet: 400, and the order stays open.
    let r = pay("WALLET0001", json!({"wallet": "PCREDIT"}))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("cannot be paid with PCREDIT")
    );
    let r = pay("WALLET0001", json!({"wallet": "CMB"})).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        server.order(Channel::Wechat, "WALLET0001").unwrap().status,
        payagg_mock::OrderStatus::NotPaid
    );

    // Control API with a credit card; library with a debit card; the default is the balance.
    let r = pay(
        "WALLET0001",
        json!({"payer": "oWallet1", "wallet": "ICBC_CREDIT"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let order: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(order["wallet"], "ICBC_CREDIT");
    server
        .pay_as(
            Channel::Wechat,
            "WALLET0002",
            &payagg_mock::PayAs::wallet(payagg_mock::Wallet::debit("CMB")),
        )
        .unwrap();
    server.pay(Channel::Wechat, "WALLET0003", None).unwrap();

    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d.len() == 3)
            .await
    );
    let mut from_notifications = std::collections::BTreeMap::new();
    for d in server.notifications() {
        let env: wire::NotifyEnvelope = serde_json::from_slice(&d.body).unwrap();
        let tx: wire::Transaction =
            serde_json::from_value(decrypt(&server, &env.resource)).unwrap();
        from_notifications.insert(tx.out_trade_no, tx.bank_type.unwrap());
    }
    let want = [
        ("WALLET0001", "ICBC_CREDIT"),
        ("WALLET0002", "CMB_DEBIT"),
        ("WALLET0003", "OTHERS"),
    ];
    for (no, bank_type) in want {
        assert_eq!(from_notifications[no], bank_type);
        let q = call(
            &server,
            "GET",
            &format!("/v3/pay/transactions/out-trade-no/{no}?mchid=1900000001"),
            "",
        )
        .await;
        verify(&server, &q);
        let tx: wire::Transaction = serde_json::from_slice(&q.body).unwrap();
        assert_eq!(
            (tx.trade_state.as_str(), tx.bank_type.as_deref()),
            ("SUCCESS", Some(bank_type))
        );
    }
}

fn h5_body(server: &MockServer, no: &str, notify_url: &str) -> String {
    let mut b: Value = serde_json::from_str(&prepay_body(server, no, 100, notify_url)).unwrap();
    b["scene_info"] = json!({"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}});
    b.to_string()
}

/// `action` of the page's `<form id="pay">`, HTML-unescaped.
fn pay_form_action(html: &str) -> Option<String> {
    let rest = html.split_once("<form id=\"pay\"")?.1;
    let action = rest.split_once("action=\"")?.1.split_once('"')?.0;
    Some(action.replace("&amp;", "&"))
}

fn url_enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The H5 `h5_url` lands on the simulator's copy of WeChat's middle page (same path and
/// query): a browser GETs it, sees the order, posts the payer's choice, and is sent to the
/// `redirect_url` the merchant appended (else back to its Referer, else a result page).
#[tokio::test]
async fn h5_url_is_a_page_a_browser_can_pay_on() {
    let server = MockServer::start(config()).await.unwrap();
    let (url, _hits) = receiver(0).await;
    let mut h5 = std::collections::BTreeMap::new();
    for no in ["H5PAY0001", "H5PAY0002", "H5PAY0003"] {
        let r = call(
            &server,
            "POST",
            "/v3/pay/transactions/h5",
            &h5_body(&server, no, &url),
        )
        .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        verify(&server, &r);
        let u = r.json()["h5_url"].as_str().unwrap().to_owned();
        let prefix = format!(
            "{}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx",
            server.base_url()
        );
        assert!(u.starts_with(&prefix) && u.contains("&package="), "{u}");
        h5.insert(no, u);
    }
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The payer page links each open H5 order's page.
    let payer_page = browser
        .get(format!("{}/", server.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for u in h5.values() {
        let href = format!("href=\"{}\"", u.replace('&', "&amp;"));
        assert!(payer_page.contains(&href), "{payer_page}");
    }

    // 1. With redirect_url: pay with a credit card as a chosen payer, sent back to it.
    let back = "https://merchant.example/h5/return?order=H5PAY0001&x=1";
    let page_url = format!("{}&redirect_url={}", h5["H5PAY0001"], url_enc(back));
    let r = browser.get(&page_url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("H5PAY0001") && html.contains("1.00"),
        "{html}"
    );
    assert!(
        html.contains("name=\"wallet\"") && html.contains("CMB_CREDIT"),
        "{html}"
    );
    let action = pay_form_action(&html).unwrap();
    assert!(
        action.starts_with("/cgi-bin/mmpayweb-bin/checkmweb?prepay_id="),
        "{action}"
    );
    let r = browser
        .post(format!("{}{action}", server.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("payer=oH5Payer&wallet=CMB_CREDIT&action=pay")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"].to_str().unwrap(), back);
    let o = server.order(Channel::Wechat, "H5PAY0001").unwrap();
    assert_eq!(o.status, payagg_mock::OrderStatus::Success);
    assert_eq!(o.payer.as_deref(), Some("oH5Payer"));
    assert_eq!(o.wallet.to_string(), "CMB_CREDIT");
    // The merchant learns it the usual way: the notification carries the card.
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| !d.is_empty())
            .await
    );
    let d = &server.notifications()[0];
    let env: wire::NotifyEnvelope = serde_json::from_slice(&d.body).unwrap();
    let tx: wire::Transaction = serde_json::from_value(decrypt(&server, &env.resource)).unwrap();
    assert_eq!(
        (
            tx.out_trade_no.as_str(),
            tx.trade_state.as_str(),
            tx.bank_type.as_deref()
        ),
        ("H5PAY0001", "SUCCESS", Some("CMB_CREDIT"))
    );
    // Paid: the page shows the state and the way back, and refuses another payment.
    let html = browser
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已支付") && pay_form_action(&html).is_none(),
        "{html}"
    );
    assert!(html.contains("merchant.example/h5/return"), "{html}");
    let r = browser
        .post(format!("{}{action}", server.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("action=pay")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);

    // 2. No redirect_url: back to the page that linked here (Referer); the payment fails.
    let r = browser
        .get(&h5["H5PAY0002"])
        .header("Referer", "https://merchant.example/cart")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    // The form carries the way back, as the browser will submit it.
    assert!(
        html.contains(r#"name="referer" value="https://merchant.example/cart""#),
        "{html}"
    );
    let action = pay_form_action(&html).unwrap();
    let r = browser
        .post(format!("{}{action}", server.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "referer={}&action=fail",
            url_enc("https://merchant.example/cart")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "https://merchant.example/cart"
    );
    assert_eq!(
        server.order(Channel::Wechat, "H5PAY0002").unwrap().status,
        payagg_mock::OrderStatus::PayError
    );

    // 3. Neither: the page shows the result (the default action pays with the balance).
    let r = browser
        .post(&h5["H5PAY0003"])
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("已支付"));
    assert_eq!(
        server
            .order(Channel::Wechat, "H5PAY0003")
            .unwrap()
            .wallet
            .to_string(),
        "BALANCE"
    );

    // A package that does not match, an unknown prepay_id: WeChat's "商家参数格式有误".
    let wrong = h5["H5PAY0001"].replace("&package=", "&package=9");
    let r = browser.get(&wrong).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("商家参数格式有误"));
    let r = browser
        .get(format!(
            "{}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx0&package=1",
            server.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
