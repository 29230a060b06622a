//! The `mkimage` binary: parse the command line, run it, print errors for
//! people and choose the exit status (0 ok, 1 failure or findings, 2 usage,
//! unreadable input).

use std::process::ExitCode;

use clap::Parser;

use mkimage::cli::Cli;
use mkimage::commands;
use mkimage::progress::{self, Verbosity};

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::init(if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    });
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("mkimage: {err:#}");
            if err.downcast_ref::<commands::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
