//! Output discipline: an image is written to a temporary file beside its
//! target and renamed over it only when complete, so a failed or
//! interrupted build never leaves a half-written image under the target's
//! name, and the existing target is never opened for writing.
//!
//! Free space is not checked up front: std offers no portable `statvfs`.
//! A full disk surfaces as an error from the write that hit it, and the
//! temporary is removed.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// A temporary output file that becomes `target` on [`commit`](Self::commit)
/// and is removed if dropped uncommitted (error return or panic unwinding).
#[derive(Debug)]
pub struct AtomicOutput {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl AtomicOutput {
    /// Reserve a fresh temporary file `.NAME.tmp-PID[-N]` in the target's
    /// directory (created empty, never an existing file).
    pub fn new(target: &Path) -> io::Result<Self> {
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("output path {} names no file", target.display()),
            )
        })?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let pid = std::process::id();
        for n in 0..1000u32 {
            let suffix = if n == 0 {
                format!("tmp-{pid}")
            } else {
                format!("tmp-{pid}-{n}")
            };
            let temp = dir.join(format!(".{}.{suffix}", name.to_string_lossy()));
            match File::options().write(true).create_new(true).open(&temp) {
                Ok(_) => {
                    return Ok(AtomicOutput {
                        target: target.to_path_buf(),
                        temp,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("creating a temporary file in {}: {e}", dir.display()),
                    ));
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("too many stale temporary files beside {}", target.display()),
        ))
    }

    /// The temporary file to write the image to.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// The final name.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// fsync the temporary, rename it over the target, fsync the directory.
    pub fn commit(mut self) -> io::Result<()> {
        File::open(&self.temp)?.sync_all()?;
        std::fs::rename(&self.temp, &self.target).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "renaming {} to {}: {e}",
                    self.temp.display(),
                    self.target.display()
                ),
            )
        })?;
        self.committed = true;
        let dir = match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        File::open(&dir)?.sync_all()
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
