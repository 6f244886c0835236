//! Writes a month-scale reconciliation data set: `books.csv` and a WeChat `ALL` trade bill
//! `bill.csv` of N rows each that reconcile to all-matched (the data of issue 7's
//! performance target, 1M × 1M).
//!
//! ```sh
//! cargo run --release -p payagg --example reconcile_data -- 1000000 /tmp/recon
//! /usr/bin/time -v target/release/payagg reconcile --books /tmp/recon/books.csv \
//!     --statement /tmp/recon/bill.csv -o /tmp/recon/report.csv
//! ```
//!
//! The bill has the layout of `payagg-wechat/benches/bill.rs` (9 payments to 1 refund,
//! 0.6 % fees with 5 decimals, the summary lines); the books hold the same orders and
//! refunds, one row each.
#![allow(missing_docs)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

const BILL_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const BOOKS_HEADER: &str =
    "merchant_order_no,merchant_refund_no,kind,amount,currency,status,occurred_at,channel";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: u64 = match args.next().map(|s| s.parse()) {
        Some(Ok(n)) => n,
        None => 1_000_000,
        Some(Err(e)) => {
            eprintln!("usage: reconcile_data [ROWS] [DIR]: ROWS: {e}");
            std::process::exit(2);
        }
    };
    let dir = PathBuf::from(args.next().unwrap_or_else(|| ".".to_owned()));
    std::fs::create_dir_all(&dir)?;
    let mut bill = BufWriter::with_capacity(1 << 20, File::create(dir.join("bill.csv"))?);
    let mut books = BufWriter::with_capacity(1 << 20, File::create(dir.join("books.csv"))?);
    write!(bill, "\u{feff}{BILL_HEADER}\r\n")?;
    writeln!(books, "{BOOKS_HEADER}")?;
    let (mut gross, mut refund, mut fee_units) = (0u64, 0u64, 0i64);
    for i in 0..rows {
        let amount = 100 + (i * 37) % 100_000; // fen
        let fee = i64::try_from(amount * 600 / 1000).unwrap_or(0); // 0.6 % in 1e-5 yuan
        let (h, m, s) = ((i / 3600) % 24, (i / 60) % 60, i % 60);
        let a = format!("{}.{:02}", amount / 100, amount % 100);
        let t = format!("2024-05-20 {h:02}:{m:02}:{s:02}");
        let f = format!("{}.{:05}", fee / 100_000, fee % 100_000);
        if i % 10 == 9 {
            refund += amount;
            fee_units -= fee;
            write!(
                bill,
                "`{t},`wxd678efh567hg6787,`1230000109,`0,`,`42000021012024052{i:010},`ORD2024052{i:010},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`503009080120240520{i:010},`RF2024052{i:010},`{a},`0.00,`ORIGINAL,`SUCCESS,`会员月卡,`,`-{f},`0.60%,`0.00,`{a},`\r\n"
            )?;
            writeln!(
                books,
                "ORD2024052{i:010},RF2024052{i:010},refund,{a},CNY,success,{t},wechat"
            )?;
        } else {
            gross += amount;
            fee_units += fee;
            write!(
                bill,
                "`{t},`wxd678efh567hg6787,`1230000109,`0,`POS-01,`42000021012024052{i:010},`ORD2024052{i:010},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`ICBC_DEBIT,`CNY,`{a},`0.00,`0,`0,`0.00,`0.00,`,`,`咖啡豆 250g,`batch=7,`{f},`0.60%,`{a},`0.00,`\r\n"
            )?;
            writeln!(
                books,
                "ORD2024052{i:010},,payment,{a},CNY,success,{t},wechat"
            )?;
        }
    }
    let yuan = |fen: u64| format!("{}.{:02}", fen / 100, fen % 100);
    let sign = if fee_units < 0 { "-" } else { "" };
    let fu = fee_units.unsigned_abs();
    write!(
        bill,
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`{rows},`{},`{},`0.00,`{sign}{}.{:05},`{},`{}\r\n",
        yuan(gross),
        yuan(refund),
        fu / 100_000,
        fu % 100_000,
        yuan(gross),
        yuan(refund)
    )?;
    bill.flush()?;
    books.flush()?;
    eprintln!(
        "{rows} rows: {} and {}",
        dir.join("bill.csv").display(),
        dir.join("books.csv").display()
    );
    Ok(())
}
