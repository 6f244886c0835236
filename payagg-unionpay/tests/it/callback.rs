//! `backUrl` notifications: form POST bodies, decoded once, verified with the chain.

use bytes::Bytes;
use payagg_core::callback::{CallbackEvent, CallbackRequest};
use payagg_core::{Error, Gateway, Money, RefundStatus, TradeStatus};

use super::*;

fn consume(code: &str) -> Fields {
    [
        ("accNo", "6216***********0018"),
        ("accessType", "0"),
        ("bizType", "000201"),
        ("currencyCode", "156"),
        ("encoding", "UTF-8"),
        ("exchangeRate", "0"),
        ("merId", MER_ID),
        ("orderId", "B2C20240105160000001"),
        ("queryId", QUERY_ID),
        ("reqReserved", "inv=1&x={a}"),
        ("respCode", code),
        ("respMsg", "Success!"),
        ("settleAmt", "1234"),
        ("settleCurrencyCode", "156"),
        ("settleDate", "0105"),
        ("traceNo", "123456"),
        ("traceTime", "0105160000"),
        ("txnAmt", "1234"),
        ("txnSubType", "01"),
        ("txnTime", TXN_TIME),
        ("txnType", "01"),
        ("version", "5.1.0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn refund_notification(code: &str) -> Fields {
    let mut f = consume(code);
    f.insert("txnType".into(), "04".into());
    f.insert("txnSubType".into(), "00".into());
    f.insert("orderId".into(), "refund20240105000001".into());
    f.insert("origQryId".into(), QUERY_ID.into());
    f.insert("queryId".into(), REFUND_QUERY_ID.into());
    f.insert("txnAmt".into(), "300".into());
    f
}

fn body(f: &Fields) -> Bytes {
    Bytes::from(qstring::form_encode(f))
}

async fn verify(body: Bytes) -> Result<payagg_core::callback::VerifiedCallback, Error> {
    let s = server().await;
    let c = client(&s);
    let mut req = CallbackRequest::post(http::HeaderMap::new(), body);
    // Parameters in the URL are not part of the signature and are ignored.
    req.query = "from=nginx&respCode=00".into();
    c.verify_callback(&req).await
}

#[tokio::test]
async fn consume_success_and_a6() {
    for code in ["00", "A6"] {
        let v = verify(body(&pki().good.sign(consume(code)))).await.unwrap();
        let CallbackEvent::Payment(t) = &v.event else {
            panic!("{:?}", v.event)
        };
        assert_eq!(t.status, TradeStatus::Success, "{code}");
        assert_eq!(t.amount, Money::cny(1234));
        assert_eq!(t.channel_trade_no.as_ref().unwrap().as_str(), QUERY_ID);
        assert_eq!(t.attach.as_deref(), Some("inv=1&x={a}"));
        assert_eq!(v.ack.status, 200);
        assert_eq!(v.ack.body, "ok");
        assert!(v.retry_ack.status >= 500);
        assert_eq!(
            v.notification_id.as_deref(),
            Some("B2C20240105160000001:20240105160000:01")
        );
    }
}

#[tokio::test]
async fn refund_success_failure_and_processing() {
    for (code, st) in [
        ("00", RefundStatus::Success),
        ("A6", RefundStatus::Success),
        ("35", RefundStatus::Failed),
        ("30", RefundStatus::Failed),
        ("05", RefundStatus::Processing),
        ("34", RefundStatus::Processing),
    ] {
        let v = verify(body(&pki().good.sign(refund_notification(code))))
            .await
            .unwrap();
        let CallbackEvent::Refund(r) = &v.event else {
            panic!("{:?}", v.event)
        };
        assert_eq!(r.status, st, "{code}");
        assert_eq!(r.merchant_refund_no.as_str(), "refund20240105000001");
        assert_eq!(
            r.channel_refund_no.as_ref().unwrap().as_str(),
            REFUND_QUERY_ID
        );
        assert_eq!(r.channel_trade_no.as_ref().unwrap().as_str(), QUERY_ID);
        assert_eq!(r.amount, Money::cny(300));
    }
    let mut cancel = refund_notification("00");
    cancel.insert("txnType".into(), "31".into());
    let v = verify(body(&pki().good.sign(cancel))).await.unwrap();
    assert!(matches!(v.event, CallbackEvent::Refund(_)));
}

#[tokio::test]
async fn consume_failure_and_processing_are_not_success() {
    let v = verify(body(&pki().good.sign(consume("30")))).await.unwrap();
    let CallbackEvent::Payment(t) = &v.event else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Failed);
    let v = verify(body(&pki().good.sign(consume("05")))).await.unwrap();
    let CallbackEvent::Payment(t) = &v.event else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::NotPaid);
    assert!(t.paid_at.is_none());
}

#[tokio::test]
async fn wire_encoding_is_decoded_once() {
    let signed = pki().good.sign(consume("00"));
    let b = body(&signed);
    let text = std::str::from_utf8(&b).unwrap();
    assert!(text.contains("%0D%0A") && text.contains("%2B") || text.contains("%2F"));
    // A double-encoded body does not verify.
    let double = qstring::form_encode_value(text);
    let e = verify(Bytes::from(format!("x={double}")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e:?}");
}

#[tokio::test]
async fn tampered_removed_added_fields() {
    let signed = pki().good.sign(consume("00"));
    for (k, v) in [
        ("txnAmt", Some("1")),
        ("orderId", Some("B2C20240105160000002")),
        ("reqReserved", None),
        ("extra", Some("1")),
    ] {
        let mut f = signed.clone();
        match v {
            Some(v) => f.insert(k.into(), v.into()),
            None => f.remove(k),
        };
        let e = verify(body(&f)).await.unwrap_err();
        assert_bad_signature(&e);
    }
    // CR LF turned into LF in transit: the PEM is part of the signed string.
    let mut f = signed.clone();
    let lf = f["signPubKeyCert"].replace("\r\n", "\n");
    f.insert("signPubKeyCert".into(), lf);
    assert_bad_signature(&verify(body(&f)).await.unwrap_err());
}

#[tokio::test]
async fn downgrades_and_duplicates_are_refused() {
    let mut f = consume("00");
    f.insert("signMethod".into(), "11".into());
    let e = verify(body(&pki().good.sign(f))).await.unwrap_err();
    assert!(
        matches!(e, Error::Verification(ref v) if v.kind() == &VerificationKind::UnknownKey),
        "{e:?}"
    );
    let mut f = consume("00");
    f.insert("version".into(), "5.0.0".into());
    let e = verify(body(&pki().good.sign(f))).await.unwrap_err();
    assert!(
        matches!(e, Error::Verification(ref v) if v.kind() == &VerificationKind::UnknownKey),
        "{e:?}"
    );
    let b = body(&pki().good.sign(consume("00")));
    let dup = format!("{}&respCode=00", std::str::from_utf8(&b).unwrap());
    assert!(verify(Bytes::from(dup)).await.is_err());
    let mut f = pki().good.sign(consume("00"));
    f.remove("signature");
    let e = verify(body(&f)).await.unwrap_err();
    assert!(
        matches!(e, Error::Verification(ref v) if v.kind() == &VerificationKind::MissingSignature),
        "{e:?}"
    );
}

#[tokio::test]
async fn forged_certificates_are_refused() {
    for (case, sim) in forged() {
        let e = verify(body(&sim.sign(consume("00")))).await.unwrap_err();
        assert_forged(case, &e);
    }
}
