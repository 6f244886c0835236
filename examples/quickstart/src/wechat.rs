//! WeChat Pay: Native, JSAPI, App and H5 paid by the payer and proven by their encrypted
//! notifications; a query, a partial refund and its notification, a refund above the
//! remainder refused; a payment code behind a password prompt; the day's bill.

use std::io::Write;
use std::sync::Arc;

use payagg::clock::CHINA_OFFSET;
use payagg::ids::{AppId, MerchantId};
use payagg::mock::MockServer;
use payagg::{
    CallbackEvent, Channel, ExpectedOrder, Gateway, MerchantOrderNo, MerchantRefundNo, Money,
    PayAction, PayRequest, QueryRequest, RefundRequest, Scene, Sensitive, StatementKind,
    StatementRequest, TradeStatus,
};

use crate::BoxError;
use crate::clients::RETURN_URL;
use crate::payer::{Browser, callback, delivery, encode, payment_notification, step};
use crate::summary::{ChannelSummary, Ledger, Payment, Proof, summarize};

const PAYER: &str = "oQuickstartPayer";

/// The payer's browser follows `h5_url` with the merchant's `redirect_url` appended, as an
/// H5 page does: the simulator's copy of WeChat's page shows the order; the payer pays with
/// a debit card and is sent back to the merchant.
async fn pay_h5(
    out: &mut dyn Write,
    server: &MockServer,
    browser: &Browser,
    h5_url: &str,
    order: &MerchantOrderNo,
    amount: Money,
) -> Result<(), BoxError> {
    let back = encode(&[("redirect_url".to_owned(), RETURN_URL.to_owned())]);
    let page = browser.get(&format!("{h5_url}&{back}")).await?;
    if page.element("out_trade_no").as_deref() != Some(order.as_str())
        || page.element("amount") != Some(amount.to_major_string())
    {
        return Err(format!("the H5 page does not show {order} {amount}").into());
    }
    let mut pay = page
        .form(&server.base_url(), |a| {
            a.contains("/cgi-bin/mmpayweb-bin/checkmweb?")
        })
        .ok_or("the H5 page has no payment form")?;
    for (k, v) in &mut pay.fields {
        if k == "payer" {
            PAYER.clone_into(v);
        }
    }
    // The select and the button the payer clicks, as the browser submits them.
    pay.fields
        .push(("wallet".to_owned(), "CMB_DEBIT".to_owned()));
    pay.fields.push(("action".to_owned(), "pay".to_owned()));
    let after = browser.submit(&pay).await?;
    match after.location.as_deref() {
        Some(RETURN_URL) if after.status == 303 => step(
            out,
            "  H5 page",
            format!(
                "h5_url followed: shows the order; paid with CMB_DEBIT as {PAYER}; HTTP {} back to redirect_url",
                after.status
            ),
        ),
        other => Err(format!(
            "the H5 page did not send the browser back to redirect_url: HTTP {} {other:?}",
            after.status
        )
        .into()),
    }
}

pub(crate) async fn story(
    out: &mut dyn Write,
    server: &Arc<MockServer>,
    browser: &Browser,
) -> Result<ChannelSummary, BoxError> {
    writeln!(out, "WeChat Pay (APIv3; payment code on APIv2)")?;
    let wechat = crate::clients::wechat(server)?;
    let gw: &dyn Gateway = &wechat;
    let wx = server.wechat();
    let mut ledger = Ledger::new();

    // One payment per scene family.
    let scenes = [
        ("QS-NATIVE-1", 1230, "Native", Scene::MerchantQr),
        (
            "QS-JSAPI-1",
            2340,
            "JSAPI",
            Scene::Jsapi {
                payer_id: Sensitive::new(PAYER.to_owned()),
            },
        ),
        ("QS-APP-1", 3450, "App", Scene::App),
        (
            "QS-H5-1",
            4560,
            "H5",
            Scene::H5 {
                payer_client_ip: Some("203.0.113.7".to_owned()),
            },
        ),
    ];
    for (no, fen, what, scene) in scenes {
        let kind = scene.kind();
        let order = MerchantOrderNo::new(no)?;
        let amount = Money::cny(fen);
        let req = PayRequest::new(order.clone(), amount, "Quickstart tea", scene)?;
        let resp = gw.pay(&req).await?;
        let (created, paid) = match &resp.action {
            PayAction::Redirect { url } => {
                // H5: the payer's browser opens h5_url.
                step(
                    out,
                    &format!("{what} {no}"),
                    format!("{amount}: h5_url {}…", url.get(..48).unwrap_or(url)),
                )?;
                pay_h5(out, server, browser, url, &order, amount).await?;
                (String::new(), "paid on the H5 page")
            }
            PayAction::ShowQrCode { code_url } => {
                // The payer scans the code in WeChat and pays.
                server.scan(code_url, Some(PAYER))?;
                (format!("QR {code_url}"), "scanned and paid")
            }
            PayAction::Jsapi(p) => {
                server.pay(Channel::Wechat, no, Some(PAYER))?;
                (
                    format!(
                        "wx.requestPayment params, paySign {} chars",
                        p.get("paySign").map_or(0, str::len)
                    ),
                    "paid in WeChat",
                )
            }
            PayAction::App(p) => {
                server.pay(Channel::Wechat, no, Some(PAYER))?;
                (
                    format!(
                        "App SDK params, partner {}",
                        p.get("partnerid").unwrap_or("?")
                    ),
                    "paid in the app",
                )
            }
            other => return Err(format!("unexpected action {other:?}").into()),
        };
        if !created.is_empty() {
            step(out, &format!("{what} {no}"), format!("{amount}: {created}"))?;
        }
        let expected = ExpectedOrder::new(order, amount)
            .app_id(AppId::new(wx.appid())?)
            .merchant_id(MerchantId::new(wx.mchid())?);
        let (v, trade) = payment_notification(server, gw, Channel::Wechat, &expected, |d| {
            d.event_type == "TRANSACTION.SUCCESS"
        })
        .await?;
        step(
            out,
            "  notification",
            format!(
                "{paid}: {} verified, decrypted, {} matches order, appid, mchid; ack HTTP {}",
                v.event_type, trade.raw_status, v.ack.status
            ),
        )?;
        ledger.paid(Payment {
            scene: kind,
            what,
            order: no.to_owned(),
            amount,
            proof: Proof::Notification,
            return_verified: false,
        });
    }

    let order = MerchantOrderNo::new("QS-NATIVE-1")?;
    let queried = gw.query(&QueryRequest::new(order.clone())).await?;
    if queried.status != TradeStatus::Success {
        return Err(format!("query says {}", queried.status).into());
    }
    step(
        out,
        "query",
        format!("{} {} paid {}", order, queried.status, queried.amount),
    )?;

    // A partial refund, never more than what was paid.
    let refund = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("QS-REFUND-1")?,
        Money::cny(500),
        Money::cny(1230),
    )?;
    let r = gw.refund(&refund).await?;
    step(
        out,
        "refund",
        format!("{} of {}: {}", r.amount, refund.order_total, r.status),
    )?;
    let d = delivery(server, "refund", |d| d.event_type == "REFUND.SUCCESS").await?;
    match gw.verify_callback(&callback(&d)?).await?.event {
        CallbackEvent::Refund(rf) if rf.amount == refund.amount => {
            step(out, "  notification", "REFUND.SUCCESS verified, decrypted")?;
        }
        other => return Err(format!("the refund notification is {other:?}").into()),
    }
    ledger.refunded(refund.amount)?;
    let too_much = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("QS-REFUND-2")?,
        Money::cny(800),
        Money::cny(1230),
    )?;
    match gw.refund(&too_much).await {
        Err(e) => step(out, "refund too large", format!("rejected: {e}"))?,
        Ok(_) => return Err("a refund above the remainder was accepted".into()),
    }

    // A payment code that needs the payer's password: USERPAYING, polled until paid. APIv2
    // micropay has no notification: the signed orderquery answer is the proof.
    let code_order = MerchantOrderNo::new("QS-CODE-1")?;
    let code_amount = Money::cny(880);
    let code = PayRequest::new(
        code_order.clone(),
        code_amount,
        "Quickstart till",
        Scene::PaymentCode {
            auth_code: Sensitive::new("101100000000000001".to_owned()),
        },
    )?;
    match gw.pay(&code).await?.action {
        PayAction::Completed(t) => {
            t.check_matches(&ExpectedOrder::new(code_order.clone(), code_amount))?;
            step(
                out,
                &format!("code {code_order}"),
                format!(
                    "{code_amount}: 1011… USERPAYING, password entered, signed orderquery {}",
                    t.raw_status
                ),
            )?;
        }
        other => return Err(format!("payment code not completed: {other:?}").into()),
    }
    ledger.paid(Payment {
        scene: payagg::SceneKind::PaymentCode,
        what: "micropay",
        order: code_order.as_str().to_owned(),
        amount: code_amount,
        proof: Proof::SignedAnswer,
        return_verified: false,
    });

    // Next morning: download the day's bill, verify its digest, unify it.
    let day = server.now().to_offset(CHINA_OFFSET).date();
    crate::next_morning(server);
    let stmt = gw
        .download_statement(&StatementRequest::new(day, StatementKind::AllTrades))
        .await?;
    summarize(out, Channel::Wechat, day, &stmt, ledger)
}
