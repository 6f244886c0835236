//! Payouts to a user's WeChat balance: WeChat-specific request and answer types.
//!
//! [`payagg_core::Gateway::transfer`] covers the common case with the configured scene
//! ([`crate::ConfigBuilder::transfer_scene_id`]); use
//! [`crate::WechatPayClient::create_transfer_bill`] with a [`TransferBillRequest`] to choose
//! the scene, its report items and the payee's perception per call. The legacy batch API
//! (`/v3/transfer/batches`, closed to new merchants since 2025-01-15) is served by
//! [`crate::WechatPayClient::create_transfer_batch`] and its query methods.

use payagg_core::error::InvalidInput;
use payagg_core::ids::{ChannelTransferNo, MerchantTransferNo};
use payagg_core::{Money, Sensitive, TransferRequest, TransferStatus};
use time::OffsetDateTime;

/// One scene report item (`transfer_scene_report_infos[]`): WeChat requires specific items
/// per scene, e.g. scene `1000` (现金营销) needs `活动名称` and `奖励说明`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SceneReportInfo {
    /// The kind, e.g. `活动名称`.
    pub info_type: String,
    /// The content, e.g. `新会员有礼`.
    pub info_content: String,
}

impl SceneReportInfo {
    /// An item of kind `info_type`.
    #[must_use]
    pub fn new(info_type: impl Into<String>, info_content: impl Into<String>) -> Self {
        Self {
            info_type: info_type.into(),
            info_content: info_content.into(),
        }
    }
}

/// A transfer bill (`POST /v3/fund-app/mch-transfer/transfer-bills`): the core request plus
/// WeChat's scene settings. Unset settings come from the [`crate::Config`].
///
/// ```
/// use payagg_core::ids::MerchantTransferNo;
/// use payagg_core::{Money, Payee, Sensitive, TransferRequest};
/// use payagg_wechat::transfer::TransferBillRequest;
///
/// let core = TransferRequest::new(
///     MerchantTransferNo::new("PAYOUT20240520001")?,
///     Payee::WechatOpenId(Sensitive::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into())),
///     Money::cny(500),
///     "佣金",
/// )?;
/// let req = TransferBillRequest::new(core)
///     .scene_id("1005")
///     .report_info("岗位类型", "推广员")
///     .report_info("报酬说明", "5月佣金")
///     .user_recv_perception("劳务报酬");
/// assert_eq!(req.scene_report_infos.as_ref().map(Vec::len), Some(2));
/// # Ok::<(), payagg_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferBillRequest {
    /// What to pay to whom.
    pub transfer: TransferRequest,
    /// The scene id; `None`: the configured one.
    pub scene_id: Option<String>,
    /// The scene's report items; `None`: the configured ones.
    pub scene_report_infos: Option<Vec<SceneReportInfo>>,
    /// What the payee sees as the reason (`现金奖励`, `劳务报酬`, …); `None`: WeChat's default
    /// for the scene.
    pub user_recv_perception: Option<String>,
}

impl TransferBillRequest {
    /// A bill for `transfer` with the configured scene.
    #[must_use]
    pub fn new(transfer: TransferRequest) -> Self {
        Self {
            transfer,
            scene_id: None,
            scene_report_infos: None,
            user_recv_perception: None,
        }
    }

    /// Use scene `id` instead of the configured one.
    #[must_use]
    pub fn scene_id(mut self, id: impl Into<String>) -> Self {
        self.scene_id = Some(id.into());
        self
    }

    /// Add a report item; once one is added, the configured items are not sent.
    #[must_use]
    pub fn report_info(
        mut self,
        info_type: impl Into<String>,
        info_content: impl Into<String>,
    ) -> Self {
        self.scene_report_infos
            .get_or_insert_with(Vec::new)
            .push(SceneReportInfo::new(info_type, info_content));
        self
    }

    /// Set `user_recv_perception`.
    #[must_use]
    pub fn user_recv_perception(mut self, p: impl Into<String>) -> Self {
        self.user_recv_perception = Some(p.into());
        self
    }
}

/// The answer to a transfer-bill cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferCancellation {
    /// The merchant's bill number.
    pub merchant_transfer_no: MerchantTransferNo,
    /// WeChat's bill number.
    pub channel_transfer_no: Option<ChannelTransferNo>,
    /// [`TransferStatus::Cancelling`] or [`TransferStatus::Cancelled`].
    pub status: TransferStatus,
    /// WeChat's state, verbatim.
    pub raw_status: String,
    /// When the state last changed.
    pub updated_at: Option<OffsetDateTime>,
}

/// A legacy batch transfer (`POST /v3/transfer/batches`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferBatchRequest {
    /// The merchant's batch number (`out_batch_no`).
    pub out_batch_no: MerchantTransferNo,
    /// The batch name.
    pub batch_name: String,
    /// The batch remark.
    pub batch_remark: String,
    /// The transfers (1 to 3,000).
    pub details: Vec<TransferBatchDetail>,
    /// The scene id; `None`: the configured one.
    pub scene_id: Option<String>,
    /// Where batch callbacks go; `None`: the configured transfer notification URL, if any.
    pub notify_url: Option<String>,
}

impl TransferBatchRequest {
    /// An empty batch; add transfers with [`TransferBatchRequest::detail`].
    #[must_use]
    pub fn new(
        out_batch_no: MerchantTransferNo,
        batch_name: impl Into<String>,
        batch_remark: impl Into<String>,
    ) -> Self {
        Self {
            out_batch_no,
            batch_name: batch_name.into(),
            batch_remark: batch_remark.into(),
            details: Vec::new(),
            scene_id: None,
            notify_url: None,
        }
    }

    /// Add a transfer.
    #[must_use]
    pub fn detail(mut self, d: TransferBatchDetail) -> Self {
        self.details.push(d);
        self
    }

    /// Use scene `id` instead of the configured one.
    #[must_use]
    pub fn scene_id(mut self, id: impl Into<String>) -> Self {
        self.scene_id = Some(id.into());
        self
    }

    /// Set the notification URL.
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }
}

/// One transfer of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferBatchDetail {
    /// The merchant's detail number (`out_detail_no`).
    pub out_detail_no: MerchantTransferNo,
    /// The payee's openid under the configured app id.
    pub openid: Sensitive<String>,
    /// How much.
    pub amount: Money,
    /// The remark shown to the payee.
    pub remark: String,
    /// The payee's real name (encrypted on the wire).
    pub user_name: Option<Sensitive<String>>,
}

impl TransferBatchDetail {
    /// Pay `amount` to `openid`.
    ///
    /// # Errors
    /// [`InvalidInput`] for a zero amount or an empty remark.
    pub fn new(
        out_detail_no: MerchantTransferNo,
        openid: impl Into<String>,
        amount: Money,
        remark: impl Into<String>,
    ) -> Result<Self, InvalidInput> {
        let remark = remark.into();
        if amount.is_zero() {
            return Err(InvalidInput::new(
                "amount",
                "a transfer must be larger than zero",
            ));
        }
        if remark.trim().is_empty() {
            return Err(InvalidInput::new("remark", "must not be empty"));
        }
        Ok(Self {
            out_detail_no,
            openid: Sensitive::new(openid.into()),
            amount,
            remark,
            user_name: None,
        })
    }

    /// Check the payee's real name.
    #[must_use]
    pub fn user_name(mut self, name: impl Into<String>) -> Self {
        self.user_name = Some(Sensitive::new(name.into()));
        self
    }
}

/// The state of a legacy batch (`batch_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransferBatchStatus {
    /// `WAIT_PAY`: waiting for the merchant's confirmation.
    WaitPay,
    /// `ACCEPTED`: accepted (still here after 30 minutes: probably insufficient balance).
    Accepted,
    /// `PROCESSING`: being transferred.
    Processing,
    /// `FINISHED`: done; see the details for each outcome.
    Finished,
    /// `CLOSED`: closed (see `close_reason`).
    Closed,
}

/// A legacy batch as created or queried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferBatch {
    /// The merchant's batch number.
    pub out_batch_no: String,
    /// WeChat's batch id.
    pub batch_id: String,
    /// The normalized state, when WeChat said.
    pub status: Option<TransferBatchStatus>,
    /// WeChat's state, verbatim.
    pub raw_status: Option<String>,
    /// The batch total (query only).
    pub total_amount: Option<Money>,
    /// Number of transfers (query only).
    pub total_num: Option<u64>,
    /// Paid out so far.
    pub success_amount: Option<Money>,
    /// Transfers that succeeded.
    pub success_num: Option<u64>,
    /// Failed amount.
    pub fail_amount: Option<Money>,
    /// Transfers that failed.
    pub fail_num: Option<u64>,
    /// Why the batch closed (`OVERDUE_CLOSE`, `TRANSFER_SCENE_INVALID`).
    pub close_reason: Option<String>,
    /// When it was created.
    pub created_at: Option<OffsetDateTime>,
    /// When it last changed.
    pub updated_at: Option<OffsetDateTime>,
    /// Per-transfer states (when queried with details).
    pub details: Vec<TransferBatchDetailState>,
}

/// The state of one transfer in a batch query.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferBatchDetailState {
    /// The merchant's detail number.
    pub out_detail_no: String,
    /// WeChat's detail id.
    pub detail_id: String,
    /// Normalized state.
    pub status: TransferStatus,
    /// WeChat's `detail_status`, verbatim.
    pub raw_status: String,
}
