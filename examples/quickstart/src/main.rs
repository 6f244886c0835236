//! The main job, runnable with no setup:
//!
//! ```sh
//! cargo run -p quickstart
//! ```
//!
//! WeChat Pay, Alipay and UnionPay B2B stories on the embedded simulator, ending with one
//! unified statement summary; see the library docs ([`quickstart::run`]).

#[tokio::main]
async fn main() -> Result<(), quickstart::BoxError> {
    let mut out = std::io::stdout().lock();
    quickstart::run(&mut out).await?;
    Ok(())
}
