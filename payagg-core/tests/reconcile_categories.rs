//! Reconciliation: every category, cross-day timing, duplicates, the close threshold, fees.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payagg_core::reconcile::{
    BookEntry, BookStatus, Category, ExpectedFee, ReconcileConfig, Reconciler, Rule,
    SettlementConfig, SettlementRule, Side, match_settlements,
};
use payagg_core::statement::{RecordKind, StatementRecord};
use payagg_core::{Channel, Currency, ExactAmount, Money};
use time::OffsetDateTime;
use time::macros::{date, datetime};

fn amt(s: &str) -> ExactAmount {
    ExactAmount::parse(s).unwrap()
}

fn pay_line(order: &str, gross: &str, fee: &str, at: OffsetDateTime, line: u64) -> StatementRecord {
    let g = amt(gross);
    let f = amt(fee);
    let mut r = StatementRecord::new(
        Channel::Wechat,
        RecordKind::Payment,
        g,
        f,
        g.checked_add(f).unwrap(),
        Currency::Cny,
        at,
    );
    r.merchant_order_no = Some(order.into());
    r.channel_trade_no = Some(format!("42000{order}"));
    r.channel_kind = "SUCCESS".into();
    r.source_line = line;
    r.raw = format!("`{order},`{gross}");
    r
}

fn refund_line(
    order: &str,
    refund: &str,
    gross: &str,
    at: OffsetDateTime,
    line: u64,
) -> StatementRecord {
    let mut r = pay_line(order, gross, "0.00", at, line);
    r.kind = RecordKind::Refund;
    r.merchant_refund_no = Some(refund.into());
    r.channel_refund_no = Some(format!("50300{refund}"));
    r.channel_kind = "REFUND".into();
    r
}

const T: OffsetDateTime = datetime!(2024-05-20 10:00 +8);

fn run(
    books: Vec<BookEntry>,
    files: Vec<Vec<StatementRecord>>,
    cfg: ReconcileConfig,
) -> payagg_core::reconcile::Report {
    let mut r = Reconciler::new(cfg, books).unwrap();
    for (i, f) in files.into_iter().enumerate() {
        r.add_records(format!("file{i}.csv"), f).unwrap();
    }
    r.finish().unwrap()
}

fn only(report: &payagg_core::reconcile::Report) -> &payagg_core::reconcile::Discrepancy {
    assert_eq!(
        report.discrepancies().len(),
        1,
        "{:#?}",
        report.discrepancies()
    );
    &report.discrepancies()[0]
}

#[test]
fn matched_payment_and_refund() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(10000), T),
        BookEntry::refund("A1", "R1", Money::cny(3000), T),
    ];
    let lines = vec![
        pay_line("A1", "100.00", "-0.60000", T, 2),
        refund_line("A1", "R1", "-30.00", T, 3),
    ];
    let rep = run(books, vec![lines], ReconcileConfig::default());
    assert!(rep.discrepancies().is_empty(), "{:#?}", rep.discrepancies());
    assert_eq!(rep.matched_count(), 2);
    let m: Vec<_> = rep.matched().collect();
    assert_eq!(m[0].rule(), Rule::MerchantKey);
    assert_eq!(m[0].fee().to_string(), "-0.60000");
    assert_eq!(m[1].merchant_refund_no(), Some("R1"));
    assert_eq!(m[1].line(), 3);
    assert_eq!(m[1].file_name(), "file0.csv");
    // Gross counts the refund by absolute value: 100 + 30.
    assert_eq!(rep.verdicts()[0].gross.to_string(), "130.00");
    assert!(rep.closes());
}

#[test]
fn amount_mismatch_names_both_sides() {
    let books = vec![BookEntry::payment("A1", Money::cny(10000), T)];
    let rep = run(
        books,
        vec![vec![pay_line("A1", "101.00", "0", T, 7)]],
        ReconcileConfig::default(),
    );
    let d = only(&rep);
    assert_eq!(d.category, Category::AmountMismatch);
    assert_eq!(d.rule, Rule::MerchantKey);
    assert_eq!(d.book.as_ref().unwrap().amount.to_string(), "100.00");
    assert_eq!(d.statement.as_ref().unwrap().gross.to_string(), "101.00");
    assert_eq!(d.statement.as_ref().unwrap().line, 7);
    assert_eq!(d.unresolved.to_string(), "1.00");
}

#[test]
fn status_mismatch_both_ways() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(500), T).with_status(BookStatus::Closed),
        BookEntry::payment("A2", Money::cny(700), T),
    ];
    let mut revoked = pay_line("A2", "0.00", "0", T, 3);
    revoked.kind = RecordKind::Adjustment;
    revoked.channel_kind = "REVOKED".into();
    let rep = run(
        books,
        vec![vec![pay_line("A1", "5.00", "0", T, 2), revoked]],
        ReconcileConfig::default(),
    );
    let cats: Vec<_> = rep
        .discrepancies()
        .iter()
        .map(|d| (d.category, d.unresolved.to_string()))
        .collect();
    assert_eq!(
        cats,
        vec![
            (Category::StatusMismatch, "5.00".to_owned()),
            (Category::StatusMismatch, "7.00".to_owned())
        ]
    );
}

#[test]
fn missing_in_channel_and_in_books() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(100), datetime!(2024-05-18 10:00 +8)),
        BookEntry::payment("A2", Money::cny(200), T),
    ];
    let rep = run(
        books,
        vec![vec![
            pay_line("A2", "2.00", "0", T, 2),
            pay_line("LOST", "3.00", "0", T, 3),
        ]],
        ReconcileConfig::default(),
    );
    let d: Vec<_> = rep
        .discrepancies()
        .iter()
        .map(|d| (d.category, d.side, d.rule))
        .collect();
    assert_eq!(
        d,
        vec![
            (
                Category::MissingInBooks,
                Some(Side::Statement),
                Rule::NoCounterpart
            ),
            (
                Category::MissingInChannel,
                Some(Side::Books),
                Rule::NoCounterpart
            ),
        ]
    );
    assert_eq!(rep.totals().count(Category::Matched), 1);
}

#[test]
fn fee_difference_with_five_decimals() {
    // 0.6 % of 12.34 = 0.07404 exactly; the channel states 0.07410.
    let books = vec![
        BookEntry::payment("A1", Money::cny(1234), T).with_expected_fee(ExpectedFee::RatePpm(6000)),
        BookEntry::payment("A2", Money::cny(1234), T).with_expected_fee(ExpectedFee::RatePpm(6000)),
        BookEntry::payment("A3", Money::cny(100), T)
            .with_expected_fee(ExpectedFee::Amount(amt("0.00600"))),
    ];
    let rep = run(
        books,
        vec![vec![
            pay_line("A1", "12.34", "-0.07410", T, 2),
            pay_line("A2", "12.34", "-0.07404", T, 3),
            pay_line("A3", "1.00", "-0.00600", T, 4),
        ]],
        ReconcileConfig::default(),
    );
    let d = only(&rep);
    assert_eq!(d.category, Category::FeeDifference);
    assert_eq!(d.unresolved.to_string(), "0.00006");
    assert_eq!(
        d.book.as_ref().unwrap().expected_fee.unwrap().to_string(),
        "-0.07404"
    );
    assert_eq!(rep.matched_count(), 2);
    // Fees are summed exactly in the matched rows.
    let mut sum = ExactAmount::ZERO;
    for m in rep.matched() {
        sum = sum.checked_add(m.fee()).unwrap();
    }
    assert_eq!(sum.to_string(), "-0.08004");
}

#[test]
fn rate_fee_compared_at_the_channels_precision() {
    // 0.38 % of 12.34 = 0.046892; WeChat states 5 decimals: 0.04689.
    let books = vec![
        BookEntry::payment("A1", Money::cny(1234), T).with_expected_fee(ExpectedFee::RatePpm(3800)),
    ];
    let rep = run(
        books,
        vec![vec![pay_line("A1", "12.34", "-0.04689", T, 2)]],
        ReconcileConfig::default(),
    );
    assert!(rep.discrepancies().is_empty(), "{:#?}", rep.discrepancies());
}

#[test]
fn cross_day_timing_resolved_by_a_later_file() {
    let late = datetime!(2024-05-20 23:59:58 +8);
    let books = || {
        vec![
            BookEntry::payment("A1", Money::cny(100), T),
            BookEntry::payment("A2", Money::cny(200), late),
        ]
    };
    let day1 = || vec![pay_line("A1", "1.00", "0", T, 2)];
    // Only the 20th's file: A2 may be in the 21st's file.
    let rep = run(books(), vec![day1()], ReconcileConfig::default());
    let d = only(&rep);
    assert_eq!(d.category, Category::Timing);
    assert_eq!(d.rule, Rule::AwaitingLaterStatement);
    assert!(d.unresolved.is_zero());
    assert!(rep.closes());
    // Counting timing rows makes it fail to close.
    let rep = run(
        books(),
        vec![day1()],
        ReconcileConfig::default().count_timing(true),
    );
    assert!(!rep.closes());
    // The 21st's file arrives: resolved, matched a day apart.
    let day2 = vec![pay_line(
        "A2",
        "2.00",
        "0",
        datetime!(2024-05-21 00:00:01 +8),
        2,
    )];
    let rep = run(books(), vec![day1(), day2], ReconcileConfig::default());
    assert!(rep.discrepancies().is_empty(), "{:#?}", rep.discrepancies());
    let m: Vec<_> = rep
        .matched()
        .map(|m| (m.merchant_order_no().to_owned(), m.days_apart(), m.file()))
        .collect();
    assert_eq!(m[1], ("A2".to_owned(), 1, 1));
    // With a period end given later than the window, it is simply missing.
    let rep = run(
        books(),
        vec![day1()],
        ReconcileConfig::default().period_end(date!(2024 - 05 - 31)),
    );
    assert_eq!(only(&rep).category, Category::MissingInChannel);
}

#[test]
fn duplicates_on_both_sides() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(100), T),
        BookEntry::payment("A1", Money::cny(100), T).with_source_line(3),
        BookEntry::payment("A2", Money::cny(200), T),
    ];
    let rep = run(
        books,
        vec![vec![
            pay_line("A1", "1.00", "0", T, 2),
            pay_line("A2", "2.00", "0", T, 3),
            pay_line("A2", "2.00", "0", T, 4),
        ]],
        ReconcileConfig::default(),
    );
    let d: Vec<_> = rep
        .discrepancies()
        .iter()
        .map(|d| (d.category, d.side, d.rule))
        .collect();
    assert_eq!(
        d,
        vec![
            (Category::Duplicate, Some(Side::Books), Rule::RepeatedKey),
            (
                Category::Duplicate,
                Some(Side::Statement),
                Rule::RepeatedKey
            ),
        ]
    );
    assert_eq!(rep.discrepancies()[0].book.as_ref().unwrap().line, 3);
    assert_eq!(rep.discrepancies()[1].statement.as_ref().unwrap().line, 4);
    assert_eq!(rep.matched_count(), 2);
    assert_eq!(rep.totals().count(Category::Duplicate), 2);
}

#[test]
fn duplicate_across_files() {
    let books = vec![BookEntry::payment("A1", Money::cny(100), T)];
    let rep = run(
        books,
        vec![
            vec![pay_line("A1", "1.00", "0", T, 2)],
            vec![pay_line("A1", "1.00", "0", T, 9)],
        ],
        ReconcileConfig::default(),
    );
    let d = only(&rep);
    assert_eq!(
        (d.category, d.statement.as_ref().unwrap().file),
        (Category::Duplicate, 1)
    );
}

#[test]
fn channel_key_and_amount_window_fallback() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(100), T).with_channel_ref("4200A1X"),
        BookEntry::payment("A2", Money::cny(250), datetime!(2024-05-19 22:00 +8)),
        BookEntry::payment("A3", Money::cny(250), datetime!(2024-05-10 22:00 +8)),
    ];
    let mut by_channel = pay_line("A1", "1.00", "0", T, 2);
    by_channel.merchant_order_no = Some("A1-TYPO".into());
    by_channel.channel_trade_no = Some("4200A1X".into());
    let mut keyless = pay_line("", "2.50", "0", T, 3);
    keyless.merchant_order_no = None;
    keyless.channel_trade_no = Some("4200NOPE".into());
    // A1-TYPO has a merchant key that is not in the books: the channel key matches first.
    let rep = run(
        books,
        vec![vec![by_channel, keyless]],
        ReconcileConfig::default().period_end(date!(2024 - 05 - 31)),
    );
    let rules: Vec<_> = rep
        .matched()
        .map(|m| (m.merchant_order_no().to_owned(), m.rule()))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("A1".to_owned(), Rule::ChannelKey),
            ("A2".to_owned(), Rule::AmountInWindow)
        ]
    );
    assert_eq!(only(&rep).category, Category::MissingInChannel);
    assert_eq!(only(&rep).merchant_order_no.as_deref(), Some("A3"));
}

#[test]
fn close_threshold_at_and_around_one_tenth_percent() {
    // Gross 1000.00 from the books; one missing row decides the ratio.
    let at = |missing_fen: u64| {
        let books = vec![
            BookEntry::payment("BIG", Money::cny(100_000 - missing_fen), T),
            BookEntry::payment(
                "GONE",
                Money::cny(missing_fen),
                datetime!(2024-05-01 10:00 +8),
            ),
        ];
        let lines = vec![pay_line(
            "BIG",
            &Money::cny(100_000 - missing_fen).to_major_string(),
            "0",
            T,
            2,
        )];
        run(books, vec![lines], ReconcileConfig::default())
    };
    let exactly = at(100); // 1.00 of 1000.00 = 0.1 %
    assert_eq!(exactly.ratio_ppm(), 1000);
    assert!(exactly.closes());
    let over = at(101);
    assert_eq!(over.ratio_ppm(), 1010);
    assert!(!over.closes());
    let under = at(99);
    assert!(under.closes());
    // A stricter threshold, set as a percentage string.
    let books = vec![
        BookEntry::payment("BIG", Money::cny(99_900), T),
        BookEntry::payment("GONE", Money::cny(100), datetime!(2024-05-01 10:00 +8)),
    ];
    let cfg = ReconcileConfig::default()
        .close_threshold_percent("0.05")
        .unwrap();
    let rep = run(books, vec![vec![pay_line("BIG", "999.00", "0", T, 2)]], cfg);
    assert!(!rep.closes());
    assert_eq!(rep.verdicts()[0].threshold_ppm, 500);
}

#[test]
fn sub_fen_fee_difference_just_over_threshold() {
    // Gross 100.00; fee differences of 0.10001 in total exceed 0.1 % by 0.00001.
    let books = vec![
        BookEntry::payment("A1", Money::cny(10_000), T)
            .with_expected_fee(ExpectedFee::Amount(amt("0.60000"))),
    ];
    let rep = run(
        books,
        vec![vec![pay_line("A1", "100.00", "-0.70001", T, 2)]],
        ReconcileConfig::default(),
    );
    assert_eq!(only(&rep).unresolved.to_string(), "0.10001");
    assert!(!rep.closes());
    let books = vec![
        BookEntry::payment("A1", Money::cny(10_000), T)
            .with_expected_fee(ExpectedFee::Amount(amt("0.60000"))),
    ];
    let rep = run(
        books,
        vec![vec![pay_line("A1", "100.00", "-0.70000", T, 2)]],
        ReconcileConfig::default(),
    );
    assert!(rep.closes());
}

#[test]
fn totals_per_channel_and_skipped_lines() {
    let books = vec![BookEntry::payment("A1", Money::cny(100), T).with_channel(Channel::Alipay)];
    let mut fee = pay_line("X", "0.00", "-1.00", T, 5);
    fee.kind = RecordKind::Fee;
    let rep = run(
        books,
        vec![vec![pay_line("A1", "1.00", "0", T, 2), fee]],
        ReconcileConfig::default(),
    );
    assert_eq!(rep.totals().skipped.get(&Channel::Wechat), Some(&1));
    let t = rep
        .totals()
        .by_channel
        .get(&(Some(Channel::Wechat), Category::Matched, Currency::Cny))
        .unwrap();
    assert_eq!((t.count, t.gross.to_string()), (1, "1.00".to_owned()));
}

#[test]
fn settlements_match_bank_credits() {
    let d = date!(2024 - 05 - 20);
    let mut rows = vec![
        pay_line("A1", "100.00", "-0.60000", T, 2),
        pay_line("A2", "12.34", "-0.07404", T, 3),
        refund_line("A1", "R1", "-30.00", T, 4),
    ];
    for r in &mut rows {
        r.settle_date = Some(d);
    }
    // Σ net = 99.40 + 12.26596 − 30.00 = 81.66596 → the channel pays 81.67.
    let mut credit = StatementRecord::new(
        Channel::Bank,
        RecordKind::Transfer,
        amt("81.67"),
        amt("0.00"),
        amt("81.67"),
        Currency::Cny,
        datetime!(2024-05-21 09:00 +8),
    );
    credit.settle_date = Some(date!(2024 - 05 - 21));
    credit.channel_kind = "财付通支付科技有限公司 结算款 1900000109".into();
    credit.source_line = 12;
    let mut other = credit.clone();
    other.channel_kind = "房租".into();
    let rep = match_settlements(
        &rows,
        [&other, &credit],
        &SettlementConfig::default().merchant_id(Channel::Wechat, "1900000109"),
    )
    .unwrap();
    assert_eq!(rep.matched.len(), 1, "{rep:#?}");
    let m = &rep.matched[0];
    assert_eq!(m.group.net.to_string(), "81.66596");
    assert_eq!(m.group.rows, 3);
    assert_eq!((m.bank_index, m.bank_line, m.days_apart), (1, 12, 1));
    assert_eq!(m.rule, SettlementRule::SumRoundedToMinorUnit);
    assert_eq!(rep.unmatched_credits, vec![0]);
}

fn unnumbered_refund(order: &str, fen: u64, at: OffsetDateTime) -> BookEntry {
    let mut e = BookEntry::refund(order, "-", Money::cny(fen), at);
    e.merchant_refund_no = None;
    e
}

#[test]
fn partial_refunds_without_refund_numbers_match_by_order_and_amount() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(10000), T),
        unnumbered_refund("A1", 3000, T),
        unnumbered_refund("A1", 2000, T),
        unnumbered_refund("A1", 2000, T),
    ];
    // The statement lists them in another order, each with the channel's refund number.
    let st = vec![
        pay_line("A1", "100.00", "-0.60", T, 2),
        refund_line("A1", "R2", "-20.00", T, 3),
        refund_line("A1", "R1", "-30.00", T, 4),
        refund_line("A1", "R3", "-20.00", T, 5),
    ];
    let rep = run(books, vec![st], ReconcileConfig::default());
    assert!(rep.discrepancies().is_empty(), "{:#?}", rep.discrepancies());
    assert_eq!(rep.matched_count(), 4);
    let m: Vec<_> = rep.matched().collect();
    assert_eq!(m[1].rule(), Rule::RefundByOrder);
    // Each book row taken once: 20.00 (row 2), 30.00 (row 1), 20.00 (row 3).
    assert_eq!(
        m[1..].iter().map(|m| m.book_index()).collect::<Vec<_>>(),
        [2, 1, 3]
    );
    assert!(rep.closes());
}

#[test]
fn unnumbered_refunds_leftovers_are_not_duplicates() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(10000), T),
        unnumbered_refund("A1", 3000, T),
        unnumbered_refund("A1", 2000, T),
    ];
    // 20.00 matches; 30.01 takes the open 30.00 refund (amount mismatch) only after the
    // equal-amount search; a third refund line has no book row left: missing in books.
    let st = vec![
        pay_line("A1", "100.00", "-0.60", T, 2),
        refund_line("A1", "R1", "-30.01", T, 3),
        refund_line("A1", "R2", "-20.00", T, 4),
        refund_line("A1", "R3", "-5.00", T, 5),
    ];
    let rep = run(books, vec![st], ReconcileConfig::default());
    assert_eq!(rep.matched_count(), 2, "{:#?}", rep.discrepancies());
    assert_eq!(rep.totals().count(Category::Duplicate), 0);
    let mut cats: Vec<_> = rep
        .discrepancies()
        .iter()
        .map(|d| (d.category, d.rule))
        .collect();
    cats.sort();
    assert_eq!(
        cats,
        [
            (Category::AmountMismatch, Rule::RefundByOrder),
            (Category::MissingInBooks, Rule::NoCounterpart),
        ]
    );
    let mismatch = rep
        .discrepancies_of(Category::AmountMismatch)
        .next()
        .unwrap();
    assert_eq!(mismatch.unresolved, amt("0.01"));
    assert_eq!(mismatch.book.as_ref().unwrap().index, 1);
}

#[test]
fn unnumbered_refunds_with_wrong_amounts_pair_with_the_nearest() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(10000), T),
        unnumbered_refund("A1", 3000, T),
        unnumbered_refund("A1", 2000, T),
    ];
    // Neither amount is exact; the 20.02 line comes first and must not take the 30.00 row.
    let st = vec![
        pay_line("A1", "100.00", "-0.60", T, 2),
        refund_line("A1", "R2", "-20.02", T, 3),
        refund_line("A1", "R1", "-30.01", T, 4),
    ];
    let rep = run(books, vec![st], ReconcileConfig::default());
    let mut got: Vec<_> = rep
        .discrepancies()
        .iter()
        .map(|d| {
            assert_eq!(
                (d.category, d.rule),
                (Category::AmountMismatch, Rule::RefundByOrder)
            );
            (d.book.as_ref().unwrap().index, d.unresolved)
        })
        .collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(got, [(1, amt("0.01")), (2, amt("0.02"))]);
}

#[test]
fn a_numbered_refund_repeated_in_the_books_is_still_a_duplicate() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(10000), T),
        BookEntry::refund("A1", "R1", Money::cny(3000), T),
        BookEntry::refund("A1", "R1", Money::cny(3000), T),
    ];
    let st = vec![
        pay_line("A1", "100.00", "-0.60", T, 2),
        refund_line("A1", "R1", "-30.00", T, 3),
    ];
    let rep = run(books, vec![st], ReconcileConfig::default());
    let d = only(&rep);
    assert_eq!(
        (d.category, d.side),
        (Category::Duplicate, Some(Side::Books))
    );
}

#[test]
fn matched_rows_carry_the_books_status_and_the_statements_gross() {
    // A revoked trade: closed in the books, an adjustment line with its own gross.
    let books = vec![BookEntry::payment("A1", Money::cny(500), T).with_status(BookStatus::Closed)];
    let mut revoked = pay_line("A1", "0.00", "0", T, 2);
    revoked.kind = RecordKind::Adjustment;
    revoked.channel_kind = "REVOKED".into();
    let rep = run(books, vec![vec![revoked]], ReconcileConfig::default());
    assert!(rep.discrepancies().is_empty(), "{:#?}", rep.discrepancies());
    let m = rep.matched().next().unwrap();
    assert_eq!(m.status(), BookStatus::Closed);
    assert_eq!(m.statement_gross(), amt("0.00"));
    assert_eq!(m.amount(), Money::cny(500));
}

#[test]
fn fee_totals_per_channel_are_exact_with_five_decimals() {
    let books = vec![
        BookEntry::payment("A1", Money::cny(10000), T),
        BookEntry::payment("A2", Money::cny(3333), T),
        BookEntry::refund("A1", "R1", Money::cny(3000), T),
    ];
    let mut ali = pay_line("A2", "33.33", "-0.09", T, 2);
    ali.channel = Channel::Alipay;
    let mut refund = refund_line("A1", "R1", "-30.00", T, 3);
    refund.fee = amt("0.18000");
    let st = vec![pay_line("A1", "100.00", "-0.60001", T, 2), refund];
    // An extra line missing in the books counts too: the statement charged its fee.
    let extra = pay_line("A9", "1.00", "-0.00600", T, 4);
    let rep = run(
        books,
        vec![st, vec![ali, extra]],
        ReconcileConfig::default(),
    );
    let fees = &rep.totals().fees;
    assert_eq!(fees.len(), 2, "{fees:?}");
    // -0.60001 + 0.18000 - 0.00600 = -0.42601, not rounded to fen.
    assert_eq!(
        fees[&(Channel::Wechat, Currency::Cny)].to_string(),
        "-0.42601"
    );
    assert_eq!(fees[&(Channel::Alipay, Currency::Cny)].to_string(), "-0.09");
}
