use payagg_core::error::VerificationKind;
use payagg_core::{Error, Gateway, MerchantOrderNo, QueryRequest, TradeStatus};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::*;

const TX: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"1217752501201407033233368018","trade_state":"NOTPAY","amount":{"total":100,"currency":"CNY"}}"#;
const Q: &str = "/v3/pay/transactions/out-trade-no/1217752501201407033233368018";

fn query() -> QueryRequest {
    QueryRequest::new(MerchantOrderNo::new("1217752501201407033233368018").unwrap())
}

fn kind(e: &Error) -> VerificationKind {
    match e {
        Error::Verification(v) => v.kind().clone(),
        other => panic!("expected a verification error, got {other}"),
    }
}

#[tokio::test]
async fn tampered_response_signature_is_rejected() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).tampered())
        .mount(&s)
        .await;
    let e = client(pubkey_config(&s).build().unwrap())
        .query(&query())
        .await
        .unwrap_err();
    assert_eq!(kind(&e), VerificationKind::BadSignature);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn stale_timestamp_is_rejected() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).timestamp(NOW - 301))
        .mount(&s)
        .await;
    let e = client(pubkey_config(&s).build().unwrap())
        .query(&query())
        .await
        .unwrap_err();
    assert_eq!(kind(&e), VerificationKind::StaleTimestamp);
}

#[tokio::test]
async fn probe_signature_is_rejected() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("Wechatpay-Timestamp", NOW.to_string().as_str())
                .insert_header("Wechatpay-Nonce", "n")
                .insert_header("Wechatpay-Serial", PUB_KEY_ID)
                .insert_header("Wechatpay-Signature", "WECHATPAY/SIGNTEST/7ki2nW8tUgtxL4Jp")
                .set_body_raw(TX.as_bytes().to_vec(), "application/json"),
        )
        .mount(&s)
        .await;
    let e = client(pubkey_config(&s).build().unwrap())
        .query(&query())
        .await
        .unwrap_err();
    assert_eq!(kind(&e), VerificationKind::ProbeSignature);
}

#[tokio::test]
async fn unknown_public_key_id_fails_without_download() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).serial("PUB_KEY_ID_999"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(Signed::ok("{}"))
        .expect(0)
        .mount(&s)
        .await;
    let e = client(pubkey_config(&s).build().unwrap())
        .query(&query())
        .await
        .unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e}")
    };
    assert_eq!(v.kind(), &VerificationKind::UnknownKey);
    assert_eq!(v.presented_value(), Some("PUB_KEY_ID_999"));
    assert_eq!(v.expected_value(), Some(PUB_KEY_ID));
}

/// Platform-certificate mode: the client holds certificate A; WeChat rotates to B. The first
/// answer signed with B triggers exactly one download, after which B verifies.
#[tokio::test]
async fn unknown_serial_triggers_one_certificate_refresh() {
    let s = server().await;
    let (a_pem, a_serial) = doc_cert();
    let b_pem = rotated_cert_pem(0x7A11_0001);
    let b_serial = payagg_core::crypto::Certificate::from_pem(&b_pem)
        .unwrap()
        .serial_hex_upper();
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).serial(b_serial.clone()))
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .and(wiremock::matchers::query_param("algorithm_type", "RSA"))
        .and(SignedByMerchant)
        .and(wiremock::matchers::header("Wechatpay-Serial", a_serial))
        .respond_with(
            Signed::ok(certificates_body(&[a_pem.clone(), b_pem])).serial(b_serial.clone()),
        )
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        base_config(&s)
            .platform_certificate_pem(a_pem)
            .build()
            .unwrap(),
    );
    assert_eq!(c.platform_certificate_serials(), vec![a_serial.to_owned()]);
    let t = c.query(&query()).await.unwrap();
    assert_eq!(t.status, TradeStatus::NotPaid);
    let mut serials = c.platform_certificate_serials();
    serials.sort();
    let mut want = vec![a_serial.to_owned(), b_serial];
    want.sort();
    assert_eq!(serials, want, "several certificates valid at once");
    // The second answer verifies from the cache: no second download (expect(1) above).
    c.query(&query()).await.unwrap();
}

#[tokio::test]
async fn serial_still_unknown_after_refresh_names_presented_and_known() {
    let s = server().await;
    let (a_pem, a_serial) = doc_cert();
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).serial("ABCDEF0123"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(Signed::ok(certificates_body(std::slice::from_ref(&a_pem))).serial(a_serial))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        base_config(&s)
            .platform_certificate_pem(a_pem)
            .build()
            .unwrap(),
    );
    let e = c.query(&query()).await.unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e}")
    };
    assert_eq!(v.kind(), &VerificationKind::UnknownKey);
    assert_eq!(v.presented_value(), Some("ABCDEF0123"));
    assert_eq!(v.expected_value(), Some(a_serial));
    // Rate-limited: a second miss right away does not download again (expect(1)).
    assert!(c.query(&query()).await.is_err());
}

/// Bootstrapping: no certificate configured; the first answer's serial is unknown, the
/// download (verified with the downloaded certificate) supplies it.
#[tokio::test]
async fn bootstrap_from_empty_cache() {
    let s = server().await;
    let (a_pem, a_serial) = doc_cert();
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).serial(a_serial))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(Signed::ok(certificates_body(&[a_pem])).serial(a_serial))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(base_config(&s).build().unwrap());
    assert!(c.platform_certificate_serials().is_empty());
    c.query(&query()).await.unwrap();
    assert_eq!(c.platform_certificate_serials(), vec![a_serial.to_owned()]);
}

#[tokio::test]
async fn tampered_certificate_download_is_rejected() {
    let s = server().await;
    let (a_pem, a_serial) = doc_cert();
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(
            Signed::ok(certificates_body(&[a_pem]))
                .serial(a_serial)
                .tampered(),
        )
        .mount(&s)
        .await;
    let c = client(base_config(&s).build().unwrap());
    let e = c.refresh_platform_certificates().await.unwrap_err();
    assert_eq!(kind(&e), VerificationKind::BadSignature);
    assert!(c.platform_certificate_serials().is_empty());
}

#[tokio::test]
async fn both_modes_accept_public_key_and_certificates() {
    let s = server().await;
    let (a_pem, a_serial) = doc_cert();
    Mock::given(method("GET"))
        .and(path(Q))
        .and(wiremock::matchers::header("Wechatpay-Serial", PUB_KEY_ID))
        .respond_with(Signed::ok(TX).serial(a_serial))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        pubkey_config(&s)
            .platform_certificate_pem(a_pem)
            .build()
            .unwrap(),
    );
    assert_eq!(
        c.config().verification_mode(),
        payagg_wechat::VerificationMode::Both
    );
    c.query(&query()).await.unwrap();
}

#[tokio::test]
async fn concurrent_unknown_serials_share_one_refresh() {
    let s = server().await;
    let (a_pem, _) = doc_cert();
    let b_pem = rotated_cert_pem(0x7A11_0002);
    let b_serial = payagg_core::crypto::Certificate::from_pem(&b_pem)
        .unwrap()
        .serial_hex_upper();
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).serial(b_serial.clone()))
        .expect(3)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(
            Signed::ok(certificates_body(&[b_pem]))
                .serial(b_serial)
                .delay(StdDuration::from_millis(200)),
        )
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        base_config(&s)
            .platform_certificate_pem(a_pem)
            .build()
            .unwrap(),
    );
    let q = query();
    let (r1, r2, r3) = tokio::join!(c.query(&q), c.query(&q), c.query(&q));
    r1.unwrap();
    r2.unwrap();
    r3.unwrap();
}

#[tokio::test]
async fn failed_refresh_still_reports_the_unknown_serial() {
    let s = server().await;
    let (a_pem, a_serial) = doc_cert();
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Signed::ok(TX).serial("ABCDEF0123"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(error_body(404, "RESOURCE_NOT_EXISTS", "无可用的平台证书"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        base_config(&s)
            .platform_certificate_pem(a_pem)
            .build()
            .unwrap(),
    );
    let e = c.query(&query()).await.unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e}")
    };
    assert_eq!(v.kind(), &VerificationKind::UnknownKey);
    assert_eq!(v.presented_value(), Some("ABCDEF0123"));
    assert_eq!(v.expected_value(), Some(a_serial));
}

/// A platform certificate for the fake WeChat's key ending at `not_after`, with its serial.
fn cert_until(serial: u64, not_after: OffsetDateTime) -> (String, String) {
    let kp = rcgen::KeyPair::from_pem_and_sign_algo(TEST_KEY_PEM, &rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["wechatpay-test".to_owned()]).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from(serial));
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = not_after;
    let pem = params.self_signed(&kp).unwrap().pem();
    let sn = payagg_core::crypto::Certificate::from_pem(&pem)
        .unwrap()
        .serial_hex_upper();
    (pem, sn)
}

/// [`Signed`], timestamped with the (injected) clock's time when it answers.
struct Live(Signed, Arc<ManualClock>);

impl Respond for Live {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        use payagg_core::clock::Clock as _;
        self.0
            .clone()
            .timestamp(self.1.now().unix_timestamp())
            .respond(req)
    }
}

async fn hits(s: &MockServer, p: &str) -> Vec<Request> {
    s.received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

fn serial_sent(r: &Request) -> String {
    r.headers["wechatpay-serial"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn certificates_are_refreshed_before_they_expire() {
    let s = server().await;
    let clock = Arc::new(ManualClock::new(now()));
    let (a_pem, a_serial) = cert_until(0xA1, now() + time::Duration::days(3));
    let (b_pem, b_serial) = cert_until(0xB2, now() + time::Duration::days(400));
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Live(Signed::ok(TX).serial(&a_serial), clock.clone()))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(Live(
            Signed::ok(certificates_body(&[a_pem.clone(), b_pem])).serial(&a_serial),
            clock.clone(),
        ))
        .mount(&s)
        .await;
    let c = WechatPayClient::new(
        base_config(&s)
            .platform_certificate_pem(a_pem)
            .build()
            .unwrap(),
    )
    .unwrap()
    .with_clock(clock.clone());
    assert_eq!(
        c.config().verification_mode(),
        payagg_wechat::VerificationMode::PlatformCertificates
    );

    // Three days left: nothing to do.
    c.query(&query()).await.unwrap();
    assert!(hits(&s, "/v3/certificates").await.is_empty());
    clock.advance(time::Duration::hours(47));
    c.query(&query()).await.unwrap();
    assert!(hits(&s, "/v3/certificates").await.is_empty());
    assert_eq!(serial_sent(&hits(&s, Q).await[1]), a_serial);

    // 23 hours left (< the 24 h default margin): the next call refreshes first, then
    // announces the replacement.
    clock.advance(time::Duration::hours(2));
    c.query(&query()).await.unwrap();
    assert_eq!(hits(&s, "/v3/certificates").await.len(), 1);
    let mut held = c.platform_certificate_serials();
    held.sort();
    let mut want = vec![a_serial.clone(), b_serial.clone()];
    want.sort();
    assert_eq!(held, want);
    assert_eq!(serial_sent(&hits(&s, Q).await[2]), b_serial);

    // The replacement is far from its end: no more downloads, even after the old one ends
    // and WeChat signs with the new one.
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Live(Signed::ok(TX).serial(&b_serial), clock.clone()))
        .with_priority(1)
        .mount(&s)
        .await;
    clock.advance(time::Duration::days(2));
    c.query(&query()).await.unwrap();
    assert_eq!(hits(&s, "/v3/certificates").await.len(), 1);
}

#[tokio::test]
async fn refresh_ahead_of_expiry_is_rate_limited_and_configurable() {
    let s = server().await;
    let clock = Arc::new(ManualClock::new(now()));
    let (a_pem, a_serial) = cert_until(0xA1, now() + time::Duration::hours(20));
    Mock::given(method("GET"))
        .and(path(Q))
        .respond_with(Live(Signed::ok(TX).serial(&a_serial), clock.clone()))
        .mount(&s)
        .await;
    // WeChat has no replacement yet.
    Mock::given(method("GET"))
        .and(path("/v3/certificates"))
        .respond_with(Live(
            Signed::ok(certificates_body(std::slice::from_ref(&a_pem))).serial(&a_serial),
            clock.clone(),
        ))
        .mount(&s)
        .await;

    // A 1-hour margin: 20 hours left is not yet due.
    let narrow = WechatPayClient::new(
        base_config(&s)
            .platform_certificate_pem(a_pem.clone())
            .certificate_refresh_margin(time::Duration::hours(1))
            .build()
            .unwrap(),
    )
    .unwrap()
    .with_clock(clock.clone());
    narrow.query(&query()).await.unwrap();
    assert!(hits(&s, "/v3/certificates").await.is_empty());

    // The default margin: due. One download, then none for an hour however many calls.
    let c = WechatPayClient::new(
        base_config(&s)
            .platform_certificate_pem(a_pem)
            .build()
            .unwrap(),
    )
    .unwrap()
    .with_clock(clock.clone());
    for _ in 0..3 {
        c.query(&query()).await.unwrap();
    }
    assert_eq!(hits(&s, "/v3/certificates").await.len(), 1);
    clock.advance(time::Duration::minutes(59));
    c.query(&query()).await.unwrap();
    assert_eq!(hits(&s, "/v3/certificates").await.len(), 1);
    clock.advance(time::Duration::minutes(2));
    c.query(&query()).await.unwrap();
    c.query(&query()).await.unwrap();
    assert_eq!(hits(&s, "/v3/certificates").await.len(), 2);
}
