//! Sector-sized protective-MBR boot code and the boot partition it loads,
//! as `mkimg -b` and `gpart bootcode -b/-p` place them on a GPT disk:
//!
//! * The boot code file must be exactly one 512-byte sector (mkimg's GPT
//!   scheme has `.bootcode = 512`; gpart refuses other sizes for MBR
//!   code) and carry the `0x55AA` signature at 510. Its first
//!   `DOSPARTOFF` (446) bytes — code, disk signature and the two bytes
//!   after it — replace bytes 0..446 of LBA 0 (`gpt_write_pmbr` in
//!   `usr.bin/mkimg/gpt.c`, `g_part_gpt_bootcode` in
//!   `sys/geom/part/g_part_gpt.c`); the protective partition entry and the
//!   signature are the GPT writer's. mkimg leaves the entry's status byte
//!   0; newer gpart sets it to 0x80 "since some BIOS require it". We do
//!   what mkimg (the release's VM images) does.
//! * Such boot code (`pmbr.S`) looks for the first GPT entry of a given
//!   type, loads that whole partition at 0x7c00 sector by sector and
//!   jumps to it. It refuses ("Boot loader too large") to load past
//!   0x90000, so the partition may span at most
//!   (0x90000 − 0x7c00) / 512 = 1090 sectors (545 KiB); the stage-two
//!   code must be non-empty and fit the partition.

use thiserror::Error;

use crate::disk::BlockDevice;

/// `DOSPARTOFF`: where the MBR partition table starts; the bytes of boot
/// code copied into LBA 0.
pub const DOSPARTOFF: usize = 446;
/// Size of a boot code file: one sector.
pub const PMBR_FILE_SIZE: usize = 512;
/// Largest boot partition the PMBR loads: `0x90000 - 0x7c00` bytes.
pub const MAX_BOOT_PARTITION: u64 = 0x90000 - 0x7c00;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PmbrError {
    #[error("PMBR boot code is {0} bytes; it must be exactly one 512-byte sector")]
    Size(usize),
    #[error("PMBR boot code has no 0x55AA signature at byte 510 (found {0:02x} {1:02x})")]
    NoSignature(u8, u8),
    #[error("boot partition code is empty")]
    EmptyStage2,
    #[error("boot partition code of {code} bytes does not fit its {partition}-byte partition")]
    Stage2TooBig { code: usize, partition: u64 },
    #[error(
        "boot partition of {0} bytes is larger than the {MAX_BOOT_PARTITION} bytes (545 KiB) the PMBR can load"
    )]
    PartitionTooBig(u64),
    #[error("I/O error writing boot code: {0}")]
    Io(String),
}

/// Check a boot code file and return the bytes that go into LBA 0.
pub fn pmbr_bootcode(pmbr: &[u8]) -> Result<[u8; DOSPARTOFF], PmbrError> {
    if pmbr.len() != PMBR_FILE_SIZE {
        return Err(PmbrError::Size(pmbr.len()));
    }
    if pmbr[510] != 0x55 || pmbr[511] != 0xaa {
        return Err(PmbrError::NoSignature(pmbr[510], pmbr[511]));
    }
    let mut out = [0u8; DOSPARTOFF];
    out.copy_from_slice(&pmbr[..DOSPARTOFF]);
    Ok(out)
}

/// Write `code` (from [`pmbr_bootcode`]) over bytes 0..446 of LBA 0, after
/// the GPT writer has written the protective MBR.
pub fn install_pmbr_bootcode(
    dev: &mut dyn BlockDevice,
    code: &[u8; DOSPARTOFF],
) -> Result<(), PmbrError> {
    dev.write_at(code, 0)
        .map_err(|e| PmbrError::Io(e.to_string()))
}

/// Check that stage-two code of `code_len` bytes can go into a boot
/// partition of `partition_len` bytes that the PMBR loads whole.
pub fn check_boot_partition(code_len: usize, partition_len: u64) -> Result<(), PmbrError> {
    if code_len == 0 {
        return Err(PmbrError::EmptyStage2);
    }
    if partition_len > MAX_BOOT_PARTITION {
        return Err(PmbrError::PartitionTooBig(partition_len));
    }
    if code_len as u64 > partition_len {
        return Err(PmbrError::Stage2TooBig {
            code: code_len,
            partition: partition_len,
        });
    }
    Ok(())
}

/// Check `code` with [`check_boot_partition`] and write it at the start of
/// the boot partition (`first_byte`, `len` bytes); the rest of the
/// partition is left as it is (zeros on a fresh disk).
pub fn write_boot_partition(
    dev: &mut dyn BlockDevice,
    first_byte: u64,
    len: u64,
    code: &[u8],
) -> Result<(), PmbrError> {
    check_boot_partition(code.len(), len)?;
    dev.write_at(code, first_byte)
        .map_err(|e| PmbrError::Io(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_1090_sectors() {
        assert_eq!(MAX_BOOT_PARTITION, 1090 * 512);
        assert_eq!(MAX_BOOT_PARTITION, 545 * 1024);
    }
}
