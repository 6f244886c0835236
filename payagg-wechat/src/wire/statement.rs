//! Bill application: `GET /v3/bill/tradebill`, `GET /v3/bill/fundflowbill` (brief §3.5).
//! The file itself (`GET {download_url}`) is not JSON and not signed.

use serde::{Deserialize, Serialize};

/// Query parameters of the trade bill API, in the order the client sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeBillQuery {
    /// `YYYY-MM-DD`.
    pub bill_date: String,
    /// Partner: the sub-merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// `ALL`, `SUCCESS`, `REFUND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_type: Option<String>,
    /// `GZIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tar_type: Option<String>,
}

/// Query parameters of the fund-flow bill API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundFlowBillQuery {
    /// `YYYY-MM-DD`.
    pub bill_date: String,
    /// `BASIC`, `OPERATION`, `FEES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// `GZIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tar_type: Option<String>,
}

/// The 200 answer of both bill APIs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillResponse {
    /// `SHA1`.
    pub hash_type: String,
    /// Lower-case hex SHA-1 of the uncompressed file.
    pub hash_value: String,
    /// Where to download the file (valid ≤30 s).
    pub download_url: String,
}
