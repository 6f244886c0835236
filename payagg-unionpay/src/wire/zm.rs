//! The ZM (交易明细) reconciliation file layout: GBK, fixed width in **bytes**.

/// Field widths in bytes of a ZM record (official demo arrays); each field but the last is
/// followed by one space.
pub const FIELD_LENGTHS: [usize; 42] = [
    3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4, 32, 1, 21,
    15, 1, 15, 32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98,
];

/// The record length in bytes with separators: 607.
pub const RECORD_LEN: usize = 607;

/// Field widths of a ZME (差错) record (405 bytes).
pub const ZME_FIELD_LENGTHS: [usize; 22] = [
    3, 11, 11, 6, 10, 19, 12, 4, 2, 2, 6, 10, 4, 12, 13, 13, 15, 15, 1, 12, 2, 135,
];

/// 0-based field indexes used by the parser.
pub mod idx {
    /// 交易代码 (`S22` consume…).
    pub const TXN_CODE: usize = 0;
    /// 系统跟踪号 traceNo.
    pub const TRACE_NO: usize = 3;
    /// 交易传输时间 `MMDDhhmmss`.
    pub const TRACE_TIME: usize = 4;
    /// 交易金额 n12 fen.
    pub const AMOUNT: usize = 6;
    /// 查询流水号 queryId.
    pub const QUERY_ID: usize = 9;
    /// 商户订单号 orderId.
    pub const ORDER_ID: usize = 11;
    /// 商户手续费 X+n12.
    pub const MERCHANT_FEE: usize = 15;
    /// 结算金额 X+n12.
    pub const SETTLE_AMOUNT: usize = 16;
    /// 交易类型 txnType.
    pub const TXN_TYPE: usize = 19;
    /// 交易子类.
    pub const TXN_SUB_TYPE: usize = 20;
    /// 业务类型 bizType.
    pub const BIZ_TYPE: usize = 21;
    /// 原交易查询流水号 origQryId.
    pub const ORIG_QUERY_ID: usize = 26;
    /// 商户代码 merId.
    pub const MER_ID: usize = 27;
    /// 清算净额 X+n12.
    pub const NET_AMOUNT: usize = 32;
    /// 商户自定义域 (first 32 bytes of reqReserved).
    pub const REQ_RESERVED: usize = 34;
    /// 原始交易订单号.
    pub const ORIG_ORDER_ID: usize = 40;
}

/// The ZIP entry name of the ZM file: `INN<yyMMdd>88ZM_<merId>`.
#[must_use]
pub fn zm_entry_name(yymmdd: &str, mer_id: &str) -> String {
    format!("INN{yymmdd}88ZM_{mer_id}")
}

/// Whether a ZIP entry name is a ZM file (`INN` + 8 + `ZM_`), as the official kit selects it.
#[must_use]
pub fn is_zm_entry(name: &str) -> bool {
    name.len() > 14 && name.starts_with("INN") && name.get(11..14) == Some("ZM_")
}
