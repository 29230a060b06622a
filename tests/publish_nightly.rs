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

fn qcow2(path: &Path, tag: &str) {
    let raw = path.with_extension("raw");
    let mut bytes = vec![0u8; 1 << 20];
    bytes[..tag.len()].copy_from_slice(tag.as_bytes());
    std::fs::write(&raw, bytes).unwrap();
    let st = Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", "qcow2"])
        .arg(&raw)
        .arg(path)
        .status()
        .expect("qemu-img missing: run scripts/setup");
    assert!(st.success());
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

/// Stands in for the build options the builder does not have yet
/// (`--print-inputs-digest`, `--manifest-out`): prints the digest in
/// $DIGEST, "builds" a qcow2 with qemu-img, records each build in
/// $BUILDS; everything else (publish) goes to the real mkimage.
const FAKE_BUILD: &str = r#"
case "$1 $2" in
netbsd\ --help) echo "--print-inputs-digest --manifest-out"; exit 0 ;;
esac
if [ "$1" = netbsd ]; then
	for a in "$@"; do [ "$a" = --print-inputs-digest ] && { echo "$DIGEST"; exit 0; }; done
	out= man=
	while [ $# -gt 0 ]; do
		case $1 in -o) out=$2; shift ;; --manifest-out) man=$2; shift ;; esac
		shift
	done
	echo build >>"$BUILDS"
	head -c 1048576 /dev/zero >"$out.raw"
	printf '%s' "$DIGEST" | dd of="$out.raw" conv=notrunc 2>/dev/null
	qemu-img convert -q -f raw -O qcow2 "$out.raw" "$out" && rm "$out.raw"
	printf '{"inputs_digest": "%s"}\n' "$DIGEST" >"$man"
	exit 0
fi"#;

#[test]
fn unchanged_inputs_skip_the_build_unless_forced() {
    let site = site("netbsd 10.1 amd64\n");
    let fake = wrapper(&site, "fake-build-mkimage", FAKE_BUILD);
    let builds = site.root.join("builds");
    let run = |digest: &str, extra: &[&str]| {
        nightly(&site, &fake, extra)
            .env("DIGEST", digest)
            .env("BUILDS", &builds)
            .output()
            .unwrap()
    };
    let count = || {
        std::fs::read_to_string(&builds)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let manifest = site.images.join("netbsd/10.1/amd64/manifest.json");

    let out = run("aaaa1111", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(), 1);
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .contains("aaaa1111")
    );

    let out = run("aaaa1111", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(), 1, "an unchanged night built anyway");
    let log = std::fs::read_to_string(site.state.join("nightly.log")).unwrap();
    assert!(
        log.contains("inputs unchanged (aaaa1111): skipped"),
        "{log}"
    );
    assert!(log.contains("0 published, 1 unchanged"), "{log}");

    let out = run("aaaa1111", &["--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(), 2, "--force did not build");
    // Same inputs, same bytes: publish finds the image unchanged.
    let log = std::fs::read_to_string(site.state.join("nightly.log")).unwrap();
    assert!(
        log.contains("equals the published one: nothing published"),
        "{log}"
    );

    let out = run("bbbb2222", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(), 3);
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .contains("bbbb2222")
    );
}
