//! Bills from the simulator's state, downloaded and parsed by the real `WechatPayClient`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use payagg_core::clock::{CHINA_OFFSET, Clock};
use payagg_core::crypto::SecretKey32;
use payagg_core::statement::{RecordKind, StatementKind, StatementRequest};
use payagg_core::{
    Channel, Gateway, MerchantOrderNo, MerchantRefundNo, Money, PayRequest, RefundRequest, Scene,
};
use payagg_mock::{BillDiscrepancy, MockConfig, MockServer, PayAs, Wallet};
use payagg_wechat::bill::{FundFlowBillParser, TradeBillParser};
use payagg_wechat::{Config, WechatPayClient};

fn client(server: &MockServer) -> WechatPayClient {
    let wx = server.wechat();
    let cfg = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(secrecy::ExposeSecret::expose_secret(wx.merchant_key_pem()).to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key()).unwrap())
        .base_url(server.base_url())
        .notify_url("http://127.0.0.1:9/notify")
        .platform_certificates(true)
        .build()
        .unwrap();
    let clock: Arc<dyn Clock> = server.clock();
    WechatPayClient::new(cfg).unwrap().with_clock(clock)
}

async fn paid(server: &MockServer, client: &WechatPayClient, no: &str, fen: u64) {
    let no = MerchantOrderNo::new(no).unwrap();
    let pay =
        PayRequest::new(no.clone(), Money::cny(fen), "Tea, green", Scene::MerchantQr).unwrap();
    client.pay(&pay).await.unwrap();
    server
        .pay(Channel::Wechat, no.as_str(), Some("oPayer"))
        .unwrap();
}

/// Two payments and a partial refund today; returns today's China date.
async fn a_day(server: &MockServer, client: &WechatPayClient) -> time::Date {
    paid(server, client, "BILLA0001", 1000).await;
    paid(server, client, "BILLB0002", 26000).await;
    let refund = RefundRequest::new(
        MerchantOrderNo::new("BILLB0002").unwrap(),
        MerchantRefundNo::new("BILLR1").unwrap(),
        Money::cny(3000),
        Money::cny(26000),
    )
    .unwrap();
    client.refund(&refund).await.unwrap();
    let date = server.now().to_offset(CHINA_OFFSET).date();
    // The bill of a day exists from 10:00 the next day.
    server.advance(time::Duration::hours(34));
    date
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_and_fund_flow_bills_parse_with_the_real_client() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let client = client(&server);
    let date = a_day(&server, &client).await;

    let all = client
        .download_statement(&StatementRequest::new(date, StatementKind::AllTrades))
        .await
        .expect("ALL bill");
    assert!(all.raw.starts_with("\u{feff}交易时间,".as_bytes()));
    let summary = TradeBillParser::new().check_summary(&all.raw).unwrap();
    assert_eq!(summary.record_count, 3);
    assert_eq!(
        summary.stated("手续费总金额").unwrap().to_string(),
        "1.44000" // (10.00 + 260.00 − 30.00) × 0.6 %
    );
    let records: Vec<_> = all.records().collect::<Result<_, _>>().unwrap();
    let payments: Vec<_> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Payment)
        .collect();
    assert_eq!(payments.len(), 2);
    let refund = records
        .iter()
        .find(|r| r.kind == RecordKind::Refund)
        .unwrap();
    assert_eq!(refund.merchant_refund_no.as_deref(), Some("BILLR1"));
    assert_eq!(refund.gross.to_string(), "-30.00");
    assert_eq!(refund.fee.to_string(), "0.18000");

    let success = client
        .download_statement(&StatementRequest::new(
            date,
            StatementKind::SuccessfulTrades,
        ))
        .await
        .unwrap();
    assert_eq!(success.records().count(), 2);
    let refunds = client
        .download_statement(&StatementRequest::new(date, StatementKind::Refunds))
        .await
        .unwrap();
    assert_eq!(refunds.records().count(), 1);

    let flow = client
        .download_statement(&StatementRequest::new(date, StatementKind::FundFlow))
        .await
        .expect("fund-flow bill");
    let s = FundFlowBillParser::new().check_summary(&flow.raw).unwrap();
    // 2 payments + 2 fees + 1 refund + 1 returned fee.
    assert_eq!(s.record_count, 6);

    // The day before: nothing happened, an empty statement (NO_STATEMENT_EXIST).
    let empty = client
        .download_statement(&StatementRequest::new(
            date.previous_day().unwrap(),
            StatementKind::AllTrades,
        ))
        .await
        .unwrap();
    assert!(empty.raw.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discrepancies_reach_the_parsed_bill() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let client = client(&server);
    let date = a_day(&server, &client).await;
    let fetch = || async {
        let st = client
            .download_statement(&StatementRequest::new(date, StatementKind::AllTrades))
            .await
            .unwrap();
        // The summary still agrees with the rows: the discrepancy is for reconciliation.
        TradeBillParser::new().check_summary(&st.raw).unwrap();
        st.records().collect::<Result<Vec<_>, _>>().unwrap()
    };
    server.inject_bill_discrepancy(date, BillDiscrepancy::MissingRow);
    let rows = fetch().await;
    assert_eq!(rows.len(), 2);
    assert!(
        !rows
            .iter()
            .any(|r| r.merchant_order_no.as_deref() == Some("BILLA0001")
                && r.kind == RecordKind::Payment)
    );
    server.clear_bill_discrepancies();

    server.inject_bill_discrepancy(date, BillDiscrepancy::ChangedAmount);
    let rows = fetch().await;
    let a = rows
        .iter()
        .find(|r| r.merchant_order_no.as_deref() == Some("BILLA0001"))
        .unwrap();
    assert_eq!(a.gross.to_string(), "11.00");
    server.clear_bill_discrepancies();

    // Through the control API this time.
    let http = reqwest::Client::new();
    let r = http
        .post(format!(
            "{}/__mock/bills/wechat/discrepancies",
            server.base_url()
        ))
        .body(serde_json::json!({"date": date.to_string(), "kind": "extra_row"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let rows = fetch().await;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().any(|r| {
        r.merchant_order_no
            .as_deref()
            .is_some_and(|n| n.starts_with("MOCKEXTRA"))
    }));
    server.clear_bill_discrepancies();

    server.inject_bill_discrepancy(date, BillDiscrepancy::NextDayRow);
    let rows = fetch().await;
    let next = date.next_day().unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r.occurred_at.to_offset(CHINA_OFFSET).date() == next)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bill_rules_on_the_wire() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let client = client(&server);
    paid(&server, &client, "BILLC0003", 500).await;
    let date = server.now().to_offset(CHINA_OFFSET).date();
    // Today's bill does not exist yet.
    let e = client
        .download_statement(&StatementRequest::new(date, StatementKind::AllTrades))
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("PARAM_ERROR"), "{e:?}");
    // Yesterday's before 10:00: STATEMENT_CREATING.
    let local = server.now().to_offset(CHINA_OFFSET);
    let to_next_0900 = time::Duration::hours(24 + 9)
        - time::Duration::hours(i64::from(local.hour()))
        - time::Duration::minutes(i64::from(local.minute()));
    server.advance(to_next_0900);
    let e = client
        .download_statement(&StatementRequest::new(date, StatementKind::AllTrades))
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("STATEMENT_CREATING"), "{e:?}");
    server.advance(time::Duration::hours(2));
    let st = client
        .download_statement(&StatementRequest::new(date, StatementKind::AllTrades))
        .await
        .unwrap();
    assert_eq!(st.records().count(), 1);
}

/// The 付款银行 cell of a bill row (`raw` is the row as the real client parsed it).
fn bank_cell(header: &str, raw: &str) -> String {
    let i = header
        .split(',')
        .position(|h| h.trim_start_matches('\u{feff}') == "付款银行")
        .expect("付款银行 column");
    raw.split(',')
        .nth(i)
        .unwrap()
        .trim_start_matches('`')
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payers_bank_reaches_the_trade_bill() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let client = client(&server);
    for (no, wallet) in [
        ("BANKA0001", Wallet::debit("CMB")),
        ("BANKB0002", Wallet::credit("ICBC")),
        ("BANKC0003", Wallet::Balance),
    ] {
        let order = MerchantOrderNo::new(no).unwrap();
        let pay = PayRequest::new(order, Money::cny(500), "Tea", Scene::MerchantQr).unwrap();
        client.pay(&pay).await.unwrap();
        server
            .pay_as(
                Channel::Wechat,
                no,
                &PayAs::payer("oBank").with_wallet(wallet),
            )
            .unwrap();
    }
    let date = server.now().to_offset(CHINA_OFFSET).date();
    server.advance(time::Duration::hours(34));
    let st = client
        .download_statement(&StatementRequest::new(date, StatementKind::AllTrades))
        .await
        .unwrap();
    let text = String::from_utf8(st.raw.to_vec()).unwrap();
    let header = text.lines().next().unwrap();
    let banks: std::collections::BTreeMap<String, String> = st
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r.merchant_order_no.clone().unwrap(),
                bank_cell(header, &r.raw),
            )
        })
        .collect();
    assert_eq!(banks["BANKA0001"], "CMB_DEBIT");
    assert_eq!(banks["BANKB0002"], "ICBC_CREDIT");
    assert_eq!(banks["BANKC0003"], "OTHERS");
}
