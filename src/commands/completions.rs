//! `mkimage completions SHELL`: print a completion script.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;

pub fn run(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "mkimage", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
