//! The Alipay half driven with `payagg_alipay::sign` directly: verification failures,
//! a precreate → pay → notify → query → refund → bill life cycle, payment codes, transfers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Read as _;

use payagg_alipay::sign::{self, SignType, extract_response, verify, verify_notification};
use payagg_core::Channel;
use payagg_mock::{MockConfig, MockServer, OrderStatus};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn ymdhms(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(payagg_core::clock::CHINA_OFFSET);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn enc(s: &str) -> String {
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

struct Opts {
    cert: bool,
    bad_sign: bool,
    app_cert_sn: Option<String>,
    notify_url: Option<String>,
}

const PLAIN: Opts = Opts {
    cert: false,
    bad_sign: false,
    app_cert_sn: None,
    notify_url: None,
};

/// Calls `method` JAVA-style (protocol params in the query, biz_content in the form body);
/// returns (verified node, raw body).
async fn call(server: &MockServer, method: &str, biz: Value, o: &Opts) -> (Value, String) {
    let a = server.alipay();
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), a.app_id().into()),
        ("method".into(), method.into()),
        ("format".into(), "JSON".into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), "RSA2".into()),
        ("timestamp".into(), ymdhms(server.now())),
        ("version".into(), "1.0".into()),
    ];
    if o.cert {
        params.push((
            "app_cert_sn".into(),
            o.app_cert_sn
                .clone()
                .unwrap_or_else(|| a.app_cert_sn().into()),
        ));
        params.push(("alipay_root_cert_sn".into(), a.root_cert_sn().into()));
    }
    if let Some(u) = &o.notify_url {
        params.push(("notify_url".into(), u.clone()));
    }
    let biz = biz.to_string();
    let mut all = params.clone();
    all.push(("biz_content".into(), biz.clone()));
    let mut sig = sign::sign_params(
        a.app_private_key(),
        SignType::Rsa2,
        all.iter().map(|(k, v)| (k, v)),
    );
    if o.bad_sign {
        sig = sign::sign(a.app_private_key(), SignType::Rsa2, b"something else");
    }
    params.push(("sign".into(), sig));
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let url = format!("{}?{}", server.alipay_gateway_url(), query.join("&"));
    let body = reqwest::Client::new()
        .post(url)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .body(format!("biz_content={}", enc(&biz)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ex = extract_response(body.as_bytes(), method).unwrap();
    if let Some(s) = &ex.sign {
        verify(a.alipay_public_key(), SignType::Rsa2, ex.content, s).unwrap();
        assert_eq!(ex.alipay_cert_sn.is_some(), o.cert, "{body}");
        if o.cert {
            assert_eq!(ex.alipay_cert_sn.as_deref(), Some(a.alipay_cert_sn()));
        }
    }
    (serde_json::from_slice(ex.content).unwrap(), body)
}

/// A notify receiver answering `success`.
async fn receiver() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nsuccess",
                    )
                    .await;
            });
        }
    });
    format!("http://{addr}/notify")
}

async fn start() -> MockServer {
    MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap()
}

#[tokio::test]
async fn rejects_bad_signature_and_wrong_cert_sn() {
    let server = start().await;
    let biz = json!({"out_trade_no": "X1"});
    let bad = Opts {
        bad_sign: true,
        ..PLAIN
    };
    let (node, body) = call(&server, "alipay.trade.query", biz.clone(), &bad).await;
    assert!(body.starts_with("{\"error_response\":"), "{body}");
    assert!(!body.contains("\"sign\""));
    assert_eq!(node["code"], "40002");
    assert_eq!(node["sub_code"], "isv.invalid-signature");
    assert!(node["sub_msg"].as_str().unwrap().contains("app_id="));

    let wrong = Opts {
        cert: true,
        app_cert_sn: Some("0123456789abcdef0123456789abcdef".into()),
        ..PLAIN
    };
    let (node, _) = call(&server, "alipay.trade.query", biz.clone(), &wrong).await;
    assert_eq!(node["sub_code"], "isv.app-cert-not-exist");

    // Stale timestamp.
    server.advance(time::Duration::hours(1));
    let a = server.alipay();
    let ts = ymdhms(server.now() - time::Duration::hours(1));
    let mut p = vec![
        ("app_id".to_owned(), a.app_id().to_owned()),
        ("method".into(), "alipay.trade.query".into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), "RSA2".into()),
        ("timestamp".into(), ts),
        ("version".into(), "1.0".into()),
        ("biz_content".into(), biz.to_string()),
    ];
    let s = sign::sign_params(
        a.app_private_key(),
        SignType::Rsa2,
        p.iter().map(|(k, v)| (k, v)),
    );
    p.push(("sign".into(), s));
    let form: Vec<String> = p.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    let body = reqwest::Client::new()
        .post(server.alipay_gateway_url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.join("&"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("isv.invalid-timestamp"), "{body}");

    // Certificate mode, valid: signed with alipay_cert_sn; unknown trade.
    let cert = Opts {
        cert: true,
        ..PLAIN
    };
    let (node, body) = call(&server, "alipay.trade.query", biz, &cert).await;
    assert_eq!(node["sub_code"], "ACQ.TRADE_NOT_EXIST", "{body}");
}

#[tokio::test]
async fn precreate_pay_notify_query_refund_bill() {
    let server = start().await;
    let url = receiver().await;
    let o = Opts {
        cert: true,
        notify_url: Some(url),
        ..PLAIN
    };
    let (node, body) = call(
        &server,
        "alipay.trade.precreate",
        json!({"out_trade_no": "A1", "total_amount": "88.88", "subject": "咖啡"}),
        &o,
    )
    .await;
    assert_eq!(node["code"], "10000");
    assert!(body.contains("http:\\/\\/"), "slashes escaped: {body}");
    let qr = node["qr_code"].as_str().unwrap().to_owned();
    // Not scanned yet: the trade does not exist.
    let (node, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "A1"}),
        &o,
    )
    .await;
    assert_eq!(node["sub_code"], "ACQ.TRADE_NOT_EXIST");
    // Scan: the cashier page.
    let page = reqwest::get(&qr).await.unwrap().text().await.unwrap();
    assert!(page.contains("WAIT_BUYER_PAY"));
    let (node, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "A1"}),
        &o,
    )
    .await;
    assert_eq!(node["trade_status"], "WAIT_BUYER_PAY");
    // Same number, other amount.
    let (node, _) = call(
        &server,
        "alipay.trade.precreate",
        json!({"out_trade_no": "A1", "total_amount": "1.00", "subject": "咖啡"}),
        &o,
    )
    .await;
    assert_eq!(node["sub_code"], "ACQ.CONTEXT_INCONSISTENT");

    server
        .pay(Channel::Alipay, "A1", Some("2088000000000077"))
        .unwrap();
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(5), |d| d
                .iter()
                .any(|d| d.acknowledged))
            .await
    );
    let d = server
        .notifications()
        .into_iter()
        .find(|d| d.acknowledged)
        .unwrap();
    let form: Vec<(String, String)> = url_decode(d.body_str());
    verify_notification(server.alipay().alipay_public_key(), &form).unwrap();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("trade_status").as_deref(), Some("TRADE_SUCCESS"));
    assert_eq!(get("total_amount").as_deref(), Some("88.88"));
    assert_eq!(get("buyer_id").as_deref(), Some("2088000000000077"));

    let (node, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "A1"}),
        &o,
    )
    .await;
    assert_eq!(node["trade_status"], "TRADE_SUCCESS");
    let trade_no = node["trade_no"].as_str().unwrap().to_owned();
    let (node, _) = call(
        &server,
        "alipay.trade.precreate",
        json!({"out_trade_no": "A1", "total_amount": "88.88", "subject": "咖啡"}),
        &o,
    )
    .await;
    assert_eq!(node["sub_code"], "ACQ.TRADE_HAS_SUCCESS");

    // Refunds: partial, repeat, discordant, too large, no out_request_no.
    let refund = |amount: &str, no: Option<&str>| {
        let mut b = json!({"trade_no": trade_no, "refund_amount": amount});
        if let Some(no) = no {
            b["out_request_no"] = json!(no);
        }
        b
    };
    let (n, _) = call(
        &server,
        "alipay.trade.refund",
        refund("10.00", Some("R1")),
        &o,
    )
    .await;
    assert_eq!(
        (n["fund_change"].as_str(), n["refund_fee"].as_str()),
        (Some("Y"), Some("10.00"))
    );
    let (n, _) = call(
        &server,
        "alipay.trade.refund",
        refund("10.00", Some("R1")),
        &o,
    )
    .await;
    assert_eq!(n["fund_change"], "N");
    let (n, _) = call(
        &server,
        "alipay.trade.refund",
        refund("11.00", Some("R1")),
        &o,
    )
    .await;
    assert_eq!(n["sub_code"], "ACQ.DISCORDANT_REPEAT_REQUEST");
    let (n, _) = call(
        &server,
        "alipay.trade.refund",
        refund("80.00", Some("R2")),
        &o,
    )
    .await;
    assert_eq!(n["sub_code"], "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    let (n, _) = call(&server, "alipay.trade.refund", refund("1.00", None), &o).await;
    assert_eq!(n["sub_code"], "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    let (n, _) = call(
        &server,
        "alipay.trade.fastpay.refund.query",
        json!({"out_trade_no": "A1", "out_request_no": "R1"}),
        &o,
    )
    .await;
    assert_eq!(
        (n["refund_status"].as_str(), n["refund_amount"].as_str()),
        (Some("REFUND_SUCCESS"), Some("10.00"))
    );
    let (n, _) = call(
        &server,
        "alipay.trade.close",
        json!({"out_trade_no": "A1"}),
        &o,
    )
    .await;
    assert_eq!(n["sub_code"], "ACQ.TRADE_STATUS_ERROR");

    // The bill of that day, from a later day.
    let day = server
        .now()
        .to_offset(payagg_core::clock::CHINA_OFFSET)
        .date();
    server.advance(time::Duration::hours(33));
    let (n, _) = call(
        &server,
        "alipay.data.dataservice.bill.downloadurl.query",
        json!({"bill_type": "trade", "bill_date": day.to_string()}),
        &o,
    )
    .await;
    let url = n["bill_download_url"]
        .as_str()
        .expect("bill url")
        .to_owned();
    let zip = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    let mut ar = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    let mut found = 0;
    for i in 0..ar.len() {
        let mut f = ar.by_index(i).unwrap();
        let name = encoding_rs::GBK.decode(f.name_raw()).0.into_owned();
        let mut raw = Vec::new();
        f.read_to_end(&mut raw).unwrap();
        let text = encoding_rs::GBK.decode(&raw).0.into_owned();
        if name.ends_with("_业务明细.csv") {
            found += 1;
            assert!(text.contains("#支付宝业务明细查询\r\n"));
            assert!(text.contains("#交易合计：1笔，商家实收共88.88元"), "{text}");
            assert!(
                text.contains("#退款合计：1笔，商家实收退款共-10.00元"),
                "{text}"
            );
            assert!(text.contains(",R1\t,"), "{text}");
        } else if name.ends_with("_业务明细(汇总).csv") {
            found += 1;
            assert!(text.contains("合计\t,\t,1\t,1\t,78.88\t"), "{text}");
        }
    }
    assert_eq!(found, 2);
    // Missing bills.
    let (n, _) = call(
        &server,
        "alipay.data.dataservice.bill.downloadurl.query",
        json!({"bill_type": "trade", "bill_date": "2001-01-01"}),
        &o,
    )
    .await;
    assert_eq!(n["sub_code"], "isp.bill_not_exist");
}

fn url_decode(s: &str) -> Vec<(String, String)> {
    fn d(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(if b[i] == b'+' { b' ' } else { b[i] });
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
    s.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (d(k), d(v)))
        .collect()
}

#[tokio::test]
async fn payment_codes_cancel_and_transfers() {
    let server = start().await;
    let o = PLAIN;
    let pay = |no: &str, code: &str| json!({"out_trade_no": no, "scene": "bar_code", "auth_code": code, "total_amount": "5.00", "subject": "s"});
    let (n, _) = call(
        &server,
        "alipay.trade.pay",
        pay("P1", "280000000000000001"),
        &o,
    )
    .await;
    assert_eq!(
        (n["code"].as_str(), n["gmt_payment"].is_string()),
        (Some("10000"), true)
    );
    let (n, _) = call(
        &server,
        "alipay.trade.pay",
        pay("P1", "280000000000000001"),
        &o,
    )
    .await;
    assert_eq!(n["sub_code"], "ACQ.TRADE_HAS_SUCCESS");
    let (n, _) = call(
        &server,
        "alipay.trade.pay",
        pay("P2", "281100000000000001"),
        &o,
    )
    .await;
    assert_eq!(n["code"], "10003");
    server.advance(time::Duration::seconds(11));
    let (n, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "P2"}),
        &o,
    )
    .await;
    assert_eq!(n["trade_status"], "TRADE_SUCCESS");
    let (n, _) = call(
        &server,
        "alipay.trade.pay",
        pay("P3", "281300000000000001"),
        &o,
    )
    .await;
    assert_eq!(n["code"], "10003");
    let (n, _) = call(
        &server,
        "alipay.trade.cancel",
        json!({"out_trade_no": "P3"}),
        &o,
    )
    .await;
    assert_eq!(
        (n["sub_code"].as_str(), n["retry_flag"].as_str()),
        (Some("ACQ.SYSTEM_ERROR"), Some("Y"))
    );
    let (n, _) = call(
        &server,
        "alipay.trade.cancel",
        json!({"out_trade_no": "P3"}),
        &o,
    )
    .await;
    assert_eq!(
        (n["action"].as_str(), n["retry_flag"].as_str()),
        (Some("close"), Some("N"))
    );
    let (n, _) = call(
        &server,
        "alipay.trade.pay",
        pay("P3", "281300000000000001"),
        &o,
    )
    .await;
    assert_eq!(n["sub_code"], "ACQ.TRADE_HAS_CLOSE");
    let (n, _) = call(
        &server,
        "alipay.trade.cancel",
        json!({"out_trade_no": "P1"}),
        &o,
    )
    .await;
    assert_eq!(n["action"], "refund");
    let (n, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "P1"}),
        &o,
    )
    .await;
    assert_eq!(n["trade_status"], "TRADE_CLOSED");
    let (n, _) = call(
        &server,
        "alipay.trade.pay",
        pay("P4", "281500000000000001"),
        &o,
    )
    .await;
    assert_eq!(n["sub_code"], "ACQ.BUYER_BALANCE_NOT_ENOUGH");
    let (n, _) = call(&server, "alipay.trade.pay", pay("P5", "123"), &o).await;
    assert_eq!(n["sub_code"], "ACQ.PAYMENT_AUTH_CODE_INVALID");

    server.set_alipay_balance(Some(1000));
    let t = |no: &str, amt: &str| {
        json!({"out_biz_no": no, "trans_amount": amt, "product_code": "TRANS_ACCOUNT_NO_PWD",
               "biz_scene": "DIRECT_TRANSFER", "payee_info": {"identity": "2088000000000099", "identity_type": "ALIPAY_USER_ID"}})
    };
    let cert = Opts {
        cert: true,
        ..PLAIN
    };
    let (n, _) = call(
        &server,
        "alipay.fund.trans.uni.transfer",
        t("T1", "6.00"),
        &cert,
    )
    .await;
    assert_eq!(n["status"], "SUCCESS");
    let (n, _) = call(
        &server,
        "alipay.fund.trans.uni.transfer",
        t("T1", "7.00"),
        &cert,
    )
    .await;
    assert_eq!(n["sub_code"], "PAYMENT_INFO_INCONSISTENCY");
    let (n, _) = call(
        &server,
        "alipay.fund.trans.uni.transfer",
        t("T2", "5.00"),
        &cert,
    )
    .await;
    assert_eq!(n["sub_code"], "PAYER_BALANCE_NOT_ENOUGH");
    assert_eq!(server.alipay_balance(), Some(400));
    let (n, _) = call(
        &server,
        "alipay.fund.trans.common.query",
        json!({"out_biz_no": "T1", "product_code": "TRANS_ACCOUNT_NO_PWD", "biz_scene": "DIRECT_TRANSFER"}),
        &cert,
    )
    .await;
    assert_eq!(
        (n["status"].as_str(), n["trans_amount"].as_str()),
        (Some("SUCCESS"), Some("6.00"))
    );
}

/// `call`'s request, JAVA-style, as raw bytes: query string (signed) and form body.
fn signed_gateway_request(server: &MockServer, method: &str, biz: &str) -> (String, String) {
    let a = server.alipay();
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), a.app_id().into()),
        ("method".into(), method.into()),
        ("format".into(), "JSON".into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), "RSA2".into()),
        ("timestamp".into(), ymdhms(server.now())),
        ("version".into(), "1.0".into()),
    ];
    let mut all = params.clone();
    all.push(("biz_content".into(), biz.to_owned()));
    let sig = sign::sign_params(
        a.app_private_key(),
        SignType::Rsa2,
        all.iter().map(|(k, v)| (k, v)),
    );
    params.push(("sign".into(), sig));
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    (query.join("&"), format!("biz_content={}", enc(biz)))
}

/// One request over a fresh TCP connection; the whole answer as text.
async fn raw_exchange(server: &MockServer, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    String::from_utf8(raw).unwrap()
}

#[tokio::test]
async fn absolute_form_gateway_request_is_verified_and_signed() {
    let server = start().await;
    let (node, _) = call(
        &server,
        "alipay.trade.precreate",
        json!({"out_trade_no": "ABS1", "total_amount": "12.34", "subject": "茶"}),
        &PLAIN,
    )
    .await;
    server
        .scan(node["qr_code"].as_str().unwrap(), Some("2088000000000042"))
        .unwrap();

    let addr = server.addr();
    let biz = json!({"out_trade_no": "ABS1"}).to_string();
    let (query, body) = signed_gateway_request(&server, "alipay.trade.query", &biz);
    let request = |body: &str| {
        format!(
            "POST http://{addr}/gateway.do?{query} HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/x-www-form-urlencoded;charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let raw = raw_exchange(&server, &request(&body)).await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    let (_, answer) = raw.split_once("\r\n\r\n").unwrap();
    let ex = extract_response(answer.as_bytes(), "alipay.trade.query").unwrap();
    let sig = ex.sign.as_ref().expect("a signed answer");
    verify(
        server.alipay().alipay_public_key(),
        SignType::Rsa2,
        ex.content,
        sig,
    )
    .unwrap();
    let node: Value = serde_json::from_slice(ex.content).unwrap();
    assert_eq!(node["code"], "10000", "{answer}");
    assert_eq!(node["out_trade_no"], "ABS1");
    assert_eq!(node["trade_status"], "TRADE_SUCCESS");
    assert_eq!(node["total_amount"], "12.34");
    assert_eq!(node["buyer_user_id"], "2088000000000042");

    // The same absolute-form request with the signed body altered is refused: the
    // signature really is checked over the absolute-form target's query and the form.
    let tampered = format!(
        "biz_content={}",
        enc(&json!({"out_trade_no": "ABS2"}).to_string())
    );
    let raw = raw_exchange(&server, &request(&tampered)).await;
    assert!(raw.contains("isv.invalid-signature"), "{raw}");
}

#[tokio::test]
async fn scan_pays_a_precreate_qr_code() {
    let server = start().await;
    let o = Opts {
        notify_url: Some(receiver().await),
        ..PLAIN
    };
    let precreate = |no: &'static str| {
        call(
            &server,
            "alipay.trade.precreate",
            json!({"out_trade_no": no, "total_amount": "8.00", "subject": "面包"}),
            &o,
        )
    };
    let qr = |node: Value| node["qr_code"].as_str().unwrap().to_owned();
    let qr1 = qr(precreate("SCAN1").await.0);
    let qr2 = qr(precreate("SCAN2").await.0);

    // Control API: scan as a chosen buyer.
    let http = reqwest::Client::new();
    let scan = |code: String, payer: Option<&str>| {
        http.post(format!("{}/__mock/scan", server.base_url()))
            .header("Content-Type", "application/json")
            .body(json!({"code_url": code, "payer": payer}).to_string())
            .send()
    };
    let r = scan(qr1.clone(), Some("2088000000000099")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let order: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(order["out_trade_no"], "SCAN1");
    let (node, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "SCAN1"}),
        &o,
    )
    .await;
    assert_eq!(node["trade_status"], "TRADE_SUCCESS");
    assert_eq!(node["buyer_user_id"], "2088000000000099");
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(5), |d| d
                .iter()
                .any(|d| d.acknowledged && d.body_str().contains("SCAN1")))
            .await
    );
    // Scanned again: already paid. An unknown code: not found.
    assert_eq!(scan(qr1, None).await.unwrap().status().as_u16(), 409);
    let unknown = format!("{}/alipay/qr/2099NOSUCHTRADE", server.base_url());
    assert_eq!(scan(unknown, None).await.unwrap().status().as_u16(), 404);

    // Library call; the code as seen through another host name still finds the trade.
    let other_host = qr2.replace("127.0.0.1", "localhost");
    assert_ne!(other_host, qr2);
    let paid = server.scan(&other_host, None).unwrap();
    assert_eq!(paid.out_trade_no, "SCAN2");
    assert_eq!(paid.status, OrderStatus::Success);
    let (node, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "SCAN2"}),
        &o,
    )
    .await;
    assert_eq!(node["trade_status"], "TRADE_SUCCESS");
}

mod common;

const ALIPAY_SCHEDULE: [u64; 3] = [240, 600, 600];

fn form_get(d: &[u8], k: &str) -> Option<String> {
    url_decode(std::str::from_utf8(d).unwrap())
        .into_iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v)
}

#[tokio::test]
async fn notification_retries_on_the_schedule_until_success() {
    let scale = 500;
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(scale))
        .await
        .unwrap();
    // 500, then 200 with another body (not an acknowledgement), then `success`.
    let (url, hits) = common::scripted(vec![(500, ""), (200, "fail"), (200, "success")]).await;
    let o = Opts {
        notify_url: Some(url),
        ..PLAIN
    };
    let (node, _) = call(
        &server,
        "alipay.trade.precreate",
        json!({"out_trade_no": "RETRY1", "total_amount": "5.00", "subject": "茶"}),
        &o,
    )
    .await;
    assert_eq!(node["code"], "10000");
    server.pay(Channel::Alipay, "RETRY1", None).unwrap();
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(10), |d| d
                .iter()
                .any(|d| d.acknowledged))
            .await
    );
    // The next retry would have come 600 s / 500 = 1.2 s later.
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    assert_eq!(hits.len(), 3, "no send after `success`");
    common::assert_schedule(&hits.gaps(), &ALIPAY_SCHEDULE[..2], scale);
    let d = server.notifications();
    let seen: Vec<_> = d
        .iter()
        .map(|x| {
            (
                x.attempt,
                x.status,
                x.response_body.as_str(),
                x.acknowledged,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, Some(500), "", false),
            (2, Some(200), "fail", false),
            (3, Some(200), "success", true)
        ]
    );
    // Each send is a signed trade_status_sync of the trade.
    for body in hits.bodies() {
        let form = url_decode(std::str::from_utf8(&body).unwrap());
        verify_notification(server.alipay().alipay_public_key(), &form).unwrap();
        assert_eq!(form_get(&body, "out_trade_no").as_deref(), Some("RETRY1"));
        assert_eq!(
            form_get(&body, "notify_type").as_deref(),
            Some("trade_status_sync")
        );
    }
}

#[tokio::test]
async fn duplicate_and_out_of_order_notifications() {
    let server = start().await;
    let (url, hits) = common::scripted(vec![(200, "success")]).await;
    let o = Opts {
        notify_url: Some(url),
        ..PLAIN
    };
    for no in ["DUP1", "DUP2"] {
        let (node, _) = call(
            &server,
            "alipay.trade.precreate",
            json!({"out_trade_no": no, "total_amount": "1.00", "subject": "糖"}),
            &o,
        )
        .await;
        assert_eq!(node["code"], "10000");
    }
    server.notifier().hold();
    server.notifier().set_duplicates(1);
    server.pay(Channel::Alipay, "DUP1", None).unwrap();
    server.pay(Channel::Alipay, "DUP2", None).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(hits.len(), 0, "held");
    assert_eq!(server.notifier().release(true), 2);
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(5), |d| d.len() == 4)
            .await
    );
    let d = server.notifications();
    let orders: Vec<String> = d
        .iter()
        .map(|x| form_get(&x.body, "out_trade_no").unwrap())
        .collect();
    assert_eq!(orders[0], "DUP2", "newest first: {orders:?}");
    for no in ["DUP1", "DUP2"] {
        let copies: Vec<_> = d
            .iter()
            .filter(|x| form_get(&x.body, "out_trade_no").as_deref() == Some(no))
            .collect();
        assert_eq!(copies.len(), 2, "{no} twice");
        // Same notify_id: a receiver can deduplicate.
        assert_eq!(
            form_get(&copies[0].body, "notify_id"),
            form_get(&copies[1].body, "notify_id")
        );
        assert!(copies.iter().all(|c| c.acknowledged));
    }
    assert_eq!(d.iter().filter(|x| x.copy == 1).count(), 2);
}

/// The Alipay trade bill of `day` as payagg-alipay parses it.
async fn alipay_bill(
    server: &MockServer,
    day: time::Date,
) -> (
    Vec<payagg_core::StatementRecord>,
    payagg_alipay::bill::BillFiles,
) {
    use payagg_core::statement::StatementParser as _;
    let (n, body) = call(
        server,
        "alipay.data.dataservice.bill.downloadurl.query",
        json!({"bill_type": "trade", "bill_date": day.to_string()}),
        &PLAIN,
    )
    .await;
    let url = n["bill_download_url"].as_str().expect(&body).to_owned();
    let zip = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    let files = payagg_alipay::bill::unzip_bill(&zip).unwrap();
    let records = payagg_alipay::bill::TradeBillParser
        .records(files.detail.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (records, files)
}

#[tokio::test]
async fn bill_discrepancies_change_the_downloaded_zip() {
    use payagg_core::statement::RecordKind;
    let server = start().await;
    let o = Opts {
        notify_url: Some(common::scripted(vec![(200, "success")]).await.0),
        ..PLAIN
    };
    for (no, amount) in [("BILL1", "10.00"), ("BILL2", "20.00")] {
        let (node, _) = call(
            &server,
            "alipay.trade.precreate",
            json!({"out_trade_no": no, "total_amount": amount, "subject": "书"}),
            &o,
        )
        .await;
        assert_eq!(node["code"], "10000");
        server.pay(Channel::Alipay, no, None).unwrap();
        server.advance(time::Duration::minutes(1));
    }
    let (n, _) = call(
        &server,
        "alipay.trade.refund",
        json!({"out_trade_no": "BILL2", "refund_amount": "5.00", "out_request_no": "BR1"}),
        &o,
    )
    .await;
    assert_eq!(n["code"], "10000");
    let day = server
        .now()
        .to_offset(payagg_core::clock::CHINA_OFFSET)
        .date();
    server.advance(time::Duration::hours(33));

    let (base, files) = alipay_bill(&server, day).await;
    payagg_alipay::bill::check_summary(&files).unwrap();
    let payments = |r: &[payagg_core::StatementRecord]| {
        r.iter()
            .filter(|x| x.kind == RecordKind::Payment)
            .map(|x| (x.merchant_order_no.clone().unwrap(), x.gross.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        payments(&base),
        [
            ("BILL1".to_owned(), "10.00".to_owned()),
            ("BILL2".to_owned(), "20.00".to_owned())
        ]
    );
    assert_eq!(base.len(), 3, "two payments and a refund");

    // Missing row, through the control API: the day's first payment is gone.
    let http = reqwest::Client::new();
    let control = format!("{}/__mock/bills/alipay/discrepancies", server.base_url());
    let r = http
        .post(&control)
        .body(json!({"date": day.to_string(), "kind": "missing_row"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (recs, files) = alipay_bill(&server, day).await;
    payagg_alipay::bill::check_summary(&files).unwrap();
    assert_eq!(payments(&recs), [("BILL2".to_owned(), "20.00".to_owned())]);
    assert_eq!(recs.len(), 2, "the refund row stays");
    assert_eq!(
        http.delete(&control)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(alipay_bill(&server, day).await.0.len(), 3, "cleared");

    // Changed amount: the first payment states 1.00 more.
    server.inject_alipay_bill_discrepancy(day, payagg_mock::BillDiscrepancy::ChangedAmount);
    let (recs, files) = alipay_bill(&server, day).await;
    payagg_alipay::bill::check_summary(&files).unwrap();
    assert_eq!(
        payments(&recs),
        [
            ("BILL1".to_owned(), "11.00".to_owned()),
            ("BILL2".to_owned(), "20.00".to_owned())
        ]
    );
    server.clear_alipay_bill_discrepancies();

    // Extra row: a payment for a trade the simulator never saw.
    server.inject_alipay_bill_discrepancy(day, payagg_mock::BillDiscrepancy::ExtraRow);
    let (recs, files) = alipay_bill(&server, day).await;
    payagg_alipay::bill::check_summary(&files).unwrap();
    assert_eq!(recs.len(), 4);
    let extra: Vec<_> = recs
        .iter()
        .filter(|r| {
            let no = r.merchant_order_no.clone().unwrap();
            server.order(Channel::Alipay, &no).is_none()
        })
        .collect();
    assert_eq!(extra.len(), 1, "{recs:?}");
    assert_eq!(extra[0].kind, RecordKind::Payment);
    assert_eq!(extra[0].gross.to_string(), "12.34");
    server.clear_alipay_bill_discrepancies();

    // Next-day row: the first row is dated 00:00:01 of the following day.
    server.inject_alipay_bill_discrepancy(day, payagg_mock::BillDiscrepancy::NextDayRow);
    let (recs, files) = alipay_bill(&server, day).await;
    payagg_alipay::bill::check_summary(&files).unwrap();
    assert_eq!(recs.len(), 3);
    let moved: Vec<_> = recs
        .iter()
        .map(|r| r.occurred_at.to_offset(payagg_core::clock::CHINA_OFFSET))
        .filter(|t| t.date() != day)
        .collect();
    assert_eq!(moved.len(), 1, "{recs:?}");
    assert_eq!(moved[0].date(), day.next_day().unwrap());
    assert_eq!(moved[0].time(), time::Time::from_hms(0, 0, 1).unwrap());
    let bill1 = recs
        .iter()
        .find(|r| r.merchant_order_no.as_deref() == Some("BILL1"))
        .unwrap();
    assert_eq!(
        bill1
            .occurred_at
            .to_offset(payagg_core::clock::CHINA_OFFSET),
        moved[0]
    );
    // Other days are untouched.
    server.clear_alipay_bill_discrepancies();
    server.inject_alipay_bill_discrepancy(
        day.next_day().unwrap(),
        payagg_mock::BillDiscrepancy::MissingRow,
    );
    assert_eq!(alipay_bill(&server, day).await.0.len(), 3);
}

#[tokio::test]
async fn the_chosen_wallet_is_the_fund_bill_list() {
    use payagg_mock::{PayAs, Wallet};
    let server = start().await;
    let (url, _hits) = common::scripted(vec![(200, "success")]).await;
    let o = Opts {
        notify_url: Some(url),
        ..PLAIN
    };
    for no in ["FUND1", "FUND2", "FUND3", "FUND4"] {
        let (node, _) = call(
            &server,
            "alipay.trade.precreate",
            json!({"out_trade_no": no, "total_amount": "12.30", "subject": "饭"}),
            &o,
        )
        .await;
        assert_eq!(node["code"], "10000");
    }
    // Library: a debit card; control API: 花呗; the cashier page's form: a credit card.
    server
        .pay_as(
            Channel::Alipay,
            "FUND1",
            &PayAs::payer("2088000000000011").with_wallet(Wallet::debit("CMB")),
        )
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/__mock/orders/alipay/FUND2/pay",
            server.base_url()
        ))
        .body(json!({"wallet": "PCREDIT"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let trade_no = server
        .order(Channel::Alipay, "FUND3")
        .unwrap()
        .transaction_id;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/alipay/cashier/{trade_no}/pay",
            server.base_url()
        ))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("buyer_id=2088000000000033&wallet=ICBC_CREDIT")
        .send()
        .await
        .unwrap();
    assert!(r.status().as_u16() < 400);
    server.pay(Channel::Alipay, "FUND4", None).unwrap();

    let want = [
        ("FUND1", "BANKCARD", Some(("DEBIT_CARD", "CMB"))),
        ("FUND2", "PCREDIT", None),
        ("FUND3", "BANKCARD", Some(("CREDIT_CARD", "ICBC"))),
        ("FUND4", "ALIPAYACCOUNT", None),
    ];
    // Sync answer: fund_channel, amount, real_amount; fund_type and bank_code for cards.
    for (no, channel, card) in want {
        let (node, _) = call(
            &server,
            "alipay.trade.query",
            json!({"out_trade_no": no, "query_options": ["fund_bill_list"]}),
            &o,
        )
        .await;
        assert_eq!(node["trade_status"], "TRADE_SUCCESS");
        let bills = node["fund_bill_list"].as_array().unwrap();
        assert_eq!(bills.len(), 1, "{node}");
        let b = &bills[0];
        assert_eq!(
            (b["fund_channel"].as_str(), b["amount"].as_str()),
            (Some(channel), Some("12.30"))
        );
        assert_eq!(b["real_amount"], "12.30");
        assert_eq!(
            card,
            b["fund_type"]
                .as_str()
                .map(|t| (t, b["bank_code"].as_str().unwrap())),
            "{b}"
        );
        // The client's wire model reads it.
        let parsed: payagg_alipay::wire::TradeQueryResponse =
            serde_json::from_value(node.clone()).unwrap();
        assert_eq!(parsed.fund_bill_list[0].fund_channel, channel);
    }
    assert_eq!(
        call(
            &server,
            "alipay.trade.query",
            json!({"out_trade_no": "FUND3"}),
            &o
        )
        .await
        .0["buyer_user_id"],
        "2088000000000033"
    );

    // Notifications: fund_bill_list as a JSON string with fundChannel.
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(5), |d| d.len() == 4)
            .await
    );
    for d in server.notifications() {
        let no = form_get(&d.body, "out_trade_no").unwrap();
        let (_, channel, _) = want.iter().find(|w| w.0 == no).unwrap();
        let list: Value =
            serde_json::from_str(&form_get(&d.body, "fund_bill_list").unwrap()).unwrap();
        assert_eq!(list, json!([{"amount": "12.30", "fundChannel": channel}]));
        let form = url_decode(d.body_str());
        verify_notification(server.alipay().alipay_public_key(), &form).unwrap();
    }

    // A refund goes back the way the money came.
    let (n, _) = call(
        &server,
        "alipay.trade.refund",
        json!({"out_trade_no": "FUND1", "refund_amount": "2.30", "out_request_no": "FR1"}),
        &o,
    )
    .await;
    assert_eq!(n["code"], "10000");
    assert_eq!(
        n["refund_detail_item_list"],
        json!([{"fund_channel": "BANKCARD", "amount": "2.30", "real_amount": "2.30",
                "fund_type": "DEBIT_CARD", "bank_code": "CMB"}])
    );
}

/// A payment code that needs the payer's password (`2811`): the trade completes 10 s later on
/// the simulator clock, and then Alipay sends `trade_status_sync` to the `notify_url` the
/// `alipay.trade.pay` call gave, signed like every notification; without a `notify_url`
/// nothing is sent.
#[tokio::test]
async fn password_payment_code_notifies_when_the_trade_completes() {
    let server = start().await;
    let url = receiver().await;
    let with_url = Opts {
        notify_url: Some(url.clone()),
        ..PLAIN
    };
    let pay = |no: &str| json!({"out_trade_no": no, "scene": "bar_code", "auth_code": "281100000000000042", "total_amount": "8.80", "subject": "s"});
    let created = server.now();
    let (n, _) = call(&server, "alipay.trade.pay", pay("PW1"), &with_url).await;
    assert_eq!(n["code"], "10003");
    let (n, _) = call(&server, "alipay.trade.pay", pay("PW2"), &PLAIN).await;
    assert_eq!(n["code"], "10003");
    // Still entering the password: nothing is sent yet.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(server.notifications().is_empty());
    server.advance(time::Duration::seconds(11));
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(10), |d| d
                .iter()
                .any(|d| d.acknowledged))
            .await,
        "no notification after the password: {:?}",
        server.notifications()
    );
    // Later queries do not send it again, and the trade without notify_url sends nothing.
    let (n, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "PW1"}),
        &PLAIN,
    )
    .await;
    assert_eq!(n["trade_status"], "TRADE_SUCCESS");
    let (n, _) = call(
        &server,
        "alipay.trade.query",
        json!({"out_trade_no": "PW2"}),
        &PLAIN,
    )
    .await;
    assert_eq!(n["trade_status"], "TRADE_SUCCESS");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let d = server.notifications();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].url, url);
    assert_eq!(d[0].event_type, "trade_status_sync:TRADE_SUCCESS");
    let form = url_decode(d[0].body_str());
    verify_notification(server.alipay().alipay_public_key(), &form).unwrap();
    let get = |k: &str| form_get(&d[0].body, k);
    assert_eq!(get("notify_type").as_deref(), Some("trade_status_sync"));
    assert_eq!(get("out_trade_no").as_deref(), Some("PW1"));
    assert_eq!(get("trade_status").as_deref(), Some("TRADE_SUCCESS"));
    assert_eq!(get("total_amount").as_deref(), Some("8.80"));
    assert_eq!(get("app_id").as_deref(), Some(server.alipay().app_id()));
    // Paid when the password was entered, 10 s after the code was presented.
    let paid_at = ymdhms(created + time::Duration::seconds(10));
    assert_eq!(get("gmt_payment"), Some(paid_at));
}

/// One signed v3 `trade/query` with the given nonce and millisecond timestamp; `tamper`
/// changes the body after signing. Returns (status, body).
async fn v3_query(server: &MockServer, nonce: &str, ts_ms: i128, tamper: bool) -> (u16, Value) {
    let a = server.alipay();
    let path = "/v3/alipay/trade/query";
    let body = br#"{"out_trade_no":"NONCE-1"}"#;
    let auth = sign::v3_auth_string(a.app_id(), None, nonce, i64::try_from(ts_ms).unwrap());
    let msg = sign::v3_request_message(&auth, "POST", path, body, None);
    let sig = sign::sign(a.app_private_key(), SignType::Rsa2, &msg);
    let sent: &[u8] = if tamper {
        br#"{"out_trade_no":"NONCE-2"}"#
    } else {
        body
    };
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", server.base_url()))
        .header("authorization", sign::v3_authorization(&auth, &sig))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(sent.to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap(),
    )
}

/// The v3 gateway refuses a replayed `nonce` while the first request's timestamp window
/// lasts (401 `invalid-nonce`, the v3 error shape); an unsigned (badly signed) request does
/// not use a nonce up; after the window the nonce may come again with a fresh timestamp.
#[tokio::test]
async fn v3_refuses_a_replayed_nonce_within_the_window() {
    let server = start().await;
    let ms = |s: &MockServer| s.now().unix_timestamp_nanos() / 1_000_000;
    let t0 = ms(&server);
    let (status, first) = v3_query(&server, "nonce-a", t0, false).await;
    assert_eq!(
        (status, first["code"].as_str()),
        (400, Some("ACQ.TRADE_NOT_EXIST"))
    );
    // The very same request again, and the same nonce with a newer timestamp: replays.
    for ts in [t0, t0 + 5_000] {
        let (status, e) = v3_query(&server, "nonce-a", ts, false).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (401, Some("invalid-nonce")),
            "{e}"
        );
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains("nonce")),
            "{e}"
        );
        assert!(
            e["links"][0]["link"]
                .as_str()
                .is_some_and(|l| l.contains("errCheck?traceId=")),
            "{e}"
        );
    }
    // Another nonce is fine.
    let (status, _) = v3_query(&server, "nonce-b", t0, false).await;
    assert_eq!(status, 400);
    // A request failing the signature check does not use its nonce up.
    let (status, e) = v3_query(&server, "nonce-c", t0, true).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (401, Some("invalid-signature"))
    );
    let (status, e) = v3_query(&server, "nonce-c", t0, false).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("ACQ.TRADE_NOT_EXIST")),
        "{e}"
    );
    // Past the 15-minute window the old request is stale, and the nonce is forgotten.
    server.advance(time::Duration::minutes(16));
    let (status, e) = v3_query(&server, "nonce-a", t0, false).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (401, Some("invalid-timestamp"))
    );
    let (status, e) = v3_query(&server, "nonce-a", ms(&server), false).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("ACQ.TRADE_NOT_EXIST")),
        "{e}"
    );
}
