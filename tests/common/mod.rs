//! Shared by the integration tests: the synthetic mirror served over HTTP,
//! running the `mkimage` binary, and reading back what it built.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mkimage::testkit::mirror::{MirrorSize, NetbsdMirror, NetbsdMirrorOptions, generate_netbsd};
use mkimage::testkit::server::TestServer;

/// The `mkimage` binary under test.
pub fn mkimage() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mkimage"));
    c.env_remove("SOURCE_DATE_EPOCH").env_remove("MKIMAGE_SEED");
    c
}

/// Run and require success; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run (any exit status) and return stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A NetBSD image built from a freshly generated tiny mirror over HTTP.
pub struct TestImage {
    pub dir: tempfile::TempDir,
    pub mirror: NetbsdMirror,
    pub server: TestServer,
    pub qcow2: PathBuf,
    raw: PathBuf,
}

impl TestImage {
    pub fn mirror_url(&self) -> String {
        format!("{}/pub/NetBSD/", self.server.url())
    }

    /// Build with an empty package list, extra arguments appended.
    pub fn build_netbsd(extra: &[&str]) -> TestImage {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mirror");
        let mirror =
            generate_netbsd(&root, &NetbsdMirrorOptions::new(MirrorSize::Tiny, 1)).unwrap();
        let server = TestServer::start(&root).unwrap();
        let qcow2 = dir.path().join("out.qcow2");
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, "").unwrap();
        let mirror_url = format!("{}/pub/NetBSD/", server.url());
        run_ok(
            mkimage()
                .args(["-q", "netbsd", "--arch", "amd64", "--mirror", &mirror_url])
                .arg("--pkg-list")
                .arg(&empty)
                .arg("--cache-dir")
                .arg(dir.path().join("cache"))
                .arg("-o")
                .arg(&qcow2)
                .args(extra),
        );
        let raw = dir.path().join("out.raw");
        run_ok(
            Command::new("qemu-img")
                .args(["convert", "-f", "qcow2", "-O", "raw"])
                .arg(&qcow2)
                .arg(&raw),
        );
        TestImage {
            dir,
            mirror,
            server,
            qcow2,
            raw,
        }
    }

    /// Build again from the same mirror and cache into a new file.
    pub fn build_netbsd_into(&self, extra: &[&str]) -> PathBuf {
        let out = self
            .dir
            .path()
            .join(format!("again-{}.qcow2", std::process::id()));
        let empty = self.dir.path().join("empty.txt");
        run_ok(
            mkimage()
                .args([
                    "-q",
                    "netbsd",
                    "--arch",
                    "amd64",
                    "--mirror",
                    &self.mirror_url(),
                ])
                .arg("--pkg-list")
                .arg(&empty)
                .arg("--cache-dir")
                .arg(self.dir.path().join("cache"))
                .arg("-o")
                .arg(&out)
                .args(extra),
        );
        out
    }

    pub fn raw(&self) -> &Path {
        &self.raw
    }

    /// A file's bytes as the named set ships it, extracted by GNU tar.
    pub fn set_file(&self, set: &str, path: &str) -> Vec<u8> {
        let archive = &self.mirror.set(set).expect("set generated").path;
        let out = Command::new("tar")
            .arg("-xJOf")
            .arg(archive)
            .arg(format!("./{path}"))
            .output()
            .expect("tar runs");
        assert!(out.status.success(), "{path} not in set {set}");
        out.stdout
    }

    /// Byte offset of the root (FFS) partition, from sfdisk.
    pub fn root_offset(&self) -> u64 {
        let dump = stdout_of(Command::new("sfdisk").arg("-d").arg(&self.raw));
        let line = dump
            .lines()
            .find(|l| l.contains("49F48D5A-B10E-11DC-B99B-0019D1879648"))
            .expect("FFS partition");
        let start: u64 = line
            .split("start=")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse().ok())
            .expect("start sector");
        start * 512
    }
}
