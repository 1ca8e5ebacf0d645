//! `vplc`: the command line of vpl. It owns all IO: it reads files, implements the
//! compiler's `Host` with the filesystem, and writes diagnostics to the terminal.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod control;
pub mod deploy;
pub mod engines;
pub mod github;
pub mod host;
pub mod import;
pub mod live;
pub mod log;
pub mod lsp;
pub mod metrics;
pub mod output;
pub mod pages;
pub mod reference;
pub mod run;
pub mod sarif;
pub mod shard;
pub mod signals;
pub mod stats;

use std::process::ExitCode;

use clap::Parser;

pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let status = commands::run(cli);
    ExitCode::from(status)
}
