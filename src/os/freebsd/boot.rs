//! How FreeBSD/amd64 boots from a GPT disk, as data: which files of
//! `base.txz` are boot code and where they go, and the partition layout
//! the release's VM images use (`release/tools/vmimage.subr` with
//! `mkimg -s gpt -b pmbr -p freebsd-boot/bootfs:=gptboot
//! -p efi/efiboot0:=esp -p freebsd-swap/swapfs::SIZE
//! -p freebsd-ufs/rootfs:=ufs`). The byte rules live in
//! [`crate::boot::gpt_pmbr`].
//!
//! Legacy BIOS: the PMBR code (`/boot/pmbr`) loads the whole first
//! `freebsd-boot` partition, which starts with `/boot/gptboot`; gptboot
//! (`stand/common/gpt.c`, `gptfind`) boots the first `freebsd-ufs`
//! partition carrying `bootme` (and `bootonce`), else the first
//! `freebsd-ufs` partition. With a single root no attribute is needed and
//! mkimg sets none, so neither do we. UEFI: the firmware runs
//! `EFI/BOOT/BOOTX64.EFI` on the ESP, a copy of `/boot/loader.efi`, which
//! finds the same root.

use uuid::Uuid;

use crate::disk::gpt::types;
use crate::disk::guid::derive_guid;
use crate::disk::layout::{DiskLayout, PartSize, PartitionSpec};

/// PMBR boot code (512 bytes; bytes 0..446 go to LBA 0).
pub const PMBR: &str = "boot/pmbr";
/// Stage two for legacy BIOS, written at the start of the freebsd-boot
/// partition.
pub const GPTBOOT: &str = "boot/gptboot";
/// UEFI loader.
pub const LOADER_EFI: &str = "boot/loader.efi";
/// Where the firmware looks for [`LOADER_EFI`] on the ESP (what
/// `make_esp_file` in `release/tools/vmimage.subr` and
/// `tools/boot/install-boot.sh` write).
pub const ESP_BOOTX64: &str = "EFI/BOOT/BOOTX64.EFI";
/// The kernel the loader boots.
pub const KERNEL: &str = "boot/kernel/kernel";

/// Size of the freebsd-boot partition: 512 KiB, as `bsdinstall` makes it
/// (`gpart add -t freebsd-boot -s 512k`); the PMBR loads all of it, and
/// the limit is 545 KiB.
pub const BOOT_PARTITION_SIZE: u64 = 512 * 1024;

/// GPT labels the release's VM images use.
pub const BOOT_LABEL: &str = "bootfs";
pub const ESP_LABEL: &str = "efiboot0";
pub const SWAP_LABEL: &str = "swapfs";

/// What the layout needs from a recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutParams {
    /// Seed of every GUID (same seed, same GUIDs).
    pub guid_seed: String,
    /// ESP size in bytes.
    pub esp_size: u64,
    /// Swap partition size in bytes, if any.
    pub swap_size: Option<u64>,
    /// GPT label of the root partition (fstab's `/dev/gpt/<label>`).
    pub root_label: String,
}

impl LayoutParams {
    /// From a recipe's `[disk]`, with GUIDs derived from `guid_seed`.
    pub fn from_recipe(r: &crate::recipe::Recipe, guid_seed: &str) -> Self {
        LayoutParams {
            guid_seed: guid_seed.to_string(),
            esp_size: r.disk.esp_size.bytes(),
            swap_size: r.disk.swap.map(|s| s.bytes()),
            root_label: r.disk.root_label.clone(),
        }
    }
}

/// The disk layout, in vmimage.subr's order: freebsd-boot (`bootfs`,
/// 512 KiB), ESP (`efiboot0`), optional freebsd-swap (`swapfs`), then the
/// freebsd-ufs root taking the rest. No attributes (see the module
/// comment). The root is entry 3 without swap, 4 with.
pub fn disk_layout(p: &LayoutParams) -> DiskLayout {
    let guid = |what: &str| -> Uuid { derive_guid(&p.guid_seed, what) };
    let mut parts = vec![
        PartitionSpec {
            label: BOOT_LABEL.to_string(),
            type_guid: types::FREEBSD_BOOT,
            size: PartSize::Bytes(BOOT_PARTITION_SIZE),
            attributes: 0,
            guid: guid("partition bootfs"),
        },
        PartitionSpec {
            label: ESP_LABEL.to_string(),
            type_guid: types::EFI_SYSTEM,
            size: PartSize::Bytes(p.esp_size),
            attributes: 0,
            guid: guid("partition efiboot0"),
        },
    ];
    if let Some(swap) = p.swap_size {
        parts.push(PartitionSpec {
            label: SWAP_LABEL.to_string(),
            type_guid: types::FREEBSD_SWAP,
            size: PartSize::Bytes(swap),
            attributes: 0,
            guid: guid("partition swapfs"),
        });
    }
    parts.push(PartitionSpec {
        label: p.root_label.clone(),
        type_guid: types::FREEBSD_UFS,
        size: PartSize::Rest,
        attributes: 0,
        guid: guid("partition root"),
    });
    DiskLayout {
        disk_guid: guid("disk"),
        partitions: parts,
    }
}

/// 1-based GPT entry number of the root in [`disk_layout`].
pub fn root_index(p: &LayoutParams) -> u32 {
    if p.swap_size.is_some() { 4 } else { 3 }
}
