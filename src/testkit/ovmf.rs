//! Boot a disk image under UEFI firmware (OVMF) in QEMU with software
//! emulation and capture the serial console, for tests that prove an image
//! is bootable by real firmware. The image is attached read-only.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Where Debian's ovmf package puts the firmware.
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// Boot `image` (`format` is "raw" or "qcow2") and return everything the
/// serial console printed until QEMU exited (the loader halts) or `timeout`
/// passed (QEMU is then killed; the output so far is returned).
pub fn boot_serial(image: &Path, format: &str, timeout: Duration) -> Result<String> {
    let vars = std::env::temp_dir().join(format!(
        "mkimage-ovmf-vars-{}-{:?}.fd",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::copy(OVMF_VARS, &vars)
        .with_context(|| format!("copying {OVMF_VARS} (install ovmf: scripts/setup)"))?;
    let result = run_qemu(image, format, &vars, timeout);
    let _ = std::fs::remove_file(&vars);
    result
}

fn run_qemu(image: &Path, format: &str, vars: &Path, timeout: Duration) -> Result<String> {
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-machine",
            "q35,accel=tcg",
            "-m",
            "512",
            "-nographic",
            "-no-reboot",
        ])
        .args([
            "-drive",
            &format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
        ])
        .args([
            "-drive",
            &format!("if=pflash,format=raw,file={}", vars.display()),
        ])
        .args([
            "-drive",
            &format!(
                "if=virtio,format={format},file={},readonly=on",
                image.display()
            ),
        ])
        .args(["-net", "none", "-serial", "stdio", "-monitor", "none"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting qemu-system-x86_64 (install qemu-system-x86: scripts/setup)")?;
    let mut stdout = child.stdout.take().context("qemu stdout")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = reader.join().unwrap_or_default();
    let text = String::from_utf8_lossy(&out).into_owned();
    if let Some(status) = status
        && !status.success()
    {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        bail!("qemu-system-x86_64 exited with {status}: {err}\nconsole:\n{text}");
    }
    Ok(text)
}
