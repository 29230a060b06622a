//! Writes one set as NetBSD's build does (`pax -w -M` into xz): ustar
//! headers with owners by name and id, paths `./…`, hard links as links to
//! the first name, records padded to pax's 10240-byte blocking; plus pax
//! extended headers (`path`, `linkpath`) for names that ustar cannot hold,
//! so that readers meet both forms. Compression is single-threaded xz at a
//! fixed preset, so the same members give the same bytes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use tar::{EntryType, Header};

use super::SetMember;
use super::checksums::{Digests, HashingWriter};
use super::content::{Vocabulary, generate};
use super::mtree::dot_path;
use super::tree::Data;
use crate::entry::EntryKind;

/// pax's default blocking factor: archives are a multiple of 20 × 512 bytes.
const RECORD: u64 = 10240;

/// Counts what passes through.
struct Counter<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// How the pax extended header before an entry is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaxNaming {
    /// `./PaxHeaders/<base name>`, as NetBSD's sets have it.
    PaxHeaders,
    /// `<dir>/PaxHeader/<base name>`, as libarchive's (bsdtar's) pax
    /// writer names it (FreeBSD's distribution sets).
    Libarchive,
}

/// Extra pax records for a member (e.g. `SCHILY.fflags`).
pub type ExtraPax<'a> = &'a (dyn Fn(&SetMember) -> Vec<(&'static str, Vec<u8>)> + Sync);

/// Write `items` (archive order; files carry their data) to `out` as
/// `.tar.xz` and return the compressed file's digests.
pub fn write_set(
    out: &Path,
    items: &[(SetMember, Option<Data>)],
    vocab: &Vocabulary,
    preset: u32,
    mtime: u64,
) -> Result<Digests> {
    write_archive(
        out,
        items,
        vocab,
        preset,
        mtime,
        PaxNaming::PaxHeaders,
        &|_| Vec::new(),
    )
}

/// [`write_set`] with the pax header naming of `naming` and extra pax
/// records per member from `extra` (a pax header is written whenever a
/// member has any).
pub fn write_archive(
    out: &Path,
    items: &[(SetMember, Option<Data>)],
    vocab: &Vocabulary,
    preset: u32,
    mtime: u64,
    naming: PaxNaming,
    extra: ExtraPax,
) -> Result<Digests> {
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let hashing = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
    let xz = liblzma::write::XzEncoder::new(hashing, preset);
    let mut tar = tar::Builder::new(Counter { inner: xz, n: 0 });
    let mut buf = Vec::new();
    for (member, data) in items {
        let style = (naming, extra(member));
        append(
            &mut tar,
            member,
            data.as_ref(),
            vocab,
            mtime,
            &style,
            &mut buf,
        )
        .with_context(|| {
            format!(
                "archiving {} into {}",
                dot_path(&member.path),
                out.display()
            )
        })?;
    }
    tar.finish()?;
    let mut counter = tar.into_inner()?;
    let pad = (RECORD - counter.n % RECORD) % RECORD;
    counter.write_all(&vec![0u8; pad as usize])?;
    let hashing = counter.inner.finish()?;
    let (mut writer, digests) = hashing.finish()?;
    writer
        .flush()
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(digests)
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    m: &SetMember,
    data: Option<&Data>,
    vocab: &Vocabulary,
    mtime: u64,
    (naming, extra): &(PaxNaming, Vec<(&'static str, Vec<u8>)>),
    buf: &mut Vec<u8>,
) -> Result<()> {
    let path = dot_path(&m.path);
    let mut header = Header::new_ustar();
    header.set_mode(u32::from(m.mode));
    header.set_uid(u64::from(m.uid));
    header.set_gid(u64::from(m.gid));
    header.set_username(&m.uname)?;
    header.set_groupname(&m.gname)?;
    header.set_mtime(mtime);
    header.set_size(0);
    let mut pax: Vec<(&str, Vec<u8>)> = Vec::new();
    if !set_ustar_name(&mut header, &path) {
        pax.push(("path", path.clone().into_bytes()));
    }
    let link = match &m.kind {
        EntryKind::Dir => {
            header.set_entry_type(EntryType::Directory);
            None
        }
        EntryKind::Symlink(t) => {
            header.set_entry_type(EntryType::Symlink);
            Some(t.clone())
        }
        EntryKind::HardLink(t) => {
            header.set_entry_type(EntryType::Link);
            Some(dot_path(t))
        }
        _ => {
            header.set_entry_type(EntryType::Regular);
            header.set_size(m.size);
            None
        }
    };
    if let Some(link) = link {
        let field = &mut header.as_old_mut().linkname;
        if link.len() <= field.len() {
            field[..link.len()].copy_from_slice(link.as_bytes());
        } else {
            let n = field.len();
            field.copy_from_slice(&link.as_bytes()[..n]);
            pax.push(("linkpath", link.into_bytes()));
        }
    }
    pax.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    if !pax.is_empty() {
        append_pax(tar, &header, &path, &pax, mtime, *naming)?;
    }
    header.set_cksum();
    match (&m.kind, data) {
        (EntryKind::File, Some(Data::Bytes(b))) => tar.append(&header, b.as_slice())?,
        (EntryKind::File, Some(Data::Generated { kind, size, seed })) => {
            let size = usize::try_from(*size).context("file too large for this host")?;
            generate(vocab, *kind, size, *seed, buf);
            tar.append(&header, buf.as_slice())?;
        }
        (EntryKind::File, None) => bail!("no data for the file {path}"),
        _ => tar.append(&header, io::empty())?,
    }
    Ok(())
}

/// Put `path` into the ustar `name` field, or split it at a `/` into
/// `prefix` (≤ 155 bytes) and `name` (≤ 100 bytes) as pax's ustar writer
/// does. Returns false when neither fits (a pax `path` record is needed);
/// the name field then holds a truncated copy.
fn set_ustar_name(header: &mut Header, path: &str) -> bool {
    let bytes = path.as_bytes();
    let Some(ustar) = header.as_ustar_mut() else {
        return false;
    };
    if bytes.len() <= ustar.name.len() {
        ustar.name[..bytes.len()].copy_from_slice(bytes);
        return true;
    }
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'/'
            && i <= ustar.prefix.len()
            && bytes.len() - i - 1 <= ustar.name.len()
            && i + 1 < bytes.len()
        {
            ustar.prefix[..i].copy_from_slice(&bytes[..i]);
            ustar.name[..bytes.len() - i - 1].copy_from_slice(&bytes[i + 1..]);
            return true;
        }
    }
    let n = ustar.name.len();
    ustar.name.copy_from_slice(&bytes[..n]);
    false
}

/// A pax extended header (typeflag `x`) for the entry that follows.
fn append_pax<W: Write>(
    tar: &mut tar::Builder<W>,
    entry: &Header,
    path: &str,
    records: &[(&str, Vec<u8>)],
    mtime: u64,
    naming: PaxNaming,
) -> Result<()> {
    let mut data = Vec::new();
    for (key, value) in records {
        // "<len> <key>=<value>\n", where len counts itself
        let rest = 3 + key.len() + value.len();
        let mut len = rest + 1;
        while len != rest + len.to_string().len() {
            len = rest + len.to_string().len();
        }
        data.extend_from_slice(format!("{len} {key}=").as_bytes());
        data.extend_from_slice(value);
        data.push(b'\n');
    }
    let (dir, base) = path.rsplit_once('/').unwrap_or((".", path));
    let base = &base.as_bytes()[..base.len().min(80)];
    let mut name = match naming {
        PaxNaming::PaxHeaders => b"./PaxHeaders/".to_vec(),
        PaxNaming::Libarchive => {
            // ustar's name field holds 100 bytes: shorten the directory.
            let room = 100 - b"/PaxHeader/".len() - base.len();
            let dir = &dir.as_bytes()[..dir.len().min(room)];
            let mut n = dir.to_vec();
            n.extend_from_slice(b"/PaxHeader/");
            n
        }
    };
    name.extend_from_slice(base);
    let mut h = Header::new_ustar();
    if let Some(u) = h.as_ustar_mut() {
        u.name[..name.len()].copy_from_slice(&name);
    }
    h.set_entry_type(EntryType::XHeader);
    h.set_mode(0o644);
    h.set_uid(entry.uid()?);
    h.set_gid(entry.gid()?);
    h.set_mtime(mtime);
    h.set_size(data.len() as u64);
    h.set_cksum();
    tar.append(&h, data.as_slice())?;
    Ok(())
}
