//! Payouts (brief §3.6, §3.7): transfer bills, which back [`Gateway::transfer`] and
//! [`Gateway::query_transfer`], and the legacy batch API as inherent methods.
//!
//! [`Gateway::transfer`]: payagg_core::Gateway::transfer
//! [`Gateway::query_transfer`]: payagg_core::Gateway::query_transfer

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::Method;
use payagg_core::crypto::RsaPublicKey;
use payagg_core::error::{ConfigError, DecodeError, Error, InvalidInput, Result, Unsupported};
use payagg_core::ids::{ChannelTransferNo, MerchantTransferNo};
use payagg_core::{Money, Operation, Payee, Transfer, operation_span};
use tracing::Instrument as _;

use super::{WechatPayClient, tag_request_id};
use crate::CHANNEL;
use crate::config::check_scene_id;
use crate::convert;
use crate::sign::{encode_path_segment, encode_query_value};
use crate::text::{check_opt, check_text};
use crate::transfer::{
    TransferBatch, TransferBatchRequest, TransferBillRequest, TransferCancellation,
};
use crate::wire;

const BILLS: &str = "/v3/fund-app/mch-transfer/transfer-bills";
const BATCHES: &str = "/v3/transfer/batches";
/// Details per page of a batch query (WeChat allows 20 to 100).
const DETAIL_PAGE: usize = 100;
/// A batch holds at most 3,000 transfers.
const MAX_BATCH: usize = 3000;

/// WeChat's rule for `out_bill_no`, `out_batch_no` and `out_detail_no`: ASCII letters and
/// digits, at most 32.
fn check_no(no: &MerchantTransferNo, min: usize, rule: &str) -> Result<()> {
    no.check_channel_rule(min, 32, |c| c.is_ascii_alphanumeric(), rule)?;
    Ok(())
}

fn check_remark(remark: &str, field: &'static str) -> Result<()> {
    if remark.chars().count() > 32 {
        return Err(InvalidInput::new(field, "WeChat allows at most 32 characters").into());
    }
    check_text(field, remark)?;
    Ok(())
}

/// RSA-OAEP (SHA-1, MGF1-SHA-1) and base64: WeChat's sensitive-field encryption.
fn encrypt_field(key: &RsaPublicKey, plain: &str, field: &'static str) -> Result<String> {
    let ct = key.oaep_sha1_encrypt(plain.as_bytes()).map_err(|e| {
        InvalidInput::new(
            field,
            format!("too long to encrypt (at most {} bytes)", e.max_len()),
        )
    })?;
    Ok(B64.encode(ct))
}

fn to_json<T: serde::Serialize>(body: &T, what: &str) -> Result<Vec<u8>> {
    serde_json::to_vec(body)
        .map_err(|e| Error::from(DecodeError::new(format!("{what} serialization")).with_source(e)))
}

impl WechatPayClient {
    /// The key sensitive fields are encrypted with, and its id for `Wechatpay-Serial`: the
    /// WeChat Pay public key when configured, else the valid platform certificate that
    /// expires last (downloading the certificates first when none is cached).
    async fn encryption_key(&self) -> Result<(String, RsaPublicKey)> {
        if let Some((id, key)) = &self.config.public_key {
            return Ok((id.clone(), key.clone()));
        }
        if let Some(store) = &self.certs {
            self.refresh_ahead_of_expiry().await;
            if store.newest_serial(self.clock.now()).is_none()
                && let Err(e) = self.refresh_certificates_if_due().await
            {
                tracing::warn!(error = %e, "platform certificate download failed");
            }
            let now = self.clock.now();
            if let Some(serial) = store.newest_serial(now)
                && let Some(key) = store.key(&serial, now)
            {
                return Ok((serial, key));
            }
        }
        Err(ConfigError::new(
            "wechatpay_public_key",
            "no WeChat Pay public key or valid platform certificate to encrypt user_name with",
        )
        .into())
    }

    fn transfers_direct_only(&self, what: &str) -> Result<()> {
        if self.config.partner {
            return Err(Unsupported::new(CHANNEL, format!("{what} in partner mode")).into());
        }
        Ok(())
    }

    /// Creates a transfer bill (`POST /v3/fund-app/mch-transfer/transfer-bills`) with the
    /// request's scene settings, falling back on the configured scene id and report items.
    /// The payee's name, when given, is encrypted with RSA-OAEP under the key this client
    /// verifies with, and that key's id is sent in `Wechatpay-Serial`.
    ///
    /// A `WAIT_USER_CONFIRM` answer carries [`Transfer::client_package`] for
    /// `wx.requestMerchantTransfer`. Never retried: after an outcome-unknown error, query
    /// with the same number before sending again (and never change the number).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a payee other than a WeChat openid, a number or remark
    /// WeChat would reject, or a non-CNY amount; [`Error::Config`] when a payee name is given
    /// but no encryption key is available (nothing is sent); [`Error::Unsupported`] in partner
    /// mode; transport, verification and gateway errors (`NOT_ENOUGH` is
    /// [`payagg_core::GatewayErrorKind::InsufficientFunds`]).
    pub async fn create_transfer_bill(&self, req: &TransferBillRequest) -> Result<Transfer> {
        let t = &req.transfer;
        let span = operation_span(
            CHANNEL,
            Operation::Transfer,
            Some(t.merchant_transfer_no.as_str()),
        );
        async {
            self.transfers_direct_only("transfer bills")?;
            check_no(&t.merchant_transfer_no, 1, "WeChat out_bill_no")?;
            let Payee::WechatOpenId(openid) = &t.payee else {
                return Err(InvalidInput::new("payee", "WeChat pays out to an openid").into());
            };
            check_remark(&t.remark, "remark")?;
            let scene_id = req
                .scene_id
                .clone()
                .unwrap_or_else(|| self.config.transfer_scene_id.clone());
            check_scene_id(&scene_id).map_err(|r| InvalidInput::new("scene_id", r))?;
            let infos = req
                .scene_report_infos
                .as_deref()
                .unwrap_or(&self.config.transfer_scene_report_infos);
            check_opt("user_recv_perception", req.user_recv_perception.as_deref())?;
            for i in infos {
                check_text("transfer_scene_report_infos", &i.info_type)?;
                check_text("transfer_scene_report_infos", &i.info_content)?;
            }
            if let Some(name) = &t.payee_name {
                check_text("user_name", name.expose())?;
            }
            let transfer_amount = convert::amount_to_wire(t.amount, "amount")?;
            let (user_name, serial) = match &t.payee_name {
                Some(name) => {
                    let (serial, key) = self.encryption_key().await?;
                    (
                        Some(encrypt_field(&key, name.expose(), "payee_name")?),
                        Some(serial),
                    )
                }
                None => (None, None),
            };
            let body = wire::TransferBillRequest {
                appid: self.config.appid.as_str().to_owned(),
                out_bill_no: t.merchant_transfer_no.as_str().to_owned(),
                transfer_scene_id: scene_id,
                openid: openid.expose().clone(),
                user_name,
                transfer_amount,
                transfer_remark: t.remark.clone(),
                notify_url: t
                    .notify_url
                    .clone()
                    .or_else(|| self.config.transfer_notify_url.clone()),
                user_recv_perception: req.user_recv_perception.clone(),
                transfer_scene_report_infos: infos
                    .iter()
                    .map(|i| wire::TransferSceneReportInfo {
                        info_type: i.info_type.clone(),
                        info_content: i.info_content.clone(),
                    })
                    .collect(),
            };
            let bytes = to_json(&body, "transfer bill request")?;
            // A write: exactly one attempt.
            let v = self
                .call_with_serial(Method::POST, BILLS, Some(bytes), serial.as_deref())
                .await?;
            v.json::<wire::TransferBillCreateResponse>(BILLS)?
                .then(|r| convert::transfer_from_create(&r, t.amount))
        }
        .instrument(span)
        .await
    }

    /// Queries a transfer bill by the merchant's number
    /// (`GET …/transfer-bills/out-bill-no/{out_bill_no}`); retried per the retry policy.
    ///
    /// # Errors
    /// Transport, verification, decode and gateway errors (`NOT_FOUND` kind for an unknown
    /// number); [`Error::Unsupported`] in partner mode.
    pub async fn query_transfer_bill(&self, no: &MerchantTransferNo) -> Result<Transfer> {
        let span = operation_span(CHANNEL, Operation::QueryTransfer, Some(no.as_str()));
        async {
            self.transfers_direct_only("transfer bills")?;
            let target = format!("{BILLS}/out-bill-no/{}", encode_path_segment(no.as_str()));
            self.call_json::<wire::TransferBill>(
                Operation::QueryTransfer,
                Method::GET,
                &target,
                None,
            )
            .await?
            .then(|b| convert::transfer_from_bill(&b))
        }
        .instrument(span)
        .await
    }

    /// Queries a transfer bill by WeChat's number
    /// (`GET …/transfer-bills/transfer-bill-no/{transfer_bill_no}`).
    ///
    /// # Errors
    /// As [`WechatPayClient::query_transfer_bill`].
    pub async fn query_transfer_bill_by_channel_no(
        &self,
        no: &ChannelTransferNo,
    ) -> Result<Transfer> {
        let span = operation_span(CHANNEL, Operation::QueryTransfer, None);
        async {
            self.transfers_direct_only("transfer bills")?;
            let target = format!(
                "{BILLS}/transfer-bill-no/{}",
                encode_path_segment(no.as_str())
            );
            self.call_json::<wire::TransferBill>(
                Operation::QueryTransfer,
                Method::GET,
                &target,
                None,
            )
            .await?
            .then(|b| convert::transfer_from_bill(&b))
        }
        .instrument(span)
        .await
    }

    /// Cancels a transfer bill that has not finished
    /// (`POST …/transfer-bills/out-bill-no/{out_bill_no}/cancel`). The answer is
    /// `CANCELING` or `CANCELLED`; `MCHTRANSFER.BILL.FINISHED` follows. Sent once.
    ///
    /// # Errors
    /// Transport, verification, decode and gateway errors; [`Error::Unsupported`] in
    /// partner mode.
    pub async fn cancel_transfer_bill(
        &self,
        no: &MerchantTransferNo,
    ) -> Result<TransferCancellation> {
        let span = tracing::info_span!(
            "payagg",
            channel = CHANNEL.as_str(),
            operation = "cancel_transfer",
            order = no.as_str()
        );
        async {
            self.transfers_direct_only("transfer bills")?;
            let target = format!(
                "{BILLS}/out-bill-no/{}/cancel",
                encode_path_segment(no.as_str())
            );
            let v = self.call(Method::POST, &target, None).await?;
            v.json::<wire::TransferBillCancelResponse>(&target)?
                .then(|r| convert::cancellation_from_wire(&r))
        }
        .instrument(span)
        .await
    }

    /// Creates a legacy batch transfer (`POST /v3/transfer/batches`; closed to merchants
    /// that did not have it before 2025-01-15). Totals are computed from the details; payee
    /// names are encrypted as for [`WechatPayClient::create_transfer_bill`]. Never retried.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or oversized batch, a bad number or remark, a
    /// non-CNY amount or an overflowing total; [`Error::Config`] when a name is given but no
    /// encryption key is available; transport, verification and gateway errors.
    pub async fn create_transfer_batch(&self, req: &TransferBatchRequest) -> Result<TransferBatch> {
        let span = operation_span(
            CHANNEL,
            Operation::Transfer,
            Some(req.out_batch_no.as_str()),
        );
        async {
            self.transfers_direct_only("batch transfers")?;
            check_no(&req.out_batch_no, 5, "WeChat out_batch_no")?;
            if req.details.is_empty() || req.details.len() > MAX_BATCH {
                return Err(InvalidInput::new(
                    "details",
                    format!("a batch holds 1 to {MAX_BATCH} transfers"),
                )
                .into());
            }
            let scene_id = req
                .scene_id
                .clone()
                .unwrap_or_else(|| self.config.transfer_scene_id.clone());
            check_scene_id(&scene_id).map_err(|r| InvalidInput::new("scene_id", r))?;
            check_text("batch_name", &req.batch_name)?;
            check_text("batch_remark", &req.batch_remark)?;
            for d in &req.details {
                check_remark(&d.remark, "remark")?;
                if let Some(n) = &d.user_name {
                    check_text("user_name", n.expose())?;
                }
            }
            let key = if req.details.iter().any(|d| d.user_name.is_some()) {
                Some(self.encryption_key().await?)
            } else {
                None
            };
            let mut total = Money::zero(payagg_core::Currency::Cny);
            let mut list = Vec::with_capacity(req.details.len());
            for d in &req.details {
                check_no(&d.out_detail_no, 5, "WeChat out_detail_no")?;
                check_remark(&d.remark, "remark")?;
                total = total
                    .checked_add(d.amount)
                    .ok_or_else(|| InvalidInput::new("details", "the total overflows"))?;
                let user_name = match (&d.user_name, &key) {
                    (Some(n), Some((_, k))) => Some(encrypt_field(k, n.expose(), "user_name")?),
                    _ => None,
                };
                list.push(wire::TransferDetailInput {
                    out_detail_no: d.out_detail_no.as_str().to_owned(),
                    transfer_amount: convert::amount_to_wire(d.amount, "amount")?,
                    transfer_remark: d.remark.clone(),
                    openid: d.openid.expose().clone(),
                    user_name,
                });
            }
            let body = wire::TransferBatchRequest {
                appid: self.config.appid.as_str().to_owned(),
                out_batch_no: req.out_batch_no.as_str().to_owned(),
                batch_name: req.batch_name.clone(),
                batch_remark: req.batch_remark.clone(),
                total_amount: convert::amount_to_wire(total, "total_amount")?,
                total_num: i64::try_from(list.len())
                    .map_err(|_| InvalidInput::new("details", "too many"))?,
                transfer_detail_list: list,
                transfer_scene_id: Some(scene_id),
                notify_url: req
                    .notify_url
                    .clone()
                    .or_else(|| self.config.transfer_notify_url.clone()),
            };
            let bytes = to_json(&body, "transfer batch request")?;
            let serial = key.as_ref().map(|(s, _)| s.as_str());
            let v = self
                .call_with_serial(Method::POST, BATCHES, Some(bytes), serial)
                .await?;
            v.json::<wire::TransferBatchCreateResponse>(BATCHES)?
                .then(|r| convert::batch_from_create(&r))
        }
        .instrument(span)
        .await
    }

    /// Queries a legacy batch by the merchant's number
    /// (`GET /v3/transfer/batches/out-batch-no/{out_batch_no}`). With `details`, every
    /// transfer's state is fetched too (pages of 100, `detail_status=ALL`).
    ///
    /// # Errors
    /// Transport, verification, decode and gateway errors.
    pub async fn query_transfer_batch(
        &self,
        out_batch_no: &MerchantTransferNo,
        details: bool,
    ) -> Result<TransferBatch> {
        let span = operation_span(
            CHANNEL,
            Operation::QueryTransfer,
            Some(out_batch_no.as_str()),
        );
        async {
            self.transfers_direct_only("batch transfers")?;
            let base = format!(
                "{BATCHES}/out-batch-no/{}",
                encode_path_segment(out_batch_no.as_str())
            );
            if !details {
                let target = format!("{base}?need_query_detail=false");
                return self
                    .call_json::<wire::TransferBatchQueryResponse>(
                        Operation::QueryTransfer,
                        Method::GET,
                        &target,
                        None,
                    )
                    .await?
                    .then(|r| convert::batch_from_query(&r));
            }
            let mut offset = 0usize;
            let mut first: Option<wire::TransferBatchQueryResponse> = None;
            let mut rid: Option<String>;
            loop {
                let target = format!(
                    "{base}?need_query_detail=true&offset={offset}&limit={DETAIL_PAGE}&detail_status={}",
                    encode_query_value("ALL")
                );
                let answer = self
                    .call_json::<wire::TransferBatchQueryResponse>(
                        Operation::QueryTransfer,
                        Method::GET,
                        &target,
                        None,
                    )
                    .await?;
                let page = answer.value;
                rid = answer.request_id;
                let got = page.transfer_detail_list.len();
                let total = usize::try_from(page.transfer_batch.total_num).unwrap_or(0);
                match &mut first {
                    Some(f) => f.transfer_detail_list.extend(page.transfer_detail_list),
                    None => first = Some(page),
                }
                offset += got;
                if got < DETAIL_PAGE || offset >= total || offset >= MAX_BATCH {
                    break;
                }
            }
            let r = first.ok_or_else(|| DecodeError::new("empty batch query"))?;
            convert::batch_from_query(&r).map_err(|e| tag_request_id(e, rid.as_deref()))
        }
        .instrument(span)
        .await
    }

    /// Queries one transfer of a legacy batch
    /// (`GET …/out-batch-no/{out_batch_no}/details/out-detail-no/{out_detail_no}`); the
    /// detail number becomes [`Transfer::merchant_transfer_no`] and WeChat's `detail_id` the
    /// channel number.
    ///
    /// # Errors
    /// Transport, verification, decode and gateway errors.
    pub async fn query_transfer_batch_detail(
        &self,
        out_batch_no: &MerchantTransferNo,
        out_detail_no: &MerchantTransferNo,
    ) -> Result<Transfer> {
        let span = operation_span(
            CHANNEL,
            Operation::QueryTransfer,
            Some(out_detail_no.as_str()),
        );
        async {
            self.transfers_direct_only("batch transfers")?;
            let target = format!(
                "{BATCHES}/out-batch-no/{}/details/out-detail-no/{}",
                encode_path_segment(out_batch_no.as_str()),
                encode_path_segment(out_detail_no.as_str())
            );
            self.call_json::<wire::TransferDetail>(
                Operation::QueryTransfer,
                Method::GET,
                &target,
                None,
            )
            .await?
            .then(|d| convert::transfer_from_detail(&d))
        }
        .instrument(span)
        .await
    }
}
