//! x86 boot blocks: the 440 bytes of MBR boot code (`gptmbr.bin`) and the
//! partition boot code (`bootxx_ffsv2` and friends) with its parameter
//! block.
//!
//! The rules follow `installboot(8)`'s i386/amd64 back end
//! (`usr.sbin/installboot/arch/i386.c`, `i386_setboot` and
//! `update_i386_boot_params`), `gpt biosboot` (`sbin/gpt/biosboot.c`,
//! `read_boot`) and `struct x86_boot_params` in `sys/sys/bootblock.h`:
//!
//! * MBR boot code must be exactly [`MBR_DSN_OFFSET`] (440) bytes
//!   (`read_boot` refuses any other size); it replaces bytes 0..440 of
//!   sector 0 and the disk signature, partition table and 0x55AA stay as
//!   they are. (`biosboot` itself copies `sizeof(mbr_code)`, 446 bytes,
//!   from a sector buffer of which only 440 were read, so bytes 440..446
//!   get whatever the buffer held; we keep the disk's bytes there.)
//! * Partition boot code is at most 8192 bytes and at least 1536 (three
//!   sectors); its bytes 446..510 (the MBR partition table area) and
//!   512..1024 (the label sector) must be zero. The 32-bit magic
//!   [`X86_BOOT_MAGIC_1`] sits at byte 1028 (`512 * 2 + 4`), followed by
//!   `struct x86_boot_params`. It must start with `jmp short; nop`
//!   (`EB xx 90`) because a FAT-style BPB may follow.
//! * What is written: the boot code's first sector with bytes 446..510
//!   taken from the existing sector 0 when that sector carries the 0x55AA
//!   signature (else zeros), the existing bytes 512..1024 untouched, then
//!   the boot code from byte 1024 on, zero-padded to a sector boundary,
//!   and the existing bytes after that (up to 8192) untouched.

use thiserror::Error;

/// `MBR_DSN_OFFSET` in `sys/sys/bootblock.h`: where the disk serial number
/// follows the MBR boot code; the size of `gptmbr.bin`.
pub const MBR_DSN_OFFSET: usize = 440;
/// `MBR_PART_OFFSET`: the MBR partition table (4 × 16 bytes).
pub const MBR_PART_OFFSET: usize = 446;
/// Size of the MBR partition table area (`sizeof mbr_parts`).
pub const MBR_PART_SIZE: usize = 64;
/// `MBR_MAGIC_OFFSET`; `MBR_MAGIC` is 0xAA55 little-endian (bytes 55 AA).
pub const MBR_MAGIC_OFFSET: usize = 510;
/// The area installboot reads and rewrites at the start of the partition
/// (`union { … uint8_t b[8192]; } disk_buf` in `i386_setboot`).
pub const BOOT_AREA_SIZE: usize = 8192;
/// The smallest multi-sector boot code installboot accepts (`3 * 512`).
pub const MIN_BOOTXX_SIZE: usize = 3 * 512;
/// Where the magic number lives: "start of sector following label",
/// `bootstrap.b + 512 * 2 + 4`.
pub const BOOT_MAGIC_OFFSET: usize = 512 * 2 + 4;
/// `X86_BOOT_MAGIC_1` = `'x' << 24 | 0x86b << 12 | 'm' << 4 | 1` (pbr.S).
pub const X86_BOOT_MAGIC_1: u32 = (b'x' as u32) << 24 | 0x86b << 12 | (b'm' as u32) << 4 | 1;
/// `X86_BP_FLAGS_RESET_VIDEO`.
pub const X86_BP_FLAGS_RESET_VIDEO: u32 = 1;
/// `X86_BP_FLAGS_PASSWORD`.
pub const X86_BP_FLAGS_PASSWORD: u32 = 2;
/// `X86_BP_FLAGS_NOMODULES`.
pub const X86_BP_FLAGS_NOMODULES: u32 = 4;
/// `X86_BP_FLAGS_NOBOOTCONF`.
pub const X86_BP_FLAGS_NOBOOTCONF: u32 = 8;

const SECTOR: usize = 512;

/// What is wrong with a boot-code image.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BootCodeError {
    #[error("MBR boot code is {0} bytes; gpt biosboot needs exactly 440 (a gptmbr.bin)")]
    MbrSize(usize),
    #[error("partition boot code is {0} bytes, larger than the 8192-byte boot area")]
    TooBig(usize),
    #[error("partition boot code is {0} bytes, smaller than the 1536 bytes a bootxx needs")]
    TooSmall(usize),
    #[error(
        "partition boot code does not start with a short jump (EB xx 90) but {0:02x} {1:02x} {2:02x}"
    )]
    BadJump(u8, u8, u8),
    #[error("partition boot code has no X86_BOOT_MAGIC_1 at byte 1028 (found {found:#010x})")]
    NoMagic { found: u32 },
    #[error("partition boot code has data in the MBR partition table area (byte {0})")]
    DataInPartitionTable(usize),
    #[error("partition boot code has data in the label sector (byte {0})")]
    DataInLabelSector(usize),
    #[error("the existing boot area is {0} bytes, not 8192")]
    AreaSize(usize),
    #[error("the boot parameter block is too small ({have} bytes) to hold the requested settings")]
    PatchAreaTooSmall { have: u32 },
    #[error(
        "the partition already holds a FAT-style BIOS parameter block; installing over it would break that file system"
    )]
    ExistingBpb,
    #[error("keymap name {0:?} does not fit the 63 bytes of bp_keymap")]
    KeymapTooLong(String),
}

/// Check MBR boot code (`/usr/mdec/gptmbr.bin`) and return the 440 bytes
/// that go to the start of LBA 0. `gpt biosboot` refuses any other size.
pub fn check_mbr_bootcode(code: &[u8]) -> Result<[u8; MBR_DSN_OFFSET], BootCodeError> {
    <[u8; MBR_DSN_OFFSET]>::try_from(code).map_err(|_| BootCodeError::MbrSize(code.len()))
}

/// Console device selection, `bp_consdev` (the `consoles[]` table in
/// installboot's i386.c; values match `CONSDEV_*` of libi386).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsDev {
    Pc,
    /// com0..com3 (0..=3).
    Com(u8),
    /// com0kbd..com3kbd: serial output, PC keyboard input.
    ComKbd(u8),
    Auto,
}

impl ConsDev {
    /// The `bp_consdev` value: pc 0, com0..3 1..4, com0kbd..3kbd 5..8,
    /// auto -1. Ports above 3 are clamped to 3.
    pub fn code(self) -> u32 {
        match self {
            ConsDev::Pc => 0,
            ConsDev::Com(n) => 1 + u32::from(n.min(3)),
            ConsDev::ComKbd(n) => 5 + u32::from(n.min(3)),
            ConsDev::Auto => u32::MAX,
        }
    }
}

/// The settings `installboot -o` can change; `None` leaves the value the
/// boot code was built with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootParams {
    /// `-o console=`.
    pub console: Option<ConsDev>,
    /// `-o speed=` (bp_conspeed), e.g. 115200.
    pub speed: Option<u32>,
    /// `-o timeout=` (bp_timeout) in seconds.
    pub timeout: Option<u32>,
    /// `-o ioaddr=` (bp_consaddr).
    pub consaddr: Option<u32>,
    /// `-o keymap=` (bp_keymap, NUL-terminated, at most 63 bytes).
    pub keymap: Option<String>,
    /// `-o resetvideo`: toggles `X86_BP_FLAGS_RESET_VIDEO`.
    pub reset_video: bool,
}

/// `struct x86_boot_params` (sys/sys/bootblock.h), 104 bytes,
/// little-endian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X86BootParams {
    /// bp_length: how many bytes of this structure the boot code has room
    /// for (the patchable length).
    pub length: u32,
    pub flags: u32,
    pub timeout: u32,
    pub consdev: u32,
    pub conspeed: u32,
    /// MD5 of the boot password.
    pub password: [u8; 16],
    pub keymap: [u8; 64],
    pub consaddr: u32,
}

impl X86BootParams {
    /// `sizeof(struct x86_boot_params)`.
    pub const SIZE: usize = 104;
    const LENGTH: usize = 0;
    const FLAGS: usize = 4;
    const TIMEOUT: usize = 8;
    const CONSDEV: usize = 12;
    const CONSPEED: usize = 16;
    const PASSWORD: usize = 20;
    const KEYMAP: usize = 36;
    const CONSADDR: usize = 100;

    /// Decode from exactly [`Self::SIZE`] bytes.
    pub fn decode(b: &[u8; Self::SIZE]) -> Self {
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let mut password = [0u8; 16];
        password.copy_from_slice(&b[Self::PASSWORD..Self::PASSWORD + 16]);
        let mut keymap = [0u8; 64];
        keymap.copy_from_slice(&b[Self::KEYMAP..Self::KEYMAP + 64]);
        X86BootParams {
            length: u32_at(Self::LENGTH),
            flags: u32_at(Self::FLAGS),
            timeout: u32_at(Self::TIMEOUT),
            consdev: u32_at(Self::CONSDEV),
            conspeed: u32_at(Self::CONSPEED),
            password,
            keymap,
            consaddr: u32_at(Self::CONSADDR),
        }
    }

    /// Encode into exactly [`Self::SIZE`] bytes.
    pub fn encode(&self, b: &mut [u8; Self::SIZE]) {
        b[Self::LENGTH..Self::LENGTH + 4].copy_from_slice(&self.length.to_le_bytes());
        b[Self::FLAGS..Self::FLAGS + 4].copy_from_slice(&self.flags.to_le_bytes());
        b[Self::TIMEOUT..Self::TIMEOUT + 4].copy_from_slice(&self.timeout.to_le_bytes());
        b[Self::CONSDEV..Self::CONSDEV + 4].copy_from_slice(&self.consdev.to_le_bytes());
        b[Self::CONSPEED..Self::CONSPEED + 4].copy_from_slice(&self.conspeed.to_le_bytes());
        b[Self::PASSWORD..Self::PASSWORD + 16].copy_from_slice(&self.password);
        b[Self::KEYMAP..Self::KEYMAP + 64].copy_from_slice(&self.keymap);
        b[Self::CONSADDR..Self::CONSADDR + 4].copy_from_slice(&self.consaddr.to_le_bytes());
    }
}

/// Check partition boot code the way `i386_setboot` does (size, empty
/// partition-table and label areas, magic, jump). Returns the
/// parameter-block length the code declares.
pub fn check_bootxx(bootxx: &[u8]) -> Result<u32, BootCodeError> {
    if bootxx.len() > BOOT_AREA_SIZE {
        return Err(BootCodeError::TooBig(bootxx.len()));
    }
    if bootxx.len() < MIN_BOOTXX_SIZE {
        return Err(BootCodeError::TooSmall(bootxx.len()));
    }
    let part = &bootxx[MBR_PART_OFFSET..MBR_PART_OFFSET + MBR_PART_SIZE];
    if let Some(i) = part.iter().position(|&b| b != 0) {
        return Err(BootCodeError::DataInPartitionTable(MBR_PART_OFFSET + i));
    }
    if let Some(i) = bootxx[SECTOR..2 * SECTOR].iter().position(|&b| b != 0) {
        return Err(BootCodeError::DataInLabelSector(SECTOR + i));
    }
    let m = &bootxx[BOOT_MAGIC_OFFSET..BOOT_MAGIC_OFFSET + 4];
    let found = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
    if found != X86_BOOT_MAGIC_1 {
        return Err(BootCodeError::NoMagic { found });
    }
    if bootxx[0] != 0xeb || bootxx[2] != 0x90 {
        return Err(BootCodeError::BadJump(bootxx[0], bootxx[1], bootxx[2]));
    }
    let l = &bootxx[BOOT_MAGIC_OFFSET + 4..BOOT_MAGIC_OFFSET + 8];
    Ok(u32::from_le_bytes([l[0], l[1], l[2], l[3]]))
}

/// Apply `params` to the parameter block at `area` (which starts at
/// `bp_length`), touching only the first `bp_length` bytes, as
/// `update_i386_boot_params` does.
fn patch_params(area: &mut [u8], params: &BootParams) -> Result<(), BootCodeError> {
    let mut raw = [0u8; X86BootParams::SIZE];
    let declared = match area.get(0..4) {
        Some(l) => u32::from_le_bytes([l[0], l[1], l[2], l[3]]),
        None => 0,
    };
    // Ignore pad space beyond the structure; never read past the area.
    let bplen = (declared as usize).min(X86BootParams::SIZE).min(area.len());
    raw[..bplen].copy_from_slice(&area[..bplen]);
    let mut bp = X86BootParams::decode(&raw);

    if let Some(t) = params.timeout {
        bp.timeout = t;
    }
    if params.reset_video {
        bp.flags ^= X86_BP_FLAGS_RESET_VIDEO;
    }
    if let Some(s) = params.speed {
        bp.conspeed = s;
    }
    if let Some(a) = params.consaddr {
        bp.consaddr = a;
    }
    if let Some(c) = params.console {
        bp.consdev = c.code();
    }
    if let Some(k) = &params.keymap {
        if k.len() >= bp.keymap.len() {
            return Err(BootCodeError::KeymapTooLong(k.clone()));
        }
        bp.keymap = [0; 64];
        bp.keymap[..k.len()].copy_from_slice(k.as_bytes());
    }

    bp.encode(&mut raw);
    // "Check we aren't trying to set anything we can't save".
    if raw[bplen..].iter().any(|&b| b != 0) {
        return Err(BootCodeError::PatchAreaTooSmall { have: declared });
    }
    area[..bplen].copy_from_slice(&raw[..bplen]);
    Ok(())
}

/// Merge partition boot code into the existing first 8192 bytes of a
/// partition, patch its parameter block, and return the 8192 bytes to
/// write back at partition offset 0.
///
/// `existing` is what the partition holds now (all zeros for a fresh
/// image; an FFSv2 file system keeps its superblock at 64 KiB, so the
/// area is free). A FAT-style BPB in an existing boot sector is not
/// preserved: that is `installboot` on a FAT file system, not our case,
/// and is refused rather than silently destroyed.
pub fn install_bootxx(
    existing: &[u8],
    bootxx: &[u8],
    params: &BootParams,
) -> Result<Vec<u8>, BootCodeError> {
    if existing.len() != BOOT_AREA_SIZE {
        return Err(BootCodeError::AreaSize(existing.len()));
    }
    check_bootxx(bootxx)?;

    let mut disk = existing.to_vec();
    // "Ignoring PBR with invalid magic in sector 0": without 0x55AA the
    // old first sector counts as zeros.
    if disk[MBR_MAGIC_OFFSET..MBR_MAGIC_OFFSET + 2] != [0x55, 0xaa] {
        disk[..SECTOR].fill(0);
    }
    // installboot copies an old BPB (bytes 11 .. 2 + jump offset) into the
    // new code; we refuse instead (see the doc comment).
    let old_bpb_end = 2 + usize::from(disk[1]);
    if old_bpb_end > 11 && disk[11..old_bpb_end.min(SECTOR)].iter().any(|&b| b != 0) {
        return Err(BootCodeError::ExistingBpb);
    }

    let mut code = vec![0u8; bootxx.len().div_ceil(SECTOR) * SECTOR];
    code[..bootxx.len()].copy_from_slice(bootxx);
    // Keep the partition table and label sector of the existing area.
    code[MBR_PART_OFFSET..MBR_PART_OFFSET + MBR_PART_SIZE]
        .copy_from_slice(&disk[MBR_PART_OFFSET..MBR_PART_OFFSET + MBR_PART_SIZE]);
    code[SECTOR..2 * SECTOR].copy_from_slice(&disk[SECTOR..2 * SECTOR]);

    patch_params(&mut code[BOOT_MAGIC_OFFSET + 4..], params)?;

    // First sector, then everything from the third sector on; the label
    // sector of the existing area is never rewritten.
    disk[..SECTOR].copy_from_slice(&code[..SECTOR]);
    disk[2 * SECTOR..code.len()].copy_from_slice(&code[2 * SECTOR..]);
    Ok(disk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_matches_the_value_in_bootblock_h() {
        assert_eq!(X86_BOOT_MAGIC_1, 0x7886b6d1);
    }

    #[test]
    fn consdev_codes_follow_installboots_table() {
        assert_eq!(ConsDev::Pc.code(), 0);
        assert_eq!(ConsDev::Com(0).code(), 1);
        assert_eq!(ConsDev::Com(3).code(), 4);
        assert_eq!(ConsDev::ComKbd(0).code(), 5);
        assert_eq!(ConsDev::ComKbd(3).code(), 8);
        assert_eq!(ConsDev::Auto.code() as i32, -1);
    }

    #[test]
    fn params_roundtrip() {
        let mut b = [0u8; X86BootParams::SIZE];
        for (i, x) in b.iter_mut().enumerate() {
            *x = i as u8;
        }
        let p = X86BootParams::decode(&b);
        let mut out = [0u8; X86BootParams::SIZE];
        p.encode(&mut out);
        assert_eq!(b, out);
        assert_eq!(p.consaddr, u32::from_le_bytes([100, 101, 102, 103]));
    }
}
