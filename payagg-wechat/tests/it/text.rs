//! 4-byte UTF-8 characters (emoji, supplementary plane) in free-text fields are refused
//! with a typed error naming the field, before anything is sent.

use payagg_core::ids::{MerchantRefundNo, MerchantTransferNo};
use payagg_core::{
    Error, Gateway, MerchantOrderNo, Money, PayRequest, Payee, RefundRequest, Scene, Sensitive,
    TransferRequest,
};
use payagg_wechat::micropay::MicropayRequest;
use payagg_wechat::transfer::{TransferBatchDetail, TransferBatchRequest, TransferBillRequest};

use super::*;

const OPENID: &str = "o-MYE42l80oelYMDE34nYD456Xoy";

#[track_caller]
fn assert_field(r: payagg_core::Result<impl std::fmt::Debug>, field: &str) {
    match r {
        Err(Error::InvalidInput(e)) => {
            assert_eq!(e.field(), field, "{e}");
            assert!(e.reason().contains("4 bytes in UTF-8"), "{e}");
        }
        other => panic!("expected InvalidInput({field}), got {other:?}"),
    }
}

fn pay_req(description: &str) -> PayRequest {
    PayRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        Money::cny(100),
        description,
        Scene::MerchantQr,
    )
    .unwrap()
}

fn transfer_req(remark: &str) -> TransferRequest {
    TransferRequest::new(
        MerchantTransferNo::new("plfk2020042013").unwrap(),
        Payee::WechatOpenId(Sensitive::new(OPENID.into())),
        Money::cny(400),
        remark,
    )
    .unwrap()
}

fn batch(remark: &str) -> TransferBatchRequest {
    TransferBatchRequest::new(
        MerchantTransferNo::new("plfk2020042013").unwrap(),
        "2019年1月报销",
        "2019年1月报销",
    )
    .detail(
        TransferBatchDetail::new(
            MerchantTransferNo::new("x23zy545Bd5436").unwrap(),
            OPENID,
            Money::cny(200),
            remark,
        )
        .unwrap(),
    )
}

#[tokio::test]
async fn four_byte_characters_are_refused_before_sending() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());

    // Pay: description and attach (the BMP, Chinese included, is fine up to the send).
    assert_field(c.pay(&pay_req("QQ公仔 🧸")).await, "description");
    assert_field(c.pay(&pay_req("𠮷野家 牛丼")).await, "description");
    assert_field(c.pay(&pay_req("QQ公仔").attach("order 🎁")).await, "attach");

    // Refund reason.
    let refund = RefundRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        MerchantRefundNo::new("R20240520001").unwrap(),
        Money::cny(40),
        Money::cny(100),
    )
    .unwrap();
    assert_field(
        c.refund(&refund.clone().reason("质量问题😡")).await,
        "reason",
    );

    // Transfer bills: remark, payee name (user_name), report infos, perception.
    assert_field(c.transfer(&transfer_req("报销🎉")).await, "remark");
    assert_field(
        c.transfer(&transfer_req("报销").payee_name("张三😀")).await,
        "user_name",
    );
    let bill = TransferBillRequest::new(transfer_req("报销"))
        .scene_id("1000")
        .report_info("活动名称", "新会员有礼🎁");
    assert_field(
        c.create_transfer_bill(&bill).await,
        "transfer_scene_report_infos",
    );
    let bill = TransferBillRequest::new(transfer_req("报销"))
        .scene_id("1000")
        .report_info("活动名称", "新会员有礼")
        .user_recv_perception("现金奖励🎉");
    assert_field(c.create_transfer_bill(&bill).await, "user_recv_perception");

    // Legacy batches: name, remark, each detail's remark and user_name.
    assert_field(c.create_transfer_batch(&batch("报销💰")).await, "remark");
    let mut named = batch("报销");
    named.details[0] = named.details[0].clone().user_name("李四🙂");
    assert_field(c.create_transfer_batch(&named).await, "user_name");
    let mut b = batch("报销");
    b.batch_name = "奖励🏆".into();
    assert_field(c.create_transfer_batch(&b).await, "batch_name");
    let mut b = batch("报销");
    b.batch_remark = "奖励🏆".into();
    assert_field(c.create_transfer_batch(&b).await, "batch_remark");

    // Nothing reached the server.
    assert!(s.received_requests().await.unwrap().is_empty());
}

#[test]
fn micropay_body_is_checked_on_creation() {
    let e = MicropayRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        Money::cny(1),
        "QQ公仔🧸",
        "120061098828009406",
        "14.17.22.52",
    )
    .unwrap_err();
    assert_eq!(e.field(), "description");
}
