//! Criterion benches: sign a request, verify a response (raw-slice extraction included),
//! verify a notification, parse a large generated bill (GBK decode + parse).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payagg_alipay::bill::{TradeBillParser, decode_gbk};
use payagg_alipay::doc_support::{TEST_ALIPAY_PUBLIC_KEY_PEM, TEST_APP_KEY_PEM};
use payagg_alipay::sign::{self, NotifyRule, SignType};
use payagg_core::crypto::{RsaPrivateKey, RsaPublicKey};
use payagg_core::statement::StatementParser;

fn params() -> Vec<(String, String)> {
    [
        ("app_id", "2021000122671080"),
        ("method", "alipay.trade.precreate"),
        ("format", "JSON"),
        ("charset", "utf-8"),
        ("sign_type", "RSA2"),
        ("timestamp", "2024-05-20 10:00:00"),
        ("version", "1.0"),
        ("notify_url", "https://shop.example/notify/alipay"),
        (
            "biz_content",
            r#"{"out_trade_no":"A20240520001","total_amount":"12.30","subject":"Tea"}"#,
        ),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn bill(rows: usize) -> Vec<u8> {
    let mut s = String::from(
        "#支付宝业务明细查询\r\n#-----业务明细列表-----\r\n支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n",
    );
    for i in 0..rows {
        s.push_str(&format!(
            "2024030122001412{i:012}\t,PA2024030{i:08}\t,交易\t,会员月卡,2024-03-01 10:15:02,2024-03-01 10:15:09,S001\t,一号店\t,op01\t,\t,*明(138****0000)\t,30.00,30.00,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.18,0.00,\r\n"
        ));
    }
    s.push_str("#-----业务明细列表结束-----\r\n");
    encoding_rs::GBK.encode(&s).0.into_owned()
}

fn benches(c: &mut Criterion) {
    let key = RsaPrivateKey::from_pem(TEST_APP_KEY_PEM).unwrap();
    let public = RsaPublicKey::from_pem(TEST_ALIPAY_PUBLIC_KEY_PEM).unwrap();
    let p = params();
    c.bench_function("sign_request", |b| {
        b.iter(|| {
            sign::sign_params(
                &key,
                SignType::Rsa2,
                black_box(&p).iter().map(|(k, v)| (k, v)),
            )
        });
    });

    let node = sign::escape_slashes(
        r#"{"code":"10000","msg":"Success","out_trade_no":"A20240520001","qr_code":"https://qr.alipay.com/bax07651xvtprxfkmxyf00a9"}"#,
    );
    let sig = sign::sign(&key, SignType::Rsa2, node.as_bytes());
    let body = sign::response_body("alipay.trade.precreate", &node, None, Some(&sig));
    c.bench_function("verify_response", |b| {
        b.iter(|| {
            let ex = sign::extract_response(black_box(body.as_bytes()), "alipay.trade.precreate")
                .unwrap();
            sign::verify(
                &public,
                SignType::Rsa2,
                ex.content,
                ex.sign.as_deref().unwrap(),
            )
            .unwrap();
        });
    });

    let mut n = params();
    n.retain(|(k, _)| k != "method");
    n.push(("notify_type".into(), "trade_status_sync".into()));
    let content = sign::notify_sign_content(n.iter().map(|(k, v)| (k, v)), NotifyRule::V1);
    n.push((
        "sign".into(),
        sign::sign(&key, SignType::Rsa2, content.as_bytes()),
    ));
    c.bench_function("verify_notification", |b| {
        b.iter(|| sign::verify_notification(&public, black_box(&n)).unwrap());
    });

    // 1M rows (~240 MB of GBK): decode + parse end to end, against a raw `csv::ByteRecord`
    // pass over the same bytes (no decoding, no amounts, no times) as the floor.
    let raw = bill(1_000_000);
    // The bill must parse cleanly: a parse error would otherwise be timed as a cheap skip.
    assert_eq!(ok_rows(TradeBillParser.records_gbk(&raw)), 1_000_000);
    let mut g = c.benchmark_group("bill");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.sample_size(10);
    g.bench_function("gbk_streamed_parse_1m_rows", |b| {
        b.iter(|| ok_rows(TradeBillParser.records_gbk(black_box(&raw))));
    });
    g.bench_function("decode_gbk_then_parse_1m_rows", |b| {
        b.iter(|| {
            let text = decode_gbk(black_box(&raw));
            ok_rows(TradeBillParser.records(text.as_bytes()))
        });
    });
    g.bench_function("csv_byte_record_1m_rows", |b| {
        b.iter(|| {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .comment(Some(b'#'))
                .from_reader(black_box(raw.as_slice()));
            let mut rec = csv::ByteRecord::new();
            let mut n = 0usize;
            while rdr.read_byte_record(&mut rec).unwrap() {
                n += rec.len();
            }
            n
        });
    });
    g.finish();
}

criterion_group!(alipay, benches);
criterion_main!(alipay);

/// Counts the records and fails on the first parse error (no error is silently skipped).
fn ok_rows<T, E: std::fmt::Debug>(it: impl Iterator<Item = Result<T, E>>) -> usize {
    let mut n = 0usize;
    for r in it {
        if let Err(e) = r {
            panic!("bill row {} does not parse: {e:?}", n + 1);
        }
        n += 1;
    }
    n
}
