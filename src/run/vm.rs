//! A running QEMU process: its serial console kept as a bounded tail (and
//! optionally a log file), its standard error watched for KVM failures,
//! and a guarantee that it is stopped — on every return path, on a panic
//! (`Drop`), and even when `mkimage` itself is killed: a tiny `sh`
//! watchdog holds a pipe from us and kills QEMU when that pipe closes.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::qemu::Serial;
use crate::progress;

/// How much of the serial console is remembered for error messages.
const CONSOLE_KEEP: usize = 64 * 1024;
/// How much of QEMU's standard error is remembered.
const STDERR_KEEP: usize = 16 * 1024;
/// How long QEMU gets to exit after SIGTERM before it is killed.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// Messages QEMU prints when hardware virtualisation is present but does
/// not work (nested virtualisation without the needed features, missing
/// permissions); lower case.
const KVM_FAILURES: &[&str] = &[
    "kvm internal error",
    "failed to initialize kvm",
    "could not access kvm",
    "kvm run failed",
    "kvm: entry failed",
];

#[derive(Default)]
struct Shared {
    console: Vec<u8>,
    stderr: String,
    kvm_failure: Option<String>,
}

fn keep_tail(buf: &mut Vec<u8>, keep: usize) {
    if buf.len() > keep {
        let cut = buf.len() - keep;
        buf.drain(..cut);
    }
}

/// A QEMU child process under supervision.
pub struct Vm {
    child: Child,
    watchdog: Option<(Child, ChildStdin)>,
    shared: Arc<Mutex<Shared>>,
    readers: Vec<JoinHandle<()>>,
    exit: Option<ExitStatus>,
}

impl Vm {
    /// Start `args` (program first). With [`Serial::Captured`] QEMU's
    /// standard output (the serial port) is read by us and appended to
    /// `log` when given; with [`Serial::Terminal`] it stays on the terminal.
    pub fn start(args: &[OsString], serial: Serial, log: Option<File>) -> Result<Vm> {
        let (program, rest) = args.split_first().context("empty QEMU command line")?;
        let mut cmd = Command::new(program);
        cmd.args(rest).stderr(Stdio::piped());
        match serial {
            Serial::Captured => {
                cmd.stdin(Stdio::null()).stdout(Stdio::piped());
            }
            Serial::Terminal => {
                cmd.stdin(Stdio::inherit()).stdout(Stdio::inherit());
            }
        }
        let mut child = cmd.spawn().with_context(|| {
            format!(
                "starting {} (install QEMU: Debian qemu-system-x86, pkgsrc/ports/Homebrew qemu)",
                program.to_string_lossy()
            )
        })?;
        let watchdog = spawn_watchdog(child.id());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            let shared = Arc::clone(&shared);
            readers.push(std::thread::spawn(move || read_console(out, log, &shared)));
        }
        if let Some(err) = child.stderr.take() {
            let shared = Arc::clone(&shared);
            readers.push(std::thread::spawn(move || read_stderr(err, &shared)));
        }
        Ok(Vm {
            child,
            watchdog,
            shared,
            readers,
            exit: None,
        })
    }

    /// The exit status once QEMU has exited, without blocking.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().context("waiting for QEMU")?;
        }
        Ok(self.exit)
    }

    /// QEMU's message if it reported that KVM does not work.
    pub fn kvm_failure(&self) -> Option<String> {
        self.shared.lock().ok().and_then(|s| s.kvm_failure.clone())
    }

    /// The last `lines` non-empty lines of the serial console, with
    /// terminal escape sequences removed.
    pub fn console_tail(&self, lines: usize) -> String {
        let bytes = self
            .shared
            .lock()
            .map(|s| s.console.clone())
            .unwrap_or_default();
        tail_lines(&bytes, lines)
    }

    /// What QEMU printed on standard error (the last few KiB).
    pub fn stderr_text(&self) -> String {
        self.shared
            .lock()
            .map(|s| s.stderr.clone())
            .unwrap_or_default()
    }

    /// Stop QEMU (the disk is `snapshot=on`: nothing to save): SIGTERM so
    /// that it restores the terminal it may have put in raw mode, SIGKILL
    /// if it is still there after [`TERM_GRACE`]; reap it and the watchdog
    /// and wait for the output readers. Idempotent.
    pub fn stop(&mut self) {
        if self.exit.is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + TERM_GRACE;
            while Instant::now() < deadline {
                if let Ok(Some(status)) = self.child.try_wait() {
                    self.exit = Some(status);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if self.exit.is_none() {
            let _ = self.child.kill();
            if let Ok(status) = self.child.wait() {
                self.exit = Some(status);
            }
        }
        // QEMU is reaped: SIGKILL the watchdog so that it never runs its
        // `kill` against a pid that might be reused.
        if let Some((mut dog, stdin)) = self.watchdog.take() {
            let _ = dog.kill();
            let _ = dog.wait();
            drop(stdin);
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `sh` waits on a pipe only we write to; if we die (even by SIGKILL) the
/// pipe closes, `read` returns and QEMU is killed.
fn spawn_watchdog(pid: u32) -> Option<(Child, ChildStdin)> {
    let spawned = Command::new("/bin/sh")
        .arg("-c")
        .arg("read _line; kill -9 \"$1\" 2>/dev/null")
        .arg("mkimage-run-watchdog")
        .arg(pid.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(mut dog) => {
            let stdin = dog.stdin.take()?;
            Some((dog, stdin))
        }
        Err(err) => {
            progress::warn(format!(
                "cannot start the /bin/sh watchdog ({err}): if mkimage is killed, QEMU \
                 (pid {pid}) keeps running"
            ));
            None
        }
    }
}

fn read_console(mut out: impl Read, mut log: Option<File>, shared: &Mutex<Shared>) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match out.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(file) = log.as_mut()
            && file.write_all(&buf[..n]).is_err()
        {
            log = None;
        }
        if let Ok(mut s) = shared.lock() {
            s.console.extend_from_slice(&buf[..n]);
            keep_tail(&mut s.console, CONSOLE_KEEP);
        }
    }
}

fn read_stderr(err: impl Read, shared: &Mutex<Shared>) {
    for line in BufReader::new(err).split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        if line.is_empty() {
            continue;
        }
        if let Ok(mut s) = shared.lock() {
            // After a KVM failure QEMU dumps the CPU registers: only with -v;
            // "terminating on signal 15" is our own stop.
            if s.kvm_failure.is_none() && !line.contains("terminating on signal") {
                progress::info(format!("qemu: {line}"));
            } else {
                progress::debug(format!("qemu: {line}"));
            }
            let lower = line.to_ascii_lowercase();
            if s.kvm_failure.is_none() && KVM_FAILURES.iter().any(|p| lower.contains(p)) {
                s.kvm_failure = Some(line.clone());
            }
            s.stderr.push_str(&line);
            s.stderr.push('\n');
            if s.stderr.len() > STDERR_KEEP {
                let mut cut = s.stderr.len() - STDERR_KEEP;
                while !s.stderr.is_char_boundary(cut) {
                    cut += 1;
                }
                s.stderr.drain(..cut);
            }
        }
    }
}

/// Remove ANSI/VT100 escape sequences (firmware and boot loaders clear the
/// screen and move the cursor) and carriage returns.
pub fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.next() == Some('[') {
                    // CSI: parameters and intermediates, then one final byte.
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The last `n` non-blank lines of console bytes, cleaned for a message.
pub fn tail_lines(bytes: &[u8], n: usize) -> String {
    let text = strip_escapes(&String::from_utf8_lossy(bytes));
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_tail_drops_escape_sequences_and_blank_lines() {
        let raw = b"\x1b[2J\x1b[01;01Hfirst\r\n\r\n\x1b[0msecond\r\nthird\n";
        assert_eq!(tail_lines(raw, 2), "second\nthird");
        assert_eq!(tail_lines(raw, 10), "first\nsecond\nthird");
    }
}
