//! The main job, runnable with no setup:
//!
//! ```sh
//! cargo run -p quickstart
//! ```
//!
//! One payment per channel and scene family (WeChat Pay, Alipay, UnionPay) on the embedded
//! simulator, each proven paid by its verified callback; partial refunds; the day's statements
//! checked against the story and unified into one summary. See [`quickstart::run`].

#[tokio::main]
async fn main() -> Result<(), quickstart::BoxError> {
    let mut out = std::io::stdout().lock();
    quickstart::run(&mut out).await?;
    Ok(())
}
