//! Verification of synchronous answers and `backUrl` notifications (ACP 5.1.0).
//!
//! For `signMethod=01`, in order (official Java SDK `CertUtil.verifyCertificate`):
//! 1. route strictly: the message's `signMethod` and `version` must be the configured ones
//!    (a forged `signMethod=11` or `version=5.0.0` must not switch the verifier);
//! 2. parse `signPubKeyCert` exactly as received (it is part of the signed string);
//! 3. validity of leaf, middle and root at the **injected** time;
//! 4. chain: leaf issued by the configured middle, middle by the configured root (names match,
//!    `sha1WithRSA` or `sha256WithRSA` signatures; generic WebPKI validators refuse SHA-1);
//! 5. owner: the third `@`-part of the leaf's CN is `中国银联股份有限公司` (test mode also accepts
//!    the old test signers' `00040000:SIGN`);
//! 6. the signature over every field but `signature`, empty values included.
//!
//! `signMethod=11`/`12` recompute the secure-key signature and compare in constant time.

use std::sync::{Arc, Mutex};

use payagg_core::Channel;
use payagg_core::crypto::{Certificate, OID_SHA1_WITH_RSA, OID_SHA256_WITH_RSA};
use payagg_core::error::{ConfigError, Error, VerificationError, VerificationKind};
use secrecy::SecretString;
use time::OffsetDateTime;

use crate::qstring::{self, Fields};
use crate::sign::{self, SignMethod};
use crate::wire::{codes, fields as f};

/// The owner UnionPay's production signing certificates carry in their CN.
pub const UNIONPAY_OWNER: &str = "中国银联股份有限公司";
/// The owner of the 2017–2020 test signers, accepted in test mode only.
pub const TEST_OWNER: &str = "00040000:SIGN";

const C: Channel = Channel::Unionpay;

/// Which owners the signer certificate's CN may name (`ifValidateCNName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CnRule {
    /// Only [`UNIONPAY_OWNER`] (production, and the official default).
    Strict,
    /// [`UNIONPAY_OWNER`] or [`TEST_OWNER`] (the test kit's `ifValidateCNName=false`).
    Test,
}

/// The third `@`-separated part of a CN such as `041@8310000000083040@中国银联股份有限公司@00016495`.
#[must_use]
pub fn cn_owner(cn: &str) -> Option<&str> {
    cn.split('@').nth(2)
}

/// The configured UnionPay middle (issuing) and root certificates.
#[derive(Debug, Clone)]
pub struct TrustChain {
    middle: Certificate,
    root: Certificate,
}

impl TrustChain {
    /// Pins `middle` and `root`, checking that the root is self-signed and signed the middle,
    /// and that the middle is a CA (basicConstraints `CA:TRUE`, keyUsage `keyCertSign`).
    ///
    /// # Errors
    /// [`ConfigError`] when the names or signatures do not chain or the middle is no CA.
    pub fn new(middle: Certificate, root: Certificate) -> Result<Self, ConfigError> {
        if root.issuer_rfc4514() != root.subject_rfc4514() || root.verify_issued_by(&root).is_err()
        {
            return Err(ConfigError::new(
                "UnionPay root certificate",
                format!("{} is not self-signed", root.subject_rfc4514()),
            ));
        }
        if middle.issuer_rfc4514() != root.subject_rfc4514()
            || middle.verify_issued_by(&root).is_err()
        {
            return Err(ConfigError::new(
                "UnionPay middle certificate",
                format!(
                    "{} (issuer {}) is not issued by the root {}",
                    middle.subject_rfc4514(),
                    middle.issuer_rfc4514(),
                    root.subject_rfc4514()
                ),
            ));
        }
        if !middle.is_ca() {
            // The official SDKs build the path with PKIX, which requires CA:TRUE and
            // keyCertSign of an intermediate; both are set on the CFCA test and prod middles.
            return Err(ConfigError::new(
                "UnionPay middle certificate",
                format!(
                    "{} is not a CA (basicConstraints CA:TRUE and keyUsage keyCertSign required)",
                    middle.subject_rfc4514()
                ),
            ));
        }
        Ok(Self { middle, root })
    }

    /// The middle certificate.
    #[must_use]
    pub fn middle(&self) -> &Certificate {
        &self.middle
    }

    /// The root certificate.
    #[must_use]
    pub fn root(&self) -> &Certificate {
        &self.root
    }

    /// Checks UnionPay's signing certificate: validity of all three at `now`, the chain
    /// and the CN owner.
    ///
    /// # Errors
    /// [`VerificationError`] of kind `Certificate` naming the serial, CN or issuer expected
    /// and presented.
    pub fn check_signer(
        &self,
        leaf: &Certificate,
        now: OffsetDateTime,
        rule: CnRule,
    ) -> Result<(), VerificationError> {
        self.check_validity(leaf, now)?;
        self.check_chain_and_owner(leaf, rule)
    }

    /// Validity of the signer, the middle and the root at `now` (re-checked on every message,
    /// also when the chain result is cached).
    fn check_validity(
        &self,
        leaf: &Certificate,
        now: OffsetDateTime,
    ) -> Result<(), VerificationError> {
        for (what, c) in [
            ("signer", leaf),
            ("middle", &self.middle),
            ("root", &self.root),
        ] {
            if !c.is_valid_at(now) {
                return Err(VerificationError::new(
                    C,
                    VerificationKind::Certificate,
                    format!(
                        "{what} certificate {} not valid at {now}",
                        c.serial_decimal()
                    ),
                )
                .expected(format!("{} ..= {}", c.not_before(), c.not_after()))
                .presented(now.to_string()));
            }
        }
        Ok(())
    }

    /// Signature algorithms, issuer name and signature, CN owner (time-independent).
    fn check_chain_and_owner(
        &self,
        leaf: &Certificate,
        rule: CnRule,
    ) -> Result<(), VerificationError> {
        let serial = leaf.serial_decimal();
        for c in [leaf, &self.middle] {
            let oid = c.signature_algorithm_oid();
            if oid != OID_SHA1_WITH_RSA && oid != OID_SHA256_WITH_RSA {
                return Err(VerificationError::new(
                    C,
                    VerificationKind::Certificate,
                    format!("certificate {} signed with {oid}", c.serial_decimal()),
                )
                .expected("sha1WithRSA or sha256WithRSA")
                .presented(oid.to_owned()));
            }
        }
        if leaf.issuer_rfc4514() != self.middle.subject_rfc4514()
            || leaf.verify_issued_by(&self.middle).is_err()
        {
            return Err(VerificationError::new(
                C,
                VerificationKind::Certificate,
                format!("signer certificate {serial} is not issued by the configured middle"),
            )
            .expected(format!(
                "issuer {} (serial {})",
                self.middle.subject_rfc4514(),
                self.middle.serial_decimal()
            ))
            .presented(format!("issuer {}", leaf.issuer_rfc4514())));
        }
        let cn = leaf.subject_common_name().unwrap_or("");
        let owner = cn_owner(cn);
        let ok = match (owner, rule) {
            (Some(o), _) if o == UNIONPAY_OWNER => true,
            (Some(o), CnRule::Test) => o == TEST_OWNER,
            _ => false,
        };
        if !ok {
            return Err(VerificationError::new(
                C,
                VerificationKind::Certificate,
                format!("signer certificate {serial} is not UnionPay's"),
            )
            .expected(match rule {
                CnRule::Strict => format!("CN owner {UNIONPAY_OWNER}"),
                CnRule::Test => format!("CN owner {UNIONPAY_OWNER} or {TEST_OWNER}"),
            })
            .presented(format!("CN {cn}")));
        }
        Ok(())
    }
}

/// How answers and notifications must be signed.
#[derive(Debug, Clone)]
pub struct Verifier {
    method: SignMethod,
    version: String,
    chain: Option<TrustChain>,
    rule: CnRule,
    secure_key: Option<SecretString>,
    /// The last `signPubKeyCert` (exact text) whose chain and CN checked out. Validity is
    /// still checked against the clock on every message.
    accepted: Arc<Mutex<Option<(String, Certificate)>>>,
}

impl Verifier {
    /// `signMethod=01`, version 5.1.0, signer chained to `chain` under `rule`.
    #[must_use]
    pub fn rsa(chain: TrustChain, rule: CnRule) -> Self {
        Self {
            method: SignMethod::Rsa,
            version: codes::VERSION_5_1_0.to_owned(),
            chain: Some(chain),
            rule,
            secure_key: None,
            accepted: Arc::default(),
        }
    }

    /// `signMethod=11`/`12`, version 5.1.0, with the secure key.
    #[must_use]
    pub fn secure_key(method: SignMethod, key: SecretString) -> Self {
        Self {
            method,
            version: codes::VERSION_5_1_0.to_owned(),
            chain: None,
            rule: CnRule::Strict,
            secure_key: Some(key),
            accepted: Arc::default(),
        }
    }

    /// The expected `signMethod`.
    #[must_use]
    pub fn method(&self) -> SignMethod {
        self.method
    }

    /// Verifies `fields` (a parsed answer or a decoded notification) at `now`. Returns the
    /// signer certificate for `signMethod=01`.
    ///
    /// # Errors
    /// [`VerificationError`]: `MissingSignature`, `UnknownKey` (wrong `signMethod`/`version`
    /// or no certificate), `Certificate` (chain, CN, validity), `BadSignature`.
    pub fn verify(
        &self,
        fields: &Fields,
        now: OffsetDateTime,
    ) -> Result<Option<Certificate>, VerificationError> {
        if !fields.contains_key(f::SIGNATURE) {
            return Err(VerificationError::new(
                C,
                VerificationKind::MissingSignature,
                "no signature field",
            ));
        }
        let method = fields.get(f::SIGN_METHOD).map_or("", String::as_str);
        if method != self.method.code() {
            return Err(VerificationError::new(
                C,
                VerificationKind::UnknownKey,
                "signMethod differs from the configured one",
            )
            .expected(self.method.code())
            .presented(method.to_owned()));
        }
        let version = fields.get(f::VERSION).map_or("", String::as_str);
        if version != self.version {
            return Err(VerificationError::new(
                C,
                VerificationKind::UnknownKey,
                "version differs from the configured one",
            )
            .expected(self.version.clone())
            .presented(version.to_owned()));
        }
        match (&self.chain, &self.secure_key) {
            (Some(chain), _) if self.method == SignMethod::Rsa => {
                let pem = fields.get(f::SIGN_PUB_KEY_CERT).ok_or_else(|| {
                    VerificationError::new(C, VerificationKind::UnknownKey, "no signPubKeyCert")
                })?;
                let cached = self
                    .accepted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .as_ref()
                    .filter(|(text, _)| text == pem)
                    .map(|(_, cert)| cert.clone());
                let leaf = match cached {
                    Some(leaf) => {
                        chain.check_validity(&leaf, now)?;
                        leaf
                    }
                    None => {
                        let leaf = Certificate::from_pem(pem).map_err(|e| {
                            VerificationError::new(
                                C,
                                VerificationKind::Certificate,
                                format!("signPubKeyCert does not parse: {}", e.reason()),
                            )
                        })?;
                        chain.check_signer(&leaf, now, self.rule)?;
                        *self
                            .accepted
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) =
                            Some((pem.clone(), leaf.clone()));
                        leaf
                    }
                };
                let key = leaf.public_key().map_err(|e| {
                    VerificationError::new(C, VerificationKind::Certificate, e.reason().to_owned())
                })?;
                sign::verify_rsa_sha256(fields, &key).map_err(|_| {
                    VerificationError::new(
                        C,
                        VerificationKind::BadSignature,
                        "signature does not verify",
                    )
                    .expected(format!(
                        "a signature by certificate {}",
                        leaf.serial_decimal()
                    ))
                    .presented(fields.get(f::SIGNATURE).cloned().unwrap_or_default())
                })?;
                Ok(Some(leaf))
            }
            (_, Some(key)) => {
                sign::verify_secure_key(fields, self.method, key).map_err(|_| {
                    VerificationError::new(
                        C,
                        VerificationKind::BadSignature,
                        format!("signMethod={} signature does not match", self.method),
                    )
                })?;
                Ok(None)
            }
            _ => Err(VerificationError::new(
                C,
                VerificationKind::UnknownKey,
                "no verification material configured",
            )),
        }
    }
}

fn reject_duplicates(pairs: Vec<(String, String)>, what: &str) -> Result<Fields, Error> {
    let n = pairs.len();
    let mut out = Fields::new();
    for (k, v) in pairs {
        if out.contains_key(&k) {
            return Err(Error::decode(format!("{what}: field {k} appears twice")));
        }
        out.insert(k, v);
    }
    debug_assert_eq!(out.len(), n);
    Ok(out)
}

/// Parses a synchronous answer body (UTF-8, raw `k=v&…`, never URL-decoded). Duplicate names
/// are refused (UnionPay never sends them).
///
/// # Errors
/// [`Error::Decode`] for a non-UTF-8 body, a malformed text or a duplicate field.
pub fn response_fields(body: &[u8]) -> Result<Fields, Error> {
    let text = std::str::from_utf8(body).map_err(|e| {
        payagg_core::error::DecodeError::new("UnionPay answer: not UTF-8").with_source(e)
    })?;
    let pairs = qstring::parse_pairs(text)
        .map_err(|e| payagg_core::error::DecodeError::new("UnionPay answer").with_source(e))?;
    reject_duplicates(pairs, "UnionPay answer")
}

/// Decodes a `backUrl` notification body (`application/x-www-form-urlencoded`, decoded once,
/// UTF-8). Pairs without a value are dropped as the official receivers do; duplicate names
/// are refused.
///
/// # Errors
/// [`Error::Decode`] for a malformed body, non-UTF-8 text or a duplicate field.
pub fn notification_fields(body: &[u8]) -> Result<Fields, Error> {
    let pairs = qstring::form_decode(body).map_err(|e| {
        payagg_core::error::DecodeError::new("UnionPay notification").with_source(e)
    })?;
    let mut out = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        let k = String::from_utf8(k).map_err(|e| {
            payagg_core::error::DecodeError::new("notification name").with_source(e)
        })?;
        let v = String::from_utf8(v).map_err(|e| {
            payagg_core::error::DecodeError::new(format!("notification field {k}: not UTF-8"))
                .with_source(e)
        })?;
        out.push((k, v));
    }
    reject_duplicates(out, "UnionPay notification")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_vectors as tv;
    use base64::Engine as _;

    fn cert(dir: &std::path::Path, name: &str) -> Certificate {
        let b = std::fs::read(dir.join(name)).unwrap();
        Certificate::from_pem(&String::from_utf8_lossy(&b))
            .or_else(|_| Certificate::from_der(&b))
            .unwrap()
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    fn test_chain(dir: &std::path::Path) -> TrustChain {
        TrustChain::new(
            cert(dir, "phpdemo_acp_test_middle.cer"),
            cert(dir, "phpdemo_acp_test_root.cer"),
        )
        .unwrap()
    }

    #[test]
    fn cert_chain_vector() {
        let Some((dir, cases)) = tv::cases("cert_chain_vector", "cert_chain") else {
            return;
        };
        for c in &cases {
            let leaf = cert(&dir, tv::s(c, "inputs.leaf_file"));
            let chain = TrustChain::new(
                cert(&dir, tv::s(c, "inputs.intermediate_file")),
                cert(&dir, tv::s(c, "inputs.root_file")),
            )
            .unwrap();
            let t = at(c["inputs"]["verify_at_unix"].as_i64().unwrap());
            assert_eq!(leaf.serial_decimal(), tv::s(c, "expected.serial_decimal"));
            assert_eq!(leaf.subject_common_name(), Some(tv::s(c, "expected.cn")));
            assert_eq!(
                cn_owner(tv::s(c, "expected.cn")),
                Some(tv::s(c, "expected.cn_company_part"))
            );
            assert_eq!(leaf.signature_algorithm_oid(), OID_SHA1_WITH_RSA);
            chain.check_signer(&leaf, t, CnRule::Strict).unwrap();
            // Expired now (2025-07-31).
            let e = chain
                .check_signer(&leaf, OffsetDateTime::now_utc(), CnRule::Strict)
                .unwrap_err();
            assert_eq!(e.kind(), &VerificationKind::Certificate);
            assert!(e.detail().contains("69678957876"), "{e}");
            // Not under the production chain.
            let prod = TrustChain::new(
                cert(&dir, "phpdemo_acp_prod_middle.cer"),
                cert(&dir, "phpdemo_acp_prod_root.cer"),
            )
            .unwrap();
            let e = prod.check_signer(&leaf, t, CnRule::Strict).unwrap_err();
            assert!(e.to_string().contains("O=CFCA OCA1"), "{e}");
            // Test middle under prod root: refused at config time.
            assert!(
                TrustChain::new(
                    cert(&dir, "phpdemo_acp_test_middle.cer"),
                    cert(&dir, "phpdemo_acp_prod_root.cer")
                )
                .is_err()
            );
        }
    }

    #[test]
    fn response_verify_vector() {
        let Some((dir, cases)) = tv::cases("response_verify_vector", "response_verify") else {
            return;
        };
        for c in &cases {
            let body = base64::engine::general_purpose::STANDARD
                .decode(tv::s(c, "inputs.body_b64"))
                .unwrap();
            let fields = response_fields(&body).unwrap();
            assert_eq!(
                sign::string_to_sign(&fields),
                tv::s(c, "expected.string_to_sign")
            );
            let v = Verifier::rsa(test_chain(&dir), CnRule::Strict);
            let t = at(c["inputs"]["verify_at_unix"].as_i64().unwrap());
            let leaf = v.verify(&fields, t).unwrap().unwrap();
            assert_eq!(
                leaf.serial_decimal(),
                tv::s(c, "expected.signer_cert_serial")
            );
            // LF-only PEM fails.
            let mut lf = fields.clone();
            let pem = lf[f::SIGN_PUB_KEY_CERT].replace("\r\n", "\n");
            lf.insert(f::SIGN_PUB_KEY_CERT.into(), pem);
            assert_eq!(
                v.verify(&lf, t).unwrap_err().kind(),
                &VerificationKind::BadSignature
            );
            // URL-decoding the body would change + into space: fails.
            let mut dec = fields.clone();
            let acc = dec["accNo"].replace('+', " ");
            dec.insert("accNo".into(), acc);
            assert!(v.verify(&dec, t).is_err());
            // Real clock: expired signer.
            assert_eq!(
                v.verify(&fields, OffsetDateTime::now_utc())
                    .unwrap_err()
                    .kind(),
                &VerificationKind::Certificate
            );
            // Downgrades are refused before any key is used.
            for (k, val) in [("signMethod", "11"), ("version", "5.0.0")] {
                let mut d = fields.clone();
                d.insert(k.into(), val.into());
                let e = v.verify(&d, t).unwrap_err();
                assert_eq!(e.kind(), &VerificationKind::UnknownKey, "{k}");
                assert_eq!(e.presented_value(), Some(val));
            }
            // Tampered, added and removed fields.
            let mut t1 = fields.clone();
            t1.insert("txnAmt".into(), "100".into());
            assert!(v.verify(&t1, t).is_err());
            let mut t2 = fields.clone();
            t2.insert("extra".into(), "1".into());
            assert!(v.verify(&t2, t).is_err());
            let mut t3 = fields.clone();
            t3.remove("traceNo");
            assert!(v.verify(&t3, t).is_err());
        }
    }

    #[test]
    fn notify_verify_vector() {
        let Some((dir, cases)) = tv::cases("notify_verify_vector", "notify_verify") else {
            return;
        };
        for c in &cases {
            let fields =
                notification_fields(tv::s(c, "inputs.form_body_example").as_bytes()).unwrap();
            let want: Fields = c["inputs"]["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            assert_eq!(fields, want);
            assert_eq!(
                sign::string_to_sign(&fields),
                tv::s(c, "expected.string_to_sign")
            );
            let v = Verifier::rsa(test_chain(&dir), CnRule::Strict);
            let t = at(c["inputs"]["verify_at_unix"].as_i64().unwrap());
            assert!(v.verify(&fields, t).is_ok());
            assert!(v.verify(&fields, OffsetDateTime::now_utc()).is_err());
        }
    }

    #[test]
    fn duplicates_and_wrapped_bodies() {
        assert!(response_fields(b"a=1&a=2").is_err());
        assert!(notification_fields(b"a=1&a=2").is_err());
        assert_eq!(response_fields(b"{a=1&b=2}").unwrap().len(), 2);
        assert_eq!(notification_fields(b"a=&b=2").unwrap().len(), 1);
        assert!(response_fields(&[0xff, b'=', b'1']).is_err());
    }

    #[test]
    fn secure_key_routing() {
        let key: SecretString = "88888888".to_owned().into();
        let signer = sign::Signer::secure_key(SignMethod::SecureKeySha256, key.clone());
        let mut f = Fields::new();
        f.insert("version".into(), "5.1.0".into());
        f.insert("respCode".into(), "00".into());
        let signed = sign::sign(f, &signer).unwrap();
        let v = Verifier::secure_key(SignMethod::SecureKeySha256, key.clone());
        assert!(v.verify(&signed, OffsetDateTime::now_utc()).is_ok());
        let v12 = Verifier::secure_key(SignMethod::SecureKeySm3, key);
        assert!(v12.verify(&signed, OffsetDateTime::now_utc()).is_err());
        let mut nosig = signed.clone();
        nosig.remove("signature");
        assert_eq!(
            v.verify(&nosig, OffsetDateTime::now_utc())
                .unwrap_err()
                .kind(),
            &VerificationKind::MissingSignature
        );
    }
}
