//! `struct ufs2_dinode` (sys/ufs/ufs/dinode.h): 256 bytes per inode.

use super::bytes::*;
use crate::entry::Timestamp;

/// `IFMT` and the file types.
pub const IFMT: u16 = 0o170000;
pub const IFIFO: u16 = 0o010000;
pub const IFCHR: u16 = 0o020000;
pub const IFDIR: u16 = 0o040000;
pub const IFBLK: u16 = 0o060000;
pub const IFREG: u16 = 0o100000;
pub const IFLNK: u16 = 0o120000;
pub const IFSOCK: u16 = 0o140000;
/// `UFS_ROOTINO`.
pub const ROOTINO: u64 = 2;
/// `MAXSYMLINKLEN_UFS2`: shorter targets live in `di_db`/`di_ib`.
pub const MAXSYMLINKLEN: usize = 120;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dinode {
    pub mode: u16,
    pub nlink: i16,
    pub uid: u32,
    pub gid: u32,
    pub blksize: u32,
    pub size: u64,
    /// 512-byte units held, indirect blocks included.
    pub blocks: u64,
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
    pub birthtime: Timestamp,
    pub generation: u32,
    pub kernflags: u32,
    pub flags: u32,
    pub extsize: u32,
    pub extb: [u64; 2],
    pub db: [u64; 12],
    pub ib: [u64; 3],
}

impl Dinode {
    pub fn encode(&self) -> [u8; 256] {
        let mut b = [0u8; 256];
        put_u16(&mut b, 0, self.mode);
        put_u16(&mut b, 2, self.nlink as u16);
        put_u32(&mut b, 4, self.uid);
        put_u32(&mut b, 8, self.gid);
        put_u32(&mut b, 12, self.blksize);
        put_u64(&mut b, 16, self.size);
        put_u64(&mut b, 24, self.blocks);
        put_i64(&mut b, 32, self.atime.secs);
        put_i64(&mut b, 40, self.mtime.secs);
        put_i64(&mut b, 48, self.ctime.secs);
        put_i64(&mut b, 56, self.birthtime.secs);
        put_u32(&mut b, 64, self.mtime.nsec);
        put_u32(&mut b, 68, self.atime.nsec);
        put_u32(&mut b, 72, self.ctime.nsec);
        put_u32(&mut b, 76, self.birthtime.nsec);
        put_u32(&mut b, 80, self.generation);
        put_u32(&mut b, 84, self.kernflags);
        put_u32(&mut b, 88, self.flags);
        put_u32(&mut b, 92, self.extsize);
        put_u64(&mut b, 96, self.extb[0]);
        put_u64(&mut b, 104, self.extb[1]);
        for (i, v) in self.db.iter().enumerate() {
            put_u64(&mut b, 112 + 8 * i, *v);
        }
        for (i, v) in self.ib.iter().enumerate() {
            put_u64(&mut b, 208 + 8 * i, *v);
        }
        b
    }

    pub fn decode(b: &[u8]) -> Dinode {
        let ts = |s: usize, n: usize| Timestamp {
            secs: get_i64(b, s),
            nsec: get_u32(b, n),
        };
        let mut db = [0u64; 12];
        for (i, v) in db.iter_mut().enumerate() {
            *v = get_u64(b, 112 + 8 * i);
        }
        let mut ib = [0u64; 3];
        for (i, v) in ib.iter_mut().enumerate() {
            *v = get_u64(b, 208 + 8 * i);
        }
        Dinode {
            mode: get_u16(b, 0),
            nlink: get_u16(b, 2) as i16,
            uid: get_u32(b, 4),
            gid: get_u32(b, 8),
            blksize: get_u32(b, 12),
            size: get_u64(b, 16),
            blocks: get_u64(b, 24),
            atime: ts(32, 68),
            mtime: ts(40, 64),
            ctime: ts(48, 72),
            birthtime: ts(56, 76),
            generation: get_u32(b, 80),
            kernflags: get_u32(b, 84),
            flags: get_u32(b, 88),
            extsize: get_u32(b, 92),
            extb: [get_u64(b, 96), get_u64(b, 104)],
            db,
            ib,
        }
    }

    pub fn file_type(&self) -> u16 {
        self.mode & IFMT
    }

    /// Store a short symlink target inside `di_db`/`di_ib`.
    pub fn set_inline_target(&mut self, target: &[u8]) {
        let mut area = [0u8; MAXSYMLINKLEN];
        let n = target.len().min(MAXSYMLINKLEN);
        area[..n].copy_from_slice(&target[..n]);
        for i in 0..12 {
            self.db[i] = get_u64(&area, 8 * i);
        }
        for i in 0..3 {
            self.ib[i] = get_u64(&area, 96 + 8 * i);
        }
    }

    /// The inline symlink area's bytes (first `size` of them are the target).
    pub fn inline_target(&self) -> Vec<u8> {
        let mut area = vec![0u8; MAXSYMLINKLEN];
        for i in 0..12 {
            put_u64(&mut area, 8 * i, self.db[i]);
        }
        for i in 0..3 {
            put_u64(&mut area, 96 + 8 * i, self.ib[i]);
        }
        area.truncate((self.size as usize).min(MAXSYMLINKLEN));
        area
    }
}

/// `d_type` for an inode mode (`IFTODT`).
pub fn iftodt(mode: u16) -> u8 {
    ((mode & IFMT) >> 12) as u8
}
