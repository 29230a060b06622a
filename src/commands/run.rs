//! `mkimage run`: map the command line onto [`crate::run`] and choose the
//! exit status (0: QEMU exited cleanly or SSH answered; 1: QEMU failed or
//! SSH never answered; 2: the image cannot be booted at all).

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::commands::UsageError;
use crate::run::{self, RunOptions, RunOutcome};

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let opts = RunOptions {
        image: args.image,
        port: args.port,
        memory_mib: args.memory,
        cpus: args.cpus,
        uefi: args.uefi,
        kvm: args.kvm,
        console: args.console,
        check: args.check,
        timeout: Duration::from_secs(args.timeout),
        dry_run: args.dry_run,
    };
    // An image that cannot be booted at all is a usage error (exit 2).
    run::image::detect(&opts.image).map_err(|e| UsageError(format!("{e:#}")))?;
    match run::run(&opts)? {
        RunOutcome::DryRun(line) => {
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
        RunOutcome::Answered(after) => {
            println!("boot-to-ssh: {:.1} s", after.as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        RunOutcome::Exited(status) if status.success() => Ok(ExitCode::SUCCESS),
        RunOutcome::Exited(status) => {
            anyhow::bail!("qemu-system-x86_64 exited with {status}")
        }
    }
}
