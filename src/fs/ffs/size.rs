//! Size strings (`64M`, `1G`, `16G`, `512K`, plain bytes) and the size
//! estimate makefs uses without `--size`.

use super::geometry::Geometry;

/// Parse `N`, `Nk`/`NK`, `NM`, `NG`, `NT` (binary multiples; optional
/// trailing `B`/`iB`).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => {
                    return Err(format!(
                        "bad size {s:?}: unknown unit {c:?} (use K, M, G or T)"
                    ));
                }
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad size {s:?}: expected a number with an optional K, M, G or T"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// Format a byte count as the largest exact unit (`1G`, `1536M`).
pub fn format_size(n: u64) -> String {
    for (u, m) in [
        ("T", 1u64 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ] {
        if n >= m && n.is_multiple_of(m) {
            return format!("{}{u}", n / m);
        }
    }
    n.to_string()
}

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
