//! Reading an FFSv2 file system: find the superblock where the real
//! readers look (`SBLOCKSEARCH`, accepted only where `fs_sblockloc`
//! equals the probed offset), validate the geometry, then look up paths,
//! list directories, read files and symlinks. Every address and length
//! from the disk is checked before use.

use std::io::Write;

use super::FfsError;
use super::data::{self, BlockRef};
use super::dinode::*;
use super::dir::{self, DirEntry};
use super::geometry::{self, Geometry};
use super::superblock::*;
use crate::disk::BlockDevice;
use crate::entry::Timestamp;

/// Largest directory the reader loads (bytes).
const MAX_DIR: u64 = 256 << 20;

/// An inode as `ls -l` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub ino: u32,
    pub mode: u16,
    pub nlink: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub blocks: u64,
    pub flags: u32,
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
    pub birthtime: Timestamp,
    /// `di_rdev` as stored (decode with [`super::Flavour::decode_rdev`]).
    pub rdev: u64,
}

impl Stat {
    fn of(ino: u32, d: &Dinode) -> Stat {
        Stat {
            ino,
            mode: d.mode,
            nlink: d.nlink as u16,
            uid: d.uid,
            gid: d.gid,
            size: d.size,
            blocks: d.blocks,
            flags: d.flags,
            atime: d.atime,
            mtime: d.mtime,
            ctime: d.ctime,
            birthtime: d.birthtime,
            rdev: d.db[0],
        }
    }
}

/// Check that a superblock describes a sane UFS2 layout and derive it.
pub fn geometry_of(sb: &Superblock, dev_len: u64) -> Result<Geometry, String> {
    if sb.magic != FS_UFS2_MAGIC {
        return Err(format!("bad magic {:#x}", sb.magic));
    }
    let (bsize, fsize) = (sb.bsize, sb.fsize);
    if bsize <= 0 || !(bsize as u32).is_power_of_two() || !(4096..=65536).contains(&bsize) {
        return Err(format!("bad block size {bsize}"));
    }
    if fsize < 512 || !(fsize as u32).is_power_of_two() || fsize > bsize || bsize / fsize > 8 {
        return Err(format!("bad fragment size {fsize}"));
    }
    let frag = bsize / fsize;
    if sb.frag != frag {
        return Err(format!("fs_frag {} is not bsize/fsize {frag}", sb.frag));
    }
    let inopb = bsize / 256;
    if sb.inopb != inopb || sb.nindir != bsize / 8 {
        return Err("fs_inopb or fs_nindir do not match the block size".into());
    }
    if sb.ipg <= 0 || sb.ipg % inopb != 0 {
        return Err(format!("bad inodes per group {}", sb.ipg));
    }
    if sb.fpg <= 0 || sb.fpg % frag != 0 {
        return Err(format!("bad fragments per group {}", sb.fpg));
    }
    if sb.size <= 0 || (sb.size as u64).saturating_mul(fsize as u64) > dev_len {
        return Err(format!(
            "size of {} fragments does not fit the {dev_len}-byte device",
            sb.size
        ));
    }
    let ncg = (sb.size as u64).div_ceil(sb.fpg as u64);
    if sb.ncg <= 0 || sb.ncg as u64 != ncg {
        return Err(format!("fs_ncg {} should be {ncg}", sb.ncg));
    }
    let inopf = (inopb / frag) as i64;
    let ok_order = sb.sblkno > 0
        && sb.sblkno < sb.cblkno
        && sb.cblkno < sb.iblkno
        && i64::from(sb.iblkno) + i64::from(sb.ipg) / inopf == i64::from(sb.dblkno)
        && sb.dblkno < sb.fpg;
    if !ok_order {
        return Err("superblock, cg, inode and data offsets are inconsistent".into());
    }
    if sb.contigsumsize < 0 || sb.contigsumsize > 16 {
        return Err(format!("bad fs_contigsumsize {}", sb.contigsumsize));
    }
    let want_cs = (ncg * 16).div_ceil(fsize as u64) * fsize as u64;
    if sb.cssize as u64 != want_cs || sb.csaddr < 0 {
        return Err(format!("fs_cssize {} should be {want_cs}", sb.cssize));
    }
    let g = Geometry {
        bsize: bsize as u32,
        fsize: fsize as u32,
        frag: frag as u32,
        size: sb.size as u64,
        ncg: ncg as u32,
        ipg: sb.ipg as u32,
        fpg: sb.fpg as u32,
        sblkno: sb.sblkno as u32,
        cblkno: sb.cblkno as u32,
        iblkno: sb.iblkno as u32,
        dblkno: sb.dblkno as u32,
        cgsize: sb.cgsize as u32,
        cssize: sb.cssize as u32,
        csaddr: sb.csaddr as u64,
        contigsumsize: sb.contigsumsize as u32,
        maxcontig: sb.maxcontig.max(0) as u32,
    };
    let raw = geometry::cgsize_raw(
        u64::from(g.ipg),
        u64::from(g.fpg),
        u64::from(g.frag),
        u64::from(g.contigsumsize),
    );
    let want = raw.div_ceil(g.fsize64()) * g.fsize64();
    if u64::from(g.cgsize) != want || want > g.bsize64() {
        return Err(format!("fs_cgsize {} should be {want}", sb.cgsize));
    }
    if g.ninodes() > u64::from(u32::MAX) {
        return Err("too many inodes".into());
    }
    if g.csaddr + u64::from(g.cssize).div_ceil(g.fsize64()) > g.size {
        return Err("summary area beyond the end".into());
    }
    Ok(g)
}

/// A read-only view of an FFSv2 file system on `D`.
pub struct FfsReader<D: BlockDevice> {
    dev: D,
    sb: Superblock,
    g: Geometry,
    sb_offset: u64,
}

impl<D: BlockDevice> FfsReader<D> {
    /// Find and validate the superblock.
    pub fn open(mut dev: D) -> Result<Self, FfsError> {
        let mut why = Vec::new();
        for off in SBLOCKSEARCH {
            let mut b = vec![0u8; SB_BYTES];
            if dev.read_at(&mut b, off).is_err() {
                continue;
            }
            let sb = Superblock::decode(&b);
            if sb.magic != FS_UFS2_MAGIC {
                continue;
            }
            if sb.sblockloc as u64 != off {
                why.push(format!(
                    "superblock at {off} says it belongs at {}",
                    sb.sblockloc
                ));
                continue;
            }
            match geometry_of(&sb, dev.len()) {
                Ok(g) => {
                    return Ok(FfsReader {
                        dev,
                        sb,
                        g,
                        sb_offset: off,
                    });
                }
                Err(e) => why.push(format!("superblock at {off}: {e}")),
            }
        }
        if why.is_empty() {
            why.push("no UFS2 superblock at 65536, 8192, 0 or 262144".into());
        }
        Err(FfsError::NotFfs(why.join("; ")))
    }

    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }
    pub fn geometry(&self) -> &Geometry {
        &self.g
    }
    pub fn superblock_offset(&self) -> u64 {
        self.sb_offset
    }
    pub fn device(&mut self) -> &mut D {
        &mut self.dev
    }
    pub fn into_device(self) -> D {
        self.dev
    }

    /// Read `buf.len()` bytes at fragment `addr` (checked against fs_size).
    pub fn read_frags(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), FfsError> {
        let fs = self.g.fsize64();
        let end = addr
            .checked_mul(fs)
            .and_then(|o| o.checked_add(buf.len() as u64));
        match end {
            Some(e) if addr < self.g.size && e <= self.g.size * fs => {
                self.dev.read_at(buf, addr * fs)?;
                Ok(())
            }
            _ => Err(FfsError::Corrupt(format!(
                "block address {addr} is outside the file system"
            ))),
        }
    }

    pub fn inode(&mut self, ino: u32) -> Result<Dinode, FfsError> {
        if u64::from(ino) >= self.g.ninodes() {
            return Err(FfsError::Corrupt(format!("inode {ino} out of range")));
        }
        let mut b = [0u8; 256];
        let off = self.g.inode_offset(u64::from(ino));
        self.dev.read_at(&mut b, off)?;
        Ok(Dinode::decode(&b))
    }

    pub fn stat_ino(&mut self, ino: u32) -> Result<Stat, FfsError> {
        Ok(Stat::of(ino, &self.inode(ino)?))
    }

    /// Inode of `path` (absolute or relative to the root; symlinks in
    /// the path are not followed).
    pub fn lookup(&mut self, path: &str) -> Result<u32, FfsError> {
        let mut cur = ROOTINO as u32;
        for c in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
            let entries = self
                .read_dir(cur)
                .map_err(|_| FfsError::NotFound(path.into()))?;
            cur = entries
                .iter()
                .find(|e| e.name == c.as_bytes())
                .map(|e| e.ino)
                .ok_or_else(|| FfsError::NotFound(path.into()))?;
        }
        Ok(cur)
    }

    /// Inode of `path` with symbolic links followed (at most 32), like
    /// `open(2)` would; relative targets resolve against the link's
    /// directory, absolute ones against this file system's root.
    pub fn resolve(&mut self, path: &str) -> Result<u32, FfsError> {
        let mut comps: Vec<String> = Vec::new();
        let mut todo: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(str::to_string)
            .collect();
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    comps.pop();
                    continue;
                }
                _ => {}
            }
            comps.push(c);
            let joined = comps.join("/");
            let ino = self.lookup(&joined)?;
            let di = self.inode(ino)?;
            if di.file_type() != IFLNK {
                continue;
            }
            hops += 1;
            if hops > 32 {
                return Err(FfsError::Corrupt(format!(
                    "{path}: too many levels of symbolic links"
                )));
            }
            let target = String::from_utf8_lossy(&self.readlink(ino)?).into_owned();
            comps.pop();
            if target.starts_with('/') {
                comps.clear();
            }
            todo.extend(
                target
                    .split('/')
                    .filter(|c| !c.is_empty())
                    .rev()
                    .map(str::to_string),
            );
        }
        self.lookup(&comps.join("/"))
    }

    pub fn stat(&mut self, path: &str) -> Result<Stat, FfsError> {
        let ino = self.lookup(path)?;
        self.stat_ino(ino)
    }

    /// The raw bytes of a file or directory (up to `limit`).
    pub fn read_bytes(&mut self, ino: u32, limit: u64) -> Result<Vec<u8>, FfsError> {
        let di = self.inode(ino)?;
        if di.size > limit {
            return Err(FfsError::Corrupt(format!(
                "inode {ino} is {} bytes, more than {limit}",
                di.size
            )));
        }
        let mut out = Vec::with_capacity(di.size.min(1 << 20) as usize);
        self.write_data(&di, &mut out)?;
        Ok(out)
    }

    /// Directory entries of `ino` (including `.` and `..`).
    pub fn read_dir(&mut self, ino: u32) -> Result<Vec<DirEntry>, FfsError> {
        let di = self.inode(ino)?;
        if di.file_type() != IFDIR {
            return Err(FfsError::Corrupt(format!("inode {ino} is not a directory")));
        }
        let bytes = self.read_bytes(ino, self.max_dir())?;
        let (entries, problems) = dir::parse(&bytes);
        if let Some(p) = problems.first() {
            return Err(FfsError::Corrupt(format!(
                "directory inode {ino} at byte {}: {}",
                p.offset, p.what
            )));
        }
        Ok(entries)
    }

    /// Largest directory worth reading: 256 MiB or the file system's size.
    pub fn max_dir(&self) -> u64 {
        MAX_DIR.min(self.g.size.saturating_mul(self.g.fsize64()))
    }

    /// Target of symlink `ino`.
    pub fn readlink(&mut self, ino: u32) -> Result<Vec<u8>, FfsError> {
        let di = self.inode(ino)?;
        if di.file_type() != IFLNK {
            return Err(FfsError::Corrupt(format!("inode {ino} is not a symlink")));
        }
        if di.blocks == 0 && (di.size as usize) < MAXSYMLINKLEN {
            return Ok(di.inline_target());
        }
        self.read_bytes(ino, 4096)
    }

    /// Copy a file's contents to `out`; returns the bytes written.
    pub fn read_file(&mut self, ino: u32, out: &mut dyn Write) -> Result<u64, FfsError> {
        let di = self.inode(ino)?;
        if di.file_type() != IFREG {
            return Err(FfsError::Corrupt(format!(
                "inode {ino} is not a regular file"
            )));
        }
        self.write_data(&di, out)
    }

    fn write_data(&mut self, di: &Dinode, out: &mut dyn Write) -> Result<u64, FfsError> {
        let g = self.g.clone();
        let size = di.size;
        let bs = g.bsize64();
        let mut pos = 0u64;
        let mut err: Option<FfsError> = None;
        let zeros = vec![0u8; g.bsize as usize];
        let mut buf = vec![0u8; g.bsize as usize];
        let fs_bytes = g.size * g.fsize64();
        let emit = |out: &mut dyn Write, upto: u64, pos: &mut u64| -> std::io::Result<()> {
            while *pos < upto {
                let n = (upto - *pos).min(bs) as usize;
                out.write_all(&zeros[..n])?;
                *pos += n as u64;
            }
            Ok(())
        };
        let walked = data::walk(&mut self.dev, &g, di, false, &mut |dev, r| {
            if err.is_some() {
                return false;
            }
            let in_range = |a: u64, n: u64| {
                a.checked_mul(g.fsize64())
                    .and_then(|o| o.checked_add(n * g.fsize64()))
                    .is_some_and(|e| e <= fs_bytes)
            };
            match r {
                BlockRef::Indirect { addr, .. } => {
                    if in_range(addr, g.frag64()) {
                        true
                    } else {
                        err = Some(FfsError::Corrupt(format!(
                            "indirect block {addr} is outside the file system"
                        )));
                        false
                    }
                }
                BlockRef::Data { lbn, addr, frags } => {
                    let start = lbn.saturating_mul(bs);
                    if start >= size || start < pos {
                        return true;
                    }
                    if !in_range(addr, frags) {
                        err = Some(FfsError::Corrupt(format!(
                            "data block {addr} is outside the file system"
                        )));
                        return false;
                    }
                    let n = (size - start).min(bs).min(frags * g.fsize64()) as usize;
                    let res = emit(out, start, &mut pos)
                        .and_then(|_| dev.read_at(&mut buf[..n], addr * g.fsize64()))
                        .and_then(|_| out.write_all(&buf[..n]));
                    match res {
                        Ok(()) => {
                            pos = start + n as u64;
                            true
                        }
                        Err(e) => {
                            err = Some(FfsError::Io(e));
                            false
                        }
                    }
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        walked?;
        emit(out, size, &mut pos)?;
        Ok(pos)
    }
}
