//! The qcow2 (version 3) image format: the header as an on-disk structure,
//! the layout constants, a streaming writer and a read-only reader. Layout
//! facts follow QEMU's `docs/interop/qcow2.txt`; every field is big-endian.

mod header;
mod reader;
mod writer;

pub use header::{QcowError, QcowHeader};
pub use reader::Qcow2Reader;
pub use writer::{Qcow2Options, Qcow2Writer};

/// `QCOW_MAGIC`: "QFI" followed by 0xfb.
pub const MAGIC: [u8; 4] = *b"QFI\xfb";
/// The cluster size this writer uses: 64 KiB (`cluster_bits` = 16), QEMU's
/// default.
pub const CLUSTER_BITS: u32 = 16;
pub const CLUSTER_SIZE: u64 = 1 << CLUSTER_BITS;
/// `QCOW_OFLAG_COPIED`: the cluster's refcount is exactly one.
pub const OFLAG_COPIED: u64 = 1 << 63;
/// `QCOW_OFLAG_COMPRESSED`: the L2 entry describes a compressed cluster.
pub const OFLAG_COMPRESSED: u64 = 1 << 62;
/// `QCOW_OFLAG_ZERO`: the cluster reads as zeros (version 3).
pub const OFLAG_ZERO: u64 = 1;
/// `L1E_OFFSET_MASK` / `L2E_OFFSET_MASK`: host offset bits 9..55.
pub const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
/// `refcount_order` 4: 16-bit refcounts, QEMU's default.
pub const REFCOUNT_ORDER: u32 = 4;
/// Size of a compressed-cluster sector (`QCOW2_COMPRESSED_SECTOR_SIZE`).
pub const COMPRESSED_SECTOR: u64 = 512;
/// Deflate window QEMU compresses with (`-12` in `qcow2_co_compress`);
/// data compressed with a larger window may not decompress in QEMU.
pub const DEFLATE_WINDOW_BITS: u8 = 12;

/// Compressed-cluster descriptor geometry for `cluster_bits`: the number of
/// bits holding the host offset (`x = 62 - (cluster_bits - 8)`).
pub fn csize_shift(cluster_bits: u32) -> u32 {
    62 - (cluster_bits - 8)
}
