//! The payer's side and the merchant's receiving end: a browser that follows forms and
//! redirects to the simulator's cashier pages, a small reader for those pages, and the
//! notification receiver that verifies what the simulator delivered.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use payagg::mock::{Delivery, MockServer};
use payagg::pay::HtmlForm;
use payagg::transport::{HttpTransport, ReqwestTransport};
use payagg::{
    CallbackEvent, CallbackRequest, Channel, ExpectedOrder, Gateway, MerchantOrderNo, Trade,
    VerifiedCallback,
};

use crate::BoxError;

/// One aligned line of the story.
pub(crate) fn step(
    out: &mut dyn Write,
    what: &str,
    detail: impl std::fmt::Display,
) -> Result<(), BoxError> {
    writeln!(out, "  {what:<18} {detail}")?;
    Ok(())
}

/// A page as the browser received it.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

impl Page {
    /// The text of the element with `id` (the simulator's pages mark their data that way).
    pub(crate) fn element(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\"");
        let at = self.body.find(&marker)?;
        let rest = &self.body[at..];
        let start = rest.find('>')? + 1;
        let end = rest[start..].find('<')? + start;
        Some(unescape(&rest[start..end]))
    }

    /// The first form whose action satisfies `pred`, its action made absolute on `base`.
    pub(crate) fn form(&self, base: &str, pred: impl Fn(&str) -> bool) -> Option<HtmlForm> {
        let mut rest = self.body.as_str();
        while let Some(at) = rest.find("<form") {
            rest = &rest[at..];
            let end = rest.find("</form>").unwrap_or(rest.len());
            let block = &rest[..end];
            rest = &rest[end..];
            let tag = &block[..block.find('>').unwrap_or(block.len())];
            let Some(action) = attr(tag, "action") else {
                continue;
            };
            if !pred(&action) {
                continue;
            }
            let method = attr(tag, "method").unwrap_or_else(|| "GET".to_owned());
            let mut fields = Vec::new();
            let mut inputs = block;
            while let Some(i) = inputs.find("<input") {
                inputs = &inputs[i..];
                let t = &inputs[..inputs.find('>').unwrap_or(inputs.len())];
                if let Some(name) = attr(t, "name") {
                    fields.push((name, attr(t, "value").unwrap_or_default()));
                }
                inputs = &inputs[t.len()..];
            }
            let action = if action.starts_with('/') {
                format!("{base}{action}")
            } else {
                action
            };
            return Some(HtmlForm::new(action, method.to_ascii_uppercase(), fields));
        }
        None
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let at = tag.find(&marker)? + marker.len();
    let end = tag[at..].find('"')? + at;
    Some(unescape(&tag[at..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The payer's browser: no redirects followed on its own, so the story sees each hop.
#[derive(Debug)]
pub(crate) struct Browser {
    transport: ReqwestTransport,
}

impl Browser {
    pub(crate) fn new() -> Result<Self, BoxError> {
        Ok(Self {
            transport: ReqwestTransport::new(Default::default())?,
        })
    }

    async fn send(&self, req: http::Request<Bytes>) -> Result<Page, BoxError> {
        let uri = req.uri().to_string();
        let resp = self.transport.send(req).await?;
        let status = resp.status().as_u16();
        if !(status == 200 || (300..400).contains(&status)) {
            return Err(format!("{uri}: HTTP {status}").into());
        }
        let location = resp
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Page {
            status,
            location,
            body: String::from_utf8_lossy(resp.body()).into_owned(),
        })
    }

    /// Opens `url` (a scanned QR code, a redirect).
    pub(crate) async fn get(&self, url: &str) -> Result<Page, BoxError> {
        self.send(
            http::Request::get(url)
                .header(http::header::ACCEPT, "text/html")
                .body(Bytes::new())?,
        )
        .await
    }

    /// Posts a urlencoded body to `url`.
    pub(crate) async fn post(&self, url: &str, body: String) -> Result<Page, BoxError> {
        self.send(
            http::Request::post(url)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded;charset=utf-8",
                )
                .header(http::header::ACCEPT, "text/html")
                .body(Bytes::from(body))?,
        )
        .await
    }

    /// Submits `form` as a browser would (POST body, or GET with the fields in the query).
    pub(crate) async fn submit(&self, form: &HtmlForm) -> Result<Page, BoxError> {
        let body = encode(&form.fields);
        if form.method.eq_ignore_ascii_case("GET") {
            let sep = if form.action.contains('?') { '&' } else { '?' };
            self.get(&format!("{}{sep}{body}", form.action)).await
        } else {
            self.post(&form.action, body).await
        }
    }
}

/// `application/x-www-form-urlencoded` (UTF-8).
pub(crate) fn encode(fields: &[(String, String)]) -> String {
    payagg::unionpay::qstring::form_encode(fields.iter().map(|(k, v)| (k, v)))
}

/// A recorded delivery as the merchant's endpoint receives it.
pub(crate) fn callback(d: &Delivery) -> Result<CallbackRequest, BoxError> {
    let mut headers = http::HeaderMap::new();
    for (k, v) in &d.headers {
        headers.append(http::HeaderName::from_bytes(k.as_bytes())?, v.parse()?);
    }
    Ok(CallbackRequest::post(headers, d.body.clone()))
}

/// A form the payer's browser posts to the merchant (UnionPay frontUrl).
pub(crate) fn form_post(fields: &[(String, String)]) -> Result<CallbackRequest, BoxError> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded;charset=UTF-8".parse()?,
    );
    Ok(CallbackRequest::post(headers, Bytes::from(encode(fields))))
}

/// Waits for the first recorded delivery matching `pred`.
pub(crate) async fn delivery(
    server: &MockServer,
    what: &str,
    pred: impl Fn(&Delivery) -> bool,
) -> Result<Delivery, BoxError> {
    server
        .notifier()
        .wait_until(Duration::from_secs(10), |d| d.iter().any(&pred))
        .await;
    server
        .notifications()
        .into_iter()
        .find(|d| pred(d))
        .ok_or_else(|| format!("no {what} notification arrived").into())
}

/// The payment notification of `expected`'s order, found the way a receiver knows it: each
/// first delivery of `channel` that `candidate` lets through is verified (signature,
/// decryption) and the one whose verified trade names the order is cross-checked against
/// `expected` (amount, app, merchant) and must say paid.
pub(crate) async fn payment_notification(
    server: &MockServer,
    gw: &dyn Gateway,
    channel: Channel,
    expected: &ExpectedOrder,
    candidate: impl Fn(&Delivery) -> bool,
) -> Result<(VerifiedCallback, Trade), BoxError> {
    let order: &MerchantOrderNo = &expected.merchant_order_no;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = 0;
    loop {
        let all = server.notifications();
        for d in all.iter().skip(seen) {
            if d.channel != channel || d.attempt != 1 || d.copy != 0 || !candidate(d) {
                continue;
            }
            let v = gw.verify_callback(&callback(d)?).await?;
            if let CallbackEvent::Payment(t) = &v.event
                && t.merchant_order_no == *order
            {
                t.check_matches(expected)?;
                if !t.status.is_paid() {
                    return Err(format!("{order}: the notification says {}", t.status).into());
                }
                let t = t.clone();
                return Ok((v, t));
            }
        }
        seen = all.len();
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("no payment notification for {order} arrived").into());
        }
        server
            .notifier()
            .wait_until(Duration::from_millis(200), |d| d.len() > seen)
            .await;
    }
}
