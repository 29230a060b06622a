//! `mkimage publish`: map the command line onto [`crate::publish`].

use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;

use crate::cli::PublishArgs;
use crate::progress;
use crate::publish::{self, Request, manifest};

pub fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let build_manifest = args
        .manifest
        .as_deref()
        .map(manifest::read_build_manifest)
        .transpose()?;
    let functions = args
        .functions
        .as_deref()
        .map(|p| std::fs::read(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    // Without --functions, the OS's own functions file is published.
    let functions = match (functions, args.os.as_str()) {
        (Some(f), _) => Some(f),
        (None, "netbsd") => {
            Some(crate::os::netbsd::functions::functions_file(&args.arch)?.into_bytes())
        }
        (None, _) => None,
    };
    // The copy about to be published must pass the whole-image check.
    let verify = |path: &std::path::Path| -> anyhow::Result<()> {
        publish::verify_qcow2_header(path)?;
        let findings = crate::verify::check_image(path)?;
        if findings.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = findings.iter().take(20).map(|f| f.to_string()).collect();
        anyhow::bail!(
            "{} fails verification ({} findings):\n  {}",
            path.display(),
            findings.len(),
            list.join("\n  ")
        )
    };
    let report = publish::publish(&Request {
        image: &args.image,
        images_dir: &args.images_dir,
        os: &args.os,
        release: &args.release,
        arch: &args.arch,
        keep: args.keep,
        build_manifest,
        functions,
        verify: &verify,
        now: SystemTime::now(),
    })?;
    if report.unchanged {
        progress::info(format!(
            "{} is unchanged (sha256 {}): nothing published",
            report.image.display(),
            report.sha256
        ));
    } else {
        if let Some(kept) = &report.kept {
            progress::info(format!("previous image kept as {}", kept.display()));
        }
        for pruned in &report.pruned {
            progress::info(format!("removed old image {}", pruned.display()));
        }
        progress::info(format!(
            "published {} (sha256 {})",
            report.image.display(),
            report.sha256
        ));
    }
    Ok(ExitCode::SUCCESS)
}
