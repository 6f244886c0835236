//! Lenient deserializers: a string field that may arrive as a JSON number (amounts).

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNum {
    S(String),
    N(serde_json::Number),
}

impl StrOrNum {
    fn into_string(self) -> String {
        match self {
            Self::S(s) => s,
            Self::N(n) => n.to_string(),
        }
    }
}

/// A string, or a JSON number kept as its text.
///
/// # Errors
///
/// The deserializer's error if the value is neither.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(StrOrNum::deserialize(d)?.into_string())
}

/// An optional string, or a JSON number kept as its text.
///
/// # Errors
///
/// The deserializer's error if the value is neither (nor `null`).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<StrOrNum>::deserialize(d)?.map(StrOrNum::into_string))
}
