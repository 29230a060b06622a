//! Streaming tar reader: one pass over a (possibly compressed) tar stream,
//! each member pushed into an [`EntrySink`] with its data as a reader —
//! nothing is written to the host.
//!
//! Formats: ustar, pax (path, linkpath, size, uid, gid, mtime/atime/ctime
//! with fractions, `LIBARCHIVE.creationtime`, `SCHILY.fflags`), GNU long
//! names and links, old-GNU sparse files (as the `tar` crate expands them),
//! hard links, symlinks, character and block devices, fifos. Compression is
//! detected from magic bytes: xz (liblzma, multi-threaded decoder for
//! multi-block streams), gzip (all members), zstd, or none.
//!
//! Owner and group names (`uname`/`gname`) are not used: the numeric ids
//! in a release's sets already match the release's own `/etc/passwd`.
//! Names are checked by [`super::path::normalise`]; a hard link must name
//! a non-directory member seen earlier in the same archive.

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, Read};

use anyhow::Context;

use super::path::normalise;
use crate::entry::{Entry, EntryKind, EntrySink, Timestamp};

/// Counts of what one archive held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub entries: u64,
    pub files: u64,
    /// Bytes of regular-file data.
    pub bytes: u64,
}

/// Compression detected from the first bytes of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Xz,
    Gzip,
    Zstd,
    None,
}

/// Identify the compression from the stream's first bytes.
pub fn detect(magic: &[u8]) -> anyhow::Result<Compression> {
    Ok(
        if magic.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if magic.starts_with(&[0x1F, 0x8B]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
            Compression::Zstd
        } else if magic.starts_with(b"BZh") {
            anyhow::bail!("bzip2-compressed archives are not supported; use xz, gzip or zstd")
        } else {
            Compression::None
        },
    )
}

/// Memory the multi-threaded xz decoder may use before it falls back to
/// one thread (keeps peak memory near the project's target).
const XZ_MT_MEMLIMIT: u64 = 48 << 20;

fn xz_decoder<R: BufRead + Send + 'static>(r: R) -> Box<dyn Read + Send> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    if threads > 1
        && let Ok(stream) = liblzma::stream::MtStreamBuilder::new()
            .threads(threads)
            .memlimit_threading(XZ_MT_MEMLIMIT)
            .memlimit_stop(u64::MAX)
            .decoder()
    {
        return Box::new(liblzma::bufread::XzDecoder::new_stream(r, stream));
    }
    Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r))
}

/// Wrap `reader` in the decompressor its magic bytes call for.
pub fn open_decompressed<R: Read + Send + 'static>(
    reader: R,
) -> anyhow::Result<Box<dyn Read + Send>> {
    let mut buf = BufReader::with_capacity(1 << 16, reader);
    let magic = buf
        .fill_buf()
        .context("reading the archive's first bytes")?;
    Ok(match detect(magic)? {
        Compression::Xz => xz_decoder(buf),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buf)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buf).context("starting the zstd decoder")?,
        ),
        Compression::None => Box::new(buf),
    })
}

/// Parse a pax time (`1700000000.123456789`, possibly negative).
fn pax_time(v: &str) -> Option<Timestamp> {
    let (secs, frac) = match v.split_once('.') {
        Some((s, f)) => (s, f),
        None => (v, ""),
    };
    let neg = secs.starts_with('-');
    let secs: i64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: String = frac.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let nsec: u32 = digits.parse().ok()?;
    if neg && nsec > 0 {
        // -1.25 means 1.25 s before the epoch: secs -2, nsec 0.75e9.
        Some(Timestamp {
            secs: secs - 1,
            nsec: 1_000_000_000 - nsec,
        })
    } else {
        Some(Timestamp { secs, nsec })
    }
}

/// BSD file flags by the names libarchive writes in `SCHILY.fflags`
/// (values from sys/sys/stat.h: UF_* and SF_*).
fn fflag_bit(name: &str) -> Option<u32> {
    Some(match name {
        "nodump" => 0x0000_0001,              // UF_NODUMP
        "uchg" | "uimmutable" => 0x0000_0002, // UF_IMMUTABLE
        "uappnd" | "uappend" => 0x0000_0004,  // UF_APPEND
        "opaque" => 0x0000_0008,              // UF_OPAQUE
        "uunlnk" | "uunlink" => 0x0000_0010,  // UF_NOUNLINK (FreeBSD)
        "arch" | "archived" => 0x0001_0000,   // SF_ARCHIVED
        "schg" | "simmutable" => 0x0002_0000, // SF_IMMUTABLE
        "sappnd" | "sappend" => 0x0004_0000,  // SF_APPEND
        "sunlnk" | "sunlink" => 0x0010_0000,  // SF_NOUNLINK (FreeBSD)
        _ => return None,
    })
}

fn parse_fflags(v: &str) -> Result<u32, String> {
    let mut flags = 0;
    for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(clear) = name
            .strip_prefix("no")
            .filter(|n| fflag_bit(n).is_some() && *n != "dump")
        {
            flags &= !fflag_bit(clear).unwrap_or(0);
        } else {
            flags |= fflag_bit(name)
                .ok_or_else(|| format!("unknown file flag {name:?} in SCHILY.fflags"))?;
        }
    }
    Ok(flags)
}

/// Pax records of one member that the `tar` crate leaves to us.
#[derive(Default)]
struct PaxExtra {
    mtime: Option<Timestamp>,
    atime: Option<Timestamp>,
    ctime: Option<Timestamp>,
    birthtime: Option<Timestamp>,
    fflags: Option<String>,
}

fn pax_extra<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<PaxExtra> {
    let mut out = PaxExtra::default();
    if let Some(exts) = entry.pax_extensions()? {
        for ext in exts {
            let ext = ext?;
            let (Ok(key), Ok(value)) = (ext.key(), ext.value()) else {
                continue;
            };
            match key {
                "mtime" => out.mtime = pax_time(value),
                "atime" => out.atime = pax_time(value),
                "ctime" => out.ctime = pax_time(value),
                "LIBARCHIVE.creationtime" => out.birthtime = pax_time(value),
                "SCHILY.fflags" => out.fflags = Some(value.to_string()),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Read every member of the (possibly compressed) tar stream `reader` and
/// hand it to `sink` in archive order. `label` names the archive in errors
/// (`base.tar.xz`). The stream is read to its end so that a compressor's
/// trailing check is verified.
pub fn read_archive(
    reader: impl Read,
    label: &str,
    sink: &mut dyn EntrySink,
) -> anyhow::Result<ArchiveStats> {
    let mut archive = tar::Archive::new(reader);
    let mut stats = ArchiveStats::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    {
        let entries = archive
            .entries()
            .with_context(|| format!("{label}: reading the tar stream"))?;
        for (index, item) in entries.enumerate() {
            let mut member = item.with_context(|| {
                format!(
                    "{label}: reading member {} (after {} entries)",
                    index + 1,
                    stats.entries
                )
            })?;
            let raw_name = member.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw_name).into_owned();
            let ctx = |what: &str| format!("{label}: entry {shown:?}: {what}");
            let etype = member.header().entry_type();
            if etype.is_pax_global_extensions() {
                continue;
            }
            let path = normalise(&raw_name).map_err(|e| anyhow::anyhow!(ctx(&e.to_string())))?;
            let header = member.header();
            let mode = (header.mode().with_context(|| ctx("bad mode field"))? & 0o7777) as u16;
            let uid = u32::try_from(header.uid().with_context(|| ctx("bad uid field"))?)
                .map_err(|_| anyhow::anyhow!(ctx("uid does not fit in 32 bits")))?;
            let gid = u32::try_from(header.gid().with_context(|| ctx("bad gid field"))?)
                .map_err(|_| anyhow::anyhow!(ctx("gid does not fit in 32 bits")))?;
            let header_mtime = header.mtime().with_context(|| ctx("bad mtime field"))?;
            let dev = |m: io::Result<Option<u32>>| -> anyhow::Result<u32> {
                Ok(m.with_context(|| ctx("bad device number"))?.unwrap_or(0))
            };
            let link = member.link_name_bytes().map(|c| c.into_owned());
            let kind = if etype.is_file() || etype.is_contiguous() || etype.is_gnu_sparse() {
                EntryKind::File
            } else if etype.is_dir() {
                EntryKind::Dir
            } else if etype.is_symlink() {
                let target =
                    link.ok_or_else(|| anyhow::anyhow!(ctx("symlink without a target")))?;
                if target.is_empty() || target.contains(&0) {
                    anyhow::bail!(ctx("symlink target is empty or has a NUL byte"));
                }
                let target = String::from_utf8(target)
                    .map_err(|_| anyhow::anyhow!(ctx("symlink target is not valid UTF-8")))?;
                EntryKind::Symlink(target)
            } else if etype.is_hard_link() {
                let raw = link.ok_or_else(|| anyhow::anyhow!(ctx("hard link without a target")))?;
                let target = normalise(&raw).map_err(|e| {
                    anyhow::anyhow!(ctx(&format!(
                        "hard link target {:?}: {e}",
                        String::from_utf8_lossy(&raw)
                    )))
                })?;
                if !seen.contains(&target) {
                    anyhow::bail!(ctx(&format!(
                        "hard link to {target:?}, which is not an earlier file of this archive"
                    )));
                }
                EntryKind::HardLink(target)
            } else if etype.is_character_special() {
                EntryKind::CharDevice {
                    major: dev(header.device_major())?,
                    minor: dev(header.device_minor())?,
                }
            } else if etype.is_block_special() {
                EntryKind::BlockDevice {
                    major: dev(header.device_major())?,
                    minor: dev(header.device_minor())?,
                }
            } else if etype.is_fifo() {
                EntryKind::Fifo
            } else {
                anyhow::bail!(ctx(&format!(
                    "unsupported tar member type {:?}",
                    etype.as_byte() as char
                )));
            };
            if path.is_empty() && kind != EntryKind::Dir {
                anyhow::bail!(ctx("only a directory may name the root"));
            }
            let extra = pax_extra(&mut member).with_context(|| ctx("reading pax records"))?;
            let mtime = extra
                .mtime
                .unwrap_or(Timestamp::from_secs(header_mtime as i64));
            let flags = match &extra.fflags {
                Some(f) => parse_fflags(f).map_err(|e| anyhow::anyhow!(ctx(&e)))?,
                None => 0,
            };
            let mut entry = Entry::new(path, kind, mode, mtime).owned(uid, gid);
            entry.flags = flags;
            entry.atime = extra.atime.unwrap_or(mtime);
            entry.ctime = extra.ctime.unwrap_or(mtime);
            entry.birthtime = extra.birthtime.unwrap_or(mtime);
            stats.entries += 1;
            if entry.kind == EntryKind::File {
                entry.size = member.size();
                stats.files += 1;
                stats.bytes += entry.size;
            }
            if !matches!(entry.kind, EntryKind::Dir) {
                seen.insert(entry.path.clone());
            }
            let path_for_err = entry.path.clone();
            sink.add(&entry, &mut member)
                .with_context(|| format!("{label}: entry {path_for_err:?}"))?;
        }
    }
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink())
        .with_context(|| format!("{label}: reading past the end of the tar stream"))?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_keep_fractions_and_negative_values() {
        assert_eq!(
            pax_time("1700000000.5"),
            Some(Timestamp {
                secs: 1700000000,
                nsec: 500_000_000
            })
        );
        assert_eq!(
            pax_time("-1.25"),
            Some(Timestamp {
                secs: -2,
                nsec: 750_000_000
            })
        );
        assert_eq!(pax_time("12"), Some(Timestamp::from_secs(12)));
    }

    #[test]
    fn fflags_names_map_to_bsd_bits() {
        assert_eq!(parse_fflags("schg,nodump"), Ok(0x0002_0001));
        assert!(parse_fflags("bogus").is_err());
    }
}
