//! Property tests: a statement generated from the books reconciles all-matched, and one
//! removed or altered row yields exactly one discrepancy of the right category.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payagg_core::reconcile::{
    BookEntry, BookStatus, Category, ReconcileConfig, Reconciler, Report,
};
use payagg_core::statement::{RecordKind, StatementRecord};
use payagg_core::{Channel, Currency, ExactAmount, Money};
use proptest::prelude::*;
use time::Duration;
use time::macros::{date, datetime};

#[derive(Debug, Clone)]
struct Row {
    refund: bool,
    fen: u64,
    minute: i64,
    fee_units: i64,
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            any::<bool>(),
            1u64..10_000_000,
            0i64..(28 * 24 * 60),
            0i64..100_000,
        )
            .prop_map(|(refund, fen, minute, fee_units)| Row {
                refund,
                fen,
                minute,
                fee_units,
            }),
        1..40,
    )
}

fn books(rows: &[Row]) -> Vec<BookEntry> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let at = datetime!(2024-05-01 00:00 +8) + Duration::minutes(r.minute);
            if r.refund {
                BookEntry::refund(format!("O{i}"), format!("R{i}"), Money::cny(r.fen), at)
            } else {
                BookEntry::payment(format!("O{i}"), Money::cny(r.fen), at)
            }
            .with_source_line(i as u64 + 2)
        })
        .collect()
}

/// The statement a channel would write for these books (5-decimal fees).
fn statement(books: &[BookEntry], rows: &[Row]) -> Vec<StatementRecord> {
    books
        .iter()
        .zip(rows)
        .enumerate()
        .map(|(i, (b, r))| {
            let fen = i64::try_from(b.amount.minor_units()).unwrap();
            let (kind, gross, fee) = if r.refund {
                (RecordKind::Refund, -fen, r.fee_units)
            } else {
                (RecordKind::Payment, fen, -r.fee_units)
            };
            let gross = ExactAmount::new(gross, 2).unwrap();
            let fee = ExactAmount::new(fee, 5).unwrap();
            let mut s = StatementRecord::new(
                Channel::Wechat,
                kind,
                gross,
                fee,
                gross.checked_add(fee).unwrap(),
                Currency::Cny,
                b.occurred_at + Duration::seconds(3),
            );
            s.merchant_order_no = Some(b.merchant_order_no.clone());
            s.merchant_refund_no = b.merchant_refund_no.clone();
            s.channel_trade_no = Some(format!("4200{i:08}"));
            s.source_line = i as u64 + 2;
            s
        })
        .collect()
}

fn run(books: Vec<BookEntry>, st: Vec<StatementRecord>) -> Report {
    let cfg = ReconcileConfig::default().period_end(date!(2024 - 05 - 31));
    let mut r = Reconciler::new(cfg, books).unwrap();
    r.add_records("bill.csv", st).unwrap();
    r.finish().unwrap()
}

fn one(rep: &Report) -> Category {
    assert_eq!(rep.discrepancies().len(), 1, "{:#?}", rep.discrepancies());
    rep.discrepancies()[0].category
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_statement_is_all_matched(rows in rows(), seed in any::<u64>()) {
        let b = books(&rows);
        let mut st = statement(&b, &rows);
        // Any order.
        let n = st.len();
        st.rotate_left(usize::try_from(seed % n as u64).unwrap());
        let rep = run(b, st);
        prop_assert!(rep.discrepancies().is_empty(), "{:#?}", rep.discrepancies());
        prop_assert_eq!(rep.matched_count(), n);
        prop_assert!(rep.closes());
        prop_assert_eq!(rep.ratio_ppm(), 0);
        // Gross = Σ |amount| of payments and refunds.
        let gross: u64 = rows.iter().map(|r| r.fen).sum();
        prop_assert_eq!(rep.verdicts()[0].gross, ExactAmount::new(i64::try_from(gross).unwrap(), 2).unwrap());
    }

    #[test]
    fn one_change_one_discrepancy(rows in rows(), pick in any::<prop::sample::Index>(), what in 0u8..5) {
        let b = books(&rows);
        let st = statement(&b, &rows);
        let i = pick.index(rows.len());
        let (b, st, expected) = match what {
            0 => {
                let mut st = st;
                st.remove(i);
                (b, st, Category::MissingInChannel)
            }
            1 => {
                let mut b = b;
                b.remove(i);
                (b, st, Category::MissingInBooks)
            }
            2 => {
                let mut st = st;
                let g = st[i].gross;
                st[i].gross = g.checked_add(ExactAmount::new(if g.is_negative() { -1 } else { 1 }, 2).unwrap()).unwrap();
                (b, st, Category::AmountMismatch)
            }
            3 => {
                let mut st = st;
                let dup = st[i].clone();
                st.push(dup);
                (b, st, Category::Duplicate)
            }
            _ => {
                let mut b = b;
                b[i].status = BookStatus::Failed;
                (b, st, Category::StatusMismatch)
            }
        };
        let rep = run(b, st);
        prop_assert_eq!(one(&rep), expected);
        let matched = if expected == Category::Duplicate { rows.len() } else { rows.len() - 1 };
        prop_assert_eq!(rep.matched_count(), matched);
    }
}

/// An order and the partial refunds the books recorded without refund numbers: amounts in
/// fen, drawn from a small set so that equal amounts on one order are common.
#[derive(Debug, Clone)]
struct Order {
    fen: u64,
    refunds: Vec<u64>,
    minute: i64,
}

fn orders() -> impl Strategy<Value = Vec<Order>> {
    prop::collection::vec(
        (
            prop::collection::vec(1u64..4, 0..5),
            0i64..(28 * 24 * 60),
            0u64..500,
        )
            .prop_map(|(refunds, minute, extra)| {
                let refunds: Vec<u64> = refunds.into_iter().map(|r| r * 1000).collect();
                let fen = refunds.iter().sum::<u64>() + 1000 + extra;
                Order {
                    fen,
                    refunds,
                    minute,
                }
            }),
        1..12,
    )
    .prop_filter("at least one refund", |o| {
        o.iter().any(|o| !o.refunds.is_empty())
    })
}

fn unnumbered_books(orders: &[Order]) -> Vec<BookEntry> {
    let mut books = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        let at = datetime!(2024-05-01 00:00 +8) + Duration::minutes(o.minute);
        books.push(BookEntry::payment(format!("O{i}"), Money::cny(o.fen), at));
        for (k, fen) in o.refunds.iter().enumerate() {
            let mut r = BookEntry::refund(
                format!("O{i}"),
                "-",
                Money::cny(*fen),
                at + Duration::minutes(i64::try_from(k).unwrap() + 1),
            );
            r.merchant_refund_no = None;
            books.push(r);
        }
    }
    books
}

/// The channel's statement of those orders: every refund line carries the channel's refund
/// number and, when `numbered`, a merchant refund number the books never saw.
fn unnumbered_statement(orders: &[Order], numbered: bool) -> Vec<StatementRecord> {
    let mut st = Vec::new();
    let line = |kind, order: usize, fen: i64, fee: i64, at| {
        let gross = ExactAmount::new(fen, 2).unwrap();
        let fee = ExactAmount::new(fee, 5).unwrap();
        let mut s = StatementRecord::new(
            Channel::Wechat,
            kind,
            gross,
            fee,
            gross.checked_add(fee).unwrap(),
            Currency::Cny,
            at,
        );
        s.merchant_order_no = Some(format!("O{order}"));
        s.channel_trade_no = Some(format!("4200{order:08}"));
        s
    };
    for (i, o) in orders.iter().enumerate() {
        let at = datetime!(2024-05-01 00:00 +8) + Duration::minutes(o.minute);
        let fen = i64::try_from(o.fen).unwrap();
        st.push(line(RecordKind::Payment, i, fen, -fen * 6, at));
        for (k, r) in o.refunds.iter().enumerate() {
            let r = i64::try_from(*r).unwrap();
            let mut s = line(
                RecordKind::Refund,
                i,
                -r,
                r * 6,
                at + Duration::minutes(i64::try_from(k).unwrap() + 2),
            );
            s.channel_refund_no = Some(format!("5030{i:04}{k:04}"));
            if numbered {
                s.merchant_refund_no = Some(format!("AUTO{i}x{k}"));
            }
            st.push(s);
        }
    }
    for (n, s) in st.iter_mut().enumerate() {
        s.source_line = n as u64 + 2;
    }
    st
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn unnumbered_partial_refunds_are_all_matched(
        orders in orders(),
        numbered in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let b = unnumbered_books(&orders);
        let mut st = unnumbered_statement(&orders, numbered);
        let n = st.len();
        // Any order of lines: equal amounts pair in any order, never as duplicates.
        st.rotate_left(usize::try_from(seed % n as u64).unwrap());
        if seed % 2 == 1 {
            st.reverse();
        }
        let rep = run(b, st);
        prop_assert!(rep.discrepancies().is_empty(), "{:#?}", rep.discrepancies());
        prop_assert_eq!(rep.matched_count(), n);
        prop_assert_eq!(rep.totals().count(Category::Duplicate), 0);
        prop_assert!(rep.closes());
    }

    #[test]
    fn unnumbered_partial_refunds_one_change_one_discrepancy(
        orders in orders(),
        numbered in any::<bool>(),
        pick in any::<prop::sample::Index>(),
        what in 0u8..3,
    ) {
        let b = unnumbered_books(&orders);
        let mut st = unnumbered_statement(&orders, numbered);
        let refunds: Vec<usize> = st
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == RecordKind::Refund)
            .map(|(i, _)| i)
            .collect();
        let i = refunds[pick.index(refunds.len())];
        let expected = match what {
            0 => {
                st.remove(i);
                Category::MissingInChannel
            }
            1 => {
                // One fen more refunded than the books recorded.
                st[i].gross = st[i].gross.checked_add(ExactAmount::new(-1, 2).unwrap()).unwrap();
                Category::AmountMismatch
            }
            _ => {
                // A refund the books never recorded, on an order they know.
                let mut extra = st[i].clone();
                extra.channel_refund_no = Some("5039EXTRA".into());
                extra.merchant_refund_no = extra.merchant_refund_no.map(|_| "AUTOEXTRA".into());
                extra.source_line = 9999;
                st.push(extra);
                Category::MissingInBooks
            }
        };
        let n = refunds.len() + orders.len();
        let rep = run(b, st);
        prop_assert_eq!(one(&rep), expected);
        prop_assert_eq!(rep.matched_count(), n - usize::from(what != 2));
        if expected == Category::AmountMismatch {
            prop_assert_eq!(rep.discrepancies()[0].unresolved, ExactAmount::new(1, 2).unwrap());
        }
    }
}
