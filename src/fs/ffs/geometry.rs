//! The layout of a file system, computed once from its size the way
//! newfs does (FreeBSD's and NetBSD's `sbin/newfs/mkfs.c` share the UFS2
//! algorithm): block and fragment size, inodes per group (`fs_ipg`),
//! fragments per group (`fs_fpg`), number of cylinder groups and where
//! each group's superblock copy, cylinder-group block, inode table and
//! data start.
//!
//! Deliberate differences from NetBSD newfs: file systems of 1000 MiB and
//! more get 32 KiB blocks and 4 KiB fragments (NetBSD's newfs keeps
//! 16 KiB/2 KiB there; FreeBSD's newfs and NetBSD's installer use
//! 32 KiB/4 KiB), and `fs_old_cpg` is 0 as FreeBSD's newfs writes it for
//! UFS2, so `CGSIZE` has no old rotational tables. `fs_sblockloc` is
//! 65536 like newfs (makefs uses 8192). Like newfs, groups stop growing
//! when fewer than `MINCYLGRPS` (4) would remain; makefs lets a small file
//! system have a single group. Where the block size limits the group
//! (larger file systems) ipg/fpg/cgsize equal makefs's (tested).

use super::FfsError;
use super::superblock::{SBLOCK_UFS2, SBLOCKSIZE};

/// `UFS_NDADDR`, `UFS_NIADDR`.
pub const NDADDR: u64 = 12;
pub const NIADDR: u64 = 3;
/// `sizeof(struct ufs2_dinode)`.
pub const DINODE_SIZE: u64 = 256;
/// `MINBSIZE`, `MAXBSIZE`, `MAXFRAG`.
pub const MINBSIZE: u32 = 4096;
pub const MAXBSIZE: u32 = 65536;
pub const MAXFRAG: u32 = 8;
/// `FS_MAXCONTIG`.
pub const FS_MAXCONTIG: u32 = 16;
/// `MINCYLGRPS`.
pub const MINCYLGRPS: u64 = 4;
/// `sizeof(struct cg)` and the header length (`cg_space` offset).
pub const CG_STRUCT: u64 = 176;
pub const CG_HEADER: u64 = 168;

/// Every derived number of a file system's layout. Addresses are in
/// fragments from the start of the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    pub bsize: u32,
    pub fsize: u32,
    pub frag: u32,
    /// Total size in fragments (`fs_size`).
    pub size: u64,
    pub ncg: u32,
    pub ipg: u32,
    pub fpg: u32,
    pub sblkno: u32,
    pub cblkno: u32,
    pub iblkno: u32,
    pub dblkno: u32,
    pub cgsize: u32,
    pub cssize: u32,
    pub csaddr: u64,
    pub contigsumsize: u32,
    pub maxcontig: u32,
}

fn howmany(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

fn roundup(a: u64, b: u64) -> u64 {
    a.div_ceil(b) * b
}

/// `CGSIZE(fs)` for UFS2 with `fs_old_cpg == 0`.
pub fn cgsize_raw(ipg: u64, fpg: u64, frag: u64, contigsumsize: u64) -> u64 {
    let mut s = CG_STRUCT + 4 + howmany(ipg, 8) + howmany(fpg, 8);
    if contigsumsize > 0 {
        s += contigsumsize * 4 + howmany(fpg / frag, 8);
    }
    s
}

impl Geometry {
    /// newfs's defaults for a file system of `bytes` bytes: (bsize, fsize).
    pub fn default_sizes(bytes: u64) -> (u32, u32) {
        if bytes < 20 * 1024 * 1024 {
            (4096, 512)
        } else if bytes < 1000 * 1024 * 1024 {
            (8192, 1024)
        } else {
            (32768, 4096)
        }
    }

    /// Compute the layout for `bytes` bytes. `density` is bytes of data
    /// per inode (newfs `-i`, default 4 fragments).
    pub fn for_size(
        bytes: u64,
        bsize: Option<u32>,
        fsize: Option<u32>,
        density: Option<u32>,
        maxcontig: u32,
    ) -> Result<Geometry, FfsError> {
        let (db, df) = Self::default_sizes(bytes);
        let bsize = bsize.unwrap_or(db);
        let fsize = fsize.unwrap_or(if bsize == db {
            df
        } else {
            (bsize / 8).max(512)
        });
        let bad = |why: String| Err(FfsError::Geometry(why));
        if !bsize.is_power_of_two() || !(MINBSIZE..=MAXBSIZE).contains(&bsize) {
            return bad(format!(
                "block size {bsize} is not a power of two between 4096 and 65536"
            ));
        }
        if !fsize.is_power_of_two() || fsize < 512 || fsize > bsize || bsize / fsize > MAXFRAG {
            return bad(format!(
                "fragment size {fsize} must be a power of two, at least 512 and 1/1..1/8 of the block size {bsize}"
            ));
        }
        let frag = u64::from(bsize / fsize);
        let (bs, fs) = (u64::from(bsize), u64::from(fsize));
        let size = bytes / fs;
        let inopb = bs / DINODE_SIZE;
        let inopf = inopb / frag;
        let sblkno = roundup(howmany(SBLOCK_UFS2 + SBLOCKSIZE, fs), frag);
        let cblkno = sblkno + roundup(howmany(SBLOCKSIZE, fs), frag);
        let iblkno = cblkno + frag;
        let contigsumsize = u64::from(maxcontig.min(FS_MAXCONTIG));
        let contigsumsize = if maxcontig > 1 { contigsumsize } else { 0 };
        let mut density = u64::from(density.unwrap_or(4 * fsize)).max(fs);
        let fits = |ipg: u64, fpg: u64| cgsize_raw(ipg, fpg, frag, contigsumsize) <= bs;
        // Smallest group that holds its own metadata, then grow it (newfs).
        let (mut fpg, fragsperinode): (u64, u64);
        loop {
            let fpi = (density / fs).max(1);
            let minfpg = (fpi * inopb).min(size);
            let mut f = roundup(iblkno + inopb / inopf, frag).max(minfpg);
            let mut i = roundup(howmany(f, fpi), inopb);
            f = roundup(iblkno + i / inopf, frag).max(minfpg);
            i = roundup(howmany(f, fpi), inopb);
            if cgsize_raw(i, f, frag, contigsumsize) < bs || density <= fs {
                fpg = f;
                fragsperinode = fpi;
                break;
            }
            density -= fs;
        }
        let maxfpg = size.min(u64::from(i32::MAX as u32));
        let ipg_for = |fpg: u64| roundup(howmany(fpg, fragsperinode), inopb);
        let mut ipg;
        while fpg < maxfpg {
            ipg = ipg_for(fpg);
            if size / fpg < MINCYLGRPS {
                break;
            }
            let cg = cgsize_raw(ipg, fpg, frag, contigsumsize);
            if cg < bs {
                fpg += frag;
                continue;
            }
            if cg > bs {
                fpg -= frag;
            }
            break;
        }
        ipg = ipg_for(fpg);
        while !fits(ipg, fpg) && fpg > frag {
            fpg -= frag;
            ipg = ipg_for(fpg);
        }
        // The last group must hold its own metadata.
        loop {
            let lastmin = roundup(iblkno + ipg / inopf, frag);
            if size < lastmin + frag {
                return bad(format!(
                    "{bytes} bytes is too small for a file system with {bsize}-byte blocks"
                ));
            }
            if size % fpg >= lastmin || size.is_multiple_of(fpg) {
                break;
            }
            fpg -= frag;
            ipg = ipg_for(fpg);
        }
        let ncg = howmany(size, fpg);
        let cgsize = roundup(cgsize_raw(ipg, fpg, frag, contigsumsize), fs);
        let dblkno = iblkno + ipg / inopf;
        let cssize = roundup(ncg * 16, fs);
        let csaddr = dblkno;
        if ncg > u64::from(i32::MAX as u32) || ipg * ncg > u64::from(u32::MAX) {
            return bad(format!("{bytes} bytes needs too many inodes"));
        }
        // Cylinder group 0 must hold the summary area too.
        if csaddr + howmany(cssize, fs) > fpg.min(size) {
            return bad(format!("{bytes} bytes is too small for its summary area"));
        }
        Ok(Geometry {
            bsize,
            fsize,
            frag: frag as u32,
            size,
            ncg: ncg as u32,
            ipg: ipg as u32,
            fpg: fpg as u32,
            sblkno: sblkno as u32,
            cblkno: cblkno as u32,
            iblkno: iblkno as u32,
            dblkno: dblkno as u32,
            cgsize: cgsize as u32,
            cssize: cssize as u32,
            csaddr,
            contigsumsize: contigsumsize as u32,
            maxcontig,
        })
    }

    pub fn inopb(&self) -> u64 {
        u64::from(self.bsize) / DINODE_SIZE
    }
    pub fn nindir(&self) -> u64 {
        u64::from(self.bsize) / 8
    }
    pub fn frag64(&self) -> u64 {
        u64::from(self.frag)
    }
    pub fn fsize64(&self) -> u64 {
        u64::from(self.fsize)
    }
    pub fn bsize64(&self) -> u64 {
        u64::from(self.bsize)
    }
    /// `cgbase(fs, c)`.
    pub fn cgbase(&self, c: u32) -> u64 {
        u64::from(self.fpg) * u64::from(c)
    }
    /// `cgsblock`, `cgtod`, `cgimin`, `cgdmin`.
    pub fn cgsblock(&self, c: u32) -> u64 {
        self.cgbase(c) + u64::from(self.sblkno)
    }
    pub fn cgtod(&self, c: u32) -> u64 {
        self.cgbase(c) + u64::from(self.cblkno)
    }
    pub fn cgimin(&self, c: u32) -> u64 {
        self.cgbase(c) + u64::from(self.iblkno)
    }
    pub fn cgdmin(&self, c: u32) -> u64 {
        self.cgbase(c) + u64::from(self.dblkno)
    }
    /// Fragments in group `c` (`cg_ndblk`).
    pub fn cg_ndblk(&self, c: u32) -> u64 {
        let base = self.cgbase(c);
        (base + u64::from(self.fpg)).min(self.size) - base
    }
    /// First fragment after group `c`'s metadata (and, in group 0, the
    /// summary area) relative to the group (`dupper` in newfs).
    pub fn cg_dupper(&self, c: u32) -> u64 {
        let mut d = u64::from(self.dblkno);
        if c == 0 {
            d += howmany(u64::from(self.cssize), self.fsize64());
        }
        d
    }
    /// Fragments at the start of group `c` before its superblock copy
    /// that hold data (`dlower`; none in group 0: boot area and primary
    /// superblock).
    pub fn cg_dlower(&self, c: u32) -> u64 {
        if c == 0 { 0 } else { u64::from(self.sblkno) }
    }
    /// Byte offset of inode `ino`.
    pub fn inode_offset(&self, ino: u64) -> u64 {
        let ipg = u64::from(self.ipg);
        let cg = (ino / ipg) as u32;
        let idx = ino % ipg;
        let blk = self.cgimin(cg) + (idx / self.inopb()) * self.frag64();
        blk * self.fsize64() + (idx % self.inopb()) * DINODE_SIZE
    }
    /// Total inodes.
    pub fn ninodes(&self) -> u64 {
        u64::from(self.ipg) * u64::from(self.ncg)
    }
    /// Data fragments (`fs_dsize`).
    pub fn dsize(&self) -> u64 {
        (0..self.ncg)
            .map(|c| (self.cg_dlower(c) + self.cg_ndblk(c)).saturating_sub(self.cg_dupper(c)))
            .sum()
    }
    /// `fs_maxfilesize`.
    pub fn maxfilesize(&self) -> u64 {
        let mut m = self.bsize64() * NDADDR - 1;
        let mut sizepb = self.bsize64();
        for _ in 0..NIADDR {
            sizepb = sizepb.saturating_mul(self.nindir());
            m = m.saturating_add(sizepb);
        }
        m
    }
    /// Bytes of the cylinder-group map offsets: (iusedoff, freeoff,
    /// clustersumoff, clusteroff, nextfreeoff).
    pub fn cg_offsets(&self) -> (u64, u64, u64, u64, u64) {
        let iused = CG_HEADER;
        let free = iused + howmany(u64::from(self.ipg), 8);
        let fpgb = howmany(u64::from(self.fpg), 8);
        if self.contigsumsize == 0 {
            return (iused, free, 0, 0, free + fpgb);
        }
        let csum = roundup(free + fpgb - 4, 4);
        let cl = csum + (u64::from(self.contigsumsize) + 1) * 4;
        let next = cl + howmany(u64::from(self.fpg) / self.frag64(), 8);
        (iused, free, csum, cl, next)
    }
}
