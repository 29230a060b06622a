//! Output formats, in the manner of mkimg's format table: each
//! format is one file that turns a path and a virtual size into an
//! [`OutputDevice`]; this file only names them. Adding a format means one
//! new file plus one variant and one match arm here.

use std::io;
use std::path::Path;
use std::str::FromStr;

use super::block::BlockDevice;
use super::qcow2::{Qcow2Options, Qcow2Writer};
use super::raw::RawFile;

/// A device being written as an image file. `finish` writes whatever
/// metadata the format keeps until the end, and fsyncs the file.
pub trait OutputDevice: BlockDevice {
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// The image formats mkimage writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Raw,
    Qcow2,
}

impl Format {
    /// The name used on the command line and by QEMU (`format=`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
        }
    }

    /// Whether the format can store compressed clusters.
    pub fn supports_compression(self) -> bool {
        matches!(self, Format::Qcow2)
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "raw" | "img" => Ok(Format::Raw),
            "qcow2" => Ok(Format::Qcow2),
            _ => Err(format!(
                "unknown image format {s:?} (expected raw or qcow2)"
            )),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Create `path` (truncating it) as an image of `size` bytes in `format`.
/// `compress` is refused for formats that cannot compress.
pub fn create_device(
    path: &Path,
    format: Format,
    size: u64,
    compress: bool,
) -> io::Result<Box<dyn OutputDevice>> {
    if compress && !format.supports_compression() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the {format} format cannot be compressed; use qcow2"),
        ));
    }
    Ok(match format {
        Format::Raw => Box::new(RawFile::create(path, size)?),
        Format::Qcow2 => Box::new(Qcow2Writer::create(path, size, Qcow2Options { compress })?),
    })
}

impl OutputDevice for RawFile {
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.file().sync_all()
    }
}

impl OutputDevice for Qcow2Writer {
    fn finish(self: Box<Self>) -> io::Result<()> {
        let file = Qcow2Writer::finish(*self)?;
        file.sync_all()
    }
}
