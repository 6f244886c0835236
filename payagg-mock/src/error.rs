//! The simulator's own errors (start-up, configuration and control calls).

use std::fmt;

/// Why the simulator could not start, load its configuration, or carry out a control call.
#[derive(Debug)]
pub struct MockError {
    kind: MockErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What kind of failure a [`MockError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MockErrorKind {
    /// Binding, reading or writing failed.
    Io,
    /// A key, certificate or configuration file is missing or malformed.
    Config,
    /// A control call named an order or refund the simulator does not know.
    NotFound,
    /// A control call asked for a transition the state machine does not allow.
    InvalidTransition,
    /// A control call's input does not fit the channel (花呗 on WeChat, an unknown wallet).
    InvalidInput,
}

impl MockError {
    pub(crate) fn new(kind: MockErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn io(message: impl Into<String>, e: std::io::Error) -> Self {
        Self::new(MockErrorKind::Io, message).with_source(e)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(MockErrorKind::Config, message)
    }

    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> MockErrorKind {
        self.kind
    }
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
