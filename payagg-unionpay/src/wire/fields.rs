//! Field names (case-sensitive, ASCII).

/// `version`: `5.1.0`.
pub const VERSION: &str = "version";
/// `encoding`: the charset of the message (`UTF-8`).
pub const ENCODING: &str = "encoding";
/// `signMethod`: `01` RSA certificate, `11` SHA-256 secure key, `12` SM3 secure key.
pub const SIGN_METHOD: &str = "signMethod";
/// `certId`: decimal serial of the merchant signing certificate (`signMethod=01`).
pub const CERT_ID: &str = "certId";
/// `signature`: the signature (never itself signed).
pub const SIGNATURE: &str = "signature";
/// `signPubKeyCert`: UnionPay's signing certificate, PEM, in answers and notifications.
pub const SIGN_PUB_KEY_CERT: &str = "signPubKeyCert";
/// `txnType`: transaction type (see [`super::codes`]).
pub const TXN_TYPE: &str = "txnType";
/// `txnSubType`.
pub const TXN_SUB_TYPE: &str = "txnSubType";
/// `bizType`: product (`000201` B2C gateway, `000202` B2B, `000000` generic).
pub const BIZ_TYPE: &str = "bizType";
/// `channelType`: `07` PC, `08` mobile.
pub const CHANNEL_TYPE: &str = "channelType";
/// `accessType`: `0` direct merchant.
pub const ACCESS_TYPE: &str = "accessType";
/// `merId`: the 15-digit merchant id.
pub const MER_ID: &str = "merId";
/// `orderId`: the merchant's order (or refund) number, 8–32 letters and digits.
pub const ORDER_ID: &str = "orderId";
/// `txnTime`: `YYYYMMDDhhmmss`, Beijing time.
pub const TXN_TIME: &str = "txnTime";
/// `txnAmt`: integer fen.
pub const TXN_AMT: &str = "txnAmt";
/// `currencyCode`: `156` (CNY).
pub const CURRENCY_CODE: &str = "currencyCode";
/// `frontUrl`: where the browser returns.
pub const FRONT_URL: &str = "frontUrl";
/// `backUrl`: where UnionPay posts the notification.
pub const BACK_URL: &str = "backUrl";
/// `payTimeout`: `YYYYMMDDhhmmss`, Beijing time.
pub const PAY_TIMEOUT: &str = "payTimeout";
/// `reqReserved`: merchant pass-back data.
pub const REQ_RESERVED: &str = "reqReserved";
/// `orderDesc`.
pub const ORDER_DESC: &str = "orderDesc";
/// `riskRateInfo`: brace-wrapped sub-fields.
pub const RISK_RATE_INFO: &str = "riskRateInfo";
/// `issInsCode`: B2B bank short code (skips the bank selection page).
pub const ISS_INS_CODE: &str = "issInsCode";
/// `origQryId`: the original consume's `queryId` (refund, cancel).
pub const ORIG_QRY_ID: &str = "origQryId";
/// `queryId`: UnionPay's transaction id (21 characters).
pub const QUERY_ID: &str = "queryId";
/// `respCode`.
pub const RESP_CODE: &str = "respCode";
/// `respMsg`: text with a 7-digit detail code, e.g. `成功[0000000]`.
pub const RESP_MSG: &str = "respMsg";
/// `origRespCode`: the queried transaction's own result.
pub const ORIG_RESP_CODE: &str = "origRespCode";
/// `origRespMsg`.
pub const ORIG_RESP_MSG: &str = "origRespMsg";
/// `settleAmt`.
pub const SETTLE_AMT: &str = "settleAmt";
/// `settleDate`: `MMDD`.
pub const SETTLE_DATE: &str = "settleDate";
/// `traceNo`.
pub const TRACE_NO: &str = "traceNo";
/// `traceTime`: `MMDDhhmmss`.
pub const TRACE_TIME: &str = "traceTime";
/// `tn`: the app transaction number.
pub const TN: &str = "tn";
/// `fileType`: `00`.
pub const FILE_TYPE: &str = "fileType";
/// `fileName`.
pub const FILE_NAME: &str = "fileName";
/// `fileContent`: base64 of zlib of a ZIP.
pub const FILE_CONTENT: &str = "fileContent";
/// `accNo`: masked or encrypted account number (personal data).
pub const ACC_NO: &str = "accNo";
