//! FAT ESPs checked by dosfstools and mtools: `fsck.fat -n` finds nothing
//! to fix, `mdir` lists the files in place in the disk image, `mtype`
//! returns their bytes; FAT16 for small partitions, FAT32 for larger.

use std::path::Path;
use std::process::Command;

use mkimage::disk::gpt::{self, types};
use mkimage::disk::guid::derive_guid;
use mkimage::disk::layout::{DiskLayout, PartSize, PartitionSpec};
use mkimage::disk::{BlockDevice, RawFile, Window};
use mkimage::entry::Timestamp;
use mkimage::fs::fat::build_esp;

const MIB: u64 = 1 << 20;

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .env("MTOOLS_SKIP_CHECK", "0")
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (install dosfstools/mtools: scripts/setup)"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn files() -> Vec<(String, Vec<u8>)> {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 253) as u8).collect();
    vec![
        ("EFI/BOOT/BOOTX64.EFI".to_string(), big),
        ("EFI/BOOT/grub.cfg".to_string(), b"set timeout=0\n".to_vec()),
        (
            "EFI/NetBSD/a-rather-long-file-name.txt".to_string(),
            b"long\n".to_vec(),
        ),
        ("README".to_string(), Vec::new()),
    ]
}

/// A GPT disk whose first partition is an ESP of `esp` bytes; returns the
/// partition's byte offset.
fn disk_with_esp(path: &Path, esp: u64) -> u64 {
    let layout = DiskLayout {
        disk_guid: derive_guid("esp-test", "disk"),
        partitions: vec![PartitionSpec {
            label: "EFI system".into(),
            type_guid: types::EFI_SYSTEM,
            size: PartSize::Bytes(esp),
            attributes: 0,
            guid: derive_guid("esp-test", "partition 1"),
        }],
    };
    let size = layout.minimum_size();
    let placed = layout.place(size).unwrap();
    let mut dev = RawFile::create(path, size).unwrap();
    gpt::write_gpt(&mut dev, &placed, None).unwrap();
    let p = &placed.partitions[0];
    let mut w = Window::new(&mut dev, p.first_byte, p.len_bytes).unwrap();
    build_esp(
        &mut w,
        &files(),
        "ESP",
        0x1234_abcd,
        Timestamp::from_secs(1_700_000_000),
    )
    .unwrap();
    p.first_byte
}

fn check(esp: u64, fat_name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.raw");
    let off = disk_with_esp(&disk, esp);
    let bytes = std::fs::read(&disk).unwrap();
    let part = &bytes[off as usize..(off + esp) as usize];
    let label_at = if fat_name == "FAT32" { 82 } else { 54 };
    assert_eq!(
        &part[label_at..label_at + 8],
        format!("{fat_name:<8}").as_bytes()
    );
    let img = dir.path().join("esp.img");
    std::fs::write(&img, part).unwrap();

    let (ok, text) = run(Command::new("fsck.fat").arg("-n").arg("-v").arg(&img));
    assert!(ok, "fsck.fat -n failed:\n{text}");
    assert!(
        !text.contains("Perform changes") && !text.contains("Fixing") && !text.contains("Auto-"),
        "fsck.fat wants changes:\n{text}"
    );

    let at = format!("{}@@{off}", disk.display());
    let (ok, text) = run(Command::new("mdir").args(["-i", &at, "::/EFI/BOOT"]));
    assert!(ok, "mdir:\n{text}");
    assert!(
        text.contains("BOOTX64  EFI    300000") || text.contains("BOOTX64 EFI"),
        "{text}"
    );
    assert!(
        text.contains("2023-11-14") || text.contains("11-14-2023"),
        "dates:\n{text}"
    );
    let (ok, text) = run(Command::new("mdir").args(["-i", &at, "-a", "::/EFI/NetBSD"]));
    assert!(ok && text.contains("a-rather-long-file-name.txt"), "{text}");
    let out = Command::new("mtype")
        .args(["-i", &at, "::/EFI/BOOT/BOOTX64.EFI"])
        .output()
        .unwrap();
    assert!(
        out.stdout == files()[0].1,
        "BOOTX64.EFI differs when read by mtools"
    );
    let (_, label) = run(Command::new("mlabel").args(["-i", &at, "-s", "::"]));
    assert!(label.contains("ESP"), "{label}");
}

#[test]
fn small_esp_is_fat16_and_fsck_fat_clean() {
    check(32 * MIB, "FAT16");
}

#[test]
fn esp_of_64_mib_is_fat32_and_fsck_fat_clean() {
    check(64 * MIB, "FAT32");
}

#[test]
fn the_same_files_and_time_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    disk_with_esp(&a, 40 * MIB);
    disk_with_esp(&b, 40 * MIB);
    assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap());
}

#[test]
fn bad_paths_and_labels_are_errors() {
    let mut dev = mkimage::disk::MemDevice::new(8 << 20);
    let t = Timestamp::from_secs(0);
    assert!(build_esp(&mut dev, &[("../x".into(), vec![])], "ESP", 1, t).is_err());
    assert!(build_esp(&mut dev, &[("a//b".into(), vec![])], "ESP", 1, t).is_err());
    assert!(build_esp(&mut dev, &[], "MUCH TOO LONG LABEL", 1, t).is_err());
    let mut tiny = mkimage::disk::MemDevice::new(1 << 20);
    assert!(build_esp(&mut tiny, &[], "ESP", 1, t).is_err());
    assert_eq!(dev.len(), 8 << 20);
}

#[test]
fn every_size_from_tiny_to_the_fat32_threshold_is_fsck_fat_clean() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("esp.img");
    let kib = 1024u64;
    // Smallest FAT16, the 4096..4199 KiB range fatfs 0.3.6 mishandles, both
    // sides of the FAT16/FAT32 switch, and odd sector counts.
    for size in [
        2200 * kib,
        4096 * kib,
        4150 * kib,
        4199 * kib,
        33 * MIB - 512,
        34 * MIB,
        35 * MIB + 512,
        48 * MIB,
    ] {
        let mut dev = mkimage::disk::MemDevice::new(size as usize);
        let r = build_esp(
            &mut dev,
            &files()[1..],
            "ESP",
            1,
            Timestamp::from_secs(1_700_000_000),
        );
        if let Err(e) = r {
            panic!("{size}-byte ESP: {e}");
        }
        std::fs::write(&img, dev.as_bytes()).unwrap();
        let (ok, text) = run(Command::new("fsck.fat").arg("-n").arg(&img));
        assert!(ok && !text.contains("Fixing"), "{size}-byte ESP:\n{text}");
    }
}

#[test]
fn the_default_esp_size_is_fat32_with_4_kib_clusters_and_costs_little_space() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("esp.img");
    let size = mkimage::fs::fat::DEFAULT_ESP_SIZE;
    let mut dev = RawFile::create(&img, size).unwrap();
    build_esp(
        &mut dev,
        &files(),
        "ESP",
        9,
        Timestamp::from_secs(1_700_000_000),
    )
    .unwrap();
    drop(dev);
    let (ok, text) = run(Command::new("fsck.fat").arg("-n").arg("-v").arg(&img));
    assert!(ok && !text.contains("Fixing"), "{text}");
    assert!(text.contains("4096 bytes per cluster"), "{text}");
    assert!(text.contains("32 bit entries"), "{text}");
    let used = std::fs::metadata(&img).unwrap().blocks() * 512;
    assert!(
        used < 4 * MIB,
        "a {size}-byte ESP holding 300 KB takes {used} bytes"
    );
}
