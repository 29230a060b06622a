//! Raw (flat) disk images on the host: a sparse file whose byte `n` is the
//! device's byte `n`. Never-written ranges stay holes in the host file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::block::{BlockDevice, check_range};

/// A raw image file opened for reading and writing.
#[derive(Debug)]
pub struct RawFile {
    file: File,
    len: u64,
}

impl RawFile {
    /// Create (or truncate) `path` as a sparse file of `len` bytes.
    pub fn create(path: &Path, len: u64) -> io::Result<Self> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        file.set_len(len)?;
        Ok(RawFile { file, len })
    }

    /// Wrap an already open file whose length is the device size.
    pub fn from_file(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(RawFile { file, len })
    }

    /// Open an existing image read-only; writes then fail.
    pub fn open_read_only(path: &Path) -> io::Result<Self> {
        Self::from_file(File::open(path)?)
    }

    /// The host file, e.g. to fsync it.
    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn into_file(self) -> File {
        self.file
    }
}

impl BlockDevice for RawFile {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        check_range("read", offset, buf.len(), self.len)?;
        self.file.read_exact_at(buf, offset)
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        check_range("write", offset, buf.len(), self.len)?;
        self.file.write_all_at(buf, offset)
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
