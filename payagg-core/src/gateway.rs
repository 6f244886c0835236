//! The `Gateway` trait every channel client implements.

use std::collections::BTreeSet;
use std::fmt;

use async_trait::async_trait;

use crate::callback::{CallbackRequest, VerifiedCallback};
use crate::channel::Channel;
use crate::error::{Result, Unsupported};
use crate::pay::{PayRequest, PayResponse, SceneKind};
use crate::refund::{Refund, RefundQuery, RefundRequest};
use crate::statement::{Statement, StatementKind, StatementRequest};
use crate::trade::{CloseRequest, QueryRequest, Trade};
use crate::transfer::{Transfer, TransferRequest};

/// An operation of the [`Gateway`] trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// [`Gateway::pay`].
    Pay,
    /// [`Gateway::query`].
    Query,
    /// [`Gateway::close`].
    Close,
    /// [`Gateway::refund`].
    Refund,
    /// [`Gateway::query_refund`].
    QueryRefund,
    /// [`Gateway::transfer`].
    Transfer,
    /// [`Gateway::query_transfer`].
    QueryTransfer,
    /// [`Gateway::verify_callback`].
    VerifyCallback,
    /// [`Gateway::download_statement`].
    DownloadStatement,
}

impl Operation {
    /// Whether sending it twice has the same effect as once, so it may be retried
    /// automatically. Pay, refund and transfer never are.
    #[must_use]
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Operation::Query
                | Operation::Close
                | Operation::QueryRefund
                | Operation::QueryTransfer
                | Operation::DownloadStatement
                | Operation::VerifyCallback
        )
    }

    /// The name used in spans and errors.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Pay => "pay",
            Operation::Query => "query",
            Operation::Close => "close",
            Operation::Refund => "refund",
            Operation::QueryRefund => "query_refund",
            Operation::Transfer => "transfer",
            Operation::QueryTransfer => "query_transfer",
            Operation::VerifyCallback => "verify_callback",
            Operation::DownloadStatement => "download_statement",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a configured gateway can do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The channel.
    pub channel: Channel,
    /// Supported payment scenes.
    pub scenes: BTreeSet<SceneKind>,
    /// Supported operations.
    pub operations: BTreeSet<Operation>,
    /// Supported statement kinds.
    pub statements: BTreeSet<StatementKind>,
}

impl Capabilities {
    /// Capabilities of `channel`, listing what it supports.
    #[must_use]
    pub fn new(
        channel: Channel,
        scenes: impl IntoIterator<Item = SceneKind>,
        operations: impl IntoIterator<Item = Operation>,
        statements: impl IntoIterator<Item = StatementKind>,
    ) -> Self {
        Self {
            channel,
            scenes: scenes.into_iter().collect(),
            operations: operations.into_iter().collect(),
            statements: statements.into_iter().collect(),
        }
    }

    /// A typed error unless `scene` is supported.
    ///
    /// # Errors
    /// [`Unsupported`] naming the channel and scene.
    pub fn ensure_scene(&self, scene: SceneKind) -> Result<(), Unsupported> {
        if self.scenes.contains(&scene) {
            Ok(())
        } else {
            Err(Unsupported::new(self.channel, format!("the {scene} scene")))
        }
    }

    /// A typed error unless `op` is supported.
    ///
    /// # Errors
    /// [`Unsupported`] naming the channel and operation.
    pub fn ensure_operation(&self, op: Operation) -> Result<(), Unsupported> {
        if self.operations.contains(&op) {
            Ok(())
        } else {
            Err(Unsupported::new(
                self.channel,
                format!("the {op} operation"),
            ))
        }
    }

    /// A typed error unless statements of `kind` are supported.
    ///
    /// # Errors
    /// [`Unsupported`] naming the channel and statement kind.
    pub fn ensure_statement(&self, kind: StatementKind) -> Result<(), Unsupported> {
        if self.statements.contains(&kind) {
            Ok(())
        } else {
            Err(Unsupported::new(
                self.channel,
                format!("{kind:?} statements"),
            ))
        }
    }
}

/// One configured merchant at one channel, behind a uniform interface.
///
/// Object-safe: an application holds `Arc<dyn Gateway>` per merchant and routes at run time.
/// Operations a channel lacks return [`crate::Error::Unsupported`], never panic; ask
/// [`Gateway::capabilities`] first to avoid the round trip.
///
/// Writes (`pay`, `refund`, `transfer`) are never retried automatically. When they fail with
/// [`crate::Error::outcome_unknown`], query before sending the same request again.
#[async_trait]
pub trait Gateway: Send + Sync + fmt::Debug {
    /// The channel.
    fn channel(&self) -> Channel;

    /// What this gateway supports as configured.
    fn capabilities(&self) -> Capabilities;

    /// Whether `scene` is supported: a shorthand for [`Gateway::capabilities`].
    fn supports(&self, scene: SceneKind) -> bool {
        self.capabilities().scenes.contains(&scene)
    }

    /// Create a payment and say what the caller does next.
    async fn pay(&self, req: &PayRequest) -> Result<PayResponse>;

    /// Query a trade.
    async fn query(&self, req: &QueryRequest) -> Result<Trade>;

    /// Close an unpaid order.
    async fn close(&self, req: &CloseRequest) -> Result<()>;

    /// Refund all or part of a paid trade.
    async fn refund(&self, req: &RefundRequest) -> Result<Refund>;

    /// Query a refund.
    async fn query_refund(&self, req: &RefundQuery) -> Result<Refund>;

    /// Pay money out to a user.
    async fn transfer(&self, req: &TransferRequest) -> Result<Transfer>;

    /// Query a payout by the merchant's number.
    async fn query_transfer(
        &self,
        merchant_transfer_no: &crate::ids::MerchantTransferNo,
    ) -> Result<Transfer>;

    /// Verify (and decrypt) a notification; returns the event and the exact acknowledgement.
    async fn verify_callback(&self, req: &CallbackRequest) -> Result<VerifiedCallback>;

    /// Download, verify and decode a statement.
    async fn download_statement(&self, req: &StatementRequest) -> Result<Statement>;
}
