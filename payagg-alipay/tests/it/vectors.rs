//! The shared Alipay vectors (`$PAYAGG_VECTORS/alipay/vectors.json`, else
//! `../shared/vectors/alipay/` beside the workspace: `payagg_core::test_util::vectors_dir`):
//! skipped with a note when neither exists, a failure when a file is missing.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use payagg_alipay::aes::AesKey;
use payagg_alipay::bill::{
    GbkTradeBillParser, TradeBillParser, check_summary, check_summary_gbk, unzip_bill,
    unzip_bill_raw,
};
use payagg_alipay::sign::{
    self, NotifyRule, SignType, cert_sn_from_pem, extract_response, notify_sign_content,
    root_cert_sn_from_pem, sign_content,
};
use payagg_core::crypto::{Certificate, RsaPrivateKey, RsaPublicKey};
use payagg_core::statement::{RecordKind, StatementParser};
use serde_json::Value;

fn dir() -> Option<PathBuf> {
    payagg_core::test_util::vectors_dir(env!("CARGO_MANIFEST_DIR"), "the Alipay vectors")
        .map(|d| d.join("alipay"))
}

fn read(dir: &std::path::Path, name: &str) -> String {
    let p = dir.join(name);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("vector file {} missing: {e}", p.display()))
}

fn cases(kind: &str) -> Option<(PathBuf, Vec<Value>)> {
    let d = dir()?;
    let all: Value = serde_json::from_str(&read(&d, "vectors.json")).unwrap();
    let v: Vec<Value> = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect();
    assert!(!v.is_empty(), "no {kind} vectors");
    Some((d, v))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn params(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), s(v).to_owned()))
        .collect()
}

fn public_key(d: &std::path::Path, inputs: &Value) -> RsaPublicKey {
    if let Some(f) = inputs["public_key_file"].as_str() {
        RsaPublicKey::from_pem(&read(d, f)).unwrap()
    } else {
        let f = s(&inputs["public_key_certificate_file"]);
        Certificate::from_pem(&read(d, f))
            .unwrap()
            .public_key()
            .unwrap()
    }
}

#[test]
fn request_sign() {
    let Some((d, cases)) = cases("request_sign") else {
        return;
    };
    for c in cases {
        let id = s(&c["id"]);
        let key = RsaPrivateKey::from_pem(&read(&d, s(&c["inputs"]["private_key_file"]))).unwrap();
        let exp = &c["expected"];
        let content = if let Some(p) = c["inputs"].get("params") {
            sign_content(params(p))
        } else {
            let i = &c["inputs"];
            let msg = sign::v3_request_message(
                s(&i["auth_string"]),
                s(&i["method"]),
                s(&i["path_and_query"]),
                s(&i["body"]).as_bytes(),
                i["app_auth_token"].as_str(),
            );
            let auth = sign::v3_authorization(s(&i["auth_string"]), s(&exp["sign"]));
            assert_eq!(auth, s(&exp["authorization"]), "{id}");
            String::from_utf8(msg).unwrap()
        };
        assert_eq!(content, s(&exp["string_to_sign"]), "{id}");
        assert_eq!(
            sign::sign(&key, SignType::Rsa2, content.as_bytes()),
            s(&exp["sign"]),
            "{id}"
        );
        if let Some(order) = exp["order_string"].as_str() {
            // Our order string: sorted, RFC 3986 encoded; compare decoded pairs.
            let mut p = params(&c["inputs"]["params"]);
            p.push(("sign".into(), s(&exp["sign"]).into()));
            p.sort();
            let got: Vec<String> = order
                .split('&')
                .map(|kv| kv.split('=').next().unwrap().to_owned())
                .collect();
            let want: Vec<String> = p.iter().map(|(k, _)| k.clone()).collect();
            assert_eq!(got, want, "{id} order");
        }
    }
}

#[test]
fn response_verify() {
    let Some((d, cases)) = cases("response_verify") else {
        return;
    };
    for c in cases {
        let id = s(&c["id"]);
        let i = &c["inputs"];
        let key = public_key(&d, i);
        let content: Vec<u8> = if let Some(body) = i["body"].as_str() {
            let method = s(&i["response_node"])
                .trim_end_matches("_response")
                .replace('_', ".");
            let ex = extract_response(body.as_bytes(), &method).unwrap();
            assert_eq!(
                ex.content,
                s(&c["expected"]["signed_content"]).as_bytes(),
                "{id}"
            );
            assert_eq!(ex.sign.as_deref(), Some(s(&c["expected"]["sign"])), "{id}");
            ex.content.to_vec()
        } else {
            s(&i["signed_content"]).as_bytes().to_vec()
        };
        let sig = c["expected"]["sign"]
            .as_str()
            .or(i["sign"].as_str())
            .unwrap();
        assert!(
            sign::verify(&key, SignType::Rsa2, &content, sig).is_ok(),
            "{id}"
        );
        if c["expected"]["unescaped_slash_content_valid"] == false {
            let alt = String::from_utf8(content.clone())
                .unwrap()
                .replace("\\/", "/");
            assert!(
                sign::verify(&key, SignType::Rsa2, alt.as_bytes(), sig).is_err(),
                "{id}"
            );
        }
        let mut tampered = content.clone();
        tampered[2] ^= 1;
        assert!(
            sign::verify(&key, SignType::Rsa2, &tampered, sig).is_err(),
            "{id}"
        );
    }
}

#[test]
fn extract_sign_content() {
    let Some((_, cases)) = cases("extract_sign_content") else {
        return;
    };
    for c in cases {
        let id = s(&c["id"]);
        let i = &c["inputs"];
        let method = s(&i["response_node"])
            .trim_end_matches("_response")
            .replace('_', ".");
        let ex = extract_response(s(&i["body"]).as_bytes(), &method).unwrap();
        assert_eq!(
            std::str::from_utf8(ex.content).unwrap(),
            s(&c["expected"]["signed_content"]),
            "{id}"
        );
    }
}

#[test]
fn params_verify() {
    let Some((d, cases)) = cases("params_verify") else {
        return;
    };
    for c in cases {
        let id = s(&c["id"]);
        let i = &c["inputs"];
        let key = public_key(&d, i);
        let p = params(&i["params"]);
        let content = notify_sign_content(p.iter().map(|(k, v)| (k, v)), NotifyRule::V2);
        assert_eq!(content, s(&c["expected"]["content"]), "{id}");
        let st = SignType::parse(s(&i["sign_type"])).unwrap();
        let sig = &p.iter().find(|(k, _)| k == "sign").unwrap().1;
        assert!(
            sign::verify(&key, st, content.as_bytes(), sig).is_ok(),
            "{id}"
        );
        let other = if st == SignType::Rsa {
            SignType::Rsa2
        } else {
            SignType::Rsa
        };
        assert!(
            sign::verify(&key, other, content.as_bytes(), sig).is_err(),
            "{id}"
        );
        assert_eq!(
            sign::verify_notification(&key, &p),
            Ok(NotifyRule::V2),
            "{id}"
        );
    }
}

#[test]
fn notify_verify() {
    let Some((d, cases)) = cases("notify_verify") else {
        return;
    };
    for c in cases {
        let id = s(&c["id"]);
        let i = &c["inputs"];
        let key = public_key(&d, i);
        let p = params(&i["fields"]);
        let exp = &c["expected"];
        let rule = match sign::verify_notification(&key, &p) {
            Ok(r) => r,
            Err(e) => panic!("{id}: {e}"),
        };
        let content = notify_sign_content(p.iter().map(|(k, v)| (k, v)), rule);
        assert_eq!(content, s(&exp["content"]), "{id}");
        if exp["content_with_sign_type_valid"] == false {
            assert_eq!(rule, NotifyRule::V1, "{id}");
        }
        if exp["content_without_sign_type_valid"] == false {
            assert_eq!(rule, NotifyRule::V2, "{id}");
        }
        if exp.get("tampered_service_code_58621634111_valid").is_some() {
            let mut t = p.clone();
            for (k, v) in &mut t {
                if k == "service_code" {
                    *v = "58621634111".into();
                }
            }
            assert!(sign::verify_notification(&key, &t).is_err(), "{id}");
        }
    }
}

#[test]
fn cert_sn() {
    let Some((d, cases)) = cases("cert_sn") else {
        return;
    };
    for c in cases {
        let id = s(&c["id"]);
        let i = &c["inputs"];
        let exp = &c["expected"];
        if let Some(f) = i["certificate_file"].as_str() {
            let pem = read(&d, f);
            let cert = Certificate::from_pem(&pem).unwrap();
            assert_eq!(cert.serial_decimal(), s(&exp["serial_decimal"]), "{id}");
            assert_eq!(
                format!("{}{}", cert.issuer_rfc4514(), cert.serial_decimal()),
                s(&exp["md5_input"]),
                "{id}"
            );
            assert_eq!(cert_sn_from_pem(&pem).unwrap(), s(&exp["cert_sn"]), "{id}");
        } else {
            let pem = read(&d, s(&i["root_bundle_file"]));
            assert_eq!(
                root_cert_sn_from_pem(&pem).unwrap(),
                s(&exp["alipay_root_cert_sn"]),
                "{id}"
            );
            let bundle = Certificate::pem_bundle(&pem).unwrap();
            for (cert, e) in bundle.iter().zip(exp["certificates"].as_array().unwrap()) {
                assert_eq!(
                    cert.signature_algorithm_oid(),
                    s(&e["signature_algorithm_oid"]),
                    "{id}"
                );
                assert_eq!(sign::cert_sn(cert), s(&e["md5"]), "{id}");
            }
        }
    }
}

#[test]
fn cert_public_key() {
    let Some((d, cases)) = cases("cert_public_key") else {
        return;
    };
    for c in cases {
        let cert = Certificate::from_pem(&read(&d, s(&c["inputs"]["certificate_file"]))).unwrap();
        let spki = B64.encode(cert.public_key().unwrap().spki_der());
        assert_eq!(
            spki,
            s(&c["expected"]["public_key_spki_b64"]),
            "{}",
            s(&c["id"])
        );
    }
}

#[test]
fn aes_cbc() {
    let Some((_, cases)) = cases("aes_cbc") else {
        return;
    };
    for c in cases {
        let key = AesKey::from_base64(s(&c["inputs"]["key_b64"])).unwrap();
        let plain = s(&c["inputs"]["plaintext"]);
        let ct = s(&c["expected"]["ciphertext_b64"]);
        assert_eq!(key.encrypt_b64(plain.as_bytes()), ct, "{}", s(&c["id"]));
        assert_eq!(
            key.decrypt_b64(ct).unwrap(),
            plain.as_bytes(),
            "{}",
            s(&c["id"])
        );
    }
}

#[test]
fn bill_parse() {
    let Some((d, cases)) = cases("bill_parse") else {
        return;
    };
    for c in cases {
        let id = s(&c["id"]);
        let i = &c["inputs"];
        let p = d.join(s(&i["file"]));
        let zip = std::fs::read(&p).unwrap_or_else(|e| panic!("{} missing: {e}", p.display()));
        let files = unzip_bill(&zip).unwrap();
        check_summary(&files).unwrap();
        let exp = &c["expected"];
        let header: Vec<&str> = files
            .detail
            .lines()
            .find(|l| !l.starts_with('#'))
            .unwrap()
            .split(',')
            .collect();
        let want: Vec<&str> = exp["detail_header_columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(s)
            .collect();
        assert_eq!(header, want, "{id}");
        let recs: Vec<_> = TradeBillParser
            .records(files.detail.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        // The client's path: GBK kept, checked and parsed line by line, same records.
        let raw = unzip_bill_raw(&zip).unwrap();
        assert!(
            std::str::from_utf8(&raw.detail).is_err(),
            "{id}: detail is GBK"
        );
        check_summary_gbk(&raw).unwrap();
        let streamed: Vec<_> = GbkTradeBillParser
            .records(&raw.detail)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(streamed, recs, "{id}");
        let want = exp["records"].as_array().unwrap();
        assert_eq!(recs.len(), want.len(), "{id}");
        let (mut pay, mut refund, mut fee, mut net) = (0i64, 0i64, 0i64, 0i64);
        for (r, w) in recs.iter().zip(want) {
            assert_eq!(
                r.merchant_order_no.as_deref(),
                w["merchant_order_no"].as_str(),
                "{id}"
            );
            assert_eq!(
                r.channel_trade_no.as_deref(),
                w["channel_trade_no"].as_str(),
                "{id}"
            );
            assert_eq!(
                r.merchant_refund_no.as_deref(),
                w["merchant_refund_no"].as_str(),
                "{id}"
            );
            let gross = r.gross.to_minor_exact(2).unwrap();
            let f = -r.fee.to_minor_exact(2).unwrap();
            assert_eq!(gross.abs(), w["amount_fen"].as_i64().unwrap(), "{id}");
            assert_eq!(f, w["fee_fen"].as_i64().unwrap(), "{id}");
            let kind = if w["type"] == "refund" {
                RecordKind::Refund
            } else {
                RecordKind::Payment
            };
            assert_eq!(r.kind, kind, "{id}");
            assert_eq!(
                r.occurred_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap(),
                s(&w["time"]),
                "{id}"
            );
            assert_eq!(
                r.gross.to_string(),
                s(&w["raw_signed"]["订单金额（元）"]),
                "{id}"
            );
            if r.kind == RecordKind::Refund {
                refund += gross.abs();
            } else {
                pay += gross;
            }
            fee += f;
            net += r.net.to_minor_exact(2).unwrap();
        }
        let t = &exp["totals"];
        assert_eq!(pay, t["payment_amount_fen"].as_i64().unwrap(), "{id}");
        assert_eq!(refund, t["refund_amount_fen"].as_i64().unwrap(), "{id}");
        assert_eq!(fee, t["fee_fen"].as_i64().unwrap(), "{id}");
        assert_eq!(net, t["net_settled_fen"].as_i64().unwrap(), "{id}");
    }
}
