//! `mkimage cache list|prune` on a real cache filled by the fetcher.

mod fetch_support;

use std::process::Command;
use std::time::{Duration, SystemTime};

use fetch_support::*;

fn mkimage(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mkimage"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cache_list_shows_downloads_and_prune_removes_only_old_ones() {
    let m = netbsd_mirror();
    let server = mkimage::testkit::server::TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let got = fetcher(cache.path())
        .fetch_release_files(
            &[format!("{}pub/NetBSD/", server.url())],
            &layout(),
            &names(&["base.tar.xz", "etc.tar.xz"]),
        )
        .unwrap();
    let dir = cache.path().to_str().unwrap();
    let list = mkimage(&["cache", "list", "--cache-dir", dir]);
    assert!(list.contains("binary/sets/base.tar.xz"), "{list}");
    assert!(list.contains("binary/sets/SHA512"), "{list}");
    assert!(list.contains("3 entries"), "{list}");
    // Make base look unused for 40 days.
    let meta = format!("{}.meta", got[0].path.display());
    let old = SystemTime::now() - Duration::from_secs(40 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&meta)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = mkimage(&[
        "cache",
        "prune",
        "--older-than-days",
        "30",
        "--cache-dir",
        dir,
    ]);
    assert!(out.contains("removed 1 entries"), "{out}");
    assert!(!got[0].path.exists());
    assert!(got[1].path.exists());
    assert_eq!(
        files_in(cache.path(), "index").len(),
        2,
        "base's index entry went with it"
    );
    let list = mkimage(&["cache", "list", "--cache-dir", dir]);
    assert!(!list.contains("base.tar.xz"), "{list}");
    assert!(list.contains("2 entries"), "{list}");
}
