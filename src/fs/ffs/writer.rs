//! The FFSv2 writer: consumes [`Entry`]s (any order, later entries at the
//! same path replace earlier ones), streams file data straight into its
//! final blocks and writes inodes, directories, cylinder groups, the
//! summary area and the superblocks at [`FfsWriter::finish`].
//!
//! Memory: per object an 8-byte inode record plus, per directory entry,
//! its name and a map node; per directory its metadata. Fixed buffers:
//! a 1 MiB data chunk, one inode block, the indirect-block path, and the
//! fragment bitmap (one bit per fragment, 1/32768 of the size with 4 KiB
//! fragments).

use std::collections::BTreeMap;
use std::io::Read;

use super::alloc::Allocator;
use super::cg::{self, CgState};
use super::data::{self, BlockMap, DataError};
use super::dinode::*;
use super::dir::{DT_DIR, DirPacker, MAXNAMLEN};
use super::geometry::Geometry;
use super::size::estimate_size;
use super::superblock::*;
use super::{FfsError, Flavour, FsOptions, FsSummary, mix};
use crate::disk::BlockDevice;
use crate::entry::{Entry, EntryKind, EntrySink, Timestamp};
use crate::size::Size;

/// `MAXPATHLEN - 1`: longest path accepted.
pub const MAXPATH: usize = 1023;

#[derive(Debug, Clone, Copy, Default)]
struct InoInfo {
    nlink: u32,
    /// `d_type` of the inode; 0 when free.
    dtype: u8,
}

#[derive(Debug, Clone)]
struct Meta {
    mode: u16,
    uid: u32,
    gid: u32,
    flags: u32,
    atime: Timestamp,
    mtime: Timestamp,
    ctime: Timestamp,
    birthtime: Timestamp,
}

impl Meta {
    fn of(e: &Entry) -> Meta {
        Meta {
            mode: e.mode & 0o7777,
            uid: e.uid,
            gid: e.gid,
            flags: e.flags,
            atime: e.atime,
            mtime: e.mtime,
            ctime: e.ctime,
            birthtime: e.birthtime,
        }
    }
    fn default_dir(t: Timestamp) -> Meta {
        Meta {
            mode: 0o755,
            uid: 0,
            gid: 0,
            flags: 0,
            atime: t,
            mtime: t,
            ctime: t,
            birthtime: t,
        }
    }
}

struct DirNode {
    parent: u32,
    meta: Meta,
    children: BTreeMap<Box<[u8]>, u32>,
}

/// One cached inode block, written back when another block is needed.
struct InodeTable {
    /// (cg, block index in the cg's inode table) of the cached block.
    cur: Option<(u32, u64)>,
    buf: Vec<u8>,
    dirty: bool,
    /// Per group: inode blocks written so far (a prefix of the table).
    inited: Vec<u64>,
}

/// Writes an FFSv2 file system into `D` (a partition window).
pub struct FfsWriter<D: BlockDevice> {
    dev: D,
    g: Geometry,
    opts: FsOptions,
    alloc: Allocator,
    inodes: Vec<InoInfo>,
    dirs: BTreeMap<u32, DirNode>,
    itable: InodeTable,
    buf: Vec<u8>,
    data_bytes: u64,
    /// Set when writing data failed half-way: blocks may be allocated
    /// that nothing references, so the file system cannot be finished.
    poisoned: Option<String>,
}

const ROOT: u32 = ROOTINO as u32;

fn entry_err(path: &str, what: impl Into<String>) -> FfsError {
    FfsError::Entry {
        path: format!("/{path}"),
        what: what.into(),
    }
}

impl<D: BlockDevice> FfsWriter<D> {
    /// Lay out a file system of `opts.size` bytes (at most the device's
    /// length; a label of at most 31 bytes) on `dev`. Nothing is written before the data of the first
    /// file; bytes 0..65535 are never written.
    pub fn new(dev: D, opts: FsOptions) -> Result<Self, FfsError> {
        if opts.size > dev.len() {
            return Err(FfsError::Geometry(format!(
                "file system of {} bytes does not fit its {}-byte partition",
                opts.size,
                dev.len()
            )));
        }
        if opts.label.as_ref().is_some_and(|l| l.len() >= MAXVOLLEN) {
            return Err(FfsError::Geometry(format!(
                "volume label is longer than {} bytes",
                MAXVOLLEN - 1
            )));
        }
        let size = opts.size;
        let bsize_guess = opts.block_size.unwrap_or(Geometry::default_sizes(size).0);
        let g = Geometry::for_size(
            size,
            opts.block_size,
            opts.frag_size,
            opts.density,
            opts.flavour.default_maxcontig(bsize_guess),
        )?;
        if opts.minfree > 99 {
            return Err(FfsError::Geometry(format!(
                "minfree {} is not a percentage below 100",
                opts.minfree
            )));
        }
        let alloc = Allocator::new(&g);
        let mut inodes = vec![InoInfo::default(); 3];
        inodes[ROOT as usize] = InoInfo {
            nlink: 2,
            dtype: DT_DIR,
        };
        let mut dirs = BTreeMap::new();
        dirs.insert(
            ROOT,
            DirNode {
                parent: ROOT,
                meta: Meta::default_dir(opts.time),
                children: BTreeMap::new(),
            },
        );
        let chunk = (1 << 20).max(g.bsize as usize);
        Ok(FfsWriter {
            itable: InodeTable {
                cur: None,
                buf: vec![0; g.bsize as usize],
                dirty: false,
                inited: vec![0; g.ncg as usize],
            },
            dev,
            alloc,
            inodes,
            dirs,
            buf: vec![0; chunk],
            data_bytes: 0,
            poisoned: None,
            g,
            opts,
        })
    }

    /// The layout chosen.
    pub fn geometry(&self) -> &Geometry {
        &self.g
    }

    fn suggest(&self, extra: u64) -> String {
        let entries = self.inodes.len() as u64 + 1;
        Size(estimate_size(
            self.alloc.used_frags * self.g.fsize64() + extra,
            entries,
            self.opts.minfree,
        ))
        .to_string()
    }

    fn no_space(&self, path: &str, extra: u64) -> FfsError {
        FfsError::NoSpace {
            path: format!("/{path}"),
            needed: self.alloc.used_frags * self.g.fsize64() + extra,
            size: self.g.size * self.g.fsize64(),
            suggest: self.suggest(extra),
        }
    }

    fn alloc_ino(&mut self, path: &str, dtype: u8) -> Result<u32, FfsError> {
        let ino = self.inodes.len() as u64;
        if ino >= self.g.ninodes() || ino > u64::from(u32::MAX) {
            let needed = self.g.ninodes() + 1;
            // Enough size for the inodes at the default density.
            let suggest = Size(estimate_size(
                needed * 4 * self.g.fsize64(),
                needed,
                self.opts.minfree,
            ))
            .to_string();
            return Err(FfsError::NoInodes {
                path: format!("/{path}"),
                needed,
                have: self.g.ninodes(),
                suggest,
            });
        }
        self.inodes.push(InoInfo { nlink: 1, dtype });
        Ok(ino as u32)
    }

    // ---- inode table -------------------------------------------------

    fn itable_block(&mut self, ino: u64) -> Result<usize, FfsError> {
        let ipg = u64::from(self.g.ipg);
        let cg = (ino / ipg) as u32;
        let idx = ino % ipg;
        let key = (cg, idx / self.g.inopb());
        if self.itable.cur != Some(key) {
            self.itable_flush()?;
            if key.1 < self.itable.inited[cg as usize] {
                let off = self.iblock_offset(key);
                self.dev.read_at(&mut self.itable.buf, off)?;
            } else {
                self.itable.buf.fill(0);
            }
            self.itable.cur = Some(key);
        }
        Ok(((idx % self.g.inopb()) * DINODE_BYTES) as usize)
    }

    fn iblock_offset(&self, (cg, k): (u32, u64)) -> u64 {
        (self.g.cgimin(cg) + k * self.g.frag64()) * self.g.fsize64()
    }

    fn itable_flush(&mut self) -> Result<(), FfsError> {
        if let (Some(key), true) = (self.itable.cur, self.itable.dirty) {
            self.init_iblocks(key.0, key.1)?;
            let off = self.iblock_offset(key);
            self.dev.write_at(&self.itable.buf, off)?;
            let inited = &mut self.itable.inited[key.0 as usize];
            *inited = (*inited).max(key.1 + 1);
            self.itable.dirty = false;
        }
        Ok(())
    }

    /// Zero inode blocks of group `cg` below block `upto` never written.
    fn init_iblocks(&mut self, cg: u32, upto: u64) -> Result<(), FfsError> {
        let zero = vec![0u8; self.g.bsize as usize];
        while self.itable.inited[cg as usize] < upto {
            let k = self.itable.inited[cg as usize];
            let off = self.iblock_offset((cg, k));
            self.dev.write_at(&zero, off)?;
            self.itable.inited[cg as usize] = k + 1;
        }
        Ok(())
    }

    fn put_inode(&mut self, ino: u32, di: &Dinode) -> Result<(), FfsError> {
        let off = self.itable_block(u64::from(ino))?;
        self.itable.buf[off..off + DINODE_BYTES as usize].copy_from_slice(&di.encode());
        self.itable.dirty = true;
        Ok(())
    }

    fn get_inode(&mut self, ino: u32) -> Result<Dinode, FfsError> {
        let off = self.itable_block(u64::from(ino))?;
        Ok(Dinode::decode(
            &self.itable.buf[off..off + DINODE_BYTES as usize],
        ))
    }

    // ---- namespace ---------------------------------------------------

    fn lookup_dir(&mut self, comps: &[&[u8]], path: &str) -> Result<u32, FfsError> {
        let mut cur = ROOT;
        for c in comps {
            let child = self
                .dirs
                .get(&cur)
                .and_then(|d| d.children.get(*c))
                .copied();
            cur = match child {
                Some(ino) if self.inodes[ino as usize].dtype == DT_DIR => ino,
                Some(_) => {
                    return Err(entry_err(
                        path,
                        format!("parent {:?} is not a directory", String::from_utf8_lossy(c)),
                    ));
                }
                None => {
                    let ino = self.alloc_ino(path, DT_DIR)?;
                    self.inodes[ino as usize].nlink = 2;
                    self.dirs.insert(
                        ino,
                        DirNode {
                            parent: cur,
                            meta: Meta::default_dir(self.opts.time),
                            children: BTreeMap::new(),
                        },
                    );
                    if let Some(d) = self.dirs.get_mut(&cur) {
                        d.children.insert((*c).into(), ino);
                    }
                    ino
                }
            };
        }
        Ok(cur)
    }

    fn resolve(&self, path: &str) -> Option<u32> {
        let mut cur = ROOT;
        for c in path.split('/').filter(|c| !c.is_empty()) {
            cur = *self.dirs.get(&cur)?.children.get(c.as_bytes())?;
        }
        Some(cur)
    }

    /// Remove `name` from `parent`; free the inode when its last link goes.
    fn unlink(&mut self, parent: u32, name: &[u8], path: &str) -> Result<(), FfsError> {
        let Some(ino) = self
            .dirs
            .get_mut(&parent)
            .and_then(|d| d.children.remove(name))
        else {
            return Ok(());
        };
        let _ = path;
        if self.inodes[ino as usize].dtype == DT_DIR {
            return self.remove_tree(ino);
        }
        let info = &mut self.inodes[ino as usize];
        info.nlink = info.nlink.saturating_sub(1);
        if info.nlink == 0 {
            self.free_inode(ino)?;
        }
        Ok(())
    }

    /// Remove directory `ino` and everything below it.
    fn remove_tree(&mut self, ino: u32) -> Result<(), FfsError> {
        if let Some(node) = self.dirs.remove(&ino) {
            for (_, child) in node.children {
                if self.inodes[child as usize].dtype == DT_DIR {
                    self.remove_tree(child)?;
                } else {
                    let info = &mut self.inodes[child as usize];
                    info.nlink = info.nlink.saturating_sub(1);
                    if info.nlink == 0 {
                        self.free_inode(child)?;
                    }
                }
            }
        }
        self.inodes[ino as usize] = InoInfo::default();
        Ok(())
    }

    fn free_inode(&mut self, ino: u32) -> Result<(), FfsError> {
        let di = self.get_inode(ino)?;
        let inline = di.file_type() == IFLNK && di.blocks == 0;
        if !inline && matches!(di.file_type(), IFREG | IFDIR | IFLNK) {
            let mut freed = Vec::new();
            data::walk(&mut self.dev, &self.g, &di, true, &mut |_, r| {
                match r {
                    data::BlockRef::Data { addr, frags, .. } => freed.push((addr, frags)),
                    data::BlockRef::Indirect { addr, .. } => freed.push((addr, 0)),
                }
                true
            })?;
            for (addr, frags) in freed {
                let n = if frags == 0 { self.g.frag64() } else { frags };
                self.alloc.mark(addr, n, false);
            }
        }
        self.put_inode(ino, &Dinode::default())?;
        self.inodes[ino as usize] = InoInfo::default();
        Ok(())
    }

    fn stream(
        &mut self,
        path: &str,
        r: &mut dyn Read,
        size: u64,
        holes: bool,
    ) -> Result<BlockMap, FfsError> {
        if size > self.g.maxfilesize() {
            return Err(entry_err(
                path,
                format!("{size} bytes is larger than the file system allows"),
            ));
        }
        let mut buf = std::mem::take(&mut self.buf);
        let res = data::write_stream(
            &mut self.dev,
            &self.g,
            &mut self.alloc,
            r,
            size,
            holes,
            &mut buf,
        );
        self.buf = buf;
        if res.is_err() {
            self.poisoned = Some(format!("/{path}"));
        }
        match res {
            Ok(m) => Ok(m),
            Err(DataError::NoSpace) => Err(self.no_space(path, size)),
            Err(DataError::Io(e)) => Err(FfsError::Io(e)),
            Err(DataError::Read(e)) => Err(entry_err(path, format!("reading its data: {e}"))),
            Err(DataError::Short(n)) if n == u64::MAX => Err(entry_err(
                path,
                format!("data is longer than the {size} bytes announced"),
            )),
            Err(DataError::Short(n)) => Err(entry_err(
                path,
                format!("data ended after {n} of {size} bytes"),
            )),
        }
    }

    fn generation(&self, ino: u32) -> u32 {
        (mix(self.opts.seed ^ (u64::from(ino) << 20) ^ 0x0067_656e) as u32).max(1)
    }

    fn dinode(&self, ino: u32, ftype: u16, m: &Meta) -> Dinode {
        Dinode {
            mode: ftype | (m.mode & 0o7777),
            nlink: 1,
            uid: m.uid,
            gid: m.gid,
            atime: m.atime,
            mtime: m.mtime,
            ctime: m.ctime,
            birthtime: m.birthtime,
            generation: self.generation(ino),
            flags: m.flags,
            ..Dinode::default()
        }
    }

    fn add_entry(&mut self, e: &Entry, data: &mut dyn Read) -> Result<(), FfsError> {
        let path = e.path.as_str();
        if path.len() > MAXPATH {
            return Err(entry_err(path, "path is longer than 1023 bytes"));
        }
        if path.is_empty() {
            if e.kind != EntryKind::Dir {
                return Err(entry_err(path, "the root must be a directory"));
            }
            if let Some(d) = self.dirs.get_mut(&ROOT) {
                d.meta = Meta::of(e);
            }
            return Ok(());
        }
        let comps: Vec<&[u8]> = path.split('/').map(str::as_bytes).collect();
        if comps
            .iter()
            .any(|c| c.is_empty() || *c == b"." || *c == b".." || c.len() > MAXNAMLEN)
        {
            return Err(entry_err(
                path,
                "path has an empty, '.', '..' or longer than 255 bytes component",
            ));
        }
        let (name, parents) = comps.split_last().ok_or_else(|| entry_err(path, "empty"))?;
        let parent = self.lookup_dir(parents, path)?;
        let existing = self
            .dirs
            .get(&parent)
            .and_then(|d| d.children.get(*name))
            .copied();
        let meta = Meta::of(e);
        if e.kind == EntryKind::Dir {
            if let Some(ino) = existing {
                if let Some(d) = self.dirs.get_mut(&ino) {
                    d.meta = meta;
                    return Ok(());
                }
                self.unlink(parent, name, path)?;
            }
            let ino = self.alloc_ino(path, DT_DIR)?;
            self.inodes[ino as usize].nlink = 2;
            self.dirs.insert(
                ino,
                DirNode {
                    parent,
                    meta,
                    children: BTreeMap::new(),
                },
            );
            self.link(parent, name, ino);
            return Ok(());
        }
        if let EntryKind::HardLink(target) = &e.kind {
            let t = self.resolve(target).ok_or_else(|| {
                entry_err(path, format!("hard link target /{target} does not exist"))
            })?;
            if self.inodes[t as usize].dtype == DT_DIR {
                return Err(entry_err(path, "hard link to a directory"));
            }
            if existing == Some(t) {
                return Ok(());
            }
            if existing.is_some() {
                self.unlink(parent, name, path)?;
            }
            self.inodes[t as usize].nlink += 1;
            self.link(parent, name, t);
            return Ok(());
        }
        if existing.is_some() {
            self.unlink(parent, name, path)?;
        }
        let (ftype, dtype) = match &e.kind {
            EntryKind::File => (IFREG, 8),
            EntryKind::Symlink(_) => (IFLNK, 10),
            EntryKind::CharDevice { .. } => (IFCHR, 2),
            EntryKind::BlockDevice { .. } => (IFBLK, 6),
            EntryKind::Fifo => (IFIFO, 1),
            EntryKind::Socket => (IFSOCK, 12),
            EntryKind::Dir | EntryKind::HardLink(_) => unreachable_kind(path)?,
        };
        let ino = self.alloc_ino(path, dtype)?;
        let mut di = self.dinode(ino, ftype, &meta);
        match &e.kind {
            EntryKind::File => {
                let m = self.stream(path, data, e.size, true)?;
                di.size = e.size;
                self.set_map(&mut di, &m);
                self.data_bytes += e.size;
            }
            EntryKind::Symlink(target) => {
                let t = target.as_bytes();
                if t.len() > MAXPATH {
                    return Err(entry_err(path, "symlink target is longer than 1023 bytes"));
                }
                di.size = t.len() as u64;
                if t.len() < MAXSYMLINKLEN {
                    di.set_inline_target(t);
                } else {
                    let mut r = t;
                    let m = self.stream(path, &mut r, t.len() as u64, false)?;
                    self.set_map(&mut di, &m);
                }
            }
            EntryKind::CharDevice { major, minor } | EntryKind::BlockDevice { major, minor } => {
                di.db[0] = self.opts.flavour.encode_rdev(*major, *minor);
            }
            _ => {}
        }
        self.put_inode(ino, &di)?;
        self.link(parent, name, ino);
        Ok(())
    }

    fn set_map(&self, di: &mut Dinode, m: &BlockMap) {
        di.db = m.db;
        di.ib = m.ib;
        di.blocks = m.blocks;
    }

    fn link(&mut self, parent: u32, name: &[u8], ino: u32) {
        if let Some(d) = self.dirs.get_mut(&parent) {
            d.children.insert(name.into(), ino);
        }
    }

    /// Write directories, inodes, cylinder groups, summaries and
    /// superblocks; hand back the device.
    pub fn finish(mut self) -> Result<(D, FsSummary), FfsError> {
        if let Some(path) = &self.poisoned {
            return Err(entry_err(
                path.trim_start_matches('/'),
                "writing its data failed earlier; the file system is incomplete",
            ));
        }
        let mut summary = FsSummary::default();
        let dir_inos: Vec<u32> = self.dirs.keys().copied().collect();
        for ino in dir_inos {
            let Some(node) = self.dirs.get(&ino) else {
                continue;
            };
            let mut p = DirPacker::new();
            p.push(ino, DT_DIR, b".");
            p.push(node.parent, DT_DIR, b"..");
            let mut subdirs = 0;
            for (name, &child) in &node.children {
                let dt = self.inodes[child as usize].dtype;
                if dt == DT_DIR {
                    subdirs += 1;
                }
                p.push(child, dt, name);
            }
            let meta = node.meta.clone();
            let bytes = p.finish();
            let mut di = self.dinode(ino, IFDIR, &meta);
            di.nlink = (2 + subdirs).min(i16::MAX as u32) as i16;
            di.size = bytes.len() as u64;
            let mut r = bytes.as_slice();
            let m = self.stream("(directory)", &mut r, bytes.len() as u64, false)?;
            self.set_map(&mut di, &m);
            self.put_inode(ino, &di)?;
            summary.dirs += 1;
        }
        for ino in 0..self.inodes.len() as u32 {
            let info = self.inodes[ino as usize];
            match info.dtype {
                0 | DT_DIR => continue,
                8 => summary.files += 1,
                10 => summary.symlinks += 1,
                _ => summary.others += 1,
            }
            if info.nlink != 1 {
                let mut di = self.get_inode(ino)?;
                di.nlink = info.nlink.min(i16::MAX as u32) as i16;
                self.put_inode(ino, &di)?;
            }
        }
        self.itable_flush()?;
        self.write_groups(&mut summary)?;
        self.dev.flush()?;
        summary.inodes_used = self.inodes.iter().filter(|i| i.dtype != 0).count() as u64;
        summary.bytes_used = self.alloc.used_frags * self.g.fsize64();
        summary.size = self.g.size * self.g.fsize64();
        Ok((self.dev, summary))
    }

    fn write_groups(&mut self, summary: &mut FsSummary) -> Result<(), FfsError> {
        let g = self.g.clone();
        let ipg = u64::from(g.ipg);
        let inopb = g.inopb();
        let mut cs_area = vec![0u8; g.cssize as usize];
        let mut total = CsumTotal::default();
        let time = self.opts.time.secs;
        for c in 0..g.ncg {
            let first = u64::from(c) * ipg;
            let used = |i: u64| {
                let ino = first + i;
                ino < 2 || self.inodes.get(ino as usize).is_some_and(|x| x.dtype != 0)
            };
            let highest = (0..ipg)
                .rev()
                .find(|&i| (first + i) < self.inodes.len() as u64 && used(i))
                .map_or(0, |i| i + 1);
            let initediblk = highest.div_ceil(inopb).max(2) * inopb;
            let initediblk = initediblk.min(ipg);
            let ndir = (0..ipg)
                .filter(|&i| {
                    self.inodes
                        .get((first + i) as usize)
                        .is_some_and(|x| x.dtype == DT_DIR)
                })
                .count() as u32;
            self.init_iblocks(c, initediblk / inopb)?;
            let base = g.cgbase(c);
            let alloc = &self.alloc;
            let inodes = &self.inodes;
            let used = |i: u64| {
                let ino = first + i;
                ino < 2 || inodes.get(ino as usize).is_some_and(|x| x.dtype != 0)
            };
            let st = CgState {
                inode_used: &used,
                frag_used: &|d| alloc.is_used(base + d),
                ndir,
                initediblk: initediblk as u32,
                time,
                rotors: (0, 0, 0),
            };
            let (block, cs) = cg::build(&g, c, &st);
            self.dev.write_at(&block, g.cgtod(c) * g.fsize64())?;
            cs.encode(&mut cs_area, 16 * c as usize);
            total.ndir += i64::from(cs.ndir);
            total.nbfree += i64::from(cs.nbfree);
            total.nifree += i64::from(cs.nifree);
            total.nffree += i64::from(cs.nffree);
        }
        self.dev.write_at(&cs_area, g.csaddr * g.fsize64())?;
        summary.free_blocks = total.nbfree as u64;
        summary.free_frags = total.nffree as u64;
        let sb = superblock_for(&g, &self.opts, total);
        let mut bytes = sb.encode();
        bytes.resize(sb.sbsize as usize, 0);
        self.dev.write_at(&bytes, SBLOCK_UFS2)?;
        for c in 0..g.ncg {
            self.dev.write_at(&bytes, g.cgsblock(c) * g.fsize64())?;
        }
        Ok(())
    }
}

fn unreachable_kind(path: &str) -> Result<(u16, u8), FfsError> {
    Err(entry_err(path, "internal error: unexpected entry kind"))
}

const DINODE_BYTES: u64 = super::geometry::DINODE_SIZE;

/// The superblock for layout `g` with totals `total`.
pub fn superblock_for(g: &Geometry, o: &FsOptions, total: CsumTotal) -> Superblock {
    let log2 = |v: u32| v.trailing_zeros() as i32;
    let mut volname = [0u8; MAXVOLLEN];
    if let Some(l) = &o.label {
        let b = l.as_bytes();
        let n = b.len().min(MAXVOLLEN - 1);
        volname[..n].copy_from_slice(&b[..n]);
    }
    let mut flags = 0;
    if o.soft_updates && o.flavour == Flavour::FreeBsd {
        flags |= FS_DOSOFTDEP;
    }
    Superblock {
        sblkno: g.sblkno as i32,
        cblkno: g.cblkno as i32,
        iblkno: g.iblkno as i32,
        dblkno: g.dblkno as i32,
        old_time: o.time.secs as i32,
        ncg: g.ncg as i32,
        bsize: g.bsize as i32,
        fsize: g.fsize as i32,
        frag: g.frag as i32,
        minfree: i32::from(o.minfree),
        bmask: !(g.bsize as i32 - 1),
        fmask: !(g.fsize as i32 - 1),
        bshift: log2(g.bsize),
        fshift: log2(g.fsize),
        maxcontig: g.maxcontig as i32,
        maxbpg: (g.bsize / 8) as i32,
        fragshift: log2(g.frag),
        fsbtodb: log2(g.fsize / 512),
        sbsize: (SB_BYTES as u64).div_ceil(g.fsize64()) as i32 * g.fsize as i32,
        nindir: (g.bsize / 8) as i32,
        inopb: (g.bsize / 256) as i32,
        optim: 0,
        id: [mix(o.seed) as i32, mix(o.seed ^ 0x6964) as i32],
        cssize: g.cssize as i32,
        cgsize: g.cgsize as i32,
        ipg: g.ipg as i32,
        fpg: g.fpg as i32,
        fmod: 0,
        clean: FS_ISCLEAN,
        ronly: 0,
        old_flags: FS_FLAGS_UPDATED,
        volname,
        maxbsize: g.bsize as i32,
        sblockloc: SBLOCK_UFS2 as i64,
        cstotal: total,
        time: o.time.secs,
        size: g.size as i64,
        dsize: g.dsize() as i64,
        csaddr: g.csaddr as i64,
        avgfilesize: 16384,
        avgfpdir: 64,
        flags,
        contigsumsize: g.contigsumsize as i32,
        maxsymlinklen: MAXSYMLINKLEN as i32,
        old_inodefmt: FS_44INODEFMT,
        maxfilesize: g.maxfilesize(),
        qbmask: !i64::from(!(g.bsize as i32 - 1)),
        qfmask: !i64::from(!(g.fsize as i32 - 1)),
        magic: FS_UFS2_MAGIC,
    }
}

impl<D: BlockDevice> EntrySink for FfsWriter<D> {
    fn add(&mut self, entry: &Entry, data: &mut dyn Read) -> anyhow::Result<()> {
        self.add_entry(entry, data)?;
        Ok(())
    }
}
