//! WeChat Pay platform certificates: download decryption, a cache keyed by serial that holds
//! several valid certificates at once, and rotation without restart.

use std::sync::RwLock;

use payagg_core::Channel;
use payagg_core::crypto::{Certificate, RsaPublicKey};
use payagg_core::error::{DecodeError, Error, VerificationError, VerificationKind};
use time::OffsetDateTime;

use crate::wire::{CertificatesResponse, EncryptedResource};

/// One platform certificate, parsed once.
#[derive(Debug, Clone)]
struct Entry {
    serial: String,
    key: RsaPublicKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

/// The platform certificates a client trusts, keyed by upper-case hex serial.
#[derive(Debug, Default)]
pub(crate) struct PlatformCertificates {
    entries: RwLock<Vec<Entry>>,
}

fn entry(cert: &Certificate) -> Result<Entry, payagg_core::error::ConfigError> {
    Ok(Entry {
        serial: cert.serial_hex_upper(),
        key: cert.public_key()?,
        not_before: cert.not_before(),
        not_after: cert.not_after(),
    })
}

impl PlatformCertificates {
    /// A store seeded with `certs` (may be empty: the first unknown serial downloads them).
    pub(crate) fn new(certs: &[Certificate]) -> Result<Self, payagg_core::error::ConfigError> {
        let entries = certs.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            entries: RwLock::new(entries),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key of the certificate `serial` if it is valid at `now`.
    pub(crate) fn key(&self, serial: &str, now: OffsetDateTime) -> Option<RsaPublicKey> {
        self.read()
            .iter()
            .find(|e| {
                e.serial.eq_ignore_ascii_case(serial) && e.not_before <= now && now <= e.not_after
            })
            .map(|e| e.key.clone())
    }

    /// Every serial held.
    pub(crate) fn serials(&self) -> Vec<String> {
        self.read().iter().map(|e| e.serial.clone()).collect()
    }

    /// The serial of the valid certificate that expires last (the one to announce and
    /// encrypt with).
    pub(crate) fn newest_serial(&self, now: OffsetDateTime) -> Option<String> {
        self.read()
            .iter()
            .filter(|e| e.not_before <= now && now <= e.not_after)
            .max_by_key(|e| e.not_after)
            .map(|e| e.serial.clone())
    }

    /// When the certificate that expires last ends (`None` when none is held).
    pub(crate) fn latest_expiry(&self) -> Option<OffsetDateTime> {
        self.read().iter().map(|e| e.not_after).max()
    }

    /// Adds downloaded certificates (replacing same serials) and drops expired ones.
    pub(crate) fn merge(
        &self,
        certs: &[Certificate],
        now: OffsetDateTime,
    ) -> Result<(), payagg_core::error::ConfigError> {
        let new = certs.iter().map(entry).collect::<Result<Vec<_>, _>>()?;
        let mut w = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        w.retain(|e| now <= e.not_after && !new.iter().any(|n| n.serial == e.serial));
        w.extend(new.into_iter().filter(|e| now <= e.not_after));
        Ok(())
    }
}

/// Decrypts every certificate of a `/v3/certificates` body with `decrypt` (the APIv3 key in
/// production) and checks each PEM parses and carries the serial announced.
///
/// # Errors
/// [`Error::Decode`] for a malformed body or certificate, [`Error::Verification`] when a
/// certificate fails to decrypt or its serial differs from `serial_no`.
pub(crate) fn decrypt_certificates(
    body: &[u8],
    decrypt: impl Fn(&EncryptedResource) -> Result<Vec<u8>, VerificationError>,
) -> Result<Vec<Certificate>, Error> {
    let resp: CertificatesResponse = serde_json::from_slice(body)
        .map_err(|e| Error::Decode(DecodeError::new("/v3/certificates response").with_source(e)))?;
    let mut out = Vec::with_capacity(resp.data.len());
    for item in &resp.data {
        let pem = decrypt(&item.encrypt_certificate)?;
        let pem = String::from_utf8(pem).map_err(|e| {
            Error::Decode(
                DecodeError::new("platform certificate PEM")
                    .at(&item.serial_no)
                    .with_source(e),
            )
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            Error::Decode(
                DecodeError::new("platform certificate")
                    .at(&item.serial_no)
                    .with_source(e),
            )
        })?;
        let serial = cert.serial_hex_upper();
        if !serial.eq_ignore_ascii_case(item.serial_no.trim_start_matches('0'))
            && !serial.eq_ignore_ascii_case(&item.serial_no)
        {
            return Err(VerificationError::new(
                Channel::Wechat,
                VerificationKind::Certificate,
                "downloaded certificate serial",
            )
            .expected(item.serial_no.clone())
            .presented(serial)
            .into());
        }
        out.push(cert);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::test_vectors::aes128;
    use crate::test_vectors::{cases, file, s};
    use time::macros::datetime;

    #[test]
    fn cert_download_decrypt_vectors() {
        let Some((dir, cases)) = cases("cert_download_decrypt_vectors", "cert_download_decrypt")
        else {
            return;
        };
        for c in &cases {
            let key = s(c, "inputs.apiv3_key");
            let certs =
                decrypt_certificates(s(c, "inputs.body").as_bytes(), |r| aes128(key, r)).unwrap();
            assert_eq!(certs.len(), 1);
            let expected =
                Certificate::from_pem(&file(&dir, s(c, "expected.decrypted_certificate_file")))
                    .unwrap();
            assert_eq!(certs[0], expected);
            assert_eq!(
                certs[0].serial_hex_upper(),
                s(c, "expected.decrypted_serial_hex_upper")
            );
            // A 16-byte key cannot be configured as a payagg APIv3 key.
            assert!(payagg_core::crypto::SecretKey32::from_bytes(key.as_bytes()).is_err());
            // The store holds it and finds it by serial while valid.
            let store = PlatformCertificates::new(&[]).unwrap();
            store.merge(&certs, datetime!(2024-01-01 0:00 UTC)).unwrap();
            assert!(
                store
                    .key("D7CE59D1F522D701", datetime!(2024-01-01 0:00 UTC))
                    .is_some()
            );
            assert!(
                store
                    .key("d7ce59d1f522d701", datetime!(2024-01-01 0:00 UTC))
                    .is_some()
            );
            assert!(
                store
                    .key("D7CE59D1F522D701", datetime!(2032-01-01 0:00 UTC))
                    .is_none()
            );
            assert_eq!(
                store
                    .newest_serial(datetime!(2024-01-01 0:00 UTC))
                    .as_deref(),
                Some("D7CE59D1F522D701")
            );
            // Wrong key: a decryption error, not a panic.
            let e = decrypt_certificates(s(c, "inputs.body").as_bytes(), |r| {
                aes128("mockAPIv3Key0000", r)
            })
            .unwrap_err();
            assert!(matches!(e, Error::Verification(_)), "{e}");
        }
    }

    #[test]
    fn malformed_body() {
        assert!(matches!(
            decrypt_certificates(b"{}", |_| Ok(vec![])),
            Err(Error::Decode(_))
        ));
    }
}
