//! How NetBSD/amd64 boots from a GPT disk, as data: which files of the
//! sets are boot code, where they go, which partition types and
//! attributes mark the boot partition, and the `installboot -o` settings
//! that follow from the configuration. The byte rules live in
//! [`crate::boot::x86_bootxx`].

use crate::boot::x86_bootxx::{BootParams, ConsDev};

use super::config::{Console, NetbsdConfig};

/// PMBR boot code for GPT disks (`gpt biosboot`'s default `-c`).
pub const GPTMBR: &str = "usr/mdec/gptmbr.bin";
/// Partition boot code for an FFSv2 root.
pub const BOOTXX_FFSV2: &str = "usr/mdec/bootxx_ffsv2";
/// Second-stage BIOS loader, copied to `/boot` on the root file system.
pub const BOOT: &str = "usr/mdec/boot";
/// The root file system's copy of [`BOOT`].
pub const BOOT_ON_ROOT: &str = "boot";
/// UEFI loader.
pub const BOOTX64_EFI: &str = "usr/mdec/bootx64.efi";
/// Where the firmware looks for [`BOOTX64_EFI`] on the ESP.
pub const ESP_BOOTX64: &str = "EFI/BOOT/BOOTX64.EFI";
/// The kernel the loader boots.
pub const KERNEL: &str = "netbsd";

/// GPT type of NetBSD FFS partitions (`GPT_ENT_TYPE_NETBSD_FFS`,
/// sys/sys/disklabel_gpt.h).
pub const GPT_TYPE_NETBSD_FFS: &str = "49f48d5a-b10e-11dc-b99b-0019d1879648";
/// GPT type of the EFI system partition (`GPT_ENT_TYPE_EFI`).
pub const GPT_TYPE_EFI: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
/// `GPT_ENT_ATTR_LEGACY_BIOS_BOOTABLE` (bit 2): gptmbr boots this entry.
pub const GPT_ATTR_LEGACY_BIOS_BOOTABLE: u64 = 1 << 2;
/// `GPT_ENT_ATTR_BOOTME` (bit 59): the loaders prefer this entry.
pub const GPT_ATTR_BOOTME: u64 = 1 << 59;

/// The `installboot -o console=…,speed=…,timeout=…` settings for `cfg`.
pub fn bootxx_params(cfg: &NetbsdConfig) -> BootParams {
    let (console, speed) = match cfg.console {
        Console::Pc => (ConsDev::Pc, None),
        Console::Com0 { speed } => (ConsDev::Com(0), Some(speed)),
    };
    BootParams {
        console: Some(console),
        speed,
        timeout: Some(cfg.boot_timeout),
        ..BootParams::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_console_settings_follow_the_config() {
        let p = bootxx_params(&NetbsdConfig::builds_service());
        assert_eq!(p.console, Some(ConsDev::Com(0)));
        assert_eq!(p.speed, Some(115200));
        assert_eq!(p.timeout, Some(0));
    }

    #[test]
    fn attribute_bits_are_the_gpt_ones() {
        assert_eq!(GPT_ATTR_LEGACY_BIOS_BOOTABLE, 0x4);
        assert_eq!(GPT_ATTR_BOOTME, 0x0800_0000_0000_0000);
    }
}
