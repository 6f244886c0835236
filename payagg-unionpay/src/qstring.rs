//! The `k=v&…` text of UnionPay messages: the brace-aware splitter of synchronous answers,
//! form encoding of requests and form decoding of notifications.
//!
//! **Unstable: shared with `payagg-mock`.** The simulator parses requests and writes answers
//! with these very functions, so client and simulator cannot drift apart. Not part of the
//! crate's semver promise.
//!
//! Synchronous answers are **not** percent-encoded (`signPubKeyCert` is a raw PEM with CR LF,
//! `signature` contains `+` and `/`): split them with [`parse`], never URL-decode them.
//! Notifications are ordinary `application/x-www-form-urlencoded` POST bodies: decode them once
//! with [`form_decode`].

use std::collections::BTreeMap;
use std::fmt;

/// Fields by name, in byte order of the names (the order UnionPay signs them in).
pub type Fields = BTreeMap<String, String>;

/// Raw (name, value) byte pairs of a decoded form body, in wire order.
pub type BytePairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A `k=v&…` text the official SDKs would reject.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QStringError {
    /// A pair with an empty name (`=v`, a trailing `&`): the Java SDK throws
    /// "QString format illegal".
    EmptyKey {
        /// Byte offset of the pair in the text.
        at: usize,
    },
    /// A percent escape that is not two hex digits (form bodies only).
    BadEscape {
        /// Byte offset of the `%`.
        at: usize,
    },
}

impl fmt::Display for QStringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QStringError::EmptyKey { at } => write!(f, "empty field name at byte {at}"),
            QStringError::BadEscape { at } => write!(f, "bad percent escape at byte {at}"),
        }
    }
}

impl std::error::Error for QStringError {}

/// Splits a synchronous answer into its pairs, in wire order, exactly like the official Java
/// SDK (`SDKUtil.convertResultStringToMap` + `parseQString`):
///
/// - an empty or all-blank body gives no pairs;
/// - a body wrapped in `{…}` is unwrapped first;
/// - in a **value**, `{` opens a region that ends at the first `}` and `[` one that ends at
///   the first `]` (no nesting: `x={a={b}&c=1}` splits after `{a={b}`); `&` inside a region
///   is data; braces are kept in the value;
/// - braces in **names** are not special;
/// - only the first `=` of a pair splits name from value (`sig=ab==` keeps `ab==`);
/// - a last pair without `=` is a name with an empty value; `&` inside a name is data
///   (Java appends it to the name);
/// - values are never URL-decoded.
///
/// Duplicate names are kept here (see [`parse`] for last-wins).
///
/// # Errors
/// [`QStringError::EmptyKey`] for a pair without a name.
pub fn parse_pairs(body: &str) -> Result<Vec<(String, String)>, QStringError> {
    let mut out = Vec::new();
    if body.trim().is_empty() {
        return Ok(out);
    }
    let (text, base) = match body.strip_prefix('{').and_then(|b| b.strip_suffix('}')) {
        Some(inner) => (inner, 1),
        None => (body, 0),
    };
    let mut key: Option<&str> = None;
    let mut start = 0usize; // start of the current name or value
    let mut pair_start = 0usize;
    let mut closer: Option<char> = None;
    for (i, c) in text.char_indices() {
        match key {
            None => {
                if c == '=' {
                    let k = &text[start..i];
                    if k.is_empty() {
                        return Err(QStringError::EmptyKey {
                            at: base + pair_start,
                        });
                    }
                    key = Some(k);
                    start = i + 1;
                }
                // `&` in a name is data, as in the Java SDK (`a&b=1` names `a&b`).
            }
            Some(k) => {
                if let Some(close) = closer {
                    if c == close {
                        closer = None;
                    }
                    continue;
                }
                match c {
                    '{' => closer = Some('}'),
                    '[' => closer = Some(']'),
                    '&' => {
                        out.push((k.to_owned(), text[start..i].to_owned()));
                        key = None;
                        start = i + 1;
                        pair_start = start;
                    }
                    _ => {}
                }
            }
        }
    }
    match key {
        Some(k) => out.push((k.to_owned(), text[start..].to_owned())),
        None => {
            let k = &text[start..];
            if k.is_empty() {
                return Err(QStringError::EmptyKey {
                    at: base + pair_start,
                });
            }
            out.push((k.to_owned(), String::new()));
        }
    }
    Ok(out)
}

/// [`parse_pairs`] into a map; a repeated name keeps its last value (official behaviour).
///
/// ```
/// let f = payagg_unionpay::qstring::parse("a=1&b={x=1&y=2}&c=[p&q]&d=")?;
/// assert_eq!(f["b"], "{x=1&y=2}");
/// assert_eq!(f["d"], "");
/// # Ok::<(), payagg_unionpay::qstring::QStringError>(())
/// ```
///
/// # Errors
/// See [`parse_pairs`].
pub fn parse(body: &str) -> Result<Fields, QStringError> {
    Ok(parse_pairs(body)?.into_iter().collect())
}

/// Joins fields as `k=v&…` in byte order of the names, raw values (no escaping): the form of a
/// synchronous answer, and of the string to sign when `signature` is left out.
#[must_use]
pub fn to_raw_string<'a>(fields: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut s = String::with_capacity(512);
    for (k, v) in fields {
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*')
}

/// `application/x-www-form-urlencoded` encoding of one value (UTF-8 bytes; space as `+`),
/// as Java's `URLEncoder` and PHP's `urlencode` produce it.
#[must_use]
pub fn form_encode_value(v: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(v.len() + 8);
    for &b in v.as_bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// A form body of `fields` (names are ASCII identifiers and sent as they are).
#[must_use]
pub fn form_encode<'a>(fields: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut s = String::with_capacity(1024);
    for (k, v) in fields {
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(&form_encode_value(k));
        s.push('=');
        s.push_str(&form_encode_value(v));
    }
    s
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn percent_decode(s: &[u8], base: usize) -> Result<Vec<u8>, QStringError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = s.get(i + 1).copied().and_then(hex_val);
                let lo = s.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(QStringError::BadEscape { at: base + i }),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

/// Decodes an `application/x-www-form-urlencoded` body once, into raw byte pairs in wire
/// order (decode the bytes with the charset the message's `encoding` names). Pairs without `=`
/// are kept with an empty value; empty segments (`a=1&&b=2`) are skipped.
///
/// # Errors
/// [`QStringError::BadEscape`] for a malformed `%` escape, [`QStringError::EmptyKey`] for a
/// pair without a name.
pub fn form_decode(body: &[u8]) -> Result<BytePairs, QStringError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    for seg in body.split(|b| *b == b'&') {
        let base = pos;
        pos += seg.len() + 1;
        if seg.is_empty() {
            continue;
        }
        let (k, v) = match seg.iter().position(|b| *b == b'=') {
            Some(eq) => (&seg[..eq], &seg[eq + 1..]),
            None => (seg, &seg[seg.len()..]),
        };
        if k.is_empty() {
            return Err(QStringError::EmptyKey { at: base });
        }
        out.push((
            percent_decode(k, base)?,
            percent_decode(v, base + k.len() + 1)?,
        ));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn braces_brackets_and_equals() {
        assert_eq!(
            parse("a=1&b={x=1&y=2}&c=[p&q]&d=").unwrap(),
            m(&[("a", "1"), ("b", "{x=1&y=2}"), ("c", "[p&q]"), ("d", "")])
        );
        assert_eq!(parse("{a=1&b=2}").unwrap(), m(&[("a", "1"), ("b", "2")]));
        assert_eq!(
            parse("sig=ab==&x=1").unwrap(),
            m(&[("sig", "ab=="), ("x", "1")])
        );
    }

    #[test]
    fn no_nesting_first_closer_ends_the_region() {
        let f = parse("x={a={b}&c=1}&y=2").unwrap();
        assert_eq!(f["x"], "{a={b}");
        assert_eq!(f["c"], "1}");
        assert_eq!(f["y"], "2");
    }

    #[test]
    fn braces_in_names_are_not_special_and_edge_cases() {
        let f = parse("{a=1&b=2").unwrap();
        assert_eq!(f["{a"], "1");
        assert!(parse("").unwrap().is_empty());
        assert!(parse("  ").unwrap().is_empty());
        assert_eq!(parse("a").unwrap(), m(&[("a", "")]));
        assert_eq!(parse("a=1&b").unwrap(), m(&[("a", "1"), ("b", "")]));
        assert_eq!(parse("a=1&&b=2").unwrap()["&b"], "2");
        assert!(matches!(parse("=1"), Err(QStringError::EmptyKey { .. })));
        assert!(matches!(parse("a=1&"), Err(QStringError::EmptyKey { .. })));
        // Unclosed region swallows the rest.
        assert_eq!(parse("a={1&b=2").unwrap(), m(&[("a", "{1&b=2")]));
        // Duplicates: last wins in the map, both in the pairs.
        assert_eq!(parse("a=1&a=2").unwrap()["a"], "2");
        assert_eq!(parse_pairs("a=1&a=2").unwrap().len(), 2);
        // Non-ASCII values stay as they are.
        assert_eq!(parse("m=成功[0000000]&x=1").unwrap()["m"], "成功[0000000]");
    }

    #[test]
    fn form_round_trip() {
        let f = m(&[
            ("cert", "-----BEGIN\r\nA+/=\r\n"),
            ("msg", "成功 [0]"),
            ("x", ""),
        ]);
        let body = form_encode(&f);
        assert!(body.contains("%0D%0A") && body.contains("%2B%2F%3D") && body.contains('+'));
        let back: Fields = form_decode(body.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect();
        assert_eq!(back, f);
        assert!(form_decode(b"a=%4").is_err());
        assert!(form_decode(b"a=%zz").is_err());
        assert_eq!(form_decode(b"a=1&&b").unwrap().len(), 2);
    }

    #[test]
    fn qstring_parse_vectors() {
        let Some((_, cases)) = crate::test_vectors::cases("qstring_parse_vectors", "qstring_parse")
        else {
            return;
        };
        assert_eq!(cases.len(), 4);
        for c in &cases {
            let got = parse(crate::test_vectors::s(c, "inputs.body")).unwrap();
            let want: Fields = c["expected"]["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            assert_eq!(got, want, "{}", c["id"]);
            if let Some(n) = c["expected"]["field_count"].as_u64() {
                assert_eq!(got.len() as u64, n);
            }
        }
    }

    #[test]
    fn raw_string_sorted() {
        let f = m(&[("b", "2"), ("a", "1"), ("accNo", "x"), ("accessType", "0")]);
        assert_eq!(to_raw_string(&f), "a=1&accNo=x&accessType=0&b=2");
    }
}
