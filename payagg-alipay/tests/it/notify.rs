//! Notifications and return URLs through `Gateway::verify_callback`, and the bill download.

use std::io::Write;

use payagg_alipay::sign::{self, NotifyRule, SignType};
use payagg_core::callback::{CallbackEvent, CallbackRequest};
use payagg_core::error::Error;
use payagg_core::statement::{StatementParser, StatementRequest};
use payagg_core::trade::{ExpectedOrder, TradeStatus};
use payagg_core::{Gateway, Money, StatementKind};
use time::macros::date;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn notification(extra: &[(&str, &str)], rule: NotifyRule) -> String {
    notification_by(extra, rule, &keys().1.key)
}

fn notification_by(
    extra: &[(&str, &str)],
    rule: NotifyRule,
    key: &payagg_core::crypto::RsaPrivateKey,
) -> String {
    let mut p: Vec<(String, String)> = [
        ("notify_time", "2024-05-20 10:01:05"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "n-1"),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("sign_type", "RSA2"),
        ("app_id", APP_ID),
        ("trade_no", "2024052022001"),
        ("out_trade_no", "A20240520001"),
        ("seller_id", "2088000000000001"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", "12.30"),
        ("subject", "T恤 & tea"),
        ("gmt_payment", "2024-05-20 10:01:02"),
        (
            "fund_bill_list",
            r#"[{"amount":"12.30","fundChannel":"ALIPAYACCOUNT"}]"#,
        ),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        p.retain(|(n, _)| n != k);
        p.push(((*k).to_owned(), (*v).to_owned()));
    }
    let content = sign::notify_sign_content(p.iter().map(|(k, v)| (k, v)), rule);
    let sig = sign::sign(key, SignType::Rsa2, content.as_bytes());
    p.push(("sign".into(), sig));
    p.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn pk() -> payagg_alipay::AlipayClient {
    client(
        base("https://openapi.alipay.com")
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .unwrap(),
    )
    .0
}

#[tokio::test]
async fn trade_notification_verifies_and_acks_success() {
    let c = pk().await;
    let body = notification(&[], NotifyRule::V1);
    let v = c
        .verify_callback(&CallbackRequest::post(Default::default(), body))
        .await
        .unwrap();
    assert_eq!(v.ack.body, "success");
    assert_eq!(v.retry_ack.body, "fail");
    assert_eq!(v.notification_id.as_deref(), Some("n-1"));
    let CallbackEvent::Payment(t) = v.event else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(t.amount, Money::cny(1230));
    let exp = ExpectedOrder::new(t.merchant_order_no.clone(), Money::cny(1230))
        .app_id(payagg_core::ids::AppId::new(APP_ID).unwrap())
        .merchant_id(payagg_core::ids::MerchantId::new("2088000000000001").unwrap());
    t.check_matches(&exp).unwrap();
    assert!(
        t.check_matches(&ExpectedOrder::new(
            t.merchant_order_no.clone(),
            Money::cny(1)
        ))
        .is_err()
    );
}

#[tokio::test]
async fn tampered_wrong_rule_and_foreign_app_are_rejected() {
    let c = pk().await;
    let body = notification(&[], NotifyRule::V1).replace("total_amount=12.30", "total_amount=0.01");
    assert!(matches!(
        c.verify_callback(&CallbackRequest::post(Default::default(), body))
            .await,
        Err(Error::Verification(_))
    ));
    // A trade notification signed with sign_type kept (V2 content) must not verify.
    let body = notification(&[], NotifyRule::V2);
    assert!(
        c.verify_callback(&CallbackRequest::post(Default::default(), body))
            .await
            .is_err()
    );
    let body = notification(&[("app_id", "2021999999999999")], NotifyRule::V1);
    assert!(
        c.verify_callback(&CallbackRequest::post(Default::default(), body))
            .await
            .is_err()
    );
    let body = notification(&[("seller_id", "2088999")], NotifyRule::V1);
    assert!(
        c.verify_callback(&CallbackRequest::post(Default::default(), body))
            .await
            .is_err()
    );
    assert!(
        c.verify_callback(&CallbackRequest::post(Default::default(), "a=b"))
            .await
            .is_err()
    );
}

async fn pk_at(s: &MockServer) -> payagg_alipay::AlipayClient {
    client(
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .unwrap(),
    )
    .0
}

/// The refund query answers per out_request_no: R1 refunded 1.00, R2 refunded 2.00.
async fn mount_refund_query(s: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(query_param("method", "alipay.trade.fastpay.refund.query"))
        .respond_with(|req: &wiremock::Request| {
            let biz: serde_json::Value = serde_json::from_str(&form(req)[0].1).unwrap();
            let no = biz["out_request_no"].as_str().unwrap().to_owned();
            let amount = if no == "R1" { "1.00" } else { "2.00" };
            ok(
                "alipay.trade.fastpay.refund.query",
                serde_json::json!({"out_trade_no": biz["out_trade_no"], "trade_no":"2024052022001",
                    "out_request_no": no, "refund_amount": amount, "total_amount":"12.30",
                    "refund_status":"REFUND_SUCCESS"}),
            )
        })
        .mount(s)
        .await;
}

#[tokio::test]
async fn two_partial_refund_notifications_report_each_refund_amount() {
    let s = MockServer::start().await;
    mount_refund_query(&s).await;
    let c = pk_at(&s).await;
    // refund_fee is cumulative: 1.00 after R1, 3.00 after R2.
    let mut got = Vec::new();
    for (no, cumulative, at) in [
        ("R1", "1.00", "2024-05-20 11:00:00"),
        ("R2", "3.00", "2024-05-20 12:00:00"),
    ] {
        let body = notification(
            &[
                ("out_biz_no", no),
                ("refund_fee", cumulative),
                ("gmt_refund", at),
            ],
            NotifyRule::V1,
        );
        let v = c
            .verify_callback(&CallbackRequest::post(Default::default(), body.clone()))
            .await
            .unwrap();
        let CallbackEvent::Refund(r) = v.event else {
            panic!("{:?}", v.event)
        };
        assert_eq!(r.merchant_refund_no.as_str(), no);
        assert_eq!(r.status, payagg_core::RefundStatus::Success);
        assert_eq!(r.merchant_order_no.unwrap().as_str(), "A20240520001");
        assert!(r.succeeded_at.is_some());
        got.push(r.amount);

        // Without the query the single amount is unknowable: no Refund event with the
        // cumulative amount, the verified fields are kept for the caller.
        let decoded = url_pairs(&body);
        let v = c.verify_notification_params(&decoded).unwrap();
        let CallbackEvent::Other {
            event_type,
            content,
        } = v.event
        else {
            panic!()
        };
        assert_eq!(event_type, "refund_unconfirmed");
        assert_eq!(content["out_biz_no"], no);
        assert_eq!(content["refund_fee"], cumulative);
    }
    assert_eq!(got, vec![Money::cny(100), Money::cny(200)]);
    let asked: Vec<String> = s
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let biz: serde_json::Value = serde_json::from_str(&form(r)[0].1).unwrap();
            format!(
                "{}/{}",
                biz["out_trade_no"].as_str().unwrap(),
                biz["out_request_no"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(asked, ["A20240520001/R1", "A20240520001/R2"]);
}

#[tokio::test]
async fn refund_notification_query_failure_is_an_error_to_retry() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&s)
        .await;
    let c = pk_at(&s).await;
    let body = notification(
        &[("out_biz_no", "R1"), ("refund_fee", "1.00")],
        NotifyRule::V1,
    );
    assert!(
        c.verify_callback(&CallbackRequest::post(Default::default(), body))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn closed_finished_and_waiting_notifications_are_typed() {
    let c = pk().await;
    for (raw, status) in [
        ("TRADE_CLOSED", TradeStatus::Closed),
        ("TRADE_FINISHED", TradeStatus::Finished),
        ("WAIT_BUYER_PAY", TradeStatus::NotPaid),
    ] {
        let body = notification(
            &[("trade_status", raw), ("gmt_close", "2024-05-20 12:00:00")],
            NotifyRule::V1,
        );
        let v = c
            .verify_callback(&CallbackRequest::post(Default::default(), body))
            .await
            .unwrap();
        assert_eq!(v.event_type, "trade_status_sync");
        let CallbackEvent::Payment(t) = v.event else {
            panic!("{raw}")
        };
        assert_eq!(t.status, status, "{raw}");
        assert_eq!(t.raw_status, raw);
        assert_eq!(t.amount, Money::cny(1230));
        assert_eq!(t.status.is_paid(), raw == "TRADE_FINISHED", "{raw}");
    }
}

#[tokio::test]
async fn refund_notification_and_return_url() {
    let s = MockServer::start().await;
    mount_refund_query(&s).await;
    let c = pk_at(&s).await;
    let body = notification(
        &[
            ("out_biz_no", "R1"),
            ("refund_fee", "1.00"),
            ("gmt_refund", "2024-05-20 11:00:00"),
        ],
        NotifyRule::V1,
    );
    let v = c
        .verify_callback(&CallbackRequest::post(Default::default(), body))
        .await
        .unwrap();
    let CallbackEvent::Refund(r) = v.event else {
        panic!()
    };
    assert_eq!(r.merchant_refund_no.as_str(), "R1");
    assert_eq!(r.amount, Money::cny(100));

    // Return URL: GET, V1 rule, display only.
    let mut p = vec![
        ("charset", "utf-8"),
        ("out_trade_no", "A20240520001"),
        ("method", "alipay.trade.page.pay.return"),
        ("total_amount", "12.30"),
        ("trade_no", "2024"),
        ("auth_app_id", APP_ID),
        ("version", "1.0"),
        ("app_id", APP_ID),
        ("sign_type", "RSA2"),
        ("seller_id", "2088000000000001"),
        ("timestamp", "2024-05-20 10:01:09"),
    ];
    let content = sign::notify_sign_content(p.iter().copied(), NotifyRule::V1);
    let sig = sign::sign(&keys().1.key, SignType::Rsa2, content.as_bytes());
    p.push(("sign", &sig));
    let q = p
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let v = c.verify_callback(&CallbackRequest::get(q)).await.unwrap();
    assert_eq!(v.event_type, "alipay.trade.page.pay.return");
    assert!(matches!(v.event, CallbackEvent::Other { .. }));
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

const DETAIL: &str = "#支付宝业务明细查询\r\n#账号：[20881234567890120156]\r\n#-----------业务明细列表-----------\r\n\
支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n\
2024052022001\t,A20240520001\t,交易\t,茶,2024-05-20 10:00:00,2024-05-20 10:01:02,\t,\t,\t,\t,x\t,12.30,12.30,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.07,0.00,\r\n\
2024052022001\t,A20240520001\t,退款\t,茶,2024-05-20 10:00:00,2024-05-20 11:00:00,\t,\t,\t,\t,x\t,-1.00,-1.00,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,R1\t,0.01,0.00,\r\n\
#-----------业务明细列表结束-----------\r\n#交易合计：1笔，商家实收共12.30元，商家优惠共0.00元\r\n#退款合计：1笔，商家实收退款共-1.00元，商家优惠退款共0.00元\r\n";

const SUMMARY: &str = "#支付宝业务汇总查询\r\n#-----业务汇总列表-----\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\r\n合计,,1,1,11.30,11.30,0.00,0.00,0.00,-0.06,0.00,11.24\r\n#-----业务汇总列表结束-----\r\n";

pub(crate) fn bill_zip() -> Vec<u8> {
    bill_zip_with(DETAIL, SUMMARY)
}

fn bill_zip_with(detail: &str, summary: &str) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("20881234567890120156_20240520_业务明细.csv", opts)
        .unwrap();
    w.write_all(&gbk(detail)).unwrap();
    w.start_file("20881234567890120156_20240520_业务明细(汇总).csv", opts)
        .unwrap();
    w.write_all(&gbk(summary)).unwrap();
    w.finish().unwrap().into_inner()
}

#[tokio::test]
async fn bill_download_unzips_checks_and_parses() {
    let s = MockServer::start().await;
    let url = format!("{}/downloadBillFile.resource?bizType=trade", s.uri());
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(query_param(
            "method",
            "alipay.data.dataservice.bill.downloadurl.query",
        ))
        .respond_with(ok(
            "alipay.data.dataservice.bill.downloadurl.query",
            serde_json::json!({"bill_download_url": url}),
        ))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/downloadBillFile.resource"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bill_zip()))
        .mount(&s)
        .await;
    let (c, _) = client(
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .unwrap(),
    );
    let st = c
        .download_statement(&StatementRequest::new(
            date!(2024 - 05 - 20),
            StatementKind::AllTrades,
        ))
        .await
        .unwrap();
    // The statement keeps the detail as shipped (GBK), not a decoded copy, and streams the
    // same records as decoding first would.
    assert_eq!(st.raw.as_ref(), gbk(DETAIL).as_slice());
    let recs: Vec<_> = st.records().collect::<Result<_, _>>().unwrap();
    let decoded: Vec<_> = payagg_alipay::bill::TradeBillParser
        .records(DETAIL.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recs, decoded);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].gross.to_string(), "-1.00");
    assert_eq!(recs[1].merchant_refund_no.as_deref(), Some("R1"));
    assert_eq!(recs[0].net.to_string(), "12.23");
    let biz: serde_json::Value =
        serde_json::from_str(&form(&s.received_requests().await.unwrap()[0])[0].1).unwrap();
    assert_eq!(biz["bill_date"], "2024-05-20");

    // No bill that day: an empty statement, not an error.
    let s2 = MockServer::start().await;
    let node = serde_json::json!({"code":"40004","msg":"Business Failed","sub_code":"isp.bill_not_exist","sub_msg":"账单不存在"});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.data.dataservice.bill.downloadurl.query",
            &node,
            &keys().1.key,
            None,
        )))
        .mount(&s2)
        .await;
    let (c2, _) = client(
        base(&s2.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .unwrap(),
    );
    let st = c2
        .download_statement(&StatementRequest::new(
            date!(2024 - 05 - 21),
            StatementKind::AllTrades,
        ))
        .await
        .unwrap();
    assert_eq!(st.records().count(), 0);
}

#[tokio::test]
async fn bill_download_refuses_a_summary_that_disagrees() {
    let s = MockServer::start().await;
    let url = format!("{}/downloadBillFile.resource?bizType=trade", s.uri());
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .respond_with(ok(
            "alipay.data.dataservice.bill.downloadurl.query",
            serde_json::json!({"bill_download_url": url}),
        ))
        .mount(&s)
        .await;
    let summary = SUMMARY.replace(",-0.06,0.00,11.24", ",-0.08,0.00,11.22");
    assert_ne!(summary, SUMMARY);
    Mock::given(method("GET"))
        .and(path("/downloadBillFile.resource"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(bill_zip_with(DETAIL, &summary)))
        .mount(&s)
        .await;
    let (c, _) = client(
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .unwrap(),
    );
    let e = c
        .download_statement(&StatementRequest::new(
            date!(2024 - 05 - 20),
            StatementKind::AllTrades,
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e:?}");
    assert!(e.to_string().contains("合计 服务费"), "{e}");
}

#[test]
fn summary_file_totals_must_match_the_detail() {
    use payagg_alipay::bill::{check_summary, check_summary_gbk, unzip_bill, unzip_bill_raw};
    check_summary(&unzip_bill(&bill_zip()).unwrap()).unwrap();
    check_summary_gbk(&unzip_bill_raw(&bill_zip()).unwrap()).unwrap();
    // 合计 columns: 交易订单总笔数, 退款订单总笔数, 订单金额, 商家实收, …, 服务费, 分润, 实收净额.
    for (bad, what) in [
        (
            "合计,,2,1,11.30,11.30,0.00,0.00,0.00,-0.06,0.00,11.24",
            "交易订单总笔数",
        ),
        (
            "合计,,1,0,11.30,11.30,0.00,0.00,0.00,-0.06,0.00,11.24",
            "退款订单总笔数",
        ),
        (
            "合计,,1,1,11.30,11.31,0.00,0.00,0.00,-0.06,0.00,11.24",
            "商家实收",
        ),
        (
            "合计,,1,1,11.30,11.30,0.00,0.00,0.00,-0.07,0.00,11.24",
            "服务费",
        ),
    ] {
        let summary = SUMMARY.replace("合计,,1,1,11.30,11.30,0.00,0.00,0.00,-0.06,0.00,11.24", bad);
        assert_ne!(summary, SUMMARY);
        let zip = bill_zip_with(DETAIL, &summary);
        // The streaming (GBK) check catches it the same way.
        let streamed = check_summary_gbk(&unzip_bill_raw(&zip).unwrap()).unwrap_err();
        assert_eq!(
            streamed.to_string(),
            check_summary(&unzip_bill(&zip).unwrap())
                .unwrap_err()
                .to_string(),
            "{what}"
        );
        let e = streamed;
        let Error::Verification(v) = &e else {
            panic!("{what}: {e:?}")
        };
        assert_eq!(
            v.kind(),
            &payagg_core::error::VerificationKind::BusinessMismatch,
            "{what}"
        );
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
    // No 合计 row at all: refused, not silently accepted.
    let summary = SUMMARY.replace(
        "合计,,1,1,11.30,11.30,0.00,0.00,0.00,-0.06,0.00,11.24\r\n",
        "",
    );
    assert!(check_summary(&unzip_bill(&bill_zip_with(DETAIL, &summary)).unwrap()).is_err());
    assert!(check_summary_gbk(&unzip_bill_raw(&bill_zip_with(DETAIL, &summary)).unwrap()).is_err());
    // A detail footer that disagrees with the rows: caught on the streaming path too.
    let detail = DETAIL.replace("#交易合计：1笔", "#交易合计：2笔");
    let e =
        check_summary_gbk(&unzip_bill_raw(&bill_zip_with(&detail, SUMMARY)).unwrap()).unwrap_err();
    assert!(e.to_string().contains("#交易合计 count"), "{e}");
}

/// Certificate mode: notifications name no Alipay certificate. As the official Java SDK
/// (`rsaCertCheckV1`: the configured cert file's key) the configured certificate verifies;
/// one signed by a rotated certificate verifies once that certificate is known (chained to the
/// root), and fails closed with a recovery hint before; a rogue key never verifies.
#[tokio::test]
async fn cert_mode_notification_after_alipay_certificate_rotation() {
    let c = certs();
    let (client, _) = client(
        base("https://openapi.alipay.com")
            .certificates(c.app_pem.clone(), c.alipay_pem.clone(), c.root_pem.clone())
            .build()
            .unwrap(),
    );
    let post = |body: String| CallbackRequest::post(Default::default(), body);
    // The configured certificate's key.
    client
        .verify_callback(&post(notification(&[], NotifyRule::V1)))
        .await
        .unwrap();
    // Signed by the rotated certificate, not yet known: fails closed, saying what to do.
    let rotated = notification_by(&[], NotifyRule::V1, &keys().2.key);
    let e = client
        .verify_callback(&post(rotated.clone()))
        .await
        .unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        v.kind(),
        &payagg_core::error::VerificationKind::BadSignature
    );
    assert!(
        e.to_string().contains("alipayCertPublicKey_RSA2.crt"),
        "{e}"
    );
    // A notification naming the rotated SN before it is known: an unknown key.
    let sn2 = sign::cert_sn_from_pem(&c.rotated_pem).unwrap();
    let named = notification_by(&[("alipay_cert_sn", &sn2)], NotifyRule::V1, &keys().2.key);
    let e = client
        .verify_callback(&post(named.clone()))
        .await
        .unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(v.kind(), &payagg_core::error::VerificationKind::UnknownKey);
    // Once the rotated certificate is accepted (it chains to the root), both verify, and
    // the configured one still does.
    assert_eq!(client.add_alipay_certificate(&c.rotated_pem).unwrap(), sn2);
    client.verify_callback(&post(rotated)).await.unwrap();
    client.verify_callback(&post(named)).await.unwrap();
    client
        .verify_callback(&post(notification(&[], NotifyRule::V1)))
        .await
        .unwrap();
    // Naming the configured SN while signed by the rotated key: only the named one is tried.
    let sn1 = sign::cert_sn_from_pem(&c.alipay_pem).unwrap();
    let mislabelled = notification_by(&[("alipay_cert_sn", &sn1)], NotifyRule::V1, &keys().2.key);
    assert!(client.verify_callback(&post(mislabelled)).await.is_err());
    // A key no accepted certificate holds never verifies.
    let rogue = payagg_core::crypto::RsaPrivateKey::from_pem(&keys().0.pem).unwrap();
    let forged = notification_by(&[], NotifyRule::V1, &rogue);
    assert!(client.verify_callback(&post(forged)).await.is_err());
}
