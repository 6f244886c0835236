//! The error matrix: WeChat's codes per endpoint, malformed JSON on a signed 2xx, bad
//! signatures on writes, and the `Request-ID` on every error that comes from an answer.

use payagg_core::error::VerificationKind;
use payagg_core::ids::{MerchantRefundNo, MerchantTransferNo};
use payagg_core::{
    CloseRequest, Error, Gateway, GatewayErrorKind, MerchantOrderNo, Money, PayRequest, Payee,
    QueryRequest, RefundQuery, RefundRequest, Scene, Sensitive, StatementKind, StatementRequest,
    TransferRequest,
};
use wiremock::Mock;
use wiremock::matchers::{method, path_regex};

use super::*;

const ORDER: &str = "1217752501201407033233368018";

fn pay_req() -> PayRequest {
    PayRequest::new(
        MerchantOrderNo::new(ORDER).unwrap(),
        Money::cny(100),
        "QQ公仔",
        Scene::MerchantQr,
    )
    .unwrap()
}

fn refund_req() -> RefundRequest {
    RefundRequest::new(
        MerchantOrderNo::new(ORDER).unwrap(),
        MerchantRefundNo::new("R20240520001").unwrap(),
        Money::cny(40),
        Money::cny(100),
    )
    .unwrap()
}

fn transfer_req() -> TransferRequest {
    TransferRequest::new(
        MerchantTransferNo::new("plfk2020042013").unwrap(),
        Payee::WechatOpenId(Sensitive::new("o-MYE42l80oelYMDE34nYD456Xoy".into())),
        Money::cny(400),
        "报销",
    )
    .unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Pay,
    Query,
    Close,
    Refund,
    QueryRefund,
    Transfer,
    QueryTransfer,
    Bill,
}

impl Op {
    fn method_and_path(self) -> (&'static str, &'static str) {
        match self {
            Op::Pay => ("POST", "/v3/pay/transactions/native"),
            Op::Query => ("GET", "/v3/pay/transactions/out-trade-no/[0-9]+$"),
            Op::Close => ("POST", "/v3/pay/transactions/out-trade-no/[0-9]+/close$"),
            Op::Refund => ("POST", "/v3/refund/domestic/refunds$"),
            Op::QueryRefund => ("GET", "/v3/refund/domestic/refunds/R20240520001$"),
            Op::Transfer => ("POST", "/v3/fund-app/mch-transfer/transfer-bills$"),
            Op::QueryTransfer => (
                "GET",
                "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/plfk2020042013$",
            ),
            Op::Bill => ("GET", "/v3/bill/tradebill$"),
        }
    }

    fn is_write(self) -> bool {
        matches!(self, Op::Pay | Op::Close | Op::Refund | Op::Transfer)
    }

    async fn run(self, c: &WechatPayClient) -> Result<(), Error> {
        let order = || MerchantOrderNo::new(ORDER).unwrap();
        match self {
            Op::Pay => c.pay(&pay_req()).await.map(drop),
            Op::Query => c.query(&QueryRequest::new(order())).await.map(drop),
            Op::Close => c.close(&CloseRequest::new(order())).await,
            Op::Refund => c.refund(&refund_req()).await.map(drop),
            Op::QueryRefund => c
                .query_refund(&RefundQuery::new(
                    MerchantRefundNo::new("R20240520001").unwrap(),
                ))
                .await
                .map(drop),
            Op::Transfer => c.transfer(&transfer_req()).await.map(drop),
            Op::QueryTransfer => c
                .query_transfer(&MerchantTransferNo::new("plfk2020042013").unwrap())
                .await
                .map(drop),
            Op::Bill => c
                .download_statement(&StatementRequest::new(
                    time::macros::date!(2024 - 05 - 19),
                    StatementKind::AllTrades,
                ))
                .await
                .map(drop),
        }
    }
}

async fn answer(s: &MockServer, op: Op, t: impl Respond + 'static) {
    let (m, p) = op.method_and_path();
    Mock::given(method(m))
        .and(path_regex(p))
        .respond_with(t)
        .mount(s)
        .await;
}

#[track_caller]
fn assert_names_request_id(e: &Error) {
    assert!(e.to_string().contains(REQUEST_ID), "no request id in {e}");
    if let Error::Gateway(g) = e {
        assert_eq!(g.request_id(), Some(REQUEST_ID), "{e}");
    }
}

/// Each documented code on the endpoints that return it: kind, retryability, outcome and
/// the `Request-ID`.
#[tokio::test]
async fn error_codes_per_endpoint() {
    use GatewayErrorKind as K;
    let cases: &[(Op, u16, &str, K)] = &[
        (Op::Pay, 403, "ORDERPAID", K::OrderPaid),
        (Op::Pay, 400, "ORDER_CLOSED", K::OrderClosed),
        (Op::Pay, 429, "FREQUENCY_LIMITED", K::RateLimited),
        (Op::Pay, 401, "SIGN_ERROR", K::AuthFailed),
        (Op::Pay, 400, "PARAM_ERROR", K::InvalidParam),
        (Op::Pay, 400, "APPID_MCHID_NOT_MATCH", K::InvalidParam),
        (Op::Pay, 403, "NO_AUTH", K::NoPermission),
        (Op::Pay, 500, "SYSTEM_ERROR", K::SystemError),
        (Op::Query, 404, "ORDER_NOT_EXIST", K::NotFound),
        (Op::Query, 429, "RATELIMIT_EXCEEDED", K::RateLimited),
        (Op::Query, 401, "SIGN_ERROR", K::AuthFailed),
        (Op::Close, 400, "ORDERPAID", K::OrderPaid),
        (Op::Close, 400, "ORDER_CLOSED", K::OrderClosed),
        (Op::Close, 404, "ORDER_NOT_EXIST", K::NotFound),
        (Op::Refund, 403, "NOT_ENOUGH", K::InsufficientFunds),
        (Op::Refund, 429, "FREQUENCY_LIMITED", K::RateLimited),
        (Op::Refund, 404, "RESOURCE_NOT_EXISTS", K::NotFound),
        (Op::Refund, 401, "SIGN_ERROR", K::AuthFailed),
        (Op::Refund, 500, "SYSTEMERROR", K::SystemError),
        (Op::QueryRefund, 404, "RESOURCE_NOT_EXISTS", K::NotFound),
        (Op::QueryRefund, 429, "RATELIMIT_EXCEEDED", K::RateLimited),
        (Op::Transfer, 403, "NOT_ENOUGH", K::InsufficientFunds),
        (Op::Transfer, 429, "FREQUENCY_LIMITED", K::RateLimited),
        (Op::Transfer, 403, "NO_AUTH", K::NoPermission),
        (Op::QueryTransfer, 404, "NOT_FOUND", K::NotFound),
        (Op::Bill, 400, "STATEMENT_CREATING", K::Unknown),
        (Op::Bill, 401, "SIGN_ERROR", K::AuthFailed),
    ];
    for &(op, status, code, kind) in cases {
        let s = server().await;
        answer(&s, op, error_body(status, code, "消息")).await;
        let c = client(pubkey_config(&s).build().unwrap());
        let e = op.run(&c).await.unwrap_err();
        let what = format!("{op:?} {code}: {e}");
        assert_eq!(e.gateway_code(), Some(code), "{what}");
        assert_eq!(e.gateway_kind(), Some(kind), "{what}");
        assert_eq!(
            e.is_retryable(),
            matches!(kind, K::RateLimited | K::SystemError),
            "{what}"
        );
        // Only a system error leaves a write's outcome open.
        assert_eq!(
            e.outcome_unknown(),
            kind == K::SystemError && op.is_write(),
            "{what}"
        );
        assert_names_request_id(&e);
        // Writes are sent once; reads retried only when it can help.
        let sent = s
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() != "/")
            .count();
        let want = if !op.is_write() && e.is_retryable() {
            3
        } else {
            1
        };
        assert_eq!(sent, want, "{what}");
    }
}

/// A correctly signed 2xx whose body is not the JSON expected: a decode error, outcome
/// unknown for writes, naming the `Request-ID`; a write is not sent twice.
#[tokio::test]
async fn malformed_json_on_a_signed_2xx_is_a_decode_error() {
    for op in [
        Op::Pay,
        Op::Query,
        Op::Refund,
        Op::QueryRefund,
        Op::Transfer,
        Op::QueryTransfer,
        Op::Bill,
    ] {
        for body in [r#"{"code_url": "weixin://"#, "<html>502</html>", "[]"] {
            let s = server().await;
            answer(&s, op, Signed::ok(body)).await;
            let c = client(pubkey_config(&s).build().unwrap());
            let e = op.run(&c).await.unwrap_err();
            let what = format!("{op:?} {body:?}: {e}");
            assert!(matches!(e, Error::Decode(_)), "{what}");
            assert!(e.outcome_unknown(), "{what}");
            assert_names_request_id(&e);
            assert_eq!(s.received_requests().await.unwrap().len(), 1, "{what}");
        }
    }
    // Well-formed JSON without the field the scene needs is a decode error too.
    let s = server().await;
    answer(&s, Op::Pay, Signed::ok(r#"{"prepay_id":"wx1"}"#)).await;
    let e = client(pubkey_config(&s).build().unwrap())
        .pay(&pay_req())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode(_)) && e.outcome_unknown(), "{e}");
    assert!(e.to_string().contains("code_url"), "{e}");
    assert_names_request_id(&e);
}

/// A badly signed answer to a write leaves the write's outcome unknown (query before
/// sending again); to a read it does not. Either way the `Request-ID` is named.
#[tokio::test]
async fn bad_signature_on_a_write_is_an_unknown_outcome() {
    let ok = |op: Op| match op {
        Op::Pay => r#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#,
        Op::Close => "",
        _ => "{}",
    };
    for op in [Op::Pay, Op::Close, Op::Refund, Op::Transfer, Op::Query] {
        for (name, resp) in [
            ("tampered", Signed::ok(ok(op)).tampered()),
            ("stale", Signed::ok(ok(op)).timestamp(NOW - 301)),
            (
                "probe",
                Signed::ok(ok(op)).serial("PUB_KEY_ID_0000000000000000000000000000000009"),
            ),
        ] {
            // A 204 carries no body, so a signature over "{}" stands for tampering there.
            let resp = match (op, name) {
                (Op::Close, "tampered") => Signed::ok("{}").status(204),
                (Op::Close, _) => resp.status(204),
                _ => resp,
            };
            let s = server().await;
            answer(&s, op, resp).await;
            let c = client(pubkey_config(&s).build().unwrap());
            let e = op
                .run(&c)
                .await
                .expect_err(&format!("{op:?} {name} accepted"));
            let what = format!("{op:?} {name}: {e}");
            assert!(matches!(e, Error::Verification(_)), "{what}");
            assert_eq!(e.outcome_unknown(), op.is_write(), "{what}");
            assert!(!e.is_retryable(), "{what}");
            assert_names_request_id(&e);
            assert_eq!(s.received_requests().await.unwrap().len(), 1, "{what}");
        }
    }
}

/// `202 Accepted` ("repeat with the same parameters") is a retryable system error naming
/// the `Request-ID`.
#[tokio::test]
async fn accepted_202_names_the_request_id() {
    let s = server().await;
    answer(&s, Op::Refund, Signed::ok("").status(202)).await;
    let e = client(pubkey_config(&s).build().unwrap())
        .refund(&refund_req())
        .await
        .unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::SystemError), "{e}");
    assert!(e.outcome_unknown());
    assert_names_request_id(&e);
}

/// Verification errors keep their kind, expected and presented values when the id is added.
#[tokio::test]
async fn unknown_key_keeps_its_detail_and_gains_the_request_id() {
    let s = server().await;
    answer(
        &s,
        Op::Query,
        Signed::ok("{}").serial("PUB_KEY_ID_0000000000000000000000000000000009"),
    )
    .await;
    let e = client(pubkey_config(&s).build().unwrap())
        .query(&QueryRequest::new(MerchantOrderNo::new(ORDER).unwrap()))
        .await
        .unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(v.kind(), &VerificationKind::UnknownKey);
    assert_eq!(
        v.presented_value(),
        Some("PUB_KEY_ID_0000000000000000000000000000000009")
    );
    assert_eq!(v.expected_value(), Some(PUB_KEY_ID));
    assert!(
        v.detail().contains(&format!("request id {REQUEST_ID}")),
        "{e}"
    );
    assert!(!e.outcome_unknown());
}
