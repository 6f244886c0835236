//! `queryTrans.do`: respCode / origRespCode mapping, schedule, unknown outcomes, forgeries.

use async_trait::async_trait;
use payagg_core::{
    ChannelTradeNo, Error, Gateway, GatewayErrorKind, MerchantOrderNo, Money, PayRequest,
    QueryRequest, Scene, TradeStatus,
};
use payagg_unionpay::{QuerySchedule, Sleeper};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::*;

const PATH: &str = "/gateway/api/queryTrans.do";
const ORDER: &str = "pay20240105145046";

fn paid(orig: &str) -> Answer {
    Answer::ok(&[
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("origRespCode", orig),
        ("origRespMsg", "成功[0000000]"),
        ("queryId", QUERY_ID),
        ("txnAmt", "1"),
        ("settleAmt", "1"),
        ("settleCurrencyCode", "156"),
        ("settleDate", "0105"),
        ("traceNo", "784649"),
        ("traceTime", "0105145046"),
        ("currencyCode", "156"),
        ("accNo", "cDg4+/2g=="),
        ("issuerIdentifyMode", "0"),
    ])
}

fn processing(orig: &str) -> Answer {
    Answer::ok(&[
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("origRespCode", orig),
        ("origRespMsg", "交易已受理，请稍后查询交易结果[6154037]"),
        ("settleAmt", "0"),
        ("txnAmt", "1"),
    ])
}

async fn mount(s: &MockServer, a: Answer) {
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(SignedByMerchant::with(&[
            ("txnType", "00"),
            ("txnSubType", "00"),
            ("bizType", "000000"),
            ("accessType", "0"),
            ("orderId", ORDER),
            ("txnTime", "20240105145046"),
        ]))
        .respond_with(a)
        .mount(s)
        .await;
}

async fn query(a: Answer) -> Result<payagg_core::Trade, Error> {
    let s = server().await;
    mount(&s, a).await;
    client(&s).query_order(ORDER, "20240105145046").await
}

#[tokio::test]
async fn success_00_and_a6() {
    for orig in ["00", "A6"] {
        let t = query(paid(orig)).await.unwrap();
        assert_eq!(t.status, TradeStatus::Success, "{orig}");
        assert_eq!(t.raw_status, orig);
        assert_eq!(t.merchant_order_no.as_str(), ORDER);
        assert_eq!(t.channel_trade_no.as_ref().unwrap().as_str(), QUERY_ID);
        assert_eq!(t.amount, Money::cny(1));
        assert_eq!(
            t.paid_at.unwrap(),
            time::macros::datetime!(2024-01-05 14:50:46 +08:00)
        );
    }
}

#[tokio::test]
async fn processing_orig_03_04_05_is_not_paid() {
    for orig in ["03", "04", "05", "70"] {
        let t = query(processing(orig)).await.unwrap();
        assert_eq!(t.status, TradeStatus::NotPaid, "{orig}");
        assert!(!t.status.is_final());
        assert!(t.channel_trade_no.is_none());
        assert_eq!(t.raw_status, orig);
    }
}

#[tokio::test]
async fn orig_unknown_codes_stay_open() {
    // Java demo: 01/12/34/60 "订单处理中或交易状态未明"; unlisted codes too.
    for orig in ["01", "12", "34", "60", "74", "ZZ"] {
        let t = query(processing(orig)).await.unwrap();
        assert_eq!(t.status, TradeStatus::NotPaid, "{orig}");
    }
}

#[tokio::test]
async fn orig_failure_is_failed_for_an_order_not_sent_here() {
    let t = query(processing("64")).await.unwrap();
    assert_eq!(t.status, TradeStatus::Failed);
    assert_eq!(t.raw_status, "64");
}

#[tokio::test]
async fn resp_34_and_03_04_05_are_unknown_outcomes() {
    for (code, msg) in [
        ("34", "查无此交易[2600000]"),
        ("03", "交易通讯超时，请发起查询交易"),
        ("04", "交易状态未明，请查询对账结果"),
        ("05", "交易已受理，请稍后查询交易结果"),
        ("37", "已超过最大查询次数或操作过于频繁"),
    ] {
        let e = query(Answer::code(code, msg).remove("txnAmt"))
            .await
            .unwrap_err();
        assert!(e.outcome_unknown(), "{code}: {e}");
        assert_eq!(e.gateway_code(), Some(code));
        assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::SystemError));
    }
}

#[tokio::test]
async fn config_errors_are_failures_not_statements_about_the_order() {
    for (code, kind) in [
        ("10", GatewayErrorKind::InvalidParam),
        ("11", GatewayErrorKind::AuthFailed),
        ("13", GatewayErrorKind::InvalidParam),
        ("32", GatewayErrorKind::NoPermission),
    ] {
        let e = query(Answer::code(code, "x[9100004]")).await.unwrap_err();
        assert!(!e.outcome_unknown(), "{code}");
        assert_eq!(e.gateway_kind(), Some(kind), "{code}");
    }
}

#[tokio::test]
async fn timeout_is_unknown_and_queries_are_retried() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(paid("00").delay(timeout()))
        .expect(2)
        .mount(&s)
        .await;
    let e = client(&s)
        .query_order(ORDER, "20240105145046")
        .await
        .unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
}

#[tokio::test]
async fn http_error_and_unsigned_answers_are_unknown() {
    let e = query(paid("00").status(500)).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
    let e = query(Answer::code("34", "查无此交易[2600000]").unsigned())
        .await
        .unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
    assert!(
        !matches!(e, Error::Gateway(_)),
        "unsigned answers prove nothing"
    );
}

#[tokio::test]
async fn tampered_fields_fail_verification() {
    for (k, v) in [
        ("origRespCode", "00"),
        ("txnAmt", "100"),
        ("extra", "1"),
        ("respMsg", ""),
    ] {
        let a = processing("05").tampered(k, v);
        let e = query(a).await.unwrap_err();
        assert_bad_signature(&e);
        assert!(!e.outcome_unknown(), "{k}");
    }
    // A field removed after signing.
    let mut a = paid("00");
    a.tamper.clear();
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(move |req: &wiremock::Request| {
            let mut f = a.fields_for(&request_fields(req));
            f.remove("accNo");
            ResponseTemplate::new(200).set_body_string(qstring::to_raw_string(&f))
        })
        .mount(&s)
        .await;
    let e = client(&s)
        .query_order(ORDER, "20240105145046")
        .await
        .unwrap_err();
    assert_bad_signature(&e);
}

#[tokio::test]
async fn forged_certificates_are_refused() {
    for (case, sim) in forged() {
        let e = query(paid("00").by(sim)).await.unwrap_err();
        assert_forged(case, &e);
    }
}

#[tokio::test]
async fn gateway_query_needs_the_txn_time_this_client_sent() {
    let s = server().await;
    let c = client(&s);
    let e = c
        .query(&QueryRequest::new(
            MerchantOrderNo::new("NEVERSENT0001").unwrap(),
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    // No query by queryId in ACP 5.1.0 (orderId + txnTime only): a typed error, nothing sent.
    let e = c
        .query(&QueryRequest::new(ChannelTradeNo::new(QUERY_ID).unwrap()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput(ref i) if i.field() == "trade"),
        "{e:?}"
    );
    assert!(!e.outcome_unknown());
    assert!(received(&s, PATH).await.is_empty());
}

#[tokio::test]
async fn gateway_query_after_pay_uses_order_and_txn_time() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(SignedByMerchant::with(&[
            ("orderId", "B2C20240105160000001"),
            ("txnTime", TXN_TIME),
        ]))
        .respond_with(paid("00"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let req = PayRequest::new(
        MerchantOrderNo::new("B2C20240105160000001").unwrap(),
        Money::cny(1),
        "test",
        Scene::UnionpayB2c,
    )
    .unwrap();
    let resp = c.pay(&req).await.unwrap();
    assert_eq!(resp.channel_ref.as_deref(), Some(TXN_TIME));
    let t = c
        .query(&QueryRequest::new(req.merchant_order_no.clone()))
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::Success);
}

#[tokio::test]
async fn front_order_failure_before_pay_timeout_is_not_final() {
    // Official: before payTimeout "失败，处理中，查询不到订单均可能为中间状态".
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(processing("30"))
        .with_priority(10)
        .mount(&s)
        .await;
    let clock = Arc::new(ManualClock::new(now()));
    let c = UnionPayClient::new(base_config(&s).build().unwrap())
        .unwrap()
        .with_clock(clock.clone());
    let req = PayRequest::new(
        MerchantOrderNo::new("B2B20240105160000009").unwrap(),
        Money::cny(1),
        "test",
        Scene::UnionpayB2b { bank: None },
    )
    .unwrap();
    c.pay(&req).await.unwrap();
    let q = QueryRequest::new(req.merchant_order_no.clone());
    let t = c.query(&q).await.unwrap();
    assert_eq!(t.status, TradeStatus::NotPaid, "before payTimeout");
    assert_eq!(t.raw_status, "30");
    clock.advance(time::Duration::minutes(16));
    let t = c.query(&q).await.unwrap();
    assert_eq!(t.status, TradeStatus::Failed, "after payTimeout (15 min)");
}

#[derive(Debug, Default)]
struct NoSleep(std::sync::Mutex<Vec<std::time::Duration>>);

#[async_trait]
impl Sleeper for NoSleep {
    async fn sleep(&self, d: std::time::Duration) {
        self.0.lock().unwrap().push(d);
    }
}

#[tokio::test]
async fn schedule_queries_again_on_05_and_34_then_stops_on_success() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(processing("05"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(Answer::code("34", "查无此交易[2600000]"))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(paid("00"))
        .with_priority(3)
        .mount(&s)
        .await;
    let sleeper = NoSleep::default();
    let t = client(&s)
        .query_until_final(ORDER, "20240105145046", QuerySchedule::Back, &sleeper)
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(received(&s, PATH).await.len(), 3);
    let waited: Vec<u64> = sleeper
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|d| d.as_secs())
        .collect();
    assert_eq!(waited, [1, 2, 4]);
}

#[tokio::test]
async fn schedule_ends_unknown_and_stops_at_once_on_forgery() {
    let s = server().await;
    mount(&s, processing("05")).await;
    let sleeper = NoSleep::default();
    let t = client(&s)
        .query_until_final(ORDER, "20240105145046", QuerySchedule::Back, &sleeper)
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::NotPaid);
    assert_eq!(received(&s, PATH).await.len(), 6);

    let s = server().await;
    mount(&s, paid("00").by(&pki().wrong_cn)).await;
    let e = client(&s)
        .query_until_final(
            ORDER,
            "20240105145046",
            QuerySchedule::Back,
            &NoSleep::default(),
        )
        .await
        .unwrap_err();
    assert_forged("wrong CN", &e);
    assert_eq!(received(&s, PATH).await.len(), 1);
}
