//! Opening the root file system of an image for `verify`, `ls` and `cat`.
//! For now a bare FFS file system in a raw file.

use std::path::Path;

use anyhow::{Context, Result};

use crate::disk::{BlockDevice, RawFile};

/// The device holding the image's root (FFS) file system.
pub fn open_root_fs(path: &Path) -> Result<Box<dyn BlockDevice>> {
    let raw = RawFile::open_read_only(path)
        .with_context(|| format!("cannot open image {}", path.display()))?;
    Ok(Box::new(raw))
}
