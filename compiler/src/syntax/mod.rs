//! The syntax of vpl: grammar, syntax tree, parser driver, literals and comments.
//! Knows nothing of meaning; `resolve` gives the tree its meaning.

pub mod ast;
pub mod comments;
pub mod dump;
pub mod errors;
mod grammar;
pub mod literal;
pub mod parse;

/// Spans live in `crate::span`, below both the syntax and the diagnostics.
pub use crate::span::Span;
pub use parse::{Mode, Parsed, parse};
