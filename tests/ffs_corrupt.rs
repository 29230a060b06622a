//! Damage a clean image in one place and `mkimage verify` names it and
//! exits 1 (2 when no superblock is left).

mod ffs_common;

use std::fs;
use std::path::Path;
use std::process::Command;

use ffs_common::*;
use mkimage::disk::RawFile;
use mkimage::fs::ffs::{FfsReader, Flavour};

fn verify(img: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mkimage"))
        .arg("verify")
        .arg(img)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A clean image plus a reader over it (for locating structures).
fn image(dir: &Path) -> (std::path::PathBuf, FfsReader<RawFile>) {
    let img = dir.join("fs.img");
    build(&img, 64 << 20, Flavour::NetBsd);
    assert_eq!(verify(&img).0, 0);
    let r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    (img, r)
}

fn patch(img: &Path, offset: u64, f: impl FnOnce(&mut [u8])) {
    let mut bytes = fs::read(img).unwrap();
    f(&mut bytes[offset as usize..]);
    fs::write(img, bytes).unwrap();
}

#[test]
fn flipped_bit_in_a_cylinder_group_block_map_is_a_pass5_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, r) = image(d.path());
    let g = r.geometry().clone();
    let (_, freeoff, ..) = g.cg_offsets();
    // A fragment far into group 1's data area: free, now marked used.
    let off = g.cgtod(1) * g.fsize64() + freeoff + g.fpg as u64 / 8 - 4;
    patch(&img, off, |b| b[0] ^= 0x10);
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("pass 5: cg 1: free-block map differs"),
        "{out}"
    );
}

#[test]
fn changed_link_count_in_an_inode_is_a_pass4_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, mut r) = image(d.path());
    let ino = r.lookup("one-byte").unwrap();
    let off = r.geometry().inode_offset(u64::from(ino));
    patch(&img, off + 2, |b| b[0] = 7);
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "pass 4: inode {ino}: link count is 7, should be 1"
        )),
        "{out}"
    );
}

#[test]
fn wrong_block_count_in_an_inode_is_a_pass1_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, mut r) = image(d.path());
    let ino = r.lookup("frag-tail").unwrap();
    let off = r.geometry().inode_offset(u64::from(ino));
    patch(&img, off + 24, |b| b[0] ^= 0x40);
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("pass 1: inode {ino}: di_blocks is")),
        "{out}"
    );
}

#[test]
fn broken_directory_entry_is_a_pass2_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, mut r) = image(d.path());
    let root = r.inode(2).unwrap();
    let off = root.db[0] * r.geometry().fsize64();
    // The record length of the third entry (after "." and ".."; each 12 bytes).
    patch(&img, off + 24 + 4, |b| b[0] = 3);
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("pass 2: directory inode 2 at byte 24: bad record length"),
        "{out}"
    );
}

#[test]
fn entry_pointing_at_a_free_inode_is_a_pass2_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, mut r) = image(d.path());
    let root = r.inode(2).unwrap();
    let off = root.db[0] * r.geometry().fsize64();
    // Third entry's inode number -> an unused inode.
    patch(&img, off + 24, |b| {
        b[..4].copy_from_slice(&9000u32.to_le_bytes())
    });
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("points to unallocated inode 9000"), "{out}");
}

#[test]
fn damaged_superblock_field_is_a_superblock_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, _) = image(d.path());
    // fs_maxfilesize at offset 1328.
    patch(&img, 65536 + 1328, |b| b[0] ^= 0xff);
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("superblock: fs_maxfilesize is"), "{out}");
}

#[test]
fn damaged_summary_totals_are_a_pass5_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, _) = image(d.path());
    // fs_cstotal.cs_nbfree at 1016.
    patch(&img, 65536 + 1016, |b| b[0] ^= 0x01);
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("pass 5: fs_cstotal"), "{out}");
}

#[test]
fn backup_superblock_that_disagrees_is_a_finding() {
    let d = tempfile::tempdir().unwrap();
    let (img, r) = image(d.path());
    let g = r.geometry().clone();
    // fs_ipg (offset 184) of the copy in the last group.
    let off = g.cgsblock(g.ncg - 1) * g.fsize64() + 184;
    patch(&img, off, |b| b[0] ^= 0x08);
    let (code, out) = verify(&img);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "superblock: cg {}: backup superblock has fs_ipg",
            g.ncg - 1
        )),
        "{out}"
    );
}

#[test]
fn image_without_a_superblock_is_unreadable_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let (img, _) = image(d.path());
    patch(&img, 65536 + 1372, |b| {
        b[..4].copy_from_slice(&[0, 0, 0, 0])
    });
    let (code, _) = verify(&img);
    assert_eq!(code, 2);
}
