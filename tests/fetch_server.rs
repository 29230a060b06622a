//! The test HTTP server itself: Range answers, the request log, and a
//! bounded shutdown even while a response is stalled.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mkimage::testkit::server::{Fault, TestServer};

fn get(server: &TestServer, path: &str, range: Option<&str>) -> String {
    String::from_utf8_lossy(&get_bytes(server, path, range)).into_owned()
}

fn get_bytes(server: &TestServer, path: &str, range: Option<&str>) -> Vec<u8> {
    let addr = server
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut s = TcpStream::connect(addr).unwrap();
    let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{range}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn range_requests_get_206_or_416_and_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"0123456789").unwrap();
    let server = TestServer::start(dir.path()).unwrap();
    let full = get(&server, "/f", None);
    assert!(
        full.starts_with("HTTP/1.1 200") && full.ends_with("\r\n\r\n0123456789"),
        "{full}"
    );
    let part = get(&server, "/f", Some("bytes=4-"));
    assert!(part.starts_with("HTTP/1.1 206"), "{part}");
    assert!(
        part.contains("Content-Range: bytes 4-9/10") && part.ends_with("456789"),
        "{part}"
    );
    let past = get(&server, "/f", Some("bytes=10-"));
    assert!(
        past.starts_with("HTTP/1.1 416") && past.contains("bytes */10"),
        "{past}"
    );
    assert!(get(&server, "/../etc/passwd", None).starts_with("HTTP/1.1 404"));
    let log = server.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(
        (log[1].range.as_deref(), log[1].status),
        (Some("bytes=4-"), 206)
    );
    assert_eq!(log[0].range, None);
}

#[test]
fn faults_apply_per_path_for_the_given_count_and_can_be_cleared() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"aaaa").unwrap();
    std::fs::write(dir.path().join("b"), b"bbbb").unwrap();
    let server = TestServer::start(dir.path()).unwrap();
    server.add_fault(Some("/a"), Fault::Unavailable, Some(1));
    server.add_fault(None, Fault::Corrupt { offset: 0 }, None);
    assert!(get(&server, "/a", None).starts_with("HTTP/1.1 503"));
    let corrupt = get_bytes(&server, "/a", None);
    assert!(
        corrupt.ends_with(&[b'a' ^ 0xFF, b'a', b'a', b'a']),
        "second request: corrupt rule"
    );
    let corrupt = get_bytes(&server, "/b", None);
    assert!(corrupt.ends_with(&[b'b' ^ 0xFF, b'b', b'b', b'b']));
    server.clear_faults();
    assert!(get(&server, "/b", None).ends_with("bbbb"));
    server.add_fault(Some("/b"), Fault::Truncate { bytes: 2 }, Some(1));
    let cut = get(&server, "/b", None);
    assert!(
        cut.contains("Content-Length: 4") && cut.ends_with("\r\n\r\nbb"),
        "{cut}"
    );
}

#[test]
fn dropping_the_server_while_a_response_stalls_returns_promptly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let server = TestServer::start(dir.path()).unwrap();
    server.add_fault(None, Fault::StallBefore(Duration::from_secs(30)), None);
    let addr = server
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET /f HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
