//! The flat `<xml>` documents of APIv2.

use std::collections::BTreeMap;

use payagg_core::error::{DecodeError, Error, InvalidInput};
use quick_xml::events::{BytesCData, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

use payagg_core::Result;

/// Encode `params` as an APIv2 request body: `<xml><name><![CDATA[value]]></name>...</xml>`.
/// Numbers are written bare; a value containing `]]>` is written as escaped text.
///
/// ```
/// use std::collections::BTreeMap;
/// let p = BTreeMap::from([("body".to_owned(), "a<b".to_owned()), ("total_fee".to_owned(), "1".to_owned())]);
/// let xml = payagg_wechat::micropay::encode_xml(&p)?;
/// assert_eq!(xml, "<xml><body><![CDATA[a<b]]></body><total_fee>1</total_fee></xml>");
/// # Ok::<(), payagg_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] for a parameter name that is not a plain XML name.
pub fn encode_xml(params: &BTreeMap<String, String>) -> Result<String> {
    let mut w = Writer::new(Vec::with_capacity(
        64 + params
            .iter()
            .map(|(k, v)| 2 * k.len() + v.len() + 17)
            .sum::<usize>(),
    ));
    let io = |e: std::io::Error| {
        Error::InvalidInput(InvalidInput::new("xml", format!("cannot write: {e}")))
    };
    w.write_event(Event::Start(BytesStart::new("xml")))
        .map_err(io)?;
    for (k, v) in params {
        if k.is_empty()
            || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || k.as_bytes()[0].is_ascii_digit()
        {
            return Err(Error::InvalidInput(InvalidInput::new(
                "xml",
                format!("{k:?} is not a parameter name"),
            )));
        }
        w.write_event(Event::Start(BytesStart::new(k.as_str())))
            .map_err(io)?;
        if v.bytes().all(|b| b.is_ascii_digit()) || v.contains("]]>") {
            w.write_event(Event::Text(BytesText::new(v))).map_err(io)?;
        } else {
            w.write_event(Event::CData(BytesCData::new(v.as_str())))
                .map_err(io)?;
        }
        w.write_event(Event::End(BytesEnd::new(k.as_str())))
            .map_err(io)?;
    }
    w.write_event(Event::End(BytesEnd::new("xml")))
        .map_err(io)?;
    String::from_utf8(w.into_inner())
        .map_err(|e| Error::InvalidInput(InvalidInput::new("xml", format!("not UTF-8: {e}"))))
}

/// Decode an APIv2 answer: one `<xml>` root whose children are `name → text` fields (plain
/// or CDATA). DTDs are refused (no entity expansion, so no XXE), as are nested elements.
/// A repeated field keeps its last value.
///
/// # Errors
/// [`Error::Decode`] for anything else.
pub fn decode_xml(body: &[u8]) -> Result<BTreeMap<String, String>> {
    decode_inner(body).map_err(|e| {
        Error::Decode(DecodeError::new(format!("wechat APIv2 XML: {e}")).at("response body"))
    })
}

fn decode_inner(body: &[u8]) -> std::result::Result<BTreeMap<String, String>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut reader = Reader::from_str(text);
    let mut out = BTreeMap::new();
    let mut depth = 0u8;
    let mut seen_root = false;
    let mut field: Option<(String, String)> = None;
    loop {
        let ev = reader.read_event().map_err(|e| format!("malformed: {e}"))?;
        match ev {
            Event::Eof => break,
            Event::DocType(_) => return Err("a DTD is not allowed".into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec())
                    .map_err(|_| "bad element name".to_owned())?;
                match depth {
                    0 if name == "xml" && !seen_root => seen_root = true,
                    0 => return Err(format!("unexpected root <{name}>")),
                    1 => field = Some((name, String::new())),
                    _ => return Err("nested elements are not allowed".into()),
                }
                depth += 1;
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec())
                    .map_err(|_| "bad element name".to_owned())?;
                if depth != 1 {
                    return Err(format!("unexpected empty element <{name}/>"));
                }
                out.insert(name, String::new());
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((k, v)) = field.take()
                {
                    out.insert(k, v);
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| format!("text: {e}"))?;
                match (&mut field, depth) {
                    (Some((_, v)), 2) => v.push_str(&s),
                    _ if s.trim().is_empty() => {}
                    _ => return Err("text outside a field".into()),
                }
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| format!("CDATA: {e}"))?;
                match (&mut field, depth) {
                    (Some((_, v)), 2) => v.push_str(&s),
                    _ => return Err("CDATA outside a field".into()),
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r
                    .resolve_char_ref()
                    .map_err(|e| format!("character reference: {e}"))?
                {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| format!("reference: {e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_owned()
                    }
                };
                match (&mut field, depth) {
                    (Some((_, v)), 2) => v.push_str(&resolved),
                    _ => return Err("reference outside a field".into()),
                }
            }
        }
    }
    if !seen_root || depth != 0 {
        return Err("not a complete <xml> document".into());
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decodes_cdata_text_and_references() {
        let x = "<?xml version=\"1.0\"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  <total_fee>1</total_fee>\n  <body>a &amp; b &#x4E2D;</body><attach><![CDATA[]]></attach><e/>\n</xml>";
        let m = decode_xml(x.as_bytes()).unwrap();
        assert_eq!(m["return_code"], "SUCCESS");
        assert_eq!(m["total_fee"], "1");
        assert_eq!(m["body"], "a & b 中");
        assert_eq!(m["attach"], "");
        assert_eq!(m["e"], "");
    }

    #[test]
    fn refuses_dtds_nesting_and_garbage() {
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><a>&e;</a></xml>";
        assert!(decode_xml(xxe.as_bytes()).is_err());
        assert!(decode_xml(b"<xml><a><b>1</b></a></xml>").is_err());
        assert!(decode_xml(b"<html>502</html>").is_err());
        assert!(decode_xml(b"<xml><a>1</a>").is_err());
        assert!(decode_xml(b"").is_err());
        assert!(decode_xml(b"<xml><a>&bogus;</a></xml>").is_err());
    }

    #[test]
    fn encode_round_trips() {
        let p: BTreeMap<String, String> = [
            ("body", "咖啡 <x> ]]> y"),
            ("total_fee", "100"),
            ("attach", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let xml = encode_xml(&p).unwrap();
        assert_eq!(decode_xml(xml.as_bytes()).unwrap(), p);
        let bad: BTreeMap<String, String> =
            [("a b".to_owned(), "1".to_owned())].into_iter().collect();
        assert!(encode_xml(&bad).is_err());
    }
}
