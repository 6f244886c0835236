//! The main job, runnable with no setup:
//!
//! ```sh
//! cargo run -p quickstart
//! ```
//!
//! [`run`] starts the embedded gateway simulator (`payagg-mock`) on loopback and runs a
//! complete story through the real channel clients, configured only with the simulator's base
//! URL and the keys it hands out:
//!
//! - **WeChat Pay**: one payment per scene family, the payer paying through the simulator,
//!   the signed and encrypted callback verified and cross-checked against the order, a query,
//!   a partial refund, a payment code with a password prompt, the day's bill.
//! - **Alipay** (certificate mode): a QR code (precreate) scanned and paid, the notification
//!   verified and cross-checked, a query, a partial refund, the day's bill ZIP.
//! - **UnionPay B2B**: the signed form posted to the cashier, the corporate payer's bank
//!   submission approved, the backUrl notification verified, a query, a partial refund, the
//!   ZM reconciliation file.
//!
//! It ends with one unified statement summary across the channels ([`Summary`]). Every step
//! checks its result; any surprise ends the run with an error. `tests/quickstart.rs` runs it
//! in CI.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use payagg::clock::{CHINA_OFFSET, Clock};
use payagg::crypto::SecretKey32;
use payagg::ids::{AppId, MerchantId};
use payagg::mock::{Delivery, MockConfig, MockServer};
use payagg::transport::{HttpTransport, ReqwestTransport};
use payagg::wechat::micropay::{MicropayClient, MicropayConfig};
use payagg::{
    CallbackEvent, CallbackRequest, Channel, ExactAmount, ExpectedOrder, Gateway, MerchantOrderNo,
    MerchantRefundNo, Money, PayAction, PayRequest, QueryRequest, RecordKind, RefundRequest, Scene,
    Sensitive, Statement, StatementKind, StatementRequest, TradeStatus,
};
use secrecy::ExposeSecret;

/// Any error of the story.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One channel's line of the unified statement summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSummary {
    /// The channel.
    pub channel: Channel,
    /// The settlement or bill date the statement covers.
    pub date: time::Date,
    /// Lines in the statement.
    pub records: usize,
    /// Payment lines.
    pub payments: usize,
    /// Refund lines.
    pub refunds: usize,
    /// Sum of the gross amounts (refunds negative).
    pub gross: ExactAmount,
    /// Sum of what moved after fees.
    pub net: ExactAmount,
}

/// The unified statement summary the story ends with: one line per channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// WeChat Pay, Alipay, UnionPay, in the order the stories ran.
    pub channels: Vec<ChannelSummary>,
}

impl Summary {
    /// The line of `channel`, if its story ran.
    #[must_use]
    pub fn channel(&self, channel: Channel) -> Option<&ChannelSummary> {
        self.channels.iter().find(|c| c.channel == channel)
    }

    /// The net across every channel (all CNY here).
    #[must_use]
    pub fn total_net(&self) -> Option<ExactAmount> {
        self.channels
            .iter()
            .try_fold(ExactAmount::ZERO, |a, c| a.checked_add(c.net))
    }
}

/// Waits by moving the simulator's clock instead of sleeping: the payment-code flows poll
/// "every 5 s" in no real time.
#[derive(Debug)]
struct SimulatorSleeper(Arc<MockServer>);

impl SimulatorSleeper {
    async fn wait(&self, d: Duration) {
        self.0
            .advance(time::Duration::try_from(d).unwrap_or(time::Duration::ZERO));
        tokio::task::yield_now().await;
    }
}

#[async_trait]
impl payagg::wechat::micropay::Sleeper for SimulatorSleeper {
    async fn sleep(&self, d: Duration) {
        self.wait(d).await;
    }
}

#[async_trait]
impl payagg::alipay::Sleeper for SimulatorSleeper {
    async fn sleep(&self, d: Duration) {
        self.wait(d).await;
    }
}

/// Where the clients ask for notifications. Nothing listens there: the simulator records
/// every delivery attempt, and the story verifies the recorded ones as a receiver would.
const NOTIFY_URL: &str = "http://127.0.0.1:9/payagg-quickstart/notify";

fn wechat_client(server: &Arc<MockServer>) -> Result<payagg::wechat::WechatPayClient, BoxError> {
    let wx = server.wechat();
    let config = payagg::wechat::Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(wx.merchant_key_pem().expose_secret().to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key())?)
        .wechatpay_public_key(wx.pub_key_id(), wx.pub_key_pem())
        .platform_certificates(true)
        .base_url(server.base_url())
        .notify_url(NOTIFY_URL)
        .build()?;
    let transport: Arc<dyn HttpTransport> = Arc::new(ReqwestTransport::new(Default::default())?);
    let micropay = MicropayClient::new(
        MicropayConfig::new(wx.appid(), wx.mchid(), wx.apiv2_key().clone())
            .base_url(server.base_url()),
        transport.clone(),
        transport,
    )?
    .with_sleeper(Arc::new(SimulatorSleeper(server.clone())));
    let clock: Arc<dyn Clock> = server.clock();
    Ok(payagg::wechat::WechatPayClient::new(config)?
        .with_clock(clock)
        .with_micropay(Arc::new(micropay), "127.0.0.1"))
}

fn alipay_client(server: &Arc<MockServer>) -> Result<payagg::alipay::AlipayClient, BoxError> {
    let a = server.alipay();
    let config = payagg::alipay::Config::builder()
        .app_id(a.app_id())
        .app_private_key(a.app_private_key_pem().expose_secret().to_owned())
        .certificates(a.app_cert_pem(), a.alipay_cert_pem(), a.root_cert_pem())
        .gateway_url(server.alipay_gateway_url())
        .seller_id(a.seller_id())
        .notify_url(NOTIFY_URL)
        .build()?;
    let clock: Arc<dyn Clock> = server.clock();
    Ok(payagg::alipay::AlipayClient::new(config)?
        .with_clock(clock)
        .with_sleeper(Arc::new(SimulatorSleeper(server.clone()))))
}

fn unionpay_client(server: &Arc<MockServer>) -> Result<payagg::unionpay::UnionPayClient, BoxError> {
    let up = server.unionpay();
    let config = payagg::unionpay::Config::builder()
        .mer_id(up.mer_id())
        .environment(payagg::unionpay::Environment::Test)
        .signing_pfx(up.pfx().to_vec(), up.pfx_password().clone())
        .middle_cert_pem(up.middle_cert_pem())
        .root_cert_pem(up.root_cert_pem())
        .base_url(server.base_url())
        .file_base_url(server.base_url())
        .front_url("http://127.0.0.1:9/payagg-quickstart/return")
        .back_url(NOTIFY_URL)
        .build()?;
    let clock: Arc<dyn Clock> = server.clock();
    Ok(payagg::unionpay::UnionPayClient::new(config)?.with_clock(clock))
}

fn step(out: &mut dyn Write, what: &str, detail: impl std::fmt::Display) -> Result<(), BoxError> {
    writeln!(out, "  {what:<20} {detail}")?;
    Ok(())
}

/// The payer's browser: a GET (QR scan) or a form POST, answered with the page text.
async fn browser(
    transport: &dyn HttpTransport,
    url: &str,
    form: Option<String>,
) -> Result<String, BoxError> {
    let b = http::Request::builder().uri(url);
    let req = match form {
        Some(body) => b
            .method(http::Method::POST)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(Bytes::from(body))?,
        None => b.method(http::Method::GET).body(Bytes::new())?,
    };
    let resp = transport.send(req).await?;
    if resp.status() != http::StatusCode::OK {
        return Err(format!("{url}: HTTP {}", resp.status()).into());
    }
    Ok(String::from_utf8_lossy(resp.body()).into_owned())
}

/// Waits for the first recorded delivery matching `pred`.
async fn delivery(
    server: &MockServer,
    what: &str,
    pred: impl Fn(&Delivery) -> bool,
) -> Result<Delivery, BoxError> {
    server
        .notifier()
        .wait_until(Duration::from_secs(10), |d| d.iter().any(&pred))
        .await;
    server
        .notifications()
        .into_iter()
        .find(|d| pred(d))
        .ok_or_else(|| format!("no {what} notification arrived").into())
}

/// The delivery as the merchant's endpoint receives it.
fn callback(d: &Delivery) -> Result<CallbackRequest, BoxError> {
    let mut headers = http::HeaderMap::new();
    for (k, v) in &d.headers {
        headers.append(http::HeaderName::from_bytes(k.as_bytes())?, v.parse()?);
    }
    Ok(CallbackRequest::post(headers, d.body.clone()))
}

/// Prints the statement's lines and sums them up.
fn summarize(
    out: &mut dyn Write,
    channel: Channel,
    date: time::Date,
    stmt: &Statement,
) -> Result<ChannelSummary, BoxError> {
    let mut s = ChannelSummary {
        channel,
        date,
        records: 0,
        payments: 0,
        refunds: 0,
        gross: ExactAmount::ZERO,
        net: ExactAmount::ZERO,
    };
    for rec in stmt.records() {
        let rec = rec?;
        s.records += 1;
        match rec.kind {
            RecordKind::Payment => s.payments += 1,
            RecordKind::Refund => s.refunds += 1,
            _ => {}
        }
        s.gross = s.gross.checked_add(rec.gross).ok_or("overflow")?;
        s.net = s.net.checked_add(rec.net).ok_or("overflow")?;
        writeln!(
            out,
            "    {:<8} {:<20} gross {:>8} fee {:>9} net {:>10} {}",
            rec.kind,
            rec.merchant_order_no.as_deref().unwrap_or("-"),
            rec.gross,
            rec.fee,
            rec.net,
            rec.occurred_at
                .format(&time::format_description::well_known::Rfc3339)?
        )?;
    }
    step(
        out,
        "statement",
        format!(
            "{date}: {} bytes verified, {} payments, {} refunds, net {} CNY",
            stmt.raw.len(),
            s.payments,
            s.refunds,
            s.net
        ),
    )?;
    Ok(s)
}

/// The next morning after the bills are out: 35 h later on the simulator clock.
fn next_morning(server: &MockServer) {
    server.advance(time::Duration::hours(35));
}

async fn wechat_story(
    out: &mut dyn Write,
    server: &Arc<MockServer>,
) -> Result<ChannelSummary, BoxError> {
    writeln!(out, "WeChat Pay")?;
    let wechat = wechat_client(server)?;
    let gw: &dyn Gateway = &wechat;
    step(out, "scenes", format!("{:?}", gw.capabilities().scenes))?;

    // One payment per scene family.
    let scenes = [
        ("QS-NATIVE-1", Scene::MerchantQr),
        (
            "QS-JSAPI-1",
            Scene::Jsapi {
                payer_id: Sensitive::new("oQuickstartPayer".to_owned()),
            },
        ),
        ("QS-APP-1", Scene::App),
        (
            "QS-H5-1",
            Scene::H5 {
                payer_client_ip: Some("203.0.113.7".to_owned()),
            },
        ),
    ];
    for (no, scene) in scenes {
        let req = PayRequest::new(
            MerchantOrderNo::new(no)?,
            Money::cny(1230),
            "Quickstart tea",
            scene,
        )?;
        let resp = gw.pay(&req).await?;
        let what = match &resp.action {
            PayAction::ShowQrCode { code_url } => format!("show QR {code_url}"),
            PayAction::Jsapi(p) => format!(
                "JSAPI params, paySign {} chars",
                p.get("paySign").map_or(0, str::len)
            ),
            PayAction::App(p) => format!(
                "App params for partner {}",
                p.get("partnerid").unwrap_or("?")
            ),
            PayAction::Redirect { url } => format!("redirect to {url}"),
            other => return Err(format!("unexpected action {other:?}").into()),
        };
        step(out, &format!("pay {no}"), what)?;
    }

    // The payer scans the Native QR code and pays; the simulator sends the notification.
    let order = MerchantOrderNo::new("QS-NATIVE-1")?;
    server.pay(Channel::Wechat, order.as_str(), Some("oQuickstartPayer"))?;
    let d = delivery(server, "payment", |d| d.event_type == "TRANSACTION.SUCCESS").await?;
    let verified = gw.verify_callback(&callback(&d)?).await?;
    let CallbackEvent::Payment(trade) = verified.event else {
        return Err("the notification is not a payment".into());
    };
    trade.check_matches(&ExpectedOrder::new(order.clone(), Money::cny(1230)))?;
    step(
        out,
        "callback",
        format!(
            "{} verified, decrypted, matches the order; ack HTTP {}",
            verified.event_type, verified.ack.status
        ),
    )?;

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
    if !matches!(
        gw.verify_callback(&callback(&d)?).await?.event,
        CallbackEvent::Refund(_)
    ) {
        return Err("the refund notification is not a refund".into());
    }
    step(out, "refund callback", "REFUND.SUCCESS verified")?;
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

    // A payment code that needs the payer's password: USERPAYING, polled until paid.
    let code = PayRequest::new(
        MerchantOrderNo::new("QS-CODE-1")?,
        Money::cny(880),
        "Quickstart till",
        Scene::PaymentCode {
            auth_code: Sensitive::new("101100000000000001".to_owned()),
        },
    )?;
    match gw.pay(&code).await?.action {
        PayAction::Completed(t) => step(
            out,
            "payment code",
            format!(
                "{} after the password prompt: {}",
                t.merchant_order_no, t.status
            ),
        )?,
        other => return Err(format!("payment code not completed: {other:?}").into()),
    }

    // Next morning: download the day's bill, verify its digest, unify it.
    let day = server.now().to_offset(CHINA_OFFSET).date();
    next_morning(server);
    let stmt = gw
        .download_statement(&StatementRequest::new(day, StatementKind::AllTrades))
        .await?;
    let s = summarize(out, Channel::Wechat, day, &stmt)?;
    if s.payments != 2 || s.refunds != 1 {
        return Err("the WeChat bill does not show what happened".into());
    }
    Ok(s)
}

async fn alipay_story(
    out: &mut dyn Write,
    server: &Arc<MockServer>,
    browser_transport: &dyn HttpTransport,
) -> Result<ChannelSummary, BoxError> {
    writeln!(out, "Alipay (certificate mode)")?;
    let alipay = alipay_client(server)?;
    let gw: &dyn Gateway = &alipay;
    let order = MerchantOrderNo::new("QSALIQR001")?;
    let req = PayRequest::new(
        order.clone(),
        Money::cny(8888),
        "Quickstart coffee",
        Scene::MerchantQr,
    )?;
    let PayAction::ShowQrCode { code_url } = gw.pay(&req).await?.action else {
        return Err("precreate did not answer a QR code".into());
    };
    step(
        out,
        &format!("precreate {order}"),
        format!("show QR {code_url}"),
    )?;

    // The payer scans the code (the cashier page opens) and pays.
    let page = browser(browser_transport, &code_url, None).await?;
    if !page.contains(order.as_str()) {
        return Err("the cashier page does not show the order".into());
    }
    server.pay(Channel::Alipay, order.as_str(), Some("2088000000000077"))?;
    let d = delivery(server, "Alipay payment", |d| {
        d.channel == Channel::Alipay && d.event_type == "trade_status_sync:TRADE_SUCCESS"
    })
    .await?;
    let verified = gw.verify_callback(&callback(&d)?).await?;
    let CallbackEvent::Payment(trade) = verified.event else {
        return Err("the Alipay notification is not a payment".into());
    };
    let a = server.alipay();
    trade.check_matches(
        &ExpectedOrder::new(order.clone(), Money::cny(8888))
            .app_id(AppId::new(a.app_id())?)
            .merchant_id(MerchantId::new(a.seller_id())?),
    )?;
    step(
        out,
        "callback",
        format!(
            "trade_status_sync {} verified (RSA2), matches order, app and seller; ack {:?}",
            trade.raw_status, verified.ack.body
        ),
    )?;

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
        CallbackEvent::Refund(rf) => step(
            out,
            "refund callback",
            format!("{} refunded so far, verified", rf.amount),
        )?,
        other => return Err(format!("the refund notification is {other:?}").into()),
    }

    let day = server.now().to_offset(CHINA_OFFSET).date();
    next_morning(server);
    let stmt = gw
        .download_statement(&StatementRequest::new(day, StatementKind::AllTrades))
        .await?;
    let s = summarize(out, Channel::Alipay, day, &stmt)?;
    if s.payments != 1 || s.refunds != 1 {
        return Err("the Alipay bill does not show what happened".into());
    }
    Ok(s)
}

async fn unionpay_story(
    out: &mut dyn Write,
    server: &Arc<MockServer>,
    browser_transport: &dyn HttpTransport,
) -> Result<ChannelSummary, BoxError> {
    writeln!(out, "UnionPay B2B (corporate online banking)")?;
    let unionpay = unionpay_client(server)?;
    let gw: &dyn Gateway = &unionpay;
    let order = MerchantOrderNo::new("QSUPB2B20240105001")?;
    let req = PayRequest::new(
        order.clone(),
        Money::cny(123_456),
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
        &format!("pay {order}"),
        format!(
            "signed form ({} fields) to {}, txnTime {txn_time}",
            form.fields.len(),
            form.action
        ),
    )?;

    // The payer's browser posts the form; the cashier shows the B2B page.
    let body = payagg::unionpay::qstring::form_encode(form.fields.iter().map(|(k, v)| (k, v)));
    let page = browser(browser_transport, &form.action, Some(body)).await?;
    if !page.contains("B2B") {
        return Err("the cashier is not the B2B page".into());
    }
    // The corporate payer submits at the bank; until the approver confirms it is not paid.
    server.unionpay_bank_submit(order.as_str())?;
    let waiting = gw.query(&QueryRequest::new(order.clone())).await?;
    step(
        out,
        "bank submit",
        format!("waiting for the approver: {}", waiting.status),
    )?;
    server.unionpay_confirm_b2b(order.as_str())?;
    let d = delivery(server, "UnionPay payment", |d| {
        d.channel == Channel::Unionpay && d.event_type == "consume"
    })
    .await?;
    let verified = gw.verify_callback(&callback(&d)?).await?;
    let CallbackEvent::Payment(trade) = verified.event else {
        return Err("the UnionPay notification is not a payment".into());
    };
    trade.check_matches(&ExpectedOrder::new(order.clone(), Money::cny(123_456)))?;
    step(
        out,
        "backUrl callback",
        "verified (signPubKeyCert chained to the root), matches the order",
    )?;

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
        MerchantRefundNo::new("QSUPRF20240105001")?,
        Money::cny(2000),
        Money::cny(123_456),
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
        CallbackEvent::Refund(rf) => step(
            out,
            "refund callback",
            format!("{} {}, verified", rf.amount, rf.status),
        )?,
        other => return Err(format!("the refund notification is {other:?}").into()),
    }

    // The ZM file of the settle day (cut-off 23:00 Beijing), published the next morning.
    let settle = (server.now().to_offset(CHINA_OFFSET) + time::Duration::hours(1)).date();
    next_morning(server);
    let stmt = gw
        .download_statement(&StatementRequest::new(settle, StatementKind::AllTrades))
        .await?;
    let s = summarize(out, Channel::Unionpay, settle, &stmt)?;
    if s.payments != 1 || s.refunds != 1 {
        return Err("the ZM file does not show what happened".into());
    }
    Ok(s)
}

/// Runs the whole story on a fresh embedded simulator, writing what happens to `out`.
///
/// # Errors
/// The first step whose result is not what the story expects.
pub async fn run(out: &mut dyn Write) -> Result<Summary, BoxError> {
    let server = Arc::new(MockServer::start(MockConfig::generate()?.with_time_scale(1000)).await?);
    writeln!(out, "simulator listening on {}", server.base_url())?;
    let browser_transport = ReqwestTransport::new(Default::default())?;

    let mut summary = Summary::default();
    summary.channels.push(wechat_story(out, &server).await?);
    summary
        .channels
        .push(alipay_story(out, &server, &browser_transport).await?);
    summary
        .channels
        .push(unionpay_story(out, &server, &browser_transport).await?);

    writeln!(out, "Unified statement summary")?;
    writeln!(
        out,
        "  {:<10} {:<10} {:>7} {:>8} {:>7} {:>12} {:>12}",
        "channel", "date", "records", "payments", "refunds", "gross", "net"
    )?;
    for c in &summary.channels {
        writeln!(
            out,
            "  {:<10} {:<10} {:>7} {:>8} {:>7} {:>12} {:>12}",
            c.channel.to_string(),
            c.date.to_string(),
            c.records,
            c.payments,
            c.refunds,
            c.gross.to_string(),
            c.net.to_string()
        )?;
    }
    let total = summary.total_net().ok_or("overflow")?;
    writeln!(out, "  {:<10} {:>61} CNY", "total net", total.to_string())?;
    writeln!(out, "quickstart: all checks passed")?;
    Ok(summary)
}
