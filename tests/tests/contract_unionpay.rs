//! Contract: the real `UnionPayClient` against the simulator, signing with the PFX it issued
//! and trusting its middle and root certificates. B2B: front form → the payer's bank submit →
//! approver's confirm → backUrl notification verified → query → partial refund → refund
//! notification → fileTransfer ZM parsed; every fault kind.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use payagg::mock::{FaultKind, FaultRule, FaultScope, MockServer, OrderStatus};
use payagg::pay::HtmlForm;
use payagg::unionpay::UnionPayClient;
use payagg::{
    CallbackEvent, Channel, Error, ExactAmount, ExpectedOrder, Gateway, GatewayErrorKind,
    MerchantOrderNo, MerchantRefundNo, Money, PayAction, PayRequest, QueryRequest, RecordKind,
    RefundQuery, RefundRequest, RefundStatus, Scene, StatementKind, StatementRequest, TradeStatus,
};

fn order(no: &str) -> MerchantOrderNo {
    MerchantOrderNo::new(no).unwrap()
}

fn refund(no: &str, refund_no: &str, fen: u64, total: u64) -> RefundRequest {
    RefundRequest::new(
        order(no),
        MerchantRefundNo::new(refund_no).unwrap(),
        Money::cny(fen),
        Money::cny(total),
    )
    .unwrap()
}

/// The client's B2B form, posted by the payer's browser to the simulator's cashier.
async fn b2b_at_the_cashier(client: &UnionPayClient, no: &str, fen: u64) -> String {
    let req = PayRequest::new(
        order(no),
        Money::cny(fen),
        "Invoice",
        Scene::UnionpayB2b { bank: None },
    )
    .unwrap()
    .attach("inv-contract-1");
    let resp = client.pay(&req).await.unwrap();
    let txn_time = resp.channel_ref.clone().unwrap();
    let PayAction::SubmitForm(HtmlForm { action, fields, .. }) = resp.action else {
        panic!("B2B is a form")
    };
    let body = payagg::unionpay::qstring::form_encode(fields.iter().map(|(k, v)| (k, v)));
    let page = reqwest::Client::new()
        .post(&action)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("B2B") && page.contains(no), "{page}");
    txn_time
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b2b_form_confirm_notify_query_refund_zm() {
    let server = common::start().await;
    let client = common::unionpay(&server);
    let no = "CUB2B20240105000001";
    let txn_time = b2b_at_the_cashier(&client, no, 123_456).await;
    assert_eq!(txn_time.len(), 14);

    // Arrived, not paid: query says not paid (origRespCode 05), never failed.
    let t = client.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(t.status, TradeStatus::NotPaid);
    server.unionpay_bank_submit(no).unwrap();
    assert_eq!(
        client.query_order(no, &txn_time).await.unwrap().status,
        TradeStatus::NotPaid
    );
    assert_eq!(
        server.unionpay_confirm_b2b(no).unwrap().status,
        OrderStatus::Success
    );

    // The backUrl notification, signed with signPubKeyCert chained to the simulator's root.
    let d = common::delivery(&server, |d| {
        d.channel == Channel::Unionpay && d.event_type == "consume"
    })
    .await;
    assert_eq!(d.url, common::NOTIFY);
    let v = client.verify_callback(&common::callback(&d)).await.unwrap();
    assert_eq!((v.ack.status, v.ack.body.as_str()), (200, "ok"));
    let CallbackEvent::Payment(trade) = v.event else {
        panic!("not a payment: {:?}", v.event)
    };
    assert_eq!(trade.status, TradeStatus::Success);
    assert_eq!(trade.attach.as_deref(), Some("inv-contract-1"));
    trade
        .check_matches(&ExpectedOrder::new(order(no), Money::cny(123_456)))
        .unwrap();
    // One changed field: the signature no longer verifies.
    let mut forged = common::callback(&d);
    forged.body = String::from_utf8(forged.body.to_vec())
        .unwrap()
        .replace("txnAmt=123456", "txnAmt=1")
        .into();
    assert!(matches!(
        client.verify_callback(&forged).await.unwrap_err(),
        Error::Verification(_)
    ));

    let t = client.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(
        (t.status, t.amount),
        (TradeStatus::Success, Money::cny(123_456))
    );
    assert_eq!(t.channel_trade_no, trade.channel_trade_no);

    // A partial refund: accepted (sync 00), its notification, then its query.
    let r = client
        .refund(&refund(no, "CURF20240105000001", 2000, 123_456))
        .await
        .unwrap();
    assert_eq!(
        (r.amount, r.status),
        (Money::cny(2000), RefundStatus::Processing)
    );
    let d = common::delivery(&server, |d| {
        d.channel == Channel::Unionpay && d.event_type == "refund"
    })
    .await;
    let v = client.verify_callback(&common::callback(&d)).await.unwrap();
    let CallbackEvent::Refund(rf) = v.event else {
        panic!("not a refund: {:?}", v.event)
    };
    assert_eq!(
        (rf.merchant_refund_no.as_str(), rf.amount, rf.status),
        (
            "CURF20240105000001",
            Money::cny(2000),
            RefundStatus::Success
        )
    );
    let q = client
        .query_refund(&RefundQuery::new(
            MerchantRefundNo::new("CURF20240105000001").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(
        (q.status, q.amount),
        (RefundStatus::Success, Money::cny(2000))
    );
    // Above the remainder: a definite refusal.
    let e = client
        .refund(&refund(no, "CURF20240105000002", 121_457, 123_456))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Gateway(_)) && !e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );

    // The ZM file of the settle day (cut-off 23:00 Beijing), published 09:00 the next day.
    let settle =
        (server.now().to_offset(payagg::clock::CHINA_OFFSET) + time::Duration::hours(1)).date();
    let e = client
        .download_statement(&StatementRequest::new(settle, StatementKind::AllTrades))
        .await
        .unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::NotFound));
    server.advance(time::Duration::hours(35));
    let st = client
        .download_statement(&StatementRequest::new(settle, StatementKind::AllTrades))
        .await
        .unwrap();
    let records: Vec<_> = st.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    let p = records
        .iter()
        .find(|r| r.kind == RecordKind::Payment)
        .unwrap();
    assert_eq!(p.merchant_order_no.as_deref(), Some(no));
    assert_eq!(p.gross.to_string(), "1234.56");
    let rf = records
        .iter()
        .find(|r| r.kind == RecordKind::Refund)
        .unwrap();
    assert_eq!(rf.gross.to_string(), "-20.00");
    let gross = records
        .iter()
        .try_fold(ExactAmount::ZERO, |a, r| a.checked_add(r.gross))
        .unwrap();
    assert_eq!(gross.to_string(), "1214.56");
}

async fn with_fault<T>(
    server: &Arc<MockServer>,
    fault: FaultKind,
    scope: FaultScope,
    endpoint: &str,
    f: impl std::future::Future<Output = T>,
) -> (T, u64) {
    server.faults().add(
        FaultRule::new(fault, scope)
            .channel(Channel::Unionpay)
            .endpoint(endpoint),
    );
    let out = f.await;
    let fired = server.faults().fired()[0];
    server.faults().clear();
    (out, fired)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_how_the_client_reports_them() {
    let server = common::start().await;
    let client = common::unionpay(&server);
    let no = "CUFAULT2024010500001";
    b2b_at_the_cashier(&client, no, 10_000).await;
    server.unionpay_confirm_b2b(no).unwrap();
    let q = QueryRequest::new(order(no));

    // HTTP 503: no answer, outcome unknown; a refund is sent once.
    let (r, fired) = with_fault(
        &server,
        FaultKind::HttpStatus { status: 503 },
        FaultScope::Always,
        "unionpay.back",
        client.refund(&refund(no, "CUFREF2024010500001", 100, 10_000)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.outcome_unknown() && e.is_retryable(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1, "a refund is never retried");
    // A query is retried through two 503s.
    let (r, fired) = with_fault(
        &server,
        FaultKind::HttpStatus { status: 503 },
        FaultScope::Next(2),
        "unionpay.query",
        client.query(&q),
    )
    .await;
    assert_eq!(r.unwrap().status, TradeStatus::Success);
    assert_eq!(fired, 2);

    // respCode 03 (the gateway's "timed out, query first"): unknown, sent once.
    let (r, fired) = with_fault(
        &server,
        FaultKind::SystemError,
        FaultScope::Always,
        "unionpay.back",
        client.refund(&refund(no, "CUFREF2024010500002", 100, 10_000)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.gateway_kind() == Some(GatewayErrorKind::SystemError)
            && e.outcome_unknown()
            && e.is_retryable(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);

    // Dropped connection: sent, so unknown; a query retries past one.
    let (r, fired) = with_fault(
        &server,
        FaultKind::DropConnection,
        FaultScope::Always,
        "unionpay.back",
        client.refund(&refund(no, "CUFREF2024010500003", 100, 10_000)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.outcome_unknown() && e.is_retryable(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);
    let (r, fired) = with_fault(
        &server,
        FaultKind::DropConnection,
        FaultScope::Next(1),
        "unionpay.query",
        client.query(&q),
    )
    .await;
    assert_eq!(r.unwrap().status, TradeStatus::Success);
    assert_eq!(fired, 1);

    // Hanging gateway: a timeout, unknown, sent once.
    let started = Instant::now();
    let (r, fired) = with_fault(
        &server,
        FaultKind::Timeout,
        FaultScope::Always,
        "unionpay.back",
        client.refund(&refund(no, "CUFREF2024010500004", 100, 10_000)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::Timeout(_)) && e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);
    assert!(started.elapsed() < Duration::from_secs(3));

    // Latency below the timeout: slow, fine.
    let started = Instant::now();
    let (r, _) = with_fault(
        &server,
        FaultKind::Latency { millis: 300 },
        FaultScope::Always,
        "unionpay.query",
        client.query(&q),
    )
    .await;
    assert_eq!(r.unwrap().status, TradeStatus::Success);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Whatever the faults did, the simulator booked at most what the client saw succeed.
    assert!(
        server
            .order(Channel::Unionpay, no)
            .unwrap()
            .refunds
            .iter()
            .map(|r| r.amount.minor_units())
            .sum::<u64>()
            <= 400
    );
}
