//! `mkimage makefs`: build a bare FFSv2 image from a directory (archives
//! come through `crate::source::archive` once it exists).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::cli::{FlavourArg, MakefsArgs};
use crate::disk::RawFile;
use crate::entry::Timestamp;
use crate::fs::ffs::{FfsWriter, Flavour, FsOptions, estimate_layout, parse_size};
use crate::progress;

fn seed_of(s: &str) -> u64 {
    match s.parse::<u64>() {
        Ok(n) => n,
        Err(_) => s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }),
    }
}

pub fn run(args: MakefsArgs) -> Result<ExitCode> {
    let flavour = match args.flavour {
        FlavourArg::Netbsd => Flavour::NetBsd,
        FlavourArg::Freebsd => Flavour::FreeBsd,
    };
    if !args.source.is_dir() {
        bail!(
            "{}: archive sources are not supported yet; give a directory",
            args.source.display()
        );
    }
    let minfree = flavour.default_minfree();
    let (size, density) = match &args.size {
        Some(s) => (
            parse_size(s).map_err(|e| super::UsageError(format!("--size: {e}")))?,
            None,
        ),
        None => {
            let (bytes, entries) = crate::source::dir::measure(&args.source)?;
            estimate_layout(bytes, entries, minfree)
        }
    };
    let mut opts = FsOptions::new(size, flavour);
    opts.density = density;
    opts.label = args.label.clone();
    opts.seed = args.seed.as_deref().map_or(0, seed_of);
    // Deterministic: the superblock's time is SOURCE_DATE_EPOCH or 0.
    opts.time = Timestamp::from_secs(
        std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
    );
    let dev = RawFile::create(&args.output, size)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let mut w = FfsWriter::new(dev, opts)
        .with_context(|| format!("laying out a {size}-byte file system"))?;
    crate::source::dir::walk(&args.source, &mut w).with_context(|| {
        format!(
            "copying {} into {}",
            args.source.display(),
            args.output.display()
        )
    })?;
    let (_, s) = w.finish().context("finishing the file system")?;
    progress::info(format!(
        "{}: {} files, {} directories, {} of {} used",
        args.output.display(),
        s.files,
        s.dirs,
        progress::human_bytes(s.bytes_used),
        progress::human_bytes(s.size)
    ));
    Ok(ExitCode::SUCCESS)
}
