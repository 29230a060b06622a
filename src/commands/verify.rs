//! `mkimage verify IMAGE`: the fsck-grade check; exit 0 clean, 1 with
//! findings (one per line), 2 when the image cannot be read as FFS.

use std::process::ExitCode;

use anyhow::Result;

use super::UsageError;
use super::image::open_root_fs;
use crate::cli::VerifyArgs;
use crate::fs::ffs;
use crate::progress;

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let dev = open_root_fs(&args.image).map_err(|e| UsageError(format!("{e:#}")))?;
    let findings =
        ffs::check(dev).map_err(|e| UsageError(format!("{}: {e}", args.image.display())))?;
    if findings.is_empty() {
        progress::info(format!("{}: clean", args.image.display()));
        return Ok(ExitCode::SUCCESS);
    }
    for f in &findings {
        println!("{f}");
    }
    progress::warn(format!(
        "{}: {} finding(s)",
        args.image.display(),
        findings.len()
    ));
    Ok(ExitCode::from(1))
}
