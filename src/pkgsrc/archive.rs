//! Reading a pkgsrc binary package the way `pkg_add` does: a tar archive
//! (gzip or xz; bzip2 and zstd are refused with a clear message) whose `+`
//! metadata members come first in `pkg_install`'s fixed order, followed by
//! the payload, streamed entry by entry.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read};

/// The metadata members in `pkg_install`'s order (`pkg_meta_descriptors`
/// in `add/perform.c`), whether each is required, and the mode `pkg_add`
/// gives it in the pkgdb.
pub const META_FILES: &[(&str, bool, u16)] = &[
    ("+CONTENTS", true, 0o644),
    ("+COMMENT", true, 0o444),
    ("+DESC", true, 0o444),
    ("+INSTALL", false, 0o555),
    ("+DEINSTALL", false, 0o555),
    ("+DISPLAY", false, 0o444),
    ("+MTREE_DIRS", false, 0o444),
    ("+BUILD_VERSION", false, 0o444),
    ("+BUILD_INFO", false, 0o444),
    ("+SIZE_PKG", false, 0o444),
    ("+SIZE_ALL", false, 0o444),
    ("+PRESERVE", false, 0o444),
    ("+REQUIRED_BY", false, 0o644),
    ("+INSTALLED_INFO", false, 0o644),
];

/// The `+` members of a package, in archive order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageMeta {
    pub files: Vec<(String, Vec<u8>)>,
}

impl PackageMeta {
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_slice())
    }

    /// A member as text (lossy for stray non-UTF-8 bytes).
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|d| String::from_utf8_lossy(d).into_owned())
    }
}

/// What a payload entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadKind {
    File,
    Dir,
    Symlink(String),
    /// A hard link to an earlier member, named as in the archive.
    HardLink(String),
}

/// One payload member, its data readable from `data` for regular files.
pub struct PayloadItem<'a> {
    /// The member name as stored (relative to `@cwd`).
    pub path: String,
    pub kind: PayloadKind,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub uname: Option<String>,
    pub gname: Option<String>,
    pub mtime: i64,
    pub size: u64,
    pub data: &'a mut dyn Read,
}

/// Wrap `reader` in the decompressor its magic bytes call for.
pub fn decompress<'a, R: Read + 'a>(reader: R) -> Result<Box<dyn Read + 'a>> {
    let mut buf = BufReader::new(reader);
    let magic = buf
        .fill_buf()
        .context("reading the package's first bytes")?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buf)))
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Ok(Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(
            buf,
        )))
    } else if magic.starts_with(b"BZh") {
        bail!(
            "package is bzip2-compressed, which mkimage cannot decode (no bzip2 decoder is built in)"
        )
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        bail!(
            "package is zstd-compressed, which NetBSD's pkg_install cannot read; use a gzip or xz package"
        )
    } else if magic.len() >= 262 && &magic[257..262] == b"ustar" {
        Ok(Box::new(buf))
    } else {
        bail!("not a pkgsrc binary package (neither gzip, xz nor tar)")
    }
}

fn meta_rank(name: &str) -> Option<usize> {
    META_FILES.iter().position(|(n, _, _)| *n == name)
}

/// Read a package: the metadata first (checked for order and the required
/// members, as `read_meta_data` does), then `payload` is called for each
/// remaining member unless `metadata_only`. Returns the metadata.
pub fn read_package<R: Read>(
    reader: R,
    metadata_only: bool,
    mut payload: impl FnMut(&PackageMeta, PayloadItem<'_>) -> Result<()>,
) -> Result<PackageMeta> {
    let mut archive = tar::Archive::new(decompress(reader)?);
    let mut meta = PackageMeta::default();
    let mut in_meta = true;
    let mut last_rank = 0;
    for entry in archive
        .entries()
        .context("reading the package's tar stream")?
    {
        let mut entry = entry.context("reading a tar header")?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if in_meta {
            if let Some(rank) = meta_rank(&path) {
                if rank < last_rank || meta.get(&path).is_some() {
                    bail!("misordered or duplicate metadata member {path}; package corrupt");
                }
                last_rank = rank;
                let mut data = Vec::new();
                entry
                    .read_to_end(&mut data)
                    .with_context(|| format!("reading {path}"))?;
                meta.files.push((path, data));
                continue;
            }
            in_meta = false;
            for (name, required, _) in META_FILES {
                if *required && meta.get(name).is_none() {
                    bail!("package has no {name}; not a pkgsrc binary package");
                }
            }
            if metadata_only {
                return Ok(meta);
            }
        }
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => PayloadKind::File,
            tar::EntryType::Directory => PayloadKind::Dir,
            tar::EntryType::Symlink => PayloadKind::Symlink(link_name(&entry, &path)?),
            tar::EntryType::Link => PayloadKind::HardLink(link_name(&entry, &path)?),
            other => bail!("payload member {path} has unsupported tar type {other:?}"),
        };
        let header = entry.header();
        let item_mode = (header.mode().with_context(|| format!("mode of {path}"))? & 0o7777) as u16;
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        let uname = header
            .username()
            .ok()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let gname = header
            .groupname()
            .ok()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let mtime = header.mtime().unwrap_or(0) as i64;
        let size = if kind == PayloadKind::File {
            entry.size()
        } else {
            0
        };
        payload(
            &meta,
            PayloadItem {
                path,
                kind,
                mode: item_mode,
                uid,
                gid,
                uname,
                gname,
                mtime,
                size,
                data: &mut entry,
            },
        )?;
    }
    if in_meta {
        for (name, required, _) in META_FILES {
            if *required && meta.get(name).is_none() {
                bail!("package has no {name}; not a pkgsrc binary package");
            }
        }
    }
    Ok(meta)
}

fn link_name<R: Read>(entry: &tar::Entry<'_, R>, path: &str) -> Result<String> {
    let target = entry
        .link_name_bytes()
        .with_context(|| format!("link member {path} has no target"))?;
    Ok(String::from_utf8_lossy(&target).into_owned())
}
