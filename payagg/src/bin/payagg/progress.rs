//! Progress bars on a terminal; nothing at all in pipes and files.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that exists only when standard error is a terminal.
#[derive(Debug)]
pub(crate) struct Progress(Option<ProgressBar>);

/// Files smaller than this finish before a bar would be worth drawing.
const MIN_BYTES: u64 = 8 << 20;

impl Progress {
    /// A bar over `len` bytes of the file `label`.
    pub(crate) fn bytes(len: u64, label: &str) -> Self {
        if len < MIN_BYTES || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_owned());
        Self(Some(bar))
    }

    /// A bar that counts but never draws (tests).
    #[cfg(test)]
    pub(crate) fn hidden(len: u64) -> Self {
        Self(Some(ProgressBar::with_draw_target(
            Some(len),
            ProgressDrawTarget::hidden(),
        )))
    }

    /// How far it got (`None` without a bar).
    #[cfg(test)]
    pub(crate) fn position(&self) -> Option<u64> {
        self.0.as_ref().map(ProgressBar::position)
    }

    pub(crate) fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// A line of news on standard error, only when it is a terminal.
pub(crate) fn note(msg: impl std::fmt::Display) {
    if std::io::stderr().is_terminal() {
        eprintln!("{msg}");
    }
}

/// A reader that advances a [`Progress`] by the bytes read through it.
#[derive(Debug)]
pub(crate) struct ProgressRead<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<'p, R> ProgressRead<'p, R> {
    pub(crate) fn new(inner: R, progress: &'p Progress) -> Self {
        Self { inner, progress }
    }
}

impl<R: std::io::Read> std::io::Read for ProgressRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(u64::try_from(n).unwrap_or(0));
        Ok(n)
    }
}
