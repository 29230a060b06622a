//! The DB 1.85 hash access method (`lib/libc/db/hash/`: `hash.h`,
//! `page.h`, `hash.c`, `hash_page.c`, `hash_bigkey.c`, `hash_func.c`,
//! `hash_log2.c`): header, bucket and overflow pages, big key/data chains,
//! the default hash function.
//!
//! [`HashWriter`] builds a complete table from a set of pairs in one pass
//! (bucket count chosen up front, no incremental splitting), in a state that
//! the real library can read and keep updating in place.
//! [`HashFile`] reads any such file back, returning errors on corrupt input.

mod header;
mod page;
mod read;
mod write;

pub use header::HashHeader;
pub use read::HashFile;
pub use write::{HashParams, HashWriter};

/// `HASHMAGIC` in `include/db.h`.
pub const HASHMAGIC: u32 = 0x061561;
/// `HASHVERSION` in `include/db.h` (2); version 1 files are read too.
pub const HASHVERSION: u32 = 2;
/// `OLDHASHVERSION` in `hash.c`.
pub const OLDHASHVERSION: u32 = 1;
/// `CHARKEY` in `hash.h`, hashed *with* its terminating NUL (`sizeof`).
pub const CHARKEY: &[u8] = b"%$sniglet^&\0";
/// `NCACHED` in `hash.h`: number of spare points and bitmap addresses.
pub const NCACHED: usize = 32;
/// `SPLITSHIFT` in `hash.h`: overflow address = split point << 11 | page.
pub const SPLITSHIFT: u32 = 11;
/// `SPLITMASK` in `hash.h`.
pub const SPLITMASK: u32 = 0x7ff;
/// `OVFLPAGE` in `hash.h`: the pair slot holds an overflow page address.
pub const OVFLPAGE: u16 = 0;
/// `PARTIAL_KEY` in `hash.h`: a big key continues on the next page.
pub const PARTIAL_KEY: u16 = 1;
/// `FULL_KEY` in `hash.h`: a big key ends here; data follows on next pages.
pub const FULL_KEY: u16 = 2;
/// `FULL_KEY_DATA` in `hash.h`: key complete, data starts (or ends) here.
pub const FULL_KEY_DATA: u16 = 3;
/// `REAL_KEY` in `hash.h`: slot values from here on are real offsets.
pub const REAL_KEY: u16 = 4;
/// `MAX_BSIZE` in `hash.h` (exclusive bound on the page size).
pub const MAX_BSIZE: u32 = 65536;
/// `MINHDRSIZE` in `hash.h`.
pub const MINHDRSIZE: u32 = 512;
/// `DEF_SEGSIZE` in `hash.h`.
pub const DEF_SEGSIZE: u32 = 256;
/// `DEF_SEGSIZE_SHIFT` in `hash.h`.
pub const DEF_SEGSIZE_SHIFT: u32 = 8;
/// `DEF_DIRSIZE` in `hash.h`.
pub const DEF_DIRSIZE: u32 = 256;

/// Byte order of the pages (`lorder`: 1234 little, 4321 big endian). The
/// header itself is always big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    /// The order of the machine running this program.
    pub fn host() -> Self {
        if cfg!(target_endian = "big") {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    }

    /// The `lorder` value stored in the header (`LITTLE_ENDIAN` 1234,
    /// `BIG_ENDIAN` 4321).
    pub fn lorder(self) -> u32 {
        match self {
            ByteOrder::Little => 1234,
            ByteOrder::Big => 4321,
        }
    }

    pub fn from_lorder(lorder: u32) -> Option<Self> {
        match lorder {
            1234 => Some(ByteOrder::Little),
            4321 => Some(ByteOrder::Big),
            _ => None,
        }
    }

    pub fn u16_bytes(self, v: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    pub fn u32_bytes(self, v: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    pub fn u64_bytes(self, v: u64) -> [u8; 8] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    pub fn read_u16(self, b: [u8; 2]) -> u16 {
        match self {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        }
    }

    pub fn read_u32(self, b: [u8; 4]) -> u32 {
        match self {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        }
    }

    pub fn read_u64(self, b: [u8; 8]) -> u64 {
        match self {
            ByteOrder::Little => u64::from_le_bytes(b),
            ByteOrder::Big => u64::from_be_bytes(b),
        }
    }
}

/// What can go wrong reading or writing a hash file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    #[error("not a DB 1.85 hash file: {0}")]
    NotHash(String),
    #[error("corrupt DB 1.85 hash file: {0}")]
    Corrupt(String),
    #[error("invalid hash parameters: {0}")]
    Params(String),
    #[error("empty keys cannot be stored")]
    EmptyKey,
    #[error("key {0:?} is stored twice")]
    DuplicateKey(String),
    #[error("table needs more than {SPLITMASK} overflow pages; use a larger page size")]
    OutOfOverflowPages,
}

/// The default hash function, `__default_hash` = `hash4` in `hash_func.c`
/// (Chris Torek's `h = h * 33 + c`).
pub fn default_hash(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        h.wrapping_shl(5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

/// `__log2` in `hash_log2.c`: the smallest `i` with `2^i >= num`.
pub fn log2_ceil(num: u32) -> u32 {
    if num <= 1 {
        return 0;
    }
    32 - (num - 1).leading_zeros()
}

/// `__call_hash` in `hash.c`: the bucket a key belongs to.
pub fn bucket_of(hash: u32, max_bucket: u32, high_mask: u32, low_mask: u32) -> u32 {
    let b = hash & high_mask;
    if b > max_bucket { b & low_mask } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_matches_hash_log2_c() {
        // __log2: loop limit = limit * 2 + 1 while limit < num - 1.
        fn reference(num: u32) -> u32 {
            if num == 0 {
                return 0;
            }
            let n = num - 1;
            let (mut i, mut limit) = (0u32, 0u64);
            while limit < u64::from(n) {
                limit = limit * 2 + 1;
                i += 1;
            }
            i
        }
        for n in 0..5000 {
            assert_eq!(log2_ceil(n), reference(n), "n = {n}");
        }
        assert_eq!(log2_ceil(u32::MAX), reference(u32::MAX));
    }

    #[test]
    fn hash4_of_short_strings() {
        assert_eq!(default_hash(b""), 0);
        assert_eq!(default_hash(b"a"), 97);
        assert_eq!(default_hash(b"ab"), 97 * 33 + 98);
    }
}
