//! Creating payments: the scene, the request, and what the caller does next.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::InvalidInput;
use crate::ids::MerchantOrderNo;
use crate::money::Money;
use crate::sensitive::Sensitive;
use crate::trade::{SubMerchant, Trade};

/// Where and how the payer pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum Scene {
    /// The merchant shows a QR code the payer scans: WeChat Native, Alipay precreate,
    /// UnionPay merchant-presented QR.
    MerchantQr,
    /// Inside the channel's app browser (WeChat JSAPI / official account, Alipay JSAPI).
    /// `payer_id` is the WeChat openid or Alipay buyer id.
    Jsapi {
        /// The payer's id under the app id used.
        payer_id: Sensitive<String>,
    },
    /// A mini program (WeChat mini program, Alipay mini program); same API as JSAPI.
    MiniProgram {
        /// The payer's id under the mini program's app id.
        payer_id: Sensitive<String>,
    },
    /// A native mobile app that calls the channel's SDK.
    App,
    /// A mobile web page outside the channel's app (WeChat H5, Alipay WAP).
    H5 {
        /// The payer's IP address, required by WeChat H5.
        payer_client_ip: Option<String>,
    },
    /// A desktop web page (Alipay page pay).
    PcWeb,
    /// The merchant scans the payer's payment code at a till (WeChat micropay, Alipay
    /// `bar_code`, UnionPay scanned QR).
    PaymentCode {
        /// The code read from the payer's screen. Personal data.
        auth_code: Sensitive<String>,
    },
    /// UnionPay online-banking gateway for a personal card (B2C, `bizType=000201`).
    UnionpayB2c,
    /// UnionPay corporate online-banking gateway (B2B, `bizType=000202`).
    UnionpayB2b {
        /// Optional issuer bank code to skip the bank selection page.
        bank: Option<String>,
    },
}

impl Scene {
    /// The scene's kind, for capability checks.
    #[must_use]
    pub fn kind(&self) -> SceneKind {
        match self {
            Scene::MerchantQr => SceneKind::MerchantQr,
            Scene::Jsapi { .. } => SceneKind::Jsapi,
            Scene::MiniProgram { .. } => SceneKind::MiniProgram,
            Scene::App => SceneKind::App,
            Scene::H5 { .. } => SceneKind::H5,
            Scene::PcWeb => SceneKind::PcWeb,
            Scene::PaymentCode { .. } => SceneKind::PaymentCode,
            Scene::UnionpayB2c => SceneKind::UnionpayB2c,
            Scene::UnionpayB2b { .. } => SceneKind::UnionpayB2b,
        }
    }
}

/// A scene without its data, for [`crate::Gateway::supports`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SceneKind {
    /// See [`Scene::MerchantQr`].
    MerchantQr,
    /// See [`Scene::Jsapi`].
    Jsapi,
    /// See [`Scene::MiniProgram`].
    MiniProgram,
    /// See [`Scene::App`].
    App,
    /// See [`Scene::H5`].
    H5,
    /// See [`Scene::PcWeb`].
    PcWeb,
    /// See [`Scene::PaymentCode`].
    PaymentCode,
    /// See [`Scene::UnionpayB2c`].
    UnionpayB2c,
    /// See [`Scene::UnionpayB2b`].
    UnionpayB2b,
}

impl fmt::Display for SceneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SceneKind::MerchantQr => "merchant-presented QR",
            SceneKind::Jsapi => "JSAPI",
            SceneKind::MiniProgram => "mini program",
            SceneKind::App => "app",
            SceneKind::H5 => "H5/WAP",
            SceneKind::PcWeb => "PC web page",
            SceneKind::PaymentCode => "payment code",
            SceneKind::UnionpayB2c => "UnionPay B2C gateway",
            SceneKind::UnionpayB2b => "UnionPay B2B gateway",
        })
    }
}

/// Create a payment.
///
/// ```
/// use payagg_core::{Money, MerchantOrderNo, PayRequest, Scene};
///
/// let req = PayRequest::new(MerchantOrderNo::new("A20240520001")?, Money::cny(1), "A cup of tea", Scene::MerchantQr)?
///     .notify_url("https://shop.example/notify/wechat");
/// assert_eq!(req.amount.to_major_string(), "0.01");
/// # Ok::<(), payagg_core::error::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayRequest {
    /// The merchant's order number; unique per merchant.
    pub merchant_order_no: MerchantOrderNo,
    /// The total to pay.
    pub amount: Money,
    /// What is bought (WeChat `description`, Alipay `subject`).
    pub description: String,
    /// Where and how the payer pays.
    pub scene: Scene,
    /// Where the channel posts the payment notification (overrides the configured one).
    pub notify_url: Option<String>,
    /// Where the payer's browser returns (Alipay `return_url`, UnionPay `frontUrl`, WeChat H5
    /// `redirect_url`).
    pub return_url: Option<String>,
    /// When the order expires.
    pub expires_at: Option<OffsetDateTime>,
    /// Pass-back data returned in the notification (WeChat `attach`).
    pub attach: Option<String>,
    /// The sub-merchant, in partner mode.
    pub sub_merchant: Option<SubMerchant>,
}

impl PayRequest {
    /// A payment of `amount` for `description` in `scene`.
    ///
    /// # Errors
    /// [`InvalidInput`] for a zero amount or an empty description.
    pub fn new(
        merchant_order_no: MerchantOrderNo,
        amount: Money,
        description: impl Into<String>,
        scene: Scene,
    ) -> Result<Self, InvalidInput> {
        let description = description.into();
        if amount.is_zero() {
            return Err(InvalidInput::new(
                "amount",
                "a payment must be larger than zero",
            ));
        }
        if description.trim().is_empty() {
            return Err(InvalidInput::new("description", "must not be empty"));
        }
        Ok(Self {
            merchant_order_no,
            amount,
            description,
            scene,
            notify_url: None,
            return_url: None,
            expires_at: None,
            attach: None,
            sub_merchant: None,
        })
    }

    /// Set the notification URL.
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Set the browser return URL.
    #[must_use]
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Set the expiry time.
    #[must_use]
    pub fn expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Set pass-back data.
    #[must_use]
    pub fn attach(mut self, attach: impl Into<String>) -> Self {
        self.attach = Some(attach.into());
        self
    }

    /// Pay to a sub-merchant (partner mode).
    #[must_use]
    pub fn sub_merchant(mut self, sub: SubMerchant) -> Self {
        self.sub_merchant = Some(sub);
        self
    }
}

/// Signed parameters for a client SDK, in the order the channel documents them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientParams(Vec<(String, String)>);

impl ClientParams {
    /// From ordered name/value pairs.
    #[must_use]
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }
    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The pairs, in order.
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
    /// A JSON object to hand to the client SDK (`wx.requestPayment`, `WXPayEntry`).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }
}

impl fmt::Debug for ClientParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Signatures are not secret, but keep dumps short.
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

/// An HTML form the payer's browser must submit (Alipay page/WAP pay, UnionPay front gateway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HtmlForm {
    /// The form's `action` URL.
    pub action: String,
    /// `POST` or `GET`.
    pub method: String,
    /// The fields, in order.
    pub fields: Vec<(String, String)>,
}

impl HtmlForm {
    /// A form posting `fields` to `action`.
    #[must_use]
    pub fn new(
        action: impl Into<String>,
        method: impl Into<String>,
        fields: Vec<(String, String)>,
    ) -> Self {
        Self {
            action: action.into(),
            method: method.into(),
            fields,
        }
    }

    /// A complete HTML page that submits the form on load, values HTML-escaped.
    #[must_use]
    pub fn to_auto_submit_html(&self) -> String {
        let mut s = String::with_capacity(256 + self.fields.len() * 64);
        s.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>");
        s.push_str("<form id=\"payagg_pay\" name=\"payagg_pay\" action=\"");
        s.push_str(&html_escape(&self.action));
        s.push_str("\" method=\"");
        s.push_str(&html_escape(&self.method));
        s.push_str("\">");
        for (k, v) in &self.fields {
            s.push_str("<input type=\"hidden\" name=\"");
            s.push_str(&html_escape(k));
            s.push_str("\" value=\"");
            s.push_str(&html_escape(v));
            s.push_str("\"/>");
        }
        s.push_str("<input type=\"submit\" value=\"Pay\" style=\"display:none\"/></form>");
        s.push_str("<script>document.forms['payagg_pay'].submit();</script></body></html>");
        s
    }
}

/// Escape text for an HTML attribute value.
#[must_use]
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// What the caller does next after creating a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayAction {
    /// Render this URL as a QR code for the payer to scan.
    ShowQrCode {
        /// The content of the QR code (WeChat `code_url`, Alipay `qr_code`).
        code_url: String,
    },
    /// Hand these signed parameters to the JSAPI / mini-program client.
    Jsapi(ClientParams),
    /// Hand these signed parameters to the app SDK.
    App(ClientParams),
    /// Hand this signed order string to the app SDK (Alipay `alipay.trade.app.pay`).
    AppOrderString(String),
    /// Hand this transaction number to the UnionPay app SDK.
    AppTransactionNumber(String),
    /// Send the payer's browser to this URL (WeChat H5 `h5_url`, Alipay GET page pay).
    Redirect {
        /// The URL.
        url: String,
    },
    /// Make the payer's browser submit this form.
    SubmitForm(HtmlForm),
    /// The payment already finished (payment code paid without a password).
    Completed(Trade),
    /// The payment has a definite non-success outcome or is still open after the bounded wait;
    /// inspect [`Trade::status`].
    Pending(Trade),
}

/// The answer to [`crate::Gateway::pay`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayResponse {
    /// The order number the payment was created for.
    pub merchant_order_no: MerchantOrderNo,
    /// The channel's reference for the created payment, if any (WeChat `prepay_id`,
    /// Alipay `trade_no`, UnionPay `tn`).
    pub channel_ref: Option<String>,
    /// What to do next.
    pub action: PayAction,
}

impl PayResponse {
    /// A response telling the caller to take `action`.
    #[must_use]
    pub fn new(merchant_order_no: MerchantOrderNo, action: PayAction) -> Self {
        Self {
            merchant_order_no,
            channel_ref: None,
            action,
        }
    }
    /// With the channel's reference.
    #[must_use]
    pub fn channel_ref(mut self, r: impl Into<String>) -> Self {
        self.channel_ref = Some(r.into());
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rejects_zero_and_blank() {
        let no = MerchantOrderNo::new("A1").unwrap();
        assert!(PayRequest::new(no.clone(), Money::cny(0), "x", Scene::App).is_err());
        assert!(PayRequest::new(no, Money::cny(1), "  ", Scene::App).is_err());
    }

    #[test]
    fn form_escapes() {
        let f = HtmlForm::new(
            "https://gw.example/pay?a=1&b=2",
            "POST",
            vec![("biz".into(), "{\"x\":\"<y>\"}".into())],
        );
        let html = f.to_auto_submit_html();
        assert!(html.contains("action=\"https://gw.example/pay?a=1&amp;b=2\""));
        assert!(html.contains("value=\"{&quot;x&quot;:&quot;&lt;y&gt;&quot;}\""));
        assert!(!html.contains("<y>"));
    }

    #[test]
    fn scene_kinds_and_debug_redaction() {
        let s = Scene::PaymentCode {
            auth_code: Sensitive::new("134567890123456789".into()),
        };
        assert_eq!(s.kind(), SceneKind::PaymentCode);
        assert!(!format!("{s:?}").contains("1345678"));
        let p = ClientParams::new(vec![
            ("appId".into(), "wx1".into()),
            ("paySign".into(), "sig".into()),
        ]);
        assert_eq!(p.get("paySign"), Some("sig"));
        assert_eq!(p.to_json()["appId"], "wx1");
    }
}
