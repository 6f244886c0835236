//! Field names, transaction codes, paths and the ZM file layout of UnionPay ACP 5.1.0.
//!
//! **Unstable: shared with `payagg-mock`.** The simulator reads what the client writes (and
//! the other way round) by these very names, so the two cannot drift apart. Not part of the
//! crate's semver promise.
//!
//! ACP messages are flat `k=v` maps ([`crate::qstring::Fields`]); there are no nested
//! structs, so the wire model is the set of names and codes below.

pub mod codes;
pub mod fields;
pub mod paths;
pub mod zm;
