//! FAT16/FAT32 file systems holding a handful of files, for EFI system
//! partitions, written with the `fatfs` crate into a partition window.
//!
//! The crate (0.3.6) has known traps, handled here: the FAT type and
//! cluster size are always given explicitly; every timestamp comes from a
//! fixed [`TimeProvider`] built from the caller's time (no clock); the
//! device must read as zeros before formatting (a fresh image does), which
//! also covers the FAT32 root cluster the crate does not clear; the crate
//! writes long-name entries in front of every `.` and `..`, which
//! `fsck.fat` rejects, so [`fixup`] rewrites each subdirectory's first
//! cluster to start with the bare `.` and `..` entries and fills in the
//! FAT32 free-cluster count the crate leaves unset.

use std::io::{self, Write};

use fatfs::{
    Date, DateTime, FatType, FileSystem, FormatVolumeOptions, FsOptions, Time, TimeProvider,
};
use thiserror::Error;

mod fixup;

use crate::disk::block::BlockDevice;
use crate::disk::stream::DeviceStream;
use crate::entry::Timestamp;

/// Recommended ESP size: 260 MiB.
///
/// Why: the UEFI specification wants FAT32 on fixed disks, and FAT32 needs
/// at least 65525 clusters. With 4 KiB clusters — the size that also works
/// when the disk has 4096-byte sectors, and the one common installers
/// pick — that is 65525 × 4 KiB ≈ 256 MiB plus the FATs and reserved
/// sectors, so 260 MiB is the smallest ESP that is FAT32 whatever the
/// firmware and sector size. It costs almost nothing here: free space is
/// never written, so it stays a hole in raw output and unallocated in
/// qcow2 (the image grows by the boot files and a few FAT sectors only;
/// `the_default_esp_size_is_fat32_with_4_kib_clusters_and_costs_little_space`
/// measures under 4 MiB). Smaller ESPs work here (FAT32 down to ~33 MiB
/// with 512-byte clusters, FAT16 below), but a 512-byte-sector FAT is
/// invalid on a 4096-byte-sector disk, and FAT16 ESPs are only guaranteed
/// for removable media.
pub const DEFAULT_ESP_SIZE: u64 = 260 << 20;

/// Fewest clusters a FAT32 volume may have (`fsck.fat`, Microsoft's spec).
pub const FAT32_MIN_CLUSTERS: u64 = 65525;
/// Fewest clusters of a FAT16 volume.
pub const FAT16_MIN_CLUSTERS: u64 = 4085;

#[derive(Debug, Error)]
pub enum FatError {
    #[error("a {0}-byte partition is too small for a FAT16 file system (at least 2 MiB)")]
    TooSmall(u64),
    #[error("a {0}-byte partition is too large for FAT (at most 2 TiB)")]
    TooLarge(u64),
    #[error("volume label {0:?} is not 1 to 11 printable ASCII characters")]
    BadLabel(String),
    #[error("bad file path {0:?} (want a relative path like EFI/BOOT/BOOTX64.EFI)")]
    BadPath(String),
    #[error("the FAT library made a {got:?} file system where {want:?} was asked for")]
    WrongType { want: FatType, got: FatType },
    #[error("the FAT file system just written is inconsistent: {0}")]
    Inconsistent(String),
    #[error("writing the FAT file system failed at {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

fn io_at(what: impl Into<String>) -> impl FnOnce(io::Error) -> FatError {
    let what = what.into();
    move |source| FatError::Io { what, source }
}

/// FAT type and cluster size for a volume of `size` bytes: FAT32 with the
/// largest cluster (≤ 4 KiB) that still gives at least 65525 clusters,
/// else FAT16 with the smallest cluster keeping the count below 65525.
pub fn plan(size: u64) -> Result<(FatType, u32), FatError> {
    // Room for reserved sectors and the root directory, roughly.
    let data = size.saturating_sub(64 << 10);
    // Each cluster also costs its FAT entries (two FATs).
    let clusters = |c: u64, entry: u64| data / (c + 2 * entry);
    const MARGIN: u64 = 64;
    for c in [4096u64, 2048, 1024, 512] {
        if clusters(c, 4) >= FAT32_MIN_CLUSTERS + MARGIN {
            if clusters(c, 4) > 0x0fff_fff0 {
                return Err(FatError::TooLarge(size));
            }
            return Ok((FatType::Fat32, c as u32));
        }
    }
    for c in [512u64, 1024, 2048, 4096, 8192, 16384, 32768] {
        let n = clusters(c, 2);
        if n <= FAT32_MIN_CLUSTERS - 1 - MARGIN {
            if n < FAT16_MIN_CLUSTERS + MARGIN {
                return Err(FatError::TooSmall(size));
            }
            return Ok((FatType::Fat16, c as u32));
        }
    }
    Err(FatError::TooSmall(size))
}

/// A time provider that always answers the same time.
#[derive(Debug)]
struct FixedTime(DateTime);

impl TimeProvider for FixedTime {
    fn get_current_date(&self) -> Date {
        self.0.date
    }
    fn get_current_date_time(&self) -> DateTime {
        self.0
    }
}

/// `t` as a DOS date and time (UTC), clamped to 1980-01-01 .. 2107-12-31.
fn dos_time(t: Timestamp) -> DateTime {
    let days = t.secs.div_euclid(86400);
    let secs = t.secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (year, month, day, secs) = if year < 1980 {
        (1980, 1, 1, 0)
    } else if year > 2107 {
        (2107, 12, 31, 86399)
    } else {
        (year, month, day, secs)
    };
    DateTime {
        date: Date {
            year: year as u16,
            month: month as u16,
            day: day as u16,
        },
        time: Time {
            hour: (secs / 3600) as u16,
            min: (secs / 60 % 60) as u16,
            sec: (secs % 60) as u16,
            millis: 0,
        },
    }
}

fn label_bytes(label: &str) -> Result<[u8; 11], FatError> {
    let bad = || FatError::BadLabel(label.to_string());
    if label.is_empty() || label.len() > 11 {
        return Err(bad());
    }
    let mut out = [b' '; 11];
    for (o, c) in out.iter_mut().zip(label.bytes()) {
        if !(0x20..0x7f).contains(&c) || b"\"*+,./:;<=>?[\\]|".contains(&c) {
            return Err(bad());
        }
        *o = c.to_ascii_uppercase();
    }
    Ok(out)
}

/// Split and check a relative path.
fn components(path: &str) -> Result<Vec<&str>, FatError> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\\'))
    {
        return Err(FatError::BadPath(path.to_string()));
    }
    Ok(parts)
}

/// Format `dev` (which must read as zeros) as FAT — FAT32 when it is big
/// enough, else FAT16 (see [`plan`]) — labelled `label` with serial number
/// `volume_id`, and store `files` (paths like `EFI/BOOT/BOOTX64.EFI`;
/// directories are created as needed). Every timestamp is `time`.
pub fn build_esp(
    dev: &mut dyn BlockDevice,
    files: &[(String, Vec<u8>)],
    label: &str,
    volume_id: u32,
    time: Timestamp,
) -> Result<(), FatError> {
    let size = dev.len();
    let (fat_type, cluster) = plan(size)?;
    let label = label_bytes(label)?;
    let total_sectors = u32::try_from(size / 512).map_err(|_| FatError::TooLarge(size))?;
    fatfs::format_volume(
        DeviceStream::new(&mut *dev),
        FormatVolumeOptions::new()
            .fat_type(fat_type)
            .bytes_per_cluster(cluster)
            .bytes_per_sector(512)
            .total_sectors(total_sectors)
            .volume_id(volume_id)
            .volume_label(label),
    )
    .map_err(io_at("formatting"))?;

    // fatfs wants a `&'static` provider; one small leak per file system.
    let clock: &'static FixedTime = Box::leak(Box::new(FixedTime(dos_time(time))));
    let fs = FileSystem::new(
        DeviceStream::new(&mut *dev),
        FsOptions::new()
            .time_provider(clock)
            .update_accessed_date(false),
    )
    .map_err(io_at("mounting the new file system"))?;
    if fs.fat_type() != fat_type {
        return Err(FatError::WrongType {
            want: fat_type,
            got: fs.fat_type(),
        });
    }
    for (path, data) in files {
        let parts = components(path)?;
        let (name, dirs) = parts
            .split_last()
            .ok_or_else(|| FatError::BadPath(path.clone()))?;
        let mut dir = fs.root_dir();
        let mut sofar = String::new();
        for d in dirs {
            if !sofar.is_empty() {
                sofar.push('/');
            }
            sofar.push_str(d);
            dir = dir
                .create_dir(d)
                .map_err(io_at(format!("creating {sofar}")))?;
        }
        let mut file = dir
            .create_file(name)
            .map_err(io_at(format!("creating {path}")))?;
        file.truncate()
            .map_err(io_at(format!("truncating {path}")))?;
        file.write_all(data)
            .map_err(io_at(format!("writing {path}")))?;
        file.flush().map_err(io_at(format!("writing {path}")))?;
    }
    let free = fs
        .stats()
        .map_err(io_at("counting free clusters"))?
        .free_clusters();
    fs.unmount().map_err(io_at("unmounting"))?;
    fixup::fix(dev, free)?;
    dev.flush().map_err(io_at("flushing"))?;
    Ok(())
}

/// Check a FAT file system for what firmware needs to read it: a sane
/// boot sector, and every directory and file reachable and readable to
/// its recorded length through the FAT chains. Nothing is written.
pub fn check(dev: &mut dyn BlockDevice) -> Result<(), FatError> {
    let mut boot = [0u8; 512];
    dev.read_at(&mut boot, 0)
        .map_err(io_at("reading the boot sector"))?;
    check_boot_sector(&boot)?;
    let fs = FileSystem::new(DeviceStream::new(dev), FsOptions::new())
        .map_err(io_at("opening the file system"))?;
    let mut pending = vec![(String::new(), fs.root_dir())];
    let mut seen = 0usize;
    while let Some((path, dir)) = pending.pop() {
        for entry in dir.iter() {
            let entry = entry.map_err(io_at(format!("listing /{path}")))?;
            let name = entry.file_name();
            if name == "." || name == ".." {
                continue;
            }
            seen += 1;
            if seen > 100_000 {
                return Err(FatError::Inconsistent(
                    "more than 100000 entries (a loop?)".into(),
                ));
            }
            let full = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            if entry.is_dir() {
                pending.push((full, entry.to_dir()));
            } else {
                let want = entry.len();
                let got = io::copy(&mut entry.to_file(), &mut io::sink())
                    .map_err(io_at(format!("reading /{full}")))?;
                if got != want {
                    return Err(FatError::Inconsistent(format!(
                        "/{full}: {got} bytes readable of {want}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The boot-sector fields every FAT reader relies on.
pub fn check_boot_sector(b: &[u8; 512]) -> Result<(), FatError> {
    let bad = |what: String| Err(FatError::Inconsistent(format!("boot sector: {what}")));
    if b[510..512] != [0x55, 0xaa] {
        return bad("no 0x55AA signature".into());
    }
    if b[0] != 0xeb && b[0] != 0xe9 {
        return bad(format!("starts with {:#04x}, not a jump", b[0]));
    }
    let bps = u16::from_le_bytes([b[11], b[12]]);
    if !matches!(bps, 512 | 1024 | 2048 | 4096) {
        return bad(format!("{bps} bytes per sector"));
    }
    let spc = b[13];
    if spc == 0 || !spc.is_power_of_two() {
        return bad(format!("{spc} sectors per cluster"));
    }
    if b[16] == 0 {
        return bad("no FAT copies".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esp_sizes_pick_fat32_only_with_enough_clusters() {
        assert_eq!(plan(DEFAULT_ESP_SIZE).unwrap(), (FatType::Fat32, 4096));
        assert_eq!(plan(64 << 20).unwrap(), (FatType::Fat32, 512));
        assert_eq!(plan(32 << 20).unwrap().0, FatType::Fat16);
        assert!(plan(1 << 20).is_err());
    }

    #[test]
    fn dos_time_converts_utc_civil_dates() {
        let t = dos_time(Timestamp::from_secs(1_700_000_000)); // 2023-11-14 22:13:20
        assert_eq!((t.date.year, t.date.month, t.date.day), (2023, 11, 14));
        assert_eq!((t.time.hour, t.time.min, t.time.sec), (22, 13, 20));
        assert_eq!(dos_time(Timestamp::from_secs(0)).date.year, 1980);
    }
}
