//! The command line as operators meet it: help for every subcommand,
//! version, completions, exit statuses, and the tiny synthetic mirror
//! fetched over HTTP exactly as `sha512sum` sees it.

mod common;

use std::process::Command;

use common::{mkimage, run_ok};
use mkimage::testkit::mirror::{MirrorSize, NetbsdMirrorOptions, generate_netbsd};
use mkimage::testkit::server::TestServer;

#[test]
fn every_subcommand_has_help_and_version_is_printed() {
    for sub in [
        "netbsd",
        "freebsd",
        "build",
        "makefs",
        "verify",
        "ls",
        "cat",
        "fetch",
        "publish",
        "cache",
        "run",
        "completions",
    ] {
        let out = run_ok(mkimage().arg(sub).arg("--help"));
        assert!(out.contains("Usage: mkimage"), "{sub}: {out}");
    }
    let v = run_ok(mkimage().arg("--version"));
    assert!(v.starts_with("mkimage "), "{v}");
}

#[test]
fn bash_completions_name_the_subcommands() {
    let out = run_ok(mkimage().args(["completions", "bash"]));
    assert!(
        out.contains("netbsd") && out.contains("publish"),
        "completion script"
    );
}

#[test]
fn usage_errors_exit_2_and_unreadable_images_exit_2() {
    let out = mkimage().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.img");
    std::fs::write(&junk, vec![0x5au8; 1 << 20]).unwrap();
    let out = mkimage().arg("verify").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.img"), "{err}");
    let out = mkimage()
        .arg("verify")
        .arg(dir.path().join("absent.qcow2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_tiny_mirror_is_fetched_over_http_and_matches_sha512sum() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mirror");
    let mirror = generate_netbsd(&root, &NetbsdMirrorOptions::new(MirrorSize::Tiny, 7)).unwrap();
    let server = TestServer::start(&root).unwrap();
    let cache = dir.path().join("cache");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    run_ok(
        mkimage()
            .args(["-q", "fetch", "netbsd", "--arch", "amd64", "--mirror"])
            .arg(format!("{}/pub/NetBSD/", server.url()))
            .arg("--pkg-list")
            .arg(&empty)
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--no-decoded-cache"),
    );
    let fetched: Vec<String> = server.requests().iter().map(|r| format!("{r:?}")).collect();
    assert!(fetched.iter().any(|r| r.contains("SHA512")), "{fetched:?}");
    for set in &mirror.sets {
        assert!(
            fetched.iter().any(|r| r.contains(&set.file_name)),
            "{} not fetched: {fetched:?}",
            set.file_name
        );
        // The cache holds a file whose sha512sum is the SHA512 file's line.
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "find '{}' -type f -exec sha512sum {{}} + | grep -c '^{}'",
                cache.display(),
                set.sha512
            ))
            .output()
            .unwrap();
        let n: u32 = String::from_utf8_lossy(&found.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        assert!(
            n >= 1,
            "{} not in the cache as sha512sum sees it",
            set.file_name
        );
    }
}
