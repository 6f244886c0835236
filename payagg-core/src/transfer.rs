//! Payouts (transfers) to a user's wallet.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::channel::Channel;
use crate::error::InvalidInput;
use crate::ids::{ChannelTransferNo, MerchantTransferNo};
use crate::money::Money;
use crate::sensitive::Sensitive;

/// How the payee is identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
#[non_exhaustive]
pub enum Payee {
    /// A WeChat openid under the configured app id.
    WechatOpenId(Sensitive<String>),
    /// An Alipay user id (`2088...`).
    AlipayUserId(Sensitive<String>),
    /// An Alipay open id.
    AlipayOpenId(Sensitive<String>),
    /// An Alipay logon id (phone or e-mail); needs the real name.
    AlipayLogonId(Sensitive<String>),
}

/// Pay money out to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferRequest {
    /// The merchant's payout number; reusing it makes the request idempotent.
    pub merchant_transfer_no: MerchantTransferNo,
    /// Who receives the money.
    pub payee: Payee,
    /// The payee's real name, checked by the channel when given (encrypted on the wire by
    /// WeChat). Personal data.
    pub payee_name: Option<Sensitive<String>>,
    /// How much.
    pub amount: Money,
    /// A remark shown to the payee.
    pub remark: String,
    /// Where the channel posts the result.
    pub notify_url: Option<String>,
}

impl TransferRequest {
    /// Pay `amount` to `payee`.
    ///
    /// # Errors
    /// [`InvalidInput`] for a zero amount or an empty remark.
    pub fn new(
        merchant_transfer_no: MerchantTransferNo,
        payee: Payee,
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
            merchant_transfer_no,
            payee,
            payee_name: None,
            amount,
            remark,
            notify_url: None,
        })
    }
    /// Check the payee's real name.
    #[must_use]
    pub fn payee_name(mut self, name: impl Into<String>) -> Self {
        self.payee_name = Some(Sensitive::new(name.into()));
        self
    }
    /// Set the notification URL.
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }
}

/// The normalized state of a payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransferStatus {
    /// Accepted, being processed.
    Processing,
    /// Waiting for the payee to confirm receipt (WeChat `WAIT_USER_CONFIRM`).
    WaitingForPayee,
    /// Paid out.
    Success,
    /// Failed; the money stays with the merchant.
    Failed,
    /// Being cancelled.
    Cancelling,
    /// Cancelled.
    Cancelled,
}

impl fmt::Display for TransferStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransferStatus::Processing => "processing",
            TransferStatus::WaitingForPayee => "waiting_for_payee",
            TransferStatus::Success => "success",
            TransferStatus::Failed => "failed",
            TransferStatus::Cancelling => "cancelling",
            TransferStatus::Cancelled => "cancelled",
        })
    }
}

/// A payout as the channel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transfer {
    /// The channel.
    pub channel: Channel,
    /// The merchant's payout number.
    pub merchant_transfer_no: MerchantTransferNo,
    /// The channel's payout number.
    pub channel_transfer_no: Option<ChannelTransferNo>,
    /// The amount.
    pub amount: Money,
    /// Normalized status.
    pub status: TransferStatus,
    /// The channel's status word, verbatim.
    pub raw_status: String,
    /// Why it failed, in the channel's words.
    pub fail_reason: Option<String>,
    /// When it finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Channel-specific data the payee's client needs (WeChat `package_info`).
    pub client_package: Option<String>,
}

impl Transfer {
    /// A payout with the required fields.
    #[must_use]
    pub fn new(
        channel: Channel,
        merchant_transfer_no: MerchantTransferNo,
        amount: Money,
        status: TransferStatus,
        raw_status: impl Into<String>,
    ) -> Self {
        Self {
            channel,
            merchant_transfer_no,
            channel_transfer_no: None,
            amount,
            status,
            raw_status: raw_status.into(),
            fail_reason: None,
            finished_at: None,
            client_package: None,
        }
    }
}
