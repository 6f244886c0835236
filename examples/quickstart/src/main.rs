//! The main job, runnable with no setup:
//!
//! ```sh
//! cargo run -p quickstart
//! ```
//!
//! It starts the embedded gateway simulator (`payagg-mock`) on loopback and runs a complete
//! story through the real channel clients, configured only with the simulator's base URL and
//! keys: one payment per scene family, the payer paying through the simulator, the signed
//! and encrypted callback verified and cross-checked against the order, a query, a partial
//! refund, a payment code with a password prompt, and the day's statement downloaded,
//! verified and unified. Every step checks its result; any surprise ends the run with an error.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use payagg::clock::Clock;
use payagg::crypto::SecretKey32;
use payagg::mock::{MockConfig, MockServer};
use payagg::wechat::micropay::{MicropayClient, MicropayConfig, Sleeper};
use payagg::wechat::{Config, WechatPayClient};
use payagg::{
    CallbackEvent, CallbackRequest, Channel, ExactAmount, ExpectedOrder, Gateway, MerchantOrderNo,
    MerchantRefundNo, Money, PayAction, PayRequest, QueryRequest, RecordKind, RefundRequest, Scene,
    Sensitive, StatementKind, StatementRequest, TradeStatus,
};
use secrecy::ExposeSecret;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Waits by moving the simulator's clock instead of sleeping: the payment-code flow polls
/// "every 5 s" in no real time.
#[derive(Debug)]
struct SimulatorSleeper(Arc<MockServer>);

#[async_trait]
impl Sleeper for SimulatorSleeper {
    async fn sleep(&self, d: Duration) {
        self.0
            .advance(time::Duration::try_from(d).unwrap_or(time::Duration::ZERO));
        tokio::task::yield_now().await;
    }
}

fn wechat_client(server: &Arc<MockServer>) -> Result<WechatPayClient, BoxError> {
    let wx = server.wechat();
    let config = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(wx.merchant_key_pem().expose_secret().to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key())?)
        .wechatpay_public_key(wx.pub_key_id(), wx.pub_key_pem())
        .platform_certificates(true)
        .base_url(server.base_url())
        .notify_url("http://127.0.0.1:9/payagg-quickstart/notify")
        .build()?;
    let transport: Arc<dyn payagg::transport::HttpTransport> =
        Arc::new(payagg::transport::ReqwestTransport::new(Default::default())?);
    let micropay = MicropayClient::new(
        MicropayConfig::new(wx.appid(), wx.mchid(), wx.apiv2_key().clone())
            .base_url(server.base_url()),
        transport.clone(),
        transport,
    )?
    .with_sleeper(Arc::new(SimulatorSleeper(server.clone())));
    let clock: Arc<dyn Clock> = server.clock();
    Ok(WechatPayClient::new(config)?
        .with_clock(clock)
        .with_micropay(Arc::new(micropay), "127.0.0.1"))
}

fn step(what: &str, detail: impl std::fmt::Display) {
    println!("{what:<22} {detail}");
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let server = Arc::new(MockServer::start(MockConfig::generate()?.with_time_scale(1000)).await?);
    step("simulator", format!("listening on {}", server.base_url()));
    let wechat = wechat_client(&server)?;
    let gw: &dyn Gateway = &wechat;
    let caps = gw.capabilities();
    step("wechat scenes", format!("{:?}", caps.scenes));

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
        step(&format!("pay {no}"), what);
    }

    // The payer scans the Native QR code and pays; the simulator sends the notification.
    let order = MerchantOrderNo::new("QS-NATIVE-1")?;
    server.pay(Channel::Wechat, order.as_str(), Some("oQuickstartPayer"))?;
    if !server
        .notifier()
        .wait_until(Duration::from_secs(10), |d| {
            d.iter().any(|n| n.event_type == "TRANSACTION.SUCCESS")
        })
        .await
    {
        return Err("no payment notification arrived".into());
    }
    let delivery = server
        .notifications()
        .into_iter()
        .find(|d| d.event_type == "TRANSACTION.SUCCESS")
        .ok_or("payment notification missing")?;
    let mut headers = http::HeaderMap::new();
    for (k, v) in &delivery.headers {
        headers.insert(http::HeaderName::from_bytes(k.as_bytes())?, v.parse()?);
    }
    let verified = gw
        .verify_callback(&CallbackRequest::post(headers, delivery.body.clone()))
        .await?;
    let CallbackEvent::Payment(trade) = verified.event else {
        return Err("the notification is not a payment".into());
    };
    trade.check_matches(&ExpectedOrder::new(order.clone(), Money::cny(1230)))?;
    step(
        "callback",
        format!(
            "{} verified, decrypted, matches the order; ack HTTP {}",
            verified.event_type, verified.ack.status
        ),
    );

    let queried = gw.query(&QueryRequest::new(order.clone())).await?;
    if queried.status != TradeStatus::Success {
        return Err(format!("query says {}", queried.status).into());
    }
    step(
        "query",
        format!("{} {} paid {}", order, queried.status, queried.amount),
    );

    // A partial refund, never more than what was paid.
    let refund = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("QS-REFUND-1")?,
        Money::cny(500),
        Money::cny(1230),
    )?;
    let r = gw.refund(&refund).await?;
    step(
        "refund",
        format!("{} of {}: {}", r.amount, refund.order_total, r.status),
    );
    let too_much = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("QS-REFUND-2")?,
        Money::cny(800),
        Money::cny(1230),
    )?;
    match gw.refund(&too_much).await {
        Err(e) => step("refund too large", format!("rejected: {e}")),
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
            "payment code",
            format!(
                "{} after the password prompt: {}",
                t.merchant_order_no, t.status
            ),
        ),
        other => return Err(format!("payment code not completed: {other:?}").into()),
    }

    // Next morning: download the day's statement, verify its digest, unify it.
    let day = server.now().to_offset(payagg::clock::CHINA_OFFSET).date();
    server.advance(time::Duration::days(1) + time::Duration::hours(11));
    let stmt = gw
        .download_statement(&StatementRequest::new(day, StatementKind::AllTrades))
        .await?;
    let mut net = ExactAmount::ZERO;
    let (mut payments, mut refunds) = (0, 0);
    for rec in stmt.records() {
        let rec = rec?;
        match rec.kind {
            RecordKind::Payment => payments += 1,
            RecordKind::Refund => refunds += 1,
            _ => {}
        }
        net = net.checked_add(rec.net).ok_or("overflow")?;
        println!(
            "  {:<8} {:<12} gross {:>7} fee {:>9} net {:>9} {}",
            rec.kind,
            rec.merchant_order_no.as_deref().unwrap_or("-"),
            rec.gross,
            rec.fee,
            rec.net,
            rec.occurred_at.format(&time::format_description::well_known::Rfc3339)?
        );
    }
    step(
        "statement",
        format!(
            "{day}: {} bytes verified, {payments} payments, {refunds} refunds, net {net} CNY",
            stmt.raw.len()
        ),
    );
    if payments != 2 || refunds != 1 {
        return Err("the statement does not show what happened".into());
    }
    println!("quickstart: all checks passed");
    Ok(())
}
