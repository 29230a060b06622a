//! Acceptance of `mkimage freebsd` (issue 10): an image built from the
//! synthetic FreeBSD mirror and package repository served over HTTP,
//! checked with our verifier, sgdisk/sfdisk, sleuthkit, GRUB, sqlite3 and an
//! OVMF boot of the stand-in loader.

#[path = "accounts_common/mod.rs"]
mod accounts_common;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{mkimage, run_ok, stdout_of};
use mkimage::testkit::freebsd_pkgrepo::generate_freebsd_pkgrepo;
use mkimage::testkit::mirror::{FreebsdMirrorOptions, MirrorSize, generate_freebsd};
use mkimage::testkit::server::TestServer;

struct Built {
    dir: tempfile::TempDir,
    _server: TestServer,
    image: PathBuf,
    raw: PathBuf,
    pmbr: Vec<u8>,
    gptboot: Vec<u8>,
}

fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mirror");
        let mirror =
            generate_freebsd(&root, &FreebsdMirrorOptions::new(MirrorSize::Tiny, 1)).unwrap();
        let repo = generate_freebsd_pkgrepo(&root, 1).unwrap();
        let server = TestServer::start(&root).unwrap();
        let rel = repo
            .dir
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let image = dir.path().join("freebsd.qcow2");
        run_ok(
            mkimage()
                .args(["-q", "freebsd", "--arch", "amd64", "--seed", "fbsd"])
                .arg("--mirror")
                .arg(format!("{}/pub/FreeBSD/", server.url()))
                .arg("--pkg-repo")
                .arg(format!("{}/{rel}", server.url()))
                .arg("--cache-dir")
                .arg(dir.path().join("cache"))
                .arg("-o")
                .arg(&image),
        );
        let raw = dir.path().join("freebsd.raw");
        run_ok(
            Command::new("qemu-img")
                .args(["convert", "-f", "qcow2", "-O", "raw"])
                .arg(&image)
                .arg(&raw),
        );
        let base = &mirror.dist("base").unwrap().path;
        let member = |p: &str| {
            let out = Command::new("tar")
                .arg("-xJOf")
                .arg(base)
                .arg(format!("./{p}"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{p} in base.txz");
            out.stdout
        };
        let (pmbr, gptboot) = (member("boot/pmbr"), member("boot/gptboot"));
        Built {
            dir,
            _server: server,
            image,
            raw,
            pmbr,
            gptboot,
        }
    })
}

fn cat(path: &str) -> String {
    run_ok(mkimage().arg("cat").arg(&built().image).arg(path))
}

#[test]
fn verify_is_clean_and_sgdisk_finds_no_problems() {
    run_ok(mkimage().arg("verify").arg(&built().image));
    let out = stdout_of(Command::new("sgdisk").arg("-v").arg(&built().raw));
    assert!(out.contains("No problems found"), "{out}");
}

#[test]
fn partitions_and_boot_code_are_placed_as_the_release_images_do() {
    let b = built();
    let dump = stdout_of(Command::new("sfdisk").arg("-d").arg(&b.raw));
    let parts: Vec<&str> = dump.lines().filter(|l| l.contains(" : start=")).collect();
    assert_eq!(parts.len(), 3, "{dump}");
    assert!(
        parts[0].contains("83BD6B9D-7F41-11DC-BE0B-001560B84F0F"),
        "{dump}"
    );
    assert!(
        parts[1].contains("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        "{dump}"
    );
    assert!(
        parts[2].contains("516E7CB6-6ECF-11D6-8FF8-00022D09712B"),
        "{dump}"
    );
    assert!(parts[2].contains("name=\"rootfs\""), "{dump}");
    let disk = std::fs::read(&b.raw).unwrap();
    assert_eq!(&disk[..446], &b.pmbr[..446], "PMBR code");
    assert_eq!(&disk[510..512], &[0x55, 0xaa]);
    assert_eq!(disk[450], 0xee);
    let start: usize = parts[0]
        .split("start=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap();
    let at = start * 512;
    assert_eq!(&disk[at..at + b.gptboot.len()], &b.gptboot[..], "gptboot");
}

#[test]
fn configuration_reads_back_with_grub_and_sleuthkit() {
    let b = built();
    let rc = run_ok(
        Command::new("grub-fstest")
            .arg(&b.raw)
            .arg("cat")
            .arg("(loop0,gpt3)/etc/rc.conf"),
    );
    assert!(rc.contains("sshd_enable=\"YES\""), "{rc}");
    assert!(rc.contains("hostname=\"build\""), "{rc}");
    assert!(!rc.contains("growfs_enable=\"YES\""), "{rc}");
    let fstab = cat("/etc/fstab");
    assert!(fstab.contains("/dev/gpt/rootfs"), "{fstab}");
    let loader = cat("/boot/loader.conf");
    assert!(loader.contains("comconsole"), "{loader}");
    let sshd = cat("/etc/ssh/sshd_config");
    for l in [
        "PermitEmptyPasswords yes",
        "UsePAM no",
        "PasswordAuthentication yes",
    ] {
        assert!(sshd.lines().any(|x| x.trim() == l), "{l} in {sshd}");
    }
    let sudoers = cat("/usr/local/etc/sudoers.d/wheel");
    assert!(
        sudoers.contains("%wheel ALL=(ALL) NOPASSWD: ALL"),
        "{sudoers}"
    );
    // sleuthkit finds the root file system at the root partition's offset.
    let dump = stdout_of(Command::new("sfdisk").arg("-d").arg(&b.raw));
    let root = dump
        .lines()
        .find(|l| l.contains("516E7CB6"))
        .and_then(|l| l.split("start=").nth(1))
        .and_then(|s| s.split(',').next())
        .map(|s| s.trim().to_string())
        .unwrap();
    let fls = stdout_of(
        Command::new("fls")
            .args(["-f", "ufs2", "-o", &root])
            .arg(&b.raw)
            .arg("-p")
            .arg("-r"),
    );
    assert!(fls.contains("etc/rc.conf"), "{fls}");
    assert!(fls.contains("usr/local/bin/bash"), "{fls}");
}

#[test]
fn packages_are_installed_and_registered_in_pkgs_database() {
    let b = built();
    let db = b.dir.path().join("local.sqlite");
    let out = mkimage()
        .arg("cat")
        .arg(&b.image)
        .arg("/var/db/pkg/local.sqlite")
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&db, out.stdout).unwrap();
    let names = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print('\\n'.join(r[0] for r in c.execute('select name from packages order by name')))")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        names.status.success(),
        "{}",
        String::from_utf8_lossy(&names.stderr)
    );
    let names = String::from_utf8_lossy(&names.stdout);
    for p in ["bash", "curl", "git", "sudo"] {
        assert!(names.lines().any(|n| n == p), "{p} in {names}");
    }
    let shells = cat("/etc/shells");
    assert!(
        shells.lines().any(|l| l == "/usr/local/bin/bash"),
        "{shells}"
    );
}

#[test]
fn the_build_user_is_in_freebsds_pwd_db() {
    let b = built();
    let local = b.dir.path().join("pwd.db");
    let out = mkimage()
        .arg("cat")
        .arg(&b.image)
        .arg("/etc/pwd.db")
        .output()
        .unwrap();
    std::fs::write(&local, out.stdout).unwrap();
    // FreeBSD's version-4 key for a name: _PW_VERSIONED('1', 4) + name.
    let mut key = vec![(b'1' & 0xcf) | (4 << 4)];
    key.extend_from_slice(b"build");
    let got = accounts_common::libdb1_get(Path::new(&local), &[key]);
    let rec = got[0].as_ref().expect("build found by name");
    assert!(rec.starts_with(b"build\0"), "{rec:?}");
}

#[test]
fn firmware_boot_prints_rc_conf_read_from_the_qcow2() {
    let console = mkimage::testkit::ovmf::boot_serial(
        &built().image,
        "qcow2",
        std::time::Duration::from_secs(90),
    )
    .unwrap();
    assert!(console.contains("hostname=\"build\""), "{console}");
}
