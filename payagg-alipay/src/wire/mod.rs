//! Serde models of the classic Alipay OpenAPI JSON (`biz_content` and `<method>_response`
//! nodes), notifications and error bodies, one file per API family.
//!
//! **Unstable: shared with `payagg-mock`.** The simulator serializes what the client
//! deserializes (and the other way round) from these very structs, so the two cannot drift
//! apart on field names. Not part of the crate's semver promise. The structs are not
//! `#[non_exhaustive]` so the simulator can build them with struct literals
//! (`..Default::default()`).
//!
//! Conventions (brief §4): amounts are decimal yuan strings with two decimals (`"88.88"`; a
//! JSON number is accepted on input, as some Java clients send one), times are
//! `yyyy-MM-dd HH:mm:ss` Beijing time kept verbatim, absent optional fields are omitted, and
//! unknown response fields are ignored. Response nodes flatten the common
//! [`ResponseStatus`] (`code`, `msg`, `sub_code`, `sub_msg`).

pub mod cert;
pub mod error;
pub mod lenient;
pub mod notify;
pub mod pay;
pub mod query;
pub mod refund;
pub mod statement;
pub mod transfer;

pub use cert::{CertDownloadContent, CertDownloadResponse};
pub use error::{ResponseStatus, V3ErrorBody, V3ErrorLink};
pub use notify::{FundTransOrderChanged, ReturnParams, TradeNotification};
pub use pay::{
    AppPayContent, PagePayContent, PrecreateContent, PrecreateResponse, TradePayContent,
    TradePayResponse, WapPayContent,
};
pub use query::{
    FundBill, TradeCancelContent, TradeCancelResponse, TradeCloseContent, TradeCloseResponse,
    TradeQueryContent, TradeQueryResponse,
};
pub use refund::{
    RefundQueryContent, RefundQueryResponse, TradeRefundContent, TradeRefundResponse,
};
pub use statement::{BillDownloadUrlContent, BillDownloadUrlResponse};
pub use transfer::{
    PayeeInfo, TransferContent, TransferQueryContent, TransferQueryResponse, TransferResponse,
};

/// Method names of the classic gateway.
pub mod methods {
    /// PC web payment.
    pub const PAGE_PAY: &str = "alipay.trade.page.pay";
    /// Mobile web (H5) payment.
    pub const WAP_PAY: &str = "alipay.trade.wap.pay";
    /// App payment (order string).
    pub const APP_PAY: &str = "alipay.trade.app.pay";
    /// Merchant-presented QR code.
    pub const PRECREATE: &str = "alipay.trade.precreate";
    /// Payment code (`bar_code`).
    pub const PAY: &str = "alipay.trade.pay";
    /// Trade query.
    pub const QUERY: &str = "alipay.trade.query";
    /// Close an unpaid trade.
    pub const CLOSE: &str = "alipay.trade.close";
    /// Cancel (close or refund) a trade.
    pub const CANCEL: &str = "alipay.trade.cancel";
    /// Refund.
    pub const REFUND: &str = "alipay.trade.refund";
    /// Refund query.
    pub const REFUND_QUERY: &str = "alipay.trade.fastpay.refund.query";
    /// Payout to an Alipay account.
    pub const TRANSFER: &str = "alipay.fund.trans.uni.transfer";
    /// Payout query.
    pub const TRANSFER_QUERY: &str = "alipay.fund.trans.common.query";
    /// Bill download URL.
    pub const BILL_URL: &str = "alipay.data.dataservice.bill.downloadurl.query";
    /// Alipay certificate download (rotation).
    pub const CERT_DOWNLOAD: &str = "alipay.open.app.alipaycert.download";
}
