//! The shared, channel-agnostic state: orders and their refunds.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use payagg_core::{Channel, Money};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{MockError, MockErrorKind};

/// Where an order stands. Channels map these to their own names (WeChat: `NOTPAY`,
/// `USERPAYING`, `SUCCESS`/`REFUND`, `CLOSED`, `REVOKED`, `PAYERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderStatus {
    /// Created, not paid yet.
    NotPaid,
    /// The payer is confirming (entering a password).
    UserPaying,
    /// Paid.
    Success,
    /// Closed by the merchant or by expiry.
    Closed,
    /// Revoked (payment-code orders).
    Revoked,
    /// The payment failed.
    PayError,
}

impl OrderStatus {
    /// Whether a payer can still act on the order.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::NotPaid | OrderStatus::UserPaying)
    }
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted, not settled.
    Processing,
    /// Money returned.
    Success,
    /// Closed without returning money.
    Closed,
    /// Failed at the payer's side (account frozen or closed).
    Abnormal,
}

/// A refund of an order.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RefundRecord {
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// The channel's refund number.
    pub refund_id: String,
    /// The refunded amount.
    pub amount: Money,
    /// Where the refund stands.
    pub status: RefundStatus,
    /// When it was created (simulator clock).
    pub created_at: OffsetDateTime,
    /// When it succeeded.
    pub success_at: Option<OffsetDateTime>,
    /// Where its notification goes.
    pub notify_url: Option<String>,
    /// The merchant's reason text.
    pub reason: Option<String>,
}

/// An order at a simulated channel.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Order {
    /// The channel.
    pub channel: Channel,
    /// The merchant it belongs to (`mchid`, or `sp_mchid/sub_mchid` for partner orders).
    pub merchant: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The channel's trade number (assigned at creation; WeChat reveals it once paid).
    pub transaction_id: String,
    /// The order total.
    pub amount: Money,
    /// Where it stands.
    pub status: OrderStatus,
    /// The channel's product or trade type (WeChat: `NATIVE`, `JSAPI`, `APP`, `MWEB`).
    pub trade_type: String,
    /// The goods description.
    pub description: String,
    /// Where payment notifications go.
    pub notify_url: Option<String>,
    /// Merchant data echoed back.
    pub attach: Option<String>,
    /// When it was created (simulator clock).
    pub created_at: OffsetDateTime,
    /// When it closes unless paid.
    pub expire_at: OffsetDateTime,
    /// When it was paid.
    pub paid_at: Option<OffsetDateTime>,
    /// The payer's id (WeChat openid).
    pub payer: Option<String>,
    /// What the payer paid with (meaningful once paid; [`crate::Wallet::Balance`] before).
    pub wallet: crate::Wallet,
    /// The pay-side result handed back at creation (prepay id, code URL...).
    pub prepay: serde_json::Value,
    /// Channel-specific fields (app ids, sub-merchant...).
    pub extra: serde_json::Value,
    /// Refunds, oldest first.
    pub refunds: Vec<RefundRecord>,
    /// A digest of the creation parameters, to detect a reused order number.
    #[serde(skip)]
    pub(crate) fingerprint: String,
    /// Payment codes: when the payer finishes entering the password (`USERPAYING → SUCCESS`).
    #[serde(skip)]
    pub(crate) auto_pay_at: Option<OffsetDateTime>,
    /// Payment codes: how many reversals still answer `recall=Y`.
    #[serde(skip)]
    pub(crate) reverse_recalls: u32,
}

impl Order {
    /// The total of refunds that succeeded or are in progress.
    #[must_use]
    pub fn refunded(&self) -> Money {
        self.refunds
            .iter()
            .filter(|r| matches!(r.status, RefundStatus::Processing | RefundStatus::Success))
            .fold(Money::zero(self.amount.currency()), |acc, r| {
                acc.checked_add(r.amount).unwrap_or(acc)
            })
    }
}

type Key = (Channel, String, String);

/// Advance an order along the simulator clock: a payer who finished entering the password
/// has paid; an open order past its expiry closes (a payment-code order is revoked, as
/// WeChat revokes unpaid payment-code orders after 45 s). Returns whether the payer's
/// password completed the payment just now.
fn settle(o: &mut Order, now: OffsetDateTime) -> bool {
    let mut paid = false;
    if o.status == OrderStatus::UserPaying
        && let Some(at) = o.auto_pay_at.filter(|t| *t <= now && *t <= o.expire_at)
    {
        o.status = OrderStatus::Success;
        o.paid_at = Some(at);
        o.auto_pay_at = None;
        paid = true;
    }
    if o.status.is_open() && o.expire_at <= now {
        o.status = if o.trade_type == "MICROPAY" {
            OrderStatus::Revoked
        } else {
            OrderStatus::Closed
        };
    }
    paid
}

/// Called (outside the order-book lock) with each order whose payer finished entering the
/// password, as the clock reached it: the server sends its payment notification.
type PaidHook = Box<dyn Fn(&Order) + Send + Sync>;

#[derive(Default)]
struct OnPasswordPaid(OnceLock<PaidHook>);

impl std::fmt::Debug for OnPasswordPaid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "OnPasswordPaid(set)"
        } else {
            "OnPasswordPaid(unset)"
        })
    }
}

/// The order book, keyed by channel, merchant and order number.
#[derive(Debug, Default)]
pub(crate) struct Store {
    orders: Mutex<BTreeMap<Key, Order>>,
    seq: std::sync::atomic::AtomicU64,
    on_password_paid: OnPasswordPaid,
}

impl Store {
    /// The next value of a process-wide sequence, for channel ids.
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Order>> {
        self.orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What to do with an order whose payer finished entering the password (set once, by
    /// the server; later calls are ignored).
    pub(crate) fn on_password_paid(&self, hook: impl Fn(&Order) + Send + Sync + 'static) {
        let _ = self.on_password_paid.0.set(Box::new(hook));
    }

    fn password_paid(&self, paid: Vec<Order>) {
        if let Some(hook) = self.on_password_paid.0.get() {
            for o in &paid {
                hook(o);
            }
        }
    }

    /// Settle scripted payments due and close every open order whose expiry has passed.
    pub(crate) fn expire(&self, now: OffsetDateTime) {
        let mut paid = Vec::new();
        for o in self.lock().values_mut() {
            if settle(o, now) {
                paid.push(o.clone());
            }
        }
        self.password_paid(paid);
    }

    /// Run `f` on the map while holding the lock. Every order the book hands out is settled
    /// at `now` first; the others are not touched (a sweep of every order here made each
    /// request O(orders) under the one lock: throughput fell as orders piled up under load).
    /// [`Store::expire`] still settles them all, for listings and statements.
    pub(crate) fn with<R>(
        &self,
        now: OffsetDateTime,
        f: impl FnOnce(&mut OrderBook<'_>) -> R,
    ) -> R {
        let mut paid = Vec::new();
        let r = {
            let mut g = self.lock();
            f(&mut OrderBook {
                map: &mut g,
                now,
                paid: &mut paid,
            })
        };
        self.password_paid(paid);
        r
    }

    /// A snapshot of every order.
    #[must_use]
    pub(crate) fn orders(&self) -> Vec<Order> {
        self.lock().values().cloned().collect()
    }
}

/// A locked view of the order book; every order it returns is settled at `now`.
pub(crate) struct OrderBook<'a> {
    map: &'a mut BTreeMap<Key, Order>,
    now: OffsetDateTime,
    /// Orders the payer's password completed while settling, as they were then.
    paid: &'a mut Vec<Order>,
}

fn settled<'o>(o: &'o mut Order, now: OffsetDateTime, paid: &mut Vec<Order>) -> &'o mut Order {
    if settle(o, now) {
        paid.push(o.clone());
    }
    o
}

impl OrderBook<'_> {
    pub(crate) fn get_mut(
        &mut self,
        channel: Channel,
        merchant: &str,
        out_trade_no: &str,
    ) -> Option<&mut Order> {
        let now = self.now;
        self.map
            .get_mut(&(channel, merchant.to_owned(), out_trade_no.to_owned()))
            .map(|o| settled(o, now, self.paid))
    }

    pub(crate) fn by_transaction_id(
        &mut self,
        channel: Channel,
        merchant: &str,
        id: &str,
    ) -> Option<&mut Order> {
        let now = self.now;
        self.map
            .values_mut()
            .find(|o| o.channel == channel && o.merchant == merchant && o.transaction_id == id)
            .map(|o| settled(o, now, self.paid))
    }

    pub(crate) fn by_out_refund_no(
        &mut self,
        channel: Channel,
        merchant: &str,
        no: &str,
    ) -> Option<&mut Order> {
        let now = self.now;
        self.map
            .values_mut()
            .find(|o| {
                o.channel == channel
                    && o.merchant == merchant
                    && o.refunds.iter().any(|r| r.out_refund_no == no)
            })
            .map(|o| settled(o, now, self.paid))
    }

    /// Any merchant's order with this number (control calls).
    pub(crate) fn find_any(
        &mut self,
        channel: Channel,
        out_trade_no: &str,
    ) -> Result<&mut Order, MockError> {
        let now = self.now;
        self.map
            .values_mut()
            .find(|o| o.channel == channel && o.out_trade_no == out_trade_no)
            .map(|o| settled(o, now, self.paid))
            .ok_or_else(|| {
                MockError::new(
                    MockErrorKind::NotFound,
                    format!("no {channel} order {out_trade_no}"),
                )
            })
    }

    /// Any merchant's order holding the refund `out_refund_no` (control calls).
    pub(crate) fn find_refund_any(
        &mut self,
        channel: Channel,
        out_refund_no: &str,
    ) -> Result<&mut Order, MockError> {
        let now = self.now;
        self.map
            .values_mut()
            .find(|o| {
                o.channel == channel && o.refunds.iter().any(|r| r.out_refund_no == out_refund_no)
            })
            .map(|o| settled(o, now, self.paid))
            .ok_or_else(|| {
                MockError::new(
                    MockErrorKind::NotFound,
                    format!("no {channel} refund {out_refund_no}"),
                )
            })
    }

    pub(crate) fn insert(&mut self, order: Order) {
        self.map.insert(
            (
                order.channel,
                order.merchant.clone(),
                order.out_trade_no.clone(),
            ),
            order,
        );
    }
}
