//! The decoded-set cache: the first time a verified set is decompressed,
//! its tar stream is also written, re-compressed with zstd, to a temporary
//! file that is renamed to `decoded/<digest>-v<version>.tar.zst` only when
//! the whole stream has been read. Later builds read that copy instead of
//! decoding xz again (zstd decodes ~10× faster). The copy is keyed by the
//! set's verified digest and the tool version and carries zstd's content
//! checksum, so a damaged copy fails loudly instead of feeding bad bytes.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::Context;

use super::cache::Cache;
use super::{Fetcher, VerifiedFile};
use crate::source::archive::open_decompressed;
use crate::source::sets::SetInput;

/// zstd level for decoded copies: fast to write, still ~4× smaller than tar.
const LEVEL: i32 = 3;

/// Open the decoded tar stream of a verified set: from the decoded cache
/// when present (and `use_cache`), else by decompressing the file, teeing
/// the result into a new decoded copy when `use_cache`.
pub fn open_set(
    cache: &Cache,
    file: &VerifiedFile,
    use_cache: bool,
) -> anyhow::Result<Box<dyn Read + Send>> {
    let decoded = cache.decoded_path(&file.digest);
    if use_cache && let Ok(f) = File::open(&decoded) {
        if let Ok(f2) = File::options().write(true).open(&decoded) {
            let _ = f2.set_modified(std::time::SystemTime::now());
        }
        crate::progress::debug(format!(
            "{}: using the decoded copy {}",
            file.name,
            decoded.display()
        ));
        let dec = zstd::stream::read::Decoder::new(f)
            .with_context(|| format!("opening {}", decoded.display()))?;
        return Ok(Box::new(dec));
    }
    let src = File::open(&file.path).with_context(|| format!("opening {}", file.path.display()))?;
    let inner = open_decompressed(src)
        .with_context(|| format!("{}: {}", file.name, file.path.display()))?;
    if !use_cache {
        return Ok(inner);
    }
    let tmp = cache.temp_path("decoded");
    let out = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut enc = zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 20, out), LEVEL)
        .context("starting the zstd encoder")?;
    enc.include_checksum(true)
        .context("configuring the zstd encoder")?;
    Ok(Box::new(Tee {
        inner,
        enc: Some(enc),
        tmp,
        dest: decoded,
    }))
}

impl Fetcher {
    /// A verified set's decoded tar stream (see [`open_set`]), honouring
    /// the `decoded_cache` option.
    pub fn open_set(&self, file: &VerifiedFile) -> anyhow::Result<Box<dyn Read + Send>> {
        open_set(self.cache(), file, self.options().decoded_cache)
    }

    /// Inputs for [`crate::source::sets::read_sets`]: each verified set,
    /// labelled by its name, opened (through the decoded cache) on a
    /// worker thread.
    pub fn set_inputs(&self, files: &[VerifiedFile]) -> Vec<SetInput> {
        files
            .iter()
            .map(|f| {
                let cache = self.cache().clone();
                let file = f.clone();
                let use_cache = self.options().decoded_cache;
                SetInput {
                    label: f.name.clone(),
                    open: Box::new(move || open_set(&cache, &file, use_cache)),
                }
            })
            .collect()
    }
}

struct Tee {
    inner: Box<dyn Read + Send>,
    enc: Option<zstd::stream::write::Encoder<'static, BufWriter<File>>>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl Tee {
    fn abandon(&mut self, why: &str) {
        if self.enc.take().is_some() {
            crate::progress::debug(format!("not keeping a decoded copy: {why}"));
            let _ = fs::remove_file(&self.tmp);
        }
    }

    fn complete(&mut self) {
        let Some(enc) = self.enc.take() else { return };
        let res = (|| -> io::Result<()> {
            let w = enc.finish()?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            fs::rename(&self.tmp, &self.dest)
        })();
        if let Err(e) = res {
            crate::progress::warn(format!(
                "could not keep the decoded copy {}: {e}",
                self.dest.display()
            ));
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                self.abandon("the set did not decode");
                return Err(e);
            }
        };
        if n == 0 {
            self.complete();
        } else if let Some(enc) = self.enc.as_mut()
            && let Err(e) = enc.write_all(&buf[..n])
        {
            let msg = e.to_string();
            self.abandon(&msg);
        }
        Ok(n)
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        // Not read to the end: never leave a partial decoded copy.
        self.abandon("the set was not read to its end");
    }
}
