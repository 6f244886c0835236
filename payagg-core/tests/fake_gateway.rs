//! A fake channel implementing `Gateway`, driven end to end through the trait object:
//! pay → callback → query → refund → statement. It checks that the core model is enough to
//! write a channel, and that the shared rules (refund limits, capability errors, callback
//! cross-checks, streaming records) behave through `dyn Gateway`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use http::HeaderMap;
use payagg_core::error::{GatewayError, Unsupported, VerificationError, VerificationKind};
use payagg_core::ids::{ChannelTradeNo, MerchantTransferNo};
use payagg_core::pay::HtmlForm;
use payagg_core::statement::{Records, StatementParser};
use payagg_core::*;
use time::macros::{date, datetime};

const MAC_KEY: &[u8] = b"fake-channel-mac-key";

#[derive(Debug, Default)]
struct State {
    trades: HashMap<String, Trade>,
    refunded: HashMap<String, Money>,
    refunds: HashMap<String, Refund>,
}

#[derive(Debug, Default)]
struct FakeGateway {
    state: Mutex<State>,
}

impl FakeGateway {
    /// The "payer" pays: the channel marks the order paid and produces a signed callback.
    fn payer_pays(&self, order: &MerchantOrderNo) -> CallbackRequest {
        let mut st = self.state.lock().unwrap();
        let t = st.trades.get_mut(order.as_str()).unwrap();
        t.status = TradeStatus::Success;
        t.raw_status = "PAID".into();
        t.channel_trade_no = Some(ChannelTradeNo::new(format!("CH{}", order)).unwrap());
        t.paid_at = Some(datetime!(2024-05-20 10:00 +08:00));
        let body = serde_json::json!({"order": order.as_str(), "amount": t.amount.minor_units(), "status": "PAID"}).to_string();
        let mac = payagg_core::crypto::hmac_sha256_hex_upper(MAC_KEY, body.as_bytes());
        let mut headers = HeaderMap::new();
        headers.insert("x-fake-signature", mac.parse().unwrap());
        CallbackRequest::post(headers, body)
    }

    fn caps() -> Capabilities {
        Capabilities::new(
            Channel::Wechat,
            [SceneKind::MerchantQr, SceneKind::PcWeb],
            [
                Operation::Pay,
                Operation::Query,
                Operation::Refund,
                Operation::VerifyCallback,
                Operation::DownloadStatement,
            ],
            [StatementKind::AllTrades],
        )
    }
}

#[derive(Debug)]
struct FakeParser;

impl StatementParser for FakeParser {
    fn records<'a>(&self, raw: &'a [u8]) -> Records<'a> {
        let text = std::str::from_utf8(raw).unwrap_or("");
        Box::new(text.lines().enumerate().skip(1).map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let gross = ExactAmount::parse(f[2]).map_err(Error::from)?;
            let kind = if f[0] == "refund" { RecordKind::Refund } else { RecordKind::Payment };
            Ok(serde_json::from_value::<StatementRecord>(serde_json::json!({
                "channel": "wechat", "kind": kind, "merchant_order_no": f[1], "channel_trade_no": null,
                "merchant_refund_no": if kind == RecordKind::Refund { Some(f[3]) } else { None },
                "channel_refund_no": null, "gross": gross, "fee": "0.00", "net": gross, "currency": "CNY",
                "occurred_at": "2024-05-20T10:00:00+08:00", "settle_date": null, "channel_kind": f[0],
                "source_line": i + 1, "raw": line,
            }))
            .unwrap())
        }))
    }
}

#[async_trait]
impl Gateway for FakeGateway {
    fn channel(&self) -> Channel {
        Channel::Wechat
    }
    fn capabilities(&self) -> Capabilities {
        Self::caps()
    }
    async fn pay(&self, req: &PayRequest) -> Result<PayResponse> {
        self.capabilities().ensure_scene(req.scene.kind())?;
        let mut st = self.state.lock().unwrap();
        if let Some(existing) = st.trades.get(req.merchant_order_no.as_str())
            && existing.amount != req.amount
        {
            return Err(GatewayError::new(
                Channel::Wechat,
                GatewayErrorKind::DuplicateRequest,
                "INVALID_REQUEST",
                "same out_trade_no, other parameters",
            )
            .into());
        }
        st.trades.insert(
            req.merchant_order_no.to_string(),
            Trade::new(
                Channel::Wechat,
                req.merchant_order_no.clone(),
                TradeStatus::NotPaid,
                "NOTPAY",
                req.amount,
            ),
        );
        let action = match req.scene {
            Scene::MerchantQr => PayAction::ShowQrCode {
                code_url: format!("fake://pay/{}", req.merchant_order_no),
            },
            _ => PayAction::SubmitForm(HtmlForm::new(
                "https://fake.example/pay",
                "POST",
                vec![("order".into(), req.merchant_order_no.to_string())],
            )),
        };
        Ok(PayResponse::new(req.merchant_order_no.clone(), action))
    }
    async fn query(&self, req: &QueryRequest) -> Result<Trade> {
        let st = self.state.lock().unwrap();
        match &req.trade {
            TradeRef::MerchantOrderNo(n) => st.trades.get(n.as_str()).cloned(),
            TradeRef::ChannelTradeNo(c) => st
                .trades
                .values()
                .find(|t| t.channel_trade_no.as_ref() == Some(c))
                .cloned(),
        }
        .ok_or_else(|| {
            GatewayError::new(
                Channel::Wechat,
                GatewayErrorKind::NotFound,
                "ORDER_NOT_EXIST",
                "no such order",
            )
            .into()
        })
    }
    async fn close(&self, _req: &CloseRequest) -> Result<()> {
        Err(Unsupported::new(Channel::Wechat, "close").into())
    }
    async fn refund(&self, req: &RefundRequest) -> Result<Refund> {
        let mut st = self.state.lock().unwrap();
        let TradeRef::MerchantOrderNo(order) = &req.trade else {
            return Err(Error::invalid_input("trade", "by order no only"));
        };
        let trade = st
            .trades
            .get(order.as_str())
            .cloned()
            .ok_or_else(|| Error::invalid_input("trade", "unknown"))?;
        let already = st
            .refunded
            .get(order.as_str())
            .copied()
            .unwrap_or(Money::cny(0));
        Money::check_refundable(trade.amount, already, req.amount).map_err(|e| {
            Error::from(GatewayError::new(
                Channel::Wechat,
                GatewayErrorKind::RefundExceedsPaid,
                "NOT_ENOUGH",
                e.to_string(),
            ))
        })?;
        let total = already.checked_add(req.amount).unwrap();
        st.refunded.insert(order.to_string(), total);
        let t = st.trades.get_mut(order.as_str()).unwrap();
        t.status = if total == t.amount {
            TradeStatus::Refunded
        } else {
            TradeStatus::PartiallyRefunded
        };
        let mut r = Refund::new(
            Channel::Wechat,
            req.merchant_refund_no.clone(),
            req.amount,
            RefundStatus::Success,
            "SUCCESS",
        );
        r.merchant_order_no = Some(order.clone());
        st.refunds
            .insert(req.merchant_refund_no.to_string(), r.clone());
        Ok(r)
    }
    async fn query_refund(&self, req: &RefundQuery) -> Result<Refund> {
        self.state
            .lock()
            .unwrap()
            .refunds
            .get(req.merchant_refund_no.as_str())
            .cloned()
            .ok_or_else(|| Error::decode("refund"))
    }
    async fn transfer(&self, _req: &TransferRequest) -> Result<Transfer> {
        Err(self
            .capabilities()
            .ensure_operation(Operation::Transfer)
            .unwrap_err()
            .into())
    }
    async fn query_transfer(&self, _no: &MerchantTransferNo) -> Result<Transfer> {
        Err(self
            .capabilities()
            .ensure_operation(Operation::QueryTransfer)
            .unwrap_err()
            .into())
    }
    async fn verify_callback(&self, req: &CallbackRequest) -> Result<VerifiedCallback> {
        let presented = req.header("x-fake-signature").ok_or_else(|| {
            VerificationError::new(
                Channel::Wechat,
                VerificationKind::MissingSignature,
                "x-fake-signature header",
            )
        })?;
        let expected = payagg_core::crypto::hmac_sha256_hex_upper(MAC_KEY, &req.body);
        if !payagg_core::crypto::ct_eq(expected.as_bytes(), presented.as_bytes()) {
            return Err(VerificationError::new(
                Channel::Wechat,
                VerificationKind::BadSignature,
                "HMAC over body",
            )
            .into());
        }
        let v: serde_json::Value = serde_json::from_slice(&req.body)
            .map_err(|e| payagg_core::error::DecodeError::new("callback").with_source(e))?;
        let order = MerchantOrderNo::new(v["order"].as_str().unwrap_or_default())?;
        let trade = self.query(&QueryRequest::new(order)).await?;
        Ok(VerifiedCallback::new(
            "PAID",
            CallbackEvent::Payment(trade),
            CallbackAck::new(200, Some("text/plain"), "success"),
            CallbackAck::new(500, Some("text/plain"), "fail"),
        ))
    }
    async fn download_statement(&self, req: &StatementRequest) -> Result<Statement> {
        self.capabilities().ensure_statement(req.kind)?;
        let st = self.state.lock().unwrap();
        let mut csv = String::from("kind,order,gross,refund_no\n");
        let mut orders: Vec<_> = st.trades.values().filter(|t| t.status.is_paid()).collect();
        orders.sort_by(|a, b| a.merchant_order_no.cmp(&b.merchant_order_no));
        for t in orders {
            csv.push_str(&format!(
                "payment,{},{},\n",
                t.merchant_order_no,
                t.amount.to_major_string()
            ));
        }
        let mut refunds: Vec<_> = st.refunds.values().collect();
        refunds.sort_by(|a, b| a.merchant_refund_no.cmp(&b.merchant_refund_no));
        for r in refunds {
            let o = r.merchant_order_no.as_ref().unwrap();
            csv.push_str(&format!(
                "refund,{o},-{},{}\n",
                r.amount.to_major_string(),
                r.merchant_refund_no
            ));
        }
        Ok(Statement::new(
            Channel::Wechat,
            req.date,
            req.kind,
            Bytes::from(csv),
            Arc::new(FakeParser),
        ))
    }
}

#[tokio::test]
async fn full_life_cycle_through_dyn_gateway() {
    let fake = Arc::new(FakeGateway::default());
    let gw: Arc<dyn Gateway> = fake.clone();
    let order = MerchantOrderNo::new("A20240520001").unwrap();

    // Unsupported scene: typed error, nothing panics.
    let h5 = PayRequest::new(
        order.clone(),
        Money::cny(1000),
        "Tea",
        Scene::H5 {
            payer_client_ip: None,
        },
    )
    .unwrap();
    let err = gw.pay(&h5).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
    assert!(!gw.supports(SceneKind::H5));

    // Pay.
    let req = PayRequest::new(order.clone(), Money::cny(1000), "Tea", Scene::MerchantQr).unwrap();
    let resp = gw.pay(&req).await.unwrap();
    assert!(
        matches!(&resp.action, PayAction::ShowQrCode { code_url } if code_url.ends_with("A20240520001"))
    );
    assert_eq!(
        gw.query(&QueryRequest::new(order.clone()))
            .await
            .unwrap()
            .status,
        TradeStatus::NotPaid
    );

    // Same order number, different amount: duplicate request.
    let dup = PayRequest::new(order.clone(), Money::cny(999), "Tea", Scene::MerchantQr).unwrap();
    assert_eq!(
        gw.pay(&dup).await.unwrap_err().gateway_kind(),
        Some(GatewayErrorKind::DuplicateRequest)
    );

    // Callback: tampered body is rejected, the real one verifies and cross-checks.
    let cb = fake.payer_pays(&order);
    let mut tampered = cb.clone();
    tampered.body = Bytes::from(
        String::from_utf8(cb.body.to_vec())
            .unwrap()
            .replace("1000", "1"),
    );
    let e = gw.verify_callback(&tampered).await.unwrap_err();
    assert!(matches!(e, Error::Verification(ref v) if v.kind() == &VerificationKind::BadSignature));
    let verified = gw.verify_callback(&cb).await.unwrap();
    assert_eq!(verified.ack.body, "success");
    let CallbackEvent::Payment(trade) = verified.event else {
        panic!("expected a payment event")
    };
    trade
        .check_matches(&ExpectedOrder::new(order.clone(), Money::cny(1000)))
        .unwrap();
    assert!(
        trade
            .check_matches(&ExpectedOrder::new(order.clone(), Money::cny(100)))
            .is_err()
    );

    // Query by channel number.
    let by_channel = gw
        .query(&QueryRequest::new(trade.channel_trade_no.clone().unwrap()))
        .await
        .unwrap();
    assert_eq!(by_channel.status, TradeStatus::Success);

    // Partial refunds, never above what was paid.
    let r1 = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("R1").unwrap(),
        Money::cny(300),
        Money::cny(1000),
    )
    .unwrap();
    assert_eq!(gw.refund(&r1).await.unwrap().status, RefundStatus::Success);
    let r2 = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("R2").unwrap(),
        Money::cny(701),
        Money::cny(1000),
    )
    .unwrap();
    assert_eq!(
        gw.refund(&r2).await.unwrap_err().gateway_kind(),
        Some(GatewayErrorKind::RefundExceedsPaid)
    );
    let r2 = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("R2").unwrap(),
        Money::cny(700),
        Money::cny(1000),
    )
    .unwrap();
    gw.refund(&r2).await.unwrap();
    assert_eq!(
        gw.query(&QueryRequest::new(order.clone()))
            .await
            .unwrap()
            .status,
        TradeStatus::Refunded
    );
    assert_eq!(
        gw.query_refund(&RefundQuery::new(MerchantRefundNo::new("R1").unwrap()))
            .await
            .unwrap()
            .amount,
        Money::cny(300)
    );

    // Statement: streamed records sum to zero net (paid 10.00, refunded 3.00 + 7.00).
    let stmt = gw
        .download_statement(&StatementRequest::new(
            date!(2024 - 05 - 20),
            StatementKind::AllTrades,
        ))
        .await
        .unwrap();
    let records: Vec<StatementRecord> = stmt.records().collect::<Result<_>>().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].kind, RecordKind::Payment);
    assert_eq!(records[1].primary_key(), Some("R1"));
    let net = records
        .iter()
        .try_fold(ExactAmount::ZERO, |acc, r| acc.checked_add(r.net))
        .unwrap();
    assert!(net.is_zero(), "net {net}");
    let fund = gw
        .download_statement(&StatementRequest::new(
            date!(2024 - 05 - 20),
            StatementKind::FundFlow,
        ))
        .await;
    assert!(matches!(fund, Err(Error::Unsupported(_))));

    // Transfers are unsupported here: typed error.
    let t = TransferRequest::new(
        MerchantTransferNo::new("T1").unwrap(),
        Payee::WechatOpenId(Sensitive::new("o1".into())),
        Money::cny(1),
        "x",
    )
    .unwrap();
    assert!(matches!(gw.transfer(&t).await, Err(Error::Unsupported(_))));
}
