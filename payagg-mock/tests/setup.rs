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
