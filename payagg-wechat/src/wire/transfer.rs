//! Payouts to a user's WeChat balance (brief §3.6, §3.7).
//!
//! - Transfer bills (商家转账, current): `POST /v3/fund-app/mch-transfer/transfer-bills`,
//!   `GET …/transfer-bills/out-bill-no/{out_bill_no}`, `GET …/transfer-bill-no/{transfer_bill_no}`,
//!   `POST …/out-bill-no/{out_bill_no}/cancel`, and the decrypted `MCHTRANSFER.BILL.FINISHED`
//!   resource.
//! - Batches (legacy, closed to new merchants since 2025-01-15): `POST /v3/transfer/batches`,
//!   `GET /v3/transfer/batches/out-batch-no/{out_batch_no}`,
//!   `GET …/out-batch-no/{out_batch_no}/details/out-detail-no/{out_detail_no}`.
//!
//! **Unstable: shared with `payagg-mock`**, which builds these with struct literals.

use serde::{Deserialize, Serialize};

/// One scene report item (`transfer_scene_report_infos[]`), mandatory per scene
/// (e.g. scene `1000` needs `活动名称` and `奖励说明`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferSceneReportInfo {
    /// The kind of information, e.g. `活动名称`.
    pub info_type: String,
    /// The content.
    pub info_content: String,
}

/// The body of `POST /v3/fund-app/mch-transfer/transfer-bills`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBillRequest {
    /// The app id the `openid` belongs to.
    pub appid: String,
    /// The merchant's bill number (≤32, `[0-9A-Za-z]`); reuse it when retrying.
    pub out_bill_no: String,
    /// The scene id agreed with WeChat (`1000` 现金营销, `1005` 佣金报酬, …).
    pub transfer_scene_id: String,
    /// The payee's openid under `appid`.
    pub openid: String,
    /// The payee's real name, RSA-OAEP encrypted and base64 (required from 2,000 yuan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Fen.
    pub transfer_amount: i64,
    /// Shown to the payee (≤32 characters).
    pub transfer_remark: String,
    /// Where `MCHTRANSFER.BILL.FINISHED` goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// What the payee sees as the reason (`现金奖励`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_recv_perception: Option<String>,
    /// The scene's report items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_scene_report_infos: Vec<TransferSceneReportInfo>,
}

/// The answer to a transfer-bill create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBillCreateResponse {
    /// The merchant's bill number.
    pub out_bill_no: String,
    /// WeChat's bill number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_bill_no: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// `ACCEPTED`, `PROCESSING`, `WAIT_USER_CONFIRM`, `TRANSFERING`, `SUCCESS`, `FAIL`,
    /// `CANCELING`, `CANCELLED`.
    pub state: String,
    /// For `wx.requestMerchantTransfer` (`WAIT_USER_CONFIRM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_info: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
}

/// A transfer bill as the query APIs return it; also the decrypted
/// `MCHTRANSFER.BILL.FINISHED` resource. Note **`mch_id`** (the callback sample of one source
/// says `mchid`; both are accepted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBill {
    /// The merchant id.
    #[serde(default, alias = "mchid", skip_serializing_if = "Option::is_none")]
    pub mch_id: Option<String>,
    /// The merchant's bill number.
    pub out_bill_no: String,
    /// WeChat's bill number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_bill_no: Option<String>,
    /// The app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The state (see [`TransferBillCreateResponse::state`]).
    pub state: String,
    /// Fen.
    pub transfer_amount: i64,
    /// The remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_remark: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
    /// The payee's openid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// The payee's name, encrypted with the merchant's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
}

/// The answer to `POST …/out-bill-no/{out_bill_no}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBillCancelResponse {
    /// The merchant's bill number.
    pub out_bill_no: String,
    /// WeChat's bill number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_bill_no: Option<String>,
    /// `CANCELING` or `CANCELLED`.
    pub state: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
}

/// The body of `POST /v3/transfer/batches`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBatchRequest {
    /// The app id the openids belong to.
    pub appid: String,
    /// The merchant's batch number.
    pub out_batch_no: String,
    /// The batch name.
    pub batch_name: String,
    /// The batch remark.
    pub batch_remark: String,
    /// Sum of the details, fen.
    pub total_amount: i64,
    /// Number of details.
    pub total_num: i64,
    /// The transfers.
    pub transfer_detail_list: Vec<TransferDetailInput>,
    /// The scene id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_scene_id: Option<String>,
    /// Where batch callbacks go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
}

/// One transfer of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDetailInput {
    /// The merchant's detail number.
    pub out_detail_no: String,
    /// Fen.
    pub transfer_amount: i64,
    /// The remark.
    pub transfer_remark: String,
    /// The payee's openid.
    pub openid: String,
    /// The payee's name, RSA-OAEP encrypted and base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// The answer to a batch create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBatchCreateResponse {
    /// The merchant's batch number.
    pub out_batch_no: String,
    /// WeChat's batch id.
    pub batch_id: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// `WAIT_PAY`, `ACCEPTED`, `PROCESSING`, `FINISHED`, `CLOSED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_status: Option<String>,
}

/// The answer to a batch query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBatchQueryResponse {
    /// The batch.
    pub transfer_batch: TransferBatchInfo,
    /// Detail states (when `need_query_detail=true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_detail_list: Vec<TransferDetailState>,
}

/// `transfer_batch` of a batch query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferBatchInfo {
    /// The merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// The merchant's batch number.
    pub out_batch_no: String,
    /// WeChat's batch id.
    pub batch_id: String,
    /// The app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// `WAIT_PAY`, `ACCEPTED`, `PROCESSING`, `FINISHED`, `CLOSED`.
    pub batch_status: String,
    /// `API` or `WEB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_type: Option<String>,
    /// The batch name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_name: Option<String>,
    /// The batch remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_remark: Option<String>,
    /// `OVERDUE_CLOSE`, `TRANSFER_SCENE_INVALID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    /// Fen.
    pub total_amount: i64,
    /// Number of details.
    pub total_num: i64,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
    /// Fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_amount: Option<i64>,
    /// Count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_num: Option<i64>,
    /// Fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_amount: Option<i64>,
    /// Count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_num: Option<i64>,
    /// The scene id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_scene_id: Option<String>,
}

/// One entry of `transfer_detail_list` in a batch query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDetailState {
    /// WeChat's detail id.
    pub detail_id: String,
    /// The merchant's detail number.
    pub out_detail_no: String,
    /// `INIT`, `WAIT_PAY`, `PROCESSING`, `SUCCESS`, `FAIL`.
    pub detail_status: String,
}

/// The answer to a detail query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDetail {
    /// The merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// The merchant's batch number.
    pub out_batch_no: String,
    /// WeChat's batch id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// The app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The merchant's detail number.
    pub out_detail_no: String,
    /// WeChat's detail id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_id: Option<String>,
    /// `INIT`, `WAIT_PAY`, `PROCESSING`, `SUCCESS`, `FAIL`.
    pub detail_status: String,
    /// Fen.
    pub transfer_amount: i64,
    /// The remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_remark: Option<String>,
    /// Why it failed (`ACCOUNT_FROZEN`, `REAL_NAME_CHECK_FAIL`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
    /// The payee's openid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// The payee's name, encrypted with the merchant's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_time: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
}
