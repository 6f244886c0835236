//! Personal data that must never reach a log.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Personal data (payer openid, buyer logon id, name, card fragment): usable, but redacted in
/// `Debug` and `Display` so it never lands in logs or tracing fields. Not a secret: no zeroize.
///
/// ```
/// use payagg_core::Sensitive;
///
/// let openid = Sensitive::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned());
/// assert_eq!(format!("{openid:?}"), "Sensitive(***)");
/// assert_eq!(openid.expose(), "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wrap a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }
    /// The value, for the code that has to send it.
    pub fn expose(&self) -> &T {
        &self.0
    }
    /// Unwrap.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(v: T) -> Self {
        Self(v)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(***)")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
