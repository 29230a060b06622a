//! Downloads against the test HTTP server and its faults: each fault
//! either recovers or fails naming the URL, the cause and the attempts.

mod fetch_support;

use std::time::Duration;

use fetch_support::*;
use mkimage::testkit::server::{Fault, TestServer};

fn mirror_url(server: &TestServer) -> Vec<String> {
    vec![format!("{}pub/NetBSD/", server.url())]
}

#[test]
fn sets_and_sha512_are_fetched_over_http_and_match_sha512sum() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let got = fetcher(cache.path())
        .fetch_release_files(
            &mirror_url(&server),
            &layout(),
            &names(&["base.tar.xz", "etc.tar.xz"]),
        )
        .unwrap();
    assert_eq!(got.len(), 2);
    for (vf, (name, bytes)) in got.iter().zip(&m.sets) {
        assert_eq!(&vf.name, name);
        assert_eq!(std::fs::read(&vf.path).unwrap(), *bytes);
        assert_eq!(vf.size, bytes.len() as u64);
        // Independent check with the system's sha512sum.
        let out = std::process::Command::new("sha512sum")
            .arg(&vf.path)
            .output()
            .expect("sha512sum (coreutils) must be installed");
        let tool = String::from_utf8(out.stdout).unwrap();
        assert_eq!(tool.split_whitespace().next().unwrap(), vf.digest.hex());
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            format!("/{SETS_DIR}/SHA512"),
            format!("/{SETS_DIR}/base.tar.xz"),
            format!("/{SETS_DIR}/etc.tar.xz")
        ]
    );
}

#[test]
fn refused_connections_are_retried_and_the_fetch_recovers() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.refuse_connections(2);
    let cache = tempfile::tempdir().unwrap();
    let got = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["etc.tar.xz"]))
        .unwrap();
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("etc.tar.xz"));
    // Two connections closed unanswered, then one kept alive for SHA512 and the set.
    assert_eq!(server.connection_count(), 3);
    assert_eq!(server.request_count(), 2);
}

#[test]
fn service_unavailable_twice_is_retried_and_recovers() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(Some("base.tar.xz"), Fault::Unavailable, Some(2));
    let cache = tempfile::tempdir().unwrap();
    let got = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap();
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("base.tar.xz"));
    let statuses: Vec<u16> = server
        .requests_for("base.tar.xz")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[test]
fn service_unavailable_always_fails_naming_url_cause_and_attempt_count() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(Some("base.tar.xz"), Fault::Unavailable, None);
    let cache = tempfile::tempdir().unwrap();
    let err = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!(
            "{}pub/NetBSD/NetBSD-10.1/amd64/binary/sets/base.tar.xz",
            server.url()
        )),
        "{msg}"
    );
    assert!(msg.contains("503"), "{msg}");
    assert!(msg.contains("after 4 attempts"), "{msg}");
    assert_eq!(server.requests_for("base.tar.xz").len(), 4);
    assert!(
        files_in(cache.path(), "objects")
            .iter()
            .all(|f| !f.contains(&sha512_hex(m.bytes("base.tar.xz"))))
    );
}

#[test]
fn not_found_is_not_retried_and_the_next_mirror_is_used() {
    let m = netbsd_mirror();
    let empty = tempfile::tempdir().unwrap();
    let bad = TestServer::start(empty.path()).unwrap();
    let good = TestServer::start(m.dir.path()).unwrap();
    // The checksum file comes from the good mirror too: the bad one has nothing.
    let mirrors = vec![
        format!("{}pub/NetBSD/", bad.url()),
        format!("{}pub/NetBSD/", good.url()),
    ];
    let cache = tempfile::tempdir().unwrap();
    let got = fetcher(cache.path())
        .fetch_release_files(&mirrors, &layout(), &names(&["etc.tar.xz"]))
        .unwrap();
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("etc.tar.xz"));
    assert_eq!(
        bad.requests_for("etc.tar.xz").len(),
        1,
        "a 404 is not retried"
    );
    assert_eq!(bad.requests_for("etc.tar.xz")[0].status, 404);
    assert_eq!(good.requests_for("etc.tar.xz").len(), 1);
}

#[test]
fn not_found_on_every_mirror_fails_naming_each_url_and_status() {
    let empty = tempfile::tempdir().unwrap();
    let server = TestServer::start(empty.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let err = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!(
            "{}pub/NetBSD/NetBSD-10.1/amd64/binary/sets/SHA512",
            server.url()
        )),
        "{msg}"
    );
    assert!(msg.contains("404"), "{msg}");
    assert!(msg.contains("after 1 attempt; not retried"), "{msg}");
}

#[test]
fn truncated_body_is_resumed_with_a_range_request_and_ends_verified() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(
        Some("base.tar.xz"),
        Fault::Truncate { bytes: 100_000 },
        Some(1),
    );
    let cache = tempfile::tempdir().unwrap();
    let got = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap();
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("base.tar.xz"));
    let reqs = server.requests_for("base.tar.xz");
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].range, None);
    assert_eq!(reqs[1].range.as_deref(), Some("bytes=100000-"));
    assert_eq!(reqs[1].status, 206);
    assert!(
        files_in(cache.path(), "partial").is_empty(),
        "partial file moved into the cache"
    );
}

#[test]
fn truncated_body_every_time_fails_naming_url_and_short_transfer() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(Some("base.tar.xz"), Fault::Truncate { bytes: 0 }, None);
    let cache = tempfile::tempdir().unwrap();
    let err = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("binary/sets/base.tar.xz"), "{msg}");
    assert!(msg.contains("after 4 attempts"), "{msg}");
    assert!(
        msg.contains("short body") || msg.contains("broke off"),
        "{msg}"
    );
}

#[test]
fn stalled_transfer_times_out_and_the_retry_recovers() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(
        Some("base.tar.xz"),
        Fault::StallDuring {
            after: 50_000,
            pause: Duration::from_secs(3),
        },
        Some(1),
    );
    let cache = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let got = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the stall was cut short by the read timeout"
    );
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("base.tar.xz"));
    let reqs = server.requests_for("base.tar.xz");
    assert_eq!(
        reqs.last().unwrap().range.as_deref(),
        Some("bytes=50000-"),
        "{reqs:?}"
    );
}

#[test]
fn stall_before_answering_longer_than_the_timeout_fails_naming_the_timeout() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(
        Some("etc.tar.xz"),
        Fault::StallBefore(Duration::from_millis(1500)),
        None,
    );
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.retry.attempts_per_mirror = 2;
    let err = mkimage::fetch::Fetcher::new(opts)
        .unwrap()
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["etc.tar.xz"]))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("binary/sets/etc.tar.xz"), "{msg}");
    assert!(
        msg.contains("timed out") || msg.contains("timeout"),
        "{msg}"
    );
    assert!(msg.contains("after 2 attempts"), "{msg}");
}

#[test]
fn corrupted_bytes_fail_naming_file_and_both_digests_and_leave_no_cache_entry() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    server.add_fault(Some("base.tar.xz"), Fault::Corrupt { offset: 1234 }, None);
    let cache = tempfile::tempdir().unwrap();
    let err = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap_err();
    let msg = format!("{err:#}");
    let mut bad = m.bytes("base.tar.xz").to_vec();
    bad[1234] ^= 0xFF;
    assert!(msg.contains("checksum mismatch for base.tar.xz"), "{msg}");
    assert!(
        msg.contains(&sha512_hex(m.bytes("base.tar.xz"))),
        "expected digest in: {msg}"
    );
    assert!(msg.contains(&sha512_hex(&bad)), "actual digest in: {msg}");
    let objects = files_in(cache.path(), "objects");
    assert!(
        objects
            .iter()
            .all(|f| !f.contains(&sha512_hex(m.bytes("base.tar.xz")))
                && !f.contains(&sha512_hex(&bad))),
        "{objects:?}"
    );
    assert!(files_in(cache.path(), "partial").is_empty());
    assert!(files_in(cache.path(), "tmp").is_empty());
}

#[test]
fn corrupted_first_mirror_falls_back_to_the_second() {
    let m = netbsd_mirror();
    let one = TestServer::start(m.dir.path()).unwrap();
    let two = TestServer::start(m.dir.path()).unwrap();
    one.add_fault(Some("etc.tar.xz"), Fault::Corrupt { offset: 10 }, None);
    let mirrors = vec![
        format!("{}pub/NetBSD/", one.url()),
        format!("{}pub/NetBSD/", two.url()),
    ];
    let cache = tempfile::tempdir().unwrap();
    let got = fetcher(cache.path())
        .fetch_release_files(&mirrors, &layout(), &names(&["etc.tar.xz"]))
        .unwrap();
    assert_eq!(std::fs::read(&got[0].path).unwrap(), m.bytes("etc.tar.xz"));
    assert_eq!(two.requests_for("etc.tar.xz").len(), 1);
}

#[test]
fn a_set_missing_from_sha512_is_refused() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    std::fs::write(m.sets_path().join("games.tar.xz"), b"unlisted").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let err = fetcher(cache.path())
        .fetch_release_files(
            &mirror_url(&server),
            &layout(),
            &names(&["base.tar.xz", "games.tar.xz"]),
        )
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("games.tar.xz not listed in"), "{msg}");
    assert!(msg.contains("SHA512"), "{msg}");
    assert!(server.requests_for("games.tar.xz").is_empty());
    assert!(
        server.requests_for("base.tar.xz").is_empty(),
        "nothing fetched before the refusal"
    );
}

#[test]
fn malformed_sha512_line_is_reported_with_url_and_line_number() {
    let m = netbsd_mirror();
    let server = TestServer::start(m.dir.path()).unwrap();
    let mut text = std::fs::read_to_string(m.sets_path().join("SHA512")).unwrap();
    text.push_str("SHA512 (kern-GENERIC.tar.xz) = 1234\n");
    std::fs::write(m.sets_path().join("SHA512"), text).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let err = fetcher(cache.path())
        .fetch_release_files(&mirror_url(&server), &layout(), &names(&["base.tar.xz"]))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("binary/sets/SHA512 line 3"), "{msg}");
}

#[test]
fn a_server_that_is_not_listening_fails_after_retries_naming_the_url() {
    // Bind then drop a listener: nothing listens on that port afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cache = tempfile::tempdir().unwrap();
    let mirror = format!("http://127.0.0.1:{port}/pub/NetBSD/");
    let err = fetcher(cache.path())
        .fetch_release_files(&[mirror], &layout(), &names(&["base.tar.xz"]))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!(
            "http://127.0.0.1:{port}/pub/NetBSD/NetBSD-10.1/amd64/binary/sets/SHA512"
        )),
        "{msg}"
    );
    assert!(msg.contains("after 4 attempts"), "{msg}");
    assert!(msg.to_lowercase().contains("connect"), "{msg}");
}

#[test]
fn https_mirror_goes_through_rustls_and_a_failed_handshake_names_the_url() {
    let m = netbsd_mirror();
    // A plain-HTTP server: the TLS handshake must fail, after retries.
    let server = TestServer::start(m.dir.path()).unwrap();
    let https = server.url().replace("http://", "https://");
    let cache = tempfile::tempdir().unwrap();
    let err = fetcher(cache.path())
        .fetch_release_files(
            &[format!("{https}pub/NetBSD/")],
            &layout(),
            &names(&["base.tar.xz"]),
        )
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&format!(
            "{https}pub/NetBSD/NetBSD-10.1/amd64/binary/sets/SHA512"
        )),
        "{msg}"
    );
    assert!(msg.contains("after 4 attempts"), "{msg}");
    assert!(
        server.requests().is_empty(),
        "no HTTP request line reached the server"
    );
}
