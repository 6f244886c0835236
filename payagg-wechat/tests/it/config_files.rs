//! Configuration from the files WeChat issues to merchants, and several merchants side by
//! side in one process.

use std::path::PathBuf;

use payagg_core::{Error, Gateway, MerchantOrderNo, Money, PayAction, PayRequest, Scene};
use wiremock::Mock;
use wiremock::matchers::{body_partial_json, method, path};

use super::*;

/// A scratch directory removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!(
            "payagg-wechat-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `apiclient_cert.pem` for `key_pem` with serial `serial_hex`.
fn merchant_cert(key_pem: &str, serial_hex: &str) -> String {
    let kp = rcgen::KeyPair::from_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["1230000109".to_owned()]).unwrap();
    let bytes: Vec<u8> = (0..serial_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&serial_hex[i..i + 2], 16).unwrap())
        .collect();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&bytes));
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    params.self_signed(&kp).unwrap().pem()
}

fn native(order: &str) -> PayRequest {
    PayRequest::new(
        MerchantOrderNo::new(order).unwrap(),
        Money::cny(100),
        "QQ公仔",
        Scene::MerchantQr,
    )
    .unwrap()
}

fn code_url(r: &payagg_core::PayResponse) -> &str {
    match &r.action {
        PayAction::ShowQrCode { code_url } => code_url,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn config_from_merchant_files() {
    let d = Dir::new("files");
    let key = d.file("apiclient_key.pem", merchant_key_pem());
    let cert = d.file(
        "apiclient_cert.pem",
        &merchant_cert(merchant_key_pem(), MERCHANT_SERIAL),
    );
    let v3 = d.file("apiv3.key", &format!("  {APIV3}\r\n"));
    let pubkey = d.file(
        "pub_key.pem",
        payagg_wechat::doc_support::TEST_PUBLIC_KEY_PEM,
    );
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/native"))
        .and(SignedByMerchant)
        .and(wiremock::matchers::header("Wechatpay-Serial", PUB_KEY_ID))
        .respond_with(Signed::ok(
            r#"{"code_url":"weixin://wxpay/bizpayurl?pr=files"}"#,
        ))
        .expect(1)
        .mount(&s)
        .await;
    let config = Config::builder()
        .mchid(MCHID)
        .appid(APPID)
        .private_key_file(&key)
        .merchant_certificate_file(&cert)
        .apiv3_key_file(&v3)
        .wechatpay_public_key_file(PUB_KEY_ID, &pubkey)
        .base_url(s.uri())
        .notify_url("https://shop.example/notify/wechat")
        .build()
        .unwrap();
    // The serial comes from apiclient_cert.pem.
    assert_eq!(config.merchant_serial(), MERCHANT_SERIAL);
    assert_eq!(
        config.verification_mode(),
        payagg_wechat::VerificationMode::PublicKey
    );
    let r = client(config)
        .pay(&native("1217752501201407033233368018"))
        .await
        .unwrap();
    assert_eq!(code_url(&r), "weixin://wxpay/bizpayurl?pr=files");
}

#[test]
fn unreadable_or_malformed_files_name_the_setting_and_the_path() {
    let d = Dir::new("bad");
    let key = d.file("apiclient_key.pem", merchant_key_pem());
    let good = || {
        Config::builder()
            .mchid(MCHID)
            .appid(APPID)
            .private_key_file(&key)
            .merchant_serial_no(MERCHANT_SERIAL)
            .apiv3_key(apiv3())
    };
    good().build().unwrap();
    let config_err = |b: ConfigBuilder| match b.build() {
        Err(Error::Config(e)) => e,
        other => panic!("{other:?}"),
    };

    let missing = d.0.join("nope.pem");
    let e = config_err(good().private_key_file(&missing));
    assert_eq!(e.what(), "private_key_file");
    assert!(
        e.to_string().contains(&missing.display().to_string()),
        "{e}"
    );

    let garbage = d.file("garbage.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n");
    let e = config_err(good().private_key_file(&garbage));
    assert_eq!(e.what(), "private_key_file");
    assert!(
        e.to_string().contains(&garbage.display().to_string()),
        "{e}"
    );

    // The APIv3 key file: trimmed, 32 bytes, and never echoed.
    let short = d.file("short.key", "a7cde1ZJB1kG2e7VfTs3jQzaWizur8G\n");
    let e = config_err(good().apiv3_key_file(&short));
    assert_eq!(e.what(), "apiv3_key_file");
    assert!(e.to_string().contains(&short.display().to_string()), "{e}");
    assert!(!e.to_string().contains("a7cde1"), "{e}");
    let e = config_err(good().apiv3_key_file(d.0.join("absent.key")));
    assert_eq!(e.what(), "apiv3_key_file");

    // A certificate for another key.
    let other = d.file(
        "other_cert.pem",
        &merchant_cert(payagg_wechat::doc_support::TEST_KEY_PEM, "0A"),
    );
    let b = Config::builder()
        .mchid(MCHID)
        .appid(APPID)
        .private_key_file(&key)
        .merchant_certificate_file(&other)
        .apiv3_key(apiv3());
    let e = config_err(b);
    assert_eq!(e.what(), "merchant_certificate_file");
    assert!(e.to_string().contains(&other.display().to_string()), "{e}");

    // A public key file that is not a key.
    let e = config_err(good().wechatpay_public_key_file(PUB_KEY_ID, &garbage));
    assert_eq!(e.what(), "wechatpay_public_key_file");
    assert!(
        e.to_string().contains(&garbage.display().to_string()),
        "{e}"
    );
    let e = config_err(good().wechatpay_public_key_file(PUB_KEY_ID, d.0.join("x.pem")));
    assert_eq!(e.what(), "wechatpay_public_key_file");

    // The secrets read from files are redacted like in-memory ones.
    let c = good()
        .apiv3_key_file(d.file("ok.key", APIV3))
        .build()
        .unwrap();
    assert!(!format!("{c:?}").contains("a7cde1"));
}

/// The `Authorization` of merchant `mchid` with serial `serial`, checked with `key`.
struct SignedBy {
    mchid: &'static str,
    serial: &'static str,
    key: payagg_core::crypto::RsaPublicKey,
}

impl wiremock::Match for SignedBy {
    fn matches(&self, req: &Request) -> bool {
        let Some(Ok(h)) = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(sign::AuthorizationHeader::parse)
        else {
            return false;
        };
        h.mchid == self.mchid
            && h.serial_no == self.serial
            && h.verify(&self.key, req.method.as_str(), req.url.path(), &req.body)
                .is_ok()
    }
}

#[tokio::test]
async fn two_merchants_side_by_side() {
    const B_MCHID: &str = "1900000109";
    const B_APPID: &str = "wx0000000000000001";
    const B_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD8D3C5B4E";
    const B_APIV3: &str = "b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gc";
    let s = server().await;
    for (mchid, appid, serial, key, url) in [
        (
            MCHID,
            APPID,
            MERCHANT_SERIAL,
            merchant_public(),
            "weixin://a",
        ),
        (
            B_MCHID,
            B_APPID,
            B_SERIAL,
            platform_key().public_key().clone(),
            "weixin://b",
        ),
    ] {
        Mock::given(method("POST"))
            .and(path("/v3/pay/transactions/native"))
            .and(body_partial_json(
                serde_json::json!({"mchid": mchid, "appid": appid}),
            ))
            .and(SignedBy { mchid, serial, key })
            .respond_with(Signed::ok(format!(r#"{{"code_url":"{url}"}}"#)))
            .expect(10)
            .mount(&s)
            .await;
    }
    let a = client(pubkey_config(&s).build().unwrap());
    let b = client(
        Config::builder()
            .mchid(B_MCHID)
            .appid(B_APPID)
            .private_key_pem(payagg_wechat::doc_support::TEST_KEY_PEM)
            .merchant_serial_no(B_SERIAL)
            .apiv3_key(B_APIV3.parse().unwrap())
            .wechatpay_public_key(PUB_KEY_ID, payagg_wechat::doc_support::TEST_PUBLIC_KEY_PEM)
            .base_url(s.uri())
            .notify_url("https://b.example/notify")
            .build()
            .unwrap(),
    );
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for i in 0..10 {
        for (c, want) in [(a.clone(), "weixin://a"), (b.clone(), "weixin://b")] {
            tasks.push(tokio::spawn(async move {
                let r = c.pay(&native(&format!("ORDER{i:06}"))).await.unwrap();
                assert_eq!(code_url(&r), want);
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(a.config().mchid().as_str(), MCHID);
    assert_eq!(b.config().mchid().as_str(), B_MCHID);
}
