//! The v3 REST transport against wiremock: for every endpoint the exact request (verb, path,
//! query, body, `Authorization` verifying with the app public key), success, a signed error
//! body, an unsigned error body, a tampered response signature, missing signature headers, a
//! 5xx and a timeout; then certificate mode, `app_auth_token`, AES and the payment-code flow.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use payagg_alipay::sign::{self, SignType};
use payagg_alipay::{AlipayClient, Transport};
use payagg_core::crypto::{FixedNonce, RsaPrivateKey, RsaPublicKey};
use payagg_core::error::{Error, VerificationKind};
use payagg_core::ids::MerchantTransferNo;
use payagg_core::statement::{StatementKind, StatementRequest};
use payagg_core::trade::{CloseRequest, QueryRequest, TradeRef, TradeStatus};
use payagg_core::{
    Gateway, GatewayErrorKind, MerchantOrderNo, MerchantRefundNo, Money, PayAction, PayRequest,
    Payee, RefundQuery, RefundRequest, Scene, Sensitive, TransferRequest,
};
use serde_json::{Value, json};
use time::macros::{date, datetime};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::*;

const NONCE: &str = "V3NONCE0000000000000000000000001";

fn ts_ms() -> i64 {
    datetime!(2024-05-20 10:00 +08:00).unix_timestamp() * 1000
}

fn v3_client(s: &MockServer, b: payagg_alipay::ConfigBuilder) -> AlipayClient {
    let cfg = b.transport(Transport::V3).build().unwrap();
    assert_eq!(cfg.v3_base_url(), s.uri());
    client(cfg).0.with_nonce(Arc::new(FixedNonce(NONCE.into())))
}

fn pk(s: &MockServer) -> AlipayClient {
    v3_client(
        s,
        base(&s.uri()).alipay_public_key(keys().1.public_pem.clone()),
    )
}

/// A v3 answer signed the way Alipay signs it (or deliberately not).
#[derive(Clone)]
struct V3 {
    status: u16,
    body: String,
    key: RsaPrivateKey,
    sn: Option<String>,
    sign: bool,
    tamper: bool,
    delay: Option<Duration>,
}

impl V3 {
    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: body.to_string(),
            key: keys().1.key.clone(),
            sn: None,
            sign: true,
            tamper: false,
            delay: None,
        }
    }
    fn err(status: u16, code: &str) -> Self {
        Self {
            status,
            ..Self::ok(
                json!({"code":code,"message":"错误","links":[{"link":"https://open.alipay.com/api/errCheck?traceId=t1","desc":"解决方案"}]}),
            )
        }
    }
    fn unsigned(mut self) -> Self {
        self.sign = false;
        self
    }
    fn tampered(mut self) -> Self {
        self.tamper = true;
        self
    }
    fn template(&self) -> ResponseTemplate {
        let mut t = ResponseTemplate::new(self.status)
            .insert_header("alipay-trace-id", "trace-1")
            .insert_header("content-type", "application/json");
        if self.sign {
            let ts = "1716170400123";
            let nonce = "rspnonce";
            let msg = sign::v3_response_message(ts, nonce, self.body.as_bytes());
            let sig = sign::sign(&self.key, SignType::Rsa2, &msg);
            t = t
                .insert_header("alipay-timestamp", ts)
                .insert_header("alipay-nonce", nonce)
                .insert_header("alipay-signature", sig.as_str());
            if let Some(sn) = &self.sn {
                t = t.insert_header("alipay-sn", sn.as_str());
            }
        }
        let body = if self.tamper {
            self.body.replacen('1', "2", 1)
        } else {
            self.body.clone()
        };
        t = t.set_body_string(body);
        if let Some(d) = self.delay {
            t = t.set_delay(d);
        }
        t
    }
}

impl Respond for V3 {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.template()
    }
}

/// Checks the `Authorization` header against the request as received; returns the auth pairs.
fn check_signature(req: &Request, token: Option<&str>) -> Vec<(String, String)> {
    let auth = req.headers.get("authorization").unwrap().to_str().unwrap();
    let rest = auth.strip_prefix("ALIPAY-SHA256withRSA ").unwrap();
    let (auth_string, sig) = rest.rsplit_once(",sign=").unwrap();
    let pq = match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_owned(),
    };
    let msg = sign::v3_request_message(auth_string, req.method.as_str(), &pq, &req.body, token);
    let app_pub = RsaPublicKey::from_pem(&keys().0.public_pem).unwrap();
    sign::verify(&app_pub, SignType::Rsa2, &msg, sig).unwrap();
    let pairs: Vec<(String, String)> = auth_string
        .split(',')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert_eq!(pairs[0], ("app_id".into(), APP_ID.into()));
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("nonce"), NONCE);
    assert_eq!(get("timestamp"), ts_ms().to_string());
    assert_eq!(
        req.headers
            .get("alipay-request-id")
            .unwrap()
            .to_str()
            .unwrap(),
        NONCE
    );
    pairs
}

fn order() -> MerchantOrderNo {
    MerchantOrderNo::new("A20240520001").unwrap()
}

fn trade_obj(status: &str) -> Value {
    json!({"trade_no":"2024052022001","out_trade_no":"A20240520001","trade_status":status,
           "total_amount":"12.30","buyer_pay_amount":"12.30","buyer_user_id":"2088102",
           "send_pay_date":"2024-05-20 10:01:02"})
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Precreate,
    Pay,
    Query,
    Close,
    Cancel,
    Refund,
    RefundQuery,
    Transfer,
    TransferQuery,
    BillUrl,
}

const ALL: [Op; 10] = [
    Op::Precreate,
    Op::Pay,
    Op::Query,
    Op::Close,
    Op::Cancel,
    Op::Refund,
    Op::RefundQuery,
    Op::Transfer,
    Op::TransferQuery,
    Op::BillUrl,
];

impl Op {
    fn verb_path(self) -> (&'static str, &'static str) {
        match self {
            Op::Precreate => ("POST", "/v3/alipay/trade/precreate"),
            Op::Pay => ("POST", "/v3/alipay/trade/pay"),
            Op::Query => ("POST", "/v3/alipay/trade/query"),
            Op::Close => ("POST", "/v3/alipay/trade/close"),
            Op::Cancel => ("POST", "/v3/alipay/trade/cancel"),
            Op::Refund => ("POST", "/v3/alipay/trade/refund"),
            Op::RefundQuery => ("POST", "/v3/alipay/trade/fastpay/refund/query"),
            Op::Transfer => ("POST", "/v3/alipay/fund/trans/uni/transfer"),
            Op::TransferQuery => ("GET", "/v3/alipay/fund/trans/common/query"),
            Op::BillUrl => ("GET", "/v3/alipay/data/dataservice/bill/downloadurl/query"),
        }
    }

    fn success(self, uri: &str) -> Value {
        match self {
            Op::Precreate => {
                json!({"out_trade_no":"A20240520001","qr_code":"https://qr.alipay.com/bax0001"})
            }
            Op::Pay => json!({"trade_no":"2024052022001","out_trade_no":"A20240520001",
                "total_amount":"12.30","buyer_pay_amount":"12.30","buyer_user_id":"2088102",
                "gmt_payment":"2024-05-20 10:00:03"}),
            Op::Query => trade_obj("TRADE_SUCCESS"),
            Op::Close => json!({"out_trade_no":"A20240520001","trade_no":"2024052022001"}),
            Op::Cancel => json!({"out_trade_no":"A20240520001","retry_flag":"N","action":"close"}),
            Op::Refund => json!({"out_trade_no":"A20240520001","trade_no":"2024052022001",
                "fund_change":"Y","refund_fee":"1.00","gmt_refund_pay":"2024-05-20 10:05:00"}),
            Op::RefundQuery => json!({"out_trade_no":"A20240520001","out_request_no":"R1",
                "refund_amount":"1.00","total_amount":"12.30","refund_status":"REFUND_SUCCESS"}),
            Op::Transfer => json!({"out_biz_no":"T1","order_id":"20210523110070000006860066337636",
                "pay_fund_order_id":"2021052311007","status":"SUCCESS","trans_date":"2021-05-23 12:00:57"}),
            Op::TransferQuery => json!({"out_biz_no":"T1","order_id":"2021","status":"SUCCESS",
                "trans_amount":"1.00","pay_date":"2021-05-23 12:00:57"}),
            Op::BillUrl => json!({"bill_download_url": format!("{uri}/bill/download.zip")}),
        }
    }

    /// Runs the operation; a short description of the result on success.
    async fn run(self, c: &AlipayClient) -> Result<String, Error> {
        let refund_req = || {
            RefundRequest::new(
                order(),
                MerchantRefundNo::new("R1").unwrap(),
                Money::cny(100),
                Money::cny(1230),
            )
            .unwrap()
        };
        match self {
            Op::Precreate => {
                let req =
                    PayRequest::new(order(), Money::cny(1230), "Tea", Scene::MerchantQr).unwrap();
                match c.pay(&req).await?.action {
                    PayAction::ShowQrCode { code_url } => Ok(code_url),
                    a => panic!("{a:?}"),
                }
            }
            Op::Pay => {
                let req = PayRequest::new(
                    order(),
                    Money::cny(1230),
                    "Tea",
                    Scene::PaymentCode {
                        auth_code: Sensitive::new("287634438256643941".to_owned()),
                    },
                )
                .unwrap();
                match c.pay(&req).await?.action {
                    PayAction::Completed(t) => Ok(format!("{:?}", t.status)),
                    a => Ok(format!("pending {a:?}")),
                }
            }
            Op::Query => {
                let t = c
                    .query(&QueryRequest::new(TradeRef::MerchantOrderNo(order())))
                    .await?;
                Ok(format!("{:?} {}", t.status, t.amount.minor_units()))
            }
            Op::Close => c
                .close(&CloseRequest::new(order()))
                .await
                .map(|()| "closed".into()),
            Op::Cancel => c.cancel(&order()).await.map(|o| format!("{:?}", o.action)),
            Op::Refund => c.refund(&refund_req()).await.map(|r| r.raw_status.clone()),
            Op::RefundQuery => c
                .query_refund(
                    &RefundQuery::new(MerchantRefundNo::new("R1").unwrap()).trade(order()),
                )
                .await
                .map(|r| format!("{:?} {}", r.status, r.amount.minor_units())),
            Op::Transfer => {
                let req = TransferRequest::new(
                    MerchantTransferNo::new("T1").unwrap(),
                    Payee::AlipayUserId(Sensitive::new("2088123".to_owned())),
                    Money::cny(100),
                    "commission",
                )
                .unwrap();
                c.transfer(&req).await.map(|t| format!("{:?}", t.status))
            }
            Op::TransferQuery => c
                .query_transfer(&MerchantTransferNo::new("T1").unwrap())
                .await
                .map(|t| format!("{:?} {}", t.status, t.amount.minor_units())),
            Op::BillUrl => {
                let st = c
                    .download_statement(&StatementRequest::new(
                        date!(2024 - 05 - 19),
                        StatementKind::AllTrades,
                    ))
                    .await?;
                let n = st.records().collect::<Result<Vec<_>, _>>()?.len();
                Ok(format!("{n} records"))
            }
        }
    }

    fn expected_success(self) -> &'static str {
        match self {
            Op::Precreate => "https://qr.alipay.com/bax0001",
            Op::Pay => "Success",
            Op::Query => "Success 1230",
            Op::Close => "closed",
            Op::Cancel => "Some(\"close\")",
            Op::Refund => "fund_change=Y",
            Op::RefundQuery => "Success 100",
            Op::Transfer => "Success",
            Op::TransferQuery => "Success 100",
            Op::BillUrl => "1 records",
        }
    }

    /// The exact query string (GET) or the body fields (POST) the client must send.
    fn check_request(self, req: &Request) {
        let (verb, p) = self.verb_path();
        assert_eq!(req.method.as_str(), verb, "{self:?}");
        assert_eq!(req.url.path(), p);
        let ct = req
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            req.headers.get("accept").unwrap().to_str().unwrap(),
            "application/json"
        );
        if verb == "GET" {
            assert!(req.body.is_empty());
            assert_eq!(ct, None);
            let want = match self {
                Op::TransferQuery => {
                    "biz_scene=DIRECT_TRANSFER&out_biz_no=T1&product_code=TRANS_ACCOUNT_NO_PWD"
                }
                Op::BillUrl => "bill_date=2024-05-19&bill_type=trade",
                _ => unreachable!(),
            };
            assert_eq!(req.url.query(), Some(want));
            return;
        }
        assert_eq!(ct.as_deref(), Some("application/json"));
        assert_eq!(req.url.query(), None);
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert!(body.get("code").is_none() && body.get("biz_content").is_none());
        match self {
            Op::Precreate => {
                assert_eq!(body["out_trade_no"], "A20240520001");
                assert_eq!(body["total_amount"], "12.30");
                assert_eq!(body["subject"], "Tea");
                assert_eq!(body["notify_url"], "https://shop.example/notify");
            }
            Op::Pay => {
                assert_eq!(body["scene"], "bar_code");
                assert_eq!(body["auth_code"], "287634438256643941");
                assert_eq!(body["total_amount"], "12.30");
                assert_eq!(body["notify_url"], "https://shop.example/notify");
            }
            Op::Query | Op::Close | Op::Cancel => {
                assert_eq!(body["out_trade_no"], "A20240520001");
            }
            Op::Refund => {
                assert_eq!(body["out_request_no"], "R1");
                assert_eq!(body["refund_amount"], "1.00");
            }
            Op::RefundQuery => {
                assert_eq!(body["out_request_no"], "R1");
                assert_eq!(body["out_trade_no"], "A20240520001");
            }
            Op::Transfer => {
                assert_eq!(body["out_biz_no"], "T1");
                assert_eq!(body["trans_amount"], "1.00");
                assert_eq!(body["payee_info"]["identity"], "2088123");
            }
            Op::TransferQuery | Op::BillUrl => unreachable!(),
        }
    }
}

/// A trade bill ZIP with one payment row (GBK names and content, as Alipay writes it).
fn bill_zip() -> Vec<u8> {
    let header = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注";
    let row = "2024051922001\t,A20240520001\t,交易\t,Tea,2024-05-19 10:00:00,2024-05-19 10:00:05,\t,\t,\t,\t,b\t,12.30,12.30,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.07,0.00,";
    let detail = format!(
        "#支付宝业务明细查询\r\n#-----业务明细列表-----\r\n{header}\r\n{row}\r\n#-----业务明细列表结束-----\r\n#交易合计：1笔，商家实收共12.30元\r\n#退款合计：0笔，商家实收退款共0.00元\r\n"
    );
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(
        "20881234567890120156_20240519_业务明细.csv",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    w.write_all(&encoding_rs::GBK.encode(&detail).0).unwrap();
    w.finish().unwrap().into_inner()
}

async fn mount(s: &MockServer, op: Op, r: V3) {
    let (verb, p) = op.verb_path();
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(r)
        .mount(s)
        .await;
    if op == Op::BillUrl {
        Mock::given(method("GET"))
            .and(path("/bill/download.zip"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bill_zip()))
            .mount(s)
            .await;
    }
}

async fn first_request(s: &MockServer, op: Op) -> Request {
    let (_, p) = op.verb_path();
    s.received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == p)
        .unwrap()
}

#[tokio::test]
async fn every_endpoint_success_with_exact_signed_request() {
    for op in ALL {
        let s = MockServer::start().await;
        mount(&s, op, V3::ok(op.success(&s.uri()))).await;
        let c = pk(&s);
        let got = op.run(&c).await.unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
        assert_eq!(got, op.expected_success(), "{op:?}");
        let req = first_request(&s, op).await;
        op.check_request(&req);
        let pairs = check_signature(&req, None);
        assert_eq!(pairs.len(), 3, "{op:?}: no app_cert_sn in key mode");
        assert!(req.headers.get("alipay-root-cert-sn").is_none());
        assert!(req.headers.get("alipay-app-auth-token").is_none());
    }
}

#[tokio::test]
async fn every_endpoint_signed_error_maps_through_the_sub_code_table() {
    for op in ALL {
        let s = MockServer::start().await;
        mount(&s, op, V3::err(400, "ACQ.INVALID_PARAMETER")).await;
        let e = op.run(&pk(&s)).await.unwrap_err();
        let Error::Gateway(g) = &e else {
            panic!("{op:?}: {e:?}")
        };
        assert_eq!(g.kind(), GatewayErrorKind::InvalidParam, "{op:?}");
        assert_eq!(g.code(), "ACQ.INVALID_PARAMETER");
        assert_eq!(g.sub_code(), Some("ACQ.INVALID_PARAMETER"));
        assert_eq!(g.http_status(), Some(400));
        assert_eq!(g.request_id(), Some("trace-1"));
        assert!(g.message().contains("errCheck"), "{op:?}: links kept");
        assert!(!g.message().contains("unverified"));
        assert!(!e.outcome_unknown(), "{op:?}");
    }
}

#[tokio::test]
async fn every_endpoint_unsigned_error_is_unverified() {
    for op in ALL {
        let s = MockServer::start().await;
        mount(&s, op, V3::err(400, "ACQ.INVALID_PARAMETER").unsigned()).await;
        let e = op.run(&pk(&s)).await.unwrap_err();
        if op == Op::Pay {
            // Payment code: an unverified refusal decides nothing; query and cancel
            // (unmounted here) cannot decide either, so the outcome stays unknown.
            assert!(matches!(e, Error::Timeout(_)), "{e:?}");
            assert!(e.outcome_unknown());
            continue;
        }
        let Error::Gateway(g) = &e else {
            panic!("{op:?}: {e:?}")
        };
        // Nothing proves Alipay said it: no definite kind, the raw code is kept.
        assert_eq!(g.kind(), GatewayErrorKind::Unknown, "{op:?}");
        assert_eq!(g.sub_code(), Some("ACQ.INVALID_PARAMETER"), "{op:?}");
        assert!(g.message().contains("unverified"), "{op:?}");
    }
}

/// An answer that cannot be trusted: a verification error, an unknown outcome for writes.
/// Payment code: the unknown outcome starts the query → cancel flow (query and cancel are
/// unmounted here: 404, still unknown), ending in a timeout error.
fn assert_verification(op: Op, e: &Error, want: VerificationKind) {
    let write = matches!(
        op,
        Op::Precreate | Op::Pay | Op::Close | Op::Cancel | Op::Refund | Op::Transfer
    );
    assert_eq!(e.outcome_unknown(), write, "{op:?}: {e:?}");
    if op == Op::Pay {
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        return;
    }
    match e {
        Error::Verification(v) => assert_eq!(v.kind(), &want, "{op:?}"),
        e => panic!("{op:?}: {e:?}"),
    }
}

#[tokio::test]
async fn every_endpoint_tampered_response_fails_verification() {
    for op in ALL {
        let s = MockServer::start().await;
        mount(&s, op, V3::ok(op.success(&s.uri())).tampered()).await;
        let e = op.run(&pk(&s)).await.unwrap_err();
        assert_verification(op, &e, VerificationKind::BadSignature);
        // A signed error body that was altered is rejected too (never mapped).
        let s = MockServer::start().await;
        mount(&s, op, V3::err(400, "ACQ.TRADE_HAS_SUCCESS").tampered()).await;
        let e = op.run(&pk(&s)).await.unwrap_err();
        assert_verification(op, &e, VerificationKind::BadSignature);
    }
}

#[tokio::test]
async fn every_endpoint_missing_signature_headers_fail() {
    for op in ALL {
        for strip in ["alipay-signature", "alipay-timestamp", "alipay-nonce"] {
            let s = MockServer::start().await;
            // Rebuild the template without one header.
            let ts = "1716170400123";
            let body = op.success(&s.uri()).to_string();
            let msg = sign::v3_response_message(ts, "n", body.as_bytes());
            let sig = sign::sign(&keys().1.key, SignType::Rsa2, &msg);
            let mut t = ResponseTemplate::new(200).set_body_string(body);
            for (k, v) in [
                ("alipay-signature", sig.as_str()),
                ("alipay-timestamp", ts),
                ("alipay-nonce", "n"),
            ] {
                if k != strip {
                    t = t.insert_header(k, v);
                }
            }
            let (verb, p) = op.verb_path();
            Mock::given(method(verb))
                .and(path(p))
                .respond_with(t)
                .mount(&s)
                .await;
            let e = op.run(&pk(&s)).await.unwrap_err();
            assert_verification(op, &e, VerificationKind::MissingSignature);
        }
    }
}

#[tokio::test]
async fn every_endpoint_timeout_and_5xx_are_outcome_unknown() {
    for op in ALL {
        let s = MockServer::start().await;
        let mut slow = V3::ok(op.success(&s.uri()));
        slow.delay = Some(Duration::from_secs(3));
        mount(&s, op, slow).await;
        let e = op.run(&pk(&s)).await.unwrap_err();
        assert!(e.outcome_unknown(), "{op:?}: {e:?}");

        let s = MockServer::start().await;
        let (verb, p) = op.verb_path();
        Mock::given(method(verb))
            .and(path(p))
            .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
            .mount(&s)
            .await;
        let e = op.run(&pk(&s)).await.unwrap_err();
        assert!(e.outcome_unknown(), "{op:?}: {e:?}");
    }
}

#[tokio::test]
async fn unsigned_good_news_is_downgraded_and_no_bill_is_empty() {
    let s = MockServer::start().await;
    mount(
        &s,
        Op::Query,
        V3::err(400, "ACQ.TRADE_HAS_SUCCESS").unsigned(),
    )
    .await;
    let e = Op::Query.run(&pk(&s)).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::Unknown));
    let s = MockServer::start().await;
    mount(&s, Op::Query, V3::err(400, "ACQ.TRADE_HAS_SUCCESS")).await;
    let e = Op::Query.run(&pk(&s)).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::OrderPaid));

    let s = MockServer::start().await;
    mount(&s, Op::BillUrl, V3::err(400, "BILL_NOT_EXIST")).await;
    assert_eq!(Op::BillUrl.run(&pk(&s)).await.unwrap(), "0 records");

    let s = MockServer::start().await;
    mount(&s, Op::Query, V3::err(401, "invalid-signature")).await;
    let e = Op::Query.run(&pk(&s)).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::AuthFailed));
}

#[tokio::test]
async fn payment_code_without_payment_time_polls_the_v3_query() {
    let s = MockServer::start().await;
    mount(
        &s,
        Op::Pay,
        V3::ok(json!({"out_trade_no":"A20240520001","trade_no":"2024052022001"})),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v3/alipay/trade/query"))
        .respond_with(Seq::new(vec![
            V3::ok(trade_obj("WAIT_BUYER_PAY")).template(),
            V3::ok(trade_obj("TRADE_SUCCESS")).template(),
        ]))
        .expect(2)
        .mount(&s)
        .await;
    assert_eq!(Op::Pay.run(&pk(&s)).await.unwrap(), "Success");
}

#[tokio::test]
async fn cert_mode_app_cert_sn_root_sn_and_alipay_sn() {
    let certs = certs();
    let s = MockServer::start().await;
    let c = v3_client(
        &s,
        base(&s.uri()).certificates(
            certs.app_pem.clone(),
            certs.alipay_pem.clone(),
            certs.root_pem.clone(),
        ),
    );
    let alipay_sn = c.config().alipay_cert_sn().unwrap().to_owned();
    let mut ok = V3::ok(trade_obj("TRADE_SUCCESS"));
    ok.sn = Some(alipay_sn.clone());
    mount(&s, Op::Query, ok).await;
    assert_eq!(Op::Query.run(&c).await.unwrap(), "Success 1230");
    let req = first_request(&s, Op::Query).await;
    let pairs = check_signature(&req, None);
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["app_id", "app_cert_sn", "nonce", "timestamp"]);
    assert_eq!(pairs[1].1, c.config().app_cert_sn().unwrap());
    assert_eq!(
        req.headers
            .get("alipay-root-cert-sn")
            .unwrap()
            .to_str()
            .unwrap(),
        c.config().alipay_root_cert_sn().unwrap()
    );

    // Missing alipay-sn: the configured certificate.
    let s2 = MockServer::start().await;
    let c2 = v3_client(
        &s2,
        base(&s2.uri()).certificates(
            certs.app_pem.clone(),
            certs.alipay_pem.clone(),
            certs.root_pem.clone(),
        ),
    );
    mount(&s2, Op::Query, V3::ok(trade_obj("TRADE_SUCCESS"))).await;
    Op::Query.run(&c2).await.unwrap();
}

/// A v3 client in certificate mode whose classic gateway (for the certificate download) is
/// the same mock server.
fn cert_v3_client(s: &MockServer) -> AlipayClient {
    let certs = certs();
    v3_client(
        s,
        base(&s.uri()).certificates(
            certs.app_pem.clone(),
            certs.alipay_pem.clone(),
            certs.root_pem.clone(),
        ),
    )
}

/// The classic `alipay.open.app.alipaycert.download` answer carrying `pem`, signed by the
/// configured Alipay certificate.
async fn mount_cert_download(s: &MockServer, pem: &str, times: u64) {
    let sn1 = sign::cert_sn_from_pem(&certs().alipay_pem).unwrap();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pem.as_bytes());
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(wiremock::matchers::query_param(
            "method",
            "alipay.open.app.alipaycert.download",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.open.app.alipaycert.download",
            &json!({"code":"10000","msg":"Success","alipay_cert_content":b64}),
            &keys().1.key,
            Some(&sn1),
        )))
        .expect(times)
        .mount(s)
        .await;
}

/// v3 rotation as on the classic gateway: an unknown `alipay-sn` makes the client download
/// that certificate (classic `alipay.open.app.alipaycert.download`, asking for that SN),
/// check it chains to the root, cache it, and verify the response with it; once.
#[tokio::test]
async fn v3_unknown_alipay_sn_downloads_the_rotated_certificate() {
    let certs = certs();
    let sn2 = sign::cert_sn_from_pem(&certs.rotated_pem).unwrap();
    let s = MockServer::start().await;
    let c = cert_v3_client(&s);
    let mut rotated = V3::ok(trade_obj("TRADE_SUCCESS"));
    rotated.key = keys().2.key.clone();
    rotated.sn = Some(sn2.clone());
    mount(&s, Op::Query, rotated).await;
    mount_cert_download(&s, &certs.rotated_pem, 1).await;
    assert_eq!(Op::Query.run(&c).await.unwrap(), "Success 1230");
    assert!(c.alipay_cert_sns().contains(&sn2));
    // Cached: the second answer needs no download (`expect(1)` above).
    Op::Query.run(&c).await.unwrap();
    let reqs = s.received_requests().await.unwrap();
    let download = reqs.iter().find(|r| r.url.path() == "/gateway.do").unwrap();
    let biz: Value = serde_json::from_str(&form(download)[0].1).unwrap();
    assert_eq!(biz["alipay_cert_sn"], sn2.as_str());

    // Named certificate downloaded, but the body was signed by another key: BadSignature.
    let s = MockServer::start().await;
    let c = cert_v3_client(&s);
    let mut mislabelled = V3::ok(trade_obj("TRADE_SUCCESS"));
    mislabelled.sn = Some(sn2.clone());
    mount(&s, Op::Query, mislabelled).await;
    mount_cert_download(&s, &certs.rotated_pem, 1).await;
    match Op::Query.run(&c).await.unwrap_err() {
        Error::Verification(v) => assert_eq!(v.kind(), &VerificationKind::BadSignature),
        e => panic!("{e:?}"),
    }
}

/// A forged rotation: the named certificate is self-signed (does not chain to the Alipay
/// root) or is another certificate than the one named. Fails closed, nothing is cached.
#[tokio::test]
async fn v3_forged_or_unchained_rotated_certificate_fails_closed() {
    let certs = certs();
    let kp = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&keys().0.pem, &rcgen::PKCS_RSA_SHA256)
        .unwrap();
    let rogue = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&kp)
        .unwrap()
        .pem();
    let rogue_sn = sign::cert_sn_from_pem(&rogue).unwrap();
    let s = MockServer::start().await;
    let c = cert_v3_client(&s);
    let mut forged = V3::ok(trade_obj("TRADE_SUCCESS"));
    forged.key = keys().0.key.clone();
    forged.sn = Some(rogue_sn);
    mount(&s, Op::Query, forged).await;
    mount_cert_download(&s, &rogue, 1).await;
    match Op::Query.run(&c).await.unwrap_err() {
        Error::Verification(v) => assert_eq!(v.kind(), &VerificationKind::Certificate),
        e => panic!("{e:?}"),
    }
    assert_eq!(c.alipay_cert_sns().len(), 1);

    // The download answers with a (valid, chained) certificate of another SN.
    let s = MockServer::start().await;
    let c = cert_v3_client(&s);
    let mut other = V3::ok(trade_obj("TRADE_SUCCESS"));
    other.key = keys().2.key.clone();
    other.sn = Some("00000000000000000000000000000001".into());
    mount(&s, Op::Query, other).await;
    mount_cert_download(&s, &certs.rotated_pem, 1).await;
    match Op::Query.run(&c).await.unwrap_err() {
        Error::Verification(v) => assert_eq!(v.kind(), &VerificationKind::UnknownKey),
        e => panic!("{e:?}"),
    }
    // Added out of band, the rotated certificate is used without a download.
    let s = MockServer::start().await;
    let c = cert_v3_client(&s);
    let sn = c.add_alipay_certificate(&certs.rotated_pem).unwrap();
    let mut rotated = V3::ok(trade_obj("TRADE_SUCCESS"));
    rotated.key = keys().2.key.clone();
    rotated.sn = Some(sn);
    mount(&s, Op::Query, rotated).await;
    mount_cert_download(&s, &certs.rotated_pem, 0).await;
    Op::Query.run(&c).await.unwrap();
}

#[tokio::test]
async fn app_auth_token_is_a_header_and_a_signed_line() {
    let s = MockServer::start().await;
    let c = v3_client(
        &s,
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .app_auth_token("202405BBtoken"),
    );
    mount(&s, Op::Query, V3::ok(trade_obj("TRADE_SUCCESS"))).await;
    Op::Query.run(&c).await.unwrap();
    let req = first_request(&s, Op::Query).await;
    assert_eq!(
        req.headers
            .get("alipay-app-auth-token")
            .unwrap()
            .to_str()
            .unwrap(),
        "202405BBtoken"
    );
    check_signature(&req, Some("202405BBtoken"));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert!(body.get("app_auth_token").is_none());
}

#[tokio::test]
async fn aes_request_and_response() {
    let key_b64 = "aa4BtZ4tspm2wnXLb1ThQA==";
    let aes = payagg_alipay::aes::AesKey::from_base64(key_b64).unwrap();
    let s = MockServer::start().await;
    let c = v3_client(
        &s,
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .aes_key(key_b64),
    );
    let mut r = V3::ok(json!({}));
    r.body = aes.encrypt_b64(trade_obj("TRADE_SUCCESS").to_string().as_bytes());
    mount(&s, Op::Query, r).await;
    assert_eq!(Op::Query.run(&c).await.unwrap(), "Success 1230");
    let req = first_request(&s, Op::Query).await;
    check_signature(&req, None);
    assert_eq!(
        req.headers
            .get("alipay-encrypt-type")
            .unwrap()
            .to_str()
            .unwrap(),
        "AES"
    );
    assert_eq!(
        req.headers.get("content-type").unwrap().to_str().unwrap(),
        "text/plain"
    );
    let plain = aes
        .decrypt_b64(std::str::from_utf8(&req.body).unwrap())
        .unwrap();
    let body: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(body["out_trade_no"], "A20240520001");
}

#[tokio::test]
async fn client_side_scenes_stay_classic_and_trade_status_maps() {
    let s = MockServer::start().await;
    let c = pk(&s);
    let req = PayRequest::new(order(), Money::cny(1230), "Tea", Scene::PcWeb).unwrap();
    let PayAction::SubmitForm(f) = c.pay(&req).await.unwrap().action else {
        panic!()
    };
    assert!(f.action.contains("/gateway.do?"));
    mount(&s, Op::Query, V3::ok(trade_obj("TRADE_CLOSED"))).await;
    let t = c
        .query(&QueryRequest::new(TradeRef::MerchantOrderNo(order())))
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::Closed);
}
