//! Raw (flat) disk images on the host: a sparse file whose byte `n` is the
//! device's byte `n`. Never-written ranges stay holes in the host file:
//! a newly created image skips all-zero writes to 64 KiB pieces it has never
//! written (they read as zeros already), so zero-filling a free area costs
//! no host space.

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
    /// For an image this object created: one bit per [`PIECE`] bytes, set
    /// once anything was written there. `None`: the file had content.
    written: Option<Vec<u64>>,
}

/// Granularity of the never-written map.
const PIECE: u64 = 64 << 10;

fn all_zero(buf: &[u8]) -> bool {
    let mut chunks = buf.chunks_exact(16);
    chunks
        .by_ref()
        .all(|c| u128::from_ne_bytes(c.try_into().unwrap_or([1; 16])) == 0)
        && chunks.remainder().iter().all(|&b| b == 0)
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
        let words = len.div_ceil(PIECE).div_ceil(64);
        let written = usize::try_from(words).ok().map(|w| vec![0u64; w]);
        Ok(RawFile { file, len, written })
    }

    /// Wrap an already open file whose length is the device size.
    pub fn from_file(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(RawFile {
            file,
            len,
            written: None,
        })
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
        let Some(map) = self.written.as_mut() else {
            return self.file.write_all_at(buf, offset);
        };
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let n = ((PIECE - pos % PIECE) as usize).min(buf.len() - done);
            let piece = &buf[done..done + n];
            let (word, bit) = ((pos / PIECE / 64) as usize, pos / PIECE % 64);
            let seen = map.get(word).is_none_or(|w| w & (1 << bit) != 0);
            if seen || !all_zero(piece) {
                self.file.write_all_at(piece, pos)?;
                if let Some(w) = map.get_mut(word) {
                    *w |= 1 << bit;
                }
            }
            done += n;
        }
        Ok(())
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
