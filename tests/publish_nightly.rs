//! `scripts/nightly-refresh` run with /bin/sh against the real `mkimage`
//! binary: lock, failure handling, skip-if-unchanged.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const MKIMAGE: &str = env!("CARGO_BIN_EXE_mkimage");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/nightly-refresh");

struct Site {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    images: PathBuf,
    state: PathBuf,
    config: PathBuf,
}

fn site(config: &str) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let images = root.join("images");
    let state = root.join("state");
    std::fs::create_dir_all(&images).unwrap();
    let config_path = root.join("nightly.conf");
    std::fs::write(&config_path, config).unwrap();
    Site {
        _tmp: tmp,
        root,
        images,
        state,
        config: config_path,
    }
}

fn nightly(site: &Site, mkimage: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg(SCRIPT)
        .arg("-c")
        .arg(&site.config)
        .arg("-d")
        .arg(&site.images)
        .arg("-s")
        .arg(&site.state)
        .args(extra)
        .env("MKIMAGE", mkimage)
        // Whatever `mkimage netbsd` can do one day, offline with an empty
        // cache it cannot build: a real build failure.
        .env(
            "MKIMAGE_BUILD_OPTS",
            format!(
                "--offline --cache-dir {}",
                site.root.join("empty-cache").display()
            ),
        );
    cmd
}

/// A small valid disk image (GPT, ESP, FFS holding `tag`) at `path`.
fn qcow2(path: &Path, tag: &str) {
    mkimage::testkit::disk::tiny_disk(path, mkimage::disk::Format::Qcow2, tag).unwrap();
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn publish_good(site: &Site) -> PathBuf {
    let img = site.root.join("good.qcow2");
    qcow2(&img, "good");
    let out = Command::new(MKIMAGE)
        .arg("publish")
        .arg(&img)
        .arg("--images-dir")
        .arg(&site.images)
        .args(["--os", "netbsd", "--release", "10.1", "--arch", "amd64"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    site.images.join("netbsd/10.1/amd64/root.img.qcow2")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A shell script standing in front of `mkimage` (`body` runs first).
fn wrapper(site: &Site, name: &str, body: &str) -> PathBuf {
    let path = site.root.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\nexec {MKIMAGE} \"$@\"\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_failed_build_leaves_the_published_image_untouched_and_exits_non_zero() {
    let site = site("# nightly\nnetbsd 10.1 amd64\n");
    let published = publish_good(&site);
    let before = sha256sum(&published);
    let out = nightly(&site, Path::new(MKIMAGE), &[]).output().unwrap();
    let stderr = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line per failed image: {stderr}"
    );
    assert!(
        stderr.contains("netbsd 10.1 amd64: build failed"),
        "{stderr}"
    );
    assert_eq!(sha256sum(&published), before);
    let log = std::fs::read_to_string(site.state.join("nightly.log")).unwrap();
    // The script's own lines carry a UTC timestamp.
    for line in log.lines().filter(|l| l.contains("netbsd 10.1 amd64")) {
        assert!(line.len() > 21 && &line[19..21] == "Z ", "{line}");
    }
    assert!(log.contains("Z netbsd 10.1 amd64: building"), "{log}");
    assert!(
        !site.state.join("nightly.lock").exists(),
        "lock left behind"
    );
    assert!(
        !site.images.join(".nightly-work").exists(),
        "work dir left behind"
    );
}

#[test]
fn a_second_run_while_one_holds_the_lock_is_refused_naming_the_holder() {
    let site = site("netbsd 10.1 amd64\n");
    let slow = wrapper(&site, "slow-mkimage", "sleep 3");
    let mut first = nightly(&site, &slow, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = site.state.join("nightly.lock/pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&pid_file).map_or(true, |p| p.trim().is_empty()) {
        if Instant::now() > deadline {
            let _ = first.kill();
            let _ = first.wait();
            panic!("the first run never took the lock");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = nightly(&site, Path::new(MKIMAGE), &[]).output().unwrap();
    let first_status = first.wait().unwrap();
    let stderr = text(&second);
    assert_eq!(second.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.id())), "{stderr}");
    assert!(stderr.contains("another run holds"), "{stderr}");
    // The first run carried on (and failed its build) undisturbed.
    assert_eq!(first_status.code(), Some(1));
    assert!(!site.state.join("nightly.lock").exists());
}

#[test]
fn a_stale_lock_of_a_dead_run_is_taken_over() {
    let site = site("netbsd 10.1 amd64\n");
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    std::fs::create_dir_all(site.state.join("nightly.lock")).unwrap();
    std::fs::write(site.state.join("nightly.lock/pid"), format!("{dead_pid}\n")).unwrap();
    let out = nightly(&site, Path::new(MKIMAGE), &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let log = std::fs::read_to_string(site.state.join("nightly.log")).unwrap();
    assert!(log.contains("removing stale lock"), "{log}");
    assert!(log.contains("netbsd 10.1 amd64: building"), "{log}");
}

// Skipping unchanged inputs with the real build: tests/netbsd_nightly.rs.
