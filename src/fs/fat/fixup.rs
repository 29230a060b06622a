//! Repairs applied to what the `fatfs` crate wrote, on the raw bytes:
//! every subdirectory must begin with the plain `.` and `..` entries (the
//! crate puts a long-name entry before each), and a FAT32 FSInfo sector
//! must carry the free-cluster count.

use std::collections::BTreeSet;

use super::{FatError, io_at};
use crate::disk::block::BlockDevice;

/// `ATTR_LONG_NAME`.
const ATTR_LFN: u8 = 0x0f;
/// `ATTR_DIRECTORY`.
const ATTR_DIR: u8 = 0x10;
/// First byte of a deleted entry.
const DELETED: u8 = 0xe5;
const ENTRY: usize = 32;

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

/// The BIOS parameter block fields the walk needs.
struct Bpb {
    bytes_per_sector: u64,
    cluster_bytes: u64,
    fat_start: u64,
    root_start: u64,
    root_bytes: u64,
    data_start: u64,
    fat32: bool,
    root_cluster: u64,
    fsinfo_sector: u64,
    clusters: u64,
}

impl Bpb {
    fn decode(b: &[u8]) -> Result<Self, FatError> {
        let bad = |what: &str| FatError::Inconsistent(format!("boot sector: {what}"));
        let bytes_per_sector = le16(b, 11);
        let spc = u64::from(b[13]);
        if bytes_per_sector < 512 || spc == 0 {
            return Err(bad("sector or cluster size"));
        }
        let reserved = le16(b, 14);
        let fats = u64::from(b[16]);
        let root_entries = le16(b, 17);
        let fat16_size = le16(b, 22);
        let fat32 = fat16_size == 0;
        let fat_size = if fat32 { le32(b, 36) } else { fat16_size };
        let total = if le16(b, 19) != 0 {
            le16(b, 19)
        } else {
            le32(b, 32)
        };
        let fat_start = reserved * bytes_per_sector;
        let root_start = fat_start + fats * fat_size * bytes_per_sector;
        let root_bytes = if fat32 {
            0
        } else {
            root_entries * ENTRY as u64
        };
        let data_start = root_start + root_bytes.next_multiple_of(bytes_per_sector);
        let cluster_bytes = spc * bytes_per_sector;
        let clusters = (total * bytes_per_sector).saturating_sub(data_start) / cluster_bytes;
        Ok(Bpb {
            bytes_per_sector,
            cluster_bytes,
            fat_start,
            root_start,
            root_bytes,
            data_start,
            fat32,
            root_cluster: le32(b, 44),
            fsinfo_sector: le16(b, 48),
            clusters,
        })
    }

    fn cluster_offset(&self, c: u64) -> Result<u64, FatError> {
        if c < 2 || c >= self.clusters + 2 {
            return Err(FatError::Inconsistent(format!("cluster {c} out of range")));
        }
        Ok(self.data_start + (c - 2) * self.cluster_bytes)
    }
}

fn read(dev: &mut dyn BlockDevice, len: u64, off: u64) -> Result<Vec<u8>, FatError> {
    let mut b = vec![0u8; len as usize];
    dev.read_at(&mut b, off)
        .map_err(io_at("reading back the FAT"))?;
    Ok(b)
}

/// The clusters of the chain starting at `first`.
fn chain(dev: &mut dyn BlockDevice, bpb: &Bpb, first: u64) -> Result<Vec<u64>, FatError> {
    let mut out = vec![first];
    let mut c = first;
    loop {
        let (width, end) = if bpb.fat32 {
            (4, 0x0fff_fff8)
        } else {
            (2, 0xfff8)
        };
        let e = read(dev, width, bpb.fat_start + c * width)?;
        let next = if bpb.fat32 {
            le32(&e, 0) & 0x0fff_ffff
        } else {
            le16(&e, 0)
        };
        if next >= end {
            return Ok(out);
        }
        if next < 2 || out.len() as u64 > bpb.clusters || out.contains(&next) {
            return Err(FatError::Inconsistent(format!(
                "bad FAT chain from {first}"
            )));
        }
        out.push(next);
        c = next;
    }
}

/// Subdirectory first clusters named in directory bytes `dir`.
fn subdirs(dir: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    for e in dir.chunks_exact(ENTRY) {
        if e[0] == 0 {
            break;
        }
        if e[0] == DELETED || e[11] == ATTR_LFN || e[11] & ATTR_DIR == 0 || e[0] == b'.' {
            continue;
        }
        out.push((le16(e, 20) << 16) | le16(e, 26));
    }
    out
}

fn is_dot(e: &[u8], name: &[u8; 11]) -> bool {
    &e[..11] == name && e[11] & ATTR_DIR != 0
}

/// Rewrite one directory cluster so that `.` and `..` come first, dropping
/// the long-name entries that precede them. A `..` naming the root
/// directory must say cluster 0.
fn fix_cluster(bytes: &mut [u8], parent_is_root: bool) {
    let slots: Vec<&[u8]> = bytes.chunks_exact(ENTRY).collect();
    let is_dots = |e: &[u8]| is_dot(e, b".          ") || is_dot(e, b"..         ");
    let mut drop = vec![false; slots.len()];
    for (i, e) in slots.iter().enumerate() {
        if is_dots(e) {
            let mut j = i;
            while j > 0 && slots[j - 1][11] == ATTR_LFN && slots[j - 1][0] != DELETED {
                j -= 1;
                drop[j] = true;
            }
        }
    }
    let dot = slots.iter().position(|e| is_dot(e, b".          "));
    let dotdot = slots.iter().position(|e| is_dot(e, b"..         "));
    let (Some(dot), Some(dotdot)) = (dot, dotdot) else {
        return;
    };
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    out.extend_from_slice(slots[dot]);
    out.extend_from_slice(slots[dotdot]);
    if parent_is_root {
        out[ENTRY + 20..ENTRY + 22].fill(0);
        out[ENTRY + 26..ENTRY + 28].fill(0);
    }
    for (i, e) in slots.iter().enumerate() {
        if i != dot && i != dotdot && !drop[i] {
            out.extend_from_slice(e);
        }
    }
    // Freed slots: end-of-directory if the cluster ended so, else deleted
    // (the directory may continue in the next cluster).
    let ended = slots.last().is_some_and(|e| e[0] == 0);
    while out.len() < bytes.len() {
        let mut e = [0u8; ENTRY];
        if !ended {
            e[0] = DELETED;
        }
        out.extend_from_slice(&e);
    }
    bytes.copy_from_slice(&out);
}

/// Apply both repairs to the file system on `dev`.
pub(super) fn fix(dev: &mut dyn BlockDevice, free_clusters: u32) -> Result<(), FatError> {
    let boot = read(dev, 512, 0)?;
    let bpb = Bpb::decode(&boot)?;
    let root: Vec<u8> = if bpb.fat32 {
        let mut v = Vec::new();
        for c in chain(dev, &bpb, bpb.root_cluster)? {
            let off = bpb.cluster_offset(c)?;
            v.extend(read(dev, bpb.cluster_bytes, off)?);
        }
        v
    } else {
        read(dev, bpb.root_bytes, bpb.root_start)?
    };
    let mut todo: Vec<(u64, bool)> = subdirs(&root).into_iter().map(|c| (c, true)).collect();
    let mut seen = BTreeSet::new();
    while let Some((first, parent_is_root)) = todo.pop() {
        if !seen.insert(first) {
            continue;
        }
        let clusters = chain(dev, &bpb, first)?;
        let mut all = Vec::new();
        for (k, &c) in clusters.iter().enumerate() {
            let off = bpb.cluster_offset(c)?;
            let mut b = read(dev, bpb.cluster_bytes, off)?;
            if k == 0 {
                fix_cluster(&mut b, parent_is_root);
                dev.write_at(&b, off)
                    .map_err(io_at("rewriting a directory"))?;
            }
            all.extend(b);
        }
        todo.extend(subdirs(&all).into_iter().map(|c| (c, false)));
    }
    if bpb.fat32 && bpb.fsinfo_sector != 0 {
        let off = bpb.fsinfo_sector * bpb.bytes_per_sector + 488;
        dev.write_at(&free_clusters.to_le_bytes(), off)
            .map_err(io_at("writing FSInfo"))?;
    }
    Ok(())
}
