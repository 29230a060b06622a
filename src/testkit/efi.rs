//! A stand-in UEFI boot loader: GRUB built with `grub-mkstandalone`, whose
//! embedded `grub.cfg` runs whatever commands a test wants (echo a marker,
//! `cat` a file from the FFS partition, halt). It lets a firmware boot prove
//! that the ESP, the GPT and the FFS partition are readable by real code.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// GRUB modules the stand-in needs: partition table, both file systems,
/// and the commands a test script uses.
const MODULES: &str = "part_gpt part_msdos ufs2 fat normal echo cat ls halt test configfile";

/// Build a GRUB EFI image for x86_64 whose configuration is `grub_cfg`.
pub fn grub_standalone_x64(grub_cfg: &str) -> Result<Vec<u8>> {
    let dir =
        std::env::temp_dir().join(format!("mkimage-grub-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = build(&dir, grub_cfg);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn build(dir: &Path, grub_cfg: &str) -> Result<Vec<u8>> {
    let cfg = dir.join("grub.cfg");
    let out = dir.join("BOOTX64.EFI");
    std::fs::write(&cfg, grub_cfg)?;
    let status = Command::new("grub-mkstandalone")
        .arg("-O")
        .arg("x86_64-efi")
        .arg(format!("--modules={MODULES}"))
        .arg(format!("--install-modules={MODULES}"))
        .arg("--locales=")
        .arg("--fonts=")
        .arg("--themes=")
        .arg("-o")
        .arg(&out)
        .arg(format!("boot/grub/grub.cfg={}", cfg.display()))
        .status()
        .context(
            "running grub-mkstandalone (install grub-common and grub-efi-amd64-bin: scripts/setup)",
        )?;
    if !status.success() {
        bail!("grub-mkstandalone failed with {status}");
    }
    std::fs::read(&out).with_context(|| format!("reading {}", out.display()))
}
