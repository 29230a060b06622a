//! Our reader and checker against an independent writer: Debian's makefs
//! (a port of NetBSD's) builds FFSv2 images with its superblock at 8192.

mod ffs_common;

use std::fs;
use std::os::unix::fs::symlink;

use ffs_common::*;
use mkimage::disk::RawFile;
use mkimage::fs::ffs::{self, FfsReader};

#[test]
fn makefs_images_are_clean_and_read_back_through_our_reader() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    let mut files = Vec::new();
    for i in 0..200u64 {
        let p = format!("a/b/f{i}");
        let data = bytes(i, (i as usize * 7919) % 70_000);
        fs::write(src.join(&p), &data).unwrap();
        files.push((p, data));
    }
    let big = bytes(1000, 5 << 20);
    fs::write(src.join("a/b/c/big"), &big).unwrap();
    files.push(("a/b/c/big".into(), big));
    symlink("b/c/big", src.join("a/link")).unwrap();
    for (size, opts) in [
        ("64m", "version=2"),
        ("256m", "version=2,bsize=32768,fsize=4096"),
    ] {
        let img = d.path().join("peer.img");
        run(tool("makefs")
            .args(["-t", "ffs", "-o", opts, "-s", size])
            .arg(&img)
            .arg(&src));
        let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
        assert!(findings.is_empty(), "{opts}: {findings:#?}");
        let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
        assert_eq!(r.superblock_offset(), 8192);
        for (p, data) in &files {
            let ino = r.lookup(p).unwrap();
            let mut out = Vec::new();
            r.read_file(ino, &mut out).unwrap();
            assert!(out == *data, "{p}");
        }
        let l = r.lookup("a/link").unwrap();
        assert_eq!(r.readlink(l).unwrap(), b"b/c/big");
        assert_eq!(r.resolve("a/link").unwrap(), r.lookup("a/b/c/big").unwrap());
    }
}
