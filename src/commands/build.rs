//! `mkimage netbsd`, `mkimage freebsd`, `mkimage build RECIPE` and
//! `mkimage fetch`: resolve the request, then build (or only fetch).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::build::pipeline::BuildReport;
use crate::build::request::BuildRequest;
use crate::cli::BuildArgs;
use crate::progress;
use crate::recipe::Os;

/// Build an image for `os` (or for whatever `recipe` says).
pub fn run(os: Option<Os>, recipe: Option<&PathBuf>, args: &BuildArgs) -> Result<ExitCode> {
    let req = BuildRequest::from_args(os, recipe, args)?;
    let os = req.recipe.os;
    if args.print_inputs_digest {
        let digest = match os {
            Os::Netbsd => crate::build::netbsd::inputs_digest(&req)?,
            Os::Freebsd => crate::build::freebsd::inputs_digest(&req)?,
        };
        println!("{digest}");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = &args.functions_out {
        let text = match os {
            Os::Netbsd => crate::os::netbsd::functions::functions_file(&req.recipe.arch)?,
            Os::Freebsd => crate::os::freebsd::functions::functions_file(&req.recipe.arch)?,
        };
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let report = match os {
        Os::Netbsd => crate::build::netbsd::build(&req)?,
        Os::Freebsd => crate::build::freebsd::build(&req)?,
    };
    if let Some(path) = &args.manifest_out {
        write_manifest(path, &req, &report)?;
    }
    progress::info(format!(
        "wrote {} ({} sets, {} packages)",
        report.output.display(),
        report.sets.len(),
        report.packages.len()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The build's manifest: what went in, for people and for the nightly
/// skip-if-unchanged check (`inputs_digest`).
fn write_manifest(path: &Path, req: &BuildRequest, report: &BuildReport) -> Result<()> {
    let sets: Vec<serde_json::Value> = report
        .sets
        .iter()
        .map(|s| serde_json::json!({"file": s.name, "digest": s.digest.id(), "size": s.size}))
        .collect();
    let built = req
        .source_date_epoch
        .map(|t| t.to_string())
        .unwrap_or_else(|| {
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
        });
    let manifest = serde_json::json!({
        "tool": format!("mkimage {}", env!("CARGO_PKG_VERSION")),
        "os": req.recipe.os.name(),
        "release": req.recipe.release,
        "arch": req.recipe.arch,
        "recipe": req.recipe.path.display().to_string(),
        "mirrors": req.mirrors,
        "package_repository": req.pkg_repo,
        "inputs_digest": report.inputs,
        "sets": sets,
        "packages": report.packages,
        "seeded": req.seed.is_some() || req.source_date_epoch.is_some(),
        "built": built,
    });
    let text = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Fill the cache with what a build would use.
pub fn fetch(os: Os, args: &BuildArgs) -> Result<ExitCode> {
    let req = BuildRequest::from_args(Some(os), None, args)?;
    let (sets, pkgs) = match req.recipe.os {
        Os::Netbsd => {
            let (sets, pkgs) = crate::build::netbsd::fetch_only(&req)?;
            (sets.len(), pkgs.map(|p| p.plan.len()).unwrap_or(0))
        }
        Os::Freebsd => crate::build::freebsd::fetch_only(&req)?,
    };
    progress::info(format!("cached {sets} sets and {pkgs} packages"));
    Ok(ExitCode::SUCCESS)
}
