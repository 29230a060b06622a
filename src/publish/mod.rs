//! `mkimage publish`: install a built image into the builds service's
//! images directory so that a reader (the service booting a job, cron
//! copying it away) only ever sees a complete, verified image.
//!
//! Order of work, under an exclusive lock on `<dir>/<os>/.publish.lock`
//! (released by the kernel even when the process is killed):
//! 1. remove temporaries left by killed runs;
//! 2. copy the image to a temporary beside `root.img.qcow2`, hashing it,
//!    fsync; verify the copy with the caller's verifier;
//! 3. unless its sha256 equals the published one: keep the current image in
//!    `history/`, rename the copy over `root.img.qcow2`, fsync the
//!    directory, write `manifest.json`, prune history to `keep`;
//! 4. write `functions` (if given) and update the `latest` symlink.
//!
//! A crash at any point leaves the old `root.img.qcow2` (or the new one,
//! complete) in place; at worst `manifest.json` still describes the old
//! image, which makes the next nightly run rebuild, never skip.

pub mod atomic;
pub mod layout;
pub mod manifest;
pub mod retention;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::progress;
use layout::Layout;

/// The lock file in `<dir>/<os>/`.
pub const LOCK_NAME: &str = ".publish.lock";

/// A checker the image must pass before it is installed.
pub type Verifier<'a> = &'a dyn Fn(&Path) -> Result<()>;

/// What to publish where.
pub struct Request<'a> {
    pub image: &'a Path,
    pub images_dir: &'a Path,
    pub os: &'a str,
    pub release: &'a str,
    pub arch: &'a str,
    /// Previous images to keep in `history/`.
    pub keep: usize,
    /// The build's manifest (a JSON object), extended and published.
    pub build_manifest: Option<Map<String, Value>>,
    /// Content of the release's `functions` file.
    pub functions: Option<Vec<u8>>,
    pub verify: Verifier<'a>,
    /// Publication time recorded in the manifest.
    pub now: SystemTime,
}

/// What publication did.
#[derive(Debug, Clone)]
pub struct Report {
    pub image: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// The image equals the published one: nothing was replaced.
    pub unchanged: bool,
    /// Where the replaced image was kept (`history/...`).
    pub kept: Option<PathBuf>,
    /// History entries removed by `keep`.
    pub pruned: Vec<PathBuf>,
    /// Temporaries of killed runs removed first.
    pub cleaned: Vec<PathBuf>,
    /// `latest` names this release.
    pub latest: bool,
}

fn lock(os_dir: &Path) -> Result<File> {
    let path = os_dir.join(LOCK_NAME);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another mkimage publish is writing to {} (it holds {}); try again when it is done",
            os_dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Publish `req.image`; see the module documentation.
pub fn publish(req: &Request) -> Result<Report> {
    let layout = Layout::new(req.images_dir, req.os, req.release, req.arch)?;
    if !req.images_dir.is_dir() {
        bail!(
            "images directory {} does not exist: create it (the builds service's images \
             directory) first",
            req.images_dir.display()
        );
    }
    std::fs::create_dir_all(&layout.arch_dir)
        .with_context(|| format!("creating {}", layout.arch_dir.display()))?;
    let _lock = lock(&layout.os_dir)?;
    let cleaned = atomic::clean_stale(&layout.os_dir, 3)?;
    for path in &cleaned {
        progress::info(format!(
            "removed temporary of an interrupted run: {}",
            path.display()
        ));
    }

    // The service boots root.img.qcow2 without a format= option: whatever
    // the verifier accepts, the file must really be qcow2.
    verify_qcow2_header(req.image)?;
    let dest = layout.image();
    atomic::ensure_space(req.image, &layout.arch_dir)?;
    let task = progress::Task::new("copying image", None, true);
    let (temp, sha256, size) = atomic::copy_to_temp(req.image, &dest)?;
    task.finish(progress::human_bytes(size));
    (req.verify)(&temp.path).with_context(|| {
        format!(
            "{} failed verification: not published, {} left as it was",
            req.image.display(),
            dest.display()
        )
    })?;

    let mut report = Report {
        image: dest.clone(),
        sha256: sha256.clone(),
        size,
        unchanged: false,
        kept: None,
        pruned: Vec::new(),
        cleaned,
        latest: false,
    };
    let manifest_path = layout.manifest();
    if dest.is_file() && manifest::published_sha256(&manifest_path).as_deref() == Some(&sha256) {
        report.unchanged = true;
        drop(temp);
    } else {
        if dest.is_file() && req.keep > 0 {
            report.kept = Some(retention::keep_previous(&dest, &manifest_path)?);
        }
        temp.commit(&dest)?;
        let published = manifest::Published {
            os: req.os,
            release: req.release,
            arch: req.arch,
            sha256: &sha256,
            size,
            at: req.now,
        };
        let text = serde_json::to_string_pretty(&manifest::compose(
            req.build_manifest.clone(),
            &published,
        ))?;
        atomic::write_file(&manifest_path, format!("{text}\n").as_bytes())?;
        report.pruned = retention::prune(&layout.arch_dir, req.keep)?;
    }
    if let Some(functions) = &req.functions {
        atomic::write_file(&layout.functions(), functions)?;
    }
    report.latest = layout::update_latest(&layout)?;
    Ok(report)
}

/// Accepts a file that starts with a qcow2 header (magic `QFI\xfb`,
/// version 2 or 3). [`publish`] always requires it of the source image; the
/// `publish` command also uses it as the stand-in verifier until the
/// FFS/GPT checker is wired in. It does not look inside the image.
pub fn verify_qcow2_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut head = [0u8; 8];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .with_context(|| format!("reading the header of {}", path.display()))?;
    if head[..4] != *b"QFI\xfb" {
        bail!(
            "{} is not a qcow2 image (no QFI\\xfb magic)",
            path.display()
        );
    }
    let version = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    if !(2..=3).contains(&version) {
        bail!(
            "{} has qcow2 version {version}, expected 2 or 3",
            path.display()
        );
    }
    Ok(())
}
