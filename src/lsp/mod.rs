//! `vplc lsp`: the language server. Editor requests → the engine's answers, on stdio.
//! Only this module knows the protocol's types, and only `server` and `convert` use them:
//! `engine` answers in plain types (documents by URI, positions in UTF-16 columns), so
//! tests drive it in process and any front end could wrap it.

mod convert;
pub mod engine;
pub mod framing;
mod server;

pub use server::serve;
