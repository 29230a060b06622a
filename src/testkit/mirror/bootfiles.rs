//! Stand-ins for the boot files of NetBSD/amd64's `base` and `kern-GENERIC`
//! sets. They are not bootable x86 code (except the GRUB EFI stand-in);
//! they carry exactly the structure an image writer has to honour:
//! `gptmbr.bin` of 440 bytes (`sys/arch/i386/stand/mbr/gptmbr.S`), a
//! `bootxx_ffsv2` starting `EB xx 90` with `X86_BOOT_MAGIC_1` and a
//! `struct x86_boot_params` at byte 1028 (`sys/sys/bootblock.h`,
//! `usr.sbin/installboot/arch/i386.c`), `/usr/mdec/boot`, a kernel, and a
//! GRUB standalone EFI image as `bootx64.efi` that prints markers and a
//! file of the FFS partition so that a firmware boot proves the image.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use anyhow::{Result, anyhow};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::content::{ContentKind, Vocabulary, generate};

/// Length of `/usr/mdec/gptmbr.bin`: the boot code area of the PMBR.
pub const GPTMBR_SIZE: usize = 440;
/// Length of the `/usr/mdec/bootxx_ffsv2` stand-in.
pub const BOOTXX_SIZE: usize = 8192;
/// Byte offset of the magic in `bootxx_*` (installboot's `i386.c`).
pub const BOOTXX_MAGIC_OFFSET: usize = 1028;
/// `X86_BOOT_MAGIC_1` in `sys/sys/bootblock.h`: `'x' << 24 | 0x86b << 12 | 'm' << 4 | 1`.
pub const X86_BOOT_MAGIC_1: u32 = (b'x' as u32) << 24 | 0x86b << 12 | (b'm' as u32) << 4 | 1;
/// `sizeof(struct x86_boot_params)`: five `uint32_t`, `bp_password[16]`,
/// `bp_keymap[64]`, `bp_consaddr`.
pub const X86_BOOT_PARAMS_SIZE: u32 = 5 * 4 + 16 + 64 + 4;

/// The GRUB script the default EFI stand-in runs.
pub const DEFAULT_GRUB_CFG: &str = "echo MKIMAGE-STANDIN-BOOT\n\
cat (hd0,gpt2)/etc/rc.conf\n\
echo MKIMAGE-STANDIN-END\n\
halt\n";

fn filler(seed: u64, out: &mut [u8]) {
    ChaCha8Rng::seed_from_u64(seed).fill_bytes(out);
}

/// `/usr/mdec/gptmbr.bin`: 440 bytes, starting with a short jump like the
/// real code (`cli; xor %ax,%ax` would do too), the rest filler.
pub fn gptmbr(seed: u64) -> Vec<u8> {
    let mut b = vec![0u8; GPTMBR_SIZE];
    filler(seed ^ 0x6770_746d_6272, &mut b);
    b[0] = 0xfa; // cli
    b[1] = 0x31; // xor %ax,%ax
    b[2] = 0xc0;
    b
}

/// `/usr/mdec/bootxx_ffsv2`: `EB 3C 90` (jmp over a BPB-sized gap, nop),
/// filler, then at byte 1028 `X86_BOOT_MAGIC_1` and a default
/// `struct x86_boot_params` (little-endian): length, flags 0, timeout 5,
/// consdev pc (0), conspeed 9600, empty password and keymap, consaddr 0.
pub fn bootxx_ffsv2(seed: u64) -> Vec<u8> {
    let mut b = vec![0u8; BOOTXX_SIZE];
    filler(seed ^ 0x626f_6f74_7878, &mut b);
    b[..3].copy_from_slice(&[0xeb, 0x3c, 0x90]);
    // As NetBSD builds it: bytes 446..510 (where an MBR partition table
    // would be) zero, 510..512 the signature, and the whole second sector
    // (512..1024, where a disklabel would be) zero: installboot keeps the
    // disk's bytes there and refuses boot code that has data in them.
    b[446..512].fill(0);
    b[510] = 0x55;
    b[511] = 0xaa;
    b[512..1024].fill(0);
    let at = BOOTXX_MAGIC_OFFSET;
    b[at..at + 4].copy_from_slice(&X86_BOOT_MAGIC_1.to_le_bytes());
    let p = at + 4;
    let fields: [u32; 5] = [X86_BOOT_PARAMS_SIZE, 0, 5, 0, 9600];
    for (i, v) in fields.iter().enumerate() {
        b[p + 4 * i..p + 4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    // bp_password[16], bp_keymap[64], bp_consaddr
    b[p + 20..p + X86_BOOT_PARAMS_SIZE as usize].fill(0);
    b
}

/// `/usr/mdec/boot` (about 100 KB) or `/netbsd`: an ELF-looking header
/// followed by binary-like content.
pub fn elf_standin(vocab: &Vocabulary, seed: [u8; 32], size: usize, label: &str) -> Vec<u8> {
    let mut b = Vec::new();
    generate(vocab, ContentKind::Binary, size, seed, &mut b);
    let mut head = b"\x7fELF\x02\x01\x01\x00".to_vec();
    head.extend_from_slice(format!("mkimage-testkit stand-in {label}\0").as_bytes());
    let n = head.len().min(b.len());
    b[..n].copy_from_slice(&head[..n]);
    b
}

/// `/usr/mdec/bootx64.efi`: GRUB built by `grub-mkstandalone` with
/// `grub_cfg`, cached per configuration for the life of the process
/// (building takes about a second).
pub fn grub_efi(grub_cfg: &str) -> Result<Vec<u8>> {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Vec<u8>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
    {
        let map = cache
            .lock()
            .map_err(|_| anyhow!("GRUB stand-in cache poisoned"))?;
        if let Some(bytes) = map.get(grub_cfg) {
            return Ok(bytes.clone());
        }
    }
    let bytes = crate::testkit::efi::grub_standalone_x64(grub_cfg)?;
    let mut map = cache
        .lock()
        .map_err(|_| anyhow!("GRUB stand-in cache poisoned"))?;
    map.insert(grub_cfg.to_string(), bytes.clone());
    Ok(bytes)
}
