//! Serde models of the WeChat Pay APIv3 JSON bodies, one file per API family.
//!
//! **Unstable: shared with `payagg-mock`.** The simulator serializes what the client
//! deserializes (and the other way round) from these very structs, so the two cannot drift
//! apart on field names. Not part of the crate's semver promise.
//!
//! Conventions (brief §3): amounts are integer fen (`i64`), times are RFC 3339 strings with an
//! offset kept verbatim, absent optional fields are omitted (WeChat rejects `null`), and
//! unknown response fields are ignored.

pub mod certificates;
pub mod error;
pub mod notify;
pub mod pay;
pub mod query;
pub mod refund;
pub mod statement;
pub mod transfer;

pub use certificates::{CertificateItem, CertificatesResponse};
pub use error::{ErrorBody, ErrorDetail};
pub use notify::{EncryptedResource, NotifyEnvelope, RefundNotification};
pub use pay::{
    Amount, CloseRequest, H5Info, Payer, PrepayRequest, PrepayResponse, SceneInfo, SettleInfo,
    StoreInfo,
};
pub use query::{PromotionDetail, Transaction, TransactionAmount, TransactionPayer};
pub use refund::{
    RefundAmount, RefundAmountFrom, RefundCreateAmount, RefundCreateRequest, RefundResponse,
};
pub use statement::{BillResponse, FundFlowBillQuery, TradeBillQuery};
pub use transfer::{
    TransferBatchCreateResponse, TransferBatchInfo, TransferBatchQueryResponse,
    TransferBatchRequest, TransferBill, TransferBillCancelResponse, TransferBillCreateResponse,
    TransferBillRequest, TransferDetail, TransferDetailInput, TransferDetailState,
    TransferSceneReportInfo,
};
