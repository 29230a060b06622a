//! `struct fs` (sys/ufs/ffs/fs.h), the UFS2 superblock: 1376 bytes, each
//! field at its named offset. Fields the format keeps for UFS1 only
//! (`fs_old_*`) are written as zero except `fs_old_flags` and
//! `fs_old_inodefmt`.

use super::bytes::*;

/// `FS_UFS2_MAGIC`.
pub const FS_UFS2_MAGIC: i32 = 0x1954_0119;
/// `SBLOCK_UFS2`: byte offset of the primary superblock.
pub const SBLOCK_UFS2: u64 = 65536;
/// `SBLOCKSIZE`: room reserved for a superblock.
pub const SBLOCKSIZE: u64 = 8192;
/// `SBLOCKSEARCH`: where readers look for a superblock, in order.
pub const SBLOCKSEARCH: [u64; 4] = [65536, 8192, 0, 262144];
/// `sizeof(struct fs)`.
pub const SB_BYTES: usize = 1376;
/// `FS_ISCLEAN`.
pub const FS_ISCLEAN: i8 = 1;
/// `FS_FLAGS_UPDATED` in `fs_old_flags`.
pub const FS_FLAGS_UPDATED: u8 = 0x80;
/// `FS_DOSOFTDEP` in `fs_flags`.
pub const FS_DOSOFTDEP: u32 = 0x02;
/// `FS_44INODEFMT`.
pub const FS_44INODEFMT: i32 = 2;
/// `MAXVOLLEN`.
pub const MAXVOLLEN: usize = 32;

/// `struct csum_total` (64 bytes; only the first four counters are used).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsumTotal {
    pub ndir: i64,
    pub nbfree: i64,
    pub nifree: i64,
    pub nffree: i64,
    pub numclusters: i64,
}

/// `struct csum` (16 bytes): one cylinder group's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Csum {
    pub ndir: i32,
    pub nbfree: i32,
    pub nifree: i32,
    pub nffree: i32,
}

impl Csum {
    pub fn encode(&self, b: &mut [u8], off: usize) {
        put_i32(b, off, self.ndir);
        put_i32(b, off + 4, self.nbfree);
        put_i32(b, off + 8, self.nifree);
        put_i32(b, off + 12, self.nffree);
    }
    pub fn decode(b: &[u8], off: usize) -> Csum {
        Csum {
            ndir: get_i32(b, off),
            nbfree: get_i32(b, off + 4),
            nifree: get_i32(b, off + 8),
            nffree: get_i32(b, off + 12),
        }
    }
}

/// The superblock fields a UFS2 file system uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Superblock {
    pub sblkno: i32,
    pub cblkno: i32,
    pub iblkno: i32,
    pub dblkno: i32,
    pub old_time: i32,
    pub ncg: i32,
    pub bsize: i32,
    pub fsize: i32,
    pub frag: i32,
    pub minfree: i32,
    pub bmask: i32,
    pub fmask: i32,
    pub bshift: i32,
    pub fshift: i32,
    pub maxcontig: i32,
    pub maxbpg: i32,
    pub fragshift: i32,
    pub fsbtodb: i32,
    pub sbsize: i32,
    pub nindir: i32,
    pub inopb: i32,
    pub optim: i32,
    pub id: [i32; 2],
    pub cssize: i32,
    pub cgsize: i32,
    pub ipg: i32,
    pub fpg: i32,
    pub fmod: i8,
    pub clean: i8,
    pub ronly: i8,
    pub old_flags: u8,
    pub volname: [u8; MAXVOLLEN],
    pub maxbsize: i32,
    pub sblockloc: i64,
    pub cstotal: CsumTotal,
    pub time: i64,
    pub size: i64,
    pub dsize: i64,
    pub csaddr: i64,
    pub avgfilesize: i32,
    pub avgfpdir: i32,
    pub flags: u32,
    pub contigsumsize: i32,
    pub maxsymlinklen: i32,
    pub old_inodefmt: i32,
    pub maxfilesize: u64,
    pub qbmask: i64,
    pub qfmask: i64,
    pub magic: i32,
}

impl Superblock {
    /// Encode into `SB_BYTES` bytes (fields not listed are zero).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; SB_BYTES];
        put_i32(&mut b, 8, self.sblkno);
        put_i32(&mut b, 12, self.cblkno);
        put_i32(&mut b, 16, self.iblkno);
        put_i32(&mut b, 20, self.dblkno);
        put_i32(&mut b, 32, self.old_time);
        put_i32(&mut b, 44, self.ncg);
        put_i32(&mut b, 48, self.bsize);
        put_i32(&mut b, 52, self.fsize);
        put_i32(&mut b, 56, self.frag);
        put_i32(&mut b, 60, self.minfree);
        put_i32(&mut b, 72, self.bmask);
        put_i32(&mut b, 76, self.fmask);
        put_i32(&mut b, 80, self.bshift);
        put_i32(&mut b, 84, self.fshift);
        put_i32(&mut b, 88, self.maxcontig);
        put_i32(&mut b, 92, self.maxbpg);
        put_i32(&mut b, 96, self.fragshift);
        put_i32(&mut b, 100, self.fsbtodb);
        put_i32(&mut b, 104, self.sbsize);
        put_i32(&mut b, 116, self.nindir);
        put_i32(&mut b, 120, self.inopb);
        put_i32(&mut b, 128, self.optim);
        put_i32(&mut b, 144, self.id[0]);
        put_i32(&mut b, 148, self.id[1]);
        put_i32(&mut b, 156, self.cssize);
        put_i32(&mut b, 160, self.cgsize);
        put_i32(&mut b, 184, self.ipg);
        put_i32(&mut b, 188, self.fpg);
        b[208] = self.fmod as u8;
        b[209] = self.clean as u8;
        b[210] = self.ronly as u8;
        b[211] = self.old_flags;
        b[680..680 + MAXVOLLEN].copy_from_slice(&self.volname);
        put_i32(&mut b, 860, self.maxbsize);
        put_i64(&mut b, 1000, self.sblockloc);
        put_i64(&mut b, 1008, self.cstotal.ndir);
        put_i64(&mut b, 1016, self.cstotal.nbfree);
        put_i64(&mut b, 1024, self.cstotal.nifree);
        put_i64(&mut b, 1032, self.cstotal.nffree);
        put_i64(&mut b, 1040, self.cstotal.numclusters);
        put_i64(&mut b, 1072, self.time);
        put_i64(&mut b, 1080, self.size);
        put_i64(&mut b, 1088, self.dsize);
        put_i64(&mut b, 1096, self.csaddr);
        put_i32(&mut b, 1196, self.avgfilesize);
        put_i32(&mut b, 1200, self.avgfpdir);
        put_u32(&mut b, 1312, self.flags);
        put_i32(&mut b, 1316, self.contigsumsize);
        put_i32(&mut b, 1320, self.maxsymlinklen);
        put_i32(&mut b, 1324, self.old_inodefmt);
        put_u64(&mut b, 1328, self.maxfilesize);
        put_i64(&mut b, 1336, self.qbmask);
        put_i64(&mut b, 1344, self.qfmask);
        put_i32(&mut b, 1372, self.magic);
        b
    }

    /// Decode from (at least) `SB_BYTES` bytes; missing bytes read as zero.
    pub fn decode(b: &[u8]) -> Superblock {
        let mut volname = [0u8; MAXVOLLEN];
        if let Some(s) = b.get(680..680 + MAXVOLLEN) {
            volname.copy_from_slice(s);
        }
        let byte = |o: usize| b.get(o).copied().unwrap_or(0);
        Superblock {
            sblkno: get_i32(b, 8),
            cblkno: get_i32(b, 12),
            iblkno: get_i32(b, 16),
            dblkno: get_i32(b, 20),
            old_time: get_i32(b, 32),
            ncg: get_i32(b, 44),
            bsize: get_i32(b, 48),
            fsize: get_i32(b, 52),
            frag: get_i32(b, 56),
            minfree: get_i32(b, 60),
            bmask: get_i32(b, 72),
            fmask: get_i32(b, 76),
            bshift: get_i32(b, 80),
            fshift: get_i32(b, 84),
            maxcontig: get_i32(b, 88),
            maxbpg: get_i32(b, 92),
            fragshift: get_i32(b, 96),
            fsbtodb: get_i32(b, 100),
            sbsize: get_i32(b, 104),
            nindir: get_i32(b, 116),
            inopb: get_i32(b, 120),
            optim: get_i32(b, 128),
            id: [get_i32(b, 144), get_i32(b, 148)],
            cssize: get_i32(b, 156),
            cgsize: get_i32(b, 160),
            ipg: get_i32(b, 184),
            fpg: get_i32(b, 188),
            fmod: byte(208) as i8,
            clean: byte(209) as i8,
            ronly: byte(210) as i8,
            old_flags: byte(211),
            volname,
            maxbsize: get_i32(b, 860),
            sblockloc: get_i64(b, 1000),
            cstotal: CsumTotal {
                ndir: get_i64(b, 1008),
                nbfree: get_i64(b, 1016),
                nifree: get_i64(b, 1024),
                nffree: get_i64(b, 1032),
                numclusters: get_i64(b, 1040),
            },
            time: get_i64(b, 1072),
            size: get_i64(b, 1080),
            dsize: get_i64(b, 1088),
            csaddr: get_i64(b, 1096),
            avgfilesize: get_i32(b, 1196),
            avgfpdir: get_i32(b, 1200),
            flags: get_u32(b, 1312),
            contigsumsize: get_i32(b, 1316),
            maxsymlinklen: get_i32(b, 1320),
            old_inodefmt: get_i32(b, 1324),
            maxfilesize: get_u64(b, 1328),
            qbmask: get_i64(b, 1336),
            qfmask: get_i64(b, 1344),
            magic: get_i32(b, 1372),
        }
    }

    /// The volume label, up to the first NUL.
    pub fn label(&self) -> String {
        let end = self
            .volname
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(MAXVOLLEN);
        String::from_utf8_lossy(&self.volname[..end]).into_owned()
    }
}
