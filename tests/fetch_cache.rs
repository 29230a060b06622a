//! The download cache: warm runs make no requests, offline runs list what
//! is missing, interrupted downloads resume across processes, local
//! mirrors, FreeBSD's MANIFEST, the decoded-set cache and concurrency.

mod fetch_support;

use std::io::Read;
use std::time::Duration;

use fetch_support::*;
use mkimage::fetch::{Algorithm, Digest, FetchOptions, Fetcher, ReleaseLayout};
use mkimage::testkit::server::{Fault, TestServer};

fn mirror_url(server: &TestServer) -> Vec<String> {
    vec![format!("{}pub/NetBSD/", server.url())]
}

#[test]
fn with_a_warm_cache_a_second_fetch_makes_zero_http_requests() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let sets = names(&["base.tar.xz", "etc.tar.xz"]);
    let first = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &sets)
        .unwrap();
    assert_eq!(server.request_count(), 3);
    server.clear_log();
    let second = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &sets)
        .unwrap();
    assert_eq!(server.request_count(), 0, "{:?}", server.requests());
    assert_eq!(first, second);
    // verify_cache re-hashes but still needs no network.
    let mut opts = options(cache.path());
    opts.verify_cache = true;
    Fetcher::new(opts)
        .unwrap()
        .fetch_release_files(&mirror_url(&server), &layout(), &sets)
        .unwrap();
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_damaged_cache_entry_is_detected_and_fetched_again() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let sets = names(&["etc.tar.xz"]);
    let got = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &sets)
        .unwrap();
    // Same size, different bytes: only re-hashing (verify_cache) notices.
    let mut bytes = std::fs::read(&got[0].path).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&got[0].path, &bytes).unwrap();
    server.clear_log();
    let mut opts = options(cache.path());
    opts.verify_cache = true;
    let again = Fetcher::new(opts)
        .unwrap()
        .fetch_release_files(&mirror_url(&server), &layout(), &sets)
        .unwrap();
    assert_eq!(
        std::fs::read(&again[0].path).unwrap(),
        m.bytes("etc.tar.xz")
    );
    assert_eq!(server.requests_for("etc.tar.xz").len(), 1);
    // A truncated object is caught by the size check alone.
    std::fs::write(&again[0].path, b"short").unwrap();
    server.clear_log();
    fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &sets)
        .unwrap();
    assert_eq!(server.requests_for("etc.tar.xz").len(), 1);
}

#[test]
fn offline_lists_everything_missing_in_one_error() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Cache the checksum file and etc only.
    fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["etc.tar.xz"]))
        .unwrap();
    server.clear_log();
    let mut opts = options(cache.path());
    opts.offline = true;
    let offline = Fetcher::new(opts).unwrap();
    let mut m2 = std::fs::read_to_string(m.sets_path().join("SHA512")).unwrap();
    m2.push_str(&format!("SHA512 (comp.tar.xz) = {}\n", "ab".repeat(64)));
    std::fs::write(m.sets_path().join("SHA512"), m2).unwrap();
    let err = offline
        .fetch_release_files(
            &mirror_url(&server),
            &layout(),
            &names(&["base.tar.xz", "etc.tar.xz"]),
        )
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("offline") && msg.contains("lacks: base.tar.xz"),
        "{msg}"
    );
    assert!(!msg.contains("etc.tar.xz"), "{msg}");
    assert_eq!(server.request_count(), 0);
    // With an empty cache, the checksum file and every set are listed.
    let empty = tempfile::tempdir().unwrap();
    let mut opts = options(empty.path());
    opts.offline = true;
    let err = Fetcher::new(opts)
        .unwrap()
        .fetch_release_files(
            &mirror_url(&server),
            &layout(),
            &names(&["base.tar.xz", "etc.tar.xz"]),
        )
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("SHA512, base.tar.xz, etc.tar.xz"), "{msg}");
    assert_eq!(server.request_count(), 0);
}

/// Runs only as the child of `killed_download_resumes_in_the_next_process`.
#[test]
fn child_process_fetching_until_killed() {
    let (Ok(url), Ok(cache)) = (
        std::env::var("FETCH_CHILD_MIRROR"),
        std::env::var("FETCH_CHILD_CACHE"),
    ) else {
        return;
    };
    // A long read timeout: the child must still be waiting when it is killed.
    let mut opts = options(std::path::Path::new(&cache));
    opts.retry.read_timeout = Duration::from_secs(60);
    let _ = Fetcher::new(opts).unwrap().fetch_release_files(
        &[url],
        &layout(),
        &names(&["base.tar.xz"]),
    );
}

#[test]
fn killed_download_resumes_in_the_next_process_with_a_range_request() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(
        Some("base.tar.xz"),
        Fault::StallDuring {
            after: 120_000,
            pause: Duration::from_secs(20),
        },
        Some(1),
    );
    let cache = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_fetching_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FETCH_CHILD_MIRROR", &mirror_url(&server)[0])
        .env("FETCH_CHILD_CACHE", cache.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the child holds part of the set in its partial file.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let partial_len = loop {
        let len: u64 = std::fs::read_dir(cache.path().join("partial"))
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|md| md.len())
                    .sum()
            })
            .unwrap_or(0);
        if len >= 120_000 {
            break len;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "child never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(partial_len, 120_000);
    let got = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap();
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("base.tar.xz"));
    let reqs = server.requests_for("base.tar.xz");
    assert_eq!(
        reqs.last().unwrap().range.as_deref(),
        Some("bytes=120000-"),
        "{reqs:?}"
    );
    assert_eq!(reqs.last().unwrap().status, 206);
}

#[test]
fn local_directory_and_file_url_mirrors_need_no_server() {
    let m = netbsd_mirror();
    let cache = tempfile::tempdir().unwrap();
    let dir = m
        .dir
        .path()
        .join("pub/NetBSD")
        .to_string_lossy()
        .into_owned();
    for mirror in [dir.clone(), format!("file://{dir}/")] {
        let got = fetcher(cache.path())
            .fetch_release_files(
                std::slice::from_ref(&mirror),
                &layout(),
                &names(&["base.tar.xz", "etc.tar.xz"]),
            )
            .unwrap();
        assert_eq!(
            std::fs::read(&got[0].path).unwrap(),
            m.bytes("base.tar.xz"),
            "{mirror}"
        );
        assert_eq!(got[1].digest.hex(), sha512_hex(m.bytes("etc.tar.xz")));
    }
    // A local copy that does not match is refused.
    std::fs::write(m.sets_path().join("etc.tar.xz"), b"tampered").unwrap();
    let err = fetcher(tempfile::tempdir().unwrap().path())
        .fetch_release_files(&[dir], &layout(), &names(&["etc.tar.xz"]))
        .unwrap_err();
    assert!(format!("{err:#}").contains("etc.tar.xz"), "{err:#}");
}

#[test]
fn freebsd_manifest_layout_fetches_and_verifies_with_sha256() {
    let root = tempfile::tempdir().unwrap();
    let rel = root.path().join("releases/amd64/amd64/14.3-RELEASE");
    std::fs::create_dir_all(&rel).unwrap();
    let base = tar_xz(&[("bin/sh", noise(7, 5000))]);
    std::fs::write(rel.join("base.txz"), &base).unwrap();
    let sha = Digest::of_bytes(Algorithm::Sha256, &base);
    std::fs::write(
        rel.join("MANIFEST"),
        format!(
            "base.txz\t{}\t12\tbase\t\"Base system (MANDATORY)\"\ton\n",
            sha.hex()
        ),
    )
    .unwrap();
    let server = TestServer::start(root.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let layout = ReleaseLayout::FreeBsd {
        release: "14.3".into(),
        machine: "amd64".into(),
        arch: "amd64".into(),
    };
    let got = fetcher(cache.path())
        .fetch_release_files(&[server.url()], &layout, &names(&["base.txz"]))
        .unwrap();
    assert_eq!(got[0].digest, sha);
    assert_eq!(std::fs::read(&got[0].path).unwrap(), base);
    assert_eq!(
        server.requests()[0].path,
        "/releases/amd64/amd64/14.3-RELEASE/MANIFEST"
    );
}

#[test]
fn unverified_small_files_are_fetched_once_then_served_from_the_cache() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let url = vec![format!("{}{SETS_DIR}/MD5", server.url())];
    let (from, bytes) = fetcher(cache.path()).fetch_unverified_small(&url).unwrap();
    assert_eq!(from, url[0]);
    assert_eq!(bytes, std::fs::read(m.sets_path().join("MD5")).unwrap());
    fetcher(cache.path()).fetch_unverified_small(&url).unwrap();
    assert_eq!(server.request_count(), 1);
    fetcher(cache.path())
        .refresh_unverified_small(&url)
        .unwrap();
    assert_eq!(server.request_count(), 2);
}

#[test]
fn two_fetchers_racing_on_one_cache_both_end_with_the_verified_file() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(
        Some("base.tar.xz"),
        Fault::StallDuring {
            after: 1000,
            pause: Duration::from_millis(200),
        },
        Some(1),
    );
    let cache = tempfile::tempdir().unwrap();
    let mirrors = mirror_url(&server);
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    fetcher(cache.path()).fetch_release_files(
                        &mirrors,
                        &layout(),
                        &names(&["base.tar.xz"]),
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
    });
    for r in &results {
        assert_eq!(std::fs::read(&r[0].path).unwrap(), m.bytes("base.tar.xz"));
    }
    // The per-URL lock made the second wait and then find the finished object.
    assert_eq!(server.requests_for("base.tar.xz").len(), 1);
}

fn read_all_entries(r: Box<dyn Read + Send>) -> Vec<(String, Vec<u8>)> {
    struct Collect(Vec<(String, Vec<u8>)>);
    impl mkimage::entry::EntrySink for Collect {
        fn add(&mut self, e: &mkimage::entry::Entry, d: &mut dyn Read) -> anyhow::Result<()> {
            let mut v = Vec::new();
            d.read_to_end(&mut v)?;
            self.0.push((e.path.clone(), v));
            Ok(())
        }
    }
    let mut c = Collect(Vec::new());
    mkimage::source::archive::read_archive(r, "set", &mut c).unwrap();
    c.0
}

#[test]
fn decoded_set_cache_is_written_on_first_read_and_used_afterwards() {
    let m = netbsd_mirror();
    let cache = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        decoded_cache: true,
        ..options(cache.path())
    };
    let f = Fetcher::new(opts).unwrap();
    let dir = m
        .dir
        .path()
        .join("pub/NetBSD")
        .to_string_lossy()
        .into_owned();
    let got = f
        .fetch_release_files(&[dir], &layout(), &names(&["base.tar.xz"]))
        .unwrap();
    let decoded = f.cache().decoded_path(&got[0].digest);
    // A partly read stream never leaves a decoded copy behind.
    let mut r = f.open_set(&got[0]).unwrap();
    let mut buf = [0u8; 1000];
    r.read_exact(&mut buf).unwrap();
    drop(r);
    assert!(!decoded.exists());
    assert!(files_in(cache.path(), "tmp").is_empty());
    let first = read_all_entries(f.open_set(&got[0]).unwrap());
    assert!(decoded.exists(), "decoded copy written after a full read");
    // It is a zstd frame (magic 28 B5 2F FD) holding the same tar stream.
    assert_eq!(
        &std::fs::read(&decoded).unwrap()[..4],
        &[0x28, 0xB5, 0x2F, 0xFD]
    );
    // Remove the original: the second read must come from the decoded copy.
    std::fs::remove_file(m.sets_path().join("base.tar.xz")).unwrap();
    let second = read_all_entries(f.open_set(&got[0]).unwrap());
    assert_eq!(first, second);
    assert_eq!(first[1].0, "bin/sh");
    assert_eq!(first[1].1, noise(1, 300_000));
}

#[test]
fn no_decoded_cache_option_writes_no_decoded_copy() {
    let m = netbsd_mirror();
    let cache = tempfile::tempdir().unwrap();
    let f = fetcher(cache.path());
    let dir = m
        .dir
        .path()
        .join("pub/NetBSD")
        .to_string_lossy()
        .into_owned();
    let got = f
        .fetch_release_files(&[dir], &layout(), &names(&["etc.tar.xz"]))
        .unwrap();
    let entries = read_all_entries(f.open_set(&got[0]).unwrap());
    assert_eq!(entries[1].0, "etc/rc.conf");
    assert!(files_in(cache.path(), "decoded").is_empty());
}

#[test]
fn fetched_sets_stream_into_one_sink_in_recipe_order_through_the_decoded_cache() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        decoded_cache: true,
        ..options(cache.path())
    };
    let f = Fetcher::new(opts).unwrap();
    // Recipe order: etc before base.
    let sets = f
        .fetch_release_files(
            &mirror_url(&server),
            &layout(),
            &names(&["etc.tar.xz", "base.tar.xz"]),
        )
        .unwrap();
    let run = || {
        struct Paths(Vec<String>);
        impl mkimage::entry::EntrySink for Paths {
            fn add(&mut self, e: &mkimage::entry::Entry, d: &mut dyn Read) -> anyhow::Result<()> {
                std::io::copy(d, &mut std::io::sink())?;
                self.0.push(e.path.clone());
                Ok(())
            }
        }
        let mut sink = Paths(Vec::new());
        mkimage::source::sets::read_sets(f.set_inputs(&sets), &mut sink).unwrap();
        sink.0
    };
    let first = run();
    assert_eq!(
        first,
        ["", "etc/rc.conf", "", "bin/sh", "etc/mtree/set.base"]
    );
    assert_eq!(files_in(cache.path(), "decoded").len(), 2);
    // The decoded copies now stand in for the xz files.
    for s in &sets {
        std::fs::remove_file(&s.path).unwrap();
    }
    assert_eq!(run(), first);
}

#[test]
fn a_stale_partial_file_that_does_not_verify_is_fetched_again_from_the_start() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let f = fetcher(cache.path());
    let url = format!("{}{SETS_DIR}/base.tar.xz", server.url());
    // Bytes of "another copy" left by an earlier run.
    std::fs::write(f.cache().partial_path(&url), noise(99, 1000)).unwrap();
    let got = f
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap();
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("base.tar.xz"));
    let ranges: Vec<Option<String>> = server
        .requests_for("base.tar.xz")
        .into_iter()
        .map(|r| r.range)
        .collect();
    assert_eq!(ranges, [Some("bytes=1000-".to_string()), None]);
}
