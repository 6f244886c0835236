//! Contract: the real `AlipayClient` against the simulator, configured only with its gateway
//! URL and the keys and certificates it hands out. Precreate → scan → pay → notify → query →
//! partial refund → refund notification → bill; payment codes with 10003 (2811…2815);
//! uni.transfer; every fault kind.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use payagg::ids::{AppId, MerchantId, MerchantTransferNo};
use payagg::mock::{FaultKind, FaultRule, FaultScope, MockServer, OrderStatus};
use payagg::{
    CallbackEvent, Channel, Error, ExactAmount, ExpectedOrder, Gateway, GatewayErrorKind,
    MerchantOrderNo, MerchantRefundNo, Money, PayAction, PayRequest, Payee, QueryRequest,
    RecordKind, RefundQuery, RefundRequest, RefundStatus, Scene, Sensitive, StatementKind,
    StatementRequest, TradeStatus, TransferRequest, TransferStatus,
};

fn order(no: &str) -> MerchantOrderNo {
    MerchantOrderNo::new(no).unwrap()
}

fn qr(no: &str, fen: u64) -> PayRequest {
    PayRequest::new(order(no), Money::cny(fen), "咖啡", Scene::MerchantQr).unwrap()
}

fn code(no: &str, auth_code: &str) -> PayRequest {
    PayRequest::new(
        order(no),
        Money::cny(500),
        "Till",
        Scene::PaymentCode {
            auth_code: Sensitive::new(auth_code.to_owned()),
        },
    )
    .unwrap()
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

/// The payer opens the QR code URL (the cashier page) and pays as `buyer`.
async fn scan_and_pay(server: &MockServer, code_url: &str, no: &str) {
    let page = reqwest::get(code_url).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    server
        .pay(Channel::Alipay, no, Some("2088000000000077"))
        .unwrap();
}

async fn life_cycle(cert: bool) {
    let server = common::start().await;
    let client = common::alipay(&server, cert);
    let a = server.alipay();
    let no = if cert { "CALIFEC001" } else { "CALIFEP001" };
    let refund_no = format!("{no}R1");

    let PayAction::ShowQrCode { code_url } = client.pay(&qr(no, 8888)).await.unwrap().action else {
        panic!("precreate did not answer a QR code")
    };
    scan_and_pay(&server, &code_url, no).await;

    let d = common::delivery(&server, |d| {
        d.channel == Channel::Alipay && d.event_type == "trade_status_sync:TRADE_SUCCESS"
    })
    .await;
    assert_eq!(d.url, common::NOTIFY);
    let v = client.verify_callback(&common::callback(&d)).await.unwrap();
    assert_eq!(v.ack.body, "success");
    let CallbackEvent::Payment(trade) = v.event else {
        panic!("not a payment: {:?}", v.event)
    };
    assert_eq!(trade.status, TradeStatus::Success);
    trade
        .check_matches(
            &ExpectedOrder::new(order(no), Money::cny(8888))
                .app_id(AppId::new(a.app_id()).unwrap())
                .merchant_id(MerchantId::new(a.seller_id()).unwrap()),
        )
        .unwrap();
    // A changed amount breaks the signature.
    let mut forged = common::callback(&d);
    forged.body = String::from_utf8(forged.body.to_vec())
        .unwrap()
        .replace("total_amount=88.88", "total_amount=0.01")
        .into();
    assert!(matches!(
        client.verify_callback(&forged).await.unwrap_err(),
        Error::Verification(_)
    ));

    let t = client.query(&QueryRequest::new(order(no))).await.unwrap();
    assert_eq!(
        (t.status, t.amount),
        (TradeStatus::Success, Money::cny(8888))
    );
    assert_eq!(t.channel_trade_no, trade.channel_trade_no);

    // Partial refund, its notification (cumulative refund_fee), its query.
    let r = client
        .refund(&refund(no, &refund_no, 1000, 8888))
        .await
        .unwrap();
    assert_eq!(
        (r.amount, r.status),
        (Money::cny(1000), RefundStatus::Success)
    );
    let d = common::delivery(&server, |d| {
        d.channel == Channel::Alipay && d.body_str().contains("out_biz_no=")
    })
    .await;
    let v = client.verify_callback(&common::callback(&d)).await.unwrap();
    let CallbackEvent::Refund(rf) = v.event else {
        panic!("not a refund: {:?}", v.event)
    };
    assert_eq!(
        (rf.merchant_refund_no.as_str(), rf.amount),
        (refund_no.as_str(), Money::cny(1000))
    );
    let q = client
        .query_refund(
            &RefundQuery::new(MerchantRefundNo::new(&refund_no).unwrap()).trade(order(no)),
        )
        .await
        .unwrap();
    assert_eq!(
        (q.status, q.amount),
        (RefundStatus::Success, Money::cny(1000))
    );
    let e = client
        .refund(&refund(no, &format!("{no}R2"), 8000, 8888))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Gateway(_)) && !e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );

    // The bill of that day (GBK CSVs in a ZIP), totals checked by the client, then parsed.
    let day = common::today(&server);
    server.advance(time::Duration::hours(33));
    let st = client
        .download_statement(&StatementRequest::new(day, StatementKind::AllTrades))
        .await
        .unwrap();
    let records: Vec<_> = st.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    let p = records
        .iter()
        .find(|r| r.kind == RecordKind::Payment)
        .unwrap();
    assert_eq!(
        (p.merchant_order_no.as_deref(), p.gross.to_string().as_str()),
        (Some(no), "88.88")
    );
    let rf = records
        .iter()
        .find(|r| r.kind == RecordKind::Refund)
        .unwrap();
    assert_eq!(rf.merchant_refund_no.as_deref(), Some(refund_no.as_str()));
    assert_eq!(rf.gross.to_string(), "-10.00");
    let gross = records
        .iter()
        .try_fold(ExactAmount::ZERO, |a, r| a.checked_add(r.gross))
        .unwrap();
    assert_eq!(gross.to_string(), "78.88");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_in_certificate_mode() {
    life_cycle(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_cycle_in_public_key_mode() {
    life_cycle(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_codes_with_the_clock_moved_by_the_sleeper() {
    let server = common::start().await;
    let client = common::alipay(&server, true);

    // 2811: 10003 (the payer enters the password), paid 10 s later on the simulator clock.
    let before = server.now();
    let PayAction::Completed(t) = client
        .pay(&code("CACODE0001", "281100000000000001"))
        .await
        .unwrap()
        .action
    else {
        panic!("2811 not completed")
    };
    assert_eq!(
        (t.status, t.amount),
        (TradeStatus::Success, Money::cny(500))
    );
    assert!(server.now() - before >= time::Duration::seconds(10));
    assert_eq!(
        server.order(Channel::Alipay, "CACODE0001").unwrap().status,
        OrderStatus::Success
    );

    // Anything else: paid at once.
    let PayAction::Completed(t) = client
        .pay(&code("CACODE0002", "280000000000000001"))
        .await
        .unwrap()
        .action
    else {
        panic!("immediate code not completed")
    };
    assert_eq!(t.status, TradeStatus::Success);

    // 2813: never confirmed; the poll gives up, the first cancel says retry, the second closes.
    let r = client
        .pay(&code("CACODE0003", "281300000000000001"))
        .await
        .unwrap();
    let PayAction::Pending(t) = r.action else {
        panic!("2813: {:?}", r.action)
    };
    assert_eq!(t.status, TradeStatus::Revoked);
    assert_eq!(
        client
            .query(&QueryRequest::new(order("CACODE0003")))
            .await
            .unwrap()
            .status,
        TradeStatus::Closed
    );

    // 2816: 20000 (unknown) although the payment went through: one query finds it paid.
    let PayAction::Completed(t) = client
        .pay(&code("CACODE0006", "281600000000000001"))
        .await
        .unwrap()
        .action
    else {
        panic!("2816 not completed")
    };
    assert_eq!(t.status, TradeStatus::Success);

    // 2812: held; the payer confirms through the control API during the poll wait.
    let holder = {
        let server = server.clone();
        tokio::spawn(async move {
            loop {
                if server
                    .order(Channel::Alipay, "CACODE0007")
                    .is_some_and(|o| o.status == OrderStatus::UserPaying)
                {
                    server.pay(Channel::Alipay, "CACODE0007", None).unwrap();
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let r = client
        .pay(&code("CACODE0007", "281200000000000001"))
        .await
        .unwrap();
    holder.await.unwrap();
    assert!(
        matches!(&r.action, PayAction::Completed(t) if t.status == TradeStatus::Success),
        "{:?}",
        r.action
    );

    // 2814: expired code, a definite failure.
    let e = client
        .pay(&code("CACODE0004", "281400000000000001"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Gateway(_)) && !e.outcome_unknown() && !e.is_retryable(),
        "{}",
        common::describe(&e)
    );

    // 2815: not enough balance, a definite failure.
    let e = client
        .pay(&code("CACODE0005", "281500000000000001"))
        .await
        .unwrap_err();
    assert!(
        e.gateway_kind() == Some(GatewayErrorKind::InsufficientFunds) && !e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uni_transfer_with_balance() {
    let server = common::start().await;
    let client = common::alipay(&server, true);
    server.set_alipay_balance(Some(1000));
    let req = |no: &str, fen: u64| {
        TransferRequest::new(
            MerchantTransferNo::new(no).unwrap(),
            Payee::AlipayUserId(Sensitive::new("2088000000000099".to_owned())),
            Money::cny(fen),
            "佣金",
        )
        .unwrap()
    };
    let t = client.transfer(&req("CATR0001", 600)).await.unwrap();
    assert_eq!(t.status, TransferStatus::Success);
    let q = client
        .query_transfer(&MerchantTransferNo::new("CATR0001").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (q.status, q.amount),
        (TransferStatus::Success, Money::cny(600))
    );
    assert_eq!(server.alipay_balance(), Some(400));
    let e = client.transfer(&req("CATR0002", 500)).await.unwrap_err();
    assert_eq!(
        e.gateway_kind(),
        Some(GatewayErrorKind::InsufficientFunds),
        "{}",
        common::describe(&e)
    );
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
            .channel(Channel::Alipay)
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
    let client = common::alipay(&server, true);
    let PayAction::ShowQrCode { code_url } =
        client.pay(&qr("CAFAULT001", 500)).await.unwrap().action
    else {
        panic!()
    };
    scan_and_pay(&server, &code_url, "CAFAULT001").await;

    // HTTP 502: unknown outcome, retryable; a precreate is sent once.
    let (r, fired) = with_fault(
        &server,
        FaultKind::HttpStatus { status: 502 },
        FaultScope::Always,
        "alipay.precreate",
        client.pay(&qr("CAFAULT002", 500)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.is_retryable() && e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);

    // The business SYSTEM_ERROR on a refund: retryable, unknown, sent once; the same
    // out_request_no later succeeds once.
    let (r, fired) = with_fault(
        &server,
        FaultKind::SystemError,
        FaultScope::Always,
        "alipay.refund",
        client.refund(&refund("CAFAULT001", "CAFREF001", 100, 500)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.gateway_kind() == Some(GatewayErrorKind::SystemError)
            && e.is_retryable()
            && e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);
    client
        .refund(&refund("CAFAULT001", "CAFREF001", 100, 500))
        .await
        .unwrap();
    assert_eq!(
        server
            .order(Channel::Alipay, "CAFAULT001")
            .unwrap()
            .refunds
            .len(),
        1
    );

    // Dropped connection: sent, so unknown.
    let (r, fired) = with_fault(
        &server,
        FaultKind::DropConnection,
        FaultScope::Always,
        "alipay.query",
        client.query(&QueryRequest::new(order("CAFAULT001"))),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.is_retryable() && e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
    assert!(fired >= 1);

    // Hanging gateway: a timeout on the refund, sent once.
    let started = Instant::now();
    let (r, fired) = with_fault(
        &server,
        FaultKind::Timeout,
        FaultScope::Always,
        "alipay.refund",
        client.refund(&refund("CAFAULT001", "CAFREF002", 100, 500)),
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

    // Latency: slow but fine below the timeout.
    let started = Instant::now();
    let (r, _) = with_fault(
        &server,
        FaultKind::Latency { millis: 300 },
        FaultScope::Always,
        "alipay.query",
        client.query(&QueryRequest::new(order("CAFAULT001"))),
    )
    .await;
    assert_eq!(r.unwrap().status, TradeStatus::Success);
    assert!(started.elapsed() >= Duration::from_millis(300));
}
