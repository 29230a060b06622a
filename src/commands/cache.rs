//! `mkimage cache list|prune`: show or trim the download cache.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::cli::CacheAction;
use crate::fetch::cache::{Cache, CacheItem, default_dir};
use crate::progress::human_bytes;

fn age_days(item: &CacheItem, now: SystemTime) -> u64 {
    now.duration_since(item.last_used)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0)
}

fn describe(item: &CacheItem) -> String {
    let name = item
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match &item.url {
        Some(url) => format!("{url} ({name})"),
        None => name,
    }
}

pub fn run(action: CacheAction, cache_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = match cache_dir {
        Some(d) => d,
        None => default_dir()?,
    };
    let cache = Cache::open(&dir)?;
    let now = SystemTime::now();
    match action {
        CacheAction::List => {
            let items = cache.list()?;
            let total: u64 = items.iter().map(|i| i.size).sum();
            for item in &items {
                println!(
                    "{:<8} {:>10} {:>5}d  {}",
                    item.kind,
                    human_bytes(item.size),
                    age_days(item, now),
                    describe(item)
                );
            }
            println!(
                "{} entries, {} in {}",
                items.len(),
                human_bytes(total),
                dir.display()
            );
        }
        CacheAction::Prune { older_than_days } => {
            let removed =
                cache.prune(Duration::from_secs(older_than_days.saturating_mul(86_400)))?;
            let total: u64 = removed.iter().map(|i| i.size).sum();
            for item in &removed {
                crate::progress::debug(format!("removed {}", item.path.display()));
            }
            println!(
                "removed {} entries ({}) unused for more than {older_than_days} days from {}",
                removed.len(),
                human_bytes(total),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
