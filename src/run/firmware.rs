//! Find UEFI firmware (OVMF / EDK II for x86_64) for `mkimage run --uefi`
//! in the places distributions and ports install it, or where the
//! `MKIMAGE_OVMF_CODE`/`MKIMAGE_OVMF_VARS` environment variables say.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// Firmware to hand to QEMU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Firmware {
    /// Separate code and variable-store flash images (two `-drive
    /// if=pflash`); the variable store is attached with `snapshot=on`, so
    /// the guest's writes go to a throw-away overlay and the installed file
    /// is never changed.
    Split { code: PathBuf, vars: PathBuf },
    /// One combined image, passed with `-bios`.
    Unified(PathBuf),
}

/// Known install locations, most specific first.
pub fn candidates() -> Vec<Firmware> {
    let split = |code: &str, vars: &str| Firmware::Split {
        code: PathBuf::from(code),
        vars: PathBuf::from(vars),
    };
    let mut list = vec![
        // Debian, Ubuntu (ovmf)
        split(
            "/usr/share/OVMF/OVMF_CODE_4M.fd",
            "/usr/share/OVMF/OVMF_VARS_4M.fd",
        ),
        split(
            "/usr/share/OVMF/OVMF_CODE.fd",
            "/usr/share/OVMF/OVMF_VARS.fd",
        ),
        // Fedora, RHEL (edk2-ovmf)
        split(
            "/usr/share/edk2/ovmf/OVMF_CODE.fd",
            "/usr/share/edk2/ovmf/OVMF_VARS.fd",
        ),
        // Arch (edk2-ovmf)
        split(
            "/usr/share/edk2/x64/OVMF_CODE.4m.fd",
            "/usr/share/edk2/x64/OVMF_VARS.4m.fd",
        ),
        split(
            "/usr/share/edk2-ovmf/x64/OVMF_CODE.fd",
            "/usr/share/edk2-ovmf/x64/OVMF_VARS.fd",
        ),
        // openSUSE (qemu-ovmf-x86_64)
        split(
            "/usr/share/qemu/ovmf-x86_64-code.bin",
            "/usr/share/qemu/ovmf-x86_64-vars.bin",
        ),
        // FreeBSD ports (sysutils/edk2, flavour qemu-x64)
        split(
            "/usr/local/share/edk2-qemu/QEMU_UEFI_CODE-x86_64.fd",
            "/usr/local/share/edk2-qemu/QEMU_UEFI_VARS-x86_64.fd",
        ),
    ];
    // The copy QEMU itself ships: Homebrew (Apple silicon and Intel),
    // NetBSD pkgsrc (emulators/qemu), FreeBSD ports (emulators/qemu),
    // distributions that keep QEMU's own firmware files.
    for prefix in [
        "/opt/homebrew/share/qemu",
        "/usr/local/share/qemu",
        "/usr/pkg/share/qemu",
        "/usr/share/qemu",
    ] {
        list.push(Firmware::Split {
            code: Path::new(prefix).join("edk2-x86_64-code.fd"),
            vars: Path::new(prefix).join("edk2-i386-vars.fd"),
        });
    }
    // Combined images (Debian's /usr/share/ovmf, older layouts).
    for path in [
        "/usr/share/ovmf/OVMF.fd",
        "/usr/share/qemu/OVMF.fd",
        "/usr/pkg/share/ovmf/OVMF.fd",
        "/usr/local/share/ovmf/OVMF.fd",
    ] {
        list.push(Firmware::Unified(PathBuf::from(path)));
    }
    list
}

fn present(fw: &Firmware) -> bool {
    match fw {
        Firmware::Split { code, vars } => code.is_file() && vars.is_file(),
        Firmware::Unified(path) => path.is_file(),
    }
}

fn describe(fw: &Firmware) -> String {
    match fw {
        Firmware::Split { code, vars } => format!("{} + {}", code.display(), vars.display()),
        Firmware::Unified(path) => path.display().to_string(),
    }
}

/// The first candidate whose files exist, or an error listing every place
/// looked at and how to point at firmware elsewhere.
pub fn find_in(candidates: &[Firmware]) -> Result<Firmware> {
    if let Some(fw) = candidates.iter().find(|fw| present(fw)) {
        return Ok(fw.clone());
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|fw| format!("  {}", describe(fw)))
        .collect();
    bail!(
        "no UEFI firmware (OVMF) found for --uefi; looked for:\n{}\ninstall OVMF (Debian: \
         ovmf, Fedora: edk2-ovmf, Arch: edk2-ovmf, FreeBSD: edk2-qemu-x64, pkgsrc/Homebrew: \
         qemu) or set MKIMAGE_OVMF_CODE and MKIMAGE_OVMF_VARS",
        looked.join("\n")
    )
}

/// Firmware from `MKIMAGE_OVMF_CODE`/`MKIMAGE_OVMF_VARS` if set, else the
/// first installed candidate.
pub fn find() -> Result<Firmware> {
    let code = std::env::var_os("MKIMAGE_OVMF_CODE");
    let vars = std::env::var_os("MKIMAGE_OVMF_VARS");
    match (code, vars) {
        (Some(code), Some(vars)) => {
            let fw = Firmware::Split {
                code: code.into(),
                vars: vars.into(),
            };
            if !present(&fw) {
                bail!(
                    "MKIMAGE_OVMF_CODE/MKIMAGE_OVMF_VARS name {}, which does not exist",
                    describe(&fw)
                );
            }
            Ok(fw)
        }
        (Some(_), None) | (None, Some(_)) => {
            bail!("set both MKIMAGE_OVMF_CODE and MKIMAGE_OVMF_VARS, or neither")
        }
        (None, None) => find_in(&candidates()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_firmware_error_lists_every_place_looked_at() {
        let fake = vec![
            Firmware::Split {
                code: "/nonexistent/a/CODE.fd".into(),
                vars: "/nonexistent/a/VARS.fd".into(),
            },
            Firmware::Unified("/nonexistent/b/OVMF.fd".into()),
        ];
        let err = format!("{:#}", find_in(&fake).unwrap_err());
        assert!(
            err.contains("/nonexistent/a/CODE.fd + /nonexistent/a/VARS.fd"),
            "{err}"
        );
        assert!(err.contains("/nonexistent/b/OVMF.fd"), "{err}");
        assert!(err.contains("MKIMAGE_OVMF_CODE"), "{err}");
    }

    #[test]
    fn first_installed_candidate_wins() {
        let dir = tempfile::tempdir().unwrap();
        let code = dir.path().join("CODE.fd");
        let vars = dir.path().join("VARS.fd");
        std::fs::write(&code, b"c").unwrap();
        std::fs::write(&vars, b"v").unwrap();
        let want = Firmware::Split { code, vars };
        let list = vec![
            Firmware::Unified("/nonexistent/OVMF.fd".into()),
            want.clone(),
        ];
        assert_eq!(find_in(&list).unwrap(), want);
    }
}
