//! X.509 certificates: the WeChat platform and merchant certificates, Alipay's public-key
//! certificates and root bundles, UnionPay's signing certificate and CFCA chain.
//!
//! Everything a channel needs is read once at construction (serials, names, validity, the RSA
//! public key, the signed bytes), so a `Certificate` owns its data and clones cheaply.

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::oid_registry::{OID_PKCS1_RSAENCRYPTION, Oid};
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use super::SignatureInvalid;
use super::digest::{hex_upper, sha256};
use super::pem;
use super::rsa_key::RsaPublicKey;
use crate::error::ConfigError;

const CERT: &str = "X.509 certificate";

/// `sha1WithRSAEncryption`.
pub const OID_SHA1_WITH_RSA: &str = "1.2.840.113549.1.1.5";
/// `sha256WithRSAEncryption`.
pub const OID_SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
/// `sha384WithRSAEncryption`.
pub const OID_SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
/// `sha512WithRSAEncryption`.
pub const OID_SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";

/// A parsed X.509 certificate. `Debug` shows the serial and subject only; equality compares
/// the DER bytes.
///
/// Parsing accepts any key and signature algorithm (Alipay root bundles hold SM2 and ECDSA
/// certificates next to RSA ones); only [`Certificate::public_key`] and
/// [`Certificate::verify_issued_by`] need RSA.
///
/// ```no_run
/// use payagg_core::crypto::Certificate;
/// use time::macros::datetime;
///
/// let leaf = Certificate::from_pem(&std::fs::read_to_string("acp_test_verify_sign.cer")?)?;
/// let middle = Certificate::from_pem(&std::fs::read_to_string("acp_test_middle.cer")?)?;
/// let cert_id = leaf.serial_decimal(); // UnionPay certId
/// leaf.verify_issued_by(&middle)?;
/// assert!(leaf.is_valid_at(datetime!(2024-01-05 00:00 UTC)));
/// let key = leaf.public_key()?;
/// # let _ = (cert_id, key);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<CertInner>,
}

struct CertInner {
    der: Vec<u8>,
    /// Serial magnitude, big-endian, without leading zero bytes.
    serial: Vec<u8>,
    subject: String,
    issuer: String,
    subject_cn: Option<String>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    signature_algorithm: String,
    /// The inner `TBSCertificate.signature` names the same algorithm as the outer one.
    signature_algorithm_consistent: bool,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    public_key: Result<RsaPublicKey, String>,
    /// basicConstraints `CA:TRUE` and, when keyUsage is present, `keyCertSign`.
    is_ca: bool,
}

impl Certificate {
    /// Parses the first `CERTIFICATE` block of a PEM text (LF or CRLF; later blocks, such as an
    /// intermediate appended by Alipay, are ignored: see [`Certificate::pem_bundle`]). Text
    /// without armour is read as bare base64 DER.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if there is no certificate block or it does not parse.
    pub fn from_pem(pem: &str) -> Result<Self, ConfigError> {
        if !pem::is_armoured(pem) {
            let der = pem::decode_bare(pem).map_err(|e| pem_error(&e))?;
            return Self::from_der(&der);
        }
        let blocks = pem::parse_blocks(pem).map_err(|e| pem_error(&e))?;
        match blocks.iter().find(|b| is_cert_label(&b.label)) {
            Some(block) => Self::from_der(&block.der),
            None => Err(ConfigError::new(CERT, "no CERTIFICATE block in PEM text")),
        }
    }

    /// Every `CERTIFICATE` block of a PEM text, in file order, whatever their key or signature
    /// algorithm (Alipay's `alipayRootCert.crt` holds four, two of them not RSA).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if there is no certificate block or any of them does not parse.
    pub fn pem_bundle(pem: &str) -> Result<Vec<Self>, ConfigError> {
        let blocks = pem::parse_blocks(pem).map_err(|e| pem_error(&e))?;
        let certs = blocks
            .iter()
            .filter(|b| is_cert_label(&b.label))
            .enumerate()
            .map(|(i, b)| {
                Self::from_der(&b.der).map_err(|e| {
                    ConfigError::new(
                        CERT,
                        format!("certificate #{} of the bundle: {}", i + 1, e.reason()),
                    )
                    .with_source(e)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() {
            return Err(ConfigError::new(CERT, "no CERTIFICATE block in PEM text"));
        }
        Ok(certs)
    }

    /// Parses DER.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the bytes are not one X.509 certificate (trailing bytes are rejected).
    pub fn from_der(der: &[u8]) -> Result<Self, ConfigError> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| ConfigError::new(CERT, "not a DER X.509 certificate").with_source(e))?;
        if !rest.is_empty() {
            return Err(ConfigError::new(
                CERT,
                format!("{} trailing bytes after the certificate", rest.len()),
            ));
        }
        let tbs = &cert.tbs_certificate;
        let serial = strip_leading_zeros(tbs.raw_serial()).to_vec();
        let spki = cert.public_key();
        let public_key = if spki.algorithm.algorithm == OID_PKCS1_RSAENCRYPTION {
            RsaPublicKey::from_spki_der(spki.raw).map_err(|e| e.reason().to_owned())
        } else {
            Err(format!(
                "the certificate key is not RSA (algorithm {})",
                spki.algorithm.algorithm.to_id_string()
            ))
        };
        // A duplicate or malformed extension counts as "not a CA" (fail closed).
        let basic_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        let may_sign_certs = match cert.key_usage() {
            Ok(Some(ku)) => ku.value.key_cert_sign(),
            Ok(None) => true,
            Err(_) => false,
        };
        let inner = CertInner {
            is_ca: basic_ca && may_sign_certs,
            der: der.to_vec(),
            serial,
            subject: rfc4514(cert.subject()),
            issuer: rfc4514(cert.issuer()),
            subject_cn: cert
                .subject()
                .iter()
                .flat_map(|rdn| rdn.iter())
                .find(|a| a.attr_type().to_id_string() == "2.5.4.3")
                .map(attribute_text),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            signature_algorithm: cert.signature_algorithm.algorithm.to_id_string(),
            signature_algorithm_consistent: tbs.signature.algorithm
                == cert.signature_algorithm.algorithm,
            tbs: tbs.as_ref().to_vec(),
            signature: cert.signature_value.data.to_vec(),
            public_key,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The serial as uppercase hex without leading zeros (`'%X' % serial`): WeChat's
    /// `Wechatpay-Serial` and `serial_no`.
    #[must_use]
    pub fn serial_hex_upper(&self) -> String {
        let hex = hex_upper(&self.inner.serial);
        match hex.strip_prefix('0') {
            Some(rest) if !rest.is_empty() => rest.to_owned(),
            _ if hex.is_empty() => "0".to_owned(),
            _ => hex,
        }
    }

    /// The serial in decimal: UnionPay's `certId`, the number in Alipay's `*_cert_sn`. Works for
    /// serials of any length (CFCA and Ant certificates use 72- to 160-bit serials).
    #[must_use]
    pub fn serial_decimal(&self) -> String {
        be_bytes_to_decimal(&self.inner.serial)
    }

    /// Big-endian serial bytes without leading zeros.
    #[must_use]
    pub fn serial_bytes(&self) -> &[u8] {
        &self.inner.serial
    }

    /// The issuer as an RFC 4514 string: RDNs from last to first, joined by `,`, with short
    /// names (`CN`, `L`, `ST`, `O`, `OU`, `C`, `STREET`, `DC`, `UID`) or dotted OIDs, and
    /// RFC 4514 escaping; for example `CN=CFCA TEST OCA1,O=China Financial Certification
    /// Authority,C=CN`. This is also the issuer string of Alipay's `*_cert_sn`.
    #[must_use]
    pub fn issuer_rfc4514(&self) -> &str {
        &self.inner.issuer
    }

    /// The subject as an RFC 4514 string (see [`Certificate::issuer_rfc4514`]).
    #[must_use]
    pub fn subject_rfc4514(&self) -> &str {
        &self.inner.subject
    }

    /// The first common name (`CN`) of the subject, if any.
    #[must_use]
    pub fn subject_common_name(&self) -> Option<&str> {
        self.inner.subject_cn.as_deref()
    }

    /// Start of the validity period (UTC).
    #[must_use]
    pub fn not_before(&self) -> OffsetDateTime {
        self.inner.not_before
    }

    /// End of the validity period (UTC).
    #[must_use]
    pub fn not_after(&self) -> OffsetDateTime {
        self.inner.not_after
    }

    /// Whether `at` lies within the validity period (both ends inclusive). Pass the injected
    /// clock's time, never the system time, so expiry checks are testable.
    #[must_use]
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.inner.not_before <= at && at <= self.inner.not_after
    }

    /// The certificate's RSA public key.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the key is not RSA (SM2, ECDSA) or is outside the accepted sizes.
    pub fn public_key(&self) -> Result<RsaPublicKey, ConfigError> {
        match &self.inner.public_key {
            Ok(key) => Ok(key.clone()),
            Err(reason) => Err(ConfigError::new(
                format!("public key of certificate {}", self.serial_hex_upper()),
                reason.clone(),
            )),
        }
    }

    /// Whether this certificate may issue certificates: basicConstraints says `CA:TRUE` and,
    /// when a keyUsage extension is present, it includes `keyCertSign` (RFC 5280 §4.2.1.9,
    /// §4.2.1.3). A missing basicConstraints, or a duplicate or malformed one, is `false`.
    /// Chain checks of intermediates use it (UnionPay's CFCA middle has both).
    #[must_use]
    pub fn is_ca(&self) -> bool {
        self.inner.is_ca
    }

    /// The dotted OID of the signature algorithm, e.g. `1.2.840.113549.1.1.11`.
    #[must_use]
    pub fn signature_algorithm_oid(&self) -> &str {
        &self.inner.signature_algorithm
    }

    /// The DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// SHA-256 of the DER encoding (the fingerprint used to pin CA certificates).
    #[must_use]
    pub fn fingerprint_sha256(&self) -> [u8; 32] {
        sha256(&self.inner.der)
    }

    /// Checks that `issuer`'s RSA key signed this certificate, with `sha1WithRSA`,
    /// `sha256WithRSA`, `sha384WithRSA` or `sha512WithRSA` (UnionPay's CFCA chain is SHA-1
    /// signed).
    ///
    /// Only the signature is checked. Building the chain (matching
    /// [`Certificate::issuer_rfc4514`] to the issuer's subject), validity at the injected time
    /// and pinning the trust anchor are the caller's job.
    ///
    /// # Errors
    ///
    /// [`SignatureInvalid`] if the signature does not verify, the algorithm is not one of the
    /// above, the outer and inner algorithm fields disagree, or `issuer` has no RSA key.
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), SignatureInvalid> {
        let key = issuer
            .inner
            .public_key
            .as_ref()
            .map_err(|_| SignatureInvalid)?;
        if !self.inner.signature_algorithm_consistent {
            return Err(SignatureInvalid);
        }
        let (tbs, sig) = (&self.inner.tbs[..], &self.inner.signature[..]);
        match self.inner.signature_algorithm.as_str() {
            OID_SHA1_WITH_RSA => key.verify_sha1(tbs, sig),
            OID_SHA256_WITH_RSA => key.verify_sha256(tbs, sig),
            OID_SHA384_WITH_RSA => key.verify_sha384(tbs, sig),
            OID_SHA512_WITH_RSA => key.verify_sha512(tbs, sig),
            _ => Err(SignatureInvalid),
        }
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.inner.der == other.inner.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("serial", &self.serial_hex_upper())
            .field("subject", &self.inner.subject)
            .finish()
    }
}

fn is_cert_label(label: &str) -> bool {
    matches!(label, "CERTIFICATE" | "X509 CERTIFICATE")
}

fn pem_error(e: &pem::PemError) -> ConfigError {
    ConfigError::new(CERT, e.to_string())
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Decimal digits of an unsigned big-endian integer of any length ("0" for no bytes).
pub(crate) fn be_bytes_to_decimal(bytes: &[u8]) -> String {
    const BASE: u64 = 1_000_000_000;
    // Little-endian limbs in base 10^9.
    let mut limbs: Vec<u64> = Vec::with_capacity(bytes.len() / 3 + 1);
    for &byte in bytes {
        let mut carry = u64::from(byte);
        for limb in &mut limbs {
            let v = *limb * 256 + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    let mut out = String::new();
    match limbs.split_last() {
        None => out.push('0'),
        Some((most, rest)) => {
            out.push_str(&most.to_string());
            for limb in rest.iter().rev() {
                out.push_str(&format!("{limb:09}"));
            }
        }
    }
    out
}

/// RFC 4514 rendering, matching Python `cryptography`'s `Name.rfc4514_string()`.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(attribute_rfc4514)
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn attribute_rfc4514(attr: &AttributeTypeAndValue<'_>) -> String {
    let name =
        short_name(attr.attr_type()).map_or_else(|| attr.attr_type().to_id_string(), str::to_owned);
    let value = match decode_string(attr) {
        Some(s) => escape_value(&s),
        None => format!("#{}", super::digest::hex_lower(attr.attr_value().data)),
    };
    format!("{name}={value}")
}

fn attribute_text(attr: &AttributeTypeAndValue<'_>) -> String {
    decode_string(attr).unwrap_or_else(|| super::digest::hex_lower(attr.attr_value().data))
}

fn short_name(oid: &Oid<'_>) -> Option<&'static str> {
    Some(match oid.to_id_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// The attribute value as text, for the ASN.1 string types certificates use.
fn decode_string(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    let data = attr.attr_value().data;
    match attr.attr_value().tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => std::str::from_utf8(data).ok().map(str::to_owned),
        // T.61 in practice carries Latin-1.
        Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if data.len() % 2 != 0 {
                return None;
            }
            let units = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        Tag::UniversalString => {
            if data.len() % 4 != 0 {
                return None;
            }
            data.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping, as Python `cryptography` does it.
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '"' | '+' | ',' | ';' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    if out.starts_with('#') || out.starts_with(' ') {
        out.insert(0, '\\');
    }
    if out.ends_with(' ') && !out.ends_with("\\ ") {
        out.pop();
        out.push_str("\\ ");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_big_serials() {
        assert_eq!(be_bytes_to_decimal(&[]), "0");
        assert_eq!(be_bytes_to_decimal(&[0]), "0");
        assert_eq!(
            be_bytes_to_decimal(&[0x10, 0x46, 0x90, 0x01, 0x49]),
            "69903319369"
        );
        assert_eq!(be_bytes_to_decimal(&[0xff; 8]), u64::MAX.to_string());
        assert_eq!(be_bytes_to_decimal(&[0xff; 16]), u128::MAX.to_string());
        // 2^128 and 10^27 cross limb boundaries.
        let mut two_128 = vec![1u8];
        two_128.extend([0u8; 16]);
        assert_eq!(
            be_bytes_to_decimal(&two_128),
            "340282366920938463463374607431768211456"
        );
        let ten_27 = 10u128.pow(27).to_be_bytes();
        assert_eq!(be_bytes_to_decimal(&ten_27), format!("1{}", "0".repeat(27)));
        // A 160-bit serial (iTrusChina root in Alipay's bundle).
        let n: u128 = 0x10C6_0E3D_8F1B_CC3F_5A4E_1A0B_9C8D_7E6F;
        let mut bytes = vec![0x00, 0x12, 0x34, 0x56, 0x78];
        bytes.extend(n.to_be_bytes());
        let expected = {
            // 0x12345678 * 2^128 + n, computed with u128 halves in base 10^19.
            let hi = 0x1234_5678u128;
            let two_128 = "340282366920938463463374607431768211456";
            decimal_mul_add(two_128, hi, n)
        };
        assert_eq!(be_bytes_to_decimal(&bytes), expected);
    }

    /// Schoolbook `a * m + c` on decimal strings, independent of the limb code above.
    fn decimal_mul_add(a: &str, m: u128, c: u128) -> String {
        let mut digits: Vec<u128> = a.bytes().rev().map(|d| u128::from(d - b'0')).collect();
        let mut carry = 0u128;
        for d in &mut digits {
            let v = *d * m + carry;
            *d = v % 10;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push(carry % 10);
            carry /= 10;
        }
        let mut carry = c;
        for d in &mut digits {
            let v = *d + carry;
            *d = v % 10;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push(carry % 10);
            carry /= 10;
        }
        digits
            .iter()
            .rev()
            .map(|d| char::from(b'0' + u8::try_from(*d).unwrap()))
            .collect()
    }

    #[test]
    fn escaping_follows_rfc4514() {
        assert_eq!(escape_value("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_value("#x "), "\\#x\\ ");
        assert_eq!(escape_value(" lead"), "\\ lead");
        assert_eq!(escape_value("q\"<>;\\"), "q\\\"\\<\\>\\;\\\\");
        assert_eq!(escape_value(""), "");
    }

    /// A tiny DER writer, enough to build test certificates signed by generated keys.
    mod der {
        pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            let len = content.len();
            if len < 0x80 {
                out.push(u8::try_from(len).unwrap());
            } else if len <= 0xff {
                out.extend([0x81, u8::try_from(len).unwrap()]);
            } else {
                out.push(0x82);
                out.extend(u16::try_from(len).unwrap().to_be_bytes());
            }
            out.extend_from_slice(content);
            out
        }
        pub(super) fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
            tlv(0x30, &parts.concat())
        }
        pub(super) fn set(parts: &[Vec<u8>]) -> Vec<u8> {
            tlv(0x31, &parts.concat())
        }
        pub(super) fn oid(dotted: &str) -> Vec<u8> {
            let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
            let mut body = vec![u8::try_from(arcs[0] * 40 + arcs[1]).unwrap()];
            for &arc in &arcs[2..] {
                let mut chunk = vec![u8::try_from(arc & 0x7f).unwrap()];
                let mut rest = arc >> 7;
                while rest > 0 {
                    chunk.insert(0, u8::try_from(rest & 0x7f).unwrap() | 0x80);
                    rest >>= 7;
                }
                body.extend(chunk);
            }
            tlv(0x06, &body)
        }
        pub(super) fn int(magnitude: &[u8]) -> Vec<u8> {
            let mut body = magnitude.to_vec();
            if body.first().is_none_or(|b| b & 0x80 != 0) {
                body.insert(0, 0);
            }
            tlv(0x02, &body)
        }
        pub(super) fn attr(oid_str: &str, tag: u8, value: &[u8]) -> Vec<u8> {
            seq(&[oid(oid_str), tlv(tag, value)])
        }
        pub(super) fn bits(bytes: &[u8]) -> Vec<u8> {
            tlv(0x03, &[&[0u8][..], bytes].concat())
        }
    }

    const PRINTABLE: u8 = 0x13;
    const UTF8: u8 = 0x0c;
    const BMP: u8 = 0x1e;

    struct TestCa {
        key: crate::crypto::RsaPrivateKey,
        name: Vec<u8>,
    }

    fn simple_name(cn: &str) -> Vec<u8> {
        der::seq(&[
            der::set(&[der::attr("2.5.4.6", PRINTABLE, b"CN")]),
            der::set(&[der::attr("2.5.4.10", UTF8, b"payagg test")]),
            der::set(&[der::attr("2.5.4.3", UTF8, cn.as_bytes())]),
        ])
    }

    fn issue(
        issuer: &TestCa,
        subject: &[u8],
        subject_key: &RsaPublicKey,
        serial: &[u8],
        sig_oid: &str,
    ) -> Vec<u8> {
        issue_ext(issuer, subject, subject_key, serial, sig_oid, &[])
    }

    /// [`issue`] with v3 extensions (each a DER `Extension`).
    fn issue_ext(
        issuer: &TestCa,
        subject: &[u8],
        subject_key: &RsaPublicKey,
        serial: &[u8],
        sig_oid: &str,
        extensions: &[Vec<u8>],
    ) -> Vec<u8> {
        let alg = der::seq(&[der::oid(sig_oid), vec![0x05, 0x00]]);
        let mut parts = vec![
            der::tlv(0xa0, &der::int(&[2])),
            der::int(serial),
            alg.clone(),
            issuer.name.clone(),
            der::seq(&[
                der::tlv(0x17, b"240101000000Z"),
                der::tlv(0x18, b"20341231235959Z"),
            ]),
            subject.to_vec(),
            subject_key.spki_der().to_vec(),
        ];
        if !extensions.is_empty() {
            parts.push(der::tlv(0xa3, &der::seq(extensions)));
        }
        let tbs = der::seq(&parts);
        let sig = match sig_oid {
            OID_SHA1_WITH_RSA => issuer.key.sign_sha1(&tbs),
            _ => issuer.key.sign_sha256(&tbs),
        };
        der::seq(&[tbs, alg, der::bits(&sig)])
    }

    fn pem_of(der_bytes: &[u8], eol: &str) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der_bytes);
        let mut out = format!("-----BEGIN CERTIFICATE-----{eol}");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push_str(eol);
        }
        out.push_str(&format!("-----END CERTIFICATE-----{eol}"));
        out
    }

    struct Fixture {
        root: Certificate,
        middle: Certificate,
        leaf: Certificate,
        leaf_key: crate::crypto::RsaPrivateKey,
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
        FIXTURE.get_or_init(|| {
            use crate::crypto::RsaPrivateKey;
            let root_ca = TestCa {
                key: RsaPrivateKey::generate(2048).unwrap(),
                name: simple_name("Root"),
            };
            let root = issue(
                &root_ca,
                &root_ca.name,
                root_ca.key.public_key(),
                &[0x01],
                OID_SHA256_WITH_RSA,
            );
            // A 1024-bit SHA-1 intermediate, like old CFCA chains.
            let middle_ca = TestCa {
                key: RsaPrivateKey::generate(1024).unwrap(),
                name: simple_name("Middle"),
            };
            let middle = issue(
                &root_ca,
                &middle_ca.name,
                middle_ca.key.public_key(),
                &[0x00, 0x0f, 0xab],
                OID_SHA1_WITH_RSA,
            );
            let leaf_key = RsaPrivateKey::generate(2048).unwrap();
            let leaf_name = der::seq(&[
                der::set(&[der::attr("2.5.4.6", PRINTABLE, b"CN")]),
                der::set(&[der::attr("2.5.4.10", UTF8, b"Acme, Inc")]),
                // A multi-valued RDN.
                der::set(&[
                    der::attr("2.5.4.11", UTF8, b"Pay"),
                    der::attr("2.5.4.11", UTF8, b"#ops "),
                ]),
                der::set(&[der::attr(
                    "2.5.4.3",
                    BMP,
                    &[0x4e, 0x2d, 0x56, 0xfd, 0x00, 0x40, 0x00, 0x31],
                )]),
                der::set(&[der::attr("1.2.840.113549.1.9.1", 0x16, b"ops@example.com")]),
            ]);
            let serial: Vec<u8> = (1..=20).collect();
            let leaf = issue(
                &middle_ca,
                &leaf_name,
                leaf_key.public_key(),
                &serial,
                OID_SHA256_WITH_RSA,
            );
            Fixture {
                root: Certificate::from_der(&root).unwrap(),
                middle: Certificate::from_der(&middle).unwrap(),
                leaf: Certificate::from_der(&leaf).unwrap(),
                leaf_key,
            }
        })
    }

    #[test]
    fn reads_serials_names_and_validity() {
        let f = fixture();
        assert_eq!(f.middle.serial_hex_upper(), "FAB");
        assert_eq!(f.middle.serial_decimal(), "4011");
        assert_eq!(f.middle.serial_bytes(), &[0x0f, 0xab]);
        assert_eq!(f.root.serial_hex_upper(), "1");
        assert_eq!(
            f.leaf.serial_hex_upper(),
            "102030405060708090A0B0C0D0E0F1011121314"
        );
        assert_eq!(
            f.leaf.serial_decimal(),
            "5753854965885600108575829560559299546819203860"
        );
        assert_eq!(f.root.subject_rfc4514(), "CN=Root,O=payagg test,C=CN");
        assert_eq!(f.leaf.issuer_rfc4514(), "CN=Middle,O=payagg test,C=CN");
        assert_eq!(
            f.leaf.subject_rfc4514(),
            "1.2.840.113549.1.9.1=ops@example.com,CN=中国@1,OU=Pay+OU=\\#ops\\ ,O=Acme\\, Inc,C=CN"
        );
        assert_eq!(f.leaf.subject_common_name(), Some("中国@1"));
        assert_eq!(f.root.signature_algorithm_oid(), OID_SHA256_WITH_RSA);
        assert_eq!(f.middle.signature_algorithm_oid(), OID_SHA1_WITH_RSA);
        let nb = time::macros::datetime!(2024-01-01 00:00:00 UTC);
        let na = time::macros::datetime!(2034-12-31 23:59:59 UTC);
        assert_eq!((f.leaf.not_before(), f.leaf.not_after()), (nb, na));
        assert!(f.leaf.is_valid_at(nb) && f.leaf.is_valid_at(na));
        assert!(!f.leaf.is_valid_at(nb - time::Duration::seconds(1)));
        assert!(!f.leaf.is_valid_at(na + time::Duration::seconds(1)));
        assert_eq!(&f.leaf.public_key().unwrap(), f.leaf_key.public_key());
        assert_eq!(f.leaf.fingerprint_sha256(), sha256(f.leaf.der()));
    }

    #[test]
    fn verifies_a_mixed_sha1_sha256_chain() {
        let f = fixture();
        f.root.verify_issued_by(&f.root).unwrap();
        f.middle.verify_issued_by(&f.root).unwrap();
        f.leaf.verify_issued_by(&f.middle).unwrap();
        assert_eq!(f.leaf.verify_issued_by(&f.root), Err(SignatureInvalid));
        assert!(f.middle.verify_issued_by(&f.middle).is_err());
        assert!(f.root.verify_issued_by(&f.leaf).is_err());
        // Flip one byte inside the subject: still parses, no longer verifies.
        let mut der_bytes = f.leaf.der().to_vec();
        let at = der_bytes.windows(3).position(|w| w == b"Pay").unwrap();
        der_bytes[at] = b'Q';
        let tampered = Certificate::from_der(&der_bytes).unwrap();
        assert!(tampered.subject_rfc4514().contains("OU=Qay"));
        assert!(tampered.verify_issued_by(&f.middle).is_err());
    }

    #[test]
    fn pem_single_bundle_and_debug() {
        let f = fixture();
        let bundle = format!(
            "{}{}",
            pem_of(f.leaf.der(), "\r\n"),
            pem_of(f.middle.der(), "\n")
        );
        assert_eq!(Certificate::from_pem(&bundle).unwrap(), f.leaf);
        let all = Certificate::pem_bundle(&bundle).unwrap();
        assert_eq!(all, vec![f.leaf.clone(), f.middle.clone()]);
        use base64::Engine as _;
        let bare = base64::engine::general_purpose::STANDARD.encode(f.root.der());
        assert_eq!(Certificate::from_pem(&bare).unwrap(), f.root);
        let dbg = format!("{:?}", f.middle);
        assert_eq!(
            dbg,
            "Certificate { serial: \"FAB\", subject: \"CN=Middle,O=payagg test,C=CN\" }"
        );
        let mut trailing = f.root.der().to_vec();
        trailing.push(0);
        assert!(
            Certificate::from_der(&trailing)
                .unwrap_err()
                .reason()
                .contains("trailing")
        );
    }

    #[test]
    fn non_rsa_keys_parse_but_have_no_rsa_public_key() {
        let f = fixture();
        let ec_spki = der::seq(&[
            der::seq(&[
                der::oid("1.2.840.10045.2.1"),
                der::oid("1.2.840.10045.3.1.7"),
            ]),
            der::bits(&[4u8; 65]),
        ]);
        let ca = TestCa {
            key: f.leaf_key.clone(),
            name: simple_name("Leaf"),
        };
        // Build by hand: `issue` takes an RsaPublicKey, so splice the EC SPKI in.
        let alg = der::seq(&[der::oid(OID_SHA256_WITH_RSA), vec![0x05, 0x00]]);
        let tbs = der::seq(&[
            der::tlv(0xa0, &der::int(&[2])),
            der::int(&[7]),
            alg.clone(),
            ca.name.clone(),
            der::seq(&[
                der::tlv(0x17, b"240101000000Z"),
                der::tlv(0x17, b"340101000000Z"),
            ]),
            simple_name("EC"),
            ec_spki,
        ]);
        let sig = ca.key.sign_sha256(&tbs);
        let cert = Certificate::from_der(&der::seq(&[tbs, alg, der::bits(&sig)])).unwrap();
        let err = cert.public_key().unwrap_err();
        assert!(err.reason().contains("not RSA"), "{err}");
        assert!(err.reason().contains("1.2.840.10045.2.1"), "{err}");
        // Its signature (made by the leaf key) still verifies against the leaf certificate.
        cert.verify_issued_by(&f.leaf).unwrap();
        // But nothing can be verified *with* it.
        assert!(f.leaf.verify_issued_by(&cert).is_err());
    }

    #[test]
    fn is_ca_reads_basic_constraints_and_key_usage() {
        let f = fixture();
        // The fixture has no extensions at all: not a CA.
        assert!(!f.root.is_ca() && !f.middle.is_ca() && !f.leaf.is_ca());
        let ca = TestCa {
            key: f.leaf_key.clone(),
            name: simple_name("Issuer"),
        };
        let ext = |oid: &str, critical: bool, value: Vec<u8>| {
            let mut p = vec![der::oid(oid)];
            if critical {
                p.push(vec![0x01, 0x01, 0xff]);
            }
            p.push(der::tlv(0x04, &value));
            der::seq(&p)
        };
        let bc_ca = ext("2.5.29.19", true, der::seq(&[vec![0x01, 0x01, 0xff]]));
        let bc_end_entity = ext("2.5.29.19", true, der::seq(&[]));
        // keyUsage bits: keyCertSign (5) + cRLSign (6); digitalSignature (0) only.
        let ku_cert_sign = ext("2.5.29.15", true, vec![0x03, 0x02, 0x01, 0x06]);
        let ku_digital_signature = ext("2.5.29.15", true, vec![0x03, 0x02, 0x07, 0x80]);
        let cert = |exts: &[Vec<u8>]| {
            let d = issue_ext(
                &ca,
                &simple_name("Subject"),
                f.leaf_key.public_key(),
                &[9],
                OID_SHA256_WITH_RSA,
                exts,
            );
            Certificate::from_der(&d).unwrap()
        };
        assert!(cert(&[bc_ca.clone(), ku_cert_sign.clone()]).is_ca());
        assert!(
            cert(std::slice::from_ref(&bc_ca)).is_ca(),
            "no keyUsage: no restriction"
        );
        assert!(!cert(&[bc_ca.clone(), ku_digital_signature.clone()]).is_ca());
        assert!(!cert(&[bc_end_entity, ku_cert_sign.clone()]).is_ca());
        assert!(
            !cert(&[ku_cert_sign]).is_ca(),
            "keyUsage alone is not CA:TRUE"
        );
        assert!(
            !cert(&[bc_ca.clone(), bc_ca]).is_ca(),
            "duplicate extension fails closed"
        );
    }

    #[test]
    fn garbage_is_a_config_error() {
        assert!(Certificate::from_der(b"\x30\x03\x02\x01\x01").is_err());
        assert!(
            Certificate::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .is_err()
        );
        assert!(Certificate::pem_bundle("nothing here").is_err());
        assert!(Certificate::from_pem("%%%").is_err());
    }
}
