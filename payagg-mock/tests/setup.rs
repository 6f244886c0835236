//! `init` writes a setup that `serve --config` loads back unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payagg_mock::{MockConfig, MockServer};

#[tokio::test]
async fn written_setup_loads_back() {
    let dir = std::env::temp_dir().join(format!("payagg-mock-setup-test-{}", std::process::id()));
    let generated = MockConfig::generate().unwrap();
    let written = generated.write_setup(&dir).unwrap();
    for name in [
        "apiclient_key.pem",
        "apiclient_cert.pem",
        "pub_key.pem",
        "apiv3_key.txt",
        "apiv2_key.txt",
        "app_private_key.txt",
        "app_private_key_pkcs1.txt",
        "mock.json",
    ] {
        assert!(
            written.iter().any(|(p, _)| p.ends_with(name)),
            "{name} written"
        );
    }
    let loaded = MockConfig::load(&dir.join("mock.json")).unwrap();
    let (a, b) = (&generated.wechat, &loaded.wechat);
    assert_eq!(a.merchant_serial(), b.merchant_serial());
    assert_eq!(a.platform_serial(), b.platform_serial());
    assert_eq!(a.pub_key_id(), b.pub_key_id());
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(a.apiv2_key()),
        secrecy::ExposeSecret::expose_secret(b.apiv2_key())
    );
    assert_eq!(b.fee_rate_ppm, 6000);
    assert!(b.pub_key_id().starts_with("PUB_KEY_ID_"));
    assert!(loaded.listen.ip().is_loopback());
    let server = MockServer::start(loaded).await.unwrap();
    let health = reqwest::get(format!("{}/__mock/health", server.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The `payagg-mock serve` child process; killed when dropped.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the binary on `config` and returns it with the banner it printed.
fn serve(config: &std::path::Path) -> (Served, String) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_payagg-mock"))
        .arg("serve")
        .arg("--config")
        .arg(config)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let served = Served(child);
    let mut banner = String::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("control API") {
            break;
        }
    }
    (served, banner)
}

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alipay_and_unionpay_files_load_back_and_serve_signed_requests() {
    use payagg_core::crypto::{Certificate, RsaPrivateKey, RsaPublicKey};
    use secrecy::ExposeSecret as _;

    let dir =
        std::env::temp_dir().join(format!("payagg-mock-setup-channels-{}", std::process::id()));
    let generated = MockConfig::generate().unwrap();
    generated.write_setup(&dir).unwrap();

    // Alipay: the keys as the key tool gives them, and the certificate-mode files.
    let al = dir.join("alipay");
    let ga = &generated.alipay;
    let app_key = RsaPrivateKey::from_pkcs8_der(&b64(&read(&al, "app_private_key.txt"))).unwrap();
    assert_eq!(app_key.public_key(), ga.app_private_key().public_key());
    let pem_key = RsaPrivateKey::from_pem(&read(&al, "app_private_key.pem")).unwrap();
    assert_eq!(pem_key.public_key(), app_key.public_key());
    let alipay_pub =
        RsaPublicKey::from_base64_spki(read(&al, "alipayPublicKey_RSA2.txt").trim()).unwrap();
    assert_eq!(&alipay_pub, ga.alipay_public_key());
    let alipay_cert_pem = read(&al, "alipayCertPublicKey_RSA2.crt");
    let alipay_cert = Certificate::from_pem(&alipay_cert_pem).unwrap();
    assert_eq!(alipay_cert.public_key().unwrap(), alipay_pub);
    assert_eq!(
        payagg_alipay::sign::cert_sn_from_pem(&alipay_cert_pem).unwrap(),
        ga.alipay_cert_sn()
    );
    let app_cert_pem = read(&al, &format!("appCertPublicKey_{}.crt", ga.app_id()));
    let app_cert = Certificate::from_pem(&app_cert_pem).unwrap();
    assert_eq!(&app_cert.public_key().unwrap(), app_key.public_key());
    assert_eq!(
        payagg_alipay::sign::cert_sn_from_pem(&app_cert_pem).unwrap(),
        ga.app_cert_sn()
    );
    let root_pem = read(&al, "alipayRootCert.crt");
    assert!(!Certificate::pem_bundle(&root_pem).unwrap().is_empty());
    assert_eq!(
        payagg_alipay::sign::root_cert_sn_from_pem(&root_pem).unwrap(),
        ga.root_cert_sn()
    );
    assert_eq!(
        read(&al, "aes_key.txt").trim(),
        ga.aes_key().expose_secret()
    );

    // UnionPay: the PFX opens with the written password and holds the signing key and the
    // certificate whose decimal serial is certId, issued by the middle, issued by the root.
    let up = dir.join("unionpay");
    let gu = &generated.unionpay;
    let pfx = std::fs::read(up.join("acp_test_sign.pfx")).unwrap();
    let password = read(&up, "acp_test_sign.pfx.password.txt");
    assert!(
        p12_keystore::KeyStore::from_pkcs12(
            &pfx,
            "not-the-password",
            p12_keystore::Pkcs12ImportPolicy::Relaxed
        )
        .is_err()
    );
    let store = p12_keystore::KeyStore::from_pkcs12(
        &pfx,
        password.trim(),
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .unwrap();
    let (pfx_key, pfx_cert) = store
        .entries()
        .find_map(|(_, e)| match e {
            p12_keystore::KeyStoreEntry::PrivateKeyChain(c) => Some((
                RsaPrivateKey::from_pkcs8_der(c.key().as_der()).unwrap(),
                Certificate::from_der(c.certs()[0].as_der()).unwrap(),
            )),
            _ => None,
        })
        .expect("a key with its certificate in the PFX");
    assert_eq!(&pfx_cert.public_key().unwrap(), pfx_key.public_key());
    assert_eq!(pfx_key.public_key(), gu.merchant_key().public_key());
    assert_eq!(pfx_cert.serial_decimal(), gu.cert_id());
    let sign_cert = Certificate::from_pem(&read(&up, "acp_test_sign_cert.pem")).unwrap();
    assert_eq!(sign_cert.der(), pfx_cert.der());
    let pem_key = RsaPrivateKey::from_pem(&read(&up, "acp_test_sign_key.pem")).unwrap();
    assert_eq!(pem_key.public_key(), pfx_key.public_key());
    let middle = Certificate::from_pem(&read(&up, "acp_test_middle.cer")).unwrap();
    let root = Certificate::from_pem(&read(&up, "acp_test_root.cer")).unwrap();
    pfx_cert.verify_issued_by(&middle).unwrap();
    middle.verify_issued_by(&root).unwrap();
    assert_eq!(read(&up, "mer_id.txt").trim(), gu.mer_id());

    // `payagg-mock serve --config` on those files, one signed request per channel.
    let (_served, banner) = serve(&dir.join("mock.json"));
    let base = banner
        .lines()
        .next()
        .and_then(|l| l.rsplit_once(" at "))
        .map(|(_, url)| url.trim().to_owned())
        .unwrap_or_else(|| panic!("no base URL in {banner:?}"));
    assert!(base.starts_with("http://127.0.0.1:"), "{banner}");
    for part in [
        "WeChat Pay",
        "Alipay",
        "UnionPay",
        "/gateway.do",
        "/gateway/api/",
        "/v3/",
    ] {
        assert!(banner.contains(part), "{part} in {banner}");
    }

    // WeChat: payagg's client configured from the written files only.
    let loaded = MockConfig::load(&dir.join("mock.json")).unwrap();
    let wx = &loaded.wechat;
    let wechat = dir.join("wechat");
    let cfg = payagg_wechat::Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(read(&wechat, "apiclient_key.pem"))
        .merchant_certificate_pem(read(&wechat, "apiclient_cert.pem"))
        .apiv3_key(
            payagg_core::crypto::SecretKey32::from_secret(&secrecy::SecretString::from(
                read(&wechat, "apiv3_key.txt").trim().to_owned(),
            ))
            .unwrap(),
        )
        .base_url(base.clone())
        .notify_url("http://127.0.0.1:9/notify")
        .platform_certificates(true)
        .build()
        .unwrap();
    let client = payagg_wechat::WechatPayClient::new(cfg).unwrap();
    let req = payagg_core::PayRequest::new(
        payagg_core::MerchantOrderNo::new("SETUP-W1").unwrap(),
        payagg_core::Money::cny(100),
        "setup",
        payagg_core::Scene::MerchantQr,
    )
    .unwrap();
    payagg_core::Gateway::pay(&client, &req).await.unwrap();

    // Alipay: a query signed with the app key read from app_private_key.txt; the answer
    // verified with alipayPublicKey_RSA2.txt.
    let app_id = ga.app_id();
    let now = time::OffsetDateTime::now_utc().to_offset(payagg_core::clock::CHINA_OFFSET);
    let timestamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let biz = r#"{"out_trade_no":"SETUP-A1"}"#;
    let mut params: Vec<(&str, &str)> = vec![
        ("app_id", app_id),
        ("method", "alipay.trade.query"),
        ("format", "JSON"),
        ("charset", "utf-8"),
        ("sign_type", "RSA2"),
        ("timestamp", &timestamp),
        ("version", "1.0"),
        ("biz_content", biz),
    ];
    let sig = payagg_alipay::sign::sign_params(
        &app_key,
        payagg_alipay::sign::SignType::Rsa2,
        params.iter().copied(),
    );
    params.push(("sign", &sig));
    let http = reqwest::Client::new();
    let body = http
        .post(format!("{base}/gateway.do"))
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .body(
            params
                .iter()
                .map(|(k, v)| format!("{k}={}", payagg_unionpay::qstring::form_encode_value(v)))
                .collect::<Vec<_>>()
                .join("&"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ex = payagg_alipay::sign::extract_response(body.as_bytes(), "alipay.trade.query").unwrap();
    let node: serde_json::Value = serde_json::from_slice(ex.content).unwrap();
    assert_eq!(node["sub_code"], "ACQ.TRADE_NOT_EXIST", "{body}");
    let sig = ex.sign.as_ref().expect("a signed answer");
    payagg_alipay::sign::verify(
        &alipay_pub,
        payagg_alipay::sign::SignType::Rsa2,
        ex.content,
        sig,
    )
    .unwrap();

    // UnionPay: a query signed with the PFX's key and certId; the answer's signPubKeyCert
    // chains to the written middle and root and verifies.
    let mut fields = payagg_unionpay::qstring::Fields::new();
    let txn_time = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    for (k, v) in [
        ("version", "5.1.0"),
        ("encoding", "UTF-8"),
        ("accessType", "0"),
        ("merId", gu.mer_id()),
        ("txnType", "00"),
        ("txnSubType", "00"),
        ("bizType", "000000"),
        ("orderId", "SETUPU1"),
        ("txnTime", &txn_time),
    ] {
        fields.insert(k.into(), v.into());
    }
    let signer = payagg_unionpay::sign::Signer::rsa(pfx_key, pfx_cert.serial_decimal());
    let signed = payagg_unionpay::sign::sign(fields, &signer).unwrap();
    let body = http
        .post(format!("{base}/gateway/api/queryTrans.do"))
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(payagg_unionpay::qstring::form_encode(&signed))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answer = payagg_unionpay::qstring::parse(&body).unwrap();
    assert_eq!(answer["respCode"], "34", "{body}");
    let leaf = Certificate::from_pem(&answer["signPubKeyCert"]).unwrap();
    leaf.verify_issued_by(&middle).unwrap();
    payagg_unionpay::sign::verify_rsa_sha256(&answer, &leaf.public_key().unwrap()).unwrap();

    std::fs::remove_dir_all(&dir).unwrap();
}
