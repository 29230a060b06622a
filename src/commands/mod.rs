//! One function per subcommand: turns parsed arguments into calls on the
//! library and an exit status. Each subcommand lives in its own file.

use std::process::ExitCode;

use crate::cli::{Cli, Command, FetchOs};
use crate::recipe::Os;

mod build;
mod cache;
mod cat;
mod completions;
mod image;
mod ls;
mod makefs;
mod publish;
mod run;
mod verify;

/// Run the parsed command line. `Ok` carries the exit status the command
/// chose (e.g. 1 for `verify` findings); errors are printed by `main`.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Completions { shell } => completions::run(shell),
        Command::Netbsd(args) => build::run(Some(Os::Netbsd), None, &args),
        Command::Freebsd(args) => build::run(Some(Os::Freebsd), None, &args),
        Command::Build { recipe_file, args } => build::run(None, Some(&recipe_file), &args),
        Command::Makefs(args) => makefs::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Ls { image, path } => ls::run(&image, &path),
        Command::Cat { image, path } => cat::run(&image, &path),
        Command::Fetch { os } => match os {
            FetchOs::Netbsd(args) => build::fetch(Os::Netbsd, &args),
            FetchOs::Freebsd(args) => build::fetch(Os::Freebsd, &args),
        },
        Command::Publish(args) => publish::run(args),
        Command::Cache { action, cache_dir } => cache::run(action, cache_dir),
        Command::Run(args) => run::run(args),
    }
}

/// Input the command cannot work with at all (unreadable image, bad
/// argument value): exit status 2, like a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
