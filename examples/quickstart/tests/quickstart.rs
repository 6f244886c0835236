//! The README's main command, in CI: the whole story runs and its summary adds up.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payagg::Channel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_runs_and_the_summary_adds_up() {
    let mut out = Vec::new();
    let summary = quickstart::run(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with("quickstart: all checks passed\n"), "{text}");

    let line = |c| summary.channel(c).unwrap();
    let counts = |c| {
        let l = line(c);
        (l.records, l.payments, l.refunds, l.gross.to_string())
    };
    // WeChat: Native 12.30 and the payment code 8.80 paid, 5.00 refunded.
    assert_eq!(counts(Channel::Wechat), (3, 2, 1, "16.10".to_owned()));
    // Alipay: 88.88 paid, 10.00 refunded.
    assert_eq!(counts(Channel::Alipay), (2, 1, 1, "78.88".to_owned()));
    // UnionPay B2B: 1,234.56 paid, 20.00 refunded.
    assert_eq!(counts(Channel::Unionpay), (2, 1, 1, "1214.56".to_owned()));
    assert_eq!(
        summary
            .channels
            .iter()
            .map(|c| c.channel)
            .collect::<Vec<_>>(),
        [Channel::Wechat, Channel::Alipay, Channel::Unionpay]
    );
    for c in &summary.channels {
        // Fees only ever take away: net never above gross.
        assert!(c.net <= c.gross, "{c:?}");
        assert!(text.contains(&c.net.to_string()), "{text}");
    }
}
