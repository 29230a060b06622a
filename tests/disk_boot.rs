//! A whole disk — GPT, FAT ESP with a GRUB stand-in loader, an FFS root
//! partition — read by GRUB in user space (grub-fstest) and booted by real
//! UEFI firmware (OVMF under QEMU TCG), from raw and from qcow2 output.
//!
//! The FFS partition is made by Debian's makefs for now; the project's own
//! FFS writer replaces it at merge.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mkimage::disk::format::{Format, create_device};
use mkimage::disk::gpt::{self, attr, types};
use mkimage::disk::guid::derive_guid;
use mkimage::disk::layout::{DiskLayout, PartSize, PartitionSpec};
use mkimage::disk::{BlockDevice, Window};
use mkimage::entry::Timestamp;
use mkimage::fs::fat::build_esp;
use mkimage::testkit::{efi, ovmf};

const MIB: u64 = 1 << 20;
const MOTD: &str = "Welcome to a disk mkimage assembled: motd-7f3a\n";

/// An FFS image of `dir` made by makefs, `size` bytes.
fn makefs(dir: &Path, out: &Path, size: u64) -> Vec<u8> {
    let status = Command::new("makefs")
        .args(["-t", "ffs", "-o", "version=2", "-s", &size.to_string()])
        .arg(out)
        .arg(dir)
        .status()
        .expect("running makefs (install makefs: scripts/setup)");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// Assemble the disk at `path` in `format`.
fn assemble(path: &Path, format: Format, compress: bool, loader: &[u8], ffs: &[u8]) {
    let seed = "boot-test";
    let layout = DiskLayout {
        disk_guid: derive_guid(seed, "disk"),
        partitions: vec![
            PartitionSpec {
                label: "EFI".into(),
                type_guid: types::EFI_SYSTEM,
                size: PartSize::Bytes(16 * MIB),
                attributes: 0,
                guid: derive_guid(seed, "partition 1"),
            },
            PartitionSpec {
                label: "root".into(),
                type_guid: types::NETBSD_FFS,
                size: PartSize::Bytes(ffs.len() as u64),
                attributes: attr::LEGACY_BIOS_BOOTABLE | attr::BOOTME,
                guid: derive_guid(seed, "partition 2"),
            },
        ],
    };
    let size = layout.minimum_size();
    let placed = layout.place(size).unwrap();
    let mut dev = create_device(path, format, size, compress).unwrap();
    gpt::write_gpt(&mut *dev, &placed, None).unwrap();
    let (esp, root) = (&placed.partitions[0], &placed.partitions[1]);
    {
        let mut w = Window::new(&mut *dev, esp.first_byte, esp.len_bytes).unwrap();
        let files = [("EFI/BOOT/BOOTX64.EFI".to_string(), loader.to_vec())];
        build_esp(
            &mut w,
            &files,
            "EFI",
            7,
            Timestamp::from_secs(1_700_000_000),
        )
        .unwrap();
    }
    {
        let mut w = Window::new(&mut *dev, root.first_byte, root.len_bytes).unwrap();
        w.write_at(ffs, 0).unwrap();
    }
    dev.finish().unwrap();
}

fn tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    std::fs::create_dir_all(dir.join("some")).unwrap();
    std::fs::write(dir.join("etc/motd"), MOTD).unwrap();
    std::fs::write(dir.join("some/file"), "some file's text\n").unwrap();
}

#[test]
fn grub_fstest_reads_a_file_of_the_ffs_partition_of_a_raw_disk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(&root);
    let ffs = makefs(&root, &dir.path().join("ffs.img"), 8 * MIB);
    let disk = dir.path().join("disk.raw");
    assemble(&disk, Format::Raw, false, b"not a loader", &ffs);
    let out = Command::new("grub-fstest")
        .arg(&disk)
        .args(["cat", "(loop0,gpt2)/some/file"])
        .output()
        .expect("running grub-fstest (install grub-common: scripts/setup)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text, "some file's text\n");
}

#[test]
fn ovmf_boots_the_esp_loader_which_prints_a_file_of_the_ffs_partition_raw_and_qcow2() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(&root);
    let ffs = makefs(&root, &dir.path().join("ffs.img"), 8 * MIB);
    let cfg = "echo MKIMAGE-BOOT-MARKER\ncat (hd0,gpt2)/etc/motd\necho MKIMAGE-BOOT-DONE\nhalt\n";
    let loader = efi::grub_standalone_x64(cfg).unwrap();
    for (format, compress, name) in [
        (Format::Raw, false, "disk.raw"),
        (Format::Qcow2, true, "disk.qcow2"),
    ] {
        let disk = dir.path().join(name);
        assemble(&disk, format, compress, &loader, &ffs);
        let console = ovmf::boot_serial(&disk, format.name(), Duration::from_secs(180)).unwrap();
        assert!(
            console.contains("MKIMAGE-BOOT-MARKER"),
            "{format}: no marker:\n{console}"
        );
        assert!(
            console.contains(MOTD.trim_end()),
            "{format}: no motd:\n{console}"
        );
    }
}
