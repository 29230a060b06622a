//! Golden outputs: a small GPT disk and a small plain qcow2 image made from
//! fixed inputs must keep their exact bytes, so that a change of layout is
//! a deliberate, reviewed decision (update the digest in the same commit
//! and say why). Compressed qcow2 is not pinned here: its bytes depend on
//! the deflate implementation's version (determinism across runs is tested
//! in disk_qcow2.rs).

use mkimage::disk::gpt::{self, attr, types};
use mkimage::disk::guid::derive_guid;
use mkimage::disk::layout::{DiskLayout, PartSize, PartitionSpec};
use mkimage::disk::qcow2::{Qcow2Options, Qcow2Writer};
use mkimage::disk::{BlockDevice, MemDevice};
use sha2::{Digest, Sha256};

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn gpt_disk() -> Vec<u8> {
    let seed = "golden";
    let layout = DiskLayout {
        disk_guid: derive_guid(seed, "disk"),
        partitions: vec![
            PartitionSpec {
                label: "EFI".into(),
                type_guid: types::EFI_SYSTEM,
                size: PartSize::Bytes(2 << 20),
                attributes: 0,
                guid: derive_guid(seed, "partition 1"),
            },
            PartitionSpec {
                label: "root".into(),
                type_guid: types::FREEBSD_UFS,
                size: PartSize::Rest,
                attributes: attr::LEGACY_BIOS_BOOTABLE | attr::BOOTME,
                guid: derive_guid(seed, "partition 2"),
            },
        ],
    };
    let size = 8u64 << 20;
    let mut dev = MemDevice::new(size as usize);
    gpt::write_gpt(&mut dev, &layout.place(size).unwrap(), Some(&[0xfa; 440])).unwrap();
    dev.into_vec()
}

#[test]
fn gpt_disk_bytes_match_the_golden_digest() {
    let d = gpt_disk();
    assert_eq!(
        sha256(&d),
        "a83268106d67815e2d5c061a84354f3b969c0ca5743ebce5ea43a373b0c71268",
        "GPT layout bytes changed"
    );
}

#[test]
fn plain_qcow2_bytes_match_the_golden_digest() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("g.qcow2");
    let mut w = Qcow2Writer::create(&q, 8 << 20, Qcow2Options::default()).unwrap();
    let disk = gpt_disk();
    w.write_at(&disk, 0).unwrap();
    w.write_at(b"a partial cluster", (3 << 20) + 5).unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&q).unwrap();
    assert_eq!(
        sha256(&bytes),
        "0ef20d81d53124201786c188c5d41efd73755270c5afe7954fa21783d8e752ac",
        "qcow2 layout bytes changed"
    );
}
