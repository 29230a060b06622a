//! Crash-safe file replacement inside the images directory: write to a
//! temporary name in the destination's own directory, fsync, rename over
//! the final name, fsync the directory. Temporaries carry one prefix so
//! that the next run can find and remove those a killed run left behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Every temporary this module creates starts with this.
pub const TEMP_PREFIX: &str = ".mkimage-tmp.";

/// Test hook: milliseconds to pause after the first chunk of an image copy
/// has been written, so a test can kill the process mid-copy.
pub const PAUSE_ENV: &str = "MKIMAGE_TEST_PUBLISH_PAUSE_MS";

const CHUNK: usize = 1 << 20;

/// The temporary name for `final_path`, unique to this process.
pub fn temp_path(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_path.with_file_name(format!("{TEMP_PREFIX}{name}.{}", std::process::id()))
}

/// A temporary file removed on drop unless it was renamed into place.
pub struct Temp {
    pub path: PathBuf,
    done: bool,
}

impl Temp {
    pub fn new(path: PathBuf) -> Temp {
        Temp { path, done: false }
    }

    /// Rename over `dest` and make the rename durable.
    pub fn commit(mut self, dest: &Path) -> Result<()> {
        std::fs::rename(&self.path, dest)
            .with_context(|| format!("renaming {} to {}", self.path.display(), dest.display()))?;
        self.done = true;
        sync_parent(dest)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// fsync the directory holding `path`, so a rename in it survives a crash.
pub fn sync_parent(path: &Path) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing directory {}", dir.display()))
}

/// Replace `dest` with `bytes` atomically.
pub fn write_file(dest: &Path, bytes: &[u8]) -> Result<()> {
    let temp = Temp::new(temp_path(dest));
    let mut file =
        File::create(&temp.path).with_context(|| format!("creating {}", temp.path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temp.path.display()))?;
    drop(file);
    temp.commit(dest)
}

/// Copy `src` to a new temporary beside `dest` (holes kept: all-zero
/// megabytes are skipped, not written), fsync it, and return it with the
/// sha256 and size of the bytes copied.
pub fn copy_to_temp(src: &Path, dest: &Path) -> Result<(Temp, String, u64)> {
    let mut input = File::open(src).with_context(|| format!("opening image {}", src.display()))?;
    let temp = Temp::new(temp_path(dest));
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp.path)
        .with_context(|| format!("creating {}", temp.path.display()))?;
    let pause = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let zeros = vec![0u8; CHUNK];
    let mut buf = vec![0u8; CHUNK];
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut first = true;
    loop {
        let n = read_full(&mut input, &mut buf)
            .with_context(|| format!("reading {}", src.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if buf[..n] == zeros[..n] {
            out.seek(SeekFrom::Current(n as i64))
        } else {
            out.write_all(&buf[..n]).map(|()| 0)
        }
        .with_context(|| format!("writing {}", temp.path.display()))?;
        size += n as u64;
        if first {
            first = false;
            if let Some(ms) = pause {
                out.flush()?;
                std::thread::sleep(Duration::from_millis(ms));
            }
        }
    }
    out.set_len(size)
        .and_then(|()| out.sync_all())
        .with_context(|| format!("writing {}", temp.path.display()))?;
    Ok((temp, hex::encode(hasher.finalize()), size))
}

fn read_full(input: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Fail before copying when `dir`'s file system has less free space than
/// `src` occupies (its allocated blocks: holes are not copied). Uses POSIX
/// `df -Pk`; when that cannot be run or read, the copy simply proceeds and
/// a full disk is reported by the write.
pub fn ensure_space(src: &Path, dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(src).with_context(|| format!("reading {}", src.display()))?;
    let needed = meta.blocks().saturating_mul(512).min(meta.len());
    let Some(free) = free_bytes(dir) else {
        return Ok(());
    };
    if free < needed {
        anyhow::bail!(
            "{} has {} free but publishing {} needs {}: free some space (old images are in \
             history/, see --keep)",
            dir.display(),
            crate::progress::human_bytes(free),
            src.display(),
            crate::progress::human_bytes(needed)
        );
    }
    Ok(())
}

fn free_bytes(dir: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = read_full(&mut file, &mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Remove temporaries left by killed runs anywhere under `root` (at most
/// `depth` directory levels down). Only call while holding the publish
/// lock: then no temporary can belong to a live run. Returns what was
/// removed.
pub fn clean_stale(root: &Path, depth: usize) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(removed);
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name.to_string_lossy().starts_with(TEMP_PREFIX) && !kind.is_dir() {
            std::fs::remove_file(&path)
                .with_context(|| format!("removing stale temporary {}", path.display()))?;
            removed.push(path);
        } else if kind.is_dir() && depth > 0 {
            removed.extend(clean_stale(&path, depth - 1)?);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_of_a_directory_is_read_with_df() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).is_some_and(|b| b > 0));
        let small = dir.path().join("small");
        std::fs::write(&small, b"x").unwrap();
        ensure_space(&small, dir.path()).unwrap();
    }
}
