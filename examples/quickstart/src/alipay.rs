//! Alipay (certificate mode): a QR code (precreate) scanned, PC page pay and WAP pay through
//! the cashier with the return URL verified, App pay from the order string, payment codes
//! with every outcome the simulator scripts; each paid trade proven by its notification (the
//! password case's sent once the payer confirms); a query, a partial refund, the day's bill
//! ZIP.

use std::io::Write;
use std::sync::Arc;

use payagg::clock::CHINA_OFFSET;
use payagg::ids::{AppId, MerchantId};
use payagg::mock::MockServer;
use payagg::pay::HtmlForm;
use payagg::{
    CallbackEvent, Channel, ExpectedOrder, Gateway, MerchantOrderNo, MerchantRefundNo, Money,
    PayAction, PayRequest, QueryRequest, RefundRequest, Scene, SceneKind, Sensitive, StatementKind,
    StatementRequest, TradeStatus,
};

use crate::BoxError;
use crate::clients::RETURN_URL;
use crate::payer::{Browser, Page, callback, delivery, payment_notification, step};
use crate::summary::{ChannelSummary, Ledger, Payment, Proof, Unpaid, summarize};

const BUYER: &str = "2088000000000077";

struct Alipay<'a> {
    server: &'a Arc<MockServer>,
    client: payagg::alipay::AlipayClient,
    browser: &'a Browser,
}

impl Alipay<'_> {
    fn gw(&self) -> &dyn Gateway {
        &self.client
    }

    fn expected(&self, order: &MerchantOrderNo, amount: Money) -> Result<ExpectedOrder, BoxError> {
        let a = self.server.alipay();
        Ok(ExpectedOrder::new(order.clone(), amount)
            .app_id(AppId::new(a.app_id())?)
            .merchant_id(MerchantId::new(a.seller_id())?))
    }

    /// The trade_status_sync notification of the order, verified and cross-checked.
    async fn notification(
        &self,
        out: &mut dyn Write,
        order: &MerchantOrderNo,
        amount: Money,
    ) -> Result<(), BoxError> {
        let expected = self.expected(order, amount)?;
        let (v, trade) =
            payment_notification(self.server, self.gw(), Channel::Alipay, &expected, |d| {
                d.event_type == "trade_status_sync:TRADE_SUCCESS"
                    && !d.body_str().contains("out_biz_no=")
            })
            .await?;
        step(
            out,
            "  notification",
            format!(
                "trade_status_sync {} verified (RSA2, cert SN), matches order, app, seller; ack {:?}",
                trade.raw_status, v.ack.body
            ),
        )
    }

    /// The cashier page the payer sees: it must show the order; then "确认付款".
    async fn pay_at_cashier(
        &self,
        out: &mut dyn Write,
        cashier: &Page,
        order: &MerchantOrderNo,
        amount: Money,
    ) -> Result<Page, BoxError> {
        if cashier.element("out_trade_no").as_deref() != Some(order.as_str())
            || cashier.element("total_amount") != Some(amount.to_major_string())
        {
            return Err(format!("the cashier page does not show {order} {amount}").into());
        }
        let trade_no = cashier.element("trade_no").unwrap_or_default();
        let mut pay: HtmlForm = cashier
            .form(&self.server.base_url(), |a| a.ends_with("/pay"))
            .ok_or("the cashier page has no pay button")?;
        for (k, v) in &mut pay.fields {
            if k == "buyer_id" {
                BUYER.clone_into(v);
            }
        }
        let after = self.browser.submit(&pay).await?;
        step(
            out,
            "  cashier",
            format!(
                "trade {trade_no} {}, paid as buyer {BUYER}: HTTP {}",
                cashier.element("trade_status").unwrap_or_default(),
                after.status
            ),
        )?;
        Ok(after)
    }

    /// The browser's return to `return_url`: the signed parameters verified and matched.
    async fn verify_return(
        &self,
        out: &mut dyn Write,
        after: &Page,
        order: &MerchantOrderNo,
        amount: Money,
    ) -> Result<(), BoxError> {
        let location = after
            .location
            .as_deref()
            .filter(|_| after.status == 302)
            .ok_or("the cashier did not send the browser back")?;
        let query = location
            .strip_prefix(RETURN_URL)
            .and_then(|q| q.strip_prefix('?'))
            .ok_or_else(|| format!("the browser was sent to {location}"))?;
        let v = self
            .gw()
            .verify_callback(&payagg::CallbackRequest::get(query))
            .await?;
        let CallbackEvent::Other {
            event_type,
            content,
        } = &v.event
        else {
            return Err(format!("the return URL verified as {:?}", v.event).into());
        };
        if content["out_trade_no"] != order.as_str()
            || content["total_amount"] != amount.to_major_string().as_str()
        {
            return Err(format!("the return URL does not match {order} {amount}").into());
        }
        step(
            out,
            "  return_url",
            format!("{event_type} verified (RSA2), matches order and amount"),
        )
    }

    fn paid(ledger: &mut Ledger, scene: SceneKind, what: &'static str, order: &str, fen: u64) {
        ledger.paid(Payment {
            scene,
            what,
            order: order.to_owned(),
            amount: Money::cny(fen),
            proof: Proof::Notification,
            return_verified: matches!(scene, SceneKind::PcWeb | SceneKind::H5),
        });
    }
}

pub(crate) async fn story(
    out: &mut dyn Write,
    server: &Arc<MockServer>,
    browser: &Browser,
) -> Result<ChannelSummary, BoxError> {
    writeln!(out, "Alipay (certificate mode)")?;
    let ali = Alipay {
        server,
        client: crate::clients::alipay(server)?,
        browser,
    };
    let gw = ali.gw();
    let mut ledger = Ledger::new();

    // QR code (alipay.trade.precreate): the payer scans it and the cashier opens.
    let order = MerchantOrderNo::new("QSALIQR001")?;
    let amount = Money::cny(8888);
    let req = PayRequest::new(
        order.clone(),
        amount,
        "Quickstart coffee",
        Scene::MerchantQr,
    )?;
    let PayAction::ShowQrCode { code_url } = gw.pay(&req).await?.action else {
        return Err("precreate did not answer a QR code".into());
    };
    step(
        out,
        &format!("QR {order}"),
        format!("{amount}: precreate, show QR {code_url}"),
    )?;
    let cashier = browser.get(&code_url).await?;
    ali.pay_at_cashier(out, &cashier, &order, amount).await?;
    ali.notification(out, &order, amount).await?;
    Alipay::paid(
        &mut ledger,
        SceneKind::MerchantQr,
        "alipay.trade.precreate",
        order.as_str(),
        8888,
    );

    // PC page pay: the auto-submitting form posts to the gateway, which answers the cashier.
    let order = MerchantOrderNo::new("QSALIPC001")?;
    let amount = Money::cny(6660);
    let req = PayRequest::new(order.clone(), amount, "Quickstart teapot", Scene::PcWeb)?
        .return_url(RETURN_URL);
    let PayAction::SubmitForm(form) = gw.pay(&req).await?.action else {
        return Err("page pay did not answer a form".into());
    };
    step(
        out,
        &format!("PC page {order}"),
        format!(
            "{amount}: alipay.trade.page.pay auto-submit form, {} to /gateway.do?…",
            form.method
        ),
    )?;
    let cashier = browser.submit(&form).await?;
    let after = ali.pay_at_cashier(out, &cashier, &order, amount).await?;
    ali.verify_return(out, &after, &order, amount).await?;
    ali.notification(out, &order, amount).await?;
    Alipay::paid(
        &mut ledger,
        SceneKind::PcWeb,
        "alipay.trade.page.pay",
        order.as_str(),
        6660,
    );

    // WAP pay, as the GET redirect URL this time.
    let order = MerchantOrderNo::new("QSALIWAP001")?;
    let amount = Money::cny(2550);
    let req = PayRequest::new(
        order.clone(),
        amount,
        "Quickstart mug",
        Scene::H5 {
            payer_client_ip: None,
        },
    )?
    .return_url(RETURN_URL);
    let PayAction::Redirect { url } = ali.client.pay_redirect(&req)?.action else {
        return Err("WAP pay did not answer a redirect".into());
    };
    step(
        out,
        &format!("WAP {order}"),
        format!(
            "{amount}: alipay.trade.wap.pay GET URL, {} bytes",
            url.len()
        ),
    )?;
    let cashier = browser.get(&url).await?;
    let after = ali.pay_at_cashier(out, &cashier, &order, amount).await?;
    ali.verify_return(out, &after, &order, amount).await?;
    ali.notification(out, &order, amount).await?;
    Alipay::paid(
        &mut ledger,
        SceneKind::H5,
        "alipay.trade.wap.pay",
        order.as_str(),
        2550,
    );

    // App pay: the order string goes to the Alipay app, which sends it to Alipay.
    let order = MerchantOrderNo::new("QSALIAPP001")?;
    let amount = Money::cny(1200);
    let req = PayRequest::new(order.clone(), amount, "Quickstart beans", Scene::App)?;
    let PayAction::AppOrderString(order_string) = gw.pay(&req).await?.action else {
        return Err("App pay did not answer an order string".into());
    };
    step(
        out,
        &format!("App {order}"),
        format!(
            "{amount}: alipay.trade.app.pay order string, {} bytes",
            order_string.len()
        ),
    )?;
    let cashier = browser
        .post(&server.alipay_gateway_url(), order_string)
        .await?;
    let after = ali.pay_at_cashier(out, &cashier, &order, amount).await?;
    if after.element("trade_status").as_deref() != Some("TRADE_SUCCESS") {
        return Err("the app's cashier does not show the trade paid".into());
    }
    ali.notification(out, &order, amount).await?;
    Alipay::paid(
        &mut ledger,
        SceneKind::App,
        "alipay.trade.app.pay",
        order.as_str(),
        1200,
    );

    payment_codes(out, &ali, &mut ledger).await?;

    // Query, partial refund and its notification on the QR trade.
    let order = MerchantOrderNo::new("QSALIQR001")?;
    let queried = gw.query(&QueryRequest::new(order.clone())).await?;
    if queried.status != TradeStatus::Success {
        return Err(format!("Alipay query says {}", queried.status).into());
    }
    step(
        out,
        "query",
        format!("{} {} paid {}", order, queried.status, queried.amount),
    )?;
    let refund = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("QSALIRF001")?,
        Money::cny(1000),
        Money::cny(8888),
    )?;
    let r = gw.refund(&refund).await?;
    step(
        out,
        "refund",
        format!("{} of {}: {}", r.amount, refund.order_total, r.status),
    )?;
    let d = delivery(server, "Alipay refund", |d| {
        d.channel == Channel::Alipay && d.body_str().contains("out_biz_no=QSALIRF001")
    })
    .await?;
    match gw.verify_callback(&callback(&d)?).await?.event {
        CallbackEvent::Refund(rf) if rf.amount == refund.amount => step(
            out,
            "  notification",
            format!(
                "refund of {} verified, confirmed by refund query",
                rf.amount
            ),
        )?,
        other => return Err(format!("the refund notification is {other:?}").into()),
    }
    ledger.refunded(refund.amount)?;

    let day = server.now().to_offset(CHINA_OFFSET).date();
    crate::next_morning(server);
    let stmt = gw
        .download_statement(&StatementRequest::new(day, StatementKind::AllTrades))
        .await?;
    summarize(out, Channel::Alipay, day, &stmt, ledger)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Paid,
    Revoked,
    Declined,
}
use Want::{Declined, Paid, Revoked};

/// `alipay.trade.pay` with a bar code, one per scripted outcome (see payagg-mock's docs).
async fn payment_codes(
    out: &mut dyn Write,
    ali: &Alipay<'_>,
    ledger: &mut Ledger,
) -> Result<(), BoxError> {
    let codes = [
        (
            "QSALICODE1",
            990,
            "286600000000000001",
            "paid at once",
            Paid,
        ),
        (
            "QSALICODE2",
            1990,
            "281100000000000002",
            "password, then paid",
            Paid,
        ),
        (
            "QSALICODE3",
            2990,
            "281200000000000003",
            "no password: cancelled",
            Revoked,
        ),
        (
            "QSALICODE4",
            3990,
            "281300000000000004",
            "first cancel errs",
            Revoked,
        ),
        (
            "QSALICODE5",
            4990,
            "281400000000000005",
            "code expired",
            Declined,
        ),
        (
            "QSALICODE6",
            5990,
            "281500000000000006",
            "balance too low",
            Declined,
        ),
        (
            "QSALICODE7",
            6990,
            "281600000000000007",
            "SYSTEM_ERROR, paid",
            Paid,
        ),
    ];
    for (no, fen, auth, what, want) in codes {
        let order = MerchantOrderNo::new(no)?;
        let amount = Money::cny(fen);
        let req = PayRequest::new(
            order.clone(),
            amount,
            "Quickstart till",
            Scene::PaymentCode {
                auth_code: Sensitive::new(auth.to_owned()),
            },
        )?;
        let label = format!("code {}…", &auth[..4]);
        let unpaid = |outcome: String| Unpaid {
            order: no.to_owned(),
            auth_code: auth.to_owned(),
            outcome,
        };
        match ali.gw().pay(&req).await {
            Ok(r) => match r.action {
                PayAction::Completed(t) if want == Paid => {
                    // The pay and query answers carry no app_id / seller_id to compare.
                    t.check_matches(&ExpectedOrder::new(order.clone(), amount))?;
                    step(
                        out,
                        &label,
                        format!("{no} {amount}: {what}: {} (signed answer)", t.raw_status),
                    )?;
                    // Every paid code is notified, the password case too: once the payer
                    // confirms, Alipay sends trade_status_sync to the call's notify_url.
                    ali.notification(out, &order, amount).await?;
                    ledger.paid(Payment {
                        scene: SceneKind::PaymentCode,
                        what: "alipay.trade.pay",
                        order: no.to_owned(),
                        amount,
                        proof: Proof::Notification,
                        return_verified: false,
                    });
                }
                PayAction::Pending(t) if want == Revoked && t.status == TradeStatus::Revoked => {
                    step(
                        out,
                        &label,
                        format!("{no} {amount}: {what}: {} ({})", t.status, t.raw_status),
                    )?;
                    ledger
                        .unpaid
                        .push(unpaid(format!("{} {}", t.status, t.raw_status)));
                }
                other => return Err(format!("{no}: unexpected {other:?}").into()),
            },
            Err(e) if want == Declined => {
                step(out, &label, format!("{no} {amount}: {what}: declined, {e}"))?;
                ledger.unpaid.push(unpaid(e.to_string()));
            }
            Err(e) => return Err(format!("{no} ({what}): {e}").into()),
        }
    }
    Ok(())
}
