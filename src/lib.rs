//! `vplc`: the command line of vpl. It owns all IO: it reads files, implements the
//! compiler's `Host` with the filesystem, and writes diagnostics to the terminal.

pub mod cli;
pub mod commands;
pub mod host;
pub mod pages;
pub mod run;

use std::process::ExitCode;

use clap::Parser;

pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let status = commands::run(cli);
    ExitCode::from(status)
}
