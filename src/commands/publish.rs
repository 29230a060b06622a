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
    // Until the image checker lands, only the qcow2 header is checked.
    let verify = publish::verify_qcow2_header;
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
