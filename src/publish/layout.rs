//! Where things live in the builds service's images directory:
//! `<dir>/<os>/<release>/<arch>/root.img.qcow2`, the release's `functions`
//! file beside the arch directories, and `<dir>/<os>/latest`, a symlink to
//! the newest release directory.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::atomic;
use crate::progress;

/// The file name the service boots.
pub const IMAGE_NAME: &str = "root.img.qcow2";
pub const MANIFEST_NAME: &str = "manifest.json";
pub const FUNCTIONS_NAME: &str = "functions";
pub const LATEST_NAME: &str = "latest";

/// Paths of one published target.
#[derive(Debug, Clone)]
pub struct Layout {
    pub os_dir: PathBuf,
    pub release_dir: PathBuf,
    pub arch_dir: PathBuf,
    pub release: String,
}

/// A path component from the command line: non-empty, no `/`, not `.`
/// or `..`, not hidden, not `latest`.
fn component(what: &str, value: &str) -> Result<()> {
    if value.is_empty()
        || value.contains('/')
        || value.contains('\0')
        || value.starts_with('.')
        || value == LATEST_NAME
    {
        bail!(
            "--{what} {value:?} cannot be a directory name in the images directory \
             (no '/', no leading '.', not 'latest')"
        );
    }
    Ok(())
}

impl Layout {
    pub fn new(images_dir: &Path, os: &str, release: &str, arch: &str) -> Result<Layout> {
        component("os", os)?;
        component("release", release)?;
        component("arch", arch)?;
        let os_dir = images_dir.join(os);
        let release_dir = os_dir.join(release);
        let arch_dir = release_dir.join(arch);
        Ok(Layout {
            os_dir,
            release_dir,
            arch_dir,
            release: release.to_string(),
        })
    }

    pub fn image(&self) -> PathBuf {
        self.arch_dir.join(IMAGE_NAME)
    }

    pub fn manifest(&self) -> PathBuf {
        self.arch_dir.join(MANIFEST_NAME)
    }

    pub fn functions(&self) -> PathBuf {
        self.release_dir.join(FUNCTIONS_NAME)
    }

    pub fn latest(&self) -> PathBuf {
        self.os_dir.join(LATEST_NAME)
    }
}

/// The leading numbers of a release name: `10.1` → [10, 1], `9.x` → [9],
/// `14.3-RELEASE` → [14, 3]; empty when it does not start with a digit.
pub fn version_key(release: &str) -> Vec<u64> {
    let mut key = Vec::new();
    for part in release.split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse() {
            Ok(n) => key.push(n),
            Err(_) => break,
        }
        if digits.len() != part.len() {
            break;
        }
    }
    key
}

/// Point `latest` at `layout.release` unless it already names a newer
/// numbered release (publishing 9.4 after 10.1 leaves `latest` at 10.1).
/// Returns whether the link now names this release.
pub fn update_latest(layout: &Layout) -> Result<bool> {
    let link = layout.latest();
    match std::fs::symlink_metadata(&link) {
        Ok(meta) if !meta.file_type().is_symlink() => {
            progress::warn(format!(
                "{} is not a symlink: left alone (make it a symlink to a release directory)",
                link.display()
            ));
            return Ok(false);
        }
        Ok(_) => {
            let target = std::fs::read_link(&link)?;
            let current = target.to_string_lossy().into_owned();
            if current == layout.release {
                return Ok(true);
            }
            let (new, old) = (version_key(&layout.release), version_key(&current));
            let dangling = !link.exists();
            if !dangling && (new.is_empty() || (!old.is_empty() && new < old)) {
                return Ok(false);
            }
        }
        Err(_) => {}
    }
    let temp = atomic::Temp::new(atomic::temp_path(&link));
    std::os::unix::fs::symlink(&layout.release, &temp.path)?;
    temp.commit(&link)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_order_by_their_numbers() {
        assert_eq!(version_key("10.1"), vec![10, 1]);
        assert_eq!(version_key("9.x"), vec![9]);
        assert_eq!(version_key("14.3-RELEASE"), vec![14, 3]);
        assert!(version_key("current").is_empty());
        assert!(version_key("9.4") < version_key("10.1"));
    }

    #[test]
    fn path_components_cannot_escape_the_images_directory() {
        for bad in ["", "..", "a/b", ".hidden", "latest"] {
            assert!(Layout::new(Path::new("/x"), "netbsd", bad, "amd64").is_err());
        }
    }
}
