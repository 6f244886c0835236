//! The payment-code flow against a wiremock APIv2 endpoint: immediate success, USERPAYING
//! then success, USERPAYING until the timeout then reverse (recall Y, then N), a bad response
//! signature, and a definite refusal (AUTHCODEEXPIRE). A catch-all fails on any unexpected call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use payagg_core::crypto::FixedNonce;
use payagg_core::error::VerificationKind;
use payagg_core::transport::{HttpTransport, ReqwestTransport, Timeouts};
use payagg_core::{Error, GatewayErrorKind, MerchantOrderNo, Money, TradeStatus};
use payagg_wechat::micropay::{
    MicropayClient, MicropayConfig, MicropayRequest, PollSchedule, SignType, Sleeper, decode_xml,
    encode_xml, sign, verify,
};
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const APPID: &str = "wx2421b1c4370ec43b";
const MCH: &str = "10000100";
const ORDER: &str = "1415757673";

fn key() -> SecretString {
    SecretString::from(KEY)
}

/// A signed APIv2 answer: `return_code=SUCCESS`, our appid/mch_id, plus `fields`.
fn answer_with(sign_type: SignType, fields: &[(&str, &str)]) -> String {
    let mut p: BTreeMap<String, String> = [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", APPID),
        ("mch_id", MCH),
        ("nonce_str", "GOp3TRyMXzbMlkun"),
    ]
    .into_iter()
    .chain(fields.iter().copied())
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let s = sign(&p, &key(), sign_type);
    p.insert("sign".into(), s);
    encode_xml(&p).unwrap()
}

fn answer(fields: &[(&str, &str)]) -> String {
    answer_with(SignType::Md5, fields)
}

const PAID: &[(&str, &str)] = &[
    ("result_code", "SUCCESS"),
    ("openid", "oUpF8uN95-Ptaags6E_roPHg7AG0"),
    ("is_subscribe", "Y"),
    ("trade_type", "MICROPAY"),
    ("bank_type", "CMB_DEBIT"),
    ("fee_type", "CNY"),
    ("total_fee", "1"),
    ("cash_fee_type", "CNY"),
    ("cash_fee", "1"),
    ("transaction_id", "1008450740201411110005820873"),
    ("out_trade_no", ORDER),
    ("attach", ""),
    ("time_end", "20141111170043"),
];

fn failed(code: &str, des: &str) -> Vec<(&'static str, String)> {
    vec![
        ("result_code", "FAIL".into()),
        ("err_code", code.into()),
        ("err_code_des", des.into()),
    ]
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn query_state(state: &str) -> String {
    let mut f: Vec<(&str, &str)> = vec![
        ("result_code", "SUCCESS"),
        ("out_trade_no", ORDER),
        ("trade_state", state),
    ];
    if state == "SUCCESS" {
        f.extend(
            PAID.iter()
                .copied()
                .filter(|(k, _)| !matches!(*k, "result_code" | "out_trade_no")),
        );
    }
    answer(&f)
}

/// Answers in order; the last one repeats.
struct Seq(Mutex<VecDeque<String>>);

impl Seq {
    fn new(bodies: Vec<String>) -> Self {
        Self(Mutex::new(bodies.into()))
    }
}

impl Respond for Seq {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut q = self.0.lock().unwrap();
        let body = if q.len() > 1 {
            q.pop_front().unwrap()
        } else {
            q.front().cloned().unwrap()
        };
        ResponseTemplate::new(200)
            .set_body_string(body)
            .insert_header("content-type", "text/xml")
    }
}

#[derive(Debug, Default)]
struct FakeSleeper(Mutex<Vec<Duration>>);

#[async_trait]
impl Sleeper for FakeSleeper {
    async fn sleep(&self, d: Duration) {
        self.0.lock().unwrap().push(d);
    }
}

impl FakeSleeper {
    fn slept(&self) -> Vec<u64> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(Duration::as_secs)
            .collect()
    }
}

/// Stands in for the client-certificate transport; counts what went through it.
#[derive(Debug)]
struct CertTransport {
    inner: ReqwestTransport,
    calls: AtomicUsize,
}

#[async_trait]
impl HttpTransport for CertTransport {
    async fn send(&self, req: http::Request<Bytes>) -> payagg_core::Result<http::Response<Bytes>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.send(req).await
    }
}

struct Harness {
    server: MockServer,
    client: MicropayClient,
    sleeper: Arc<FakeSleeper>,
    cert: Arc<CertTransport>,
}

async fn harness(sign_type: SignType, schedule: PollSchedule) -> Harness {
    let server = MockServer::start().await;
    let config = MicropayConfig::new(APPID, MCH, key())
        .base_url(server.uri())
        .sign_type(sign_type)
        .schedule(schedule);
    let plain = Arc::new(ReqwestTransport::new(Timeouts::default()).unwrap());
    let cert = Arc::new(CertTransport {
        inner: ReqwestTransport::new(Timeouts::default()).unwrap(),
        calls: AtomicUsize::new(0),
    });
    let sleeper = Arc::new(FakeSleeper::default());
    let client = MicropayClient::new(config, plain, cert.clone())
        .unwrap()
        .with_sleeper(sleeper.clone())
        .with_nonce_source(Arc::new(FixedNonce(
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into(),
        )));
    Harness {
        server,
        client,
        sleeper,
        cert,
    }
}

async fn mount(server: &MockServer, p: &str, bodies: Vec<String>, times: u64) {
    Mock::given(method("POST"))
        .and(path(p))
        .respond_with(Seq::new(bodies))
        .expect(times)
        .mount(server)
        .await;
}

/// Fails loudly on anything not mocked.
async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(server)
        .await;
}

fn request() -> MicropayRequest {
    MicropayRequest::new(
        MerchantOrderNo::new(ORDER).unwrap(),
        Money::cny(1),
        "image形象店-深圳腾大-QQ公仔",
        "120061098828009406",
        "14.17.22.52",
    )
    .unwrap()
}

fn schedule() -> PollSchedule {
    PollSchedule::new(Duration::from_secs(5), Duration::from_secs(15))
        .reverse(3, Duration::from_secs(2))
}

#[tokio::test]
async fn immediate_success() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(&h.server, "/pay/micropay", vec![answer(PAID)], 1).await;
    catch_all(&h.server).await;

    let t = h.client.pay(&request()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(t.raw_status, "SUCCESS");
    assert_eq!(
        t.channel_trade_no.as_ref().unwrap().as_str(),
        "1008450740201411110005820873"
    );
    assert_eq!(t.amount, Money::cny(1));
    assert_eq!(t.payer_amount, Some(Money::cny(1)));
    assert_eq!(
        t.paid_at.unwrap().to_string(),
        "2014-11-11 17:00:43.0 +08:00:00"
    );
    assert_eq!(
        t.payer.as_ref().unwrap().expose(),
        "oUpF8uN95-Ptaags6E_roPHg7AG0"
    );
    assert!(h.sleeper.slept().is_empty());

    // The request is the documented example: CDATA XML, MD5-signed (the L9 sign value).
    let reqs = h.server.received_requests().await.unwrap();
    let sent = decode_xml(&reqs[0].body).unwrap();
    assert_eq!(sent["sign"], "9FD62A9CB53CC9A934201C611BF63698");
    assert!(!sent.contains_key("sign_type"));
    assert!(
        std::str::from_utf8(&reqs[0].body)
            .unwrap()
            .contains("<body><![CDATA[image形象店-深圳腾大-QQ公仔]]></body>")
    );
    assert_eq!(
        reqs[0].headers.get("content-type").unwrap(),
        "text/xml; charset=utf-8"
    );
}

#[tokio::test]
async fn userpaying_then_success() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(
        &h.server,
        "/pay/micropay",
        vec![answer(&refs(&failed("USERPAYING", "需要用户输入支付密码")))],
        1,
    )
    .await;
    mount(
        &h.server,
        "/pay/orderquery",
        vec![query_state("USERPAYING"), query_state("SUCCESS")],
        2,
    )
    .await;
    catch_all(&h.server).await;

    let t = h.client.pay(&request()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(
        t.channel_trade_no.as_ref().unwrap().as_str(),
        "1008450740201411110005820873"
    );
    assert_eq!(h.sleeper.slept(), [5, 5]);
    assert_eq!(h.cert.calls.load(Ordering::SeqCst), 0);
    let reqs = h.server.received_requests().await.unwrap();
    let q = decode_xml(&reqs[1].body).unwrap();
    assert_eq!(q["out_trade_no"], ORDER);
    verify(&q, &key(), SignType::Md5).unwrap();
}

#[tokio::test]
async fn userpaying_until_timeout_then_reverse_with_recall() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(
        &h.server,
        "/pay/micropay",
        vec![answer(&refs(&failed("USERPAYING", "需要用户输入支付密码")))],
        1,
    )
    .await;
    mount(
        &h.server,
        "/pay/orderquery",
        vec![
            query_state("USERPAYING"),
            query_state("NOTPAY"),
            query_state("USERPAYING"),
        ],
        3,
    )
    .await;
    let userpaying = failed("USERPAYING", "正在支付中不能发起撤销");
    let mut recall_y = refs(&userpaying);
    recall_y.push(("recall", "Y"));
    let recall_n = answer(&[("result_code", "SUCCESS"), ("recall", "N")]);
    mount(
        &h.server,
        "/secapi/pay/reverse",
        vec![answer(&recall_y), recall_n],
        2,
    )
    .await;
    catch_all(&h.server).await;

    let t = h.client.pay(&request()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Revoked);
    assert_eq!(t.merchant_order_no.as_str(), ORDER);
    // Three 5 s query waits (15 s timeout), then one 2 s wait before the repeated reverse.
    assert_eq!(h.sleeper.slept(), [5, 5, 5, 2]);
    assert_eq!(
        h.cert.calls.load(Ordering::SeqCst),
        2,
        "reverse goes through the certificate transport"
    );
}

#[tokio::test]
async fn reverse_never_confirmed_is_an_unknown_outcome() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(
        &h.server,
        "/pay/micropay",
        vec![answer(&refs(&failed("SYSTEMERROR", "系统超时")))],
        1,
    )
    .await;
    mount(&h.server, "/pay/orderquery", vec![query_state("NOTPAY")], 3).await;
    mount(
        &h.server,
        "/secapi/pay/reverse",
        vec![answer(&[("result_code", "SUCCESS"), ("recall", "Y")])],
        3,
    )
    .await;
    catch_all(&h.server).await;

    let e = h.client.pay(&request()).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e:?}");
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("reversal not confirmed after 3 attempts"),
        "{e}"
    );
}

#[tokio::test]
async fn query_reports_a_definite_failure() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(&h.server, "/pay/micropay", vec!["<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[system busy]]></return_msg></xml>".into()], 1).await;
    mount(
        &h.server,
        "/pay/orderquery",
        vec![query_state("PAYERROR")],
        1,
    )
    .await;
    catch_all(&h.server).await;
    let t = h.client.pay(&request()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Failed);
    assert_eq!(t.raw_status, "PAYERROR");
    assert_eq!(
        t.amount,
        Money::cny(1),
        "the request's amount when the answer states none"
    );
}

#[tokio::test]
async fn bad_response_signature_is_never_trusted() {
    let h = harness(SignType::Md5, schedule()).await;
    let forged = answer(PAID).replace("<total_fee>1</total_fee>", "<total_fee>100</total_fee>");
    mount(&h.server, "/pay/micropay", vec![forged], 1).await;
    catch_all(&h.server).await;

    let e = h.client.pay(&request()).await.unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(v.kind(), &VerificationKind::BadSignature);
    assert!(!e.is_retryable());
    // The charge may have gone through: query before charging again.
    assert!(e.outcome_unknown(), "{e}");
    assert!(h.sleeper.slept().is_empty());
}

#[tokio::test]
async fn answer_about_another_order_is_rejected() {
    let h = harness(SignType::Md5, schedule()).await;
    let other: Vec<(&str, &str)> = PAID
        .iter()
        .map(|&(k, v)| {
            if k == "out_trade_no" {
                (k, "OTHER1")
            } else {
                (k, v)
            }
        })
        .collect();
    mount(&h.server, "/pay/micropay", vec![answer(&other)], 1).await;
    catch_all(&h.server).await;
    let e = h.client.pay(&request()).await.unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(v.kind(), &VerificationKind::BusinessMismatch);
    assert_eq!(v.presented_value(), Some("out_trade_no=OTHER1"));
}

#[tokio::test]
async fn authcodeexpire_fails_at_once() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(
        &h.server,
        "/pay/micropay",
        vec![answer(&refs(&failed(
            "AUTHCODEEXPIRE",
            "二维码已过期，请用户在微信上刷新后再试",
        )))],
        1,
    )
    .await;
    catch_all(&h.server).await;

    let e = h.client.pay(&request()).await.unwrap_err();
    assert_eq!(e.gateway_code(), Some("AUTHCODEEXPIRE"));
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::InvalidParam));
    assert!(!e.outcome_unknown());
    assert!(e.to_string().contains("刷新"), "{e}");
    assert!(h.sleeper.slept().is_empty());
    assert_eq!(h.cert.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn hmac_sha256_requests_and_answers() {
    let h = harness(SignType::HmacSha256, schedule()).await;
    mount(
        &h.server,
        "/pay/micropay",
        vec![answer_with(SignType::HmacSha256, PAID)],
        1,
    )
    .await;
    catch_all(&h.server).await;
    let t = h.client.pay(&request()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    let reqs = h.server.received_requests().await.unwrap();
    let sent = decode_xml(&reqs[0].body).unwrap();
    assert_eq!(sent["sign_type"], "HMAC-SHA256");
    assert_eq!(sent["sign"].len(), 64);
    verify(&sent, &key(), SignType::HmacSha256).unwrap();

    // An MD5-signed answer does not pass for HMAC-SHA256.
    let h = harness(SignType::HmacSha256, schedule()).await;
    mount(&h.server, "/pay/micropay", vec![answer(PAID)], 1).await;
    catch_all(&h.server).await;
    assert!(matches!(
        h.client.pay(&request()).await.unwrap_err(),
        Error::Verification(_)
    ));
}

#[tokio::test]
async fn config_is_checked() {
    let plain: Arc<dyn HttpTransport> =
        Arc::new(ReqwestTransport::new(Timeouts::default()).unwrap());
    let bad = MicropayConfig::new(APPID, MCH, key()).base_url("http://api.mch.weixin.qq.com");
    assert!(matches!(
        MicropayClient::new(bad, plain.clone(), plain.clone()),
        Err(Error::Config(_))
    ));
    let empty = MicropayConfig::new(APPID, MCH, SecretString::from(""));
    assert!(matches!(
        MicropayClient::new(empty, plain.clone(), plain),
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn refused_reversal_is_an_unknown_outcome() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(
        &h.server,
        "/pay/micropay",
        vec![answer(&refs(&failed("BANKERROR", "银行系统异常")))],
        1,
    )
    .await;
    mount(
        &h.server,
        "/pay/orderquery",
        vec![query_state("USERPAYING")],
        3,
    )
    .await;
    mount(
        &h.server,
        "/secapi/pay/reverse",
        vec![answer(&refs(&failed("REVERSE_EXPIRE", "订单无法撤销")))],
        1,
    )
    .await;
    catch_all(&h.server).await;
    let e = h.client.pay(&request()).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e:?}");
    assert!(e.to_string().contains("REVERSE_EXPIRE"), "{e}");
}

#[tokio::test]
async fn unreadable_answer_then_paid() {
    let h = harness(SignType::Md5, schedule()).await;
    Mock::given(method("POST"))
        .and(path("/pay/micropay"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount(
        &h.server,
        "/pay/orderquery",
        vec![query_state("ACCEPT"), query_state("SUCCESS")],
        2,
    )
    .await;
    catch_all(&h.server).await;
    let t = h.client.pay(&request()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(h.sleeper.slept(), [5, 5]);
}

#[tokio::test]
async fn four_byte_characters_are_refused_before_sending() {
    let h = harness(SignType::Md5, schedule()).await;
    catch_all(&h.server).await;
    for (field, req) in [
        ("attach", request().attach("桌号 7 🍜")),
        ("device_info", request().device_info("till-😀")),
        ("goods_tag", request().goods_tag("🎁")),
        ("description", {
            let mut r = request();
            r.body = "面条🍜".into();
            r
        }),
    ] {
        match h.client.pay(&req).await {
            Err(payagg_core::Error::InvalidInput(e)) => assert_eq!(e.field(), field, "{e}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unlisted_err_code_is_resolved_by_query_not_taken_as_a_refusal() {
    let h = harness(SignType::Md5, schedule()).await;
    mount(
        &h.server,
        "/pay/micropay",
        vec![answer(&refs(&failed("SOMETHING_NEW", "新的错误码")))],
        1,
    )
    .await;
    mount(
        &h.server,
        "/pay/orderquery",
        vec![query_state("SUCCESS")],
        1,
    )
    .await;
    catch_all(&h.server).await;

    let t = h.client.pay(&request()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(h.sleeper.slept(), [5]);
    assert_eq!(h.cert.calls.load(Ordering::SeqCst), 0);
}
