//! An fsck_ffs-grade checker. Superblock sanity and backups, then the
//! five passes of `sbin/fsck_ffs`: (1) every in-use inode's blocks are in
//! range, not shared and counted in `di_blocks`, unused inodes are
//! clear; (2) directory format, entries point at in-use inodes of the
//! right type; (3) every directory is reachable from the root; (4) link
//! counts equal references; (5) every cylinder group is recomputed and
//! compared byte for byte, with the summary area and `fs_cstotal`.
//! Never modifies anything; never panics on arbitrary bytes.

use std::collections::BTreeMap;
use std::fmt;

use super::FfsError;
use super::alloc::Allocator;
use super::bytes::bit;
use super::cg::{self, CG_MAGIC, CgHeader, CgState};
use super::data::{self, BlockRef};
use super::dinode::*;
use super::dir;
use super::geometry::{CG_HEADER, Geometry};
use super::reader::FfsReader;
use super::superblock::*;
use crate::disk::BlockDevice;

/// One problem found by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 0 for the superblock, 1..=5 for fsck's passes.
    pub pass: u8,
    pub what: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pass == 0 {
            write!(f, "superblock: {}", self.what)
        } else {
            write!(f, "pass {}: {}", self.pass, self.what)
        }
    }
}

/// Stop collecting after this many findings (a wrecked image).
const MAX_FINDINGS: usize = 1000;

#[derive(Debug, Clone, Copy)]
struct Info {
    mode: u16,
    nlink: i16,
    refs: u32,
    /// For directories: the directory holding its entry (0 = none yet).
    parent: u32,
}

struct Checker<D: BlockDevice> {
    r: FfsReader<D>,
    g: Geometry,
    out: Vec<Finding>,
    used: Allocator,
    inodes: BTreeMap<u32, Info>,
    /// (directory, entry target) for every entry other than `.`/`..`.
    edges: Vec<(u32, u32)>,
    cg_hdr: Vec<Option<CgHeader>>,
}

impl<D: BlockDevice> Checker<D> {
    fn find(&mut self, pass: u8, what: impl Into<String>) {
        if self.out.len() < MAX_FINDINGS {
            self.out.push(Finding {
                pass,
                what: what.into(),
            });
        }
    }
}

/// Check the file system on `dev`. `Err` when no usable superblock is
/// found (the image is unreadable as FFS); otherwise the findings, empty
/// when clean.
pub fn check<D: BlockDevice>(dev: D) -> Result<Vec<Finding>, FfsError> {
    let r = FfsReader::open(dev)?;
    let g = r.geometry().clone();
    let used = Allocator::new(&g);
    let mut c = Checker {
        r,
        used,
        inodes: BTreeMap::new(),
        edges: Vec::new(),
        cg_hdr: vec![None; g.ncg as usize],
        out: Vec::new(),
        g,
    };
    c.superblock();
    c.pass1()?;
    c.pass2();
    c.pass3_4();
    c.pass5();
    Ok(c.out)
}

impl<D: BlockDevice> Checker<D> {
    fn superblock(&mut self) {
        let sb = self.r.superblock().clone();
        let g = self.g.clone();
        let log2 = |v: u32| v.trailing_zeros() as i32;
        let expect: [(&str, i64, i64); 14] = [
            ("fs_bmask", sb.bmask.into(), (!(g.bsize as i32 - 1)).into()),
            ("fs_fmask", sb.fmask.into(), (!(g.fsize as i32 - 1)).into()),
            ("fs_bshift", sb.bshift.into(), log2(g.bsize).into()),
            ("fs_fshift", sb.fshift.into(), log2(g.fsize).into()),
            ("fs_fragshift", sb.fragshift.into(), log2(g.frag).into()),
            ("fs_fsbtodb", sb.fsbtodb.into(), log2(g.fsize / 512).into()),
            ("fs_qbmask", sb.qbmask, i64::from(g.bsize) - 1),
            ("fs_qfmask", sb.qfmask, i64::from(g.fsize) - 1),
            (
                "fs_maxsymlinklen",
                sb.maxsymlinklen.into(),
                MAXSYMLINKLEN as i64,
            ),
            (
                "fs_maxfilesize",
                sb.maxfilesize as i64,
                g.maxfilesize() as i64,
            ),
            (
                "fs_sbsize",
                sb.sbsize.into(),
                ((SB_BYTES as i64 + i64::from(g.fsize) - 1) / i64::from(g.fsize))
                    * i64::from(g.fsize),
            ),
            ("fs_csaddr", sb.csaddr, g.cgdmin(0) as i64),
            ("fs_dsize", sb.dsize, g.dsize() as i64),
            (
                "fs_sblockloc",
                sb.sblockloc,
                self.r.superblock_offset() as i64,
            ),
        ];
        for (name, have, want) in expect {
            if have != want {
                self.find(0, format!("{name} is {have}, should be {want}"));
            }
        }
        if !(0..=1).contains(&sb.optim) {
            self.find(0, format!("fs_optim {} is neither 0 nor 1", sb.optim));
        }
        if !(0..=99).contains(&sb.minfree) {
            self.find(0, format!("fs_minfree {} is not 0..99", sb.minfree));
        }
        if sb.clean != FS_ISCLEAN {
            self.find(
                0,
                format!("fs_clean is {}, file system not clean", sb.clean),
            );
        }
        let known = FS_DOSOFTDEP | 0x01 | 0x04 | 0x08 | 0x10 | 0x20 | 0x80;
        if sb.flags & !known != 0 {
            self.find(0, format!("unknown fs_flags bits {:#x}", sb.flags & !known));
        }
        // Backups: geometry must agree with the primary.
        let mut b = vec![0u8; SB_BYTES];
        for c in 0..g.ncg {
            let off = g.cgsblock(c) * g.fsize64();
            if self.r.device().read_at(&mut b, off).is_err() {
                self.find(0, format!("cg {c}: cannot read the backup superblock"));
                continue;
            }
            let bk = Superblock::decode(&b);
            let fields: [(&str, i64, i64); 16] = [
                ("fs_magic", bk.magic.into(), sb.magic.into()),
                ("fs_sblkno", bk.sblkno.into(), sb.sblkno.into()),
                ("fs_cblkno", bk.cblkno.into(), sb.cblkno.into()),
                ("fs_iblkno", bk.iblkno.into(), sb.iblkno.into()),
                ("fs_dblkno", bk.dblkno.into(), sb.dblkno.into()),
                ("fs_ncg", bk.ncg.into(), sb.ncg.into()),
                ("fs_bsize", bk.bsize.into(), sb.bsize.into()),
                ("fs_fsize", bk.fsize.into(), sb.fsize.into()),
                ("fs_frag", bk.frag.into(), sb.frag.into()),
                ("fs_ipg", bk.ipg.into(), sb.ipg.into()),
                ("fs_fpg", bk.fpg.into(), sb.fpg.into()),
                ("fs_size", bk.size, sb.size),
                ("fs_cgsize", bk.cgsize.into(), sb.cgsize.into()),
                ("fs_cssize", bk.cssize.into(), sb.cssize.into()),
                ("fs_csaddr", bk.csaddr, sb.csaddr),
                ("fs_sblockloc", bk.sblockloc, sb.sblockloc),
            ];
            for (name, have, want) in fields {
                if have != want {
                    self.find(
                        0,
                        format!("cg {c}: backup superblock has {name} {have}, primary has {want}"),
                    );
                    break;
                }
            }
        }
    }

    fn read_cg(&mut self, c: u32) -> Option<Vec<u8>> {
        let mut b = vec![0u8; self.g.cgsize as usize];
        let off = self.g.cgtod(c) * self.g.fsize64();
        self.r.device().read_at(&mut b, off).ok()?;
        Some(b)
    }

    fn pass1(&mut self) -> Result<(), FfsError> {
        let g = self.g.clone();
        let ipg = u64::from(g.ipg);
        let inopb = g.inopb();
        let mut iblock = vec![0u8; g.bsize as usize];
        for c in 0..g.ncg {
            let Some(cgb) = self.read_cg(c) else {
                self.find(1, format!("cg {c}: cannot read the cylinder group block"));
                continue;
            };
            let h = CgHeader::decode(&cgb);
            let mut inited = u64::from(h.initediblk.max(0) as u32).min(ipg);
            if h.magic != CG_MAGIC {
                self.find(1, format!("cg {c}: bad magic number {:#x}", h.magic));
                inited = ipg;
            }
            self.cg_hdr[c as usize] = Some(h);
            let mut k = 0;
            while k < inited {
                let off = (g.cgimin(c) + (k / inopb) * g.frag64()) * g.fsize64();
                if self.r.device().read_at(&mut iblock, off).is_err() {
                    self.find(1, format!("cg {c}: cannot read inode block {}", k / inopb));
                    k += inopb;
                    continue;
                }
                for j in 0..inopb.min(inited - k) {
                    let ino = u64::from(c) * ipg + k + j;
                    let raw = &iblock[(j * 256) as usize..(j * 256 + 256) as usize];
                    self.inode1(ino as u32, raw);
                }
                k += inopb;
            }
        }
        match self.inodes.get(&(ROOTINO as u32)) {
            Some(i) if i.mode & IFMT == IFDIR => {}
            _ => self.find(1, "root inode 2 is not an allocated directory"),
        }
        Ok(())
    }

    fn inode1(&mut self, ino: u32, raw: &[u8]) {
        if ino < ROOTINO as u32 {
            return;
        }
        let di = Dinode::decode(raw);
        if di.mode == 0 {
            // fsck_ffs: PARTIALLY ALLOCATED INODE (di_gen may be random).
            if di.size != 0 || di.db.iter().chain(di.ib.iter()).any(|&a| a != 0) {
                self.find(
                    1,
                    format!("inode {ino} is partially allocated (mode 0 but size or blocks set)"),
                );
            }
            return;
        }
        let ft = di.file_type();
        if ![IFREG, IFDIR, IFLNK, IFCHR, IFBLK, IFIFO, IFSOCK].contains(&ft) {
            self.find(1, format!("inode {ino} has unknown file type {:#o}", ft));
            return;
        }
        let g = self.g.clone();
        if di.size > g.maxfilesize() {
            self.find(
                1,
                format!("inode {ino} has size {} beyond the maximum", di.size),
            );
            return;
        }
        if ft == IFDIR && !di.size.is_multiple_of(dir::DIRBLKSIZ as u64) {
            self.find(
                1,
                format!(
                    "directory inode {ino} has size {} not a multiple of 512",
                    di.size
                ),
            );
        }
        let inline_link = ft == IFLNK && di.blocks == 0 && (di.size as usize) < MAXSYMLINKLEN;
        let mut counted = 0u64;
        if matches!(ft, IFREG | IFDIR | IFLNK) && !inline_link {
            let last_lbn = if di.size == 0 {
                None
            } else {
                Some((di.size - 1) / g.bsize64())
            };
            let mut problems: Vec<String> = Vec::new();
            let used = &mut self.used;
            let total = g.size;
            let res = data::walk(self.r.device(), &g, &di, true, &mut |_, r| {
                let (addr, n, lbn) = match r {
                    BlockRef::Data { lbn, addr, frags } => (addr, frags, Some(lbn)),
                    BlockRef::Indirect { addr, .. } => (addr, g.frag64(), None),
                };
                if let (Some(l), Some(last)) = (lbn, last_lbn) {
                    if l > last {
                        problems.push(format!(
                            "block pointer {addr} past the end of file (lbn {l})"
                        ));
                        return false;
                    }
                } else if lbn.is_some() && last_lbn.is_none() {
                    problems.push(format!("block pointer {addr} in an empty file"));
                    return false;
                }
                let end = addr.checked_add(n);
                if end.is_none_or(|e| e > total) || addr % g.frag64() + n > g.frag64() {
                    problems.push(format!("bad block address {addr} ({n} fragments)"));
                    return false;
                }
                if (addr..addr + n).any(|f| used.is_used(f)) {
                    problems.push(format!(
                        "block {addr} is also used by another inode or metadata"
                    ));
                    return false;
                }
                used.mark(addr, n, true);
                counted += n * g.fsize64() / 512;
                true
            });
            if let Err(e) = res {
                problems.push(format!("cannot read an indirect block: {e}"));
            }
            for p in problems.into_iter().take(10) {
                self.find(1, format!("inode {ino}: {p}"));
            }
        }
        if di.blocks != counted {
            self.find(
                1,
                format!(
                    "inode {ino}: di_blocks is {}, it holds {counted}",
                    di.blocks
                ),
            );
        }
        self.inodes.insert(
            ino,
            Info {
                mode: di.mode,
                nlink: di.nlink,
                refs: 0,
                parent: 0,
            },
        );
    }

    fn pass2(&mut self) {
        let dirs: Vec<u32> = self
            .inodes
            .iter()
            .filter(|(_, i)| i.mode & IFMT == IFDIR)
            .map(|(&n, _)| n)
            .collect();
        for d in dirs {
            let limit = self.r.max_dir();
            let bytes = match self.r.read_bytes(d, limit) {
                Ok(b) => b,
                Err(e) => {
                    self.find(2, format!("directory inode {d}: cannot read: {e}"));
                    continue;
                }
            };
            let (entries, problems) = dir::parse(&bytes);
            for p in problems.iter().take(5) {
                self.find(
                    2,
                    format!("directory inode {d} at byte {}: {}", p.offset, p.what),
                );
            }
            for (i, e) in entries.iter().enumerate() {
                let name = String::from_utf8_lossy(&e.name).into_owned();
                let special = e.name == b"." || e.name == b"..";
                if i == 0 && !(e.name == b"." && e.ino == d) {
                    self.find(2, format!("directory inode {d}: first entry is not '.'"));
                }
                if i == 1 && e.name != b".." {
                    self.find(2, format!("directory inode {d}: second entry is not '..'"));
                }
                if special && i > 1 {
                    self.find(2, format!("directory inode {d}: extra '{name}' entry"));
                    continue;
                }
                let Some(t) = self.inodes.get_mut(&e.ino) else {
                    self.find(
                        2,
                        format!(
                            "directory inode {d}: entry '{name}' points to unallocated inode {}",
                            e.ino
                        ),
                    );
                    continue;
                };
                t.refs += 1;
                let mode = t.mode;
                let mut prev = 0;
                if !special && mode & IFMT == IFDIR {
                    prev = t.parent;
                    t.parent = d;
                }
                if e.dtype != iftodt(mode) {
                    let dt = e.dtype;
                    self.find(
                        2,
                        format!("directory inode {d}: entry '{name}' has type {dt}, inode {} is type {}", e.ino, iftodt(mode)),
                    );
                }
                if special {
                    continue;
                }
                if prev != 0 {
                    self.find(
                        2,
                        format!("directory inode {} is linked from {prev} and {d}", e.ino),
                    );
                }
                self.edges.push((d, e.ino));
            }
            // '..' must name the parent; checked after all entries are seen.
            if let Some(dd) = entries.get(1).filter(|e| e.name == b"..") {
                self.edges.push((d | 0x8000_0000, dd.ino));
            }
        }
    }

    fn pass3_4(&mut self) {
        let root = ROOTINO as u32;
        // '..' checks.
        let dotdots: Vec<(u32, u32)> = self
            .edges
            .iter()
            .filter(|(d, _)| d & 0x8000_0000 != 0)
            .map(|(d, t)| (d & 0x7fff_ffff, *t))
            .collect();
        for (d, t) in dotdots {
            let want = if d == root {
                root
            } else {
                self.inodes.get(&d).map_or(0, |i| i.parent)
            };
            if want != 0 && t != want {
                self.find(
                    3,
                    format!("directory inode {d}: '..' is {t}, should be {want}"),
                );
            }
        }
        let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for &(d, t) in &self.edges {
            if d & 0x8000_0000 == 0 {
                children.entry(d).or_default().push(t);
            }
        }
        let mut reach = std::collections::BTreeSet::new();
        let mut stack = vec![root];
        reach.insert(root);
        while let Some(d) = stack.pop() {
            for &t in children.get(&d).map(Vec::as_slice).unwrap_or(&[]) {
                if reach.insert(t) && self.inodes.get(&t).is_some_and(|i| i.mode & IFMT == IFDIR) {
                    stack.push(t);
                }
            }
        }
        let all: Vec<(u32, Info)> = self.inodes.iter().map(|(&n, &i)| (n, i)).collect();
        for (n, i) in all {
            if !reach.contains(&n) {
                if i.mode & IFMT == IFDIR {
                    self.find(
                        3,
                        format!("directory inode {n} is not reachable from the root"),
                    );
                } else {
                    self.find(4, format!("inode {n} is not referenced by any directory"));
                }
                continue;
            }
            if i32::from(i.nlink) != i.refs as i32 {
                self.find(
                    4,
                    format!("inode {n}: link count is {}, should be {}", i.nlink, i.refs),
                );
            }
        }
    }

    fn pass5(&mut self) {
        let g = self.g.clone();
        let ipg = u64::from(g.ipg);
        let (iusedoff, freeoff, csumoff, clusteroff, nextfreeoff) = g.cg_offsets();
        let mut total = CsumTotal::default();
        let mut cs_expect = vec![0u8; g.cssize as usize];
        for c in 0..g.ncg {
            let Some(disk) = self.read_cg(c) else {
                continue;
            };
            let h = self.cg_hdr[c as usize].clone().unwrap_or_default();
            let first = u64::from(c) * ipg;
            let inodes = &self.inodes;
            let inode_used = |i: u64| {
                let ino = first + i;
                ino < ROOTINO || inodes.contains_key(&(ino as u32))
            };
            let ndir = inodes
                .range(first as u32..(first + ipg).min(u64::from(u32::MAX)) as u32)
                .filter(|(_, i)| i.mode & IFMT == IFDIR)
                .count() as u32;
            let base = g.cgbase(c);
            let used = &self.used;
            let ndblk = g.cg_ndblk(c) as i32;
            let rot = |v: i32, max: i32| if (0..max).contains(&v) { v } else { 0 };
            let st = CgState {
                inode_used: &inode_used,
                frag_used: &|d| used.is_used(base + d),
                ndir,
                initediblk: h.initediblk.clamp(0, g.ipg as i32) as u32,
                time: h.time,
                rotors: (
                    rot(h.rotor, ndblk),
                    rot(h.frotor, ndblk),
                    rot(h.irotor, g.ipg as i32),
                ),
            };
            let (mut want, cs) = cg::build(&g, c, &st);
            super::bytes::put_i32(&mut want, 8, h.old_time);
            // FreeBSD's cg_ckhash (a check hash fsck recomputes; not ours to judge).
            super::bytes::put_u32(&mut want, 124, super::bytes::get_u32(&disk, 124));
            cs.encode(&mut cs_expect, 16 * c as usize);
            total.ndir += i64::from(cs.ndir);
            total.nbfree += i64::from(cs.nbfree);
            total.nifree += i64::from(cs.nifree);
            total.nffree += i64::from(cs.nffree);
            if want == disk {
                continue;
            }
            let regions = [
                ("header", 0, CG_HEADER),
                ("used-inode map", iusedoff, freeoff),
                (
                    "free-block map",
                    freeoff,
                    if csumoff > 0 { csumoff } else { nextfreeoff },
                ),
                ("cluster summary", csumoff, clusteroff),
                ("free-cluster map", clusteroff, nextfreeoff),
                ("padding", nextfreeoff, want.len() as u64),
            ];
            for (name, from, to) in regions {
                if to <= from {
                    continue;
                }
                let (f, t) = (from as usize, to as usize);
                if let Some(i) = (f..t).find(|&i| want.get(i) != disk.get(i)) {
                    let detail = if name == "free-block map" {
                        let frag = ((i - f) * 8) as u64;
                        let d = (frag..frag + 8)
                            .find(|&k| bit(&want[f..], k) != bit(&disk[f..], k))
                            .unwrap_or(frag);
                        format!(
                            ": fragment {} is {} on disk but {}",
                            base + d,
                            if bit(&disk[f..], d) { "free" } else { "in use" },
                            if bit(&want[f..], d) { "free" } else { "in use" }
                        )
                    } else if name == "used-inode map" {
                        let k = ((i - f) * 8) as u64;
                        let d = (k..k + 8)
                            .find(|&x| bit(&want[f..], x) != bit(&disk[f..], x))
                            .unwrap_or(k);
                        format!(
                            ": inode {} is marked {}",
                            first + d,
                            if bit(&disk[f..], d) { "used" } else { "free" }
                        )
                    } else {
                        format!(" at byte {}", i - f)
                    };
                    self.find(5, format!("cg {c}: {name} differs{detail}"));
                }
            }
        }
        let sb = self.r.superblock().clone();
        let mut area = vec![0u8; g.cssize as usize];
        if self
            .r
            .device()
            .read_at(&mut area, g.csaddr * g.fsize64())
            .is_err()
        {
            self.find(5, "cannot read the cylinder-group summary area");
        } else if area != cs_expect {
            let i = (0..area.len())
                .find(|&i| area[i] != cs_expect[i])
                .unwrap_or(0);
            self.find(5, format!("summary information for cg {} differs", i / 16));
        }
        let t = sb.cstotal;
        if (t.ndir, t.nbfree, t.nifree, t.nffree)
            != (total.ndir, total.nbfree, total.nifree, total.nffree)
        {
            self.find(
                5,
                format!(
                    "fs_cstotal (dirs {}, free blocks {}, free inodes {}, free frags {}) should be ({}, {}, {}, {})",
                    t.ndir, t.nbfree, t.nifree, t.nffree, total.ndir, total.nbfree, total.nifree, total.nffree
                ),
            );
        }
    }
}
