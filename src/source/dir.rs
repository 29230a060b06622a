//! A host directory as an [`Entry`] stream (for `makefs`): walked in
//! sorted order, every object with its mode, owner and times (file flags
//! are not read: 0; birth time is the modification time); hard links
//! detected by (device, inode).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::entry::{Entry, EntryKind, EntrySink, Timestamp};

fn ts(secs: i64, nsec: i64) -> Timestamp {
    Timestamp {
        secs,
        nsec: nsec.clamp(0, 999_999_999) as u32,
    }
}

/// `major`/`minor` of a host `st_rdev` (Linux/glibc and BSD encodings
/// agree for numbers below 256/65536).
fn split_dev(rdev: u64) -> (u32, u32) {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    (major as u32, minor as u32)
}

fn entry_for(path: String, md: &fs::Metadata, kind: EntryKind) -> Entry {
    Entry {
        path,
        kind,
        mode: (md.mode() & 0o7777) as u16,
        uid: md.uid(),
        gid: md.gid(),
        flags: 0,
        atime: ts(md.atime(), md.atime_nsec()),
        mtime: ts(md.mtime(), md.mtime_nsec()),
        ctime: ts(md.ctime(), md.ctime_nsec()),
        birthtime: ts(md.mtime(), md.mtime_nsec()),
        size: 0,
    }
}

/// Statistics of a walk, for sizing: (file bytes, entries).
pub fn measure(root: &Path) -> Result<(u64, u64)> {
    let mut bytes = 0;
    let mut entries = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("reading directory {}", d.display()))? {
            let e = e.with_context(|| format!("reading directory {}", d.display()))?;
            let md = fs::symlink_metadata(e.path())
                .with_context(|| format!("stat {}", e.path().display()))?;
            entries += 1;
            if md.is_dir() {
                stack.push(e.path());
            } else if md.is_file() {
                bytes += md.len();
            }
        }
    }
    Ok((bytes, entries))
}

/// Feed `root` and everything below it to `sink` (the root itself as the
/// entry with path `""`).
pub fn walk(root: &Path, sink: &mut dyn EntrySink) -> Result<()> {
    let md = fs::symlink_metadata(root).with_context(|| format!("stat {}", root.display()))?;
    if !md.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    let e = entry_for(String::new(), &md, EntryKind::Dir);
    sink.add(&e, &mut std::io::empty())?;
    let mut links: BTreeMap<(u64, u64), String> = BTreeMap::new();
    walk_dir(root, "", sink, &mut links)
}

fn walk_dir(
    dir: &Path,
    prefix: &str,
    sink: &mut dyn EntrySink,
    links: &mut BTreeMap<(u64, u64), String>,
) -> Result<()> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading directory {}", dir.display()))?;
    names.sort();
    for name in names {
        let host = dir.join(&name);
        let Some(n) = name.to_str() else {
            bail!("{}: file name is not UTF-8", host.display());
        };
        let path = if prefix.is_empty() {
            n.to_string()
        } else {
            format!("{prefix}/{n}")
        };
        let md = fs::symlink_metadata(&host).with_context(|| format!("stat {}", host.display()))?;
        let ft = md.file_type();
        if !ft.is_dir() && md.nlink() > 1 {
            let key = (md.dev(), md.ino());
            if let Some(first) = links.get(&key) {
                let e = entry_for(path, &md, EntryKind::HardLink(first.clone()));
                sink.add(&e, &mut std::io::empty())?;
                continue;
            }
            links.insert(key, path.clone());
        }
        if ft.is_dir() {
            sink.add(
                &entry_for(path.clone(), &md, EntryKind::Dir),
                &mut std::io::empty(),
            )?;
            walk_dir(&host, &path, sink, links)?;
        } else if ft.is_file() {
            let mut e = entry_for(path, &md, EntryKind::File);
            e.size = md.len();
            let mut f =
                fs::File::open(&host).with_context(|| format!("opening {}", host.display()))?;
            sink.add(&e, &mut f)
                .with_context(|| format!("adding {}", host.display()))?;
        } else if ft.is_symlink() {
            let t = fs::read_link(&host).with_context(|| format!("readlink {}", host.display()))?;
            let Some(t) = t.to_str() else {
                bail!("{}: symlink target is not UTF-8", host.display());
            };
            let e = entry_for(path, &md, EntryKind::Symlink(t.to_string()));
            sink.add(&e, &mut std::io::empty())?;
        } else {
            let (major, minor) = split_dev(md.rdev());
            let kind = if ft.is_char_device() {
                EntryKind::CharDevice { major, minor }
            } else if ft.is_block_device() {
                EntryKind::BlockDevice { major, minor }
            } else if ft.is_fifo() {
                EntryKind::Fifo
            } else {
                EntryKind::Socket
            };
            sink.add(&entry_for(path, &md, kind), &mut std::io::empty())?;
        }
    }
    Ok(())
}
