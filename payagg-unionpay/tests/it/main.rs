//! Integration tests: `UnionPayClient` against wiremock over real HTTP (reqwest transport).
//!
//! A fake UnionPay gateway signs its answers as the real one does (`signMethod=01`, 5.1.0):
//! a simulator root → middle → signer chain generated with rcgen (the signer's CN follows
//! the production rule), `signPubKeyCert` as PEM with CR LF and no trailing newline, the
//! signature made with `payagg_unionpay::sign`. Every request's signature is checked against
//! the merchant key; a catch-all answers unexpected requests with 599 so they fail loudly.
//!
//! Forged signers (same key material pipeline, one defect each): issued by a different
//! middle with the configured middle's name, a CN naming another owner, the old test owner
//! under the production rule, a CN with too few `@` parts, expired and not yet valid at the
//! injected clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub
)]

mod app;
mod callback;
mod cancel;
mod chain;
mod file;
mod pay_front;
mod pfx;
mod query;
mod refund;

use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use payagg_core::Error;
use payagg_core::clock::ManualClock;
use payagg_core::crypto::{RsaPrivateKey, RsaPublicKey};
use payagg_core::error::VerificationKind;
use payagg_core::transport::{RetryPolicy, Timeouts};
use payagg_unionpay::qstring::{self, Fields};
use payagg_unionpay::sign;
use payagg_unionpay::{Config, ConfigBuilder, Environment, UnionPayClient};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use time::OffsetDateTime;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const MER_ID: &str = "777290058110048";
/// 2024-01-05T16:00:00+08:00.
pub const NOW: i64 = 1_704_441_600;
pub const TXN_TIME: &str = "20240105160000";
pub const MERCHANT_CERT_ID: u64 = 69_903_319_369;
pub const SIGNER_SERIAL: u64 = 69_678_957_876;
/// The production CN rule: third `@` part is the company.
pub const SIGNER_CN: &str = "041@8310000000083040@中国银联股份有限公司@00016495";
pub const QUERY_ID: &str = "012401051600001234567";
pub const REFUND_QUERY_ID: &str = "052401051658427863998";

pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

fn rsa_key() -> KeyPair {
    KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap()
}

fn name(cn: &str, o: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "CN");
    dn.push(DnType::OrganizationName, o);
    dn.push(DnType::CommonName, cn);
    dn
}

fn params(dn: DistinguishedName, serial: u64, ca: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = rcgen::date_time_ymd(2020, 7, 31);
    p.not_after = rcgen::date_time_ymd(2031, 5, 11);
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
    }
    p
}

/// A certificate authority of the simulator.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub pem: String,
}

impl Ca {
    fn root(cn: &str) -> Self {
        let key = rsa_key();
        let params = params(name(cn, "China Financial Certification Authority"), 1, true);
        let pem = params.self_signed(&key).unwrap().pem();
        Self { params, key, pem }
    }

    fn issue_ca(&self, cn: &str, serial: u64) -> Self {
        let key = rsa_key();
        let params = params(
            name(cn, "China Financial Certification Authority"),
            serial,
            true,
        );
        let pem = self.issue(&params, &key);
        Self { params, key, pem }
    }

    fn issue(&self, params: &CertificateParams, key: &KeyPair) -> String {
        let issuer = Issuer::from_params(&self.params, &self.key);
        params.signed_by(key, &issuer).unwrap().pem()
    }

    /// A signer certificate (CN `cn`), valid `from ..= to`.
    pub fn signer(&self, cn: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> Sim {
        let key = rsa_key();
        let mut p = params(name(cn, "China UnionPay"), SIGNER_SERIAL, false);
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let pem = self.issue(&p, &key);
        Sim {
            key: RsaPrivateKey::from_pkcs8_der(&key.serialize_der()).unwrap(),
            pem: crlf_pem(&pem),
        }
    }
}

/// PEM as UnionPay sends it: CR LF line ends, no newline after the END line.
pub fn crlf_pem(pem: &str) -> String {
    pem.trim_end().lines().collect::<Vec<_>>().join("\r\n")
}

/// A simulated UnionPay signer: key and `signPubKeyCert`.
pub struct Sim {
    pub key: RsaPrivateKey,
    pub pem: String,
}

impl Sim {
    /// Adds `signMethod`, `signPubKeyCert` and `signature` as UnionPay does.
    pub fn sign(&self, mut f: Fields) -> Fields {
        f.entry("signMethod".into()).or_insert_with(|| "01".into());
        f.insert("signPubKeyCert".into(), self.pem.clone());
        f.remove("signature");
        let sig = sign::rsa_sha256_signature(&self.key, &sign::string_to_sign(&f));
        f.insert("signature".into(), sig);
        f
    }
}

/// The simulator's PKI: the configured chain and forged signers.
pub struct Pki {
    pub root: Ca,
    pub middle: Ca,
    pub good: Sim,
    /// Signed by a middle with the configured middle's name but another key.
    pub other_middle: Sim,
    /// Signed by an unrelated CA (other name).
    pub unrelated: Sim,
    /// CN owner is not UnionPay.
    pub wrong_cn: Sim,
    /// The 2017–2020 test owner `00040000:SIGN` (accepted only in test mode).
    pub test_owner: Sim,
    /// CN with fewer than three `@` parts.
    pub short_cn: Sim,
    /// Expired the day before the injected clock.
    pub expired: Sim,
    /// Valid from the day after the injected clock.
    pub not_yet_valid: Sim,
    /// A CA-less "middle" (no basicConstraints CA:TRUE) issued by the root.
    pub non_ca_middle_pem: String,
}

pub fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let root = Ca::root("CFCA SIM CS CA");
        let middle = root.issue_ca("CFCA SIM OCA1", 2);
        let valid = ((2023, 1, 1), (2026, 1, 1));
        let good = middle.signer(SIGNER_CN, valid.0, valid.1);
        let rogue_root = Ca::root("CFCA SIM CS CA");
        let rogue_middle = rogue_root.issue_ca("CFCA SIM OCA1", 2);
        let other_middle = rogue_middle.signer(SIGNER_CN, valid.0, valid.1);
        let unrelated_ca = Ca::root("Some Other CA");
        let unrelated = unrelated_ca.signer(SIGNER_CN, valid.0, valid.1);
        let wrong_cn = middle.signer(
            "041@8310000000083040@某某支付有限公司@00016495",
            valid.0,
            valid.1,
        );
        let test_owner = middle.signer("041@Z2017-11-1@00040000:SIGN@00000001", valid.0, valid.1);
        let short_cn = middle.signer("041@中国银联股份有限公司", valid.0, valid.1);
        let expired = middle.signer(SIGNER_CN, (2020, 7, 31), (2024, 1, 4));
        let not_yet_valid = middle.signer(SIGNER_CN, (2024, 1, 6), (2026, 1, 1));
        let mut p = params(name("CFCA SIM OCA2", "CFCA"), 3, false);
        p.is_ca = IsCa::NoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let non_ca_middle_pem = root.issue(&p, &rsa_key());
        Pki {
            root,
            middle,
            good,
            other_middle,
            unrelated,
            wrong_cn,
            test_owner,
            short_cn,
            expired,
            not_yet_valid,
            non_ca_middle_pem,
        }
    })
}

/// Forged signers that every verified answer and notification must refuse (test mode).
pub fn forged() -> Vec<(&'static str, &'static Sim)> {
    let p = pki();
    vec![
        ("other middle", &p.other_middle),
        ("unrelated CA", &p.unrelated),
        ("wrong CN", &p.wrong_cn),
        ("short CN", &p.short_cn),
        ("expired", &p.expired),
        ("not yet valid", &p.not_yet_valid),
    ]
}

pub fn assert_forged(case: &str, e: &Error) {
    match e {
        Error::Verification(v) => {
            assert_eq!(v.kind(), &VerificationKind::Certificate, "{case}: {e}");
        }
        other => panic!("{case}: expected a certificate verification error, got {other:?}"),
    }
    assert!(!e.is_retryable(), "{case}");
}

pub fn assert_bad_signature(e: &Error) {
    assert!(
        matches!(e, Error::Verification(v) if v.kind() == &VerificationKind::BadSignature),
        "{e:?}"
    );
}

struct Merchant {
    key_pem: String,
    cert_pem: String,
    public: RsaPublicKey,
}

fn merchant() -> &'static Merchant {
    static M: OnceLock<Merchant> = OnceLock::new();
    M.get_or_init(|| {
        let key = rsa_key();
        let p = params(
            name("041@Z2021@777290058110048@00000001", "CFCA TEST OCA1"),
            MERCHANT_CERT_ID,
            false,
        );
        let cert_pem = p.self_signed(&key).unwrap().pem();
        let key_pem = key.serialize_pem();
        let public = RsaPrivateKey::from_pem(&key_pem)
            .unwrap()
            .public_key()
            .clone();
        Merchant {
            key_pem,
            cert_pem,
            public,
        }
    })
}

pub fn merchant_public() -> &'static RsaPublicKey {
    &merchant().public
}

pub fn base_config(server: &MockServer) -> ConfigBuilder {
    let p = pki();
    Config::builder()
        .mer_id(MER_ID)
        .environment(Environment::Test)
        .signing_pem(
            merchant().key_pem.clone().into(),
            merchant().cert_pem.clone(),
        )
        .middle_cert_pem(p.middle.pem.clone())
        .root_cert_pem(p.root.pem.clone())
        .base_url(server.uri())
        .file_base_url(server.uri())
        .front_url("https://shop.example/unionpay/return")
        .back_url("https://shop.example/unionpay/notify")
        .timeouts(Timeouts::new(
            StdDuration::from_secs(2),
            StdDuration::from_millis(700),
        ))
        .retry_policy({
            let mut r = RetryPolicy::attempts(2);
            r.initial_backoff = StdDuration::from_millis(1);
            r.max_backoff = StdDuration::from_millis(2);
            r
        })
}

pub fn client_with(config: Config) -> UnionPayClient {
    UnionPayClient::new(config)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now())))
}

pub fn client(server: &MockServer) -> UnionPayClient {
    client_with(base_config(server).build().unwrap())
}

pub async fn server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .mount(&s)
        .await;
    s
}

/// The form fields of a request body.
pub fn request_fields(req: &Request) -> Fields {
    qstring::form_decode(&req.body)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect()
}

/// Checks the request: form body, `signMethod=01`, the merchant's `certId` and signature,
/// and `field=value` for each pair given.
#[derive(Debug, Clone)]
pub struct SignedByMerchant(pub Vec<(&'static str, &'static str)>);

impl SignedByMerchant {
    pub fn with(pairs: &[(&'static str, &'static str)]) -> Self {
        Self(pairs.to_vec())
    }
}

impl wiremock::Match for SignedByMerchant {
    fn matches(&self, req: &Request) -> bool {
        let ct = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return false;
        }
        let f = request_fields(req);
        f.get("signMethod").map(String::as_str) == Some("01")
            && f.get("certId") == Some(&MERCHANT_CERT_ID.to_string())
            && f.get("merId").map(String::as_str) == Some(MER_ID)
            && f.get("version").map(String::as_str) == Some("5.1.0")
            && sign::verify_rsa_sha256(&f, merchant_public()).is_ok()
            && self
                .0
                .iter()
                .all(|(k, v)| f.get(*k).map(String::as_str) == Some(*v))
    }
}

const ECHO: [&str; 13] = [
    "version",
    "encoding",
    "bizType",
    "txnType",
    "txnSubType",
    "accessType",
    "merId",
    "orderId",
    "txnTime",
    "txnAmt",
    "currencyCode",
    "origQryId",
    "settleDate",
];

/// A signed answer of the fake gateway: the request's common fields echoed, `set` applied,
/// `remove` removed, signed by `sim`, then `tamper` applied after signing.
#[derive(Clone)]
pub struct Answer {
    pub set: Vec<(String, String)>,
    pub remove: Vec<String>,
    pub sim: &'static Sim,
    pub tamper: Vec<(String, String)>,
    pub status: u16,
    pub delay: Option<StdDuration>,
    pub unsigned: bool,
}

impl Answer {
    pub fn ok(pairs: &[(&str, &str)]) -> Self {
        Self {
            set: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            remove: Vec::new(),
            sim: &pki().good,
            tamper: Vec::new(),
            status: 200,
            delay: None,
            unsigned: false,
        }
    }
    pub fn code(code: &str, msg: &str) -> Self {
        Self::ok(&[("respCode", code), ("respMsg", msg)])
    }
    pub fn by(mut self, sim: &'static Sim) -> Self {
        self.sim = sim;
        self
    }
    pub fn remove(mut self, k: &str) -> Self {
        self.remove.push(k.to_owned());
        self
    }
    pub fn tampered(mut self, k: &str, v: &str) -> Self {
        self.tamper.push((k.to_owned(), v.to_owned()));
        self
    }
    pub fn status(mut self, s: u16) -> Self {
        self.status = s;
        self
    }
    pub fn delay(mut self, d: StdDuration) -> Self {
        self.delay = Some(d);
        self
    }
    pub fn unsigned(mut self) -> Self {
        self.unsigned = true;
        self
    }

    pub fn fields_for(&self, req: &Fields) -> Fields {
        let mut f: Fields = ECHO
            .iter()
            .filter_map(|k| req.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        for (k, v) in &self.set {
            f.insert(k.clone(), v.clone());
        }
        for k in &self.remove {
            f.remove(k);
        }
        let mut f = if self.unsigned { f } else { self.sim.sign(f) };
        for (k, v) in &self.tamper {
            f.insert(k.clone(), v.clone());
        }
        f
    }
}

impl Respond for Answer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = self.fields_for(&request_fields(req));
        let body = qstring::to_raw_string(&f);
        let mut t = ResponseTemplate::new(self.status)
            .set_body_raw(body.into_bytes(), "text/plain;charset=UTF-8");
        if let Some(d) = self.delay {
            t = t.set_delay(d);
        }
        t
    }
}

pub fn timeout() -> StdDuration {
    StdDuration::from_millis(1500)
}

/// Requests the server received on `path`.
pub async fn received(server: &MockServer, path: &str) -> Vec<Fields> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == path)
        .map(request_fields)
        .collect()
}
