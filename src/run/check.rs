//! The builds service's "settle" step: retry `ssh -p PORT build@127.0.0.1
//! echo hello world` once a second until it answers or time runs out.
//!
//! Login without a key or a password prompt: the image's sshd has
//! `PermitEmptyPasswords yes` and password authentication on, and OpenSSH's
//! server then accepts the client's first, `none`, authentication request
//! for an account whose password is empty (`userauth_none` in
//! auth2-none.c tries `auth_password(ssh, "")`). So a plain client logs in
//! without ever prompting, which is also why the service's bare `ssh` works.
//! We add `BatchMode=yes` so that a broken image fails instead of waiting
//! at a password prompt, `-F /dev/null` so the operator's ssh_config cannot
//! change what is tested, and no host-key checks (every boot of a
//! `snapshot=on` image is the same host; the key is not what is tested).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// What one attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Answered,
    /// Try again; the reason is kept for the final message.
    NotYet(String),
    /// Give up now (QEMU exited, KVM failed).
    Abort(String),
}

/// How the settle loop ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Time from the start of the loop to the answer.
    Answered(Duration),
    TimedOut {
        last_reason: String,
    },
    Aborted(String),
}

/// Call `attempt` at most once per `interval` until it answers, aborts, or
/// `timeout` has passed since the call.
pub fn settle(
    timeout: Duration,
    interval: Duration,
    mut attempt: impl FnMut(Duration) -> Result<Step>,
) -> Result<Settled> {
    let start = Instant::now();
    loop {
        let tried = Instant::now();
        let remaining = timeout.saturating_sub(start.elapsed());
        let last_reason = match attempt(remaining)? {
            Step::Answered => return Ok(Settled::Answered(start.elapsed())),
            Step::Abort(reason) => return Ok(Settled::Aborted(reason)),
            Step::NotYet(reason) => reason,
        };
        if start.elapsed() >= timeout {
            return Ok(Settled::TimedOut { last_reason });
        }
        let next = tried + interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep((next - now).min(timeout.saturating_sub(start.elapsed())));
        }
        if start.elapsed() >= timeout {
            return Ok(Settled::TimedOut { last_reason });
        }
    }
}

/// The ssh command the service runs, made non-interactive.
pub fn ssh_command(port: u16) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.args(["-F", "/dev/null", "-p"])
        .arg(port.to_string())
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
            "build@127.0.0.1",
            "echo",
            "hello",
            "world",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Run one ssh attempt, killed after `limit`.
pub fn ssh_once(port: u16, limit: Duration) -> Result<Step> {
    let mut child = ssh_command(port)
        .spawn()
        .context("running ssh (install an OpenSSH client)")?;
    let deadline = Instant::now() + limit.max(Duration::from_secs(1));
    loop {
        if child.try_wait().context("waiting for ssh")?.is_some() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Step::NotYet("ssh did not finish in time".into()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().context("reading ssh output")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.trim() == "hello world" {
        return Ok(Step::Answered);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reason = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("ssh failed without a message")
        .trim()
        .to_string();
    Ok(Step::NotYet(format!("{reason} ({})", out.status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_retries_once_a_second_until_the_answer() {
        let mut calls = 0;
        let got = settle(Duration::from_secs(10), Duration::from_millis(200), |_| {
            calls += 1;
            Ok(if calls == 3 {
                Step::Answered
            } else {
                Step::NotYet("refused".into())
            })
        })
        .unwrap();
        let Settled::Answered(after) = got else {
            panic!("{got:?}")
        };
        assert_eq!(calls, 3);
        assert!(after >= Duration::from_millis(400), "{after:?}");
    }

    #[test]
    fn settle_gives_up_after_the_timeout_with_the_last_reason() {
        let start = Instant::now();
        let got = settle(
            Duration::from_millis(700),
            Duration::from_millis(200),
            |_| {
                Ok(Step::NotYet(format!(
                    "at {:?}",
                    start.elapsed().as_millis() / 100
                )))
            },
        )
        .unwrap();
        let took = start.elapsed();
        assert!(matches!(got, Settled::TimedOut { .. }), "{got:?}");
        assert!(took >= Duration::from_millis(700) && took < Duration::from_millis(1100));
    }

    #[test]
    fn settle_stops_at_once_on_abort() {
        let got = settle(Duration::from_secs(10), Duration::from_secs(1), |_| {
            Ok(Step::Abort("qemu exited".into()))
        })
        .unwrap();
        assert_eq!(got, Settled::Aborted("qemu exited".into()));
    }
}
