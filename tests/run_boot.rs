//! `mkimage run`: the QEMU command line against the builds service's
//! flags, and `--check` against a stand-in image (OVMF + a GRUB EFI loader
//! on the ESP of a GPT disk made with sgdisk/mkfs.fat/mtools), which prints
//! a marker and then waits at GRUB's prompt (never answers SSH) or halts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mkimage::testkit::efi::grub_standalone_x64;

const MKIMAGE: &str = env!("CARGO_BIN_EXE_mkimage");
const MARKER: &str = "MKIMAGE-RUN-STANDIN-7f3a";

fn tool(name: &str, args: &[&str]) {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is missing ({e}): run scripts/setup"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 12 MiB GPT disk whose ESP holds `EFI/BOOT/BOOTX64.EFI` running
/// `grub_cfg`; converted to qcow2 when `qcow2`.
fn standin_disk(dir: &Path, grub_cfg: &str, qcow2: bool) -> PathBuf {
    let efi = grub_standalone_x64(grub_cfg).expect("grub-mkstandalone");
    let loader = dir.join("BOOTX64.EFI");
    std::fs::write(&loader, efi).unwrap();
    let esp = dir.join("esp.fat");
    let esp_s = esp.to_str().unwrap();
    tool("mkfs.fat", &["-C", esp_s, "8192"]);
    tool("mmd", &["-i", esp_s, "::/EFI", "::/EFI/BOOT"]);
    tool(
        "mcopy",
        &[
            "-i",
            esp_s,
            loader.to_str().unwrap(),
            "::/EFI/BOOT/BOOTX64.EFI",
        ],
    );
    let raw = dir.join("standin.raw");
    let f = std::fs::File::create(&raw).unwrap();
    f.set_len(12 << 20).unwrap();
    drop(f);
    let raw_s = raw.to_str().unwrap();
    tool("sgdisk", &["-n", "1:2048:+8M", "-t", "1:ef00", raw_s]);
    let mut disk = std::fs::read(&raw).unwrap();
    let fat = std::fs::read(&esp).unwrap();
    disk[1 << 20..(1 << 20) + fat.len()].copy_from_slice(&fat);
    std::fs::write(&raw, disk).unwrap();
    if !qcow2 {
        return raw;
    }
    let q = dir.join("standin.qcow2");
    tool(
        "qemu-img",
        &[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            raw_s,
            q.to_str().unwrap(),
        ],
    );
    q
}

fn mkimage(args: &[&str]) -> Output {
    Command::new(MKIMAGE).args(args).output().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a QEMU process whose command line names `path` exists
/// (`pgrep -f`; the pattern names QEMU so that `mkimage run` itself, whose
/// arguments name the image too, does not match).
fn qemu_running_on(path: &Path) -> bool {
    Command::new("pgrep")
        .arg("-f")
        .arg(format!(
            "qemu-system-x86_64 .*file={}",
            path.to_str().unwrap()
        ))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn mbr_disk(dir: &Path) -> PathBuf {
    let path = dir.join("disk,with comma.raw");
    let mut bytes = vec![0u8; 4096];
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn dry_run_line_has_the_builds_service_flags_for_bios() {
    let dir = tempfile::tempdir().unwrap();
    let img = mbr_disk(dir.path());
    let out = mkimage(&["run", img.to_str().unwrap(), "--dry-run", "--kvm", "off"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line.lines().count(), 1, "{line}");
    // The service's flags, in its order, then format=, TCG and the serial port.
    let expected = format!(
        "qemu-system-x86_64 -m 4096 -smp cpus=2 -net nic,model=virtio \
         -net user,hostfwd=tcp:127.0.0.1:2222-:22 -display none -device virtio-rng-pci \
         -device virtio-balloon \
         -drive 'file={},,with comma.raw,media=disk,snapshot=on,if=virtio,format=raw' \
         -accel tcg -serial stdio -monitor none",
        dir.path().join("disk").display()
    );
    assert_eq!(line.trim_end(), expected);
    assert!(
        !line.contains("pflash") && !line.contains("-bios"),
        "BIOS boot: {line}"
    );
    // The line is a shell command: sh splits it back into the same words.
    let words = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf '%s\\n' {}",
            line.trim_end().replacen("qemu-system-x86_64", "", 1)
        ))
        .output()
        .unwrap();
    let words = String::from_utf8(words.stdout).unwrap();
    assert!(words.lines().any(|w| w
        == format!(
            "file={},,with comma.raw,media=disk,snapshot=on,if=virtio,format=raw",
            dir.path().join("disk").display()
        )));
}

#[test]
fn dry_run_line_for_uefi_adds_ovmf_and_keeps_the_service_flags() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("x.qcow2");
    std::fs::write(&img, b"QFI\xfb\0\0\0\x03").unwrap();
    let out = mkimage(&[
        "run",
        img.to_str().unwrap(),
        "--dry-run",
        "--uefi",
        "--kvm",
        "off",
        "--port",
        "2345",
        "--memory",
        "2048",
        "--cpus",
        "4",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "qemu-system-x86_64 -m 2048 -smp cpus=4 -net nic,model=virtio \
         -net user,hostfwd=tcp:127.0.0.1:2345-:22 -display none -device virtio-rng-pci \
         -device virtio-balloon \
         -drive file={},media=disk,snapshot=on,if=virtio,format=qcow2 \
         -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
         -drive if=pflash,format=raw,snapshot=on,file=/usr/share/OVMF/OVMF_VARS_4M.fd \
         -accel tcg -serial stdio -monitor none",
        img.display()
    );
    assert_eq!(line.trim_end(), expected);
}

#[test]
fn check_times_out_after_the_given_seconds_with_the_console_tail_and_leaves_no_qemu() {
    let dir = tempfile::tempdir().unwrap();
    // Prints the marker, then sits at GRUB's prompt: no SSH ever.
    let img = standin_disk(dir.path(), &format!("echo {MARKER}\n"), true);
    let before = sha256(&img);
    let port = free_port();
    // Long enough for OVMF to reach GRUB under TCG on a loaded machine.
    let timeout = 40;
    let start = Instant::now();
    let out = mkimage(&[
        "run",
        img.to_str().unwrap(),
        "--uefi",
        "--check",
        "--kvm",
        "off",
        "--memory",
        "256",
        "--cpus",
        "1",
        "--timeout",
        &timeout.to_string(),
        "--port",
        &port.to_string(),
    ]);
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no SSH answer from build@127.0.0.1:{port} within {timeout} s"
        )),
        "{stderr}"
    );
    let tail = stderr
        .split("last serial console lines:")
        .nth(1)
        .unwrap_or("");
    assert!(
        tail.contains(MARKER),
        "console tail lacks the loader's line: {stderr}"
    );
    // About N seconds: QEMU's start and stop add a little.
    assert!(took >= Duration::from_secs(timeout), "{took:?}");
    assert!(took < Duration::from_secs(timeout + 10), "{took:?}");
    assert!(
        !qemu_running_on(&img),
        "a QEMU process for {} is still running",
        img.display()
    );
    assert_eq!(sha256(&img), before, "the image was written to");
}

/// Also exercises `--kvm auto`: where /dev/kvm opens but KVM cannot run
/// the guest (this machine), QEMU reports it and the VM is restarted
/// under TCG; where KVM works, it simply runs there.
#[test]
fn check_fails_at_once_with_the_console_tail_when_the_loader_halts() {
    let dir = tempfile::tempdir().unwrap();
    let img = standin_disk(dir.path(), &format!("echo {MARKER}\nhalt\n"), false);
    let port = free_port();
    let out = mkimage(&[
        "run",
        img.to_str().unwrap(),
        "--uefi",
        "--check",
        "--kvm",
        "auto",
        "--memory",
        "256",
        "--cpus",
        "1",
        "--timeout",
        "300",
        "--port",
        &port.to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    if stderr.contains("KVM internal error") {
        assert!(stderr.contains("restarting under TCG"), "{stderr}");
        assert!(stderr.contains("-accel tcg"), "{stderr}");
    }
    assert!(stderr.contains("QEMU exited"), "{stderr}");
    assert!(stderr.contains("before SSH answered"), "{stderr}");
    assert!(stderr.contains(MARKER), "{stderr}");
    assert!(!qemu_running_on(&img));
}

#[test]
fn port_already_in_use_is_refused_before_qemu_starts() {
    let dir = tempfile::tempdir().unwrap();
    let img = mbr_disk(dir.path());
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = mkimage(&[
        "run",
        img.to_str().unwrap(),
        "--check",
        "--kvm",
        "off",
        "--port",
        &port.to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} on 127.0.0.1 is not free")),
        "{stderr}"
    );
    assert!(stderr.contains("--port"), "{stderr}");
    assert!(!stderr.contains("running: "), "QEMU was started: {stderr}");
}

#[test]
fn bad_image_path_or_non_image_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.qcow2");
    let out = mkimage(&["run", missing.to_str().unwrap(), "--kvm", "off"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot read image {}", missing.display())),
        "{stderr}"
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a disk\n".repeat(100)).unwrap();
    let out = mkimage(&["run", text.to_str().unwrap(), "--kvm", "off"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a disk image"), "{stderr}");

    let out = mkimage(&["run", dir.path().to_str().unwrap(), "--kvm", "off"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a regular file"), "{stderr}");
}

/// A raw disk whose boot sector halts forever (`cli; hlt; jmp $-1`).
fn halting_bios_disk(dir: &Path) -> PathBuf {
    let path = dir.join("halt-forever.raw");
    let mut bytes = vec![0u8; 1 << 20];
    bytes[..4].copy_from_slice(&[0xfa, 0xf4, 0xeb, 0xfd]);
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn killing_mkimage_run_with_sigkill_still_stops_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let img = halting_bios_disk(dir.path());
    let port = free_port();
    let mut child = Command::new(MKIMAGE)
        .args([
            "run",
            img.to_str().unwrap(),
            "--check",
            "--kvm",
            "off",
            "--memory",
            "64",
            "--timeout",
            "120",
            "--port",
            &port.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !qemu_running_on(&img) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("QEMU never started");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no destructor runs in mkimage
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while qemu_running_on(&img) {
        assert!(
            Instant::now() < deadline,
            "QEMU outlived mkimage run by 10 s: the watchdog did not stop it"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
