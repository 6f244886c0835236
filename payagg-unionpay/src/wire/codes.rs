//! Fixed values: versions, sign methods, transaction types and products.

/// The protocol version this crate speaks.
pub const VERSION_5_1_0: &str = "5.1.0";
/// The legacy version (SHA-1), signing only.
pub const VERSION_5_0_0: &str = "5.0.0";
/// The charset sent in `encoding`.
pub const ENCODING_UTF8: &str = "UTF-8";
/// `signMethod` RSA certificate.
pub const SIGN_METHOD_RSA: &str = "01";
/// `signMethod` SHA-256 secure key.
pub const SIGN_METHOD_SHA256_KEY: &str = "11";
/// `signMethod` SM3 secure key.
pub const SIGN_METHOD_SM3_KEY: &str = "12";
/// `accessType` direct merchant.
pub const ACCESS_TYPE_MERCHANT: &str = "0";
/// `currencyCode` CNY.
pub const CURRENCY_CNY: &str = "156";

/// `txnType` query.
pub const TXN_QUERY: &str = "00";
/// `txnType` consume.
pub const TXN_CONSUME: &str = "01";
/// `txnType` refund (退货).
pub const TXN_REFUND: &str = "04";
/// `txnType` consume cancel (消费撤销).
pub const TXN_CANCEL: &str = "31";
/// `txnType` file transfer.
pub const TXN_FILE_TRANSFER: &str = "76";

/// `txnSubType` of a consume.
pub const SUB_CONSUME: &str = "01";
/// `txnSubType` of query, refund and cancel.
pub const SUB_DEFAULT: &str = "00";
/// `txnSubType` of a file transfer.
pub const SUB_FILE: &str = "01";

/// `bizType` generic (query, file transfer).
pub const BIZ_GENERIC: &str = "000000";
/// `bizType` B2C online gateway.
pub const BIZ_B2C: &str = "000201";
/// `bizType` B2B corporate online banking.
pub const BIZ_B2B: &str = "000202";

/// `channelType` PC.
pub const CHANNEL_PC: &str = "07";
/// `channelType` mobile / app.
pub const CHANNEL_MOBILE: &str = "08";

/// `fileType` of the daily reconciliation file.
pub const FILE_TYPE_ZM: &str = "00";

/// `respCode` success.
pub const RESP_SUCCESS: &str = "00";
/// `respCode`/`origRespCode` defective success (counts as success).
pub const RESP_DEFECTIVE_SUCCESS: &str = "A6";
/// `respCode` no such transaction (outcome unknown, never a failure).
pub const RESP_NOT_FOUND: &str = "34";
/// `respCode` file not (yet) there.
pub const RESP_NO_FILE: &str = "98";
