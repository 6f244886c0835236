//! Contract: the real `WechatPayClient` against the simulator, configured only with its base
//! URL and the keys it hands out. Pay → notify → query → partial refund → refund notification
//! → statement; a payment code with USERPAYING; transfer bills; every fault kind.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use payagg::ids::{AppId, MerchantId, MerchantTransferNo};
use payagg::mock::{FaultKind, FaultRule, FaultScope, OrderStatus};
use payagg::{
    CallbackEvent, Channel, Error, ExactAmount, ExpectedOrder, Gateway, GatewayErrorKind,
    MerchantOrderNo, MerchantRefundNo, Money, PayAction, PayRequest, Payee, QueryRequest,
    RecordKind, RefundQuery, RefundRequest, RefundStatus, Scene, Sensitive, StatementKind,
    StatementRequest, TradeStatus, TransferRequest, TransferStatus,
};

fn order(no: &str) -> MerchantOrderNo {
    MerchantOrderNo::new(no).unwrap()
}

fn native(no: &str, fen: u64) -> PayRequest {
    PayRequest::new(
        order(no),
        Money::cny(fen),
        "Contract tea",
        Scene::MerchantQr,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_notify_query_refund_notify_statement() {
    let server = common::start().await;
    let client = common::wechat(&server);
    let wx = server.wechat();

    let resp = client.pay(&native("CWLIFE0001", 1000)).await.unwrap();
    assert!(
        matches!(&resp.action, PayAction::ShowQrCode { code_url } if code_url.starts_with("weixin://")),
        "{:?}",
        resp.action
    );
    assert_eq!(
        client
            .query(&QueryRequest::new(order("CWLIFE0001")))
            .await
            .unwrap()
            .status,
        TradeStatus::NotPaid
    );

    // The payer pays; TRANSACTION.SUCCESS is signed, encrypted and verifies with the client.
    server
        .pay(Channel::Wechat, "CWLIFE0001", Some("oContractPayer"))
        .unwrap();
    let d = common::delivery(&server, |d| d.event_type == "TRANSACTION.SUCCESS").await;
    assert_eq!(d.url, common::NOTIFY);
    let v = client.verify_callback(&common::callback(&d)).await.unwrap();
    let CallbackEvent::Payment(trade) = v.event else {
        panic!("not a payment: {:?}", v.event)
    };
    assert_eq!(trade.status, TradeStatus::Success);
    let expected = ExpectedOrder::new(order("CWLIFE0001"), Money::cny(1000))
        .app_id(AppId::new(wx.appid()).unwrap())
        .merchant_id(MerchantId::new(wx.mchid()).unwrap());
    trade.check_matches(&expected).unwrap();
    // The merchant's books say another amount: the check names it.
    let e = trade
        .check_matches(&ExpectedOrder::new(order("CWLIFE0001"), Money::cny(999)))
        .unwrap_err();
    assert!(e.to_string().contains("amount"), "{e}");
    // A tampered body does not verify.
    let mut forged = common::callback(&d);
    let mut body = forged.body.to_vec();
    let i = body.iter().position(|b| *b == b'"').unwrap();
    body.insert(i, b' ');
    forged.body = body.into();
    assert!(matches!(
        client.verify_callback(&forged).await.unwrap_err(),
        Error::Verification(_)
    ));

    let t = client
        .query(&QueryRequest::new(order("CWLIFE0001")))
        .await
        .unwrap();
    assert_eq!(
        (t.status, t.amount),
        (TradeStatus::Success, Money::cny(1000))
    );
    assert_eq!(t.channel_trade_no, trade.channel_trade_no);

    // A partial refund, its notification, its query; more than the remainder is refused.
    let r = client
        .refund(&refund("CWLIFE0001", "CWREF0001", 300, 1000))
        .await
        .unwrap();
    assert_eq!(r.amount, Money::cny(300));
    let d = common::delivery(&server, |d| d.event_type == "REFUND.SUCCESS").await;
    let v = client.verify_callback(&common::callback(&d)).await.unwrap();
    let CallbackEvent::Refund(rf) = v.event else {
        panic!("not a refund: {:?}", v.event)
    };
    assert_eq!(
        (rf.merchant_refund_no.as_str(), rf.amount, rf.status),
        ("CWREF0001", Money::cny(300), RefundStatus::Success)
    );
    let q = client
        .query_refund(&RefundQuery::new(
            MerchantRefundNo::new("CWREF0001").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(q.status, RefundStatus::Success);
    let e = client
        .refund(&refund("CWLIFE0001", "CWREF0002", 800, 1000))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Gateway(_)) && !e.is_retryable(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(
        client
            .query(&QueryRequest::new(order("CWLIFE0001")))
            .await
            .unwrap()
            .status,
        TradeStatus::PartiallyRefunded
    );

    // The next morning: the day's trade bill, digest-checked and parsed.
    let day = common::today(&server);
    server.advance(time::Duration::hours(34));
    let st = client
        .download_statement(&StatementRequest::new(day, StatementKind::AllTrades))
        .await
        .unwrap();
    let records: Vec<_> = st.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    let pay = records
        .iter()
        .find(|r| r.kind == RecordKind::Payment)
        .unwrap();
    assert_eq!(pay.merchant_order_no.as_deref(), Some("CWLIFE0001"));
    assert_eq!(pay.gross.to_string(), "10.00");
    let rf = records
        .iter()
        .find(|r| r.kind == RecordKind::Refund)
        .unwrap();
    assert_eq!(rf.merchant_refund_no.as_deref(), Some("CWREF0001"));
    assert_eq!(rf.gross.to_string(), "-3.00");
    let gross = records
        .iter()
        .try_fold(ExactAmount::ZERO, |a, r| a.checked_add(r.gross))
        .unwrap();
    assert_eq!(gross.to_string(), "7.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_code_userpaying_until_the_clock_moves() {
    let server = common::start().await;
    let client = common::wechat(&server);
    let before = server.now();
    let req = PayRequest::new(
        order("CWCODE0001"),
        Money::cny(880),
        "Till",
        Scene::PaymentCode {
            auth_code: Sensitive::new("101100000000000001".to_owned()),
        },
    )
    .unwrap();
    let PayAction::Completed(t) = client.pay(&req).await.unwrap().action else {
        panic!("payment code not completed")
    };
    assert_eq!(
        (t.status, t.amount),
        (TradeStatus::Success, Money::cny(880))
    );
    // The client's poll waits moved the simulator clock (the password takes 10 s there).
    assert!(server.now() - before >= time::Duration::seconds(10));
    assert_eq!(
        server.order(Channel::Wechat, "CWCODE0001").unwrap().status,
        OrderStatus::Success
    );
    // 1016: SYSTEMERROR although the payment went through: the client's query finds it.
    let req = PayRequest::new(
        order("CWCODE0003"),
        Money::cny(880),
        "Till",
        Scene::PaymentCode {
            auth_code: Sensitive::new("101600000000000001".to_owned()),
        },
    )
    .unwrap();
    assert!(matches!(
        client.pay(&req).await.unwrap().action,
        PayAction::Completed(t) if t.status == TradeStatus::Success
    ));
    // Refused code: a definite failure, not retryable.
    let req = PayRequest::new(
        order("CWCODE0002"),
        Money::cny(880),
        "Till",
        Scene::PaymentCode {
            auth_code: Sensitive::new("101500000000000001".to_owned()),
        },
    )
    .unwrap();
    let e = client.pay(&req).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::InsufficientFunds));
    assert!(!e.outcome_unknown());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_bill_confirmed_and_notified() {
    let server = common::start().await;
    let client = common::wechat(&server);
    server.set_wechat_balance(Some(100_000));
    server.set_wechat_payee_name("oPayeeContract", "张三");
    let req = TransferRequest::new(
        MerchantTransferNo::new("CWTB0001").unwrap(),
        Payee::WechatOpenId(Sensitive::new("oPayeeContract".to_owned())),
        Money::cny(1000),
        "注册奖励",
    )
    .unwrap()
    .payee_name("张三");
    let t = client.transfer(&req).await.unwrap();
    assert_eq!(t.status, TransferStatus::WaitingForPayee);
    server.confirm_transfer("CWTB0001").unwrap();
    let no = MerchantTransferNo::new("CWTB0001").unwrap();
    assert_eq!(
        client.query_transfer(&no).await.unwrap().status,
        TransferStatus::Success
    );
    let d = common::delivery(&server, |d| d.event_type == "MCHTRANSFER.BILL.FINISHED").await;
    let v = client.verify_callback(&common::callback(&d)).await.unwrap();
    assert!(
        matches!(&v.event, CallbackEvent::Transfer(t) if t.status == TransferStatus::Success && t.amount == Money::cny(1000)),
        "{:?}",
        v.event
    );
    // Above the balance left: a definite refusal.
    let big = TransferRequest::new(
        MerchantTransferNo::new("CWTB0002").unwrap(),
        Payee::WechatOpenId(Sensitive::new("oPayeeContract".to_owned())),
        Money::cny(99_500),
        "注册奖励",
    )
    .unwrap();
    let e = client.transfer(&big).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::InsufficientFunds));
}

/// Adds `rule` (WeChat only), runs `f`, returns how often the rule fired, clears the table.
async fn with_fault<T>(
    server: &payagg::mock::MockServer,
    fault: FaultKind,
    scope: FaultScope,
    endpoint: &str,
    f: impl std::future::Future<Output = T>,
) -> (T, u64) {
    server.faults().add(
        FaultRule::new(fault, scope)
            .channel(Channel::Wechat)
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
    let client = common::wechat(&server);
    let q = QueryRequest::new(order("CWFAULT001"));
    client.pay(&native("CWFAULT001", 500)).await.unwrap();
    server.pay(Channel::Wechat, "CWFAULT001", None).unwrap();

    // HTTP 503 from a load balancer: a pay is sent once and its outcome is unknown.
    let (r, fired) = with_fault(
        &server,
        FaultKind::HttpStatus { status: 503 },
        FaultScope::Always,
        "wechat.prepay",
        client.pay(&native("CWFAULT002", 500)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.is_retryable() && e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1, "a pay is never retried");
    // A query is idempotent: retried through two 503s.
    let (r, fired) = with_fault(
        &server,
        FaultKind::HttpStatus { status: 503 },
        FaultScope::Next(2),
        "wechat.query",
        client.query(&q),
    )
    .await;
    assert_eq!(r.unwrap().status, TradeStatus::Success);
    assert_eq!(fired, 2);

    // SYSTEM_ERROR on a refund: retryable, outcome unknown, sent once.
    let (r, fired) = with_fault(
        &server,
        FaultKind::SystemError,
        FaultScope::Always,
        "wechat.refund",
        client.refund(&refund("CWFAULT001", "CWFREF001", 100, 500)),
    )
    .await;
    let e = r.unwrap_err();
    assert_eq!(
        e.gateway_kind(),
        Some(GatewayErrorKind::SystemError),
        "{}",
        common::describe(&e)
    );
    assert!(e.is_retryable() && e.outcome_unknown());
    assert_eq!(fired, 1, "a refund is never retried");
    // The same refund number again, once the gateway is back: accepted once.
    client
        .refund(&refund("CWFAULT001", "CWFREF001", 100, 500))
        .await
        .unwrap();

    // Dropped connection: the request went out, so the outcome is unknown.
    let (r, fired) = with_fault(
        &server,
        FaultKind::DropConnection,
        FaultScope::Always,
        "wechat.prepay",
        client.pay(&native("CWFAULT003", 500)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        e.is_retryable() && e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);
    let (r, fired) = with_fault(
        &server,
        FaultKind::DropConnection,
        FaultScope::Next(1),
        "wechat.query",
        client.query(&q),
    )
    .await;
    assert_eq!(r.unwrap().status, TradeStatus::PartiallyRefunded);
    assert_eq!(fired, 1);

    // The gateway hangs: the client times out, outcome unknown, a refund sent once.
    let started = Instant::now();
    let (r, fired) = with_fault(
        &server,
        FaultKind::Timeout,
        FaultScope::Always,
        "wechat.refund",
        client.refund(&refund("CWFAULT001", "CWFREF002", 100, 500)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::Timeout(_)) && e.outcome_unknown() && e.is_retryable(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);
    assert!(started.elapsed() < Duration::from_secs(3));

    // Latency below the timeout is only slow; above it, a timeout.
    let started = Instant::now();
    let (r, _) = with_fault(
        &server,
        FaultKind::Latency { millis: 300 },
        FaultScope::Always,
        "wechat.query",
        client.query(&q),
    )
    .await;
    r.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let (r, fired) = with_fault(
        &server,
        FaultKind::Latency { millis: 2500 },
        FaultScope::Always,
        "wechat.prepay",
        client.pay(&native("CWFAULT004", 500)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::Timeout(_)) && e.outcome_unknown(),
        "{}",
        common::describe(&e)
    );
    assert_eq!(fired, 1);
}
