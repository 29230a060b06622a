//! GPT layouts checked by sgdisk and sfdisk: no problems, the intended
//! types, labels, sizes and attribute bits, a protective MBR whose
//! boot-code slot holds what we put there; and our reader reads it back.

use std::process::Command;

use mkimage::disk::gpt::{self, attr, types};
use mkimage::disk::guid::derive_guid;
use mkimage::disk::layout::{DiskLayout, PartSize, PartitionSpec};
use mkimage::disk::{BlockDevice, MemDevice, RawFile};

const MIB: u64 = 1 << 20;

fn layout(seed: &str) -> DiskLayout {
    let part = |n: u32, label: &str, t, size, attributes| PartitionSpec {
        label: label.to_string(),
        type_guid: t,
        size,
        attributes,
        guid: derive_guid(seed, &format!("partition {n}")),
    };
    DiskLayout {
        disk_guid: derive_guid(seed, "disk"),
        partitions: vec![
            part(1, "EFI", types::EFI_SYSTEM, PartSize::Bytes(8 * MIB), 0),
            part(
                2,
                "swap",
                types::NETBSD_SWAP,
                PartSize::Bytes(3 * MIB + 512),
                attr::bit(48),
            ),
            part(
                3,
                "netbsd-root",
                types::NETBSD_FFS,
                PartSize::Rest,
                attr::LEGACY_BIOS_BOOTABLE | attr::BOOTME,
            ),
        ],
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (install gdisk/fdisk: scripts/setup)"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn sgdisk_finds_no_problems_and_sfdisk_shows_types_labels_and_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.raw");
    let size = 64 * MIB;
    let l = layout("test-recipe:1");
    let placed = l.place(size).unwrap();
    let mut dev = RawFile::create(&path, size).unwrap();
    let code: Vec<u8> = (0..440).map(|i| (i % 251) as u8 + 1).collect();
    gpt::write_gpt(&mut dev, &placed, Some(&code)).unwrap();
    drop(dev);

    let v = run(Command::new("sgdisk").arg("-v").arg(&path));
    assert!(v.contains("No problems found"), "sgdisk -v:\n{v}");

    let json = run(Command::new("sfdisk").arg("-J").arg(&path));
    let j: serde_json::Value = serde_json::from_str(&json).expect(&json);
    let t = &j["partitiontable"];
    assert_eq!(t["label"], "gpt");
    assert_eq!(
        t["id"].as_str().unwrap().to_lowercase(),
        l.disk_guid.to_string()
    );
    let parts = t["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    let want = [
        (
            2048u64,
            8 * MIB / 512,
            "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
            "EFI",
        ),
        (
            2048 + 8 * 2048,
            3 * 2048 + 1,
            "49F48D32-B10E-11DC-B99B-0019D1879648",
            "swap",
        ),
        // The rest, up to the last 1 MiB boundary before the backup GPT.
        (
            2048 + 12 * 2048,
            (63 - 12 - 1) * 2048,
            "49F48D5A-B10E-11DC-B99B-0019D1879648",
            "netbsd-root",
        ),
    ];
    for (i, (p, w)) in parts.iter().zip(want).enumerate() {
        assert_eq!(p["start"], w.0, "start of {i}: {p}");
        assert_eq!(p["size"], w.1, "size of {i}: {p}");
        assert_eq!(p["type"], w.2, "type of {i}: {p}");
        assert_eq!(p["name"], w.3, "name of {i}: {p}");
        assert_eq!(
            p["uuid"].as_str().unwrap().to_lowercase(),
            l.partitions[i].guid.to_string()
        );
    }
    assert_eq!(parts[0].get("attrs"), None);
    assert_eq!(parts[1]["attrs"], "GUID:48");
    assert_eq!(parts[2]["attrs"], "LegacyBIOSBootable GUID:59");
    let info = run(Command::new("sgdisk").args(["-i", "3"]).arg(&path));
    assert!(info.contains("Attribute flags: 0800000000000004"), "{info}");
    assert!(info.contains("Partition name: 'netbsd-root'"), "{info}");

    // Protective MBR: our boot code in 0..440, one 0xEE entry, 0x55AA.
    let lba0 = &std::fs::read(&path).unwrap()[..512];
    assert_eq!(&lba0[..440], &code[..]);
    assert_eq!(lba0[446 + 4], 0xee);
    assert_eq!(&lba0[510..], &[0x55, 0xaa]);
}

#[test]
fn partitions_read_back_as_placed_and_from_the_backup_when_the_primary_is_damaged() {
    let size = 40 * MIB;
    let placed = layout("s").place(size).unwrap();
    let mut dev = MemDevice::new(size as usize);
    gpt::write_gpt(&mut dev, &placed, None).unwrap();
    let parts = gpt::read_partitions(&mut dev).unwrap();
    assert_eq!(parts.len(), 3);
    for (r, p) in parts.iter().zip(&placed.partitions) {
        assert_eq!(r.index, p.index);
        assert_eq!(r.type_guid, p.spec.type_guid);
        assert_eq!(r.guid, p.spec.guid);
        assert_eq!(r.name, p.spec.label);
        assert_eq!(r.first_byte, p.first_byte);
        assert_eq!(r.len_bytes, p.len_bytes);
        assert_eq!(r.attributes, p.spec.attributes);
    }
    let root = gpt::find_by_type(&parts, types::NETBSD_FFS).unwrap();
    assert_eq!(root.index, 3);
    // Damage the primary header: the backup answers.
    dev.write_at(&[0xff; 16], 512 + 24).unwrap();
    assert_eq!(gpt::read_partitions(&mut dev).unwrap(), parts);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let mut x = 12345u32;
    for len in [0usize, 512, 1024, 34 * 512, 1 << 20] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let mut dev = MemDevice::from_vec(bytes);
        assert!(gpt::read_partitions(&mut dev).is_err());
    }
    // A valid-looking header with absurd fields.
    let size = 16 * MIB;
    let placed = layout("g").place(size).unwrap();
    let mut dev = MemDevice::new(size as usize);
    gpt::write_gpt(&mut dev, &placed, None).unwrap();
    let mut bytes = dev.into_vec();
    bytes[512 + 72..512 + 80].copy_from_slice(&u64::MAX.to_le_bytes());
    bytes[size as usize - 512..].fill(0);
    assert!(gpt::read_partitions(&mut MemDevice::from_vec(bytes)).is_err());
}

#[test]
fn same_seed_gives_the_same_table_bytes() {
    let size = 16 * MIB;
    let table = |seed: &str| {
        let mut dev = MemDevice::new(size as usize);
        gpt::write_gpt(&mut dev, &layout(seed).place(size).unwrap(), None).unwrap();
        dev.into_vec()
    };
    assert!(table("a") == table("a"));
    assert!(table("a") != table("b"));
}

#[test]
fn boot_code_longer_than_440_bytes_is_refused() {
    let size = 16 * MIB;
    let mut dev = MemDevice::new(size as usize);
    let placed = layout("b").place(size).unwrap();
    assert!(gpt::write_gpt(&mut dev, &placed, Some(&[0u8; 441])).is_err());
}
