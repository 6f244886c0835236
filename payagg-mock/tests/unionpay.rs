//! The UnionPay half, driven with `payagg_unionpay::sign` directly: request verification,
//! answer signing and chain, and a B2B life cycle down to the ZM file.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Read as _;

use base64::Engine as _;
use payagg_core::clock::CHINA_OFFSET;
use payagg_core::crypto::Certificate;
use payagg_mock::{BillDiscrepancy, MockConfig, MockServer, OrderStatus};
use payagg_unionpay::qstring::{self, Fields};
use payagg_unionpay::sign::{self, SignMethod, Signer};

fn txn_time(server: &MockServer) -> String {
    let c = server.now().to_offset(CHINA_OFFSET);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year(),
        u8::from(c.month()),
        c.day(),
        c.hour(),
        c.minute(),
        c.second()
    )
}

fn base(server: &MockServer, pairs: &[(&str, &str)]) -> Fields {
    let mut f = Fields::new();
    for (k, v) in [
        ("version", "5.1.0"),
        ("encoding", "UTF-8"),
        ("accessType", "0"),
        ("merId", server.unionpay().mer_id()),
    ] {
        f.insert(k.into(), v.into());
    }
    for (k, v) in pairs {
        f.insert((*k).into(), (*v).into());
    }
    f
}

fn rsa_signer(server: &MockServer) -> Signer {
    Signer::rsa(
        server.unionpay().merchant_key().clone(),
        server.unionpay().cert_id(),
    )
}

async fn post(url: &str, fields: &Fields) -> String {
    reqwest::Client::new()
        .post(url)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(qstring::form_encode(fields))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Verify an answer the way the client does: signPubKeyCert byte-exact, chained to the
/// middle and root, CN owner, then the signature.
fn verify_answer(server: &MockServer, fields: &Fields) {
    let up = server.unionpay();
    let pem = &fields["signPubKeyCert"];
    assert_eq!(pem, up.signer_cert_pem());
    assert!(pem.contains("\r\n") && !pem.ends_with('\n'));
    let leaf = Certificate::from_pem(pem).unwrap();
    let middle = Certificate::from_pem(up.middle_cert_pem()).unwrap();
    let root = Certificate::from_pem(up.root_cert_pem()).unwrap();
    leaf.verify_issued_by(&middle).unwrap();
    middle.verify_issued_by(&root).unwrap();
    root.verify_issued_by(&root).unwrap();
    let cn = leaf.subject_common_name().unwrap();
    assert_eq!(cn.split('@').nth(2), Some("中国银联股份有限公司"));
    sign::verify_rsa_sha256(fields, &leaf.public_key().unwrap()).unwrap();
}

async fn call(server: &MockServer, path: &str, f: Fields) -> Fields {
    let signed = sign::sign(f, &rsa_signer(server)).unwrap();
    let body = post(&format!("{}{path}", server.base_url()), &signed).await;
    let fields = qstring::parse(&body).unwrap();
    verify_answer(server, &fields);
    fields
}

#[tokio::test]
async fn bad_signatures_and_unknown_cert_ids_are_refused() {
    let server = MockServer::start(MockConfig::generate().unwrap())
        .await
        .unwrap();
    let url = format!("{}/gateway/api/queryTrans.do", server.base_url());
    let t = txn_time(&server);
    let q = base(
        &server,
        &[
            ("txnType", "00"),
            ("txnSubType", "00"),
            ("bizType", "000000"),
            ("orderId", "NOSUCH0001"),
            ("txnTime", &t),
        ],
    );
    // Valid: not found, 34.
    let ok = sign::sign(q.clone(), &rsa_signer(&server)).unwrap();
    let a = qstring::parse(&post(&url, &ok).await).unwrap();
    verify_answer(&server, &a);
    assert_eq!(a["respCode"], "34");
    assert_eq!(a["respMsg"], "查无此交易[2600000]");

    // A field changed after signing.
    let mut tampered = ok.clone();
    tampered.insert("orderId".into(), "NOSUCH0002".into());
    let a = qstring::parse(&post(&url, &tampered).await).unwrap();
    verify_answer(&server, &a);
    assert_eq!(a["respCode"], "11");
    assert!(a["respMsg"].ends_with("[9100004]"));

    // An unknown certId.
    let other = Signer::rsa(server.unionpay().merchant_key().clone(), "12345678901");
    let a = qstring::parse(&post(&url, &sign::sign(q.clone(), &other).unwrap()).await).unwrap();
    assert_eq!(a["respCode"], "11");

    // The wrong secure key (signMethod 11); the right one passes and the answer is signed 11.
    let wrong = Signer::secure_key(SignMethod::SecureKeySha256, "88888888".to_owned().into());
    let a = qstring::parse(&post(&url, &sign::sign(q.clone(), &wrong).unwrap()).await).unwrap();
    assert_eq!(a["respCode"], "11");
    let right = Signer::secure_key(
        SignMethod::SecureKeySha256,
        server.unionpay().secure_key().clone(),
    );
    let a = qstring::parse(&post(&url, &sign::sign(q.clone(), &right).unwrap()).await).unwrap();
    assert_eq!(a["respCode"], "34");
    assert_eq!(a["signMethod"], "11");
    sign::verify_secure_key(
        &a,
        SignMethod::SecureKeySha256,
        server.unionpay().secure_key(),
    )
    .unwrap();

    // A missing field.
    let mut missing = q.clone();
    missing.remove("txnTime");
    let a = qstring::parse(&post(&url, &sign::sign(missing, &rsa_signer(&server)).unwrap()).await)
        .unwrap();
    assert_eq!(a["respCode"], "13");
}

fn notification_fields(d: &payagg_mock::Delivery) -> Fields {
    qstring::form_decode(&d.body)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect()
}

#[tokio::test]
async fn b2b_life_cycle_down_to_the_zm_file() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let notify = "http://127.0.0.1:9/up/notify";
    let t = txn_time(&server);
    let order = "B2B20240105120000001";
    let consume = base(
        &server,
        &[
            ("txnType", "01"),
            ("txnSubType", "01"),
            ("bizType", "000202"),
            ("channelType", "07"),
            ("currencyCode", "156"),
            ("orderId", order),
            ("txnTime", &t),
            ("txnAmt", "123456"),
            ("frontUrl", "http://127.0.0.1:9/up/front"),
            ("backUrl", notify),
            ("reqReserved", "inv-2024-0001"),
        ],
    );
    let signed = sign::sign(consume, &rsa_signer(&server)).unwrap();
    let page = post(
        &format!("{}/gateway/api/frontTransReq.do", server.base_url()),
        &signed,
    )
    .await;
    assert!(page.contains("B2B") && page.contains(order), "{page}");
    // The browser submits the form again: duplicate.
    let again = post(
        &format!("{}/gateway/api/frontTransReq.do", server.base_url()),
        &signed,
    )
    .await;
    assert!(again.contains(">12<"), "{again}");

    let query = |order: &str, t: &str| {
        base(
            &server,
            &[
                ("txnType", "00"),
                ("txnSubType", "00"),
                ("bizType", "000000"),
                ("orderId", order),
                ("txnTime", t),
            ],
        )
    };
    let q = call(&server, "/gateway/api/queryTrans.do", query(order, &t)).await;
    assert_eq!(
        (q["respCode"].as_str(), q["origRespCode"].as_str()),
        ("00", "05")
    );
    assert!(!q.contains_key("queryId"));

    // The corporate payer submits at the bank; the approver confirms.
    server.unionpay_bank_submit(order).unwrap();
    let q = call(&server, "/gateway/api/queryTrans.do", query(order, &t)).await;
    assert_eq!(q["origRespCode"], "05");
    let paid = server.unionpay_confirm_b2b(order).unwrap();
    assert_eq!(paid.status, OrderStatus::Success);
    assert!(server.unionpay_confirm_b2b(order).is_err());

    let n = server.notifier();
    assert!(
        n.wait_until(std::time::Duration::from_secs(5), |d| !d.is_empty())
            .await
    );
    let d = server.notifications().into_iter().next().unwrap();
    assert_eq!(d.url, notify);
    assert_eq!(
        d.header("Content-Type"),
        Some("application/x-www-form-urlencoded;charset=UTF-8")
    );
    let nf = notification_fields(&d);
    verify_answer(&server, &nf);
    assert_eq!(nf["respCode"], "00");
    assert_eq!(nf["reqReserved"], "inv-2024-0001");
    let query_id = nf["queryId"].clone();
    assert_eq!(query_id.len(), 21);

    let q = call(&server, "/gateway/api/queryTrans.do", query(order, &t)).await;
    assert_eq!(q["origRespCode"], "00");
    assert_eq!(q["queryId"], query_id);
    assert_eq!(q["settleAmt"], "123456");

    let back = |kind: &str, no: &str, amt: &str| {
        base(
            &server,
            &[
                ("txnType", kind),
                ("txnSubType", "00"),
                ("bizType", "000202"),
                ("channelType", "07"),
                ("orderId", no),
                ("txnTime", &t),
                ("txnAmt", amt),
                ("origQryId", &query_id),
                ("backUrl", notify),
            ],
        )
    };
    let r = call(
        &server,
        "/gateway/api/backTransReq.do",
        back("04", "RF20240105150000001", "2000"),
    )
    .await;
    assert_eq!(r["respCode"], "00");
    assert_eq!(r["origQryId"], query_id);
    // Above the remainder.
    let r = call(
        &server,
        "/gateway/api/backTransReq.do",
        back("04", "RF20240105150000002", "121457"),
    )
    .await;
    assert_eq!(r["respCode"], "36");
    // Cancel after a partial refund.
    let r = call(
        &server,
        "/gateway/api/backTransReq.do",
        back("31", "CX20240105150000001", "123456"),
    )
    .await;
    assert_eq!(r["respCode"], "35");
    // Unknown original.
    let mut unknown = back("04", "RF20240105150000003", "1");
    unknown.insert("origQryId".into(), "650000000000000000000".into());
    let r = call(&server, "/gateway/api/backTransReq.do", unknown).await;
    assert_eq!(r["respCode"], "35");
    // The rest, then nothing is left.
    let r = call(
        &server,
        "/gateway/api/backTransReq.do",
        back("04", "RF20240105150000004", "121456"),
    )
    .await;
    assert_eq!(r["respCode"], "00");
    let r = call(
        &server,
        "/gateway/api/backTransReq.do",
        back("04", "RF20240105150000005", "1"),
    )
    .await;
    assert_eq!(r["respCode"], "45");
    let q = call(
        &server,
        "/gateway/api/queryTrans.do",
        query("RF20240105150000001", &t),
    )
    .await;
    assert_eq!(
        (q["origRespCode"].as_str(), q["txnType"].as_str()),
        ("00", "04")
    );

    assert!(
        n.wait_until(std::time::Duration::from_secs(5), |d| {
            d.iter().filter(|x| x.event_type == "refund").count() >= 2
        })
        .await
    );

    // The ZM file of that settle day, published 09:00 the next day.
    let settle = (server.now().to_offset(CHINA_OFFSET) + time::Duration::hours(1)).date();
    let mmdd = format!("{:02}{:02}", u8::from(settle.month()), settle.day());
    let file = |s: &MockServer| {
        base(
            s,
            &[
                ("txnType", "76"),
                ("txnSubType", "01"),
                ("bizType", "000000"),
                ("txnTime", &txn_time(s)),
                ("settleDate", &mmdd),
                ("fileType", "00"),
            ],
        )
    };
    let f = call(&server, "/", file(&server)).await;
    assert_eq!(f["respCode"], "98");
    server.advance(time::Duration::hours(35));
    server.inject_unionpay_bill_discrepancy(settle, BillDiscrepancy::ExtraRow);
    let f = call(&server, "/", file(&server)).await;
    assert_eq!(f["respCode"], "00");
    assert!(f["fileName"].starts_with(server.unionpay().mer_id()));
    let zlib = base64::engine::general_purpose::STANDARD
        .decode(&f["fileContent"])
        .unwrap();
    let mut zip = Vec::new();
    flate2::read::ZlibDecoder::new(&zlib[..])
        .read_to_end(&mut zip)
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut entry = archive.by_index(0).unwrap();
    assert!(payagg_unionpay::wire::zm::is_zm_entry(
        &entry.name().unwrap()
    ));
    let mut body = Vec::new();
    entry.read_to_end(&mut body).unwrap();
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 4, "consume, two refunds, one injected row");
    for l in &lines {
        assert_eq!(l.len(), 608, "607 bytes and CR");
    }
    assert!(lines[0].starts_with(b"S22"));
    assert!(
        lines
            .iter()
            .any(|l| l.windows(13).any(|w| w == b"EXTRA00000001"))
    );
}

mod common;

fn app_consume(server: &MockServer, order: &str, t: &str, back_url: &str) -> Fields {
    base(
        server,
        &[
            ("txnType", "01"),
            ("txnSubType", "01"),
            ("bizType", "000201"),
            ("channelType", "08"),
            ("currencyCode", "156"),
            ("orderId", order),
            ("txnTime", t),
            ("txnAmt", "1000"),
            ("backUrl", back_url),
        ],
    )
}

/// `YYYYMMDDhhmmss` Beijing time of the simulator clock moved by `by`.
fn txn_time_off(server: &MockServer, by: time::Duration) -> String {
    let c = (server.now() + by).to_offset(CHINA_OFFSET);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year(),
        u8::from(c.month()),
        c.day(),
        c.hour(),
        c.minute(),
        c.second()
    )
}

#[tokio::test]
async fn stale_or_future_txn_time_is_refused_except_in_queries() {
    let server = MockServer::start(MockConfig::generate().unwrap())
        .await
        .unwrap();
    let app = "/gateway/api/appTransReq.do";
    let back = "http://127.0.0.1:9/up/notify";
    let refused = |a: &Fields| {
        assert_eq!(a["respCode"], "10", "{a:?}");
        assert_eq!(a["respMsg"], "txnTime无效[txnTime][9100002]");
        assert!(!a.contains_key("tn"));
    };
    // 16 minutes old, 16 minutes ahead, and UTC taken for Beijing time (8 hours behind).
    for (no, off) in [
        ("STALE0001", time::Duration::minutes(-16)),
        ("AHEAD0001", time::Duration::minutes(16)),
        ("UTCZONE01", time::Duration::hours(-8)),
    ] {
        let t = txn_time_off(&server, off);
        refused(&call(&server, app, app_consume(&server, no, &t, back)).await);
    }
    assert!(
        server.orders().is_empty(),
        "refused consumes leave no order"
    );
    // Within the window: accepted.
    let t = txn_time_off(&server, time::Duration::minutes(-14));
    let a = call(&server, app, app_consume(&server, "FRESH0001", &t, back)).await;
    assert_eq!(a["respCode"], "00", "{a:?}");
    assert_eq!(a["tn"].len(), 21);
    server
        .pay(payagg_core::Channel::Unionpay, "FRESH0001", None)
        .unwrap();

    // An hour later: the query names the original txnTime and is answered.
    server.advance(time::Duration::hours(1));
    let q = base(
        &server,
        &[
            ("txnType", "00"),
            ("txnSubType", "00"),
            ("bizType", "000000"),
            ("orderId", "FRESH0001"),
            ("txnTime", &t),
        ],
    );
    let q = call(&server, "/gateway/api/queryTrans.do", q).await;
    assert_eq!(
        (q["respCode"].as_str(), q["origRespCode"].as_str()),
        ("00", "00")
    );
    let query_id = q["queryId"].clone();

    // A refund reusing the consume's (now stale) txnTime: refused; with its own: accepted.
    let refund = |t: &str| {
        base(
            &server,
            &[
                ("txnType", "04"),
                ("txnSubType", "00"),
                ("bizType", "000201"),
                ("channelType", "08"),
                ("orderId", "REFUND0001"),
                ("txnTime", t),
                ("txnAmt", "100"),
                ("origQryId", &query_id),
                ("backUrl", back),
            ],
        )
    };
    refused(&call(&server, "/gateway/api/backTransReq.do", refund(&t)).await);
    let now = txn_time(&server);
    let r = call(&server, "/gateway/api/backTransReq.do", refund(&now)).await;
    assert_eq!(r["respCode"], "00", "{r:?}");

    // File transfer with a stale txnTime.
    let file = base(
        &server,
        &[
            ("txnType", "76"),
            ("txnSubType", "01"),
            ("bizType", "000000"),
            ("txnTime", &t),
            ("settleDate", "0101"),
            ("fileType", "00"),
        ],
    );
    refused(&call(&server, "/", file).await);
}

const UP_SCHEDULE: [u64; 4] = [60, 120, 240, 300];

#[tokio::test]
async fn notification_retries_on_the_schedule_until_200_or_302() {
    let scale = 500;
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(scale))
        .await
        .unwrap();
    let app = "/gateway/api/appTransReq.do";

    // 500, then 404 (not an acknowledgement either), then 302: three sends, then silence.
    let (url, hits) = common::scripted(vec![(500, "error"), (404, ""), (302, "")]).await;
    let t = txn_time(&server);
    let a = call(&server, app, app_consume(&server, "RETRY0001", &t, &url)).await;
    assert_eq!(a["respCode"], "00");
    server
        .pay(payagg_core::Channel::Unionpay, "RETRY0001", None)
        .unwrap();
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(10), |d| d
                .iter()
                .any(|d| d.acknowledged))
            .await
    );
    // The next retry would have come 240 s / 500 = 480 ms later.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(hits.len(), 3, "no send after the 302");
    common::assert_schedule(&hits.gaps(), &UP_SCHEDULE[..2], scale);
    let d = server.notifications();
    let seen: Vec<_> = d
        .iter()
        .map(|x| (x.attempt, x.status, x.acknowledged))
        .collect();
    assert_eq!(
        seen,
        [
            (1, Some(500), false),
            (2, Some(404), false),
            (3, Some(302), true)
        ]
    );
    // Every send is the same signed message.
    assert!(hits.bodies().windows(2).all(|w| w[0] == w[1]));
    verify_answer(&server, &notification_fields(&d[2]));

    // A receiver that never acknowledges gets five sends (1, 2, 4, 5 minutes apart), no more.
    let (url, hits) = common::scripted(vec![(500, "")]).await;
    let a = call(&server, app, app_consume(&server, "RETRY0002", &t, &url)).await;
    assert_eq!(a["respCode"], "00");
    server
        .pay(payagg_core::Channel::Unionpay, "RETRY0002", None)
        .unwrap();
    let total: u64 = UP_SCHEDULE.iter().sum::<u64>() * 1000 / u64::from(scale);
    tokio::time::sleep(std::time::Duration::from_millis(total + 1500)).await;
    assert_eq!(hits.len(), 5, "first send and four retries");
    common::assert_schedule(&hits.gaps(), &UP_SCHEDULE, scale);

    // A 200 acknowledges whatever the body says.
    let (url, hits) = common::scripted(vec![(200, "fail")]).await;
    let a = call(&server, app, app_consume(&server, "RETRY0003", &t, &url)).await;
    assert_eq!(a["respCode"], "00");
    server
        .pay(payagg_core::Channel::Unionpay, "RETRY0003", None)
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(hits.len(), 1);
}

#[tokio::test]
async fn duplicate_and_out_of_order_notifications() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let (url, hits) = common::scripted(vec![(200, "ok")]).await;
    let t = txn_time(&server);
    for no in ["ORDER0001", "ORDER0002"] {
        let a = call(
            &server,
            "/gateway/api/appTransReq.do",
            app_consume(&server, no, &t, &url),
        )
        .await;
        assert_eq!(a["respCode"], "00");
    }
    server.notifier().hold();
    server.notifier().set_duplicates(1);
    server
        .pay(payagg_core::Channel::Unionpay, "ORDER0001", None)
        .unwrap();
    server
        .pay(payagg_core::Channel::Unionpay, "ORDER0002", None)
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(hits.len(), 0, "held");
    assert_eq!(server.notifier().release(true), 2);
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(5), |d| d.len() == 4)
            .await
    );
    let orders: Vec<String> = server
        .notifications()
        .iter()
        .map(|d| notification_fields(d)["orderId"].clone())
        .collect();
    assert_eq!(orders[0], "ORDER0002", "newest first: {orders:?}");
    for no in ["ORDER0001", "ORDER0002"] {
        assert_eq!(orders.iter().filter(|o| *o == no).count(), 2, "each twice");
    }
    assert_eq!(hits.len(), 4);
    let d = server.notifications();
    assert_eq!(d.iter().filter(|x| x.copy == 1).count(), 2);
    // The duplicate is the same signed message.
    let first: Vec<_> = d
        .iter()
        .filter(|x| notification_fields(x)["orderId"] == "ORDER0001")
        .collect();
    assert_eq!(first[0].body, first[1].body);
}

/// The ZM records (without CR LF) of `settle` as fileTransfer serves them.
async fn zm_records(server: &MockServer, settle: time::Date) -> Vec<Vec<u8>> {
    let mmdd = format!("{:02}{:02}", u8::from(settle.month()), settle.day());
    let t = txn_time(server);
    let f = base(
        server,
        &[
            ("txnType", "76"),
            ("txnSubType", "01"),
            ("bizType", "000000"),
            ("txnTime", &t),
            ("settleDate", &mmdd),
            ("fileType", "00"),
        ],
    );
    let f = call(server, "/", f).await;
    assert_eq!(f["respCode"], "00", "{f:?}");
    let zlib = base64::engine::general_purpose::STANDARD
        .decode(&f["fileContent"])
        .unwrap();
    let mut zip = Vec::new();
    flate2::read::ZlibDecoder::new(&zlib[..])
        .read_to_end(&mut zip)
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut body = Vec::new();
    archive.by_index(0).unwrap().read_to_end(&mut body).unwrap();
    body.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .collect()
}

/// Field `i` of a ZM record, trailing spaces trimmed.
fn zm_field(record: &[u8], i: usize) -> String {
    let widths = payagg_unionpay::wire::zm::FIELD_LENGTHS;
    let start: usize = widths[..i].iter().map(|w| w + 1).sum();
    String::from_utf8_lossy(&record[start..start + widths[i]])
        .trim_end()
        .to_owned()
}

#[tokio::test]
async fn the_chosen_card_is_the_acc_no_and_the_zm_card_type() {
    use payagg_core::Channel;
    use payagg_mock::{PayAs, Wallet};
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let (url, _hits) = common::scripted(vec![(200, "ok")]).await;
    let app = "/gateway/api/appTransReq.do";
    let t = txn_time(&server);
    for no in ["CARD0001", "CARD0002"] {
        let a = call(&server, app, app_consume(&server, no, &t, &url)).await;
        assert_eq!(a["respCode"], "00");
    }
    // 花呗 is no UnionPay card.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/__mock/orders/unionpay/CARD0001/pay",
            server.base_url()
        ))
        .body(r#"{"wallet":"PCREDIT"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    server
        .pay_as(
            Channel::Unionpay,
            "CARD0001",
            &PayAs::wallet(Wallet::credit("CMB")),
        )
        .unwrap();
    server.pay(Channel::Unionpay, "CARD0002", None).unwrap();

    let want = [
        ("CARD0001", "5200********1113", "02"),
        ("CARD0002", "6216***********0018", "01"),
    ];
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(5), |d| d.len() == 2)
            .await
    );
    for d in server.notifications() {
        let nf = notification_fields(&d);
        verify_answer(&server, &nf);
        let (_, masked, _) = want.iter().find(|w| w.0 == nf["orderId"]).unwrap();
        assert_eq!(nf["accNo"], *masked);
    }
    for (no, masked, _) in want {
        let q = base(
            &server,
            &[
                ("txnType", "00"),
                ("txnSubType", "00"),
                ("bizType", "000000"),
                ("orderId", no),
                ("txnTime", &t),
            ],
        );
        let q = call(&server, "/gateway/api/queryTrans.do", q).await;
        assert_eq!(q["origRespCode"], "00");
        assert_eq!(q["accNo"], masked);
        assert_eq!(q["issuerIdentifyMode"], "0");
    }

    // The ZM file: 主账号 (field 6) and 支付卡类型 (field 13); a refund goes to the same card.
    let query_id = {
        let d = server.notifications();
        let d = d
            .iter()
            .find(|d| notification_fields(d)["orderId"] == "CARD0001")
            .unwrap();
        notification_fields(d)["queryId"].clone()
    };
    let refund = base(
        &server,
        &[
            ("txnType", "04"),
            ("txnSubType", "00"),
            ("bizType", "000201"),
            ("channelType", "08"),
            ("orderId", "CARDRF0001"),
            ("txnTime", &t),
            ("txnAmt", "100"),
            ("origQryId", &query_id),
            ("backUrl", &url),
        ],
    );
    let r = call(&server, "/gateway/api/backTransReq.do", refund).await;
    assert_eq!(r["respCode"], "00");
    let settle = (server.now().to_offset(CHINA_OFFSET) + time::Duration::hours(1)).date();
    server.advance(time::Duration::hours(35));
    let records = zm_records(&server, settle).await;
    assert_eq!(records.len(), 3);
    for (no, masked, card_type) in [
        ("CARD0001", "5200********1113", "02"),
        ("CARD0002", "6216***********0018", "01"),
        ("CARDRF0001", "5200********1113", "02"),
    ] {
        let r = records
            .iter()
            .find(|r| zm_field(r, 11) == no)
            .unwrap_or_else(|| panic!("{no} in the ZM file"));
        assert_eq!(
            (zm_field(r, 5), zm_field(r, 12)),
            (masked.into(), card_type.into())
        );
    }
}

/// What the UnionPay app control does with a `tn`: pay (as a chosen card) or fail the order
/// `appTransReq.do` answered it for, through the control API or the library; the backUrl
/// notification and the query report the card.
#[tokio::test]
async fn an_app_order_is_paid_by_its_tn() {
    use payagg_mock::{PayAs, Wallet};
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let (url, _hits) = common::scripted(vec![(200, "ok")]).await;
    let app = "/gateway/api/appTransReq.do";
    let t = txn_time(&server);
    let mut tns = Vec::new();
    for no in ["TN000001", "TN000002", "TN000003"] {
        let a = call(&server, app, app_consume(&server, no, &t, &url)).await;
        assert_eq!(a["respCode"], "00");
        tns.push(a["tn"].clone());
    }
    let http = reqwest::Client::new();
    let control = |tn: &str, action: &str, body: &str| {
        http.post(format!(
            "{}/__mock/unionpay/app/{tn}/{action}",
            server.base_url()
        ))
        .body(body.to_owned())
        .send()
    };
    // Control API: an unknown tn is 404, 花呗 is no UnionPay card (400, the order stays open).
    let r = control("000000000000000000000", "pay", "").await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = control(&tns[0], "pay", r#"{"wallet":"PCREDIT"}"#)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        server
            .order(payagg_core::Channel::Unionpay, "TN000001")
            .unwrap()
            .status,
        OrderStatus::NotPaid
    );
    let r = control(&tns[0], "pay", r#"{"wallet":"CMB_CREDIT"}"#)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let o: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(
        (
            o["out_trade_no"].as_str(),
            o["status"].as_str(),
            o["wallet"].as_str()
        ),
        (Some("TN000001"), Some("success"), Some("CMB_CREDIT"))
    );
    // Paid already: 409.
    let r = control(&tns[0], "pay", "").await.unwrap();
    assert_eq!(r.status().as_u16(), 409);
    // Library: the second with the default (debit) card, the third fails.
    let o = server.unionpay_pay_tn(&tns[1], &PayAs::default()).unwrap();
    assert_eq!(
        (o.out_trade_no.as_str(), o.status),
        ("TN000002", OrderStatus::Success)
    );
    let o = server.unionpay_fail_tn(&tns[2]).unwrap();
    assert_eq!(
        (o.out_trade_no.as_str(), o.status),
        ("TN000003", OrderStatus::PayError)
    );
    assert_eq!(
        server
            .unionpay_pay_tn(&tns[2], &PayAs::wallet(Wallet::debit("CMB")))
            .unwrap_err()
            .kind(),
        payagg_mock::MockErrorKind::InvalidTransition
    );
    assert!(
        server
            .notifier()
            .wait_until(std::time::Duration::from_secs(5), |d| d.len() == 2)
            .await
    );
    for (no, masked) in [
        ("TN000001", "5200********1113"),
        ("TN000002", "6216***********0018"),
    ] {
        let d = server
            .notifications()
            .into_iter()
            .find(|d| notification_fields(d)["orderId"] == no)
            .unwrap();
        let nf = notification_fields(&d);
        verify_answer(&server, &nf);
        assert_eq!(
            (nf["respCode"].as_str(), nf["accNo"].as_str()),
            ("00", masked)
        );
        let q = base(
            &server,
            &[
                ("txnType", "00"),
                ("txnSubType", "00"),
                ("bizType", "000000"),
                ("orderId", no),
                ("txnTime", &t),
            ],
        );
        let q = call(&server, "/gateway/api/queryTrans.do", q).await;
        assert_eq!(
            (q["origRespCode"].as_str(), q["accNo"].as_str()),
            ("00", masked)
        );
    }
    assert_eq!(
        server.notifications().len(),
        2,
        "a failed payment sends nothing"
    );
}
