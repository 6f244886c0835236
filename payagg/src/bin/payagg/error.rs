//! The command's one error type: a message for finance and the exit code it maps to.

use std::fmt;
use std::path::Path;

/// Exit code when the month closes or a command succeeded.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code when the discrepancy is over the close threshold.
pub(crate) const EXIT_OVER_THRESHOLD: u8 = 1;
/// Exit code for unusable input: bad arguments, unreadable or malformed files.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;

/// What went wrong, already phrased for the person at the terminal.
#[derive(Debug)]
pub(crate) struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// Unusable input or arguments (exit 2).
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: EXIT_BAD_INPUT,
        }
    }

    /// A problem with one file (exit 2); `detail` should name the line where there is one.
    pub(crate) fn file(path: &Path, detail: impl fmt::Display) -> Self {
        Self::input(format!("{}: {detail}", path.display()))
    }

    /// A problem with one file, explained by a library error and its sources.
    pub(crate) fn file_error(path: &Path, e: &(dyn std::error::Error + 'static)) -> Self {
        Self::file(path, chain(e))
    }

    /// The reader of our output went away (`payagg … | head`): stop quietly.
    pub(crate) fn broken_pipe() -> Self {
        Self {
            message: String::new(),
            code: EXIT_OK,
        }
    }

    /// Whether there is nothing to say (see [`CliError::broken_pipe`]).
    pub(crate) fn is_silent(&self) -> bool {
        self.message.is_empty()
    }

    /// The exit code.
    pub(crate) fn code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An error and its sources on one line: `could not decode … at line 7: invalid digit`.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
