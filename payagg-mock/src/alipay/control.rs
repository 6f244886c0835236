//! The Alipay control API (`/__mock/alipay/…`, `/__mock/bills/alipay/…`) and library calls.

use serde::Deserialize;
use serde_json::json;

use super::AlipaySim;
use crate::server::{MockResponse, MockServer, Shared};
use crate::{AlipaySetup, BillDiscrepancy};

#[derive(Debug, Deserialize)]
struct BalanceBody {
    fen: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct DiscrepancyBody {
    date: String,
    kind: BillDiscrepancy,
}

impl AlipaySim {
    /// `segs` after `/__mock`. `None` when not an Alipay control path.
    pub(crate) fn control(
        &self,
        _shared: &Shared,
        method: &http::Method,
        segs: &[&str],
        body: &[u8],
    ) -> Option<MockResponse> {
        let bad = |m: &str| MockResponse::json(400, &json!({"error": m}));
        Some(match (method.as_str(), segs) {
            ("GET", ["alipay", "setup"]) => {
                let s = &self.setup;
                MockResponse::json(
                    200,
                    &json!({
                        "base_url": self.base_url,
                        "gateway_url": format!("{}/gateway.do", self.base_url),
                        "app_id": s.app_id(),
                        "seller_id": s.seller_id(),
                        "app_cert_sn": s.app_cert_sn(),
                        "alipay_cert_sn": s.alipay_cert_sn(),
                        "alipay_root_cert_sn": s.root_cert_sn(),
                        "alipay_public_key": s.alipay_public_key_pem(),
                        "alipay_cert": s.alipay_cert_pem(),
                        "alipay_root_cert": s.root_cert_pem(),
                    }),
                )
            }
            ("POST", ["alipay", "balance"]) => match serde_json::from_slice::<BalanceBody>(body) {
                Ok(b) => {
                    self.lock().balance = b.fen;
                    MockResponse::json(200, &json!({"fen": b.fen}))
                }
                Err(e) => bad(&e.to_string()),
            },
            ("POST", ["bills", "alipay", "discrepancies"]) => {
                match serde_json::from_slice::<DiscrepancyBody>(body) {
                    Ok(b) => match crate::wechat::parse_date(&b.date) {
                        Some(d) => {
                            self.lock().bills.inject(d, b.kind);
                            MockResponse::json(200, &json!({"injected": b.kind, "date": b.date}))
                        }
                        None => bad("date must be YYYY-MM-DD"),
                    },
                    Err(e) => bad(&e.to_string()),
                }
            }
            ("DELETE", ["bills", "alipay", "discrepancies"]) => {
                self.lock().bills.clear();
                MockResponse::json(200, &json!({"cleared": true}))
            }
            _ => return None,
        })
    }
}

impl MockServer {
    /// The Alipay app and gateway keys (app id, app key, certificates and their SNs).
    #[must_use]
    pub fn alipay(&self) -> &AlipaySetup {
        &self.config().alipay
    }

    /// The Alipay gateway URL (`{base_url}/gateway.do`).
    #[must_use]
    pub fn alipay_gateway_url(&self) -> String {
        format!("{}/gateway.do", self.base_url())
    }

    /// Limit the Alipay merchant's balance for refunds and transfers to `fen` (`None`, the
    /// default, is unlimited). Above it: `ACQ.SELLER_BALANCE_NOT_ENOUGH` (refund, cancel) or
    /// `PAYER_BALANCE_NOT_ENOUGH` (transfer). Refunds and transfers draw it down.
    pub fn set_alipay_balance(&self, fen: Option<u64>) {
        self.alipay_sim().lock().balance = fen;
    }

    /// The Alipay merchant's remaining balance (`None`: unlimited).
    #[must_use]
    pub fn alipay_balance(&self) -> Option<u64> {
        self.alipay_sim().lock().balance
    }

    /// Inject `kind` into the Alipay trade bill of `date` (China-time day).
    pub fn inject_alipay_bill_discrepancy(&self, date: time::Date, kind: BillDiscrepancy) {
        self.alipay_sim().lock().bills.inject(date, kind);
    }

    /// Remove every injected Alipay bill discrepancy.
    pub fn clear_alipay_bill_discrepancies(&self) {
        self.alipay_sim().lock().bills.clear();
    }
}
