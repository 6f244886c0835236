//! Payouts: transfer bills (create, query, cancel, callback) and legacy batches.

use base64::engine::general_purpose::STANDARD as B64;
use payagg_core::ids::{ChannelTransferNo, MerchantTransferNo};
use payagg_core::{
    CallbackEvent, Error, Gateway, GatewayErrorKind, Money, Operation, Payee, Sensitive,
    TransferRequest, TransferStatus,
};
use payagg_wechat::transfer::{
    TransferBatchDetail, TransferBatchRequest, TransferBatchStatus, TransferBillRequest,
};
use wiremock::Mock;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};

use super::callback::notification;
use super::*;

const BILLS: &str = "/v3/fund-app/mch-transfer/transfer-bills";
const OPENID: &str = "o-MYE42l80oelYMDE34nYD456Xoy";
const BILL_NO: &str = "1330000071100999991182020050700019480001";

fn request(no: &str) -> TransferRequest {
    TransferRequest::new(
        MerchantTransferNo::new(no).unwrap(),
        Payee::WechatOpenId(Sensitive::new(OPENID.into())),
        Money::cny(400_000),
        "2020年4月报销",
    )
    .unwrap()
}

fn create_json(state: &str) -> String {
    format!(
        r#"{{"out_bill_no":"plfk2020042013","transfer_bill_no":"{BILL_NO}","create_time":"2015-05-20T13:29:35.120+08:00","state":"{state}","package_info":"affffddafdfafddffda=="}}"#
    )
}

fn bill_json(no: &str, state: &str) -> String {
    format!(
        r#"{{"mch_id":"1230000109","out_bill_no":"{no}","transfer_bill_no":"{BILL_NO}","appid":"{APPID}","state":"{state}","transfer_amount":400000,"transfer_remark":"2020年4月报销","openid":"{OPENID}","create_time":"2015-05-20T13:29:35.120+08:00","update_time":"2015-05-20T13:29:36.120+08:00"}}"#
    )
}

/// The JSON body of the first request the server received at `p`.
async fn sent_body(s: &MockServer, p: &str) -> (serde_json::Value, Request) {
    let req = s
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == p)
        .expect("request sent");
    (serde_json::from_slice(&req.body).unwrap(), req)
}

fn decrypt_user_name(v: &serde_json::Value) -> String {
    use base64::Engine as _;
    let ct = B64.decode(v.as_str().unwrap()).unwrap();
    String::from_utf8(platform_key().oaep_sha1_decrypt(&ct).unwrap()).unwrap()
}

#[tokio::test]
async fn create_encrypts_user_name_under_the_public_key() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(BILLS))
        .and(SignedByMerchant)
        .and(header("Wechatpay-Serial", PUB_KEY_ID))
        .and(header("Content-Type", "application/json"))
        .and(body_partial_json(serde_json::json!({
            "appid": APPID, "out_bill_no": "plfk2020042013", "transfer_scene_id": "1000",
            "openid": OPENID, "transfer_amount": 400_000, "transfer_remark": "2020年4月报销",
            "notify_url": "https://shop.example/notify/transfer",
            "transfer_scene_report_infos": [
                {"info_type": "活动名称", "info_content": "新会员有礼"},
                {"info_type": "奖励说明", "info_content": "注册奖励"}
            ]
        })))
        .respond_with(Signed::ok(create_json("WAIT_USER_CONFIRM")))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        pubkey_config(&s)
            .transfer_notify_url("https://shop.example/notify/transfer")
            .transfer_scene_report_info("活动名称", "新会员有礼")
            .transfer_scene_report_info("奖励说明", "注册奖励")
            .build()
            .unwrap(),
    );
    assert!(c.capabilities().operations.contains(&Operation::Transfer));
    assert!(
        c.capabilities()
            .operations
            .contains(&Operation::QueryTransfer)
    );
    let t = c
        .transfer(&request("plfk2020042013").payee_name("张三"))
        .await
        .unwrap();
    assert_eq!(t.status, TransferStatus::WaitingForPayee);
    assert_eq!(t.raw_status, "WAIT_USER_CONFIRM");
    assert_eq!(t.client_package.as_deref(), Some("affffddafdfafddffda=="));
    assert_eq!(t.amount, Money::cny(400_000));
    assert_eq!(t.channel_transfer_no.unwrap().as_str(), BILL_NO);
    let (body, _) = sent_body(&s, BILLS).await;
    assert_eq!(decrypt_user_name(&body["user_name"]), "张三");
    assert!(body.get("user_recv_perception").is_none());
}

#[tokio::test]
async fn per_call_scene_and_platform_certificate_serial() {
    let s = server().await;
    let (pem, serial) = doc_cert();
    Mock::given(method("POST"))
        .and(path(BILLS))
        .and(SignedByMerchant)
        .and(header("Wechatpay-Serial", serial))
        .and(body_partial_json(serde_json::json!({
            "transfer_scene_id": "1005", "user_recv_perception": "劳务报酬",
            "transfer_scene_report_infos": [
                {"info_type": "岗位类型", "info_content": "推广员"},
                {"info_type": "报酬说明", "info_content": "5月佣金"}
            ]
        })))
        .respond_with(Signed::ok(create_json("ACCEPTED")).serial(serial))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        base_config(&s)
            .platform_certificate_pem(pem)
            .transfer_scene_report_info("活动名称", "不会发送")
            .build()
            .unwrap(),
    );
    let req = TransferBillRequest::new(request("plfk2020042013").payee_name("李四"))
        .scene_id("1005")
        .report_info("岗位类型", "推广员")
        .report_info("报酬说明", "5月佣金")
        .user_recv_perception("劳务报酬");
    let t = c.create_transfer_bill(&req).await.unwrap();
    assert_eq!(t.status, TransferStatus::Processing);
    let (body, _) = sent_body(&s, BILLS).await;
    assert_eq!(decrypt_user_name(&body["user_name"]), "李四");
    assert!(body.get("notify_url").is_none());
}

#[tokio::test]
async fn user_name_without_an_encryption_key_fails_before_sending() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(BILLS))
        .respond_with(Signed::ok(create_json("ACCEPTED")))
        .expect(0)
        .mount(&s)
        .await;
    // Platform-certificate mode with an empty cache; the download (catch-all 599) fails.
    let c = client(base_config(&s).build().unwrap());
    let e = c
        .transfer(&request("plfk2020042013").payee_name("张三"))
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Config(_)), "{e}");
    assert!(!e.outcome_unknown());
    let sent = s.received_requests().await.unwrap();
    assert!(sent.iter().all(|r| r.url.path() != BILLS), "{sent:?}");
}

#[tokio::test]
async fn create_without_user_name_needs_no_key() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(BILLS))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(create_json("PROCESSING")))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let t = c.transfer(&request("plfk2020042013")).await.unwrap();
    assert_eq!(t.status, TransferStatus::Processing);
    let (body, _) = sent_body(&s, BILLS).await;
    assert!(body.get("user_name").is_none());
    assert!(body.get("transfer_scene_report_infos").is_none());
}

#[tokio::test]
async fn every_state_maps_on_query() {
    let s = server().await;
    let cases = [
        ("ACCEPTED", TransferStatus::Processing),
        ("PROCESSING", TransferStatus::Processing),
        ("WAIT_USER_CONFIRM", TransferStatus::WaitingForPayee),
        ("TRANSFERING", TransferStatus::Processing),
        ("SUCCESS", TransferStatus::Success),
        ("FAIL", TransferStatus::Failed),
        ("CANCELING", TransferStatus::Cancelling),
        ("CANCELLED", TransferStatus::Cancelled),
    ];
    for (i, (raw, _)) in cases.iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(format!("{BILLS}/out-bill-no/T{i}")))
            .and(SignedByMerchant)
            .respond_with(Signed::ok(bill_json(&format!("T{i}"), raw)))
            .expect(1)
            .mount(&s)
            .await;
    }
    let c = client(pubkey_config(&s).build().unwrap());
    for (i, (raw, st)) in cases.iter().enumerate() {
        let t = c
            .query_transfer(&MerchantTransferNo::new(format!("T{i}")).unwrap())
            .await
            .unwrap();
        assert_eq!(t.status, *st, "{raw}");
        assert_eq!(t.raw_status, *raw);
        assert_eq!(t.amount, Money::cny(400_000));
        assert_eq!(t.merchant_transfer_no.as_str(), format!("T{i}"));
        let terminal = matches!(
            st,
            TransferStatus::Success | TransferStatus::Failed | TransferStatus::Cancelled
        );
        assert_eq!(t.finished_at.is_some(), terminal, "{raw}");
    }
}

#[tokio::test]
async fn query_by_channel_number_and_unknown_state() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path(format!("{BILLS}/transfer-bill-no/{BILL_NO}")))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(bill_json("plfk2020042013", "FAIL").replace(
            r#""state":"FAIL""#,
            r#""state":"FAIL","fail_reason":"PAYEE_ACCOUNT_ABNORMAL""#,
        )))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BILLS}/out-bill-no/ODD")))
        .respond_with(Signed::ok(bill_json("ODD", "TRANSFERRED")))
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let t = c
        .query_transfer_bill_by_channel_no(&ChannelTransferNo::new(BILL_NO).unwrap())
        .await
        .unwrap();
    assert_eq!(t.status, TransferStatus::Failed);
    assert_eq!(t.fail_reason.as_deref(), Some("PAYEE_ACCOUNT_ABNORMAL"));
    let e = c
        .query_transfer(&MerchantTransferNo::new("ODD").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e}");
}

#[tokio::test]
async fn cancel() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(format!("{BILLS}/out-bill-no/plfk2020042013/cancel")))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(format!(
            r#"{{"out_bill_no":"plfk2020042013","transfer_bill_no":"{BILL_NO}","state":"CANCELING","update_time":"2015-05-20T13:29:35.120+08:00"}}"#
        )))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let r = c
        .cancel_transfer_bill(&MerchantTransferNo::new("plfk2020042013").unwrap())
        .await
        .unwrap();
    assert_eq!(r.status, TransferStatus::Cancelling);
    assert_eq!(r.raw_status, "CANCELING");
    assert_eq!(r.channel_transfer_no.unwrap().as_str(), BILL_NO);
    assert!(r.updated_at.is_some());
}

#[tokio::test]
async fn not_enough_is_insufficient_funds() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(BILLS))
        .respond_with(error_body(403, "NOT_ENOUGH", "商户账户余额不足"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.transfer(&request("plfk2020042013")).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::InsufficientFunds));
    assert_eq!(e.gateway_code(), Some("NOT_ENOUGH"));
}

#[tokio::test]
async fn timeout_is_outcome_unknown_and_never_retried() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(BILLS))
        .respond_with(Signed::ok(create_json("ACCEPTED")).delay(StdDuration::from_secs(3)))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(BILLS))
        .respond_with(error_body(500, "SYSTEM_ERROR", "系统繁忙"))
        .expect(0)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.transfer(&request("plfk2020042013")).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
    let posts = s
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == BILLS)
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let alipay = TransferRequest::new(
        MerchantTransferNo::new("plfk2020042013").unwrap(),
        Payee::AlipayUserId(Sensitive::new("2088102146225135".into())),
        Money::cny(1),
        "x",
    )
    .unwrap();
    for req in [
        TransferBillRequest::new(alipay),
        TransferBillRequest::new(request("plfk-2020")),
        TransferBillRequest::new(request("plfk2020042013")).scene_id("10 05"),
    ] {
        let e = c.create_transfer_bill(&req).await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    }
    assert!(s.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn transfer_callback_is_verified_and_decrypted() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let plain = r#"{"out_bill_no":"plfk2020042013","transfer_bill_no":"1330000071100999991182020050700019480001","state":"SUCCESS","mch_id":"1230000109","transfer_amount":2000,"openid":"o-MYE42l80oelYMDE34nYD456Xoy","create_time":"2024-05-20T09:58:00+08:00","update_time":"2024-05-20T09:59:59+08:00"}"#;
    let req = notification(
        "MCHTRANSFER.BILL.FINISHED",
        "mch_payment",
        plain,
        PUB_KEY_ID,
        NOW,
        None,
    );
    let v = c.verify_callback(&req).await.unwrap();
    assert_eq!(v.event_type, "MCHTRANSFER.BILL.FINISHED");
    let CallbackEvent::Transfer(t) = &v.event else {
        panic!("{:?}", v.event)
    };
    assert_eq!(t.status, TransferStatus::Success);
    assert_eq!(t.amount, Money::cny(2000));
    assert_eq!(t.merchant_transfer_no.as_str(), "plfk2020042013");
    assert_eq!(
        t.finished_at,
        Some(time::macros::datetime!(2024-05-20 09:59:59 +08:00))
    );
    assert!((200..300).contains(&v.ack.status));
    // `mchid` spelling and a FAIL with its reason.
    let plain = r#"{"out_bill_no":"B2","state":"FAIL","mchid":"1230000109","transfer_amount":1,"fail_reason":"PAYEE_ACCOUNT_ABNORMAL","update_time":"2024-05-20T09:59:59+08:00"}"#;
    let v = c
        .verify_callback(&notification(
            "MCHTRANSFER.BILL.FINISHED",
            "mch_payment",
            plain,
            PUB_KEY_ID,
            NOW,
            None,
        ))
        .await
        .unwrap();
    let CallbackEvent::Transfer(t) = &v.event else {
        panic!("{:?}", v.event)
    };
    assert_eq!(t.status, TransferStatus::Failed);
    assert_eq!(t.fail_reason.as_deref(), Some("PAYEE_ACCOUNT_ABNORMAL"));
    // A tampered signature is refused.
    let bad = notification(
        "MCHTRANSFER.BILL.FINISHED",
        "mch_payment",
        plain,
        PUB_KEY_ID,
        NOW,
        Some("bm90IGEgc2lnbmF0dXJl"),
    );
    let e = c.verify_callback(&bad).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e}");
}

#[tokio::test]
async fn partner_mode_has_no_transfers() {
    let s = server().await;
    let c = client(
        pubkey_config(&s)
            .partner("1900000100", "wx8888888888888888")
            .build()
            .unwrap(),
    );
    assert!(!c.capabilities().operations.contains(&Operation::Transfer));
    let e = c.transfer(&request("plfk2020042013")).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
}

#[tokio::test]
async fn batch_create_and_query() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/transfer/batches"))
        .and(SignedByMerchant)
        .and(header("Wechatpay-Serial", PUB_KEY_ID))
        .and(body_partial_json(serde_json::json!({
            "appid": APPID, "out_batch_no": "plfk2020042013", "batch_name": "2019年1月深圳分部报销单",
            "batch_remark": "2019年1月深圳分部报销单", "total_amount": 300, "total_num": 2,
            "transfer_scene_id": "1000",
            "transfer_detail_list": [
                {"out_detail_no": "x23zy545Bd5436", "transfer_amount": 200, "transfer_remark": "报销", "openid": OPENID},
                {"out_detail_no": "x23zy545Bd5437", "transfer_amount": 100, "transfer_remark": "报销", "openid": OPENID}
            ]
        })))
        .respond_with(Signed::ok(
            r#"{"out_batch_no":"plfk2020042013","batch_id":"1030000071100999991182020050700019480001","create_time":"2015-05-20T13:29:35.120+08:00","batch_status":"ACCEPTED"}"#,
        ))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/transfer/batches/out-batch-no/plfk2020042013"))
        .and(query_param("need_query_detail", "true"))
        .and(query_param("offset", "0"))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(
            r#"{"transfer_batch":{"mchid":"1230000109","out_batch_no":"plfk2020042013","batch_id":"1030000071100999991182020050700019480001",
            "appid":"wxd678efh567hg6787","batch_status":"FINISHED","batch_type":"API","batch_name":"2019年1月深圳分部报销单",
            "batch_remark":"2019年1月深圳分部报销单","total_amount":300,"total_num":2,"create_time":"2015-05-20T13:29:35.120+08:00",
            "update_time":"2015-05-20T13:29:35.120+08:00","success_amount":200,"success_num":1,"fail_amount":100,"fail_num":1,
            "transfer_scene_id":"1000"},
            "transfer_detail_list":[{"detail_id":"1040000071100999991182020050700019500100","out_detail_no":"x23zy545Bd5436","detail_status":"SUCCESS"},
            {"detail_id":"1040000071100999991182020050700019500101","out_detail_no":"x23zy545Bd5437","detail_status":"FAIL"}]}"#,
        ))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/v3/transfer/batches/out-batch-no/plfk2020042013/details/out-detail-no/x23zy545Bd5437",
        ))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(
            r#"{"mchid":"1230000109","out_batch_no":"plfk2020042013","batch_id":"1030000071100999991182020050700019480001",
            "appid":"wxd678efh567hg6787","out_detail_no":"x23zy545Bd5437","detail_id":"1040000071100999991182020050700019500101",
            "detail_status":"FAIL","transfer_amount":100,"transfer_remark":"报销","fail_reason":"ACCOUNT_FROZEN",
            "openid":"o-MYE42l80oelYMDE34nYD456Xoy","initiate_time":"2015-05-20T13:29:35.120+08:00","update_time":"2015-05-20T13:29:36.120+08:00"}"#,
        ))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let no = MerchantTransferNo::new("plfk2020042013").unwrap();
    let req = TransferBatchRequest::new(
        no.clone(),
        "2019年1月深圳分部报销单",
        "2019年1月深圳分部报销单",
    )
    .detail(
        TransferBatchDetail::new(
            MerchantTransferNo::new("x23zy545Bd5436").unwrap(),
            OPENID,
            Money::cny(200),
            "报销",
        )
        .unwrap()
        .user_name("王五"),
    )
    .detail(
        TransferBatchDetail::new(
            MerchantTransferNo::new("x23zy545Bd5437").unwrap(),
            OPENID,
            Money::cny(100),
            "报销",
        )
        .unwrap(),
    );
    let b = c.create_transfer_batch(&req).await.unwrap();
    assert_eq!(b.batch_id, "1030000071100999991182020050700019480001");
    assert_eq!(b.status, Some(TransferBatchStatus::Accepted));
    let (body, _) = sent_body(&s, "/v3/transfer/batches").await;
    let list = body["transfer_detail_list"].as_array().unwrap();
    assert_eq!(decrypt_user_name(&list[0]["user_name"]), "王五");
    assert!(list[1].get("user_name").is_none());

    let q = c.query_transfer_batch(&no, true).await.unwrap();
    assert_eq!(q.status, Some(TransferBatchStatus::Finished));
    assert_eq!(q.total_amount, Some(Money::cny(300)));
    assert_eq!(q.success_num, Some(1));
    assert_eq!(q.fail_amount, Some(Money::cny(100)));
    assert_eq!(q.details.len(), 2);
    assert_eq!(q.details[0].status, TransferStatus::Success);
    assert_eq!(q.details[1].status, TransferStatus::Failed);

    let d = c
        .query_transfer_batch_detail(&no, &MerchantTransferNo::new("x23zy545Bd5437").unwrap())
        .await
        .unwrap();
    assert_eq!(d.status, TransferStatus::Failed);
    assert_eq!(d.fail_reason.as_deref(), Some("ACCOUNT_FROZEN"));
    assert_eq!(d.amount, Money::cny(100));
    assert!(d.finished_at.is_some());

    let empty = TransferBatchRequest::new(no, "n", "r");
    let e = c.create_transfer_batch(&empty).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}
