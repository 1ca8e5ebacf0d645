//! The syntax of vpl: grammar, syntax tree, parser driver, literals and comments.
//! Knows nothing of meaning; `resolve` gives the tree its meaning.

pub mod ast;
pub mod comments;
pub mod dump;
pub mod errors;
mod grammar;
pub mod literal;
pub mod parse;
mod span;

pub use parse::{Mode, Parsed, parse};
pub use span::Span;
