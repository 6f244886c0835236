//! Order creation (`/v3/pay/transactions/{jsapi,native,app,h5}` and the partner variants)
//! and closing (brief §3.1, §3.3).

use serde::{Deserialize, Serialize};

/// The body of a prepay request, direct or partner.
///
/// Direct merchants fill `appid`/`mchid`; partners (service providers) fill
/// `sp_appid`/`sp_mchid`/`sub_mchid` (and `sub_appid` when the payer is identified under the
/// sub-merchant's app). The field order here is the order the client serializes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepayRequest {
    /// Direct: the app id bound to `mchid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// Direct: the merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// Partner: the service provider's app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_appid: Option<String>,
    /// Partner: the service provider's merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// Partner: the sub-merchant's app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// Partner: the sub-merchant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// What is bought (≤127 chars).
    pub description: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// Expiry, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// Pass-back data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// Where the payment notification goes.
    pub notify_url: String,
    /// Discount tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_tag: Option<String>,
    /// Whether an electronic invoice is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_fapiao: Option<bool>,
    /// The amount.
    pub amount: Amount,
    /// The payer (JSAPI / mini program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    /// Scene information (required for H5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene_info: Option<SceneInfo>,
    /// Settlement information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_info: Option<SettleInfo>,
}

/// `amount` of a prepay request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// The total in fen.
    pub total: i64,
    /// `CNY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// `payer` of a prepay request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    /// Direct: the payer's openid under `appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// Partner: the payer's openid under `sp_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_openid: Option<String>,
    /// Partner: the payer's openid under `sub_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
}

/// `scene_info` of a prepay request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneInfo {
    /// The payer's IP (IPv4 or IPv6).
    pub payer_client_ip: String,
    /// The merchant's device id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_info: Option<StoreInfo>,
    /// H5 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h5_info: Option<H5Info>,
}

/// `scene_info.store_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// Store id.
    pub id: String,
    /// Store name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Area code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_code: Option<String>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `scene_info.h5_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5Info {
    /// `iOS`, `Android` or `Wap`.
    #[serde(rename = "type")]
    pub kind: String,
    /// App name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// App or site URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
    /// iOS bundle id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    /// Android package name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
}

/// `settle_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettleInfo {
    /// Whether the payment is subject to profit sharing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit_sharing: Option<bool>,
}

/// The 200 answer to a prepay request: exactly one field is set, depending on the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepayResponse {
    /// JSAPI / mini program / App.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepay_id: Option<String>,
    /// Native.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_url: Option<String>,
    /// H5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h5_url: Option<String>,
}

/// The body of `POST …/out-trade-no/{out_trade_no}/close` (answered 204).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseRequest {
    /// Direct: the merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// Partner: the service provider's merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// Partner: the sub-merchant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
}
