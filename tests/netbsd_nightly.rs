//! The nightly refresh with the real build (issue 9): `scripts/nightly-refresh`
//! builds from the synthetic mirror over HTTP and publishes; a second night
//! with unchanged inputs builds nothing and says so; `--force` rebuilds and,
//! being seeded, produces the same bytes, so nothing new is published.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::TestImage;

fn nightly(img: &TestImage, images: &Path, state: &Path, extra: &[&str]) -> Output {
    let config = img.dir.path().join("nightly.conf");
    std::fs::write(&config, "# os release arch\nnetbsd 10.1 amd64\n").unwrap();
    let opts = format!(
        "--mirror {} --pkg-list {} --cache-dir {} --seed nightly",
        img.mirror_url(),
        img.dir.path().join("empty.txt").display(),
        img.dir.path().join("cache").display()
    );
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/nightly-refresh"))
        .arg("-c")
        .arg(&config)
        .arg("-d")
        .arg(images)
        .arg("-s")
        .arg(state)
        .args(extra)
        .env("MKIMAGE", env!("CARGO_BIN_EXE_mkimage"))
        .env("MKIMAGE_BUILD_OPTS", opts)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap()
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn second_night_with_unchanged_inputs_skips_and_forced_rebuild_publishes_nothing_new() {
    let img = TestImage::build_netbsd(&["--seed", "nightly"]);
    let images = img.dir.path().join("images");
    let state = img.dir.path().join("state");
    std::fs::create_dir_all(&images).unwrap();

    let first = nightly(&img, &images, &state, &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let published = images.join("netbsd/10.1/amd64/root.img.qcow2");
    let manifest = std::fs::read_to_string(images.join("netbsd/10.1/amd64/manifest.json")).unwrap();
    assert!(manifest.contains("\"inputs_digest\""), "{manifest}");
    assert!(manifest.contains("base.tar.xz"), "{manifest}");
    assert!(images.join("netbsd/10.1/functions").is_file());
    assert_eq!(
        std::fs::read_link(images.join("netbsd/latest")).unwrap(),
        Path::new("10.1")
    );
    let digest = sha256(&published);
    let log = std::fs::read_to_string(state.join("nightly.log")).unwrap();
    assert!(log.contains("published"), "{log}");

    let second = nightly(&img, &images, &state, &[]);
    assert!(second.status.success());
    let log = std::fs::read_to_string(state.join("nightly.log")).unwrap();
    assert!(log.contains("inputs unchanged"), "{log}");
    assert_eq!(sha256(&published), digest);

    let forced = nightly(&img, &images, &state, &["--force"]);
    assert!(forced.status.success());
    let log = std::fs::read_to_string(state.join("nightly.log")).unwrap();
    assert!(log.contains("nothing published"), "{log}");
    assert_eq!(sha256(&published), digest);
}
