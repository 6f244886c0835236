//! The books held once, compactly: identifiers interned in one string arena, rows of fixed
//! size, and hash indexes that store 12 bytes per key plus a 4-byte chain link per row.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

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

    pub(crate) fn shrink(&mut self) {
        self.arena.shrink_to_fit();
        self.rows.shrink_to_fit();
    }
}

/// A u64 passes through unchanged (the keys are already SipHash outputs).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
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

/// Hash → first row, with rows chained through `next`.
#[derive(Debug)]
pub(crate) struct Index {
    heads: HashMap<u64, u32, BuildHasherDefault<IdHasher>>,
    next: Vec<u32>,
    sip: RandomState,
}

impl Index {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            heads: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            next: Vec::with_capacity(n),
            sip: RandomState::new(),
        }
    }

    fn hash(&self, ns: Ns, key: &str) -> u64 {
        self.sip.hash_one((ns as u8, key))
    }

    /// Find the row whose key (read through `key_of`) equals `key`.
    pub(crate) fn find<'s>(
        &self,
        ns: Ns,
        key: &str,
        key_of: impl Fn(u32) -> Option<(Ns, &'s str)>,
    ) -> Option<u32> {
        let mut at = *self.heads.get(&self.hash(ns, key))?;
        while at != NONE {
            if key_of(at) == Some((ns, key)) {
                return Some(at);
            }
            at = self.next.get(at as usize).copied().unwrap_or(NONE);
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
        let mut at = *self.heads.get(&self.hash(ns, key))?;
        let mut first = None;
        while at != NONE {
            if key_of(at) == Some((ns, key)) && pick(at) {
                first = Some(at);
            }
            at = self.next.get(at as usize).copied().unwrap_or(NONE);
        }
        first
    }

    /// Insert row `id` under `key` even when rows with an equal key exist (see
    /// [`Index::find_first`]).
    pub(crate) fn push(&mut self, id: u32, ns: Ns, key: &str) {
        if self.next.len() <= id as usize {
            self.next.resize(id as usize + 1, NONE);
        }
        let h = self.hash(ns, key);
        let prev = self.heads.insert(h, id).unwrap_or(NONE);
        self.next[id as usize] = prev;
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
        if let Some(existing) = self.find(ns, key, key_of) {
            return Some(existing);
        }
        let h = self.hash(ns, key);
        let prev = self.heads.insert(h, id).unwrap_or(NONE);
        self.next[id as usize] = prev;
        None
    }
}
