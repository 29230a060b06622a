//! The FreeBSD boot chain on a GPT disk: the PMBR rule (446 bytes of a
//! 512-byte sector with 0x55AA), the boot partition limits, and the layout
//! written to a raw file and read back by sgdisk and sfdisk.

mod freebsd_common;

use std::fs;

use freebsd_common::*;
use mkimage::boot::gpt_pmbr::{
    DOSPARTOFF, MAX_BOOT_PARTITION, PmbrError, check_boot_partition, install_pmbr_bootcode,
    pmbr_bootcode,
};
use mkimage::disk::gpt::{read_gpt, types, write_gpt};
use mkimage::disk::{BlockDevice, RawFile};
use mkimage::os::freebsd::boot::{LayoutParams, disk_layout, root_index};
use mkimage::testkit::mirror::freebsd::{gptboot, pmbr};

fn params(swap: Option<u64>) -> LayoutParams {
    LayoutParams {
        guid_seed: "test-seed".into(),
        esp_size: 8 << 20,
        swap_size: swap,
        root_label: "rootfs".into(),
    }
}

#[test]
fn pmbr_rule_takes_446_bytes_of_a_signed_512_byte_sector() {
    let sector = pmbr(1);
    let code = pmbr_bootcode(&sector).unwrap();
    assert_eq!(code.len(), DOSPARTOFF);
    assert_eq!(DOSPARTOFF, 446);
    assert_eq!(&code[..], &sector[..446]);
    assert_eq!(pmbr_bootcode(&sector[..511]), Err(PmbrError::Size(511)));
    assert_eq!(pmbr_bootcode(&sector[..440]), Err(PmbrError::Size(440)));
    let mut unsigned = sector.clone();
    unsigned[511] = 0;
    assert_eq!(
        pmbr_bootcode(&unsigned),
        Err(PmbrError::NoSignature(0x55, 0))
    );
}

#[test]
fn boot_partition_must_hold_gptboot_and_stay_under_545_kib() {
    let code = gptboot(1);
    assert!(check_boot_partition(code.len(), 512 * 1024).is_ok());
    assert_eq!(
        check_boot_partition(0, 512 * 1024),
        Err(PmbrError::EmptyStage2)
    );
    assert_eq!(
        check_boot_partition(code.len(), 64 * 1024),
        Err(PmbrError::Stage2TooBig {
            code: code.len(),
            partition: 64 * 1024
        })
    );
    assert!(check_boot_partition(code.len(), MAX_BOOT_PARTITION).is_ok());
    assert_eq!(
        check_boot_partition(code.len(), MAX_BOOT_PARTITION + 512),
        Err(PmbrError::PartitionTooBig(MAX_BOOT_PARTITION + 512))
    );
}

/// Write the layout, the PMBR code and gptboot to a raw file of `size`.
fn write_disk(path: &std::path::Path, p: &LayoutParams, size: u64) {
    let placement = disk_layout(p).place(size).unwrap();
    let mut dev = RawFile::create(path, size).unwrap();
    write_gpt(&mut dev, &placement, None).unwrap();
    install_pmbr_bootcode(&mut dev, &pmbr_bootcode(&pmbr(9)).unwrap()).unwrap();
    let boot = &placement.partitions[0];
    let code = gptboot(9);
    check_boot_partition(code.len(), boot.len_bytes).unwrap();
    dev.write_at(&code, boot.first_byte).unwrap();
    dev.flush().unwrap();
}

/// A numeric `key=  value,` field of an `sfdisk -d` row.
fn field(row: &str, key: &str) -> u64 {
    let at = row.find(&format!("{key}=")).unwrap() + key.len() + 1;
    let rest = row[at..].trim_start();
    rest[..rest.find(',').unwrap()].parse().unwrap()
}

#[test]
fn layout_on_disk_has_freebsd_types_labels_and_boot_code_in_place() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("disk.raw");
    let p = params(None);
    write_disk(&img, &p, 64 << 20);
    let bytes = fs::read(&img).unwrap();
    // LBA 0: pmbr's first 446 bytes, then the protective entry and 55AA.
    assert_eq!(&bytes[..446], &pmbr(9)[..446]);
    assert_eq!(bytes[446 + 4], 0xee, "protective entry type");
    assert_eq!(&bytes[510..512], &[0x55, 0xaa]);
    // sfdisk's view: types, names, starts.
    let (dump, _) = run(tool("sfdisk").arg("-d").arg(&img));
    let rows: Vec<&str> = dump.lines().filter(|l| l.contains(" : start=")).collect();
    assert_eq!(rows.len(), 3, "{dump}");
    let want = [
        ("83BD6B9D-7F41-11DC-BE0B-001560B84F0F", "bootfs", 2048, 1024),
        (
            "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
            "efiboot0",
            4096,
            16384,
        ),
        ("516E7CB6-6ECF-11D6-8FF8-00022D09712B", "rootfs", 20480, 0),
    ];
    for (row, (ty, name, start, size)) in rows.iter().zip(want) {
        assert!(row.contains(&format!("type={ty}")), "{row}");
        assert!(row.contains(&format!("name=\"{name}\"")), "{row}");
        assert_eq!(field(row, "start"), start, "{row}");
        if size > 0 {
            assert_eq!(field(row, "size"), size, "{row}");
        }
        assert!(!row.contains("attrs="), "no attributes expected: {row}");
    }
    // sgdisk agrees and finds the table sound.
    let (print, _) = run(tool("sgdisk").arg("-p").arg(&img));
    for code in ["A501", "EF00", "A503"] {
        assert!(print.contains(code), "{code} missing in\n{print}");
    }
    let (verify, _) = run(tool("sgdisk").arg("-v").arg(&img));
    assert!(verify.contains("No problems found"), "{verify}");
    // gptboot sits at the start of the freebsd-boot partition.
    assert_eq!(
        &bytes[1 << 20..(1 << 20) + gptboot(9).len()],
        &gptboot(9)[..]
    );
    assert_eq!(root_index(&p), 3);
}

#[test]
fn swap_goes_before_the_root_as_in_the_release_images() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("disk.raw");
    let p = params(Some(4 << 20));
    write_disk(&img, &p, 64 << 20);
    let mut dev = RawFile::open_read_only(&img).unwrap();
    let (_, parts) = read_gpt(&mut dev).unwrap();
    let got: Vec<(u32, uuid::Uuid, &str)> = parts
        .iter()
        .map(|p| (p.index, p.type_guid, p.name.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, types::FREEBSD_BOOT, "bootfs"),
            (2, types::EFI_SYSTEM, "efiboot0"),
            (3, types::FREEBSD_SWAP, "swapfs"),
            (4, types::FREEBSD_UFS, "rootfs"),
        ]
    );
    assert_eq!(root_index(&p), 4);
    assert_eq!(parts[2].len_bytes, 4 << 20);
}

#[test]
fn same_seed_gives_the_same_guids() {
    let a = disk_layout(&params(None));
    assert_eq!(a, disk_layout(&params(None)));
    let mut other = params(None);
    other.guid_seed = "other".into();
    let b = disk_layout(&other);
    assert_ne!(a.disk_guid, b.disk_guid);
    assert_ne!(a.partitions[2].guid, b.partitions[2].guid);
}
