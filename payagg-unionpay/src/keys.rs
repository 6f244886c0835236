//! Loading the merchant signing key: the PKCS#12 (`.pfx`) UnionPay issues, or PEM.

use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use payagg_core::crypto::{Certificate, RsaPrivateKey};
use payagg_core::error::ConfigError;

const PFX: &str = "signing PKCS#12 (pfx)";

/// Reads the private key and its certificate from a PKCS#12 file (3DES or legacy RC2-40
/// bags, SHA-1 MAC). The certificate is the one whose public key matches the key (UnionPay's
/// files also hold the CFCA chain or unrelated certificates).
pub(crate) fn load_pkcs12(
    pfx: &[u8],
    password: &str,
) -> Result<(RsaPrivateKey, Certificate), ConfigError> {
    let store = KeyStore::from_pkcs12(pfx, password, Pkcs12ImportPolicy::Relaxed).map_err(|e| {
        ConfigError::new(PFX, "cannot open the file (wrong password or not PKCS#12)").with_source(e)
    })?;
    let mut keys = 0usize;
    for (_, entry) in store.entries() {
        let KeyStoreEntry::PrivateKeyChain(chain) = entry else {
            continue;
        };
        keys += 1;
        let key = RsaPrivateKey::from_pkcs8_der(chain.key().as_der())?;
        for c in chain.certs() {
            let cert = Certificate::from_der(c.as_der())?;
            if cert.public_key().is_ok_and(|pk| &pk == key.public_key()) {
                return Ok((key, cert));
            }
        }
    }
    // Not linked by localKeyID: match any certificate of the file against any key.
    let certs: Vec<Certificate> = store
        .entries()
        .filter_map(|(_, e)| match e {
            KeyStoreEntry::Certificate(c) => Certificate::from_der(c.as_der()).ok(),
            _ => None,
        })
        .collect();
    for (_, entry) in store.entries() {
        if let KeyStoreEntry::PrivateKeyChain(chain) = entry {
            let key = RsaPrivateKey::from_pkcs8_der(chain.key().as_der())?;
            if let Some(cert) = certs
                .iter()
                .find(|c| c.public_key().is_ok_and(|pk| &pk == key.public_key()))
            {
                return Ok((key, cert.clone()));
            }
        }
    }
    Err(ConfigError::new(
        PFX,
        if keys == 0 {
            "no private key in the file".to_owned()
        } else {
            "no certificate in the file matches its private key".to_owned()
        },
    ))
}

/// A PEM private key (PKCS#8 or PKCS#1) and its certificate; checks they belong together.
pub(crate) fn load_pem(
    key_pem: &str,
    cert_pem: &str,
) -> Result<(RsaPrivateKey, Certificate), ConfigError> {
    let key = RsaPrivateKey::from_pem(key_pem)?;
    let cert = Certificate::from_pem(cert_pem)?;
    if cert.public_key()? != *key.public_key() {
        return Err(ConfigError::new(
            "signing certificate PEM",
            format!(
                "certificate {} does not belong to the private key",
                cert.serial_decimal()
            ),
        ));
    }
    Ok((key, cert))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_vectors as tv;

    #[test]
    fn pfx_cert_serial_vectors() {
        let Some((dir, cases)) = tv::cases("pfx_cert_serial_vectors", "cert_serial") else {
            return;
        };
        let mut n = 0;
        for c in cases
            .iter()
            .filter(|c| c["inputs"]["pkcs12_file"].is_string())
        {
            let pfx = std::fs::read(dir.join(tv::s(c, "inputs.pkcs12_file"))).unwrap();
            let (key, cert) = load_pkcs12(&pfx, tv::s(c, "inputs.password")).unwrap();
            assert_eq!(cert.serial_decimal(), tv::s(c, "expected.cert_id"));
            assert_eq!(cert.subject_rfc4514(), tv::s(c, "expected.subject_rfc4514"));
            assert_eq!(cert.issuer_rfc4514(), tv::s(c, "expected.issuer_rfc4514"));
            assert_eq!(key.bits(), 2048);
            let e = load_pkcs12(&pfx, "123456").unwrap_err();
            assert!(e.reason().contains("wrong password"), "{e}");
            n += 1;
        }
        assert_eq!(n, 2, "both PFX files (3DES and RC2-40)");
    }

    #[test]
    fn ca_cert_serial_vectors() {
        let Some((dir, cases)) = tv::cases("ca_cert_serial_vectors", "cert_serial") else {
            return;
        };
        for c in cases
            .iter()
            .filter(|c| c["inputs"]["certificate_file"].is_string())
        {
            let pem = std::fs::read(dir.join(tv::s(c, "inputs.certificate_file"))).unwrap();
            let cert = Certificate::from_pem(&String::from_utf8_lossy(&pem))
                .or_else(|_| Certificate::from_der(&pem))
                .unwrap();
            assert_eq!(cert.serial_decimal(), tv::s(c, "expected.serial_decimal"));
            assert_eq!(cert.subject_rfc4514(), tv::s(c, "expected.subject_rfc4514"));
            assert_eq!(cert.issuer_rfc4514(), tv::s(c, "expected.issuer_rfc4514"));
            let fp = payagg_core::crypto::hex_upper(&cert.fingerprint_sha256());
            assert_eq!(fp, tv::s(c, "expected.sha256_fingerprint").replace(':', ""));
        }
    }

    #[test]
    fn garbage_is_a_config_error() {
        assert!(load_pkcs12(b"not a pfx", "000000").is_err());
        assert!(load_pem("x", "y").is_err());
    }
}
