//! The size estimate makefs uses without `--size` (size strings are
//! [`crate::size::Size`]).

use super::geometry::Geometry;

/// Size for `data_bytes` of content (fragment-rounded file and directory
/// data) and `entries` objects: content + 10 %, plus metadata and
/// `minfree`, rounded up to 1 MiB, with enough inodes at newfs's default
/// density.
pub fn estimate_size(data_bytes: u64, entries: u64, minfree: u8) -> u64 {
    estimate(data_bytes, entries, minfree, true)
}

/// Like [`estimate_size`], but lowers the inode density (bytes per inode,
/// newfs `-i`) instead of growing the file system when there are many
/// small files, the way makefs sizes its inode tables to the tree.
/// Returns (size, density).
pub fn estimate_layout(data_bytes: u64, entries: u64, minfree: u8) -> (u64, Option<u32>) {
    let mut size = estimate(data_bytes, entries, minfree, false);
    let inodes = entries + entries / 10 + 64;
    for _ in 0..4 {
        let f = u64::from(Geometry::default_sizes(size).1);
        let density = (size / inodes).min(4 * f) / f * f;
        if density >= f {
            return (size, Some(density as u32));
        }
        // At most one inode per fragment: grow until that is enough.
        size = (inodes * f).div_ceil(1 << 20) << 20;
    }
    (estimate_size(data_bytes, entries, minfree), None)
}

fn estimate(data_bytes: u64, entries: u64, minfree: u8, default_density: bool) -> u64 {
    let mib = 1u64 << 20;
    let mut size = (data_bytes + data_bytes / 10).max(4 * mib);
    for _ in 0..8 {
        let (b, f) = Geometry::default_sizes(size);
        // Per entry: a fragment tail on average and its inode; plus the
        // per-group metadata (inode tables at newfs density, maps).
        let per_entry = u64::from(f) / 2 + 256 + 64;
        let inode_tables = size / (4 * u64::from(f)) * 256;
        let groups = (size / (u64::from(b) * 8 * 256)).max(4) * 4 * u64::from(b);
        let need =
            data_bytes + data_bytes / 10 + entries * per_entry + inode_tables + groups + 128 * 1024;
        // Enough inodes at newfs's density of one per 4 fragments.
        let need = if default_density {
            need.max(entries * 4 * u64::from(f) * 11 / 10)
        } else {
            need
        };
        let total = need * 100 / (100 - u64::from(minfree.min(50)));
        let total = total.div_ceil(mib) * mib;
        if total <= size {
            break;
        }
        size = total;
    }
    size
}
