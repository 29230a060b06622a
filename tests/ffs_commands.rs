//! The `makefs`, `verify`, `ls` and `cat` subcommands end to end.

mod ffs_common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};

use ffs_common::*;

fn mkimage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mkimage"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn source_tree(src: &Path) {
    fs::create_dir_all(src.join("etc/rc.d")).unwrap();
    fs::write(src.join("etc/motd"), b"Welcome\n").unwrap();
    fs::write(src.join("etc/rc.d/sshd"), bytes(5, 70_000)).unwrap();
    fs::write(src.join("kernel"), bytes(6, 3 << 20)).unwrap();
    fs::hard_link(src.join("kernel"), src.join("kernel.hl")).unwrap();
    symlink("etc/motd", src.join("motd-link")).unwrap();
    fs::create_dir(src.join("empty-dir")).unwrap();
    run(Command::new("mkfifo").arg(src.join("fifo")));
}

#[test]
fn makefs_from_a_directory_is_clean_and_reads_back() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    source_tree(&src);
    let img = d.path().join("out.img");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    ok(&mkimage(&["makefs", "-o", &s(&img), &s(&src)]));
    let size = fs::metadata(&img).unwrap().len();
    // Content + 10 % + minfree + metadata, not wildly more.
    assert!(size > 3 << 20 && size < 64 << 20, "{size}");
    let v = mkimage(&["verify", &s(&img)]);
    assert_eq!(v.status.code(), Some(0), "{v:?}");
    // Sleuthkit recovers the regular files.
    let rec = d.path().join("rec");
    run(tool("tsk_recover")
        .args(["-a", "-f", "ufs2"])
        .arg(&img)
        .arg(&rec));
    run(tool("diff")
        .args(["-r", "-x", "motd-link", "-x", "fifo", "-x", "empty-dir"])
        .arg(&src)
        .arg(&rec));
    // cat and ls.
    let cat = mkimage(&["cat", &s(&img), "/etc/rc.d/sshd"]);
    assert_eq!(cat.stdout, fs::read(src.join("etc/rc.d/sshd")).unwrap());
    // cat follows symbolic links.
    let via_link = mkimage(&["cat", &s(&img), "/motd-link"]);
    assert_eq!(via_link.stdout, b"Welcome\n");
    let ls = ok(&mkimage(&["ls", &s(&img), "/"]));
    let line = |name: &str| {
        ls.lines()
            .find(|l| l.ends_with(name) || l.contains(&format!(" {name} -> ")))
            .unwrap_or_else(|| panic!("{name} missing in\n{ls}"))
            .to_string()
    };
    assert!(line("kernel").starts_with("-rw-r--r--   2 "), "{ls}");
    assert!(line("motd-link").ends_with("motd-link -> etc/motd"), "{ls}");
    assert!(line("fifo").starts_with("p"), "{ls}");
    assert!(line("etc").starts_with("drwxr-xr-x   3 "), "{ls}");
    let one = ok(&mkimage(&["ls", &s(&img), "/etc/motd"]));
    assert!(
        one.contains(" 8 ") && one.trim_end().ends_with("/etc/motd"),
        "{one}"
    );
}

#[test]
fn makefs_honours_size_flavour_label_and_seed() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    source_tree(&src);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let a = d.path().join("a.img");
    let b = d.path().join("b.img");
    // The first run may update the sources' access times (relatime).
    for img in [&a, &a, &b] {
        ok(&mkimage(&[
            "makefs",
            "--flavour",
            "freebsd",
            "--size",
            "64M",
            "--label",
            "rootfs",
            "--seed",
            "7",
            "-o",
            &s(img),
            &s(&src),
        ]));
    }
    assert_eq!(fs::metadata(&a).unwrap().len(), 64 << 20);
    let fsstat = run(tool("fsstat").args(["-f", "ufs2"]).arg(&a));
    assert!(fsstat.contains("Volume Name: rootfs"), "{fsstat}");
    // Same tree and seed: the same bytes (host times are copied as they are).
    assert!(fs::read(&a).unwrap() == fs::read(&b).unwrap());
}

#[test]
fn makefs_from_a_tar_xz_reproduces_the_tree_and_a_broken_archive_leaves_no_image() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    source_tree(&src);
    let tar = d.path().join("tree.tar.xz");
    let st = Command::new("tar")
        .arg("-cJf")
        .arg(&tar)
        .arg("-C")
        .arg(&src)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let img = d.path().join("o.img");
    ok(&mkimage(&[
        "makefs",
        "-o",
        img.to_str().unwrap(),
        tar.to_str().unwrap(),
    ]));
    ok(&mkimage(&["verify", img.to_str().unwrap()]));
    let out = d.path().join("out");
    run(tool("tsk_recover")
        .args(["-a", "-f", "ufs2"])
        .arg(&img)
        .arg(&out));
    let diff = Command::new("diff")
        .arg("-r")
        .arg("--no-dereference")
        .arg(src.join("etc"))
        .arg(out.join("etc"))
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
    assert_eq!(
        fs::read(out.join("kernel")).unwrap(),
        fs::read(src.join("kernel")).unwrap()
    );

    // A truncated archive: an error naming it, and no image in place.
    let bytes = fs::read(&tar).unwrap();
    let cut = d.path().join("cut.tar.xz");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let img2 = d.path().join("cut.img");
    let o = mkimage(&[
        "makefs",
        "--size",
        "64M",
        "-o",
        img2.to_str().unwrap(),
        cut.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cut.tar.xz"),
        "{o:?}"
    );
    assert!(!img2.exists());
    assert_eq!(
        fs::read_dir(d.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("tmp"))
            .count(),
        0
    );
}

#[test]
fn ls_and_cat_of_a_missing_path_fail_with_its_name() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    build(&img, 64 << 20, mkimage::fs::ffs::Flavour::NetBsd);
    let o = mkimage(&["cat", img.to_str().unwrap(), "/no/such"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("/no/such"),
        "{o:?}"
    );
}

#[test]
fn makefs_without_size_fits_many_small_files_by_lowering_inode_density() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    fs::create_dir(&src).unwrap();
    for i in 0..10_000 {
        fs::write(src.join(format!("f{i}")), b"").unwrap();
    }
    let img = d.path().join("out.img");
    ok(&mkimage(&[
        "makefs",
        "-o",
        img.to_str().unwrap(),
        src.to_str().unwrap(),
    ]));
    let size = fs::metadata(&img).unwrap().len();
    // One inode per 1 KiB fragment at most: about 11 MiB, not 4 fragments each.
    assert!(size < 16 << 20, "{size}");
    let v = mkimage(&["verify", img.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{v:?}");
}
