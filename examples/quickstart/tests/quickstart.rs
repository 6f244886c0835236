//! The README's main command, in CI: every scene family of every channel is paid and proven
//! paid, and each channel's statement adds up to what the story did.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payagg::{Channel, ExactAmount, Money, SceneKind};
use quickstart::{ChannelSummary, Proof};

fn paid(s: &ChannelSummary) -> Vec<(String, u64, Proof, bool)> {
    s.paid
        .iter()
        .map(|p| {
            (
                p.order.clone(),
                p.amount.minor_units(),
                p.proof,
                p.return_verified,
            )
        })
        .collect()
}

fn statement(s: &ChannelSummary) -> (usize, usize, usize, String) {
    (s.records, s.payments, s.refunds, s.gross.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scene_family_is_paid_verified_and_in_the_statement() {
    let mut out = Vec::new();
    let summary = quickstart::run(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with("quickstart: all checks passed\n"), "{text}");
    assert_eq!(
        summary
            .channels
            .iter()
            .map(|c| c.channel)
            .collect::<Vec<_>>(),
        [Channel::Wechat, Channel::Alipay, Channel::Unionpay]
    );
    use Proof::{Notification as N, SignedAnswer as S};

    // WeChat Pay: Native, JSAPI, App, H5 (paid on the page h5_url leads to) proven by their
    // notifications; the payment code by the signed orderquery (APIv2 micropay sends none).
    // 5.00 refunded from Native.
    let wx = summary.channel(Channel::Wechat).unwrap();
    assert_eq!(
        wx.scenes_paid(),
        [
            SceneKind::MerchantQr,
            SceneKind::Jsapi,
            SceneKind::App,
            SceneKind::H5,
            SceneKind::PaymentCode
        ]
    );
    let o = |s: &str| s.to_owned();
    assert_eq!(
        paid(wx),
        [
            (o("QS-NATIVE-1"), 1230, N, false),
            (o("QS-JSAPI-1"), 2340, N, false),
            (o("QS-APP-1"), 3450, N, false),
            (o("QS-H5-1"), 4560, N, false),
            (o("QS-CODE-1"), 880, S, false),
        ]
    );
    assert_eq!(wx.refunded, Money::cny(500));
    assert_eq!(statement(wx), (6, 5, 1, o("119.60")));

    // Alipay: precreate, page pay and WAP pay (both with the return URL verified), App pay,
    // and the payment codes that went through: at once (2866…), after the password (2811…,
    // notified once the payer confirms), SYSTEM_ERROR yet paid (2816…), each proven by its
    // notification. 10.00 refunded from the QR trade.
    let ali = summary.channel(Channel::Alipay).unwrap();
    assert_eq!(
        ali.scenes_paid(),
        [
            SceneKind::MerchantQr,
            SceneKind::PcWeb,
            SceneKind::H5,
            SceneKind::App,
            SceneKind::PaymentCode
        ]
    );
    assert_eq!(
        paid(ali),
        [
            (o("QSALIQR001"), 8888, N, false),
            (o("QSALIPC001"), 6660, N, true),
            (o("QSALIWAP001"), 2550, N, true),
            (o("QSALIAPP001"), 1200, N, false),
            (o("QSALICODE1"), 990, N, false),
            (o("QSALICODE2"), 1990, N, false),
            (o("QSALICODE7"), 6990, N, false),
        ]
    );
    // The codes that must not take money: no password (2812), first cancel fails (2813),
    // expired (2814), balance too low (2815).
    let unpaid: Vec<(&str, &str)> = ali
        .unpaid
        .iter()
        .map(|u| (u.order.as_str(), &u.auth_code[..4]))
        .collect();
    assert_eq!(
        unpaid,
        [
            ("QSALICODE3", "2812"),
            ("QSALICODE4", "2813"),
            ("QSALICODE5", "2814"),
            ("QSALICODE6", "2815")
        ]
    );
    assert!(
        ali.unpaid[0].outcome.starts_with("revoked"),
        "{:?}",
        ali.unpaid
    );
    assert!(
        ali.unpaid[1].outcome.starts_with("revoked"),
        "{:?}",
        ali.unpaid
    );
    assert!(
        ali.unpaid[2]
            .outcome
            .contains("ACQ.PAYMENT_AUTH_CODE_INVALID")
    );
    assert!(
        ali.unpaid[3]
            .outcome
            .contains("ACQ.BUYER_BALANCE_NOT_ENOUGH")
    );
    assert_eq!(ali.refunded, Money::cny(1000));
    assert_eq!(statement(ali), (8, 7, 1, o("282.68")));

    // UnionPay: B2C front consume (frontUrl verified), app consume (its tn paid by card as the
    // UnionPay app control does), B2B; 20.00 refunded.
    let up = summary.channel(Channel::Unionpay).unwrap();
    assert_eq!(
        up.scenes_paid(),
        [
            SceneKind::UnionpayB2c,
            SceneKind::App,
            SceneKind::UnionpayB2b
        ]
    );
    assert_eq!(
        paid(up),
        [
            (o("QSUPB2C001"), 32_100, N, true),
            (o("QSUPAPP001"), 8_800, N, false),
            (o("QSUPB2B001"), 123_456, N, false),
        ]
    );
    assert_eq!(up.refunded, Money::cny(2000));
    assert_eq!(statement(up), (4, 3, 1, o("1623.56")));

    for c in &summary.channels {
        // The statement holds what the story did: one payment line per paid order, gross =
        // paid − refunded (computed here from the story's own record, not the statement).
        assert_eq!(c.payments, c.paid.len(), "{c:?}");
        let paid = c
            .paid
            .iter()
            .fold(0, |a, p| a + i64::try_from(p.amount.minor_units()).unwrap());
        let refunded = i64::try_from(c.refunded.minor_units()).unwrap();
        assert_eq!(
            c.gross,
            ExactAmount::from_minor(paid - refunded, 2),
            "{c:?}"
        );
        // Fees only ever take away: net below gross, and the printed table shows it.
        assert!(c.net < c.gross, "{c:?}");
        assert!(text.contains(&c.net.to_string()), "{text}");
    }

    // The printed story shows each proof: 4 WeChat payment notifications, 7 Alipay ones
    // (the 2811 password code's among them), 2 Alipay return URLs, 1 UnionPay frontUrl and 3
    // UnionPay backUrl payments.
    let count = |needle: &str| text.matches(needle).count();
    assert_eq!(
        count("TRANSACTION.SUCCESS verified, decrypted"),
        4,
        "{text}"
    );
    assert_eq!(
        count("trade_status_sync TRADE_SUCCESS verified"),
        7,
        "{text}"
    );
    assert_eq!(count(".pay.return verified"), 2, "{text}");
    assert_eq!(count("frontUrl         verified"), 1, "{text}");
    assert_eq!(
        count("backUrl          verified (signPubKeyCert"),
        3,
        "{text}"
    );
    // The payer's side of three of them: the WeChat h5_url followed like a browser (the page
    // shows the order, the payer pays with a card, the browser goes back to redirect_url)
    // and notified; the UnionPay app order paid by its tn with a credit card; the Alipay
    // 2811 code notified after the password.
    assert_eq!(
        count(
            "h5_url followed: shows the order; paid with CMB_DEBIT as oQuickstartPayer; HTTP 303 back to redirect_url"
        ),
        1,
        "{text}"
    );
    assert_eq!(
        count("paid on the H5 page: TRANSACTION.SUCCESS verified"),
        1,
        "{text}"
    );
    assert_eq!(count("paid with a CMB_CREDIT card"), 1, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("code 2811…") && l.contains("QSALICODE2"))
        .expect("the 2811 line");
    assert!(
        lines[at + 1].contains("notification")
            && lines[at + 1].contains("trade_status_sync TRADE_SUCCESS verified"),
        "{text}"
    );
    let total = summary.total_net().unwrap();
    assert!(text.contains(&format!("{total} CNY")), "{text}");
}
