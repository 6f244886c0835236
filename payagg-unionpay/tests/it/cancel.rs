//! Consume cancel (`txnType=31`): same day, full amount; sync `00` = accepted only.

use payagg_core::{Error, GatewayErrorKind, MerchantRefundNo, Money, RefundStatus};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::*;

const PATH: &str = "/gateway/api/backTransReq.do";

async fn cancel(a: Answer) -> (MockServer, Result<payagg_core::Refund, Error>) {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(SignedByMerchant::with(&[
            ("txnType", "31"),
            ("txnSubType", "00"),
            ("bizType", "000201"),
            ("origQryId", QUERY_ID),
            ("txnAmt", "1000"),
            ("orderId", "cancel20240105000001"),
        ]))
        .respond_with(a)
        .mount(&s)
        .await;
    let r = client(&s)
        .cancel(
            QUERY_ID,
            &MerchantRefundNo::new("cancel20240105000001").unwrap(),
            Money::cny(1000),
        )
        .await;
    (s, r)
}

#[tokio::test]
async fn accepted_is_processing() {
    let (s, r) = cancel(Answer::ok(&[
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("queryId", REFUND_QUERY_ID),
    ]))
    .await;
    let r = r.unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(r.channel_refund_no.unwrap().as_str(), REFUND_QUERY_ID);
    assert_eq!(received(&s, PATH).await.len(), 1);
    let (_, r) = cancel(Answer::code("05", "交易已受理")).await;
    assert_eq!(r.unwrap().status, RefundStatus::Processing);
}

#[tokio::test]
async fn unknown_timeout_and_failures() {
    for code in ["03", "04", "34"] {
        let (_, r) = cancel(Answer::code(code, "x")).await;
        assert!(r.unwrap_err().outcome_unknown(), "{code}");
    }
    let (s, r) = cancel(Answer::code("00", "x").delay(timeout())).await;
    assert!(r.unwrap_err().outcome_unknown());
    assert_eq!(received(&s, PATH).await.len(), 1, "never resent");
    let (_, r) = cancel(Answer::code("45", "已被成功退货或已被成功撤销")).await;
    let e = r.unwrap_err();
    assert!(!e.outcome_unknown());
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::RefundExceedsPaid));
    let (_, r) = cancel(Answer::code("35", "原交易不存在或状态不正确")).await;
    assert_eq!(
        r.unwrap_err().gateway_kind(),
        Some(GatewayErrorKind::NotFound)
    );
}

#[tokio::test]
async fn tampered_and_forged() {
    let (_, r) = cancel(Answer::code("30", "x").tampered("respCode", "00")).await;
    assert_bad_signature(&r.unwrap_err());
    for (case, sim) in forged() {
        let (_, r) = cancel(Answer::code("00", "x").by(sim)).await;
        assert_forged(case, &r.unwrap_err());
    }
}
