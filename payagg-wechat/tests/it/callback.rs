use payagg_core::error::VerificationKind;
use payagg_core::{CallbackEvent, CallbackRequest, Error, Gateway, RefundStatus, TradeStatus};
use payagg_wechat::wire::NotifyEnvelope;

use super::*;

pub(crate) fn notification(
    event_type: &str,
    resource_type: &str,
    plaintext: &str,
    serial: &str,
    ts: i64,
    sig: Option<&str>,
) -> CallbackRequest {
    let env = NotifyEnvelope {
        id: "EV-2018022511223320873".into(),
        create_time: "2024-05-20T10:00:00+08:00".into(),
        resource_type: "encrypt-resource".into(),
        event_type: event_type.into(),
        summary: "x".into(),
        resource: encrypt(plaintext, resource_type, Some(resource_type)),
    };
    let body = serde_json::to_string(&env).unwrap();
    let ts = ts.to_string();
    let signature = sig.map_or_else(
        || sign::sign_response(&platform_key(), &ts, "nonce123", body.as_bytes()),
        str::to_owned,
    );
    let mut h = http::HeaderMap::new();
    h.insert("Wechatpay-Timestamp", ts.parse().unwrap());
    h.insert("Wechatpay-Nonce", "nonce123".parse().unwrap());
    h.insert("Wechatpay-Serial", serial.parse().unwrap());
    h.insert("Wechatpay-Signature", signature.parse().unwrap());
    h.insert("Content-Type", "application/json".parse().unwrap());
    CallbackRequest::post(h, body)
}

const TX: &str = r#"{"mchid":"1230000109","appid":"wxd678efh567hg6787","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000001202401011234567890","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"cart-7","success_time":"2024-05-20T09:59:58+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}"#;

#[tokio::test]
async fn transaction_success_is_a_payment() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let v = c
        .verify_callback(&notification(
            "TRANSACTION.SUCCESS",
            "transaction",
            TX,
            PUB_KEY_ID,
            NOW,
            None,
        ))
        .await
        .unwrap();
    assert_eq!(v.notification_id.as_deref(), Some("EV-2018022511223320873"));
    let CallbackEvent::Payment(t) = &v.event else {
        panic!("{:?}", v.event)
    };
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(t.attach.as_deref(), Some("cart-7"));
    assert!((200..300).contains(&v.ack.status));
    assert!(v.retry_ack.status >= 400);
    assert!(v.retry_ack.body.contains("FAIL"));
}

#[tokio::test]
async fn refund_events_are_refunds() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    for (ev, raw, st) in [
        ("REFUND.SUCCESS", "SUCCESS", RefundStatus::Success),
        ("REFUND.ABNORMAL", "ABNORMAL", RefundStatus::Abnormal),
        ("REFUND.CLOSED", "CLOSED", RefundStatus::Closed),
    ] {
        let plain = format!(
            r#"{{"mchid":"1230000109","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000001202401011234567890","out_refund_no":"R1","refund_id":"50000000382019052709732678859","refund_status":"{raw}","success_time":"2024-05-20T10:01:00+08:00","user_received_account":"支付用户零钱","amount":{{"total":100,"refund":40,"payer_total":100,"payer_refund":40}}}}"#
        );
        let v = c
            .verify_callback(&notification(ev, "refund", &plain, PUB_KEY_ID, NOW, None))
            .await
            .unwrap();
        let CallbackEvent::Refund(r) = &v.event else {
            panic!("{:?}", v.event)
        };
        assert_eq!(r.status, st, "{ev}");
        assert_eq!(r.amount, payagg_core::Money::cny(40));
    }
}

#[tokio::test]
async fn other_events_keep_their_content() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let v = c
        .verify_callback(&notification(
            "MCHTRANSFER.BATCH.FINISHED",
            "mch_payment",
            r#"{"out_bill_no":"B1","state":"SUCCESS"}"#,
            PUB_KEY_ID,
            NOW,
            None,
        ))
        .await
        .unwrap();
    let CallbackEvent::Other {
        event_type,
        content,
    } = &v.event
    else {
        panic!()
    };
    assert_eq!(event_type, "MCHTRANSFER.BATCH.FINISHED");
    assert_eq!(content["out_bill_no"], "B1");
}

#[tokio::test]
async fn bad_callbacks_are_rejected() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let probe = notification(
        "TRANSACTION.SUCCESS",
        "transaction",
        TX,
        PUB_KEY_ID,
        NOW,
        Some("WECHATPAY/SIGNTEST/abc"),
    );
    let e = c.verify_callback(&probe).await.unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind() == &VerificationKind::ProbeSignature),
        "{e}"
    );
    let stale = notification(
        "TRANSACTION.SUCCESS",
        "transaction",
        TX,
        PUB_KEY_ID,
        NOW - 600,
        None,
    );
    let e = c.verify_callback(&stale).await.unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind() == &VerificationKind::StaleTimestamp),
        "{e}"
    );
    let mut tampered = notification(
        "TRANSACTION.SUCCESS",
        "transaction",
        TX,
        PUB_KEY_ID,
        NOW,
        None,
    );
    tampered.body = bytes::Bytes::from(
        String::from_utf8(tampered.body.to_vec())
            .unwrap()
            .replace("x", "y"),
    );
    let e = c.verify_callback(&tampered).await.unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind() == &VerificationKind::BadSignature),
        "{e}"
    );
    // Signed correctly but encrypted with another APIv3 key.
    let other = pubkey_config(&s)
        .apiv3_key("0123456789abcdef0123456789abcdef".parse().unwrap())
        .build()
        .unwrap();
    let e = client(other)
        .verify_callback(&notification(
            "TRANSACTION.SUCCESS",
            "transaction",
            TX,
            PUB_KEY_ID,
            NOW,
            None,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind() == &VerificationKind::Decryption),
        "{e}"
    );
    assert_eq!(WechatPayClient::failure_ack().status, 500);
}

/// The cross-check before booking: a genuine callback about the caller's own order passes;
/// one about another order, amount, app or merchant is a `BusinessMismatch` naming the
/// fields, with what was expected and what WeChat presented.
#[tokio::test]
async fn callback_is_cross_checked_against_the_order_before_booking() {
    use payagg_core::ids::{AppId, MerchantId};
    use payagg_core::{ExpectedOrder, MerchantOrderNo, Money};
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let v = c
        .verify_callback(&notification(
            "TRANSACTION.SUCCESS",
            "transaction",
            TX,
            PUB_KEY_ID,
            NOW,
            None,
        ))
        .await
        .unwrap();
    let CallbackEvent::Payment(t) = &v.event else {
        panic!("{:?}", v.event)
    };
    let order =
        |no: &str, fen: u64| ExpectedOrder::new(MerchantOrderNo::new(no).unwrap(), Money::cny(fen));
    let mine = order("1217752501201407033233368018", 100)
        .app_id(AppId::new(APPID).unwrap())
        .merchant_id(MerchantId::new(MCHID).unwrap());
    t.check_matches(&mine).unwrap();

    for (expected, field) in [
        (
            order("1217752501201407033233368019", 100),
            "merchant_order_no",
        ),
        (order("1217752501201407033233368018", 1), "amount"),
        (
            order("1217752501201407033233368018", 100)
                .app_id(AppId::new("wx0000000000000001").unwrap()),
            "app",
        ),
        (
            order("1217752501201407033233368018", 100)
                .merchant_id(MerchantId::new("1900000109").unwrap()),
            "merchant",
        ),
    ] {
        let e = t.check_matches(&expected).unwrap_err();
        assert_eq!(e.kind(), &VerificationKind::BusinessMismatch, "{e}");
        assert!(e.to_string().contains(field), "{field}: {e}");
        assert!(
            e.expected_value().is_some() && e.presented_value().is_some(),
            "{e}"
        );
    }
}
