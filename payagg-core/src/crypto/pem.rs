//! A small, tolerant PEM reader shared by keys and certificates.
//!
//! Channels hand out keys and certificates in slightly different shapes: CRLF line endings,
//! stray spaces, several blocks in one file (Alipay root bundles), or a bare base64 body without
//! any armour (Alipay's key tool). This reader accepts all of those. Decoded bytes of private
//! keys live in [`Zeroizing`] buffers so they are wiped once parsed.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

/// Standard alphabet; padding optional, because some tools strip it.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One `-----BEGIN label-----` block.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) der: Zeroizing<Vec<u8>>,
}

/// Why a PEM text could not be read. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PemError {
    /// A `BEGIN` line without its `END` line.
    Unterminated(String),
    /// RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`): a password-protected legacy key.
    Encrypted,
    /// The body is not base64.
    Base64,
}

impl std::fmt::Display for PemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PemError::Unterminated(label) => write!(f, "PEM block {label} has no END line"),
            PemError::Encrypted => {
                f.write_str("encrypted PEM is not supported; decrypt the key first")
            }
            PemError::Base64 => f.write_str("PEM body is not valid base64"),
        }
    }
}

impl std::error::Error for PemError {}

/// `true` when `text` holds at least one PEM armour line.
pub(crate) fn is_armoured(text: &str) -> bool {
    text.contains("-----BEGIN ")
}

/// Every PEM block in `text`, in file order. Text outside blocks (OpenSSL "Bag Attributes",
/// comments) is ignored. Lines may end in CRLF and carry surrounding spaces.
pub(crate) fn parse_blocks(text: &str) -> Result<Vec<PemBlock>, PemError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = armour_label(line, "-----BEGIN ") else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = Zeroizing::new(String::new());
        let mut terminated = false;
        for line in lines.by_ref() {
            if line == end {
                terminated = true;
                break;
            }
            if line.contains(':') {
                return Err(PemError::Encrypted);
            }
            body.push_str(line);
        }
        if !terminated {
            return Err(PemError::Unterminated(label.to_owned()));
        }
        blocks.push(PemBlock {
            label: label.to_owned(),
            der: decode_base64(&body)?,
        });
    }
    Ok(blocks)
}

/// Decodes a bare base64 body (no armour), ignoring all ASCII whitespace.
pub(crate) fn decode_bare(text: &str) -> Result<Zeroizing<Vec<u8>>, PemError> {
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    decode_base64(&compact)
}

fn decode_base64(body: &str) -> Result<Zeroizing<Vec<u8>>, PemError> {
    let body = body.trim_start_matches('\u{feff}');
    LENIENT_B64
        .decode(body)
        .map(Zeroizing::new)
        .map_err(|_| PemError::Base64)
}

fn armour_label<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.trim_start_matches('\u{feff}')
        .strip_prefix(prefix)?
        .strip_suffix("-----")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_several_blocks_with_crlf_and_junk() {
        let text = "Bag Attributes\r\n-----BEGIN A-----\r\nAAEC\r\n-----END A-----\r\n\
                    junk\n  -----BEGIN B-----  \n AwQ= \n-----END B-----\n";
        let blocks = parse_blocks(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(&blocks[0].der[..], &[0, 1, 2]);
        assert_eq!(blocks[1].label, "B");
        assert_eq!(&blocks[1].der[..], &[3, 4]);
    }

    #[test]
    fn rejects_unterminated_encrypted_and_bad_base64() {
        assert_eq!(
            parse_blocks("-----BEGIN A-----\nAAEC\n").err(),
            Some(PemError::Unterminated("A".into()))
        );
        let enc = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAEC\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(parse_blocks(enc).err(), Some(PemError::Encrypted));
        assert_eq!(
            parse_blocks("-----BEGIN A-----\n!!!!\n-----END A-----\n").err(),
            Some(PemError::Base64)
        );
    }

    #[test]
    fn bare_base64_ignores_whitespace_and_padding() {
        assert_eq!(&decode_bare(" AA\r\nEC ").unwrap()[..], &[0, 1, 2]);
        assert_eq!(&decode_bare("AwQ").unwrap()[..], &[3, 4]);
        assert!(!is_armoured("AAEC"));
    }
}
