//! Shared helpers for the FreeBSD tests: a tiny synthetic mirror and the
//! independent tools that check what we write.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use mkimage::testkit::mirror::{FreebsdMirror, FreebsdMirrorOptions, MirrorSize, generate_freebsd};

/// A tiny mirror from `seed` under `dir`.
pub fn mirror(dir: &Path, seed: u64) -> FreebsdMirror {
    generate_freebsd(dir, &FreebsdMirrorOptions::new(MirrorSize::Tiny, seed)).unwrap()
}

pub fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "{name} is not installed: run scripts/setup");
    Command::new(name)
}

/// Run `cmd`; its stdout and stderr, or a panic naming the command.
pub fn run(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
