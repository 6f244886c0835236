//! App consume on `appTransReq.do` → `tn`.

use payagg_core::{Error, Gateway, MerchantOrderNo, Money, PayAction, PayRequest, Scene};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::*;

const PATH: &str = "/gateway/api/appTransReq.do";
const TN: &str = "201602141008032671528";

fn req() -> PayRequest {
    PayRequest::new(
        MerchantOrderNo::new("APP20240105160000001").unwrap(),
        Money::cny(1234),
        "app",
        Scene::App,
    )
    .unwrap()
    .attach("inv-2024-0001")
}

async fn pay(a: Answer) -> (MockServer, Result<payagg_core::PayResponse, Error>) {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(SignedByMerchant::with(&[
            ("txnType", "01"),
            ("txnSubType", "01"),
            ("bizType", "000201"),
            ("channelType", "08"),
            ("accessType", "0"),
            ("currencyCode", "156"),
            ("txnAmt", "1234"),
            ("txnTime", TXN_TIME),
            ("payTimeout", "20240105161500"),
            ("reqReserved", "inv-2024-0001"),
            ("backUrl", "https://shop.example/unionpay/notify"),
        ]))
        .respond_with(a)
        .mount(&s)
        .await;
    let r = client(&s).pay(&req()).await;
    (s, r)
}

#[tokio::test]
async fn success_returns_tn() {
    let (_, r) = pay(Answer::ok(&[
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("tn", TN),
    ]))
    .await;
    let r = r.unwrap();
    assert!(matches!(r.action, PayAction::AppTransactionNumber(ref tn) if tn == TN));
    assert_eq!(r.channel_ref.as_deref(), Some(TXN_TIME));
}

#[tokio::test]
async fn processing_and_unknown_codes_are_unknown_outcomes() {
    for code in ["03", "04", "05", "34", "12", "99x"] {
        let (_, r) = pay(Answer::code(code, "x")).await;
        let e = r.unwrap_err();
        assert!(e.outcome_unknown(), "{code}: {e}");
    }
    // 00 without tn: not understood, outcome unknown.
    let (_, r) = pay(Answer::code("00", "成功[0000000]")).await;
    assert!(r.unwrap_err().outcome_unknown());
}

#[tokio::test]
async fn timeout_is_unknown_and_never_resent() {
    let (s, r) = pay(Answer::ok(&[("respCode", "00"), ("tn", TN)]).delay(timeout())).await;
    assert!(r.unwrap_err().outcome_unknown());
    assert_eq!(received(&s, PATH).await.len(), 1);
}

#[tokio::test]
async fn failure_is_a_failure() {
    for code in ["30", "13", "33", "64"] {
        let (_, r) = pay(Answer::code(code, "x")).await;
        let e = r.unwrap_err();
        assert!(!e.outcome_unknown(), "{code}");
        assert_eq!(e.gateway_code(), Some(code));
    }
}

#[tokio::test]
async fn tampered_and_forged() {
    let (_, r) =
        pay(Answer::ok(&[("respCode", "00"), ("tn", TN)]).tampered("tn", "201602141008032671529"))
            .await;
    assert_bad_signature(&r.unwrap_err());
    for (case, sim) in forged() {
        let (_, r) = pay(Answer::ok(&[("respCode", "00"), ("tn", TN)]).by(sim)).await;
        assert_forged(case, &r.unwrap_err());
    }
}
