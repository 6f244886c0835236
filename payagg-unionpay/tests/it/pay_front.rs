//! Front consume B2C / B2B: the auto-submitting form, its fields and signature. No round trip.

use payagg_core::{Gateway, MerchantOrderNo, Money, PayAction, PayRequest, Scene};

use super::*;

fn form(scene: Scene, attach: Option<&str>) -> (payagg_core::PayResponse, Fields) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = server().await;
        let c = client(&s);
        let mut req = PayRequest::new(
            MerchantOrderNo::new("B2B20240105120000001").unwrap(),
            Money::cny(123_456),
            "Invoice 2024-0001",
            scene,
        )
        .unwrap();
        if let Some(a) = attach {
            req = req.attach(a);
        }
        let resp = c.pay(&req).await.unwrap();
        assert!(
            s.received_requests().await.unwrap().is_empty(),
            "no round trip"
        );
        let PayAction::SubmitForm(f) = &resp.action else {
            panic!("{:?}", resp.action)
        };
        let fields: Fields = f.fields.iter().cloned().collect();
        assert_eq!(fields.len(), f.fields.len(), "no duplicate field");
        (resp.clone(), fields)
    })
}

fn check_common(f: &Fields) {
    for (k, v) in [
        ("version", "5.1.0"),
        ("encoding", "UTF-8"),
        ("signMethod", "01"),
        ("txnType", "01"),
        ("txnSubType", "01"),
        ("channelType", "07"),
        ("accessType", "0"),
        ("currencyCode", "156"),
        ("merId", MER_ID),
        ("orderId", "B2B20240105120000001"),
        ("txnTime", TXN_TIME),
        ("txnAmt", "123456"),
        ("payTimeout", "20240105161500"),
        ("frontUrl", "https://shop.example/unionpay/return"),
        ("backUrl", "https://shop.example/unionpay/notify"),
    ] {
        assert_eq!(f.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(f["certId"], MERCHANT_CERT_ID.to_string());
    sign::verify_rsa_sha256(f, merchant_public()).unwrap();
    let mut t = f.clone();
    t.insert("txnAmt".into(), "123457".into());
    assert!(sign::verify_rsa_sha256(&t, merchant_public()).is_err());
    assert!(f.values().all(|v| !v.is_empty()), "no empty field is sent");
}

#[test]
fn b2c_form() {
    let (resp, f) = form(Scene::UnionpayB2c, None);
    check_common(&f);
    assert_eq!(f["bizType"], "000201");
    assert!(!f.contains_key("issInsCode") && !f.contains_key("reqReserved"));
    let PayAction::SubmitForm(form) = &resp.action else {
        unreachable!()
    };
    assert!(form.action.ends_with("/gateway/api/frontTransReq.do"));
    assert_eq!(form.method, "POST");
    assert_eq!(resp.channel_ref.as_deref(), Some(TXN_TIME));
}

#[test]
fn b2b_form_with_and_without_bank() {
    let (_, f) = form(Scene::UnionpayB2b { bank: None }, None);
    check_common(&f);
    assert_eq!(f["bizType"], "000202");
    assert!(!f.contains_key("issInsCode"));
    let (resp, f) = form(
        Scene::UnionpayB2b {
            bank: Some("ABC".into()),
        },
        Some("a\"<b>&'c"),
    );
    check_common(&f);
    assert_eq!(f["issInsCode"], "ABC");
    assert_eq!(f["reqReserved"], "a\"<b>&'c");
    // The HTML escapes what the official SDKs would not, and still carries the signed value.
    let PayAction::SubmitForm(form) = &resp.action else {
        unreachable!()
    };
    let html = form.to_auto_submit_html();
    assert!(!html.contains("a\"<b>"), "{html}");
    assert!(html.contains(&payagg_core::pay::html_escape("a\"<b>&'c")));
    assert!(html.contains(&payagg_core::pay::html_escape(&f["signature"])));
}

#[test]
fn bad_order_ids_and_currency_are_refused_before_signing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = server().await;
        let c = client(&s);
        for no in ["A-1234567", "SHORT1", "X2345678901234567890123456789012345"] {
            let req = PayRequest::new(
                MerchantOrderNo::new(no).unwrap(),
                Money::cny(1),
                "t",
                Scene::UnionpayB2c,
            )
            .unwrap();
            let e = c.pay(&req).await.unwrap_err();
            assert!(
                matches!(e, payagg_core::Error::InvalidInput(_)),
                "{no}: {e:?}"
            );
        }
    });
}
