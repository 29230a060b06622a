//! `struct cg` (sys/ufs/ffs/fs.h): a cylinder group's header and maps
//! (used-inode map, free-fragment map, cluster summary, free-cluster
//! map). [`build`] derives a complete group block from which inodes and
//! fragments are in use; the writer stores it and the checker (pass 5)
//! compares it byte for byte with what is on disk.

use super::bytes::*;
use super::geometry::{CG_HEADER, Geometry};
use super::superblock::Csum;

/// `CG_MAGIC`.
pub const CG_MAGIC: i32 = 0x090255;

/// The header fields of a cylinder group (first 168 bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgHeader {
    pub magic: i32,
    pub old_time: i32,
    pub cgx: i32,
    pub ndblk: i32,
    pub cs: Csum,
    pub rotor: i32,
    pub frotor: i32,
    pub irotor: i32,
    pub frsum: [i32; 8],
    pub iusedoff: i32,
    pub freeoff: i32,
    pub nextfreeoff: i32,
    pub clustersumoff: i32,
    pub clusteroff: i32,
    pub nclusterblks: i32,
    pub niblk: i32,
    pub initediblk: i32,
    pub time: i64,
}

impl CgHeader {
    pub fn encode(&self, b: &mut [u8]) {
        put_i32(b, 4, self.magic);
        put_i32(b, 8, self.old_time);
        put_i32(b, 12, self.cgx);
        put_i32(b, 20, self.ndblk);
        self.cs.encode(b, 24);
        put_i32(b, 40, self.rotor);
        put_i32(b, 44, self.frotor);
        put_i32(b, 48, self.irotor);
        for (i, v) in self.frsum.iter().enumerate() {
            put_i32(b, 52 + 4 * i, *v);
        }
        put_i32(b, 92, self.iusedoff);
        put_i32(b, 96, self.freeoff);
        put_i32(b, 100, self.nextfreeoff);
        put_i32(b, 104, self.clustersumoff);
        put_i32(b, 108, self.clusteroff);
        put_i32(b, 112, self.nclusterblks);
        put_i32(b, 116, self.niblk);
        put_i32(b, 120, self.initediblk);
        put_i64(b, 136, self.time);
    }

    pub fn decode(b: &[u8]) -> CgHeader {
        let mut frsum = [0i32; 8];
        for (i, v) in frsum.iter_mut().enumerate() {
            *v = get_i32(b, 52 + 4 * i);
        }
        CgHeader {
            magic: get_i32(b, 4),
            old_time: get_i32(b, 8),
            cgx: get_i32(b, 12),
            ndblk: get_i32(b, 20),
            cs: Csum::decode(b, 24),
            rotor: get_i32(b, 40),
            frotor: get_i32(b, 44),
            irotor: get_i32(b, 48),
            frsum,
            iusedoff: get_i32(b, 92),
            freeoff: get_i32(b, 96),
            nextfreeoff: get_i32(b, 100),
            clustersumoff: get_i32(b, 104),
            clusteroff: get_i32(b, 108),
            nclusterblks: get_i32(b, 112),
            niblk: get_i32(b, 116),
            initediblk: get_i32(b, 120),
            time: get_i64(b, 136),
        }
    }
}

/// What a group holds, as the writer knows it or the checker found it.
pub struct CgState<'a> {
    /// Used-inode bits, `ipg` of them (bit set = in use).
    pub inode_used: &'a dyn Fn(u64) -> bool,
    /// Used-fragment test for fragment `f` relative to the group.
    pub frag_used: &'a dyn Fn(u64) -> bool,
    pub ndir: u32,
    pub initediblk: u32,
    pub time: i64,
    /// Rotor fields kept from the disk (pass 5 keeps them when in range).
    pub rotors: (i32, i32, i32),
}

/// Build group `c`'s block (`fs_cgsize` bytes) and its summary.
pub fn build(g: &Geometry, c: u32, st: &CgState<'_>) -> (Vec<u8>, Csum) {
    let mut b = vec![0u8; g.cgsize as usize];
    let (iusedoff, freeoff, csumoff, clusteroff, nextfreeoff) = g.cg_offsets();
    let ndblk = g.cg_ndblk(c);
    let frag = g.frag64();
    let mut h = CgHeader {
        magic: CG_MAGIC,
        cgx: c as i32,
        ndblk: ndblk as i32,
        rotor: st.rotors.0,
        frotor: st.rotors.1,
        irotor: st.rotors.2,
        iusedoff: iusedoff as i32,
        freeoff: freeoff as i32,
        nextfreeoff: nextfreeoff as i32,
        clustersumoff: csumoff as i32,
        clusteroff: clusteroff as i32,
        nclusterblks: if g.contigsumsize > 0 {
            (ndblk / frag) as i32
        } else {
            0
        },
        niblk: g.ipg as i32,
        initediblk: st.initediblk as i32,
        time: st.time,
        ..CgHeader::default()
    };
    let mut cs = Csum {
        ndir: st.ndir as i32,
        ..Csum::default()
    };
    let mut nifree = 0;
    for i in 0..u64::from(g.ipg) {
        if (st.inode_used)(i) {
            set_bit(&mut b[iusedoff as usize..], i, true);
        } else {
            nifree += 1;
        }
    }
    cs.nifree = nifree;
    let free_map = freeoff as usize;
    let mut run = 0u64; // current run of free whole blocks (clusters)
    let csum_max = u64::from(g.contigsumsize);
    let mut clustersum = vec![0i32; csum_max as usize + 1];
    let flush_run = |run: &mut u64, clustersum: &mut Vec<i32>| {
        if *run > 0 && csum_max > 0 {
            let i = (*run).min(csum_max) as usize;
            clustersum[i] += 1;
        }
        *run = 0;
    };
    let nblocks = ndblk.div_ceil(frag);
    for blk in 0..nblocks {
        let mut nfree = 0;
        let mut frun = 0u64;
        let mut runs = [0i32; 8];
        for f in 0..frag {
            let d = blk * frag + f;
            let free = d < ndblk && !(st.frag_used)(d);
            if free {
                set_bit(&mut b[free_map..], d, true);
                nfree += 1;
                frun += 1;
            } else {
                if frun > 0 {
                    runs[frun as usize % 8] += 1;
                }
                frun = 0;
            }
        }
        if frun > 0 {
            runs[frun as usize % 8] += 1;
        }
        if nfree == frag {
            cs.nbfree += 1;
            if csum_max > 0 {
                set_bit(&mut b[clusteroff as usize..], blk, true);
                run += 1;
            }
        } else {
            flush_run(&mut run, &mut clustersum);
            if nfree > 0 {
                cs.nffree += nfree as i32;
                for (i, r) in runs.iter().enumerate().skip(1) {
                    h.frsum[i] += r;
                }
            }
        }
    }
    flush_run(&mut run, &mut clustersum);
    if csum_max > 0 {
        for (i, v) in clustersum.iter().enumerate().skip(1) {
            put_i32(&mut b, csumoff as usize + 4 * i, *v);
        }
    }
    h.cs = cs;
    h.encode(&mut b[..CG_HEADER as usize]);
    (b, cs)
}
