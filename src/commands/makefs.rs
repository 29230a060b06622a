//! `mkimage makefs`: build a bare FFSv2 image from a directory or a tar
//! archive (plain, gzip, xz or zstd, recognised by content), written
//! beside the target and renamed into place when complete.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::cli::{FlavourArg, MakefsArgs};
use crate::disk::RawFile;
use crate::disk::output::AtomicOutput;
use crate::entry::{Entry, EntrySink, Timestamp};
use crate::fs::ffs::{FfsWriter, Flavour, FsOptions, estimate_layout};
use crate::progress;
use crate::size::Size;

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
    let is_dir = args.source.is_dir();
    if !is_dir && !args.source.is_file() {
        bail!("{}: no such directory or archive", args.source.display());
    }
    let minfree = flavour.default_minfree();
    let (size, density) = match &args.size {
        Some(s) => (
            Size::parse(s)
                .map_err(|e| super::UsageError(format!("--size: {e}")))?
                .bytes(),
            None,
        ),
        None => {
            let (bytes, entries) = if is_dir {
                crate::source::dir::measure(&args.source)?
            } else {
                let mut m = Measure::default();
                read_archive_into(&args.source, &mut m)?;
                (m.bytes, m.entries)
            };
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
    let out = AtomicOutput::new(&args.output)
        .with_context(|| format!("creating a temporary file beside {}", args.output.display()))?;
    let dev = RawFile::create(out.path(), size)
        .with_context(|| format!("creating {}", out.path().display()))?;
    let mut w = FfsWriter::new(dev, opts)
        .with_context(|| format!("laying out a {size}-byte file system"))?;
    let copied = if is_dir {
        crate::source::dir::walk(&args.source, &mut w)
    } else {
        read_archive_into(&args.source, &mut w)
    };
    copied.with_context(|| {
        format!(
            "copying {} into {}",
            args.source.display(),
            args.output.display()
        )
    })?;
    let (dev, s) = w.finish().context("finishing the file system")?;
    dev.file()
        .sync_all()
        .with_context(|| format!("writing {}", out.path().display()))?;
    out.commit()
        .with_context(|| format!("moving the image into place at {}", args.output.display()))?;
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

/// Feed a tar archive (any compression the archive reader detects) to `sink`.
fn read_archive_into(path: &Path, sink: &mut dyn EntrySink) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let label = path.display().to_string();
    let stream = crate::source::archive::open_decompressed(file)
        .with_context(|| format!("{label}: not a tar archive this tool can read"))?;
    crate::source::archive::read_archive(stream, &label, sink)?;
    Ok(())
}

/// Counts what an archive holds, to size the file system.
#[derive(Default)]
struct Measure {
    bytes: u64,
    entries: u64,
}

impl EntrySink for Measure {
    fn add(&mut self, entry: &Entry, data: &mut dyn Read) -> Result<()> {
        self.entries += 1;
        self.bytes += std::io::copy(data, &mut std::io::sink())?;
        let _ = entry;
        Ok(())
    }
}
