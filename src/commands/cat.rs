//! `mkimage cat IMAGE PATH`: copy a file of the image's root file system
//! to standard output.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::image::open_root_fs;
use crate::fs::ffs::FfsReader;

pub fn run(image: &Path, path: &str) -> Result<ExitCode> {
    let dev = open_root_fs(image)?;
    let mut r = FfsReader::open(dev).with_context(|| format!("reading {}", image.display()))?;
    let ino = r
        .resolve(path)
        .with_context(|| format!("{path} in {}", image.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    r.read_file(ino, &mut out)
        .with_context(|| format!("reading {path} from {}", image.display()))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
