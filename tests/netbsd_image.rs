//! Acceptance of `mkimage netbsd` (issue 7): an image built from the
//! synthetic mirror served over HTTP, checked with independent tools.
//!
//! One image is built per test binary and shared by the tests (building is
//! the expensive part); each test checks one promise.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{TestImage, mkimage, run_ok, stdout_of};

fn image() -> &'static TestImage {
    static IMAGE: OnceLock<TestImage> = OnceLock::new();
    IMAGE.get_or_init(|| TestImage::build_netbsd(&["--seed", "acceptance"]))
}

fn raw() -> &'static Path {
    image().raw()
}

fn grub_cat(path: &str) -> String {
    let out = Command::new("grub-fstest")
        .arg(raw())
        .arg("cat")
        .arg(format!("(loop0,gpt2){path}"))
        .output()
        .expect("grub-fstest runs");
    assert!(
        out.status.success(),
        "grub-fstest cat {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn verify_and_verify_mtree_are_clean() {
    let img = &image().qcow2;
    let out = mkimage().arg("verify").arg(img).output().unwrap();
    assert!(
        out.status.success(),
        "verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = mkimage()
        .arg("verify")
        .arg("--mtree")
        .arg(img)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "verify --mtree: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sgdisk_finds_no_problems_and_the_layout_is_esp_then_netbsd_ffs() {
    let out = stdout_of(Command::new("sgdisk").arg("-v").arg(raw()));
    assert!(out.contains("No problems found"), "{out}");
    let dump = stdout_of(Command::new("sfdisk").arg("-d").arg(raw()));
    assert!(dump.contains("label: gpt"), "{dump}");
    let lines: Vec<&str> = dump.lines().filter(|l| l.contains(" : start=")).collect();
    assert_eq!(lines.len(), 2, "{dump}");
    assert!(
        lines[0].contains("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        "{dump}"
    );
    assert!(
        lines[1].contains("49F48D5A-B10E-11DC-B99B-0019D1879648"),
        "{dump}"
    );
    assert!(lines[1].contains("name=\"netbsd-root\""), "{dump}");
    // Legacy BIOS bootable (bit 2) and bootme (bit 59).
    assert!(lines[1].contains("LegacyBIOSBootable"), "{dump}");
    assert!(lines[1].contains("GUID:59"), "{dump}");
}

#[test]
fn boot_code_bytes_follow_the_installboot_rules() {
    let img = image();
    let disk = std::fs::read(raw()).unwrap();
    let gptmbr = img.set_file("base", "usr/mdec/gptmbr.bin");
    assert_eq!(gptmbr.len(), 440);
    assert_eq!(&disk[..440], &gptmbr[..], "PMBR boot code");
    assert_eq!(&disk[510..512], &[0x55, 0xaa]);
    assert_eq!(disk[450], 0xee, "protective MBR entry kept");

    let root = img.root_offset();
    let bootxx = img.set_file("base", "usr/mdec/bootxx_ffsv2");
    let part = &disk[root as usize..root as usize + bootxx.len()];
    // Bytes 0..511 from bootxx except the partition-table area 446..509.
    assert_eq!(&part[..446], &bootxx[..446]);
    assert_eq!(&part[510..512], &bootxx[510..512]);
    // 512..1023 are kept from the disk (zero on a fresh partition).
    assert!(part[512..1024].iter().all(|b| *b == 0));
    // From 1024 on: bootxx, except the patched x86_boot_params.
    let magic = u32::from_le_bytes(part[1028..1032].try_into().unwrap());
    assert_eq!(magic, 0x7886_b6d1);
    let param = |i: usize| u32::from_le_bytes(part[1032 + 4 * i..1036 + 4 * i].try_into().unwrap());
    let bp_length = param(0) as usize;
    assert!(bp_length >= 20, "bp_length {bp_length}");
    assert_eq!(param(2), 1, "bp_timeout from the recipe");
    assert_eq!(param(3), 1, "bp_consdev com0");
    assert_eq!(param(4), 115200, "bp_conspeed");
    assert_eq!(&part[1032 + bp_length..], &bootxx[1032 + bp_length..]);
    // The superblock is untouched by the boot code.
    let sb = root as usize + 65536;
    let magic = u32::from_le_bytes(disk[sb + 1372..sb + 1376].try_into().unwrap());
    assert_eq!(magic, 0x1954_0119);
}

#[test]
fn configuration_files_read_back_with_grub() {
    let rc = grub_cat("/etc/rc.conf");
    assert!(rc.contains("rc_configured=YES"), "{rc}");
    assert!(!rc.contains("rc_configured=NO"), "{rc}");
    for line in [
        "sshd=YES",
        "ntpd=YES",
        "no_swap=YES",
        "postfix=NO",
        "hostname=build",
    ] {
        assert!(rc.lines().any(|l| l.trim() == line), "{line} in {rc}");
    }
    let fstab = grub_cat("/etc/fstab");
    assert!(
        fstab
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["NAME=netbsd-root", "/", "ffs", "rw,log", "1", "1"]),
        "{fstab}"
    );
    assert!(fstab.contains("/var/shm"), "{fstab}");
    let ifc = grub_cat("/etc/ifconfig.vioif0");
    assert!(ifc.contains("10.0.2.15"), "{ifc}");
    let sshd = grub_cat("/etc/ssh/sshd_config");
    assert!(
        sshd.lines().any(|l| l.trim() == "PermitEmptyPasswords yes"),
        "{sshd}"
    );
    assert!(sshd.lines().any(|l| l.trim() == "UsePam no"), "{sshd}");
    assert!(!sshd.lines().any(|l| l.trim() == "UsePam yes"), "{sshd}");
    let boot_cfg = grub_cat("/boot.cfg");
    assert!(boot_cfg.contains("timeout=1"), "{boot_cfg}");
    assert!(boot_cfg.contains("com0"), "{boot_cfg}");
    let master = grub_cat("/etc/master.passwd");
    assert!(
        master.lines().any(|l| l.starts_with("build::1000:100:")),
        "{master}"
    );
    let group = grub_cat("/etc/group");
    let wheel = group.lines().find(|l| l.starts_with("wheel:")).unwrap();
    assert!(
        wheel
            .split(':')
            .nth(3)
            .unwrap()
            .split(',')
            .any(|m| m == "build"),
        "{wheel}"
    );
    let boot = image().dir.path().join("boot.expected");
    std::fs::write(&boot, image().set_file("base", "usr/mdec/boot")).unwrap();
    run_ok(
        Command::new("grub-fstest")
            .arg(raw())
            .arg("cmp")
            .arg("(loop0,gpt2)/boot")
            .arg(&boot),
    );
}

#[test]
fn dev_console_is_a_character_device_with_netbsd_numbers() {
    let out = String::from_utf8(
        mkimage()
            .arg("ls")
            .arg(&image().qcow2)
            .arg("/dev")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let console = out
        .lines()
        .find(|l| l.ends_with(" console"))
        .unwrap_or_else(|| panic!("no /dev/console in\n{out}"));
    assert!(console.starts_with('c'), "{console}");
    assert!(
        console.contains("0, 0") || console.contains("0,0"),
        "{console}"
    );
    let null = out.lines().find(|l| l.ends_with(" null")).unwrap();
    assert!(null.contains("2, 2") || null.contains("2,2"), "{null}");
}

#[test]
fn host_keys_pass_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let path = format!("/etc/ssh/ssh_host_{kind}_key");
        let key = mkimage()
            .arg("cat")
            .arg(&image().qcow2)
            .arg(&path)
            .output()
            .unwrap();
        assert!(key.status.success(), "cat {path}");
        let local: PathBuf = dir.path().join(kind);
        std::fs::write(&local, &key.stdout).unwrap();
        let mut perm = std::fs::metadata(&local).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o600);
        std::fs::set_permissions(&local, perm).unwrap();
        let fp = stdout_of(Command::new("ssh-keygen").arg("-l").arg("-f").arg(&local));
        assert!(fp.to_lowercase().contains(kind), "{kind}: {fp}");
    }
}

#[test]
fn firmware_boot_prints_rc_conf_read_from_the_qcow2() {
    let console = mkimage::testkit::ovmf::boot_serial(
        &image().qcow2,
        "qcow2",
        std::time::Duration::from_secs(90),
    )
    .unwrap();
    assert!(console.contains("MKIMAGE-STANDIN-BOOT"), "{console}");
    assert!(console.contains("rc_configured=YES"), "{console}");
}

#[test]
fn seeded_rebuild_is_bit_identical_and_a_warm_cache_makes_no_requests() {
    let before = image().server.request_count();
    let again = TestImage::build_netbsd_into(image(), &["--seed", "acceptance"]);
    assert_eq!(
        image().server.request_count(),
        before,
        "a rebuild from a warm cache went to the network"
    );
    let a = std::fs::read(&image().qcow2).unwrap();
    let b = std::fs::read(&again).unwrap();
    assert!(a == b, "two seeded builds differ");
    run_ok(Command::new("qemu-img").arg("check").arg(&again));
}
