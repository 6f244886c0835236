//! Hosts and request paths.

/// Production gateway.
pub const PROD_GATEWAY: &str = "https://gateway.95516.com";
/// Test gateway.
pub const TEST_GATEWAY: &str = "https://gateway.test.95516.com";
/// Production file host (POST to `/`).
pub const PROD_FILE_HOST: &str = "https://filedownload.95516.com";
/// Test file host (POST to `/`).
pub const TEST_FILE_HOST: &str = "https://filedownload.test.95516.com";

/// Browser form target: B2C/B2B gateway consume.
pub const FRONT_TRANS: &str = "/gateway/api/frontTransReq.do";
/// Back transactions: refund, cancel.
pub const BACK_TRANS: &str = "/gateway/api/backTransReq.do";
/// Single query.
pub const QUERY_TRANS: &str = "/gateway/api/queryTrans.do";
/// App consume (`tn`).
pub const APP_TRANS: &str = "/gateway/api/appTransReq.do";
/// File transfer, on the file host.
pub const FILE_TRANS: &str = "/";
