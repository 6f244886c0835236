//! Keys, certificates, a signing wiremock responder and client setup.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use payagg_alipay::sign::{self, SignType};
use payagg_alipay::{AlipayClient, Config, ConfigBuilder, PollSchedule, Sleeper};
use payagg_core::clock::ManualClock;
use payagg_core::crypto::RsaPrivateKey;
use payagg_core::transport::Timeouts;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    PKCS_RSA_SHA256, SerialNumber,
};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use time::macros::datetime;
use wiremock::{Request, Respond, ResponseTemplate};

pub const APP_ID: &str = "2021000122671080";

#[derive(Clone)]
pub struct Key {
    pub pem: String,
    pub public_pem: String,
    pub key: RsaPrivateKey,
}

fn gen_key() -> Key {
    let k = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public_pem = k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let key = RsaPrivateKey::from_pem(&pem).unwrap();
    Key {
        pem,
        public_pem,
        key,
    }
}

/// (app key, alipay key, second alipay key for rotation)
pub fn keys() -> &'static (Key, Key, Key) {
    static K: OnceLock<(Key, Key, Key)> = OnceLock::new();
    K.get_or_init(|| (gen_key(), gen_key(), gen_key()))
}

pub struct Certs {
    pub root_pem: String,
    pub app_pem: String,
    pub alipay_pem: String,
    /// A second Alipay certificate (rotation), signed by the same root.
    pub rotated_pem: String,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "CN");
    d.push(DnType::OrganizationName, "Ant Financial test");
    d.push(DnType::CommonName, cn);
    d
}

pub fn certs() -> &'static Certs {
    static C: OnceLock<Certs> = OnceLock::new();
    C.get_or_init(|| {
        let (app, alipay, rotated) = keys();
        let root_key = gen_key();
        let root_kp =
            KeyPair::from_pkcs8_pem_and_sign_algo(&root_key.pem, &PKCS_RSA_SHA256).unwrap();
        let mut rp = CertificateParams::new(Vec::<String>::new()).unwrap();
        rp.distinguished_name = dn("Test Root R1");
        rp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        rp.serial_number = Some(SerialNumber::from(vec![1, 2, 3]));
        rp.not_before = datetime!(2020-01-01 00:00 UTC);
        rp.not_after = datetime!(2099-01-01 00:00 UTC);
        let root_cert = rp.self_signed(&root_kp).unwrap();
        let issuer = Issuer::new(rp, root_kp);
        let leaf = |k: &Key, cn: &str, serial: u8| {
            let kp = KeyPair::from_pkcs8_pem_and_sign_algo(&k.pem, &PKCS_RSA_SHA256).unwrap();
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.distinguished_name = dn(cn);
            p.serial_number = Some(SerialNumber::from(vec![0x42, serial, 0x99]));
            p.not_before = datetime!(2020-01-01 00:00 UTC);
            p.not_after = datetime!(2099-01-01 00:00 UTC);
            p.signed_by(&kp, &issuer).unwrap().pem()
        };
        Certs {
            root_pem: root_cert.pem(),
            app_pem: leaf(app, APP_ID, 1),
            alipay_pem: leaf(alipay, "Alipay", 2),
            rotated_pem: leaf(rotated, "Alipay rotated", 3),
        }
    })
}

pub fn base(uri: &str) -> ConfigBuilder {
    Config::builder()
        .app_id(APP_ID)
        .app_private_key(keys().0.pem.clone())
        .gateway_url(format!("{uri}/gateway.do"))
        .notify_url("https://shop.example/notify")
        .seller_id("2088000000000001")
        .timeouts(Timeouts::new(
            Duration::from_secs(2),
            Duration::from_millis(800),
        ))
        .poll_schedule(PollSchedule {
            interval: Duration::from_secs(3),
            timeout: Duration::from_secs(9),
            cancel_attempts: 3,
            cancel_interval: Duration::from_secs(2),
        })
}

#[derive(Debug, Default)]
pub struct RecordingSleeper(pub Mutex<Vec<Duration>>);

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, d: Duration) {
        self.0.lock().unwrap().push(d);
    }
}

pub fn client(cfg: Config) -> (AlipayClient, Arc<RecordingSleeper>) {
    let sleeper = Arc::new(RecordingSleeper::default());
    let c = AlipayClient::new(cfg)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(
            datetime!(2024-05-20 10:00 +08:00),
        )))
        .with_sleeper(sleeper.clone());
    (c, sleeper)
}

/// A signed classic answer for `method` with node `node` (serialized with `\/`).
pub fn signed_body(
    method: &str,
    node: &serde_json::Value,
    key: &RsaPrivateKey,
    sn: Option<&str>,
) -> String {
    let json = sign::escape_slashes(&node.to_string());
    let sig = sign::sign(key, SignType::Rsa2, json.as_bytes());
    sign::response_body(method, &json, sn, Some(&sig))
}

pub fn ok(method: &str, node: serde_json::Value) -> ResponseTemplate {
    let mut node = node;
    node["code"] = "10000".into();
    node["msg"] = "Success".into();
    ResponseTemplate::new(200).set_body_string(signed_body(method, &node, &keys().1.key, None))
}

/// Answers in turn (the last one repeats).
pub struct Seq(pub Vec<ResponseTemplate>, pub AtomicUsize);

impl Seq {
    pub fn new(v: Vec<ResponseTemplate>) -> Self {
        Self(v, AtomicUsize::new(0))
    }
}

impl Respond for Seq {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.1.fetch_add(1, Ordering::SeqCst);
        self.0[i.min(self.0.len() - 1)].clone()
    }
}

/// The form body of a request as pairs.
pub fn form(req: &Request) -> Vec<(String, String)> {
    url_pairs(&String::from_utf8(req.body.clone()).unwrap())
}

pub fn url_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
