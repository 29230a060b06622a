//! One HTTP(S) download attempt with reqwest's blocking client over rustls
//! (ring provider): GET into a partial file, resuming with `Range:
//! bytes=N-` when the file already holds N bytes. Classifies each failure
//! as transient (retry) or permanent (next mirror) for [`super::retry`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, RANGE};

use super::retry::RetryPolicy;
use crate::progress::Task;

/// Why one attempt failed.
#[derive(Debug, Clone)]
pub struct AttemptError {
    /// Worth retrying on the same mirror (connection error, timeout, 5xx,
    /// short body); otherwise go to the next mirror.
    pub transient: bool,
    pub cause: String,
}

impl AttemptError {
    fn transient(cause: impl Into<String>) -> Self {
        AttemptError {
            transient: true,
            cause: cause.into(),
        }
    }
    fn permanent(cause: impl Into<String>) -> Self {
        AttemptError {
            transient: false,
            cause: cause.into(),
        }
    }
}

/// The error and all its sources on one line ("error sending request:
/// connection refused").
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let msg = e.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        cur = e.source();
    }
    s
}

/// A configured HTTP client.
pub struct Http {
    client: reqwest::blocking::Client,
}

impl Http {
    pub fn new(policy: &RetryPolicy) -> anyhow::Result<Http> {
        // Installing twice is harmless: the first provider stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("mkimage/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(policy.connect_timeout)
            // The blocking client applies this to each read of the body, so
            // it bounds a stall, not the length of a large transfer.
            .timeout(policy.read_timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("setting up the HTTP client: {}", error_chain(&e)))?;
        Ok(Http { client })
    }

    /// Download `url` into `partial`, appending to what it holds already
    /// (asking for the rest with `Range`). On success the file holds the
    /// whole resource and its length is returned.
    pub fn download_once(
        &self,
        url: &str,
        partial: &Path,
        label: &str,
    ) -> Result<u64, AttemptError> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(false)
            .write(true)
            .read(true)
            .truncate(false)
            .open(partial)
            .map_err(|e| AttemptError::permanent(format!("opening {}: {e}", partial.display())))?;
        let have = file
            .seek(SeekFrom::End(0))
            .map_err(|e| AttemptError::permanent(format!("reading {}: {e}", partial.display())))?;
        let mut req = self.client.get(url);
        if have > 0 {
            req = req.header(RANGE, format!("bytes={have}-"));
        }
        let mut resp = req.send().map_err(|e| {
            // A URL reqwest cannot even build a request for, or a redirect
            // loop, will not get better by trying again.
            if e.is_builder() || e.is_redirect() {
                AttemptError::permanent(error_chain(&e))
            } else {
                AttemptError::transient(error_chain(&e))
            }
        })?;
        let status = resp.status();
        let mut offset = 0u64;
        let mut expect: Option<u64> = resp.content_length();
        match status {
            StatusCode::PARTIAL_CONTENT if have > 0 => {
                let start = resp
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(content_range_start);
                if start != Some(have) {
                    truncate(&mut file, partial)?;
                    return Err(AttemptError::transient(format!(
                        "server resumed at the wrong offset ({start:?} instead of {have}); starting over"
                    )));
                }
                offset = have;
            }
            StatusCode::OK => {
                truncate(&mut file, partial)?;
            }
            StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
                let total = resp
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes */"))
                    .and_then(|v| v.trim().parse::<u64>().ok());
                if total == Some(have) {
                    return Ok(have);
                }
                truncate(&mut file, partial)?;
                return Err(AttemptError::transient(
                    "server refused to resume (416); starting over",
                ));
            }
            s if s.is_server_error() => {
                return Err(AttemptError::transient(format!("HTTP status {s}")));
            }
            s => return Err(AttemptError::permanent(format!("HTTP status {s}"))),
        }
        // Progress: a bar with the whole file's size on a terminal, a
        // start and a finish line otherwise.
        let task = Task::new(
            format!("fetching {label}"),
            expect.map(|l| offset + l),
            true,
        );
        task.set_position(offset);
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0u64;
        loop {
            let n = match resp.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = file.flush();
                    return Err(AttemptError::transient(format!(
                        "transfer broke off after {} bytes: {}",
                        offset + got,
                        error_chain(&e)
                    )));
                }
            };
            file.write_all(&buf[..n]).map_err(|e| {
                AttemptError::permanent(format!("writing {}: {e}", partial.display()))
            })?;
            got += n as u64;
            task.inc(n as u64);
        }
        file.flush()
            .map_err(|e| AttemptError::permanent(format!("writing {}: {e}", partial.display())))?;
        if let Some(len) = expect.take()
            && got < len
        {
            return Err(AttemptError::transient(format!(
                "short body: got {got} of {len} bytes"
            )));
        }
        task.finish(crate::progress::human_bytes(offset + got));
        Ok(offset + got)
    }
}

fn truncate(file: &mut File, path: &Path) -> Result<(), AttemptError> {
    file.set_len(0)
        .and_then(|_| file.seek(SeekFrom::Start(0)).map(|_| ()))
        .map_err(|e| AttemptError::permanent(format!("truncating {}: {e}", path.display())))
}

/// `bytes 100-199/200` → 100.
fn content_range_start(v: &str) -> Option<u64> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (start, _) = rest.split_once('-')?;
    start.trim().parse().ok()
}
