//! Contract: the real `AlipayClient` on its v3 REST transport (`Transport::V3`) against the
//! simulator's `/v3/alipay/…` endpoints, in public-key and certificate mode: precreate →
//! payer pays → query → partial refund → refund query, the order being the very one the
//! classic gateway sees; and requests the simulator must refuse (bad signature, stale
//! timestamp, wrong scheme), answered in the v3 error shape.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use payagg::alipay::Transport;
use payagg::alipay::sign::{self as asign, SignType};
use payagg::clock::Clock;
use payagg::mock::MockServer;
use payagg::{
    Channel, Gateway, GatewayErrorKind, MerchantOrderNo, MerchantRefundNo, Money, PayAction,
    PayRequest, QueryRequest, RefundQuery, RefundRequest, RefundStatus, Scene, TradeStatus,
};
use secrecy::ExposeSecret;

fn order(no: &str) -> MerchantOrderNo {
    MerchantOrderNo::new(no).unwrap()
}

/// The client of `common::alipay`, on the v3 transport.
fn v3_client(server: &Arc<MockServer>, cert: bool) -> payagg::alipay::AlipayClient {
    v3_client_with(server, cert, false)
}

fn v3_client_with(server: &Arc<MockServer>, cert: bool, aes: bool) -> payagg::alipay::AlipayClient {
    let a = server.alipay();
    let mut b = payagg::alipay::Config::builder()
        .app_id(a.app_id())
        .app_private_key(a.app_private_key_pem().expose_secret().to_owned())
        .gateway_url(server.alipay_gateway_url())
        .notify_url(common::NOTIFY)
        .seller_id(a.seller_id())
        .timeouts(common::timeouts())
        .transport(Transport::V3);
    if aes {
        b = b.aes_key(a.aes_key().expose_secret().to_owned());
    }
    b = if cert {
        b.certificates(a.app_cert_pem(), a.alipay_cert_pem(), a.root_cert_pem())
    } else {
        b.alipay_public_key(a.alipay_public_key_pem())
    };
    let clock: Arc<dyn Clock> = server.clock();
    payagg::alipay::AlipayClient::new(b.build().unwrap())
        .unwrap()
        .with_clock(clock)
}

async fn life_cycle(cert: bool) {
    let server = common::start().await;
    let client = v3_client(&server, cert);
    let classic = common::alipay(&server, cert);
    let no = if cert { "CV3LIFEC01" } else { "CV3LIFEP01" };
    let refund_no = format!("{no}R1");

    let req = PayRequest::new(order(no), Money::cny(8888), "咖啡", Scene::MerchantQr).unwrap();
    let PayAction::ShowQrCode { code_url } = client.pay(&req).await.unwrap().action else {
        panic!("precreate did not answer a QR code")
    };
    assert!(code_url.starts_with("http"), "{code_url}");
    // Until the payer scans, Alipay shows no trade (both transports, one state machine).
    let e = client
        .query(&QueryRequest::new(order(no)))
        .await
        .unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::NotFound), "{e:?}");
    let e = classic
        .query(&QueryRequest::new(order(no)))
        .await
        .unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::NotFound), "{e:?}");
    // The payer opens the QR code (the cashier page): the trade waits for payment.
    assert_eq!(
        reqwest::get(&code_url).await.unwrap().status().as_u16(),
        200
    );
    let t = client.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(t.status, TradeStatus::NotPaid);
    server
        .pay(Channel::Alipay, no, Some("2088000000000077"))
        .unwrap();

    let t = client.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(
        (t.status, t.amount),
        (TradeStatus::Success, Money::cny(8888))
    );
    let c = classic.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(c.channel_trade_no, t.channel_trade_no);
    assert_eq!(c.status, TradeStatus::Success);

    let r = client
        .refund(
            &RefundRequest::new(
                order(no),
                MerchantRefundNo::new(&refund_no).unwrap(),
                Money::cny(1000),
                Money::cny(8888),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.amount, r.status),
        (Money::cny(1000), RefundStatus::Success)
    );
    let q = client
        .query_refund(
            &RefundQuery::new(MerchantRefundNo::new(&refund_no).unwrap()).trade(order(no)),
        )
        .await
        .unwrap();
    assert_eq!(
        (q.status, q.amount),
        (RefundStatus::Success, Money::cny(1000))
    );
    // The classic gateway sees the same refund.
    let q = classic
        .query_refund(
            &RefundQuery::new(MerchantRefundNo::new(&refund_no).unwrap()).trade(order(no)),
        )
        .await
        .unwrap();
    assert_eq!(q.amount, Money::cny(1000));
}

#[tokio::test]
async fn v3_life_cycle_public_key_mode() {
    life_cycle(false).await;
}

#[tokio::test]
async fn v3_life_cycle_certificate_mode() {
    life_cycle(true).await;
}

/// A v3 request signed by the app key, with the simulator's clock: `(status, headers, body)`.
async fn raw_query(
    server: &MockServer,
    timestamp_ms: i128,
    scheme: &str,
    tamper: bool,
    extra_auth: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>, String) {
    let a = server.alipay();
    let base = server
        .alipay_gateway_url()
        .trim_end_matches("/gateway.do")
        .to_owned();
    let path = "/v3/alipay/trade/query";
    let body = br#"{"out_trade_no":"CV3NONE001"}"#;
    // A fresh nonce per request: the gateway refuses a replayed one.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let nonce = format!(
        "{:032x}",
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let auth = asign::v3_auth_string(
        a.app_id(),
        None,
        &nonce,
        i64::try_from(timestamp_ms).unwrap(),
    ) + extra_auth;
    let msg = asign::v3_request_message(&auth, "POST", path, body, None);
    let sig = asign::sign(a.app_private_key(), SignType::Rsa2, &msg);
    let header = asign::v3_authorization(&auth, &sig).replacen(asign::V3_AUTH_SCHEME, scheme, 1);
    let sent: &[u8] = if tamper {
        br#"{"out_trade_no":"CV3NONE002"}"#
    } else {
        body
    };
    let resp = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("authorization", header)
        .header("content-type", "application/json")
        .body(sent.to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let raw = resp.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(raw.clone()).unwrap();
    (status, headers, raw, text)
}

fn now_ms(server: &MockServer) -> i128 {
    server.now().unix_timestamp_nanos() / 1_000_000
}

#[tokio::test]
async fn v3_requests_the_simulator_refuses() {
    let server = common::start().await;
    let now = now_ms(&server);
    // Well signed: the order does not exist, a signed 400 in the v3 error shape.
    let (status, headers, raw, body) =
        raw_query(&server, now, asign::V3_AUTH_SCHEME, false, "").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains(r#""code":"ACQ.TRADE_NOT_EXIST""#), "{body}");
    assert!(body.contains("errCheck?traceId="), "{body}");
    // Signed as Alipay signs v3 answers: {ms timestamp}\n{nonce}\n{body}\n.
    let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
    let ts = h("alipay-timestamp");
    assert!((ts.parse::<i128>().unwrap() - now).abs() < 60_000, "{ts}");
    let msg = asign::v3_response_message(&ts, &h("alipay-nonce"), &raw);
    asign::verify(
        server.alipay().alipay_public_key(),
        SignType::Rsa2,
        &msg,
        &h("alipay-signature"),
    )
    .unwrap();
    assert!(headers.get("alipay-sn").is_none(), "public-key mode");

    // The body changed after signing: refused as a bad signature.
    let (status, _, _, body) = raw_query(&server, now, asign::V3_AUTH_SCHEME, true, "").await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains(r#""code":"invalid-signature""#), "{body}");
    assert!(body.contains("验签"), "{body}");

    // Ten minutes past the default 15-minute window (timestamps are milliseconds).
    let stale = now - 25 * 60 * 1000;
    let (status, _, _, body) = raw_query(&server, stale, asign::V3_AUTH_SCHEME, false, "").await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains(r#""code":"invalid-timestamp""#), "{body}");
    // Seconds where milliseconds are due look 55 years stale.
    let (status, _, _, body) =
        raw_query(&server, now / 1000, asign::V3_AUTH_SCHEME, false, "").await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains(r#""code":"invalid-timestamp""#), "{body}");

    // Two minutes old: refused under expired_seconds=60, accepted under 300.
    let old = now - 120_000;
    let (status, _, _, body) = raw_query(
        &server,
        old,
        asign::V3_AUTH_SCHEME,
        false,
        ",expired_seconds=60",
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains(r#""code":"invalid-timestamp""#), "{body}");
    let (status, _, _, body) = raw_query(
        &server,
        old,
        asign::V3_AUTH_SCHEME,
        false,
        ",expired_seconds=300",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("ACQ.TRADE_NOT_EXIST"), "{body}");

    // Another scheme name (the scheme is exact).
    let (status, _, _, body) = raw_query(&server, now, "ALIPAY-SHA256withRSA2", false, "").await;
    assert_eq!(status, 401, "{body}");
}

/// AES content encryption on v3: the request body is ciphertext (`alipay-encrypt-type: AES`)
/// and so is the answer, signed over the ciphertext.
#[tokio::test]
async fn v3_aes_content_encryption() {
    let server = common::start().await;
    let client = v3_client_with(&server, false, true);
    let no = "CV3AES0001";
    let req = PayRequest::new(order(no), Money::cny(1234), "茶", Scene::MerchantQr).unwrap();
    let PayAction::ShowQrCode { code_url } = client.pay(&req).await.unwrap().action else {
        panic!("precreate did not answer a QR code")
    };
    assert_eq!(
        reqwest::get(&code_url).await.unwrap().status().as_u16(),
        200
    );
    server
        .pay(Channel::Alipay, no, Some("2088000000000077"))
        .unwrap();
    let t = client.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(
        (t.status, t.amount),
        (TradeStatus::Success, Money::cny(1234))
    );
    // The same order through a client that does not encrypt.
    let plain = v3_client(&server, false);
    let t2 = plain.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(t2.channel_trade_no, t.channel_trade_no);
}
