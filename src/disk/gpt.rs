//! GUID partition tables: well-known type GUIDs and attribute bits,
//! writing a [`Placement`] (protective MBR with an optional boot-code slot,
//! primary and backup headers and entry arrays) and reading a table back.
//!
//! Writing uses the `gpt` crate for the headers and entry arrays (we set
//! every GUID ourselves: the crate's would be random) and its protective
//! MBR for LBA 0. Reading is done here by hand, so that a damaged table is
//! an error and never a panic.

use std::io;

use flate2::Crc;
use thiserror::Error;
use uuid::Uuid;

use super::block::BlockDevice;
use super::layout::{Placement, SECTOR};
use super::stream::DeviceStream;

/// Partition type GUIDs.
pub mod types {
    use uuid::{Uuid, uuid};

    /// EFI system partition (`GPT_ENT_TYPE_EFI`).
    pub const EFI_SYSTEM: Uuid = uuid!("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    /// `GPT_ENT_TYPE_NETBSD_FFS`.
    pub const NETBSD_FFS: Uuid = uuid!("49f48d5a-b10e-11dc-b99b-0019d1879648");
    /// `GPT_ENT_TYPE_NETBSD_SWAP`.
    pub const NETBSD_SWAP: Uuid = uuid!("49f48d32-b10e-11dc-b99b-0019d1879648");
    /// `GPT_ENT_TYPE_FREEBSD_UFS`.
    pub const FREEBSD_UFS: Uuid = uuid!("516e7cb6-6ecf-11d6-8ff8-00022d09712b");
    /// `GPT_ENT_TYPE_FREEBSD_BOOT`.
    pub const FREEBSD_BOOT: Uuid = uuid!("83bd6b9d-7f41-11dc-be0b-001560b84f0f");
    /// `GPT_ENT_TYPE_FREEBSD_SWAP`.
    pub const FREEBSD_SWAP: Uuid = uuid!("516e7cb5-6ecf-11d6-8ff8-00022d09712b");
}

/// Partition attribute bits (`GPT_ENT_ATTR_*`); others may be given by
/// number with [`attr::bit`].
pub mod attr {
    /// `GPT_ENT_ATTR_REQUIRED_PARTITION`.
    pub const REQUIRED: u64 = 1 << 0;
    /// `GPT_ENT_ATTR_NO_BLOCKIO_PROTOCOL`.
    pub const NO_BLOCK_IO: u64 = 1 << 1;
    /// `GPT_ENT_ATTR_LEGACY_BIOS_BOOTABLE`: the partition gptmbr boots.
    pub const LEGACY_BIOS_BOOTABLE: u64 = 1 << 2;
    /// `GPT_ENT_ATTR_BOOTME`: the partition a loader should boot from.
    pub const BOOTME: u64 = 1 << 59;

    /// The attribute with bit number `n` (0..=63); 0 for larger `n`.
    pub const fn bit(n: u32) -> u64 {
        if n < 64 { 1u64 << n } else { 0 }
    }
}

/// Size of the MBR boot-code area: bytes 0..440 of LBA 0.
pub const BOOT_CODE_LEN: usize = 440;

#[derive(Debug, Error)]
pub enum GptError {
    #[error("I/O error on the disk: {0}")]
    Io(#[from] io::Error),
    #[error("boot code of {0} bytes does not fit the 440-byte MBR slot")]
    BootCodeTooLong(usize),
    #[error("no valid GPT header (primary or backup)")]
    NoHeader,
    #[error("GPT is corrupt: {0}")]
    Corrupt(String),
    #[error("writing the GPT failed: {0}")]
    Crate(String),
}

/// A partition as read back from a disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// 1-based entry number.
    pub index: u32,
    pub type_guid: Uuid,
    pub guid: Uuid,
    pub name: String,
    pub first_byte: u64,
    pub len_bytes: u64,
    pub attributes: u64,
}

/// Write the protective MBR (with `boot_code`, at most 440 bytes, in bytes
/// 0..440 of LBA 0) and both GPT headers and entry arrays for `placement`.
/// The device must already have its final size.
pub fn write_gpt(
    dev: &mut dyn BlockDevice,
    placement: &Placement,
    boot_code: Option<&[u8]>,
) -> Result<(), GptError> {
    let crate_err = |e: gpt::GptError| GptError::Crate(e.to_string());
    let sectors = dev.len() / SECTOR;
    let mut io = DeviceStream::new(dev);

    let mut mbr = gpt::mbr::ProtectiveMBR::with_lb_size(
        u32::try_from(sectors.saturating_sub(1)).unwrap_or(u32::MAX),
    );
    if let Some(code) = boot_code {
        if code.len() > BOOT_CODE_LEN {
            return Err(GptError::BootCodeTooLong(code.len()));
        }
        let mut slot = [0u8; BOOT_CODE_LEN];
        slot[..code.len()].copy_from_slice(code);
        mbr.set_bootcode(slot);
    }
    mbr.overwrite_lba0(&mut io)
        .map_err(|e| GptError::Crate(e.to_string()))?;

    let mut disk = gpt::GptConfig::new()
        .writable(true)
        .logical_block_size(gpt::disk::LogicalBlockSize::Lb512)
        .create_from_device(&mut io, Some(placement.disk_guid))
        .map_err(crate_err)?;
    let parts = placement
        .partitions
        .iter()
        .map(|p| {
            let part = gpt::partition::Partition {
                part_type_guid: gpt::partition_types::Type {
                    guid: p.spec.type_guid,
                    os: gpt::partition_types::OperatingSystem::None,
                },
                part_guid: p.spec.guid,
                first_lba: p.first_byte / SECTOR,
                last_lba: (p.first_byte + p.len_bytes) / SECTOR - 1,
                flags: p.spec.attributes,
                name: p.spec.label.clone(),
            };
            (p.index, part)
        })
        .collect();
    disk.update_partitions(parts).map_err(crate_err)?;
    disk.write().map_err(crate_err)?;
    Ok(())
}

/// `GptHeader`: the fields of an EFI PART header this reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GptHeader {
    pub my_lba: u64,
    pub alternate_lba: u64,
    pub first_usable: u64,
    pub last_usable: u64,
    pub disk_guid: Uuid,
    pub entries_lba: u64,
    pub num_entries: u32,
    pub entry_size: u32,
    pub entries_crc: u32,
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from(le32(b, at)) | (u64::from(le32(b, at + 4)) << 32)
}

fn guid_at(b: &[u8], at: usize) -> Uuid {
    let mut g = [0u8; 16];
    g.copy_from_slice(&b[at..at + 16]);
    Uuid::from_bytes_le(g)
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc::new();
    c.update(data);
    c.sum()
}

impl GptHeader {
    /// Decode and verify (signature, size, CRC) a header sector.
    pub fn decode(b: &[u8]) -> Result<Self, GptError> {
        if b.len() < 92 || &b[0..8] != b"EFI PART" {
            return Err(GptError::Corrupt("no EFI PART signature".into()));
        }
        let size = le32(b, 12) as usize;
        if !(92..=b.len()).contains(&size) {
            return Err(GptError::Corrupt(format!("header size {size}")));
        }
        let mut copy = b[..size].to_vec();
        copy[16..20].fill(0);
        if crc32(&copy) != le32(b, 16) {
            return Err(GptError::Corrupt("header CRC mismatch".into()));
        }
        Ok(GptHeader {
            my_lba: le64(b, 24),
            alternate_lba: le64(b, 32),
            first_usable: le64(b, 40),
            last_usable: le64(b, 48),
            disk_guid: guid_at(b, 56),
            entries_lba: le64(b, 72),
            num_entries: le32(b, 80),
            entry_size: le32(b, 84),
            entries_crc: le32(b, 88),
        })
    }
}

/// Read a GPT header at `lba` and its entry array, checked.
fn read_table(
    dev: &mut dyn BlockDevice,
    lba: u64,
) -> Result<(GptHeader, Vec<PartitionInfo>), GptError> {
    let mut sector = [0u8; SECTOR as usize];
    dev.read_at(&mut sector, lba * SECTOR)?;
    let h = GptHeader::decode(&sector)?;
    if h.my_lba != lba {
        return Err(GptError::Corrupt(format!(
            "header at LBA {lba} says it is at {}",
            h.my_lba
        )));
    }
    if h.entry_size < 128 || h.entry_size > 4096 || h.num_entries > 4096 {
        return Err(GptError::Corrupt(format!(
            "{} entries of {} bytes",
            h.num_entries, h.entry_size
        )));
    }
    let bytes = u64::from(h.num_entries) * u64::from(h.entry_size);
    let start = h
        .entries_lba
        .checked_mul(SECTOR)
        .filter(|s| s.checked_add(bytes).is_some_and(|e| e <= dev.len()))
        .ok_or_else(|| GptError::Corrupt("entry array beyond the disk".into()))?;
    let mut arr = vec![0u8; bytes as usize];
    dev.read_at(&mut arr, start)?;
    if crc32(&arr) != h.entries_crc {
        return Err(GptError::Corrupt("entry array CRC mismatch".into()));
    }
    let mut parts = Vec::new();
    for (i, e) in arr.chunks_exact(h.entry_size as usize).enumerate() {
        let type_guid = guid_at(e, 0);
        if type_guid.is_nil() {
            continue;
        }
        let (first, last) = (le64(e, 32), le64(e, 40));
        if last < first
            || last
                .checked_add(1)
                .and_then(|l| l.checked_mul(SECTOR))
                .is_none()
        {
            return Err(GptError::Corrupt(format!(
                "entry {} has LBAs {first}..{last}",
                i + 1
            )));
        }
        let units: Vec<u16> = e[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        parts.push(PartitionInfo {
            index: i as u32 + 1,
            type_guid,
            guid: guid_at(e, 16),
            name: String::from_utf16_lossy(&units),
            first_byte: first * SECTOR,
            len_bytes: (last - first + 1) * SECTOR,
            attributes: le64(e, 48),
        });
    }
    Ok((h, parts))
}

/// The disk GUID and partitions of the GPT on `dev`: the primary table, or
/// the backup (last sector) when the primary is damaged.
pub fn read_gpt(dev: &mut dyn BlockDevice) -> Result<(Uuid, Vec<PartitionInfo>), GptError> {
    let last = (dev.len() / SECTOR)
        .checked_sub(1)
        .ok_or(GptError::NoHeader)?;
    let (h, parts) = match read_table(dev, 1) {
        Ok(t) => t,
        Err(GptError::Io(e)) => return Err(GptError::Io(e)),
        Err(_) => read_table(dev, last).map_err(|_| GptError::NoHeader)?,
    };
    Ok((h.disk_guid, parts))
}

/// The partitions of the GPT on `dev` (see [`read_gpt`]).
pub fn read_partitions(dev: &mut dyn BlockDevice) -> Result<Vec<PartitionInfo>, GptError> {
    Ok(read_gpt(dev)?.1)
}

/// The first partition of type `type_guid`.
pub fn find_by_type(parts: &[PartitionInfo], type_guid: Uuid) -> Option<&PartitionInfo> {
    parts.iter().find(|p| p.type_guid == type_guid)
}

/// Check what a GPT disk must hold for firmware and `gpt`/`sgdisk` alike:
/// a protective MBR (0xEE entry, 0x55AA), a valid primary table at LBA 1,
/// a valid backup table at the last LBA, each pointing at the other, and
/// both listing the same partitions.
pub fn check_both_tables(dev: &mut dyn BlockDevice) -> Result<(), GptError> {
    let mut mbr = [0u8; SECTOR as usize];
    dev.read_at(&mut mbr, 0)?;
    if mbr[510..512] != [0x55, 0xaa] {
        return Err(GptError::Corrupt(
            "protective MBR lacks the 0x55AA signature".into(),
        ));
    }
    if mbr[446 + 4] != 0xee {
        return Err(GptError::Corrupt(
            "MBR entry 1 is not the 0xEE protective entry".into(),
        ));
    }
    let last = (dev.len() / SECTOR)
        .checked_sub(1)
        .ok_or(GptError::NoHeader)?;
    let (primary, p_parts) =
        read_table(dev, 1).map_err(|e| GptError::Corrupt(format!("primary table: {e}")))?;
    let (backup, b_parts) =
        read_table(dev, last).map_err(|e| GptError::Corrupt(format!("backup table: {e}")))?;
    if primary.alternate_lba != last || backup.alternate_lba != 1 {
        return Err(GptError::Corrupt(format!(
            "primary names its backup at LBA {}, backup names the primary at {} (disk ends at {last})",
            primary.alternate_lba, backup.alternate_lba
        )));
    }
    if p_parts != b_parts || primary.disk_guid != backup.disk_guid {
        return Err(GptError::Corrupt("primary and backup tables differ".into()));
    }
    Ok(())
}
