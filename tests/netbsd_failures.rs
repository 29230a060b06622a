//! What a failing NetBSD build leaves behind: never a half-written image in
//! place of a good one, never an unverified byte in the cache, and an error
//! that names the thing and says what to do.

mod common;

use std::path::Path;
use std::process::Command;

use common::mkimage;
use mkimage::testkit::mirror::{MirrorSize, NetbsdMirrorOptions, generate_netbsd};
use mkimage::testkit::server::{Fault, TestServer};

fn build(server: &TestServer, dir: &Path, out: &Path) -> std::process::Output {
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    mkimage()
        .args(["-q", "netbsd", "--arch", "amd64", "--mirror"])
        .arg(format!("{}/pub/NetBSD/", server.url()))
        .arg("--pkg-list")
        .arg(&empty)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect()
}

#[test]
fn a_corrupted_set_fails_naming_it_and_both_digests_and_the_old_image_stays() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mirror");
    let mirror = generate_netbsd(&root, &NetbsdMirrorOptions::new(MirrorSize::Tiny, 3)).unwrap();
    let server = TestServer::start(&root).unwrap();
    // Every answer for base.tar.xz has one byte flipped.
    server.add_fault(Some("base.tar.xz"), Fault::Corrupt { offset: 4096 }, None);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("netbsd.qcow2");
    std::fs::write(&out, b"the image published yesterday").unwrap();

    let res = build(&server, dir.path(), &out);
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    let base = mirror.set("base").unwrap();
    assert!(err.contains("base.tar.xz"), "{err}");
    assert!(err.contains(&base.sha512), "expected digest named: {err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"the image published yesterday"
    );
    assert!(leftovers(&out_dir).is_empty(), "{:?}", leftovers(&out_dir));
    // Nothing unverified was kept: the cache holds no object with base's bytes.
    let listing = Command::new("find")
        .arg(dir.path().join("cache"))
        .arg("-type")
        .arg("f")
        .output()
        .unwrap();
    let files = String::from_utf8_lossy(&listing.stdout);
    for f in files.lines() {
        let sum = Command::new("sha512sum").arg(f).output().unwrap();
        let sum = String::from_utf8_lossy(&sum.stdout);
        assert!(!sum.starts_with(&base.sha512), "{f}");
    }
}

#[test]
fn a_mirror_without_the_release_fails_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("empty-mirror");
    std::fs::create_dir_all(&root).unwrap();
    let server = TestServer::start(&root).unwrap();
    let out = dir.path().join("out.qcow2");
    let res = build(&server, dir.path(), &out);
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("NetBSD-10.1/amd64/binary/sets/SHA512"),
        "{err}"
    );
    assert!(err.contains("404"), "{err}");
    assert!(!out.exists());
}

fn small_build(size: &str) -> (tempfile::TempDir, std::process::Output, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mirror");
    generate_netbsd(&root, &NetbsdMirrorOptions::new(MirrorSize::Tiny, 4)).unwrap();
    let server = TestServer::start(&root).unwrap();
    let out = dir.path().join("out.qcow2");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let res = mkimage()
        .args(["-q", "netbsd", "--size", size, "--mirror"])
        .arg(format!("{}/pub/NetBSD/", server.url()))
        .arg("--pkg-list")
        .arg(&empty)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    (dir, res, out)
}

#[test]
fn a_disk_too_small_for_its_partitions_says_which_size_would_do() {
    let (dir, res, out) = small_build("262M");
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("give a larger --size"), "{err}");
    assert!(err.contains("at least 263M"), "{err}");
    assert!(!out.exists());
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn a_root_too_small_for_the_sets_fails_in_disk_terms_and_leaves_nothing() {
    // 263M: the ESP takes 260M, the root partition gets about 1 MiB.
    let (dir, res, out) = small_build("264M");
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("root partition"), "{err}");
    assert!(err.contains("give a larger --size"), "{err}");
    assert!(!out.exists());
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}
