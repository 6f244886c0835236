//! Reconciliation at month scale: 1M book rows against 1M statement rows, single-threaded.
//!
//! `cargo bench -p payagg-core --bench reconcile` runs criterion on match + classify with the
//! rows generated beforehand (generation excluded). With `PAYAGG_RECONCILE_ONCE=1` the bench
//! binary instead runs once, streaming both sides from lazy generators (standing in for the
//! parsers), and prints the time; run it under `/usr/bin/time -v` for the peak RSS
//! (`PAYAGG_RECONCILE_ONCE=vec` times match + classify over rows generated beforehand):
//!
//! ```text
//! PAYAGG_RECONCILE_ONCE=stream /usr/bin/time -v target/release/deps/reconcile-<hash> --bench
//! ```
//!
//! The data: 90 % payments and 10 % refunds over 30 days, WeChat-like 5-decimal fees, and
//! 0.05 % of rows disturbed (missing on either side, changed amounts, duplicates).
// Benches are test code: panicking on a broken fixture is the right behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion};
use payagg_core::reconcile::{BookEntry, ReconcileConfig, Reconciler, Report};
use payagg_core::statement::{RecordKind, StatementRecord};
use payagg_core::{Channel, Currency, ExactAmount, Money};
use time::{Duration, OffsetDateTime};

const N: u64 = 1_000_000;
const START: OffsetDateTime = time::macros::datetime!(2024-05-01 00:00 +8);

fn fen(i: u64) -> u64 {
    (i.wrapping_mul(2_654_435_761) % 100_000) + 1
}

fn at(i: u64) -> OffsetDateTime {
    START + Duration::seconds(i64::try_from(i * 30 * 86_400 / N).unwrap())
}

fn is_refund(i: u64) -> bool {
    i % 10 == 9
}

fn books(n: u64) -> impl Iterator<Item = BookEntry> {
    (0..n).filter(|i| i % 4000 != 1).map(|i| {
        let order = format!("P2024050{:012}", if is_refund(i) { i - 1 } else { i });
        let e = if is_refund(i) {
            BookEntry::refund(
                order,
                format!("RF2024050{i:012}"),
                Money::cny(fen(i)),
                at(i),
            )
        } else {
            BookEntry::payment(order, Money::cny(fen(i)), at(i))
        };
        e.with_source_line(i + 2)
    })
}

fn records(n: u64) -> impl Iterator<Item = StatementRecord> {
    (0..n).filter(|i| i % 4000 != 2).flat_map(|i| {
        let f = i64::try_from(fen(i) + u64::from(i % 4000 == 3) * 100).unwrap();
        let refund = is_refund(i);
        let gross = ExactAmount::new(if refund { -f } else { f }, 2).unwrap();
        let fee = ExactAmount::new(if refund { f * 6 } else { -f * 6 }, 5).unwrap();
        let mut r = StatementRecord::new(
            Channel::Wechat,
            if refund { RecordKind::Refund } else { RecordKind::Payment },
            gross,
            fee,
            gross.checked_add(fee).unwrap(),
            Currency::Cny,
            at(i) + Duration::seconds(2),
        );
        let order = format!("P2024050{:012}", if refund { i - 1 } else { i });
        r.channel_trade_no = Some(format!("4200002024050{i:015}"));
        if refund {
            r.merchant_refund_no = Some(format!("RF2024050{i:012}"));
            r.channel_refund_no = Some(format!("50300{i:015}"));
        }
        r.raw = format!("`2024-05-01 10:00:00,`wx0000000000000000,`1900000109,`0,`,`{},`{order},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`OTHERS,`CNY,`{gross},`0.00", r.channel_trade_no.as_deref().unwrap_or(""));
        r.merchant_order_no = Some(order);
        r.channel_kind = if refund { "REFUND" } else { "SUCCESS" }.into();
        r.source_line = i + 2;
        let dup = (i % 4000 == 4).then(|| r.clone());
        std::iter::once(r).chain(dup)
    })
}

fn reconcile(
    b: impl IntoIterator<Item = BookEntry>,
    r: impl IntoIterator<Item = StatementRecord>,
) -> Report {
    let mut rec = Reconciler::new(ReconcileConfig::default(), b).unwrap();
    rec.add_records("wechat-2024-05.csv", r).unwrap();
    rec.finish().unwrap()
}

fn once(mode: &str) {
    if mode == "vec" {
        pre_generated();
        return;
    }
    let t = Instant::now();
    let report = reconcile(books(N), records(N));
    let all = t.elapsed();
    println!(
        "streamed 1M books x 1M lines (generation included): {:.3} s; matched {}, discrepancies {}, ratio {} ppm, closes {}",
        all.as_secs_f64(),
        report.matched_count(),
        report.discrepancies().len(),
        report.ratio_ppm(),
        report.closes()
    );
}

fn pre_generated() {
    let b: Vec<_> = books(N).collect();
    let r: Vec<_> = records(N).collect();
    let t = Instant::now();
    let report = reconcile(b, r);
    println!(
        "pre-generated 1M x 1M, match + classify: {:.3} s ({} matched)",
        t.elapsed().as_secs_f64(),
        report.matched_count()
    );
}

fn main() {
    if let Some(mode) = std::env::var_os("PAYAGG_RECONCILE_ONCE") {
        once(&mode.to_string_lossy());
        return;
    }
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    c.bench_function("reconcile 1M books x 1M lines (match + classify)", |bch| {
        bch.iter_batched(
            || (books(N).collect::<Vec<_>>(), records(N).collect::<Vec<_>>()),
            |(b, r)| black_box(reconcile(b, r)),
            BatchSize::PerIteration,
        );
    });
    c.final_summary();
}
