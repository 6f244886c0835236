//! `application/x-www-form-urlencoded` encoding and decoding (no extra dependency).

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes `s`: unreserved `A-Z a-z 0-9 - _ . ~` kept; space as `+` when
/// `space_plus` (form / Java `URLEncoder` / Python `urlencode`), else `%20` (RFC 3986).
pub(crate) fn encode(s: &str, space_plus: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if space_plus => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    out
}

/// `k=v&k=v` with both sides encoded.
pub(crate) fn encode_pairs<K: AsRef<str>, V: AsRef<str>>(
    pairs: &[(K, V)],
    space_plus: bool,
) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode(k.as_ref(), space_plus));
        out.push('=');
        out.push_str(&encode(v.as_ref(), space_plus));
    }
    out
}

fn unhex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one component to bytes (`+` → space, `%XX` → byte; a malformed `%` is kept).
fn decode_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (unhex(s[i + 1]), unhex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decodes a whole form exactly once. Values are decoded as UTF-8, or as GBK when the form's
/// own `charset` field says so (GBK requests get GBK notifications).
pub(crate) fn decode_form(body: &[u8]) -> Vec<(String, String)> {
    let raw: Vec<(Vec<u8>, Vec<u8>)> = body
        .split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut it = p.splitn(2, |&b| b == b'=');
            let k = it.next().unwrap_or_default();
            let v = it.next().unwrap_or_default();
            (decode_bytes(k), decode_bytes(v))
        })
        .collect();
    let gbk = raw.iter().any(|(k, v)| {
        k == b"charset" && (v.eq_ignore_ascii_case(b"gbk") || v.eq_ignore_ascii_case(b"gb2312"))
    });
    raw.into_iter()
        .map(|(k, v)| {
            let dec = |b: Vec<u8>| {
                if gbk {
                    encoding_rs::GBK.decode(&b).0.into_owned()
                } else {
                    String::from_utf8(b)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                }
            };
            (dec(k), dec(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = "a b&c=d/中%";
        assert_eq!(encode(s, true), "a+b%26c%3Dd%2F%E4%B8%AD%25");
        assert_eq!(encode(s, false), "a%20b%26c%3Dd%2F%E4%B8%AD%25");
        let body = format!("k={}&x=%ZZ&e=&charset=utf-8", encode(s, true));
        let f = decode_form(body.as_bytes());
        assert_eq!(f[0], ("k".into(), s.into()));
        assert_eq!(f[1].1, "%ZZ");
        assert_eq!(f[2].1, "");
        assert_eq!(decode_form(b"a=%E4")[0].1, "\u{fffd}");
        let gbk = decode_form(b"charset=GBK&s=%D6%D0");
        assert_eq!(gbk[1].1, "中");
        assert_eq!(decode_form(b"a=%4")[0].1, "%4");
    }
}
