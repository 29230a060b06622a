//! One function per subcommand: turns parsed arguments into calls on the
//! library and an exit status. Each subcommand lives in its own file.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod cat;
mod completions;
mod image;
mod ls;
mod makefs;
mod verify;

/// A subcommand that is not built yet: reported with exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not implemented yet")]
pub struct NotImplemented(pub &'static str);

/// Run the parsed command line. `Ok` carries the exit status the command
/// chose (e.g. 1 for `verify` findings); errors are printed by `main`.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Completions { shell } => completions::run(shell),
        Command::Netbsd(_) => Err(NotImplemented("netbsd").into()),
        Command::Freebsd(_) => Err(NotImplemented("freebsd").into()),
        Command::Build { .. } => Err(NotImplemented("build").into()),
        Command::Makefs(args) => makefs::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Ls { image, path } => ls::run(&image, &path),
        Command::Cat { image, path } => cat::run(&image, &path),
        Command::Fetch { .. } => Err(NotImplemented("fetch").into()),
        Command::Publish(_) => Err(NotImplemented("publish").into()),
        Command::Cache { .. } => Err(NotImplemented("cache").into()),
        Command::Run(_) => Err(NotImplemented("run").into()),
    }
}

/// Input the command cannot work with at all (unreadable image, bad
/// argument value): exit status 2, like a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
