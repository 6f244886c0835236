//! The books CSV reader feeding the reconciler.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payagg_core::reconcile::{
    BookKind, BookStatus, BooksCsv, Category, ExpectedFee, ReconcileConfig, Reconciler,
};
use payagg_core::statement::{RecordKind, StatementRecord};
use payagg_core::{Channel, Currency, Error, ExactAmount};
use time::macros::datetime;

const BOOKS: &str = "\u{feff}merchant_order_no,merchant_refund_no,kind,amount,currency,status,occurred_at,channel,channel_trade_no,expected_fee,fee_rate\n\
A1,,payment,12.34,CNY,success,2024-05-20 10:00:00,wechat,4200A1,,0.6\n\
A1,R1,refund,2.34,CNY,SUCCESS,2024-05-20T12:00:00+08:00,wechat,,0.01404,\n\
A2,,payment,5.00,,closed,2024-05-20 11:00:00,,,,\n\
\n\
A3,,payment,1.00,CNY,pending,2024-05-20 11:30:00,alipay,,,\n";

#[test]
fn reads_every_column() {
    let books: Vec<_> = BooksCsv::new(BOOKS.as_bytes(), "books.csv")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(books.len(), 4);
    assert_eq!(books[0].expected_fee, Some(ExpectedFee::RatePpm(6000)));
    assert_eq!(books[0].channel, Some(Channel::Wechat));
    assert_eq!(books[0].channel_ref.as_deref(), Some("4200A1"));
    assert_eq!(books[0].occurred_at, datetime!(2024-05-20 10:00 +8));
    assert_eq!(books[1].kind, BookKind::Refund);
    assert_eq!(
        books[1].expected_fee,
        Some(ExpectedFee::Amount(ExactAmount::parse("0.01404").unwrap()))
    );
    assert_eq!(books[2].status, BookStatus::Closed);
    assert_eq!(books[3].source_line, 6);

    let mut line = StatementRecord::new(
        Channel::Wechat,
        RecordKind::Payment,
        ExactAmount::parse("12.34").unwrap(),
        ExactAmount::parse("-0.07404").unwrap(),
        ExactAmount::parse("12.26596").unwrap(),
        Currency::Cny,
        datetime!(2024-05-20 10:00:02 +8),
    );
    line.merchant_order_no = Some("A1".into());
    let mut rec = Reconciler::new(ReconcileConfig::default(), books).unwrap();
    rec.add_records("bill.csv", vec![line]).unwrap();
    let rep = rec.finish().unwrap();
    assert_eq!(rep.matched_count(), 1);
    // The refund is on no statement yet, dated on the last statement day: timing.
    let cats: Vec<_> = rep.discrepancies().iter().map(|d| d.category).collect();
    assert_eq!(cats, vec![Category::Timing]);
    assert_eq!(rep.totals().unsuccessful_absent, 2);
}

#[test]
fn errors_name_the_line() {
    let bad = BOOKS.replace("5.00", "5.001");
    let e = BooksCsv::new(bad.as_bytes(), "books.csv")
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.location(), Some("books.csv:4"));
    let e = BooksCsv::new("order,amount\n".as_bytes(), "b.csv").unwrap_err();
    assert!(e.to_string().contains("merchant_order_no"), "{e}");
    let bad = BOOKS.replace("2024-05-20 11:00:00", "yesterday");
    let e = BooksCsv::new(bad.as_bytes(), "books.csv")
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    assert!(e.to_string().contains("books.csv:4"), "{e}");
}
