//! UnionPay (ACP 5.1.0): B2C front consume through the cashier with the frontUrl post
//! verified, app consume by `tn`, B2B corporate online banking with the approver; each paid
//! order proven by its backUrl notification; a query, a partial refund, the ZM file.

use std::io::Write;
use std::sync::Arc;

use payagg::clock::CHINA_OFFSET;
use payagg::ids::MerchantId;
use payagg::mock::{MockServer, PayAs, Wallet};
use payagg::{
    CallbackEvent, Channel, ExpectedOrder, Gateway, MerchantOrderNo, MerchantRefundNo, Money,
    PayAction, PayRequest, QueryRequest, RefundRequest, Scene, SceneKind, StatementKind,
    StatementRequest, TradeStatus,
};

use crate::BoxError;
use crate::payer::{Browser, callback, delivery, form_post, payment_notification, step};
use crate::summary::{ChannelSummary, Ledger, Payment, Proof, summarize};

fn expected(
    server: &MockServer,
    order: &MerchantOrderNo,
    amount: Money,
) -> Result<ExpectedOrder, BoxError> {
    Ok(ExpectedOrder::new(order.clone(), amount)
        .merchant_id(MerchantId::new(server.unionpay().mer_id())?))
}

/// The backUrl notification of the order, verified and cross-checked.
async fn notification(
    out: &mut dyn Write,
    server: &MockServer,
    gw: &dyn Gateway,
    order: &MerchantOrderNo,
    amount: Money,
) -> Result<(), BoxError> {
    let expected = expected(server, order, amount)?;
    payment_notification(server, gw, Channel::Unionpay, &expected, |d| {
        d.event_type == "consume"
    })
    .await?;
    step(
        out,
        "  backUrl",
        "verified (signPubKeyCert chained to the root), matches order, amount, merId",
    )
}

pub(crate) async fn story(
    out: &mut dyn Write,
    server: &Arc<MockServer>,
    browser: &Browser,
) -> Result<ChannelSummary, BoxError> {
    writeln!(out, "UnionPay (ACP 5.1.0)")?;
    let unionpay = crate::clients::unionpay(server)?;
    let gw: &dyn Gateway = &unionpay;
    let base = server.base_url();
    let mut ledger = Ledger::new();

    // B2C front consume: the auto-posting form to the gateway, the card cashier, frontUrl.
    let order = MerchantOrderNo::new("QSUPB2C001")?;
    let amount = Money::cny(32_100);
    let req = PayRequest::new(
        order.clone(),
        amount,
        "Quickstart bicycle",
        Scene::UnionpayB2c,
    )?;
    let PayAction::SubmitForm(form) = gw.pay(&req).await?.action else {
        return Err("the B2C pay is not a form".into());
    };
    step(
        out,
        &format!("B2C {order}"),
        format!(
            "{amount}: signed form, {} fields to frontTransReq.do",
            form.fields.len()
        ),
    )?;
    let cashier = browser.submit(&form).await?;
    if cashier.element("orderId").as_deref() != Some(order.as_str()) {
        return Err("the B2C cashier does not show the order".into());
    }
    let pay = cashier
        .form(&base, |a| a.ends_with("/pay"))
        .ok_or("the B2C cashier has no pay button")?;
    let back = browser.submit(&pay).await?;
    // The page after paying posts the signed result to frontUrl on load.
    let front = back
        .form(&base, |a| a == crate::clients::RETURN_URL)
        .ok_or("the cashier did not send the browser back to frontUrl")?;
    step(
        out,
        "  cashier",
        format!(
            "card paid; browser posts {} signed fields to frontUrl",
            front.fields.len()
        ),
    )?;
    match gw.verify_callback(&form_post(&front.fields)?).await?.event {
        CallbackEvent::Payment(t) if t.status.is_paid() => {
            t.check_matches(&expected(server, &order, amount)?)?;
            step(
                out,
                "  frontUrl",
                "verified, says paid, matches order, amount, merId",
            )?;
        }
        other => return Err(format!("frontUrl verified as {other:?}").into()),
    }
    notification(out, server, gw, &order, amount).await?;
    ledger.paid(Payment {
        scene: SceneKind::UnionpayB2c,
        what: "B2C front consume",
        order: order.as_str().to_owned(),
        amount,
        proof: Proof::Notification,
        return_verified: true,
    });

    // App consume: the tn goes to the UnionPay app control, where the payer pays it with a
    // credit card.
    let order = MerchantOrderNo::new("QSUPAPP001")?;
    let amount = Money::cny(8_800);
    let req = PayRequest::new(order.clone(), amount, "Quickstart lamp", Scene::App)?;
    let PayAction::AppTransactionNumber(tn) = gw.pay(&req).await?.action else {
        return Err("the app consume did not answer a tn".into());
    };
    let paid = server.unionpay_pay_tn(&tn, &PayAs::wallet(Wallet::credit("CMB")))?;
    if paid.out_trade_no != order.as_str() {
        return Err(format!("tn {tn} paid {}, not {order}", paid.out_trade_no).into());
    }
    step(
        out,
        &format!("App {order}"),
        format!("{amount}: appTransReq.do answered tn {tn}"),
    )?;
    step(
        out,
        "  app control",
        format!("tn {tn} paid with a {} card", paid.wallet),
    )?;
    notification(out, server, gw, &order, amount).await?;
    ledger.paid(Payment {
        scene: SceneKind::App,
        what: "app consume (tn)",
        order: order.as_str().to_owned(),
        amount,
        proof: Proof::Notification,
        return_verified: false,
    });

    // B2B corporate online banking: submitted at the bank, approved, notified.
    let order = MerchantOrderNo::new("QSUPB2B001")?;
    let amount = Money::cny(123_456);
    let req = PayRequest::new(
        order.clone(),
        amount,
        "Quickstart invoice",
        Scene::UnionpayB2b { bank: None },
    )?;
    let resp = gw.pay(&req).await?;
    let txn_time = resp.channel_ref.clone().unwrap_or_default();
    let PayAction::SubmitForm(form) = resp.action else {
        return Err("the B2B pay is not a form".into());
    };
    step(
        out,
        &format!("B2B {order}"),
        format!(
            "{amount}: signed form, {} fields, txnTime {txn_time}",
            form.fields.len()
        ),
    )?;
    let page = browser.submit(&form).await?;
    if !page.body.contains("B2B") || page.element("orderId").as_deref() != Some(order.as_str()) {
        return Err("the cashier is not the B2B page of the order".into());
    }
    // The corporate payer submits at the bank; until the approver confirms it is not paid.
    server.unionpay_bank_submit(order.as_str())?;
    let waiting = gw.query(&QueryRequest::new(order.clone())).await?;
    if waiting.status.is_paid() {
        return Err("the B2B order is paid before approval".into());
    }
    step(
        out,
        "  bank submit",
        format!("waiting for the approver: query says {}", waiting.status),
    )?;
    server.unionpay_confirm_b2b(order.as_str())?;
    notification(out, server, gw, &order, amount).await?;
    ledger.paid(Payment {
        scene: SceneKind::UnionpayB2b,
        what: "B2B front consume",
        order: order.as_str().to_owned(),
        amount,
        proof: Proof::Notification,
        return_verified: false,
    });

    let queried = gw.query(&QueryRequest::new(order.clone())).await?;
    if queried.status != TradeStatus::Success {
        return Err(format!("UnionPay query says {}", queried.status).into());
    }
    step(
        out,
        "query",
        format!("{} {} paid {}", order, queried.status, queried.amount),
    )?;

    let refund = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("QSUPRF001")?,
        Money::cny(2000),
        amount,
    )?;
    let r = gw.refund(&refund).await?;
    step(
        out,
        "refund",
        format!("{} of {}: {}", r.amount, refund.order_total, r.status),
    )?;
    let d = delivery(server, "UnionPay refund", |d| {
        d.channel == Channel::Unionpay && d.event_type == "refund"
    })
    .await?;
    match gw.verify_callback(&callback(&d)?).await?.event {
        CallbackEvent::Refund(rf) if rf.amount == refund.amount => step(
            out,
            "  backUrl",
            format!("refund {} {}, verified", rf.amount, rf.status),
        )?,
        other => return Err(format!("the refund notification is {other:?}").into()),
    }
    ledger.refunded(refund.amount)?;

    // The ZM file of the settle day (cut-off 23:00 Beijing), published the next morning.
    let settle = (server.now().to_offset(CHINA_OFFSET) + time::Duration::hours(1)).date();
    crate::next_morning(server);
    let stmt = gw
        .download_statement(&StatementRequest::new(settle, StatementKind::AllTrades))
        .await?;
    summarize(out, Channel::Unionpay, settle, &stmt, ledger)
}
