//! Open an existing image read-only, whatever its format: qcow2 is
//! recognised by its magic, anything else is taken as raw.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::block::BlockDevice;
use super::format::Format;
use super::qcow2::{MAGIC, Qcow2Reader};
use super::raw::RawFile;

/// The format of the image at `path`, from its first bytes.
pub fn detect_format(path: &Path) -> io::Result<Format> {
    let file = File::open(path)?;
    detect(&file)
}

fn detect(file: &File) -> io::Result<Format> {
    let mut magic = [0u8; 4];
    let n = file.read_at(&mut magic, 0)?;
    Ok(if n == 4 && magic == MAGIC {
        Format::Qcow2
    } else {
        Format::Raw
    })
}

/// Open `path` read-only as a device of its virtual size.
pub fn open_image(path: &Path) -> io::Result<Box<dyn BlockDevice>> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(with_path)?;
    Ok(match detect(&file).map_err(with_path)? {
        Format::Qcow2 => Box::new(Qcow2Reader::from_file(file).map_err(with_path)?),
        Format::Raw => Box::new(RawFile::from_file(file).map_err(with_path)?),
    })
}
