//! The main job, runnable with no setup:
//!
//! ```sh
//! cargo run -p quickstart
//! ```
//!
//! Today it exercises payagg's core for real: exact money, a payment request, an
//! RSA-signed and verified request with a freshly generated key, an encrypted callback
//! resource decrypted with AES-256-GCM, refunds checked against what was paid, and exact
//! statement arithmetic. It grows into the end-to-end story on the embedded simulator as the
//! channel crates land.

use payagg::crypto::{RsaPrivateKey, SecretKey32, aes_256_gcm_encrypt};
use payagg::ids::MerchantRefundNo;
use payagg::{Currency, ExactAmount, MerchantOrderNo, Money, PayRequest, RefundRequest, Scene};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Money is exact.
    let price = Money::parse_major("12.30", Currency::Cny)?;
    println!("price            {} = {} fen", price, price.minor_units());
    for bad in ["1.234", "-0.01", "1e3", " 1"] {
        let err = Money::parse_major(bad, Currency::Cny)
            .err()
            .ok_or("accepted bad amount")?;
        println!("rejected         {bad:?}: {err}");
    }

    // 2. A payment request.
    let order = MerchantOrderNo::new("QS20240520001")?;
    let req = PayRequest::new(order.clone(), price, "Quickstart tea", Scene::MerchantQr)?
        .notify_url("https://shop.example/notify");
    println!(
        "pay request      {} for {} ({:?})",
        req.merchant_order_no,
        req.amount,
        req.scene.kind()
    );

    // 3. Sign a request the way WeChat APIv3 does, and verify it.
    let key = RsaPrivateKey::generate(2048)?;
    let message = format!(
        "POST\n/v3/pay/transactions/native\n1716170400\n593BEC0C930BF1AFEB40B4A08C8FB242\n{{\"out_trade_no\":\"{order}\"}}\n"
    );
    let signature = key.sign_sha256(message.as_bytes());
    key.public_key()
        .verify_sha256(message.as_bytes(), &signature)
        .map_err(|_| "own signature must verify")?;
    let tampered = message.replace("native", "h5");
    let rejected = key
        .public_key()
        .verify_sha256(tampered.as_bytes(), &signature)
        .is_err();
    println!(
        "rsa signature    {} bytes, verified; tampered message rejected: {rejected}",
        signature.len()
    );

    // 4. An encrypted callback resource, decrypted with the APIv3 key.
    let api_v3_key = SecretKey32::from_bytes(b"0123456789abcdef0123456789abcdef")?;
    let plaintext = format!("{{\"out_trade_no\":\"{order}\",\"trade_state\":\"SUCCESS\"}}");
    let ciphertext = aes_256_gcm_encrypt(
        api_v3_key.expose_secret(),
        b"0123456789ab",
        b"transaction",
        plaintext.as_bytes(),
    );
    let decrypted = api_v3_key.decrypt(b"0123456789ab", b"transaction", &ciphertext)?;
    println!(
        "callback         decrypted {} bytes: {}",
        decrypted.len(),
        String::from_utf8_lossy(&decrypted)
    );

    // 5. Refunds never exceed what was paid.
    let r1 = RefundRequest::new(
        order.clone(),
        MerchantRefundNo::new("QSR1")?,
        Money::cny(500),
        price,
    )?;
    println!(
        "refund           {} of {} accepted",
        r1.amount, r1.order_total
    );
    match Money::check_refundable(price, r1.amount, Money::cny(731)) {
        Err(e) => println!("refund           second refund of 7.31 rejected: {e}"),
        Ok(()) => return Err("over-refund accepted".into()),
    }

    // 6. Statement fees keep the channel's precision.
    let fees = ["0.07380", "0.00600", "0.00020"]
        .iter()
        .map(|s| ExactAmount::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let total = fees
        .iter()
        .try_fold(ExactAmount::ZERO, |a, f| a.checked_add(*f))
        .ok_or("overflow")?;
    println!("statement fees   {} (exact, not rounded)", total);
    println!("quickstart: all checks passed");
    Ok(())
}
