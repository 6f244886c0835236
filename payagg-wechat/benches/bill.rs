//! Bill parsing throughput: a generated 1,000,000-row `ALL` trade bill, parsed into unified
//! records, against a raw `csv::ByteRecord` pass over the same bytes as the baseline.
//!
//! Run with `cargo bench -p payagg-wechat --bench bill`. Throughput is reported in bytes, so
//! criterion prints MB/s (MiB/s) for both; their ratio is the parser's cost over bare splitting.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payagg_core::statement::StatementParser;
use payagg_wechat::bill::TradeBillParser;

const ROWS: usize = 1_000_000;

/// A realistic ALL bill: 9 payments for each refund, 0.60% fees with 5 decimals.
fn generate(rows: usize) -> Vec<u8> {
    let mut s = String::with_capacity(rows * 330);
    s.push('\u{feff}');
    s.push_str("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n");
    let (mut gross, mut refund, mut fee_units) = (0i64, 0i64, 0i64);
    for i in 0..rows {
        let amount = 100 + (i64::try_from(i).unwrap() * 37) % 100_000; // fen
        let fee = amount * 600 / 1000; // 0.6% in units of 1e-5 yuan
        let (h, m, sec) = ((i / 3600) % 24, (i / 60) % 60, i % 60);
        if i % 10 == 9 {
            refund += amount;
            fee_units -= fee;
            write!(
                s,
                "`2024-05-20 {h:02}:{m:02}:{sec:02},`wxd678efh567hg6787,`1230000109,`0,`,`42000021012024052{i:010},`ORD2024052{i:010},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`503009080120240520{i:010},`RF2024052{i:010},`{}.{:02},`0.00,`ORIGINAL,`SUCCESS,`会员月卡,`,`-{}.{:05},`0.60%,`0.00,`{}.{:02},`\r\n",
                amount / 100, amount % 100, fee / 100_000, fee % 100_000, amount / 100, amount % 100
            )
            .unwrap();
        } else {
            gross += amount;
            fee_units += fee;
            write!(
                s,
                "`2024-05-20 {h:02}:{m:02}:{sec:02},`wxd678efh567hg6787,`1230000109,`0,`POS-01,`42000021012024052{i:010},`ORD2024052{i:010},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`ICBC_DEBIT,`CNY,`{}.{:02},`0.00,`0,`0,`0.00,`0.00,`,`,`咖啡豆 250g,`batch=7,`{}.{:05},`0.60%,`{}.{:02},`0.00,`\r\n",
                amount / 100, amount % 100, fee / 100_000, fee % 100_000, amount / 100, amount % 100
            )
            .unwrap();
        }
    }
    let sign = if fee_units < 0 { "-" } else { "" };
    let f = fee_units.abs();
    write!(
        s,
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`{rows},`{}.{:02},`{}.{:02},`0.00,`{sign}{}.{:05},`{}.{:02},`{}.{:02}\r\n",
        gross / 100, gross % 100, refund / 100, refund % 100, f / 100_000, f % 100_000, gross / 100, gross % 100, refund / 100, refund % 100
    )
    .unwrap();
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let raw = generate(ROWS);
    // Sanity: every row parses and the summary checks out.
    let summary = TradeBillParser::new()
        .check_summary(&raw)
        .expect("generated bill is consistent");
    assert_eq!(summary.record_count, ROWS as u64);

    let mut g = c.benchmark_group("wechat_bill_1m_rows");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("payagg_trade_bill_records", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for r in TradeBillParser::new().records(black_box(&raw)) {
                let r = r.unwrap();
                n += r.source_line & 1;
            }
            black_box(n)
        });
    });
    g.bench_function("csv_byte_record_baseline", |b| {
        b.iter(|| {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(black_box(&raw[..]));
            let mut rec = csv::ByteRecord::new();
            let mut n = 0usize;
            while rdr.read_byte_record(&mut rec).unwrap() {
                n += rec.len();
            }
            black_box(n)
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
