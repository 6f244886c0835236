//! The payer's web page at `/`: open orders of every channel, with buttons that post to the
//! control API and come back here, and a form that scans a QR code URL.

use std::fmt::Write as _;

use crate::server::{MockResponse, Shared};
use crate::state::OrderStatus;

/// Escape text for HTML element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a path segment (RFC 3986 unreserved characters stay).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The wallets offered per channel: (code, label).
fn wallets(channel: payagg_core::Channel) -> &'static [(&'static str, &'static str)] {
    use payagg_core::Channel;
    const CARDS: [(&str, &str); 4] = [
        ("CMB_DEBIT", "招商银行借记卡"),
        ("ICBC_DEBIT", "工商银行借记卡"),
        ("CMB_CREDIT", "招商银行信用卡"),
        ("ICBC_CREDIT", "工商银行信用卡"),
    ];
    const WECHAT: [(&str, &str); 5] = [
        ("BALANCE", "零钱 (OTHERS)"),
        CARDS[0],
        CARDS[1],
        CARDS[2],
        CARDS[3],
    ];
    const ALIPAY: [(&str, &str); 6] = [
        ("BALANCE", "余额 (ALIPAYACCOUNT)"),
        ("PCREDIT", "花呗 (PCREDIT)"),
        CARDS[0],
        CARDS[1],
        CARDS[2],
        CARDS[3],
    ];
    const UNIONPAY: [(&str, &str); 2] = [("CMB_DEBIT", "借记卡"), ("CMB_CREDIT", "信用卡")];
    match channel {
        Channel::Alipay => &ALIPAY,
        Channel::Unionpay => &UNIONPAY,
        _ => &WECHAT,
    }
}

/// A `<select name="wallet">` of what a payer of `channel` can pay with.
pub(crate) fn wallet_select(channel: payagg_core::Channel) -> String {
    let mut out = String::from("<select name=\"wallet\" title=\"pay with\">");
    for (code, label) in wallets(channel) {
        let _ = write!(out, "<option value=\"{code}\">{}</option>", escape(label));
    }
    out.push_str("</select>");
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:70em}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.4em;text-align:left}\
form{display:inline;margin-right:.3em}button{cursor:pointer}.muted{color:#777}";

/// `GET /`.
pub(crate) fn payer_page(shared: &Shared) -> MockResponse {
    let now = shared.now();
    shared.store.expire(now);
    let orders = shared.store.orders();
    let mut open: Vec<_> = orders.iter().filter(|o| o.status.is_open()).collect();
    open.sort_by_key(|o| std::cmp::Reverse(o.created_at));
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>payagg-mock payer</title><style>{STYLE}</style></head><body>\n\
         <h1>payagg-mock: pay as a customer</h1>\n\
         <p class=\"muted\">Simulator clock: {} · {} open of {} orders</p>\n",
        escape(&crate::wechat::rfc3339(now)),
        open.len(),
        orders.len()
    );
    if open.is_empty() {
        html.push_str("<p>No open orders. Create one with a client, then reload.</p>\n");
    } else {
        html.push_str(
            "<table><thead><tr><th>Channel</th><th>Order</th><th>Amount</th><th>What</th>\
             <th>Type</th><th>State</th><th>Expires</th><th>Act</th></tr></thead><tbody>\n",
        );
        for o in open {
            let channel = o.channel.to_string();
            let base = format!(
                "/__mock/orders/{}/{}",
                encode_segment(&channel),
                encode_segment(&o.out_trade_no)
            );
            let state = match o.status {
                OrderStatus::UserPaying => "entering password",
                _ => "not paid",
            };
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>",
                escape(&channel),
                escape(&o.out_trade_no),
                escape(&o.amount.to_string()),
                escape(&o.description),
                escape(&o.trade_type),
                state,
                escape(&crate::wechat::rfc3339(o.expire_at)),
            );
            let wallet = wallet_select(o.channel);
            let _ = write!(
                html,
                "<form method=\"post\" action=\"{}/pay?return=/\">{wallet} <button type=\"submit\">Pay</button></form>",
                escape(&base)
            );
            for (action, label) in [("fail", "Fail"), ("expire", "Expire")] {
                let _ = write!(
                    html,
                    "<form method=\"post\" action=\"{}/{action}?return=/\"><button type=\"submit\">{label}</button></form>",
                    escape(&base)
                );
            }
            if let Some(code) = qr_code(o) {
                let _ = write!(
                    html,
                    "<form method=\"post\" action=\"/__mock/scan?return=/\">\
                     <input type=\"hidden\" name=\"code_url\" value=\"{}\">{wallet} \
                     <button type=\"submit\" title=\"{}\">Scan</button></form>",
                    escape(code),
                    escape(code)
                );
            }
            if let Some(h5) = o.prepay.get("h5_url").and_then(serde_json::Value::as_str) {
                let _ = write!(
                    html,
                    "<a href=\"{}\" title=\"the h5_url: WeChat's H5 payment page\">H5 page</a>",
                    escape(h5)
                );
            }
            html.push_str("</td></tr>\n");
        }
        html.push_str("</tbody></table>\n");
    }
    html.push_str(
        "<h2>Scan a QR code</h2>\n<form method=\"post\" action=\"/__mock/scan?return=/\">\
         <label>Code URL <input name=\"code_url\" size=\"60\" \
         placeholder=\"weixin://wxpay/bizpayurl?pr=… or the Alipay qr_code\"></label> \
         <label>Payer <input name=\"payer\" size=\"24\" placeholder=\"openid or buyer id\"></label> \
         <label>Wallet <select name=\"wallet\"><option value=\"BALANCE\">零钱 / 余额</option>\
         <option value=\"PCREDIT\">花呗 (Alipay)</option><option value=\"CMB_DEBIT\">招商银行借记卡</option>\
         <option value=\"ICBC_CREDIT\">工商银行信用卡</option></select></label> \
         <button type=\"submit\">Scan and pay</button></form>\n",
    );
    let waiting: Vec<_> = shared
        .wechat
        .transfer_records()
        .into_iter()
        .filter(|t| t.state == "WAIT_USER_CONFIRM")
        .collect();
    if !waiting.is_empty() {
        html.push_str(
            "<h2>Transfers waiting for the payee</h2>\n<table><thead><tr><th>Channel</th>\
             <th>Bill</th><th>Amount (fen)</th><th>Payee</th><th>Remark</th><th>Act</th></tr>\
             </thead><tbody>\n",
        );
        for t in waiting {
            let base = format!(
                "/__mock/transfers/wechat/{}",
                encode_segment(&t.out_bill_no)
            );
            let _ = write!(
                html,
                "<tr><td>wechat</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>",
                escape(&t.out_bill_no),
                t.amount,
                escape(&t.openid),
                escape(&t.remark),
            );
            for (action, label) in [("confirm", "Confirm"), ("fail", "Fail")] {
                let _ = write!(
                    html,
                    "<form method=\"post\" action=\"{}/{action}?return=/\"><button type=\"submit\">{label}</button></form>",
                    escape(&base)
                );
            }
            html.push_str("</td></tr>\n");
        }
        html.push_str("</tbody></table>\n");
    }
    html.push_str(
        "<p class=\"muted\">Each button posts to the control API (<code>/__mock/</code>, see the \
         payagg-mock crate docs) and comes back here.</p>\n</body></html>\n",
    );
    MockResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: bytes::Bytes::from(html),
    }
}

/// The merchant-presented QR code of an order: WeChat Native `code_url`, Alipay `qr_code`.
fn qr_code(o: &crate::state::Order) -> Option<&str> {
    ["code_url", "qr_code"]
        .iter()
        .find_map(|k| o.prepay.get(k).and_then(serde_json::Value::as_str))
}

/// `303 See Other` back to `to` (a local path only).
pub(crate) fn redirect(to: &str) -> Option<MockResponse> {
    if !to.starts_with('/') || to.starts_with("//") || to.contains(['\r', '\n', '\\']) {
        return None;
    }
    Some(MockResponse {
        status: 303,
        headers: vec![
            ("Location".into(), to.to_owned()),
            ("Content-Type".into(), "text/plain; charset=utf-8".into()),
        ],
        body: bytes::Bytes::from_static(b"See Other"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_encodes() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(encode_segment("A|B*c-1"), "A%7CB%2Ac-1");
        assert!(redirect("//evil.example").is_none());
        assert!(redirect("https://evil.example").is_none());
        assert_eq!(redirect("/").map(|r| r.status), Some(303));
    }
}
