//! Page / WAP / App pay: the simulator's own cashier page, where the payer pays or abandons;
//! the QR code URL of precreate (scanning = opening it); the signed return-URL redirect.

use bytes::Bytes;
use payagg_alipay::sign::{self as asign, NotifyRule, SignType};
use payagg_alipay::wire::{self, methods};
use payagg_core::Channel;
use serde_json::json;
use time::OffsetDateTime;

use super::ops::{self, NewTrade, extra_str, form_body, trade_status, yuan};
use super::{AlipaySim, Call, ymdhms};
use crate::server::{MockRequest, MockResponse, Shared, percent_decode};
use crate::state::Order;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(status: u16, body: &str) -> MockResponse {
    MockResponse {
        status,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: Bytes::from(format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>支付宝 - payagg-mock 收银台</title></head><body>{body}</body></html>"
        )),
    }
}

/// The cashier's error page (what Alipay shows instead of JSON for page/wap pay).
pub(crate) fn error_page(sub_code: &str, sub_msg: &str) -> MockResponse {
    let code = sub_code
        .trim_start_matches("isv.")
        .trim_start_matches("ACQ.");
    html(
        200,
        &format!(
            "<h1>支付宝收银台</h1><div class=\"error\">错误代码 <span id=\"sub_code\">{}</span> 错误原因: {}</div>",
            esc(code),
            esc(sub_msg)
        ),
    )
}

fn cashier_page(o: &Order) -> MockResponse {
    let status = trade_status(o);
    let t = esc(&o.transaction_id);
    let actions = if o.status.is_open() {
        format!(
            "<form method=\"post\" action=\"/alipay/cashier/{t}/pay\"><label>买家 user_id <input name=\"buyer_id\" value=\"{}\"></label> {} <button type=\"submit\">确认付款</button></form>\
             <form method=\"post\" action=\"/alipay/cashier/{t}/abandon\"><button type=\"submit\">放弃付款</button></form>",
            esc(&ops::buyer(o)),
            crate::page::wallet_select(o.channel)
        )
    } else {
        String::new()
    };
    html(
        200,
        &format!(
            "<h1>支付宝收银台 (payagg-mock)</h1><dl><dt>商品</dt><dd>{}</dd><dt>金额</dt><dd id=\"total_amount\">{}</dd>\
             <dt>商户订单号</dt><dd id=\"out_trade_no\">{}</dd><dt>支付宝交易号</dt><dd id=\"trade_no\">{t}</dd>\
             <dt>状态</dt><dd id=\"trade_status\">{status}</dd></dl>{actions}",
            esc(&o.description),
            yuan(o.amount.minor_units()),
            esc(&o.out_trade_no),
        ),
    )
}

impl AlipaySim {
    /// `alipay.trade.page.pay` / `wap.pay` / `app.pay` reaching the gateway (form POST, GET
    /// URL, or the app's order string): the trade exists from here on; answer the cashier.
    pub(super) fn page_pay(
        &self,
        shared: &Shared,
        call: &Call,
        now: OffsetDateTime,
    ) -> MockResponse {
        let c: wire::PagePayContent = match serde_json::from_str(&call.biz) {
            Ok(c) => c,
            Err(e) => return error_page("ACQ.INVALID_PARAMETER", &format!("参数无效: {e}")),
        };
        let Ok(fen) =
            payagg_core::Money::parse_major(c.total_amount.trim(), payagg_core::Currency::Cny)
                .map(|m| m.minor_units())
        else {
            return error_page("ACQ.INVALID_PARAMETER", "total_amount无效");
        };
        let default_product = match call.method.as_str() {
            methods::WAP_PAY => "QUICK_WAP_WAY",
            methods::APP_PAY => "QUICK_MSECURITY_PAY",
            _ => "FAST_INSTANT_TRADE_PAY",
        };
        let product = if c.product_code.is_empty() {
            default_product
        } else {
            c.product_code.as_str()
        };
        let expire_at = c
            .time_expire
            .as_deref()
            .and_then(super::parse_ymdhms)
            .unwrap_or(now + time::Duration::hours(2));
        let r = shared.store.with(now, |book| {
            ops::create(
                book,
                call,
                NewTrade {
                    out_trade_no: &c.out_trade_no,
                    fen,
                    subject: &c.subject,
                    body: c.body.as_deref(),
                    product_code: product,
                    expire_at,
                    extra: json!({
                        "scanned": true,
                        "return_url": call.return_url,
                        "passback_params": c.passback_params,
                    }),
                },
                now,
            )
            .map(|o| o.clone())
        });
        match r {
            Ok(o) => cashier_page(&o),
            Err(node) => {
                let v: serde_json::Value = serde_json::from_str(&node).unwrap_or_default();
                error_page(
                    v["sub_code"].as_str().unwrap_or(""),
                    v["sub_msg"].as_str().unwrap_or(""),
                )
            }
        }
    }

    /// `/alipay/qr/{trade_no}` (scan), `/alipay/cashier/{trade_no}[/pay|/abandon]`.
    pub(super) fn cashier(
        &self,
        shared: &Shared,
        req: &MockRequest,
        now: OffsetDateTime,
    ) -> MockResponse {
        let segs: Vec<String> = req
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let app = self.setup.app_id().to_owned();
        let get = |trade_no: &str, scan: bool| {
            shared.store.with(now, |book| {
                let o = book.by_transaction_id(Channel::Alipay, &app, trade_no)?;
                if scan && let Some(m) = o.extra.as_object_mut() {
                    m.insert("scanned".into(), json!(true));
                }
                Some(o.clone())
            })
        };
        let not_found = || error_page("ACQ.TRADE_NOT_EXIST", "交易不存在");
        match (req.method.as_str(), segs.as_slice()) {
            ("GET", ["alipay", "qr", t]) => {
                get(t, true).map_or_else(not_found, |o| cashier_page(&o))
            }
            ("GET", ["alipay", "cashier", t]) => {
                get(t, false).map_or_else(not_found, |o| cashier_page(&o))
            }
            ("POST", ["alipay", "cashier", t, "pay"]) => {
                let form: Vec<(String, String)> = String::from_utf8_lossy(&req.body)
                    .split('&')
                    .filter_map(|p| p.split_once('='))
                    .map(|(k, v)| (percent_decode(k, true), percent_decode(v, true)))
                    .collect();
                let field = |name: &str| {
                    form.iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.trim())
                        .filter(|v| !v.is_empty())
                };
                let pay = crate::PayAs {
                    payer: field("buyer_id").map(str::to_owned),
                    wallet: field("wallet")
                        .and_then(|w| w.parse().ok())
                        .unwrap_or_default(),
                };
                let Some(o) = self.pay_trade(shared, t, &pay) else {
                    return get(t, false).map_or_else(not_found, |o| cashier_page(&o));
                };
                match extra_str(&o, "return_url") {
                    Some(url) => {
                        let sep = if url.contains('?') { '&' } else { '?' };
                        let location =
                            format!("{url}{sep}{}", form_body(&self.return_params(&o, now)));
                        MockResponse {
                            status: 302,
                            headers: vec![("Location".into(), location)],
                            body: Bytes::new(),
                        }
                    }
                    None => cashier_page(&o),
                }
            }
            ("POST", ["alipay", "cashier", t, "abandon"]) => {
                get(t, false).map_or_else(not_found, |o| {
                    html(
                        200,
                        &format!(
                            "<h1>已放弃付款</h1><p>交易 {} 仍等待付款 (WAIT_BUYER_PAY)。</p>",
                            esc(&o.out_trade_no)
                        ),
                    )
                })
            }
            _ => html(404, "<h1>404</h1>"),
        }
    }

    /// The return-URL parameters (V1-signed, no `trade_status`).
    pub(crate) fn return_params(&self, o: &Order, now: OffsetDateTime) -> Vec<(String, String)> {
        let method = extra_str(o, "method").unwrap_or_else(|| methods::PAGE_PAY.to_owned());
        let mut p: Vec<(String, String)> = vec![
            ("charset".into(), "utf-8".into()),
            ("out_trade_no".into(), o.out_trade_no.clone()),
            ("method".into(), format!("{method}.return")),
            ("total_amount".into(), yuan(o.amount.minor_units())),
            ("trade_no".into(), o.transaction_id.clone()),
            ("auth_app_id".into(), o.merchant.clone()),
            ("version".into(), "1.0".into()),
            ("app_id".into(), o.merchant.clone()),
            ("sign_type".into(), "RSA2".into()),
            ("seller_id".into(), self.setup.seller_id().to_owned()),
            ("timestamp".into(), ymdhms(now)),
        ];
        let content = asign::notify_sign_content(
            p.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            NotifyRule::V1,
        );
        let sig = asign::sign(
            self.setup.alipay_private_key(),
            SignType::Rsa2,
            content.as_bytes(),
        );
        p.push(("sign".into(), sig));
        p
    }
}
