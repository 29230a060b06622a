//! `mkimage netbsd`, `mkimage freebsd`, `mkimage build RECIPE` and
//! `mkimage fetch`: resolve the request, then build (or only fetch).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::NotImplemented;
use crate::build::request::BuildRequest;
use crate::cli::BuildArgs;
use crate::progress;
use crate::recipe::Os;

/// Build an image for `os` (or for whatever `recipe` says).
pub fn run(os: Option<Os>, recipe: Option<&PathBuf>, args: &BuildArgs) -> Result<ExitCode> {
    let req = BuildRequest::from_args(os, recipe, args)?;
    match req.recipe.os {
        Os::Netbsd => {
            let report = crate::build::netbsd::build(&req)?;
            progress::info(format!(
                "wrote {} ({} sets, {} packages)",
                report.output.display(),
                report.sets.len(),
                report.packages.len()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Os::Freebsd => Err(NotImplemented("freebsd").into()),
    }
}

/// Fill the cache with what a build would use.
pub fn fetch(os: Os, args: &BuildArgs) -> Result<ExitCode> {
    let req = BuildRequest::from_args(Some(os), None, args)?;
    match req.recipe.os {
        Os::Netbsd => {
            let (sets, pkgs) = crate::build::netbsd::fetch_only(&req)?;
            progress::info(format!(
                "cached {} sets and {} packages",
                sets.len(),
                pkgs.map(|p| p.plan.len()).unwrap_or(0)
            ));
            Ok(ExitCode::SUCCESS)
        }
        Os::Freebsd => Err(NotImplemented("fetch freebsd").into()),
    }
}
