//! A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) serving a
//! directory tree, with a request log and switchable faults, for testing
//! downloads against the failures real mirrors produce: closed
//! connections, 503s, truncated bodies, stalls, corrupted bytes, and
//! `Range: bytes=N-` resumption (206 / 416).
//!
//! Written on `std::net` rather than `tiny_http`: tiny_http owns the
//! sockets, so a handler can neither close a keep-alive connection in the
//! middle of a body (a truncated transfer) nor drop a connection before
//! reading it; both are faults this server must produce.
//!
//! Faults can be set or cleared at any time, for one path or for all, for
//! a number of requests or for ever. Dropping the server stops the accept
//! thread and every connection thread and joins them; stalls sleep in
//! short steps so that this stays bounded in time.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One thing the server can do wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without answering (after reading the request).
    Close,
    /// Answer `503 Service Unavailable`.
    Unavailable,
    /// Answer with another status and an empty body (e.g. 404, 500).
    Status(u16),
    /// Send the headers with the full `Content-Length`, then only this many
    /// body bytes, then close the connection.
    Truncate { bytes: u64 },
    /// Wait this long before answering.
    StallBefore(Duration),
    /// Send `after` body bytes, then wait `pause`, then the rest.
    StallDuring { after: u64, pause: Duration },
    /// Invert the byte at this offset of the file (when it is sent).
    Corrupt { offset: u64 },
}

/// What the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// The request path, e.g. `/pub/NetBSD/NetBSD-10.1/amd64/binary/sets/SHA512`.
    pub path: String,
    /// The `Range` header, if the client sent one.
    pub range: Option<String>,
    /// The status answered (0 when the connection was closed instead).
    pub status: u16,
}

#[derive(Debug)]
struct Rule {
    path: Option<String>,
    fault: Fault,
    remaining: Option<u32>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    refuse_connections: u32,
    connections: u64,
    log: Vec<LoggedRequest>,
}

struct Shared {
    root: PathBuf,
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not hide the log from the test.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The server; serving stops when it is dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// Longest a connection waits for its next request.
const IDLE: Duration = Duration::from_secs(5);
const STEP: Duration = Duration::from_millis(20);

impl TestServer {
    /// Serve `root` on 127.0.0.1 at an ephemeral port.
    pub fn start(root: &Path) -> std::io::Result<TestServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            state: Mutex::new(State::default()),
            stop: AtomicBool::new(false),
        });
        let workers: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (s2, w2) = (shared.clone(), workers.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let refuse = {
                    let mut st = s2.state();
                    st.connections += 1;
                    if st.refuse_connections > 0 {
                        st.refuse_connections -= 1;
                        true
                    } else {
                        false
                    }
                };
                if refuse {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                let s3 = s2.clone();
                let h = std::thread::spawn(move || serve_connection(&s3, stream));
                let mut w = w2.lock().unwrap_or_else(|e| e.into_inner());
                w.retain(|h| !h.is_finished());
                w.push(h);
            }
        });
        Ok(TestServer {
            addr,
            shared,
            accept: Some(accept),
            workers,
        })
    }

    /// `http://127.0.0.1:<port>/` — the served directory's root.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Accept and immediately close the next `n` connections.
    pub fn refuse_connections(&self, n: u32) {
        self.shared.state().refuse_connections = n;
    }

    /// Apply `fault` to requests whose path ends with `path_suffix` (all
    /// requests when `None`), the next `times` times (for ever when `None`).
    /// Rules are checked in the order they were added.
    pub fn add_fault(&self, path_suffix: Option<&str>, fault: Fault, times: Option<u32>) {
        self.shared.state().rules.push(Rule {
            path: path_suffix.map(str::to_string),
            fault,
            remaining: times,
        });
    }

    /// Remove every fault (connection refusals included).
    pub fn clear_faults(&self) {
        let mut st = self.shared.state();
        st.rules.clear();
        st.refuse_connections = 0;
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.state().log.clone()
    }

    /// Number of requests so far.
    pub fn request_count(&self) -> usize {
        self.shared.state().log.len()
    }

    /// Number of TCP connections accepted so far (refused ones included).
    pub fn connection_count(&self) -> u64 {
        self.shared.state().connections
    }

    /// Requests whose path ends with `suffix`.
    pub fn requests_for(&self, suffix: &str) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }

    /// Forget the log (faults stay).
    pub fn clear_log(&self) {
        self.shared.state().log.clear();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for h in workers {
            let _ = h.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    range: Option<String>,
    close: bool,
}

/// Read one request head; `None` at end of connection or on shutdown.
fn read_request(shared: &Shared, reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head: Vec<String> = Vec::new();
    let started = Instant::now();
    let mut line = String::new();
    loop {
        if shared.stop.load(Ordering::SeqCst) || started.elapsed() > IDLE {
            return None;
        }
        match reader.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => {
                if !line.ends_with('\n') {
                    continue; // timed out mid-line; keep reading
                }
                let l = line.trim_end().to_string();
                line.clear();
                if l.is_empty() {
                    if head.is_empty() {
                        continue;
                    }
                    break;
                }
                head.push(l);
                if head.len() > 100 {
                    return None;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
    let mut parts = head[0].split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let version = parts.next().unwrap_or("HTTP/1.0");
    let mut range = None;
    let mut close = version == "HTTP/1.0";
    for h in &head[1..] {
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "range" {
                range = Some(v.to_string());
            } else if k == "connection" && v.eq_ignore_ascii_case("close") {
                close = true;
            }
        }
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    Some(Request {
        method,
        path,
        range,
        close,
    })
}

fn take_fault(st: &mut State, path: &str) -> Option<Fault> {
    let idx = st.rules.iter().position(|r| {
        r.remaining != Some(0) && r.path.as_deref().is_none_or(|p| path.ends_with(p))
    })?;
    let rule = &mut st.rules[idx];
    if let Some(n) = rule.remaining.as_mut() {
        *n -= 1;
    }
    Some(rule.fault.clone())
}

fn sleep_bounded(shared: &Shared, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(STEP.min(until.saturating_duration_since(Instant::now())));
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_head(
    w: &mut TcpStream,
    status: u16,
    len: u64,
    extra: &[String],
    close: bool,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {len}\r\n",
        reason(status)
    );
    for e in extra {
        head.push_str(e);
        head.push_str("\r\n");
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())
}

/// Resolve a request path under the root; `None` for anything unsafe.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn serve_connection(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    // A client that stops reading must not keep the thread (and Drop) waiting.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(shared, &mut reader) {
        let fault = take_fault(&mut shared.state(), &req.path);
        let status = respond(shared, &mut writer, &req, fault.as_ref()).unwrap_or_default();
        shared.state().log.push(LoggedRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            range: req.range.clone(),
            status,
        });
        if status == 0
            || req.close
            || matches!(fault, Some(Fault::Truncate { .. }) | Some(Fault::Close))
        {
            break;
        }
    }
    let _ = writer.shutdown(std::net::Shutdown::Both);
}

/// Answer one request; returns the status sent, 0 if the connection was
/// closed without an answer.
fn respond(
    shared: &Shared,
    w: &mut TcpStream,
    req: &Request,
    fault: Option<&Fault>,
) -> std::io::Result<u16> {
    match fault {
        Some(Fault::Close) => return Ok(0),
        Some(Fault::Unavailable) => {
            write_head(w, 503, 0, &[], false)?;
            return Ok(503);
        }
        Some(Fault::Status(s)) => {
            write_head(w, *s, 0, &[], false)?;
            return Ok(*s);
        }
        Some(Fault::StallBefore(d)) => sleep_bounded(shared, *d),
        _ => {}
    }
    if req.method != "GET" && req.method != "HEAD" {
        write_head(w, 400, 0, &[], true)?;
        return Ok(400);
    }
    let file = resolve(&shared.root, &req.path)
        .filter(|p| p.is_file())
        .and_then(|p| std::fs::File::open(p).ok());
    let Some(mut file) = file else {
        write_head(w, 404, 0, &[], false)?;
        return Ok(404);
    };
    let len = file.metadata()?.len();
    let mut start = 0u64;
    let mut status = 200;
    let mut extra = Vec::new();
    if let Some(r) = req.range.as_deref().and_then(|r| r.strip_prefix("bytes="))
        && let Some(Ok(n)) = r.strip_suffix('-').map(|n| n.trim().parse::<u64>())
    {
        if n >= len {
            write_head(w, 416, 0, &[format!("Content-Range: bytes */{len}")], false)?;
            return Ok(416);
        }
        start = n;
        status = 206;
        extra.push(format!("Content-Range: bytes {n}-{}/{len}", len - 1));
    }
    write_head(w, status, len - start, &extra, false)?;
    if req.method == "HEAD" {
        return Ok(status);
    }
    file.seek(SeekFrom::Start(start))?;
    let limit = match fault {
        Some(Fault::Truncate { bytes }) => (*bytes).min(len - start),
        _ => len - start,
    };
    let mut sent = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut stalled = false;
    while sent < limit {
        let mut want = ((limit - sent) as usize).min(buf.len());
        if let Some(Fault::StallDuring { after, .. }) = fault
            && !stalled
            && sent < *after
        {
            want = want.min((*after - sent) as usize);
        }
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        if let Some(Fault::Corrupt { offset }) = fault {
            let at = start + sent;
            if *offset >= at && *offset < at + n as u64 {
                buf[(*offset - at) as usize] ^= 0xFF;
            }
        }
        w.write_all(&buf[..n])?;
        sent += n as u64;
        if let Some(Fault::StallDuring { after, pause }) = fault
            && !stalled
            && sent >= *after
        {
            stalled = true;
            w.flush()?;
            sleep_bounded(shared, *pause);
        }
    }
    w.flush()?;
    Ok(status)
}
