//! The WeChat H5 middle page behind `h5_url`: WeChat's is
//! `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=…&package=…`; the
//! simulator's has the same path and query under its own base URL, so a browser (or a test
//! that behaves like one) can follow it.
//!
//! `GET` shows the order and the payer's choices (pay with a wallet, fail, let it expire);
//! the form posts back to the same URL. As on the real page, the merchant may append
//! `&redirect_url=<urlencoded>`: after the payer acts, the page sends them there (`303`);
//! without it, back to the page that linked here (the `Referer` of the `GET`), else it shows
//! the result. Like WeChat, it does not say on the return how the payment ended: the
//! merchant queries or waits for the notification.

use std::fmt::Write as _;

use payagg_core::Channel;

use super::WechatSim;
use crate::page::{escape, wallet_select};
use crate::server::{Action, MockRequest, MockResponse, Shared, percent_decode};
use crate::state::{Order, OrderStatus};
use crate::wallet::{PayAs, Wallet};

/// The H5 middle page's path, as on `wx.tenpay.com`.
pub(crate) const H5_PATH: &str = "/cgi-bin/mmpayweb-bin/checkmweb";

fn html(status: u16, title: &str, body: &str) -> MockResponse {
    MockResponse {
        status,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: bytes::Bytes::from(format!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{} · 微信支付 (payagg-mock)</title></head><body>\n{body}\n</body></html>\n",
            escape(title)
        )),
    }
}

/// The page for a request WeChat's would refuse (unknown `prepay_id`, wrong `package`).
fn refused(status: u16, why: &str) -> MockResponse {
    html(
        status,
        "商家参数格式有误",
        &format!(
            "<h1>商家参数格式有误，请联系商家解决</h1><p id=\"error\">{}</p>",
            escape(why)
        ),
    )
}

/// The page's answer to the fault injector's system error.
pub(crate) fn busy() -> MockResponse {
    html(
        500,
        "系统繁忙",
        "<h1>系统繁忙，请稍后再试</h1><p id=\"error\">SYSTEM_ERROR</p>",
    )
}

/// An absolute `http(s)` URL safe to put in a `Location` header.
fn return_url(u: &str) -> Option<&str> {
    let u = u.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    ((lower.starts_with("http://") || lower.starts_with("https://"))
        && !u.contains(['\r', '\n', '\0']))
    .then_some(u)
}

/// `prepay_id` and `package` of an `h5_url`.
fn h5_ids(url: &str) -> Option<(String, String)> {
    let (_, query) = url.split_once('?')?;
    let get = |name: &str| {
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| percent_decode(v, true))
        })
    };
    Some((get("prepay_id")?, get("package")?))
}

/// The urlencoded fields of a form post.
fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(k, true),
                percent_decode(v, true).trim().to_owned(),
            )
        })
        .collect()
}

fn state_text(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::NotPaid => "待支付",
        OrderStatus::UserPaying => "支付中",
        OrderStatus::Success => "已支付",
        OrderStatus::Closed => "订单已关闭",
        OrderStatus::Revoked => "订单已撤销",
        OrderStatus::PayError => "支付失败",
    }
}

impl WechatSim {
    /// The `h5_url` of a new H5 order.
    pub(crate) fn h5_url(&self, prepay_id: &str, package: &str) -> String {
        format!(
            "{}{H5_PATH}?prepay_id={prepay_id}&package={package}",
            self.base_url
        )
    }

    /// The order an `h5_url`'s `prepay_id` and `package` name, if any.
    fn h5_order(shared: &Shared, prepay_id: &str, package: &str) -> Result<Order, MockResponse> {
        shared.store.expire(shared.now());
        let orders = shared.store.orders();
        let found = orders.into_iter().find(|o| {
            o.channel == Channel::Wechat
                && o.prepay
                    .get("h5_url")
                    .and_then(serde_json::Value::as_str)
                    .and_then(h5_ids)
                    .is_some_and(|(p, _)| p == prepay_id)
        });
        let Some(o) = found else {
            return Err(refused(404, &format!("prepay_id {prepay_id} 不存在")));
        };
        let expected = o
            .prepay
            .get("h5_url")
            .and_then(serde_json::Value::as_str)
            .and_then(h5_ids)
            .map(|(_, k)| k);
        if expected.as_deref() != Some(package) {
            return Err(refused(400, "package 与 prepay_id 不匹配"));
        }
        Ok(o)
    }

    /// `GET` / `POST` on the H5 middle page.
    pub(crate) fn h5_page(&self, shared: &Shared, req: &MockRequest) -> MockResponse {
        let (Some(prepay_id), Some(package)) =
            (req.query_param("prepay_id"), req.query_param("package"))
        else {
            return refused(400, "缺少参数 prepay_id 或 package");
        };
        let order = match Self::h5_order(shared, &prepay_id, &package) {
            Ok(o) => o,
            Err(r) => return r,
        };
        match req.method {
            http::Method::GET | http::Method::HEAD => Self::h5_show(&order, req),
            http::Method::POST => Self::h5_act(shared, &order, req),
            _ => html(405, "Method Not Allowed", "<p>GET or POST</p>"),
        }
    }

    fn h5_show(o: &Order, req: &MockRequest) -> MockResponse {
        let back = req
            .query_param("redirect_url")
            .filter(|u| return_url(u).is_some());
        let mut body = format!(
            "<h1>微信支付</h1>\n<p>商户号 <span id=\"mchid\">{}</span></p>\n\
             <p><span id=\"description\">{}</span></p>\n\
             <p>订单号 <span id=\"out_trade_no\">{}</span> · 金额 ¥<span id=\"amount\">{}</span></p>\n\
             <p>状态 <span id=\"state\">{}</span></p>\n",
            escape(&o.merchant),
            escape(&o.description),
            escape(&o.out_trade_no),
            escape(&o.amount.to_major_string()),
            state_text(o.status),
        );
        if o.status.is_open() {
            // Without redirect_url the payer goes back where they came from, as on WeChat's.
            let referer = req
                .header("referer")
                .filter(|r| back.is_none() && return_url(r).is_some())
                .map(|r| {
                    format!(
                        "<input type=\"hidden\" name=\"referer\" value=\"{}\">",
                        escape(r)
                    )
                })
                .unwrap_or_default();
            let _ = write!(
                body,
                "<form id=\"pay\" method=\"post\" action=\"{}\">{referer}\
                 <label>付款方 openid <input name=\"payer\" size=\"32\"></label> \
                 <label>支付方式 {}</label>\n\
                 <button type=\"submit\" name=\"action\" value=\"pay\">确认支付 (pay)</button>\n\
                 <button type=\"submit\" name=\"action\" value=\"fail\">支付失败 (fail)</button>\n\
                 <button type=\"submit\" name=\"action\" value=\"expire\">放弃，任其过期 (expire)</button>\n\
                 </form>",
                escape(&req.target),
                wallet_select(Channel::Wechat),
            );
        } else if let Some(u) = back {
            let _ = write!(
                body,
                "<p><a id=\"back\" href=\"{}\">返回商家 (back to the merchant)</a></p>",
                escape(&u)
            );
        }
        html(200, "微信支付", &body)
    }

    fn h5_act(shared: &Shared, o: &Order, req: &MockRequest) -> MockResponse {
        let fields = form(&req.body);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let action = match get("action").as_deref() {
            None | Some("pay") => Action::Pay,
            Some("fail") => Action::Fail,
            Some("expire") => Action::Expire,
            Some(other) => {
                return html(
                    400,
                    "参数错误",
                    &format!(
                        "<p id=\"error\">action must be pay, fail or expire, not {}</p>",
                        escape(other)
                    ),
                );
            }
        };
        let wallet = match get("wallet").map(|w| w.parse::<Wallet>()).transpose() {
            Ok(w) => w.unwrap_or_default(),
            Err(e) => {
                return html(
                    400,
                    "参数错误",
                    &format!("<p id=\"error\">{}</p>", escape(&e.to_string())),
                );
            }
        };
        let pay = PayAs {
            payer: get("payer"),
            wallet,
        };
        let done = match shared.act(Channel::Wechat, &o.out_trade_no, action, &pay) {
            Ok(o) => o,
            Err(e) => {
                return html(
                    409,
                    state_text(o.status),
                    &format!("<p id=\"error\">{}</p>", escape(&e.to_string())),
                );
            }
        };
        let back = req
            .query_param("redirect_url")
            .or_else(|| get("referer"))
            .filter(|u| return_url(u).is_some());
        match back {
            Some(to) => MockResponse {
                status: 303,
                headers: vec![
                    ("Location".into(), to.trim().to_owned()),
                    ("Content-Type".into(), "text/plain; charset=utf-8".into()),
                ],
                body: bytes::Bytes::from_static(b"See Other"),
            },
            None => html(
                200,
                state_text(done.status),
                &format!(
                    "<h1 id=\"state\">{}</h1><p>订单号 {}</p>",
                    state_text(done.status),
                    escape(&done.out_trade_no)
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_and_ids() {
        assert_eq!(
            return_url(" https://m.example.com/r?x=1 "),
            Some("https://m.example.com/r?x=1")
        );
        assert!(return_url("javascript:alert(1)").is_none());
        assert!(return_url("/local").is_none());
        assert!(return_url("https://a.example\r\nSet-Cookie: x").is_none());
        assert_eq!(
            h5_ids("http://h/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=42"),
            Some(("wx1".into(), "42".into()))
        );
        assert_eq!(h5_ids("http://h/x?prepay_id=wx1"), None);
    }
}
