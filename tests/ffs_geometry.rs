//! Geometry as newfs chooses it, read back by sleuthkit's fsstat and
//! checked against the formulas (ffs.md) and Debian's makefs.

mod ffs_common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

use ffs_common::*;
use mkimage::disk::RawFile;
use mkimage::entry::{Entry, add_bytes};
use mkimage::fs::ffs::superblock::Superblock;
use mkimage::fs::ffs::{self, FfsWriter, Flavour, FsOptions};

struct Stat {
    ncg: u64,
    ipg: u64,
    fpg: u64,
    bsize: u64,
    fsize: u64,
}

fn fsstat(img: &std::path::Path) -> Stat {
    let out = run(tool("fsstat").args(["-f", "ufs2"]).arg(img));
    let get = |key: &str| -> u64 {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} missing in {out}"))
            .trim()
            .parse()
            .unwrap()
    };
    Stat {
        ncg: get("Number of Cylinder Groups:"),
        ipg: get("Inodes per group:"),
        fpg: get("Fragments per group:"),
        bsize: get("Block Size:"),
        fsize: get("Fragment Size:"),
    }
}

/// `CGSIZE` for UFS2 (ffs.md).
fn cgsize(ipg: u64, fpg: u64, frag: u64, contigsumsize: u64) -> u64 {
    176 + 4 + ipg.div_ceil(8) + fpg.div_ceil(8) + contigsumsize * 4 + (fpg / frag).div_ceil(8)
}

fn small_fs(img: &std::path::Path, size: u64, opts: impl FnOnce(&mut FsOptions)) {
    let dev = RawFile::create(img, size).unwrap();
    let mut o = FsOptions::new(size, Flavour::NetBsd);
    opts(&mut o);
    let mut w = FfsWriter::new(dev, o).unwrap();
    add_bytes(&mut w, Entry::file("etc/motd", 0o644, 0, T), b"hello\n").unwrap();
    w.finish().unwrap();
}

#[test]
fn fsstat_shows_newfs_geometry_for_64m_1g_and_16g() {
    let d = tempfile::tempdir().unwrap();
    for (size, bsize, fsize) in [
        (64u64 << 20, 8192u64, 1024u64),
        (1 << 30, 32768, 4096),
        (16 << 30, 32768, 4096),
    ] {
        let img = d.path().join("fs.img");
        let t = Instant::now();
        small_fs(&img, size, |_| {});
        let took = t.elapsed();
        let s = fsstat(&img);
        assert_eq!((s.bsize, s.fsize), (bsize, fsize), "{size}");
        let frag = bsize / fsize;
        let inopb = bsize / 256;
        let frags = size / fsize;
        let contig = (65536 / bsize).min(16);
        let contig = if contig > 1 { contig } else { 0 };
        assert_eq!(s.ncg, frags.div_ceil(s.fpg), "{size}");
        assert_eq!(s.fpg % frag, 0);
        // Density 4 fragments per inode, rounded to whole inode blocks.
        assert_eq!(s.ipg, (s.fpg.div_ceil(4)).div_ceil(inopb) * inopb, "{size}");
        assert!(cgsize(s.ipg, s.fpg, frag, contig) <= bsize, "{size}");
        // Groups grow until the cg block is full or fewer than 4 groups remain.
        let next = s.fpg + frag;
        let next_ipg = next.div_ceil(4).div_ceil(inopb) * inopb;
        assert!(
            cgsize(next_ipg, next, frag, contig) > bsize || frags / next < 4,
            "{size}: group could have grown"
        );
        let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        // Sparse and fast: only metadata is written.
        let on_disk = fs::metadata(&img).unwrap().blocks() * 512;
        assert!(on_disk < size / 50, "{size}: {on_disk} bytes allocated");
        assert!(took.as_secs() < 10, "{size}: took {took:?}");
    }
}

#[test]
fn geometry_matches_debian_makefs_when_the_block_size_limits_the_group() {
    let d = tempfile::tempdir().unwrap();
    let size = 256u64 << 20;
    let peer = d.path().join("makefs.img");
    let empty = d.path().join("empty");
    fs::create_dir(&empty).unwrap();
    run(tool("makefs")
        .args([
            "-t",
            "ffs",
            "-o",
            "version=2,bsize=8192,fsize=1024,density=4096",
            "-s",
            "256m",
        ])
        .arg(&peer)
        .arg(&empty));
    let bytes = fs::read(&peer).unwrap();
    let theirs = Superblock::decode(&bytes[8192..8192 + 1376]);
    let ours_img = d.path().join("ours.img");
    small_fs(&ours_img, size, |o| {
        o.block_size = Some(8192);
        o.frag_size = Some(1024);
        o.density = Some(4096);
    });
    let s = fsstat(&ours_img);
    assert_eq!(
        (s.ipg, s.fpg, s.ncg),
        (theirs.ipg as u64, theirs.fpg as u64, theirs.ncg as u64)
    );
    let ours = fs::read(&ours_img).unwrap();
    let ours = Superblock::decode(&ours[65536..65536 + 1376]);
    assert_eq!(ours.cgsize, theirs.cgsize);
    assert_eq!(ours.contigsumsize, theirs.contigsumsize);
    assert_eq!(ours.maxfilesize, theirs.maxfilesize);
}

#[test]
fn size_strings_parse_with_binary_units() {
    let parse = |s: &str| mkimage::size::Size::parse(s).map(|v| v.bytes());
    assert_eq!(parse("64M"), Ok(64 << 20));
    assert_eq!(parse("1G"), Ok(1 << 30));
    assert_eq!(parse("16g"), Ok(16 << 30));
    assert_eq!(parse("512K"), Ok(512 << 10));
    assert_eq!(parse("4096"), Ok(4096));
    assert_eq!(parse("2GiB"), Ok(2 << 30));
    assert!(parse("12Q").is_err());
    assert!(parse("G").is_err());
}

#[test]
fn freebsd_soft_updates_sets_fs_dosoftdep_and_netbsd_writes_no_flags() {
    let d = tempfile::tempdir().unwrap();
    for (flavour, soft, want_flags, want_minfree) in [
        (Flavour::FreeBsd, true, 2u32, 8),
        (Flavour::NetBsd, false, 0, 5),
    ] {
        let img = d.path().join("fs.img");
        let size = 64 << 20;
        let dev = RawFile::create(&img, size).unwrap();
        let mut o = FsOptions::new(size, flavour);
        o.soft_updates = soft;
        o.label = Some("lbl".into());
        let w = FfsWriter::new(dev, o).unwrap();
        w.finish().unwrap();
        let bytes = fs::read(&img).unwrap();
        let sb = Superblock::decode(&bytes[65536..65536 + 1376]);
        assert_eq!(sb.flags, want_flags);
        assert_eq!(sb.minfree, want_minfree);
        assert_eq!(sb.label(), "lbl");
        assert_eq!(sb.clean, 1);
        let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
    }
}
