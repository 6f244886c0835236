//! The books held once, compactly: identifiers interned in one string arena, rows of fixed
//! size, and hash indexes that store 16 bytes per distinct key hash (in a table at most half
//! full) plus a 4-byte chain link per row.

use std::hash::{BuildHasher, RandomState};

use time::OffsetDateTime;

use super::book::{BookEntry, BookKind, BookStatus, ExpectedFee};
use crate::channel::Channel;
use crate::error::{Error, Result};
use crate::money::Money;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Span {
    off: u32,
    len: u32,
}

impl Span {
    const ABSENT: Span = Span { off: 0, len: NONE };
}

/// One book row without its strings.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    order: Span,
    refund: Span,
    chref: Span,
    pub(crate) kind: BookKind,
    pub(crate) amount: Money,
    pub(crate) status: BookStatus,
    pub(crate) occurred_at: OffsetDateTime,
    pub(crate) channel: Option<Channel>,
    pub(crate) expected_fee: Option<ExpectedFee>,
    pub(crate) source_line: u64,
}

/// The books, interned.
#[derive(Debug, Default)]
pub(crate) struct BookStore {
    arena: String,
    rows: Vec<Row>,
}

impl BookStore {
    fn intern(&mut self, s: Option<&str>) -> Result<Span> {
        let Some(s) = s else {
            return Ok(Span::ABSENT);
        };
        let off = u32::try_from(self.arena.len())
            .map_err(|_| Error::decode("books: more than 4 GiB of identifiers"))?;
        let len = u32::try_from(s.len())
            .ok()
            .filter(|&l| l != NONE)
            .ok_or_else(|| Error::decode("books: identifier too long"))?;
        self.arena.push_str(s);
        Ok(Span { off, len })
    }

    fn get(&self, s: Span) -> Option<&str> {
        if s.len == NONE {
            return None;
        }
        let start = s.off as usize;
        self.arena.get(start..start + s.len as usize)
    }

    pub(crate) fn push(&mut self, e: BookEntry) -> Result<u32> {
        let id = u32::try_from(self.rows.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or_else(|| Error::decode("books: more than 4 billion entries"))?;
        let order = self.intern(Some(&e.merchant_order_no))?;
        let refund = self.intern(e.merchant_refund_no.as_deref())?;
        let chref = self.intern(e.channel_ref.as_deref())?;
        self.rows.push(Row {
            order,
            refund,
            chref,
            kind: e.kind,
            amount: e.amount,
            status: e.status,
            occurred_at: e.occurred_at,
            channel: e.channel,
            expected_fee: e.expected_fee,
            source_line: e.source_line,
        });
        Ok(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(crate) fn row(&self, id: u32) -> &Row {
        &self.rows[id as usize]
    }

    pub(crate) fn order_no(&self, id: u32) -> &str {
        self.get(self.rows[id as usize].order).unwrap_or("")
    }

    pub(crate) fn refund_no(&self, id: u32) -> Option<&str> {
        self.get(self.rows[id as usize].refund)
    }

    pub(crate) fn channel_ref(&self, id: u32) -> Option<&str> {
        self.get(self.rows[id as usize].chref)
    }

    /// The merchant key and its namespace: the order number of a payment, the refund number
    /// of a refund, and the order number of a refund booked without a refund number
    /// ([`Ns::RefundOrder`], a key many rows share).
    pub(crate) fn merchant_key(&self, id: u32) -> (Ns, &str) {
        let r = &self.rows[id as usize];
        match (r.kind, self.get(r.refund)) {
            (BookKind::Refund, Some(no)) => (Ns::RefundNo, no),
            (BookKind::Refund, None) => (Ns::RefundOrder, self.get(r.order).unwrap_or("")),
            (BookKind::Payment, _) => (Ns::PaymentOrder, self.get(r.order).unwrap_or("")),
        }
    }

    /// [`BookStore::merchant_key`] of an entry not pushed yet.
    pub(crate) fn entry_key(e: &BookEntry) -> (Ns, &str) {
        match (e.kind, e.merchant_refund_no.as_deref()) {
            (BookKind::Refund, Some(no)) => (Ns::RefundNo, no),
            (BookKind::Refund, None) => (Ns::RefundOrder, &e.merchant_order_no),
            (BookKind::Payment, _) => (Ns::PaymentOrder, &e.merchant_order_no),
        }
    }

    pub(crate) fn shrink(&mut self) {
        self.arena.shrink_to_fit();
        self.rows.shrink_to_fit();
    }
}

/// Key namespaces: a payment's order number never matches a refund number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ns {
    PaymentOrder = 0,
    RefundNo = 1,
    PaymentChannel = 2,
    RefundChannel = 3,
    /// Refunds booked without a refund number, by order number (many rows per key).
    RefundOrder = 4,
}

/// How many keys [`Index::warm`] takes at a time.
pub(crate) const WARM_BATCH: usize = 32;

/// One slot of [`Index`]: a full key hash and the newest row with that hash (`NONE`:
/// empty).
#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    id: u32,
}

const EMPTY: Slot = Slot { hash: 0, id: NONE };

/// Hash → newest row, with the rows of one hash chained (newest first) through `next`.
///
/// An open-addressing table (linear probing, at most half full) of 16-byte slots, one per
/// distinct 64-bit SipHash: a lookup costs one random cache line, where a general hash map
/// costs two (control bytes, then the bucket). Keys are compared through the caller's
/// `key_of` along the chain, so equal hashes of different keys stay apart.
#[derive(Debug)]
pub(crate) struct Index {
    slots: Vec<Slot>,
    used: usize,
    next: Vec<u32>,
    sip: RandomState,
}

impl Index {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            slots: vec![EMPTY; n.saturating_mul(2).max(16).next_power_of_two()],
            used: 0,
            next: Vec::with_capacity(n),
            sip: RandomState::new(),
        }
    }

    fn hash(&self, ns: Ns, key: &str) -> u64 {
        self.sip.hash_one((ns as u8, key))
    }

    /// Bring the home slots of `keys` into the cache, all at once: the loads do not depend
    /// on each other, so the processor overlaps their cache misses, where lookups one by
    /// one would wait for each in turn. Returns a value only so the loads are not elided.
    pub(crate) fn warm<'k>(&self, keys: impl Iterator<Item = (Ns, &'k str)>) -> u64 {
        let mut hashes = [0u64; WARM_BATCH];
        let mut n = 0;
        for (k, h) in keys.zip(hashes.iter_mut()) {
            *h = self.hash(k.0, k.1);
            n += 1;
        }
        let mask = self.slots.len() - 1;
        let mut acc = 0;
        for &h in &hashes[..n] {
            #[allow(clippy::cast_possible_truncation)]
            let at = (h as usize) & mask;
            acc ^= self.slots[at].hash;
        }
        acc
    }

    /// The slot holding `hash`, or the empty slot where it would go.
    fn slot(&self, hash: u64) -> usize {
        let mask = self.slots.len() - 1;
        // The low bits pick the slot; SipHash output is uniform in every bit.
        #[allow(clippy::cast_possible_truncation)]
        let mut at = (hash as usize) & mask;
        loop {
            let s = self.slots[at];
            if s.id == NONE || s.hash == hash {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// The newest row hashed like `key`, or `NONE`.
    fn head(&self, ns: Ns, key: &str) -> (u64, usize, u32) {
        let hash = self.hash(ns, key);
        let at = self.slot(hash);
        (hash, at, self.slots[at].id)
    }

    fn next_of(&self, id: u32) -> u32 {
        self.next.get(id as usize).copied().unwrap_or(NONE)
    }

    /// Find the row whose key (read through `key_of`) equals `key`: the newest.
    pub(crate) fn find<'s>(
        &self,
        ns: Ns,
        key: &str,
        key_of: impl Fn(u32) -> Option<(Ns, &'s str)>,
    ) -> Option<u32> {
        let (_, _, mut at) = self.head(ns, key);
        while at != NONE {
            if key_of(at) == Some((ns, key)) {
                return Some(at);
            }
            at = self.next_of(at);
        }
        None
    }

    /// Rows with key `key` (read through `key_of`) for which `pick` holds: the first in
    /// insertion order.
    pub(crate) fn find_first<'s>(
        &self,
        ns: Ns,
        key: &str,
        key_of: impl Fn(u32) -> Option<(Ns, &'s str)>,
        mut pick: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        let (_, _, mut at) = self.head(ns, key);
        let mut first = None;
        while at != NONE {
            if key_of(at) == Some((ns, key)) && pick(at) {
                first = Some(at);
            }
            at = self.next_of(at);
        }
        first
    }

    /// Double the table when one more hash would make it more than half full.
    fn reserve_one(&mut self) {
        if (self.used + 1) * 2 <= self.slots.len() {
            return;
        }
        let grown = vec![EMPTY; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, grown);
        for s in old.into_iter().filter(|s| s.id != NONE) {
            let at = self.slot(s.hash);
            self.slots[at] = s;
        }
    }

    /// Make row `id` the newest under `hash` in slot `at`.
    fn link(&mut self, at: usize, hash: u64, id: u32) {
        let prev = self.slots[at].id;
        if prev == NONE {
            self.used += 1;
        }
        self.slots[at] = Slot { hash, id };
        if self.next.len() <= id as usize {
            self.next.resize(id as usize + 1, NONE);
        }
        self.next[id as usize] = prev;
    }

    /// Insert row `id` under `key` even when rows with an equal key exist (see
    /// [`Index::find_first`]).
    pub(crate) fn push(&mut self, id: u32, ns: Ns, key: &str) {
        self.reserve_one();
        let (hash, at, _) = self.head(ns, key);
        self.link(at, hash, id);
    }

    /// Insert row `id` under `key` unless a row with an equal key exists; returns that row.
    pub(crate) fn insert<'s>(
        &mut self,
        id: u32,
        ns: Ns,
        key: &str,
        key_of: impl Fn(u32) -> Option<(Ns, &'s str)>,
    ) -> Option<u32> {
        if self.next.len() <= id as usize {
            self.next.resize(id as usize + 1, NONE);
        }
        self.reserve_one();
        let (hash, at, mut row) = self.head(ns, key);
        while row != NONE {
            if key_of(row) == Some((ns, key)) {
                return Some(row);
            }
            row = self.next_of(row);
        }
        self.link(at, hash, id);
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn index_finds_inserts_and_chains_through_growth() {
        let keys: Vec<String> = (0..5000).map(|i| format!("K{}", i % 4000)).collect();
        let key_of = |i: u32| Some((Ns::PaymentOrder, keys[i as usize].as_str()));
        let mut ix = Index::with_capacity(0);
        for (i, k) in keys.iter().enumerate() {
            let id = u32::try_from(i).unwrap();
            let dup = ix.insert(id, Ns::PaymentOrder, k, key_of);
            assert_eq!(dup, (i >= 4000).then(|| id - 4000), "{k}");
        }
        for (i, k) in keys.iter().enumerate().take(4000) {
            assert_eq!(
                ix.find(Ns::PaymentOrder, k, key_of),
                Some(u32::try_from(i).unwrap())
            );
            assert_eq!(ix.find(Ns::RefundNo, k, key_of), None);
        }
        assert_eq!(ix.find(Ns::PaymentOrder, "K4000", key_of), None);

        let orders = ["O1", "O2", "O1", "O1", "O3", "O2"];
        let key_of = |i: u32| Some((Ns::RefundOrder, orders[i as usize]));
        let mut ix = Index::with_capacity(0);
        for (i, k) in orders.iter().enumerate() {
            ix.push(u32::try_from(i).unwrap(), Ns::RefundOrder, k);
        }
        assert_eq!(ix.find(Ns::RefundOrder, "O1", key_of), Some(3));
        assert_eq!(
            ix.find_first(Ns::RefundOrder, "O1", key_of, |_| true),
            Some(0)
        );
        assert_eq!(
            ix.find_first(Ns::RefundOrder, "O1", key_of, |i| i != 0),
            Some(2)
        );
        assert_eq!(
            ix.find_first(Ns::RefundOrder, "O2", key_of, |i| i == 5),
            Some(5)
        );
        assert_eq!(
            ix.find_first(Ns::RefundOrder, "O3", key_of, |_| false),
            None
        );
        assert_eq!(ix.find(Ns::RefundOrder, "O4", key_of), None);
    }
}
