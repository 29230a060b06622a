//! FFSv2 (UFS2): the writer that turns [`crate::entry::Entry`] streams
//! into a file system, a reader, and an fsck_ffs-grade checker.
//!
//! On-disk structures each have their own module with explicit
//! encode/decode at named offsets; [`geometry`] computes the layout,
//! [`writer`] builds, [`reader`] reads, [`check`] verifies.

pub mod alloc;
mod bytes;
pub mod cg;
pub mod check;
pub mod data;
pub mod dinode;
pub mod dir;
pub mod flavour;
pub mod geometry;
pub mod reader;
pub mod size;
pub mod superblock;
pub mod writer;

pub use check::{Finding, check};
pub use flavour::Flavour;
pub use geometry::Geometry;
pub use reader::{FfsReader, Stat};
pub use size::{estimate_layout, estimate_size};
pub use writer::FfsWriter;

use crate::entry::Timestamp;

/// Errors of the FFS writer and reader.
#[derive(Debug, thiserror::Error)]
pub enum FfsError {
    #[error("I/O error on the file-system device: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot lay out the file system: {0}")]
    Geometry(String),
    #[error(
        "file system is full writing {path}: {needed} bytes needed in all, {size} available; \
         try --size {suggest}"
    )]
    NoSpace {
        path: String,
        needed: u64,
        size: u64,
        suggest: String,
    },
    #[error(
        "file system is out of inodes at {path}: {needed} needed, {have} available; \
         try --size {suggest}"
    )]
    NoInodes {
        path: String,
        needed: u64,
        have: u64,
        suggest: String,
    },
    #[error("{path}: {what}")]
    Entry { path: String, what: String },
    #[error("not an FFSv2 file system: {0}")]
    NotFfs(String),
    #[error("corrupt file system: {0}")]
    Corrupt(String),
    #[error("{0}: no such file or directory")]
    NotFound(String),
}

/// How to build a file system.
#[derive(Debug, Clone)]
pub struct FsOptions {
    /// Size in bytes of the partition (rounded down to a fragment).
    pub size: u64,
    pub flavour: Flavour,
    /// Volume label (`fs_volname`, up to 31 bytes).
    pub label: Option<String>,
    /// Seed for `fs_id` and `di_gen`.
    pub seed: u64,
    /// Time of creation: superblock/cg times and implicit directories.
    pub time: Timestamp,
    /// FreeBSD only: set `FS_DOSOFTDEP`.
    pub soft_updates: bool,
    pub block_size: Option<u32>,
    pub frag_size: Option<u32>,
    /// Bytes of data per inode (newfs -i).
    pub density: Option<u32>,
    /// Percentage of blocks reserved (`fs_minfree`).
    pub minfree: u8,
}

impl FsOptions {
    /// Defaults for `size` bytes: newfs geometry, no label, seed 0,
    /// time 0, the flavour's minfree.
    pub fn new(size: u64, flavour: Flavour) -> FsOptions {
        FsOptions {
            size,
            flavour,
            label: None,
            seed: 0,
            time: Timestamp::default(),
            soft_updates: false,
            block_size: None,
            frag_size: None,
            density: None,
            minfree: flavour.default_minfree(),
        }
    }
}

/// What a finished file system holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsSummary {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub others: u64,
    /// Bytes of fragments in use (metadata included).
    pub bytes_used: u64,
    pub inodes_used: u64,
    pub free_blocks: u64,
    pub free_frags: u64,
    pub size: u64,
}

/// splitmix64: the deterministic mixer behind `fs_id` and `di_gen`.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
