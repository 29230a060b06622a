//! File-system formats written and read by mkimage: FFSv2/UFS2 for roots,
//! FAT for EFI system partitions.

pub mod fat;
pub mod ffs;
