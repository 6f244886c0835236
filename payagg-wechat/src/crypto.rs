//! AEAD_AES_256_GCM decryption of callback resources and downloaded platform certificates.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use payagg_core::Channel;
use payagg_core::crypto::SecretKey32;
use payagg_core::error::{VerificationError, VerificationKind};

use crate::wire::EncryptedResource;

/// The only algorithm WeChat Pay APIv3 uses for resources.
pub(crate) const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// Decrypts `resource` with the APIv3 key: nonce and AAD are the ASCII strings as given,
/// the ciphertext is base64(ciphertext ‖ tag).
///
/// # Errors
/// [`VerificationError`] of kind `Decryption` for another algorithm, bad base64, or a failed
/// authentication (wrong key, tampered data). Never says more.
pub fn decrypt_resource(
    key: &SecretKey32,
    resource: &EncryptedResource,
) -> Result<Vec<u8>, VerificationError> {
    if resource.algorithm != AEAD_AES_256_GCM {
        return Err(VerificationError::new(
            Channel::Wechat,
            VerificationKind::Decryption,
            "unsupported resource algorithm",
        )
        .expected(AEAD_AES_256_GCM)
        .presented(resource.algorithm.clone()));
    }
    let ct = B64.decode(resource.ciphertext.trim()).map_err(|_| {
        VerificationError::new(
            Channel::Wechat,
            VerificationKind::Decryption,
            "resource ciphertext is not base64",
        )
    })?;
    key.decrypt(
        resource.nonce.as_bytes(),
        resource.associated_data.as_bytes(),
        &ct,
    )
    .map_err(|e| {
        VerificationError::new(
            Channel::Wechat,
            VerificationKind::Decryption,
            format!(
                "resource ({}) {e}; check the APIv3 key",
                resource.associated_data
            ),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::test_vectors::{cases, s};

    fn res(nonce: &str, aad: &str, ct: &str) -> EncryptedResource {
        EncryptedResource {
            original_type: None,
            algorithm: AEAD_AES_256_GCM.into(),
            ciphertext: ct.into(),
            associated_data: aad.into(),
            nonce: nonce.into(),
        }
    }

    /// `aes_gcm` vectors: 32-byte keys decrypt (and re-encrypt) exactly; 16-byte Go keys are
    /// rejected at key construction (payagg accepts only real 32-byte APIv3 keys); every
    /// negative case fails.
    #[test]
    fn aes_gcm_vectors() {
        let Some((_, cases)) = cases("aes_gcm_vectors", "aes_gcm") else {
            return;
        };
        for c in &cases {
            let i = &c["inputs"];
            let key = match SecretKey32::from_bytes(s(i, "key").as_bytes()) {
                Ok(k) => k,
                Err(e) => {
                    // 16-byte and odd-length keys: a config-time length error.
                    assert!(e.to_string().contains("32 bytes"), "{}: {e}", c["id"]);
                    continue;
                }
            };
            let nonce = s(i, "nonce");
            let aad = s(i, "associated_data");
            if let Some(pt) = i["plaintext"].as_str() {
                let n: [u8; 12] = nonce.as_bytes().try_into().unwrap();
                let ct = B64.encode(key.encrypt(&n, aad.as_bytes(), pt.as_bytes()));
                assert_eq!(ct, s(c, "expected.ciphertext_b64"), "{}", c["id"]);
                assert_eq!(
                    decrypt_resource(&key, &res(nonce, aad, &ct)).unwrap(),
                    pt.as_bytes()
                );
            } else {
                let r = decrypt_resource(&key, &res(nonce, aad, s(i, "ciphertext_b64")));
                match c["expected"]["error"].as_str() {
                    Some(_) => assert_eq!(
                        r.unwrap_err().kind(),
                        &VerificationKind::Decryption,
                        "{}",
                        c["id"]
                    ),
                    None => assert_eq!(
                        r.unwrap(),
                        s(c, "expected.plaintext").as_bytes(),
                        "{}",
                        c["id"]
                    ),
                }
            }
        }
    }

    #[test]
    fn rejects_other_algorithms_and_bad_base64() {
        let key: SecretKey32 = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb".parse().unwrap();
        let mut r = res(
            "uluk4a9R25RW",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
        );
        assert_eq!(decrypt_resource(&key, &r).unwrap(), b"message");
        r.algorithm = "SM4".into();
        let e = decrypt_resource(&key, &r).unwrap_err();
        assert_eq!(e.presented_value(), Some("SM4"));
        let r = res("uluk4a9R25RW", "associatedData", "invalid cipher");
        assert!(decrypt_resource(&key, &r).is_err());
    }
}
