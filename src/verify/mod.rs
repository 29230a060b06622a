//! Checking a whole image: open it whatever its format (qcow2 or raw),
//! find its partitions (GPT, or a bare file system), and check each one it
//! knows: FFS/UFS with the fsck-grade checker, the ESP's FAT structure.
//! Also finds the root file system for `ls` and `cat`, and checks an image
//! against the mtree specs its sets installed ([`mtree`]).

pub mod mtree;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::disk::gpt::{self, PartitionInfo, types};
use crate::disk::{BlockDevice, Window, image};
use crate::fs::ffs;

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// "partition 2 (netbsd-root)", "GPT", "file system".
    pub place: String,
    pub what: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.what)
    }
}

/// Whether a partition type holds an FFS/UFS file system.
pub fn is_ffs_type(t: uuid::Uuid) -> bool {
    t == types::NETBSD_FFS || t == types::FREEBSD_UFS
}

/// The image's partitions, or `None` for a bare file system (no GPT).
pub fn partitions(dev: &mut dyn BlockDevice) -> Result<Option<Vec<PartitionInfo>>> {
    match gpt::read_partitions(dev) {
        Ok(p) => Ok(Some(p)),
        Err(gpt::GptError::NoHeader) => Ok(None),
        Err(gpt::GptError::Io(e)) => Err(e.into()),
        Err(e) => Err(anyhow::anyhow!("partition table: {e}")),
    }
}

/// Open `path` and return the device of its root file system: the first
/// FFS/UFS partition of a GPT disk, or the whole file for a bare file
/// system.
pub fn open_root_fs(path: &Path) -> Result<Box<dyn BlockDevice>> {
    Ok(open_root_fs_with_flavour(path)?.0)
}

/// Like [`open_root_fs`], also saying whose conventions the file system
/// follows (device numbers): FreeBSD for a FreeBSD UFS partition, NetBSD
/// otherwise (also for a bare file system, which carries no such mark).
pub fn open_root_fs_with_flavour(path: &Path) -> Result<(Box<dyn BlockDevice>, ffs::Flavour)> {
    let mut dev =
        image::open_image(path).with_context(|| format!("cannot open image {}", path.display()))?;
    match partitions(&mut *dev).with_context(|| format!("reading {}", path.display()))? {
        None => Ok((dev, ffs::Flavour::NetBsd)),
        Some(parts) => {
            let Some(root) = parts.iter().find(|p| is_ffs_type(p.type_guid)) else {
                bail!(
                    "{}: the partition table has no FFS/UFS partition",
                    path.display()
                );
            };
            let (first, len) = (root.first_byte, root.len_bytes);
            let flavour = if root.type_guid == types::FREEBSD_UFS {
                ffs::Flavour::FreeBsd
            } else {
                ffs::Flavour::NetBsd
            };
            let index = root.index;
            let window = Window::new(dev, first, len).with_context(|| {
                format!(
                    "{}: partition {index} lies outside the disk",
                    path.display()
                )
            })?;
            Ok((Box::new(window), flavour))
        }
    }
}

/// Check everything in the image at `path`. `Err` when it cannot be read
/// at all; otherwise the findings (empty when clean).
pub fn check_image(path: &Path) -> Result<Vec<Finding>> {
    let mut dev =
        image::open_image(path).with_context(|| format!("cannot open image {}", path.display()))?;
    let mut out = Vec::new();
    let Some(parts) = partitions(&mut *dev)? else {
        let findings = ffs::check(dev).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        out.extend(findings.into_iter().map(|f| Finding {
            place: "file system".into(),
            what: f.to_string(),
        }));
        return Ok(out);
    };
    check_gpt_copies(&mut *dev, &mut out)?;
    let mut saw_fs = false;
    for p in &parts {
        let place = format!("partition {} ({})", p.index, p.name);
        if p.first_byte
            .checked_add(p.len_bytes)
            .is_none_or(|end| end > dev.len())
        {
            out.push(Finding {
                place,
                what: "lies outside the disk".into(),
            });
            continue;
        }
        let mut window = Window::new(&mut *dev, p.first_byte, p.len_bytes)?;
        if is_ffs_type(p.type_guid) {
            saw_fs = true;
            match ffs::check(&mut window) {
                Ok(findings) => out.extend(findings.into_iter().map(|f| Finding {
                    place: place.clone(),
                    what: f.to_string(),
                })),
                Err(e) => out.push(Finding {
                    place,
                    what: format!("unreadable file system: {e}"),
                }),
            }
        } else if p.type_guid == types::EFI_SYSTEM
            && let Err(e) = crate::fs::fat::check(&mut window)
        {
            out.push(Finding {
                place,
                what: format!("FAT: {e}"),
            });
        }
    }
    if !saw_fs {
        out.push(Finding {
            place: "GPT".into(),
            what: "no FFS/UFS partition".into(),
        });
    }
    Ok(out)
}

/// The primary and backup tables must both be present and agree.
fn check_gpt_copies(dev: &mut dyn BlockDevice, out: &mut Vec<Finding>) -> Result<()> {
    match gpt::check_both_tables(dev) {
        Ok(()) => {}
        Err(gpt::GptError::Io(e)) => return Err(e.into()),
        Err(e) => out.push(Finding {
            place: "GPT".into(),
            what: e.to_string(),
        }),
    }
    Ok(())
}
