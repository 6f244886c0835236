//! The main job, runnable with no setup:
//!
//! ```sh
//! cargo run -p quickstart
//! ```
//!
//! [`run`] starts the embedded gateway simulator (`payagg-mock`) on loopback and runs a
//! complete story through the real channel clients, configured only with the simulator's base
//! URL and the keys it hands out. One payment per channel and scene family, each proven paid
//! by its verified notification cross-checked against the order (the WeChat payment code by
//! the signed answer instead: APIv2 sends no notification; see [`Proof`]):
//!
//! - **WeChat Pay**: Native (the QR code scanned), JSAPI, App and H5 (the `h5_url` followed
//!   like a browser to the simulator's page, paid there, sent back to `redirect_url`) paid, each
//!   `TRANSACTION.SUCCESS` verified, decrypted and matched (order, amount, appid, mchid); a
//!   query; a partial refund and its `REFUND.SUCCESS`; a refund above the remainder refused; a
//!   payment code behind a password prompt (APIv2 has no notification: the signed orderquery
//!   answer is the proof); the day's bill.
//! - **Alipay** (certificate mode): a QR code (precreate) scanned at the cashier; PC page pay
//!   (the auto-submitting form) and WAP pay (the GET URL) followed to the cashier, paid, the
//!   return URL's signed parameters verified; App pay (the order string sent to the gateway
//!   as the Alipay app sends it); payment codes with each scripted outcome (paid at once;
//!   password then paid, notified once confirmed; no password, cancelled; cancel retried; code expired; balance too
//!   low; `SYSTEM_ERROR` yet paid); a query, a partial refund and its notification; the day's
//!   bill ZIP.
//! - **UnionPay**: B2C front consume (the auto-posting form, the card cashier, the signed
//!   frontUrl post verified), app consume (the `tn` paid by card as the UnionPay app control
//!   does), B2B corporate online banking (submitted at
//!   the bank, approved); each backUrl notification verified; a query, a partial refund and
//!   its notification; the ZM reconciliation file.
//!
//! Each channel's statement is checked against what the story did (one payment line per paid
//! order with its amount, one refund line per refund, gross = paid − refunded) and the run
//! ends with one unified summary ([`Summary`]). Any surprise ends the run with an error.
//! `tests/quickstart.rs` runs it in CI.

mod alipay;
mod clients;
mod payer;
mod summary;
mod unionpay;
mod wechat;

use std::io::Write;
use std::sync::Arc;

use payagg::clock::CHINA_OFFSET;
use payagg::mock::{MockConfig, MockServer};

pub use summary::{ChannelSummary, Payment, Proof, Summary, Unpaid};

/// Any error of the story.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The next morning after the bills are out: 35 h later on the simulator clock.
fn next_morning(server: &MockServer) {
    server.advance(time::Duration::hours(35));
}

/// 09:30 Beijing time tomorrow: every channel's day then starts in the morning, so no story
/// runs across midnight whenever it is started.
fn start_time() -> time::OffsetDateTime {
    let tomorrow = time::OffsetDateTime::now_utc()
        .to_offset(CHINA_OFFSET)
        .date()
        .next_day()
        .unwrap_or(time::Date::MIN);
    tomorrow
        .with_time(time::Time::from_hms(9, 30, 0).unwrap_or(time::Time::MIDNIGHT))
        .assume_offset(CHINA_OFFSET)
}

/// Runs the whole story on a fresh embedded simulator, writing what happens to `out`.
///
/// # Errors
/// The first step whose result is not what the story expects.
pub async fn run(out: &mut dyn Write) -> Result<Summary, BoxError> {
    let mut config = MockConfig::generate()?.with_time_scale(1000);
    config.start_time = start_time();
    let server = Arc::new(MockServer::start(config).await?);
    writeln!(
        out,
        "simulator listening on {}, its clock at {}",
        server.base_url(),
        server
            .now()
            .to_offset(CHINA_OFFSET)
            .format(&time::format_description::well_known::Rfc3339)?
    )?;
    let browser = payer::Browser::new()?;

    let mut summary = Summary::default();
    summary
        .channels
        .push(wechat::story(out, &server, &browser).await?);
    summary
        .channels
        .push(alipay::story(out, &server, &browser).await?);
    summary
        .channels
        .push(unionpay::story(out, &server, &browser).await?);

    summary.print(out)?;
    writeln!(out, "quickstart: all checks passed")?;
    Ok(summary)
}
