//! Previous images: before a new image replaces `root.img.qcow2`, the old
//! one is hard-linked (copied where links are impossible) to
//! `history/root.img.qcow2.<UTC time it was published>` with its manifest
//! as `history/manifest.json.<same time>`; only the newest N are kept.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};

use super::atomic;

/// Directory beside `root.img.qcow2` holding previous images.
pub const HISTORY_DIR: &str = "history";

/// `20261130T202749Z` for a point in time (sorts in time order).
pub fn stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace(['-', ':'], "")
}

/// Keep `image` (and `manifest`, if it exists) in the history directory
/// under the time the image was written. Returns the history path.
pub fn keep_previous(image: &Path, manifest: &Path) -> Result<PathBuf> {
    let dir = image.parent().unwrap_or(Path::new(".")).join(HISTORY_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let written = std::fs::metadata(image)
        .and_then(|m| m.modified())
        .with_context(|| format!("reading the time of {}", image.display()))?;
    let base = stamp(written);
    let name = |n: u32| {
        if n == 0 {
            base.clone()
        } else {
            format!("{base}.{n}")
        }
    };
    let mut n = 0;
    while dir.join(format!("root.img.qcow2.{}", name(n))).exists() {
        n += 1;
    }
    let stamp = name(n);
    let kept = dir.join(format!("root.img.qcow2.{stamp}"));
    link_or_copy(image, &kept)?;
    if manifest.exists() {
        link_or_copy(manifest, &dir.join(format!("manifest.json.{stamp}")))?;
    }
    atomic::sync_parent(&kept)?;
    Ok(kept)
}

fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    let (temp, _, _) = atomic::copy_to_temp(from, to)?;
    temp.commit(to)
}

/// Remove all but the newest `keep` previous images (and their
/// manifests). Returns the removed image paths.
pub fn prune(image_dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let dir = image_dir.join(HISTORY_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut stamps: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("root.img.qcow2."))
                .map(str::to_string)
        })
        .collect();
    stamps.sort_by_key(|s| order_key(s));
    let excess = stamps.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for stamp in &stamps[..excess] {
        let image = dir.join(format!("root.img.qcow2.{stamp}"));
        std::fs::remove_file(&image)
            .with_context(|| format!("removing old image {}", image.display()))?;
        let _ = std::fs::remove_file(dir.join(format!("manifest.json.{stamp}")));
        removed.push(image);
    }
    Ok(removed)
}

/// `20261130T202749Z.2` sorts after `20261130T202749Z.1`, numerically.
fn order_key(stamp: &str) -> (String, u64) {
    match stamp.split_once('.') {
        Some((time, n)) => (time.to_string(), n.parse().unwrap_or(0)),
        None => (stamp.to_string(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn stamps_are_compact_utc_and_sort_by_time() {
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(stamp(t), "20270115T080000Z");
        assert!(stamp(t) < stamp(t + Duration::from_secs(1)));
    }
}
