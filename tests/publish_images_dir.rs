//! `mkimage publish`: atomic installation into a builds-service images
//! directory, history and pruning, refusal of bad images, and survival of
//! a SIGKILL in the middle of the copy. Checked with sha256sum and
//! `qemu-img check` as independent tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const MKIMAGE: &str = env!("CARGO_BIN_EXE_mkimage");

/// A small valid disk image (GPT, ESP, FFS root holding `tag`), so that
/// each image has its own sha256 and passes `mkimage verify`.
fn qcow2(dir: &Path, name: &str, tag: &str) -> PathBuf {
    let out = dir.join(name);
    mkimage::testkit::disk::tiny_disk(&out, mkimage::disk::Format::Qcow2, tag).unwrap();
    out
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn qemu_img_check(path: &Path) {
    let out = Command::new("qemu-img")
        .arg("check")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "qemu-img check {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

fn publish_cmd(image: &Path, dir: &Path, release: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(MKIMAGE);
    cmd.arg("publish")
        .arg(image)
        .arg("--images-dir")
        .arg(dir)
        .args(["--os", "netbsd", "--release", release, "--arch", "amd64"])
        .args(extra);
    cmd
}

fn publish(image: &Path, dir: &Path, release: &str, extra: &[&str]) -> Output {
    publish_cmd(image, dir, release, extra).output().unwrap()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(temporaries(&path));
        } else if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".mkimage-tmp.")
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn publish_installs_image_manifest_functions_and_latest_where_the_service_reads_them() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let img = qcow2(work.path(), "a.qcow2", "first");
    let functions = work.path().join("functions");
    std::fs::write(&functions, "boot() { _boot; }\n").unwrap();
    let build_manifest = work.path().join("build.json");
    std::fs::write(
        &build_manifest,
        r#"{"inputs":{"base.tar.xz":"sha512:abc"},"packages":{"sudo":"1.9.16"},"tool":"mkimage 0.1.0","built_at":"2026-11-30T00:00:00Z"}"#,
    )
    .unwrap();
    let out = publish(
        &img,
        &images,
        "10.1",
        &[
            "--functions",
            functions.to_str().unwrap(),
            "--manifest",
            build_manifest.to_str().unwrap(),
        ],
    );
    ok(&out);
    let published = images.join("netbsd/10.1/amd64/root.img.qcow2");
    assert_eq!(sha256sum(&published), sha256sum(&img));
    qemu_img_check(&published);
    assert_eq!(
        std::fs::read_to_string(images.join("netbsd/10.1/functions")).unwrap(),
        "boot() { _boot; }\n"
    );
    assert_eq!(
        std::fs::read_link(images.join("netbsd/latest")).unwrap(),
        Path::new("10.1")
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(images.join("netbsd/10.1/amd64/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["image"]["sha256"], sha256sum(&img).as_str());
    assert_eq!(manifest["inputs"]["base.tar.xz"], "sha512:abc");
    assert_eq!(manifest["packages"]["sudo"], "1.9.16");
    assert_eq!(manifest["target"]["release"], "10.1");
    assert!(manifest["published"]["at"].as_str().unwrap().ends_with('Z'));
    assert!(temporaries(&images).is_empty());
}

#[test]
fn previous_images_are_kept_with_dated_names_and_pruned_to_keep() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let mut sums = Vec::new();
    for i in 0..4 {
        let img = qcow2(work.path(), &format!("{i}.qcow2"), &format!("image {i}"));
        sums.push(sha256sum(&img));
        ok(&publish(&img, &images, "10.1", &["--keep", "2"]));
    }
    let arch = images.join("netbsd/10.1/amd64");
    assert_eq!(sha256sum(&arch.join("root.img.qcow2")), sums[3]);
    let mut kept: Vec<_> = std::fs::read_dir(arch.join("history"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("root.img.qcow2."))
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for name in &kept {
        // root.img.qcow2.YYYYMMDDTHHMMSSZ[.n]
        let stamp = name.trim_start_matches("root.img.qcow2.");
        assert_eq!(&stamp[8..9], "T", "{name}");
        assert_eq!(&stamp[15..16], "Z", "{name}");
        assert!(
            arch.join("history")
                .join(format!("manifest.json.{stamp}"))
                .is_file()
        );
    }
    let kept_sums: Vec<_> = kept
        .iter()
        .map(|n| sha256sum(&arch.join("history").join(n)))
        .collect();
    assert!(
        kept_sums.contains(&sums[1]) && kept_sums.contains(&sums[2]),
        "{kept:?}"
    );
}

#[test]
fn republishing_the_same_image_publishes_nothing_and_says_so() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let img = qcow2(work.path(), "a.qcow2", "same");
    ok(&publish(&img, &images, "10.1", &[]));
    let manifest = images.join("netbsd/10.1/amd64/manifest.json");
    let before = std::fs::read(&manifest).unwrap();
    let stderr = ok(&publish(&img, &images, "10.1", &[]));
    assert!(stderr.contains("unchanged"), "{stderr}");
    assert!(stderr.contains("nothing published"), "{stderr}");
    assert_eq!(std::fs::read(&manifest).unwrap(), before);
    assert!(!images.join("netbsd/10.1/amd64/history").exists());
}

#[test]
fn a_file_that_is_not_qcow2_is_refused_and_the_published_image_is_untouched() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let good = qcow2(work.path(), "good.qcow2", "good");
    ok(&publish(&good, &images, "10.1", &[]));
    let bad = work.path().join("bad.qcow2");
    std::fs::write(&bad, vec![0x42u8; 3 << 20]).unwrap();
    let out = publish(&bad, &images, "10.1", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("not a qcow2 image"), "{stderr}");
    let published = images.join("netbsd/10.1/amd64/root.img.qcow2");
    assert_eq!(sha256sum(&published), sha256sum(&good));
    assert!(
        temporaries(&images).is_empty(),
        "{:?}",
        temporaries(&images)
    );
}

/// The verifier is a parameter of the library call; here it is
/// `qemu-img check`, and the image has an L1 table offset past its end.
#[test]
fn an_image_failing_verification_is_refused_and_the_published_one_is_untouched() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let verify = |path: &Path| -> anyhow::Result<()> {
        let out = Command::new("qemu-img").arg("check").arg(path).output()?;
        anyhow::ensure!(
            out.status.success(),
            "qemu-img check: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(())
    };
    fn request<'a>(
        image: &'a Path,
        images: &'a Path,
        verify: mkimage::publish::Verifier<'a>,
    ) -> mkimage::publish::Request<'a> {
        mkimage::publish::Request {
            image,
            images_dir: images,
            os: "netbsd",
            release: "10.1",
            arch: "amd64",
            keep: 3,
            build_manifest: None,
            functions: None,
            verify,
            now: std::time::SystemTime::now(),
        }
    }
    let good = qcow2(work.path(), "good.qcow2", "good");
    mkimage::publish::publish(&request(&good, &images, &verify)).unwrap();
    let broken = qcow2(work.path(), "broken.qcow2", "broken");
    let mut bytes = std::fs::read(&broken).unwrap();
    // l1_table_offset (header bytes 40..48, big-endian) far past the end.
    bytes[40..48].copy_from_slice(&0x0000_7fff_0000_0000u64.to_be_bytes());
    std::fs::write(&broken, bytes).unwrap();

    let err = mkimage::publish::publish(&request(&broken, &images, &verify)).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("failed verification"), "{msg}");
    assert!(msg.contains("qemu-img check"), "{msg}");
    let published = images.join("netbsd/10.1/amd64/root.img.qcow2");
    assert_eq!(sha256sum(&published), sha256sum(&good));
    qemu_img_check(&published);
    assert!(
        temporaries(&images).is_empty(),
        "{:?}",
        temporaries(&images)
    );
}

#[test]
fn an_older_release_does_not_move_latest_back() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let img = qcow2(work.path(), "a.qcow2", "x");
    ok(&publish(&img, &images, "10.1", &[]));
    ok(&publish(&img, &images, "9.4", &[]));
    assert_eq!(
        std::fs::read_link(images.join("netbsd/latest")).unwrap(),
        Path::new("10.1")
    );
    assert!(images.join("netbsd/9.4/amd64/root.img.qcow2").is_file());
}

/// Start a publish that pauses after its first megabyte and wait until its
/// temporary exists. The caller kills and reaps the child.
#[allow(clippy::zombie_processes)]
fn paused_publish(image: &Path, images: &Path) -> (std::process::Child, PathBuf) {
    let mut child = publish_cmd(image, images, "10.1", &[])
        .env("MKIMAGE_TEST_PUBLISH_PAUSE_MS", "30000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let arch = images.join("netbsd/10.1/amd64");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if arch.is_dir() {
            let temps = temporaries(&arch);
            if let Some(t) = temps.first()
                && std::fs::metadata(t).unwrap().len() > 0
            {
                return (child, t.clone());
            }
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no temporary appeared");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A big sparse file that starts with a qcow2 header (what the
/// copy reads before the pause): 512 MiB, almost all hole. It is killed
/// mid-copy, before verification, so it need not be a valid disk.
fn big_sparse(dir: &Path) -> PathBuf {
    let path = dir.join("big.qcow2");
    let small = qcow2(dir, "seed.qcow2", "big");
    let mut head = std::fs::read(small).unwrap();
    head.resize(2 << 20, 0x5a);
    std::fs::write(&path, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(512 << 20)
        .unwrap();
    path
}

#[test]
fn sigkill_during_publish_leaves_the_old_image_intact_and_the_next_run_cleans_up() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let old = qcow2(work.path(), "old.qcow2", "old image");
    ok(&publish(&old, &images, "10.1", &[]));
    let published = images.join("netbsd/10.1/amd64/root.img.qcow2");
    let manifest = std::fs::read(images.join("netbsd/10.1/amd64/manifest.json")).unwrap();

    let big = big_sparse(work.path());
    let (mut child, temp) = paused_publish(&big, &images);
    let st = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let _ = child.wait();
    assert!(
        temp.exists(),
        "the killed run left no temporary; the test proves nothing"
    );
    assert_eq!(sha256sum(&published), sha256sum(&old));
    qemu_img_check(&published);
    assert_eq!(
        std::fs::read(images.join("netbsd/10.1/amd64/manifest.json")).unwrap(),
        manifest
    );

    let new = qcow2(work.path(), "new.qcow2", "new image");
    let stderr = ok(&publish(&new, &images, "10.1", &[]));
    assert!(
        stderr.contains("removed temporary of an interrupted run"),
        "{stderr}"
    );
    assert!(!temp.exists());
    assert!(temporaries(&images).is_empty());
    assert_eq!(sha256sum(&published), sha256sum(&new));
}

#[test]
fn a_second_publish_while_one_runs_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let big = big_sparse(work.path());
    let (mut child, temp) = paused_publish(&big, &images);
    let other = qcow2(work.path(), "other.qcow2", "other");
    let out = publish(&other, &images, "10.1", &[]);
    let _ = child.kill();
    let _ = child.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("another mkimage publish is writing"),
        "{stderr}"
    );
    assert!(
        temp.exists(),
        "the refused run removed the running one's temporary"
    );
}

/// Through the command line, the whole-image checker guards publication:
/// an image whose root file system is damaged is refused.
#[test]
fn mkimage_publish_refuses_an_image_whose_file_system_is_damaged() {
    let work = tempfile::tempdir().unwrap();
    let images = work.path().join("images");
    std::fs::create_dir(&images).unwrap();
    let good = qcow2(work.path(), "good.qcow2", "good");
    ok(&publish(&good, &images, "10.1", &[]));

    let raw = work.path().join("damaged.raw");
    mkimage::testkit::disk::tiny_disk(&raw, mkimage::disk::Format::Raw, "damaged").unwrap();
    let mut bytes = std::fs::read(&raw).unwrap();
    // The root partition starts at 9 MiB (1 MiB + the 8 MiB ESP); its
    // superblock's magic is at 65536 + 1372.
    let magic = (9 << 20) + 65536 + 1372;
    assert_eq!(&bytes[magic..magic + 4], &0x1954_0119u32.to_le_bytes());
    bytes[magic] ^= 0xff;
    std::fs::write(&raw, bytes).unwrap();
    let damaged = work.path().join("damaged.qcow2");
    let st = Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", "qcow2"])
        .arg(&raw)
        .arg(&damaged)
        .status()
        .unwrap();
    assert!(st.success());

    let out = publish(&damaged, &images, "10.1", &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("verification"), "{err}");
    let published = images.join("netbsd/10.1/amd64/root.img.qcow2");
    assert_eq!(sha256sum(&published), sha256sum(&good));
}
