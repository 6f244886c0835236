//! `alipay.data.dataservice.bill.downloadurl.query` (brief §4.11).

use serde::{Deserialize, Serialize};

use super::ResponseStatus;

/// `biz_content` of the bill URL query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillDownloadUrlContent {
    /// `trade` (收单业务账单) or `signcustomer` (账务账单).
    pub bill_type: String,
    /// `yyyy-MM-dd` (daily) or `yyyy-MM` (monthly).
    pub bill_date: String,
}

/// `alipay_data_dataservice_bill_downloadurl_query_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillDownloadUrlResponse {
    /// Status fields.
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// The ZIP's URL (valid 30 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_download_url: Option<String>,
    /// `EMPTY_DATA_WITH_BILL_FILE`: no business that day, an empty file is downloadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_file_code: Option<String>,
}
