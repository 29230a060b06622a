//! The `SHA512` and `MD5` files beside the sets, in the format of NetBSD's
//! `cksum -a SHA512` / `cksum -a MD5` (`SHA512 (base.tar.xz) = <hex>`), one
//! line per set sorted by file name as the release's shell glob sorts them;
//! and a writer that computes both digests while an archive is written.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use md5::Md5;
use sha2::{Digest, Sha512};

/// Passes bytes through to `inner` and digests them on the way.
pub struct HashingWriter<W> {
    inner: W,
    sha512: Sha512,
    md5: Md5,
}

/// A finished file's digests, lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub sha512: String,
    pub md5: String,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            sha512: Sha512::new(),
            md5: Md5::new(),
        }
    }

    /// Flush `inner` and return it with the digests of everything written.
    pub fn finish(mut self) -> io::Result<(W, Digests)> {
        self.inner.flush()?;
        let digests = Digests {
            sha512: hex::encode(self.sha512.finalize()),
            md5: hex::encode(self.md5.finalize()),
        };
        Ok((self.inner, digests))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha512.update(&buf[..n]);
        self.md5.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Write `SHA512` and `MD5` into `dir` for `files` (file name, digests).
pub fn write_checksum_files(dir: &Path, files: &[(String, Digests)]) -> Result<()> {
    let mut sorted: Vec<&(String, Digests)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let sha: String = sorted
        .iter()
        .map(|(n, d)| format!("SHA512 ({n}) = {}\n", d.sha512))
        .collect();
    let md5: String = sorted
        .iter()
        .map(|(n, d)| format!("MD5 ({n}) = {}\n", d.md5))
        .collect();
    for (name, text) in [("SHA512", sha), ("MD5", md5)] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
