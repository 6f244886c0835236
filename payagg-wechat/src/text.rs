//! Free-text fields sent to WeChat Pay.
//!
//! WeChat Pay stores text in a 3-byte UTF-8 (MySQL `utf8`) column set: a character that
//! takes four bytes in UTF-8 (emoji, supplementary-plane CJK, U+10000 and above) makes the
//! call fail with `PARAM_ERROR` or is silently mangled in bills. payagg refuses such text
//! before anything is sent, naming the field.

use payagg_core::error::InvalidInput;

/// `Ok` when `value` has no character that is 4 bytes long in UTF-8.
///
/// # Errors
/// [`InvalidInput`] naming `field` and the first offending code point (not the text, which
/// may be personal data).
pub fn check_text(field: &'static str, value: &str) -> Result<(), InvalidInput> {
    // Every 4-byte sequence starts with a byte 0xF0..=0xF4; nothing else does.
    if !value.bytes().any(|b| b >= 0xF0) {
        return Ok(());
    }
    let (at, c) = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.len_utf8() == 4)
        .unwrap_or((0, '\u{FFFD}'));
    Err(InvalidInput::new(
        field,
        format!(
            "character {} (U+{:04X}) is 4 bytes in UTF-8 (emoji or supplementary plane), \
             which WeChat Pay rejects",
            at + 1,
            u32::from(c)
        ),
    ))
}

/// [`check_text`] for an optional field.
///
/// # Errors
/// As [`check_text`].
pub fn check_opt(field: &'static str, value: Option<&str>) -> Result<(), InvalidInput> {
    value.map_or(Ok(()), |v| check_text(field, v))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn four_byte_characters_are_rejected_with_the_field_and_code_point() {
        for ok in ["", "Tea 茶 – café", "\u{FFFF}", "ünïcödé ©®", "\u{E000}"] {
            check_text("description", ok).unwrap();
        }
        for (bad, cp, pos) in [
            ("Tea 🍵", "U+1F375", "character 5"),
            ("𠮷野家", "U+20BB7", "character 1"),
            ("\u{10000}", "U+10000", "character 1"),
            ("a\u{10FFFF}", "U+10FFFF", "character 2"),
        ] {
            let e = check_text("attach", bad).unwrap_err();
            assert_eq!(e.field(), "attach");
            assert!(e.reason().contains(cp), "{e}");
            assert!(e.reason().contains(pos), "{e}");
        }
        check_opt("reason", None).unwrap();
        assert_eq!(
            check_opt("reason", Some("😀")).unwrap_err().field(),
            "reason"
        );
    }
}
