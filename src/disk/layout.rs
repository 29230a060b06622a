//! Partition layouts as data: what partitions a disk has (type, label,
//! size, attributes, GUID), and where they go. Placement aligns every
//! partition to 1 MiB, the first at 1 MiB, leaving room for the protective
//! MBR and the GPT header and entry array at both ends.

use thiserror::Error;
use uuid::Uuid;

/// Partition alignment and the offset of the first partition.
pub const ALIGN: u64 = 1 << 20;
/// Logical sector size.
pub const SECTOR: u64 = 512;
/// Sectors GPT reserves at the end: 32 of entries and the backup header.
pub const GPT_TAIL_SECTORS: u64 = 33;

/// How big a partition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartSize {
    /// This many bytes, rounded up to whole sectors; the next partition
    /// starts at the following [`ALIGN`] boundary.
    Bytes(u64),
    /// Everything left (only the last partition).
    Rest,
}

/// One partition of a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSpec {
    /// GPT partition name (at most 36 UTF-16 code units).
    pub label: String,
    pub type_guid: Uuid,
    pub size: PartSize,
    /// GPT attribute bits (see [`crate::disk::gpt::attr`]).
    pub attributes: u64,
    pub guid: Uuid,
}

/// A disk's partitioning, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskLayout {
    pub disk_guid: Uuid,
    pub partitions: Vec<PartitionSpec>,
}

/// A partition with its place on the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedPartition {
    /// 1-based GPT entry number.
    pub index: u32,
    pub spec: PartitionSpec,
    pub first_byte: u64,
    pub len_bytes: u64,
}

/// A layout placed on a disk of a given size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub disk_size: u64,
    pub disk_guid: Uuid,
    pub partitions: Vec<PlacedPartition>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    #[error("disk size {0} is not a multiple of 512 bytes")]
    Unaligned(u64),
    #[error("partitions need {need} bytes but the disk has {have}")]
    TooSmall { need: u64, have: u64 },
    #[error("only the last partition may take the rest of the disk (partition {0})")]
    RestNotLast(u32),
    #[error("partition {index} has size 0")]
    Empty { index: u32 },
    #[error("partition label {0:?} is longer than 36 UTF-16 code units")]
    LabelTooLong(String),
    #[error("a GPT holds at most 128 partitions")]
    TooMany,
}

impl DiskLayout {
    /// Smallest disk that holds this layout (a `Rest` partition gets 1 MiB).
    pub fn minimum_size(&self) -> u64 {
        let parts: u64 = self
            .partitions
            .iter()
            .map(|p| match p.size {
                PartSize::Bytes(b) => b.next_multiple_of(ALIGN),
                PartSize::Rest => ALIGN,
            })
            .sum();
        ALIGN + parts + ALIGN
    }

    /// Place the partitions on a disk of `disk_size` bytes.
    pub fn place(&self, disk_size: u64) -> Result<Placement, LayoutError> {
        if !disk_size.is_multiple_of(SECTOR) {
            return Err(LayoutError::Unaligned(disk_size));
        }
        if self.partitions.len() > 128 {
            return Err(LayoutError::TooMany);
        }
        // The last usable byte + 1, rounded down to the alignment.
        let usable_end = disk_size.saturating_sub(GPT_TAIL_SECTORS * SECTOR) / ALIGN * ALIGN;
        let mut next = ALIGN;
        let mut out = Vec::with_capacity(self.partitions.len());
        for (i, spec) in self.partitions.iter().enumerate() {
            let index = i as u32 + 1;
            if spec.label.encode_utf16().count() > 36 {
                return Err(LayoutError::LabelTooLong(spec.label.clone()));
            }
            let len = match spec.size {
                PartSize::Bytes(0) => return Err(LayoutError::Empty { index }),
                PartSize::Bytes(b) => b.next_multiple_of(SECTOR),
                PartSize::Rest if i + 1 != self.partitions.len() => {
                    return Err(LayoutError::RestNotLast(index));
                }
                PartSize::Rest => usable_end.saturating_sub(next),
            };
            if len == 0 || next + len > usable_end {
                return Err(LayoutError::TooSmall {
                    need: self.minimum_size(),
                    have: disk_size,
                });
            }
            out.push(PlacedPartition {
                index,
                spec: spec.clone(),
                first_byte: next,
                len_bytes: len,
            });
            next = (next + len).next_multiple_of(ALIGN);
        }
        Ok(Placement {
            disk_size,
            disk_guid: self.disk_guid,
            partitions: out,
        })
    }
}
