//! Reading one `.pkg` file: a tar archive (zstd, xz or gzip) whose first
//! members are `+COMPACT_MANIFEST` and `+MANIFEST`, followed by the
//! payload under absolute names (`/usr/local/bin/bash`). The payload is
//! streamed into an [`EntrySink`] with names made relative to the image
//! root; every regular file must be listed in `+MANIFEST` and match the
//! SHA-256 recorded there.

use std::collections::BTreeSet;
use std::io::{self, Read};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use super::manifest::Manifest;
use crate::entry::{Entry, EntryKind, EntrySink, Timestamp};
use crate::source::archive::open_decompressed;
use crate::source::path::normalise;

/// Largest metadata member read into memory.
const MAX_METADATA: u64 = 64 << 20;

/// Largest configuration sample kept in memory for [`SampleConfig`].
const MAX_SAMPLE: u64 = 1 << 20;

/// A configuration file the package's `post-install` would create from
/// its sample (ports' `@sample`): the build installs it when nothing else
/// put a file at `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleConfig {
    /// Image path (relative) of the sample.
    pub sample: String,
    /// Image path (relative) of the configuration file.
    pub target: String,
    /// The sample's mode with owner write added (`cp -p`, `chmod u+w`).
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub data: Vec<u8>,
}

/// What one package put into the image.
#[derive(Debug, Clone)]
pub struct InstalledPackage {
    /// From `+MANIFEST`.
    pub manifest: Manifest,
    /// Image paths (relative, as [`Entry::path`]) of the payload, in
    /// archive order.
    pub paths: Vec<String>,
    /// Bytes of regular-file data.
    pub bytes: u64,
    /// Configuration files to create from their samples.
    pub samples: Vec<SampleConfig>,
}

/// Passes bytes through, hashes them, and keeps a copy when asked.
struct Hashing<R> {
    inner: R,
    sha: Sha256,
    n: u64,
    copy: Option<Vec<u8>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.n += n as u64;
        if let Some(c) = self.copy.as_mut() {
            c.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// Read the package `reader` (named `label` in errors), hand its payload to
/// `sink` and return its manifest and what was installed. `abi` (e.g.
/// `FreeBSD:14:amd64`) must match the package's.
pub fn read_package<R: Read + Send + 'static>(
    reader: R,
    label: &str,
    abi: &str,
    sink: &mut dyn EntrySink,
) -> Result<InstalledPackage> {
    let stream = open_decompressed(reader).with_context(|| format!("{label}: opening"))?;
    let mut archive = tar::Archive::new(stream);
    let mut manifest: Option<Manifest> = None;
    let mut compact: Option<Manifest> = None;
    let mut paths = Vec::new();
    let mut bytes = 0u64;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut samples = Vec::new();
    let entries = archive
        .entries()
        .with_context(|| format!("{label}: reading the tar stream"))?;
    for item in entries {
        let mut member = item.with_context(|| format!("{label}: reading a member"))?;
        let raw = member.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let ctx = |what: &str| anyhow!("{label}: {shown}: {what}");
        let etype = member.header().entry_type();
        if etype.is_pax_global_extensions() || etype.is_pax_local_extensions() {
            continue;
        }
        if raw.first() == Some(&b'+') && !raw.contains(&b'/') {
            if !paths.is_empty() {
                return Err(ctx("metadata member after the payload"));
            }
            let mut buf = Vec::new();
            member
                .by_ref()
                .take(MAX_METADATA)
                .read_to_end(&mut buf)
                .map_err(|e| ctx(&format!("reading: {e}")))?;
            match raw.as_slice() {
                b"+MANIFEST" => {
                    let m = Manifest::parse(&buf, &format!("{label}: +MANIFEST"))?;
                    if !m.fits_abi(abi) {
                        bail!(
                            "{label}: package {} is built for {}, the image is {abi}",
                            m.pkgname(),
                            m.abi
                        );
                    }
                    manifest = Some(m);
                }
                b"+COMPACT_MANIFEST" => {
                    compact = Some(Manifest::parse(
                        &buf,
                        &format!("{label}: +COMPACT_MANIFEST"),
                    )?)
                }
                _ => {}
            }
            continue;
        }
        let Some(m) = manifest.as_ref() else {
            bail!("{label}: payload member {shown} before +MANIFEST (not a pkg(8) package?)");
        };
        if let Some(c) = &compact
            && (c.name != m.name || c.version != m.version)
        {
            bail!("{label}: +COMPACT_MANIFEST and +MANIFEST name different packages");
        }
        let Some(rel) = raw.strip_prefix(b"/") else {
            return Err(ctx("payload names must be absolute"));
        };
        let path = normalise(rel).map_err(|e| ctx(&e.to_string()))?;
        if path.is_empty() {
            return Err(ctx("a package may not replace the root directory"));
        }
        let abs = format!("/{path}");
        let header = member.header();
        let mode = (header.mode().map_err(|_| ctx("bad mode"))? & 0o7777) as u16;
        let uid = u32::try_from(header.uid().map_err(|_| ctx("bad uid"))?)
            .map_err(|_| ctx("uid too large"))?;
        let gid = u32::try_from(header.gid().map_err(|_| ctx("bad gid"))?)
            .map_err(|_| ctx("gid too large"))?;
        let mtime = Timestamp::from_secs(header.mtime().map_err(|_| ctx("bad mtime"))? as i64);
        let link = member.link_name_bytes().map(|c| c.into_owned());
        let kind = if etype.is_file() || etype.is_contiguous() {
            EntryKind::File
        } else if etype.is_dir() {
            EntryKind::Dir
        } else if etype.is_symlink() {
            let t = link.ok_or_else(|| ctx("symlink without a target"))?;
            let t = String::from_utf8(t).map_err(|_| ctx("symlink target is not UTF-8"))?;
            if t.is_empty() || t.contains('\0') {
                return Err(ctx("empty symlink target"));
            }
            EntryKind::Symlink(t)
        } else if etype.is_hard_link() {
            let t = link.ok_or_else(|| ctx("hard link without a target"))?;
            let t =
                normalise(t.strip_prefix(b"/").unwrap_or(&t)).map_err(|e| ctx(&e.to_string()))?;
            if !seen.contains(&t) {
                return Err(ctx(&format!(
                    "hard link to {t}, not an earlier file of this package"
                )));
            }
            EntryKind::HardLink(t)
        } else {
            return Err(ctx(&format!(
                "unsupported member type {:?} in a package",
                etype.as_byte() as char
            )));
        };
        let mut entry = Entry::new(path.clone(), kind.clone(), mode, mtime).owned(uid, gid);
        match kind {
            EntryKind::File => {
                let want = m
                    .file_sha256(&abs)
                    .ok_or_else(|| ctx("file is not listed (with a SHA-256) in +MANIFEST"))?;
                entry.size = member.size();
                let sample_of = m
                    .sample_configs()
                    .into_iter()
                    .find(|(s, _)| *s == abs)
                    .map(|(_, t)| t);
                let keep = sample_of.is_some() && entry.size <= MAX_SAMPLE;
                let mut h = Hashing {
                    inner: &mut member,
                    sha: Sha256::new(),
                    n: 0,
                    copy: keep.then(Vec::new),
                };
                sink.add(&entry, &mut h)
                    .with_context(|| format!("{label}: installing {abs}"))?;
                if h.n != entry.size {
                    return Err(ctx("short file data"));
                }
                let got = hex::encode(h.sha.finalize());
                if got != want {
                    bail!("{label}: {abs}: SHA-256 {got} does not match +MANIFEST's {want}");
                }
                bytes += entry.size;
                if let (Some(target), Some(data)) = (sample_of, h.copy) {
                    samples.push(SampleConfig {
                        sample: path.clone(),
                        target: target.trim_start_matches('/').to_string(),
                        mode: mode | 0o200,
                        uid,
                        gid,
                        data,
                    });
                }
            }
            _ => {
                sink.add(&entry, &mut io::empty())
                    .with_context(|| format!("{label}: installing {abs}"))?;
            }
        }
        if !matches!(entry.kind, EntryKind::Dir) {
            seen.insert(path.clone());
        }
        paths.push(path);
    }
    let manifest =
        manifest.ok_or_else(|| anyhow!("{label}: no +MANIFEST (not a pkg(8) package?)"))?;
    let installed: BTreeSet<String> = paths.iter().map(|p| format!("/{p}")).collect();
    if let Some(missing) = manifest.files.keys().find(|f| !installed.contains(*f)) {
        bail!("{label}: {missing} is listed in +MANIFEST but not in the archive");
    }
    Ok(InstalledPackage {
        manifest,
        paths,
        bytes,
        samples,
    })
}
