//! # payagg-mock
//!
//! A stateful simulator of the Chinese payment gateways, faithful on the wire, for tests and
//! demos. It runs in-process (`127.0.0.1:0`) or as the `payagg-mock` binary, and serves all
//! three channels on one port:
//!
//! | channel | base paths on the simulator's base URL |
//! | --- | --- |
//! | WeChat Pay | APIv3 `/v3/…`; APIv2 payment codes `/pay/micropay`, `/pay/orderquery`, `/secapi/pay/reverse`; the H5 page behind `h5_url`, `/cgi-bin/mmpayweb-bin/checkmweb` |
//! | Alipay | `/gateway.do` (classic gateway), `/v3/alipay/…` (v3 REST API, same state), `/downloadBillFile.resource` (bill files), `/alipay/…` (QR code and cashier pages) |
//! | UnionPay (ACP 5.1.0) | `/gateway/api/frontTransReq.do`, `backTransReq.do`, `appTransReq.do`, `queryTrans.do`, `fileTransfer.do`; `POST /` with `txnType=76` (file transfer) |
//!
//! plus the control API under `/__mock/` and the payer's page at `/`.
//!
//! ## Payers and wallets
//!
//! A control call (or [`MockServer::pay`], [`MockServer::pay_as`], [`MockServer::scan`],
//! [`MockServer::scan_as`], the payer page) pays an order as a payer (WeChat openid, Alipay
//! `2088…` user id) with a [`Wallet`]: the balance (the default), a debit or credit card of a
//! bank, or Alipay 花呗. Each channel reports it as it really does: WeChat `bank_type`
//! (`OTHERS`, `CMB_DEBIT`, `ICBC_CREDIT`, …) in queries, notifications, APIv2 answers and the
//! trade bill's 付款银行; Alipay `fund_bill_list` (`ALIPAYACCOUNT`, `PCREDIT`, `BANKCARD` with
//! `fund_type` and `bank_code`, the whole amount) in pay and query answers and the
//! notification (`fundChannel`), and refunds go back the same way (the Alipay trade bill has
//! no funding column); UnionPay `accNo` masked to its first and last four digits (the ACP
//! test debit or credit card) in notifications and query answers, and the ZM file's 主账号 and
//! 支付卡类型 (`01` debit, `02` credit). A wallet the channel lacks (花呗 on WeChat or
//! UnionPay) is refused (`400`, [`MockErrorKind::InvalidInput`]).
//!
//! Every channel's notifications can be held, released newest first (out of order) and
//! duplicated on demand ([`Notifier::hold`], [`Notifier::release`],
//! [`Notifier::set_duplicates`], or the `/__mock/notifications/…` routes).
//!
//! ## Quick start (library)
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use payagg_core::Channel;
//! use payagg_mock::{MockConfig, MockServer, PayAs, Wallet};
//!
//! // Fresh keys, loopback, notification retries 1000x faster than real time.
//! let server = MockServer::start(MockConfig::generate()?.with_time_scale(1000)).await?;
//! let wx = server.wechat(); // mchid, keys, serials, APIv3 key
//! println!("{} {}", server.base_url(), wx.mchid());
//! // Ready client configs (also `alipay_config(AlipayKeyMode::…)`, `unionpay_config()`,
//! // `wechat_micropay_config()`), and a sleeper that moves the simulator clock.
//! let client = payagg_wechat::WechatPayClient::new(
//!     server.wechat_config().notify_url("http://127.0.0.1:9/notify").build()?,
//! )?;
//! // ... the client creates order "A1" ...
//! server.pay(Channel::Wechat, "A1", Some("o-payer-openid"))?; // sends TRANSACTION.SUCCESS
//! // With a chosen card: the query, notification and bill report bank_type CMB_DEBIT.
//! server.pay_as(Channel::Wechat, "A2", &PayAs::payer("o-payer").with_wallet(Wallet::debit("CMB")))?;
//! server.advance(time::Duration::hours(3)); // open orders past their expiry close
//! let (ali, up) = (server.alipay(), server.unionpay()); // app id and keys; merId, PFX, chain
//! println!("{} {}", ali.app_id(), up.mer_id());
//! # Ok(()) }
//! ```
//!
//! ## What it simulates (WeChat Pay APIv3)
//!
//! - **Request verification exactly as WeChat does**: `Authorization:
//!   WECHATPAY2-SHA256-RSA2048 …` (pairs in any order) over `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`
//!   where URL is the raw request-target as received (the authority of an absolute-form request
//!   line is stripped); a 5-minute window against the simulator clock; the merchant certificate
//!   serial. Failures are answered `401 {"code":"SIGN_ERROR",…}` (a signature mismatch carries
//!   `detail.sign_information`); a missing `Accept` or `User-Agent` is `400 INVALID_REQUEST`; an
//!   unknown `mchid` is `400 MCH_NOT_EXISTS`.
//! - **Response signing**: every 2xx (including 204) carries `Wechatpay-Nonce`, `-Timestamp`,
//!   `-Serial`, `-Signature`, `-Signature-Type` and `Request-ID`, signed with the platform
//!   certificate or the WeChat Pay public key, whichever the request's `Wechatpay-Serial` names
//!   (else [`WechatSetup::default_signer`]). Error answers are not signed. Notifications are
//!   signed with the key the merchant's requests last named. A public-key-only merchant
//!   ([`WechatSetup::platform_certificates`] `= false`) gets everything signed with the public
//!   key and `404 RESOURCE_NOT_EXISTS` from `/v3/certificates`.
//! - **Endpoints**: prepay for JSAPI/Native/App/H5 (`/v3/pay/transactions/{jsapi,native,app,h5}`
//!   and `/v3/pay/partner/transactions/…`), query by `out-trade-no` and by `id`, close, refund
//!   create and query (`/v3/refund/domestic/refunds`), and `GET /v3/certificates` (encrypted with
//!   the APIv3 key).
//! - **H5 page**: `h5_url` is `{base_url}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=…&package=…`
//!   (WeChat's path and query on the simulator). `GET` shows the order with the payer page's
//!   actions (pay as a payer with a wallet, fail, let it expire), posted back to the same URL;
//!   then the payer is sent (`303`) to the `redirect_url` the merchant appended (urlencoded, as
//!   with WeChat), else to the `Referer` of the `GET`, else shown the result. A wrong `package`
//!   is `400`, an unknown `prepay_id` `404` (WeChat's "商家参数格式有误" page); acting on an
//!   order that is no longer open `409`. The real page's referer-domain check and the
//!   5-minute link lifetime are not simulated.
//! - **State machine**: `NOTPAY → USERPAYING → SUCCESS / CLOSED / REVOKED / PAYERROR`, expiry
//!   (`time_expire`, default 2 h) on the simulator clock, `SUCCESS → REFUND` after a refund.
//!   Refunds are partial and repeatable, never above what was paid
//!   ([`payagg_core::Money::check_refundable`]); the same `out_refund_no` is idempotent.
//!   Error codes: same `out_trade_no` with other parameters `403 OUT_TRADE_NO_USED`; prepay or
//!   close of a paid order `400 INVALID_REQUEST` ("该订单已支付"; the v3 code is undocumented, brief
//!   §11.1); prepay of a closed order `400 ORDER_CLOSED`; unknown order `404 ORDER_NOT_EXIST`
//!   (by `id`: also before payment); refund of an unknown or unpaid order `404
//!   RESOURCE_NOT_EXISTS`; refund above the remainder `400 INVALID_REQUEST`
//!   ("申请退款金额超过订单可退金额"); refund above the merchant balance (see
//!   [`MockServer::set_wechat_balance`]) `403 NOT_ENOUGH`; more than 50 refunds `403 RULE_LIMIT`.
//!   Refund creation answers `PROCESSING`; the refund settles at once (`SUCCESS` on query) and
//!   `REFUND.SUCCESS` is sent. [`MockServer::set_wechat_refund_outcome`] makes new refunds end
//!   `ABNORMAL` or `CLOSED` instead (with `REFUND.ABNORMAL` / `REFUND.CLOSED`; the amount is
//!   not counted as refunded), or stay `PROCESSING` until [`MockServer::settle_refund`].
//! - **Platform certificate rotation** ([`MockServer::rotate_wechat_platform_certificate`]): a
//!   new platform certificate becomes current and signs every answer whose request names no
//!   other key; the previous one still signs when named and stays listed by
//!   `/v3/certificates` for the overlap, so a client must refresh its certificates on the
//!   unknown serial.
//! - **Notifications**: `TRANSACTION.SUCCESS` and `REFUND.SUCCESS`, resource encrypted
//!   `AEAD_AES_256_GCM` under the APIv3 key, signed headers, WeChat's retry schedule
//!   (15 s, 15 s, 30 s, 3 min, 10 min, … 6 h; divided by [`MockConfig::time_scale`]), stopping
//!   on HTTP 200 or 204.
//!
//! ## Transfers (商家转账)
//!
//! `POST /v3/fund-app/mch-transfer/transfer-bills` checks the body as WeChat does (appid,
//! `out_bill_no` 1 to 32 letters and digits, remark ≤ 32 characters, the scene's report items:
//! scene `1000` needs 活动名称 and 奖励说明, `1005` 岗位类型 and 报酬说明, `user_name` from 2,000
//! yuan). `user_name` is decrypted (RSA-OAEP SHA-1) with the private key of the platform
//! certificate or public key that `Wechatpay-Serial` names, and compared with the payee's name
//! set by [`MockServer::set_wechat_payee_name`]: a different name makes the bill `FAIL`
//! (`NAME_NOT_CORRECT`). The amount is taken from the balance
//! ([`MockServer::set_wechat_balance`]; above it: `403 NOT_ENOUGH`, no bill). New bills wait
//! in `WAIT_USER_CONFIRM` (with `package_info`) until the payee confirms
//! ([`MockServer::confirm_transfer`] → `SUCCESS`) or it fails ([`MockServer::fail_transfer`]);
//! `…/out-bill-no/{no}/cancel` answers `CANCELING` and the bill is `CANCELLED`. Query by
//! `out-bill-no` or `transfer-bill-no` (`404 NOT_FOUND` otherwise; `user_name` encrypted for
//! the merchant's certificate). Every final state sends `MCHTRANSFER.BILL.FINISHED`
//! (`original_type` `mch_payment`) on the transfer schedule: at once, then 15 s ×10, 300 s ×10,
//! 1800 s ×44. The same `out_bill_no` with the same parameters answers the bill again; with
//! others `400 INVALID_REQUEST`.
//!
//! ## Bills
//!
//! `GET /v3/bill/tradebill?bill_date=YYYY-MM-DD[&bill_type=ALL|SUCCESS|REFUND][&sub_mchid=…][&tar_type=GZIP]`
//! and `GET /v3/bill/fundflowbill?bill_date=…[&account_type=BASIC|OPERATION|FEES][&tar_type=GZIP]`
//! build the file of that China-time business day from the simulator's own orders and refunds
//! and answer (signed) `{"hash_type":"SHA1","hash_value":…,"download_url":…}`: `hash_value` is
//! the SHA-1 of the **uncompressed** file, `download_url` points back at the simulator
//! (`/v3/billdownload/file?token=…[&tartype=gzip]`, valid 30 s on the simulator clock, signed
//! request, unsigned answer, gzip when asked). The file is WeChat's: UTF-8 with BOM, CRLF, a
//! plain header row, backtick-prefixed values, a summary header and values line; the ALL (27
//! columns), SUCCESS (20) and REFUND (29) layouts; 手续费 at 5 decimals from
//! [`WechatSetup::fee_rate_ppm`] (default 6000 = 0.60 %), negative on refund rows. The fund-flow
//! bill has 交易 / 扣除交易手续费 / 退款 / 退还交易手续费 rows with a running 账户结余. Rules: a day with
//! nothing answers `400 NO_STATEMENT_EXIST`; today or later `400 PARAM_ERROR`; yesterday before
//! 10:00 `400 STATEMENT_CREATING`; more than 92 days back `400 INVALID_REQUEST`. Reversed
//! payment-code orders do not appear.
//!
//! [`MockServer::inject_bill_discrepancy`] (or the control API) alters one day's trade bill for
//! reconciliation tests: [`BillDiscrepancy::MissingRow`], [`BillDiscrepancy::ChangedAmount`]
//! (+1.00), [`BillDiscrepancy::ExtraRow`] (a trade the simulator never saw) and
//! [`BillDiscrepancy::NextDayRow`]. The summary still adds up, so only reconciliation notices.
//!
//! ## Payment codes (APIv2)
//!
//! `POST /pay/micropay`, `/pay/orderquery` and `/secapi/pay/reverse` take and answer `<xml>`,
//! verify `sign` (MD5, or HMAC-SHA256 with `sign_type`) with the merchant's API v2 key
//! ([`WechatSetup::apiv2_key`], `wechat/apiv2_key.txt`) and sign every `return_code=SUCCESS`
//! answer the same way. A bad signature is `return_code=FAIL` `签名错误`. The reverse endpoint
//! does not check the client certificate (the simulator speaks plain HTTP). The payment code
//! (`auth_code`, 18 digits starting with 10 to 15) decides the outcome by its first digits:
//!
//! | `auth_code` starts with | micropay answers | then |
//! | --- | --- | --- |
//! | `1011` | `USERPAYING` | the payer enters the password: `SUCCESS` 10 s later on the simulator clock |
//! | `1012` | `USERPAYING` | held until a control call (`…/pay`, `…/fail`), a reverse, or the 45 s auto-revoke (`REVOKED`) |
//! | `1013` | `USERPAYING` | as `1012`, and the first reverse answers `SYSTEMERROR` with `recall=Y` |
//! | `1014` | `AUTHCODEEXPIRE` | no order is created |
//! | `1015` | `NOTENOUGH` | no order is created |
//! | `1016` | `SYSTEMERROR` | the payment did go through: a query finds `SUCCESS` |
//! | anything else | `SUCCESS` at once | |
//!
//! The same `out_trade_no` again answers `ORDERPAID`, `USERPAYING`, `ORDERREVERSED` or
//! `ORDERCLOSED` by the order's state (`OUT_TRADE_NO_USED` with other parameters). Reverse
//! revokes an unpaid order or returns a paid one's money (`recall=N`), answers
//! `REVERSE_EXPIRE` after 7 days and `ORDERNOTEXIST` for unknown orders. orderquery reports
//! `trade_state` for any WeChat order of the merchant.
//!
//! ## Alipay (`/gateway.do`, `/v3/alipay/…`)
//!
//! - **Request verification exactly as Alipay does**: RSA2 (SHA256withRSA) `sign` over every
//!   query and form parameter except `sign` and `sign_type`, sorted, `charset` honoured
//!   (UTF-8 or GBK); `timestamp` within the window ([`AlipaySetup`], `isv.invalid-timestamp`
//!   outside it); certificate mode checks `app_cert_sn` and `alipay_root_cert_sn`;
//!   `biz_content` may be AES-encrypted (`encrypt_type=AES`, [`AlipaySetup::aes_key`]). Bad
//!   signatures answer `isv.invalid-signature`. Protocol parameters may come in the query (the
//!   Java SDK) or the form body (the others).
//! - **Response signing**: each `{method}_response` node is signed with the Alipay key;
//!   certificate-mode requests also get `alipay_cert_sn`.
//! - **Methods**: `alipay.trade.precreate` (the `qr_code` is `{base_url}/alipay/qr/{trade_no}`:
//!   GET it to "scan", or use [`MockServer::scan`]), `alipay.trade.pay` (payment code),
//!   `alipay.trade.page.pay` / `wap.pay` / `app.pay` (the simulator's cashier page under
//!   `/alipay/cashier/{trade_no}`), `alipay.trade.query`, `.close`, `.cancel`, `.refund`,
//!   `alipay.trade.fastpay.refund.query`, `alipay.fund.trans.uni.transfer` and
//!   `alipay.fund.trans.common.query`, `alipay.data.dataservice.bill.downloadurl.query` (a ZIP
//!   of GBK CSVs built from the simulator's state) and `alipay.open.app.alipaycert.download`.
//! - **Error codes**: `ACQ.TRADE_HAS_SUCCESS`, `ACQ.TRADE_HAS_CLOSE`, `ACQ.TRADE_NOT_EXIST`,
//!   `ACQ.REFUND_AMT_NOT_EQUAL_TOTAL`, `ACQ.DISCORDANT_REPEAT_REQUEST`,
//!   `ACQ.CONTEXT_INCONSISTENT`, `ACQ.SELLER_BALANCE_NOT_ENOUGH` and the transfer
//!   `PAYER_BALANCE_NOT_ENOUGH` ([`MockServer::set_alipay_balance`]).
//! - **Notifications**: `trade_status_sync` forms signed with the Alipay key, retried on
//!   Alipay's schedule (4 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h; divided by
//!   [`MockConfig::time_scale`]) until the receiver answers `success`.
//! - **Payment codes** (`alipay.trade.pay`, `auth_code` of 16 to 24 digits starting with 25 to
//!   30, or a 37-character `fp…` face code). The first four digits decide:
//!
//! | `auth_code` starts with | answer | then |
//! | --- | --- | --- |
//! | `2811` | `10003` (`WAIT_BUYER_PAY`) | the payer enters the password: paid 10 s later on the simulator clock, and `trade_status_sync` (`TRADE_SUCCESS`) goes to the call's `notify_url` if it gave one |
//! | `2812` | `10003` | held until a control call (`…/pay`, `…/fail`), a cancel or expiry |
//! | `2813` | `10003` | as `2812`, and the first cancel answers `ACQ.SYSTEM_ERROR` with `retry_flag=Y` |
//! | `2814` | `ACQ.PAYMENT_AUTH_CODE_INVALID` (expired) | no trade is created |
//! | `2815` | `ACQ.BUYER_BALANCE_NOT_ENOUGH` | no trade is created |
//! | `2816` | `ACQ.SYSTEM_ERROR` | the payment did go through: a query finds `TRADE_SUCCESS` |
//! | anything else | `10000` paid at once | |
//!
//! - **v3 REST API** (`/v3/alipay/trade/{pay,precreate,query,close,cancel,refund}`,
//!   `…/trade/fastpay/refund/query`, `…/fund/trans/uni/transfer`, `…/fund/trans/common/query`,
//!   `…/data/dataservice/bill/downloadurl/query`): the `Authorization:
//!   ALIPAY-SHA256withRSA …` header checked (millisecond timestamp, certificate SNs), answers
//!   signed with `alipay-timestamp` / `alipay-nonce` / `alipay-signature`, over the same
//!   orders, refunds, transfers and bills as the classic gateway. A `nonce` the app already
//!   used is refused while the first request's timestamp window lasts (`401 invalid-nonce`;
//!   a request failing the signature check does not use its nonce up).
//!
//! Bill discrepancies: [`MockServer::inject_alipay_bill_discrepancy`] or
//! `POST /__mock/bills/alipay/discrepancies`, the same four kinds as WeChat's, applied to the
//! 业务明细 file (the summary and footers still add up).
//!
//! ## UnionPay (ACP 5.1.0, `/gateway/api/…`)
//!
//! - **Request verification**: `certId` must be the merchant signing certificate's decimal
//!   serial (from the PFX `init` writes, [`UnionpaySetup`]) and `signature` must verify
//!   (`signMethod=01`, RSA-SHA256), or the secure key for `signMethod=11` / `12`; failures
//!   answer the real `respCode`s. A request's own `txnTime` (consume, refund, cancel, file
//!   transfer; not a query's, which names the original) must be within 15 minutes of the
//!   simulator clock in Beijing time, else `respCode=10` `txnTime无效[txnTime][9100002]`
//!   (the official kits say only "must be the current time, or txnTime is invalid"; the window
//!   and the code are the simulator's choice).
//! - **Answer signing**: every answer and notification carries `signPubKeyCert`, a signer
//!   certificate (CN `041@…@中国银联股份有限公司@…`) chained to the simulator's own middle and
//!   root, which `init` writes as `acp_test_middle.cer` and `acp_test_root.cer`.
//! - **Transactions**: consume (`txnType=01`) for B2C (`bizType=000201`, `channelType` 07 or 08)
//!   and B2B corporate online banking (`000202`) through `frontTransReq.do` (an auto-posting
//!   form to the simulator's cashier under `/__mock/unionpay/cashier/…`), `appTransReq.do`
//!   (`tn`), refund (`04`) and cancel (`31`) through `backTransReq.do`, `queryTrans.do`
//!   (`origRespCode`; `05` while a B2B order waits for the approver), and the ZM settlement
//!   file through `fileTransfer` (`txnType=76`).
//! - **Payers**: the cashier's pay / fail buttons; B2B submit (awaiting approval) and
//!   approval: [`MockServer::unionpay_bank_submit`], [`MockServer::unionpay_confirm_b2b`] or
//!   `POST /__mock/unionpay/orders/{orderId}/confirm-b2b`; an app order by its `tn`, as the
//!   UnionPay app control would pay it: [`MockServer::unionpay_pay_tn`] or
//!   `POST /__mock/unionpay/app/{tn}/pay`. UnionPay has no payment codes in
//!   the simulator.
//! - **Notifications**: signed `backUrl` forms, retried after 1, 2, 4 and 5 minutes until the
//!   receiver answers HTTP 200 (or 302).
//! - Bill discrepancies: [`MockServer::inject_unionpay_bill_discrepancy`] or
//!   `POST /__mock/bills/unionpay/discrepancies`.
//!
//! ## Fault injection
//!
//! [`MockServer::faults`] takes [`FaultRule`]s: [`FaultKind`] (latency, HTTP status,
//! `SYSTEM_ERROR`, dropped connection, timeout, `WECHATPAY/SIGNTEST/` probe signature) × [`FaultScope`] (next N, per-mille, always),
//! optionally per channel and endpoint. WeChat endpoint names: `wechat.prepay`, `wechat.query`,
//! `wechat.close`, `wechat.refund`, `wechat.refund_query`, `wechat.certificates`,
//! `wechat.bill`, `wechat.bill_download`, `wechat.micropay`, `wechat.orderquery`,
//! `wechat.reverse`, `wechat.h5`, `wechat.other`. Alipay: `alipay.precreate`, `alipay.pay`,
//! `alipay.page_pay`, `alipay.query`, `alipay.close`, `alipay.cancel`, `alipay.refund`,
//! `alipay.refund_query`, `alipay.transfer`, `alipay.transfer_query`, `alipay.bill`,
//! `alipay.bill_download`, `alipay.cert_download`, `alipay.cashier`, `alipay.other` (the v3
//! REST paths use the same names; an unknown `/v3/alipay/…` path is `alipay.v3`).
//! UnionPay: `unionpay.front`, `unionpay.back`, `unionpay.app`, `unionpay.query`,
//! `unionpay.file`. The control API is never faulted. On the APIv2 endpoints
//! `SYSTEM_ERROR` is `return_code=FAIL`. Probes on notifications:
//! [`MockServer::probe_wechat_notifications`] signs the first attempt of the next N
//! notifications with a `WECHATPAY/SIGNTEST/…` value; the retries are signed properly.
//!
//! ## Control API
//!
//! Reserved prefix `/__mock/`; JSON in and out; the same operations exist as [`MockServer`]
//! methods.
//!
//! | method and path | body | effect |
//! | --- | --- | --- |
//! | `GET /__mock/health` | | `{"ok":true}` |
//! | `GET /__mock/orders` | | every order with its refunds |
//! | `POST /__mock/orders/{channel}/{out_trade_no}/pay` | `{"payer":"openid","wallet":"CMB_DEBIT"}` (both optional; a urlencoded form works too) | pay as a payer with a [`Wallet`] (`BALANCE`, `PCREDIT`, `{BANK}_DEBIT`, `{BANK}_CREDIT`; 400 for one the channel lacks); sends the payment notification ([`MockServer::pay_as`]) |
//! | `POST /__mock/scan` | `{"code_url":"weixin://wxpay/bizpayurl?pr=…","payer":"…","wallet":"…"}` (payer and wallet optional; a urlencoded form works too) | scan a merchant-presented QR code (WeChat Native `code_url` or Alipay `qr_code`) and pay its order ([`MockServer::scan_as`]) |
//! | `POST /__mock/orders/{channel}/{out_trade_no}/user-paying` | | `NOTPAY → USERPAYING` |
//! | `POST /__mock/orders/{channel}/{out_trade_no}/fail` | | `→ PAYERROR` |
//! | `POST /__mock/orders/{channel}/{out_trade_no}/expire` | | `→ CLOSED` now |
//! | `POST /__mock/orders/{channel}/{out_trade_no}/revoke` | | `→ REVOKED` |
//! | `GET /__mock/notifications` | | every delivery attempt |
//! | `POST /__mock/notifications/hold` | | hold new notifications |
//! | `POST /__mock/notifications/release` | `{"reversed":true}` | send held ones (reversed = out of order) |
//! | `POST /__mock/notifications/duplicates` | `{"count":1}` | send each notification `count` extra times |
//! | `POST /__mock/faults` | a [`FaultRule`], e.g. `{"fault":{"kind":"system_error"},"scope":{"next":2},"endpoint":"wechat.query"}` | add a fault |
//! | `GET /__mock/faults` / `DELETE /__mock/faults` | | how often each fired / clear |
//! | `GET /__mock/clock` | | `{"now":"…+08:00"}` |
//! | `POST /__mock/clock/advance` | `{"seconds":600}` | move the clock; expire orders |
//! | `GET /__mock/wechat/setup` | | base URL, mchid, appid, serials, public key and id |
//! | `POST /__mock/bills/wechat/discrepancies` | `{"date":"2024-05-20","kind":"missing_row"}` (`changed_amount`, `extra_row`, `next_day_row`) | alter that day's trade bill |
//! | `DELETE /__mock/bills/wechat/discrepancies` | | remove every injected discrepancy |
//! | `GET /__mock/transfers` | | every WeChat transfer bill |
//! | `POST /__mock/transfers/wechat/{out_bill_no}/confirm` | | the payee confirms: `SUCCESS` |
//! | `POST /__mock/transfers/wechat/{out_bill_no}/fail` | `{"reason":"PAYEE_ACCOUNT_ABNORMAL"}` (optional) | the transfer fails |
//! | `POST /__mock/wechat/payees` | `{"openid":"o…","name":"张三"}` | the payee's real name, checked against `user_name` |
//! | `POST /__mock/wechat/rotate-certificate` | `{"overlap_seconds":3600}` (optional) | new current platform certificate; `{"serial":…}` |
//! | `POST /__mock/wechat/signtest` | `{"notifications":1}` | probe signatures on the next notifications |
//! | `POST /__mock/wechat/refund-outcome` | `{"status":"abnormal"}` (`closed`, `processing`, `success`) | how new refunds end |
//! | `POST /__mock/refunds/wechat/{out_refund_no}/{success,closed,abnormal}` | | settle a processing refund; sends its notification |
//! | `GET /__mock/alipay/setup` | | gateway URL, app id, seller id, certificate SNs, Alipay public key and certificates |
//! | `POST /__mock/alipay/balance` | `{"fen":10000}` (`null`: unlimited) | the merchant's balance for refunds and transfers |
//! | `POST /__mock/bills/alipay/discrepancies` | as for WeChat | alter that day's Alipay trade bill |
//! | `DELETE /__mock/bills/alipay/discrepancies` | | remove them |
//! | `GET /__mock/unionpay/setup` | | merId, certId, the signer, middle and root certificates |
//! | `POST /__mock/unionpay/orders/{orderId}/confirm-b2b` | | the corporate approver confirms a B2B payment; sends the notification |
//! | `POST /__mock/unionpay/cashier/{orderId}/{submit,approve,pay,fail}` | | the cashier page's buttons (HTML answers) |
//! | `POST /__mock/unionpay/app/{tn}/pay` | `{"payer":"…","wallet":"CMB_CREDIT"}` (both optional) | what the UnionPay app control does with the `tn` `appTransReq.do` answered: the payer pays its order with that card and the backUrl notification is sent ([`MockServer::unionpay_pay_tn`]); 404 for an unknown `tn` |
//! | `POST /__mock/unionpay/app/{tn}/fail` | | the payment fails in the app control ([`MockServer::unionpay_fail_tn`]) |
//! | `POST /__mock/bills/unionpay/discrepancies` | as for WeChat | alter that settle date's ZM file |
//! | `DELETE /__mock/bills/unionpay/discrepancies` | | remove them |
//!
//! `{channel}` is `wechat`, `alipay` or `unionpay`; `{out_trade_no}` is the merchant's order
//! number (UnionPay `orderId`). Unknown orders answer 404, forbidden transitions 409.
//!
//! ## Payer's web page
//!
//! `GET /` is a plain HTML page (no scripts) listing the open orders of every channel, newest
//! first, with Pay (with a select of the channel's wallets), Fail and Expire buttons (and Scan
//! for orders with a QR code: WeChat Native, Alipay precreate; a link to the H5 page for WeChat
//! H5 orders), a form to scan any QR code URL
//! as a chosen payer and wallet, and the WeChat
//! transfer bills waiting for the payee, with Confirm and Fail buttons. Each is a form posting
//! to the control API (`/__mock/orders/{channel}/{out_trade_no}/{action}?return=/`,
//! `/__mock/scan?return=/`,
//! `/__mock/transfers/wechat/{out_bill_no}/{action}?return=/`); any control call with
//! `?return=/path` answers `303 See Other` back to that local path when it succeeds (errors
//! show as they are).
//!
//! ## Wire details
//!
//! The server speaks HTTP/1.1 on plain TCP and accepts absolute-form request lines
//! (`POST http://host:port/v3/… HTTP/1.1`, `POST http://host:port/gateway.do?… HTTP/1.1`), as
//! some official clients send. It listens on
//! loopback unless told otherwise.
//!
//! ## Security
//!
//! Test keys only. Generated private keys are written in clear to the `init` directory.
//! RSA private-key decryption (RUSTSEC-2023-0071) runs on request input in one place: the
//! transfer bill's `user_name`, decrypted with test keys only.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod alipay;
mod clients;
mod config;
mod error;
mod fault;
mod keys;
mod notify;
mod page;
mod server;
mod state;
mod unionpay;
mod wallet;
mod wechat;

pub use alipay::AlipaySetup;
pub use clients::{AlipayKeyMode, MockSleeper};
pub use config::{MockConfig, WechatSetup, WechatSigner};
pub use error::{MockError, MockErrorKind};
pub use fault::{FaultKind, FaultRule, FaultScope, Faults};
pub use notify::{Delivery, Notifier};
pub use server::MockServer;
pub use state::{Order, OrderStatus, RefundRecord, RefundStatus};
pub use unionpay::UnionpaySetup;
pub use wallet::{PayAs, UnknownWallet, Wallet};
pub use wechat::{BillDiscrepancy, TransferRecord};

/// The channels the simulator will serve.
pub const CHANNELS: [payagg_core::Channel; 3] = [
    payagg_core::Channel::Wechat,
    payagg_core::Channel::Alipay,
    payagg_core::Channel::Unionpay,
];
