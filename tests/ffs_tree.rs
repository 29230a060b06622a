//! A generated tree covering every object kind, written by our writer and
//! read back by independent readers: sleuthkit (tsk_recover, fls, istat),
//! GRUB (grub-fstest) and the ufs-core crate; our own checker finds it
//! clean.

mod ffs_common;

use std::collections::BTreeSet;
use std::fs;

use ffs_common::*;
use mkimage::disk::RawFile;
use mkimage::fs::ffs::{self, Flavour};

fn ufs_inode(img: &[u8], path: &str) -> ufs::Inode {
    let sb = ufs::Superblock::parse(&img[65536..65536 + 8192]).unwrap();
    ufs::read_by_path(img, &sb, path).unwrap().unwrap().1
}

#[test]
fn generated_tree_is_clean_for_our_checker() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    build(&img, 64 << 20, Flavour::NetBsd);
    let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mkimage"))
        .arg("verify")
        .arg(&img)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn tsk_recover_and_diff_reproduce_the_regular_files() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let (files, _) = build(&img, 64 << 20, Flavour::NetBsd);
    let expect = d.path().join("expect");
    for f in files.iter().filter(|f| !f.data.is_empty()) {
        let p = expect.join(&f.path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, &f.data).unwrap();
    }
    // Hard links are recovered under every name.
    for name in ["bin/su-link", "hl2"] {
        fs::copy(expect.join("bin/su"), expect.join(name)).unwrap();
    }
    let rec = d.path().join("rec");
    run(tool("tsk_recover")
        .args(["-a", "-f", "ufs2"])
        .arg(&img)
        .arg(&rec));
    // tsk_recover turns symlinks into files (inline ones as zeros): skip them.
    run(tool("diff")
        .args(["-r", "-x", "link*", "-x", "short"])
        .arg(&expect)
        .arg(&rec));
}

#[test]
fn fls_lists_exactly_the_tree() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let (files, _) = build(&img, 64 << 20, Flavour::NetBsd);
    let mut want: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
    for f in &files {
        let mut p = f.path.as_str();
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            want.insert(p.to_string());
        }
    }
    for extra in [
        "bin/su-link",
        "hl2",
        "tmp",
        "link119",
        "link120",
        "link121",
        "short",
        "dev",
        "dev/null",
        "dev/wd0a",
        "dev/fifo",
        "dev/sock",
    ] {
        want.insert(extra.to_string());
    }
    let out = run(tool("fls").args(["-f", "ufs2", "-r", "-p"]).arg(&img));
    let got: BTreeSet<String> = out
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, p)| p.to_string()))
        .filter(|p| p != "$OrphanFiles")
        .collect();
    assert_eq!(got, want);
}

fn istat(img: &std::path::Path, ino: &str) -> String {
    run(tool("istat").args(["-f", "ufs2"]).arg(img).arg(ino))
}

fn ino_of(fls: &str, path: &str) -> String {
    fls.lines()
        .find_map(|l| {
            let (head, p) = l.split_once('\t')?;
            (p == path).then(|| {
                head.split_whitespace()
                    .nth(1)
                    .unwrap()
                    .trim_end_matches(':')
                    .to_string()
            })
        })
        .unwrap_or_else(|| panic!("{path} not listed"))
}

#[test]
fn istat_shows_modes_owners_links_and_symlink_targets_of_119_120_121_bytes() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    build(&img, 64 << 20, Flavour::NetBsd);
    let fls = run(tool("fls").args(["-f", "ufs2", "-r", "-p"]).arg(&img));
    let su = istat(&img, &ino_of(&fls, "bin/su"));
    assert!(su.contains("mode: rrwsr-xr-x"), "{su}");
    assert!(su.contains("num of links: 3"), "{su}");
    let wall = istat(&img, &ino_of(&fls, "bin/wall"));
    assert!(wall.contains("mode: rr-xr-sr-x"), "{wall}");
    let tmp = istat(&img, &ino_of(&fls, "tmp"));
    assert!(tmp.contains("mode: drwxrwxrwt"), "{tmp}");
    let etc = istat(&img, &ino_of(&fls, "etc"));
    assert!(
        etc.contains("uid / gid: 0 / 5") && etc.contains("mode: drwxr-x---"),
        "{etc}"
    );
    let owned = istat(&img, &ino_of(&fls, "owned"));
    assert!(owned.contains("uid / gid: 1000 / 1001"), "{owned}");
    assert!(
        owned.contains("File Modified:\t2020-09-13 12:26:40"),
        "{owned}"
    );
    // Missing parents are created 0755 root:wheel.
    let implicit = istat(&img, &ino_of(&fls, "deep/a"));
    assert!(
        implicit.contains("mode: drwxr-xr-x") && implicit.contains("uid / gid: 0 / 0"),
        "{implicit}"
    );
    let root = istat(&img, "2");
    // 2 + subdirectories: bin deep dev etc long many p tmp.
    assert!(root.contains("num of links: 10"), "{root}");
    for n in [119usize, 120, 121] {
        let s = istat(&img, &ino_of(&fls, &format!("link{n}")));
        let target = format!("/{}", "t".repeat(n - 1));
        assert!(s.contains(&format!("symbolic link to: {target}\n")), "{s}");
        assert!(s.contains(&format!("size: {n}\n")), "{s}");
        // Below 120 bytes the target is inline: no direct blocks.
        let has_block = s
            .split("Direct Blocks:")
            .nth(1)
            .is_some_and(|b| !b.trim().is_empty() && b.trim() != "0");
        assert_eq!(has_block, n >= 120, "{s}");
    }
    let fifo = istat(&img, &ino_of(&fls, "dev/fifo"));
    assert!(fifo.contains("mode: prw-------"), "{fifo}");
    let null = istat(&img, &ino_of(&fls, "dev/null"));
    assert!(null.contains("mode: crw-rw-rw-"), "{null}");
}

#[test]
fn device_numbers_use_each_flavours_encoding_as_ufs_core_reads_them() {
    let d = tempfile::tempdir().unwrap();
    for (flavour, null, wd0a) in [
        (Flavour::NetBsd, 0x202u64, 0x1230_0045u64),
        (Flavour::FreeBsd, 0x202, 0x23_0001_0045),
    ] {
        let img = d.path().join("fs.img");
        build(&img, 64 << 20, flavour);
        let bytes = fs::read(&img).unwrap();
        let i = ufs_inode(&bytes, "dev/null");
        assert_eq!(i.direct[0], null);
        assert_eq!(i.mode, 0o020666);
        let i = ufs_inode(&bytes, "dev/wd0a");
        assert_eq!(i.direct[0], wd0a);
        assert_eq!((i.uid, i.gid, i.mode), (0, 5, 0o060640));
        let e = ufs_inode(&bytes, "owned");
        assert_eq!((e.mtime.sec, e.mtime.nsec), (1_600_000_000, 5));
        assert_eq!((e.atime.sec, e.atime.nsec), (T.secs, T.nsec as i32));
        assert_eq!(
            e.birthtime.map(|b| (b.sec, b.nsec)),
            Some((T.secs, T.nsec as i32))
        );
    }
}

#[test]
fn grub_fstest_cmp_agrees_on_a_sample() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let (files, _) = build(&img, 64 << 20, Flavour::NetBsd);
    let local = d.path().join("local");
    let sample: Vec<_> = files
        .iter()
        .filter(|f| !f.path.starts_with("many/") || f.path.ends_with("02999"))
        .collect();
    assert!(sample.len() > 10);
    for f in sample {
        fs::write(&local, &f.data).unwrap();
        run(tool("grub-fstest")
            .arg(&img)
            .arg("cmp")
            .arg(format!("/{}", f.path))
            .arg(&local));
    }
    // GRUB follows the inline symlink "short" -> etc/rc.conf.
    fs::write(&local, b"hostname=test\n").unwrap();
    run(tool("grub-fstest")
        .arg(&img)
        .args(["cmp", "/short"])
        .arg(&local));
    // And a mismatch is detected (the tool really compares).
    fs::write(&local, b"not the content").unwrap();
    let st = tool("grub-fstest")
        .arg(&img)
        .args(["cmp", "/etc/rc.conf"])
        .arg(&local)
        .output()
        .unwrap();
    assert!(!st.status.success());
}

#[test]
fn same_entries_and_seed_give_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.img");
    let b = d.path().join("b.img");
    build(&a, 64 << 20, Flavour::NetBsd);
    build(&b, 64 << 20, Flavour::NetBsd);
    assert!(fs::read(&a).unwrap() == fs::read(&b).unwrap());
}

#[test]
fn nothing_is_written_before_byte_65536() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    build(&img, 64 << 20, Flavour::NetBsd);
    let bytes = fs::read(&img).unwrap();
    assert!(bytes[..65536].iter().all(|&b| b == 0));
}
