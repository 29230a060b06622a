//! The QEMU command line of `mkimage run`: the builds service's flags
//! (memory, CPUs, virtio net with user networking and an SSH port forward
//! bound to 127.0.0.1, virtio-rng, virtio-balloon, the disk as virtio with
//! `snapshot=on`, no display) plus what the service leaves implicit: the
//! disk format, the firmware for `--uefi`, the accelerator and the serial
//! console. Also prints it as one shell-quoted line.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use super::firmware::Firmware;
use super::image::DiskFormat;

/// The emulator the builds service runs.
pub const QEMU: &str = "qemu-system-x86_64";

/// How the guest's CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualisation, guest sees the host CPU (`-cpu host`).
    Kvm,
    /// Software emulation (QEMU's default CPU model).
    Tcg,
}

/// Where the guest's first serial port goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serial {
    /// Interactive on the terminal, with QEMU's monitor multiplexed
    /// (Ctrl-A x quits, Ctrl-A c switches to the monitor).
    Terminal,
    /// QEMU's standard output, read by `mkimage` (log file, console tail).
    Captured,
}

/// Everything that decides the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuConfig {
    pub image: PathBuf,
    pub format: DiskFormat,
    pub port: u16,
    pub memory_mib: u32,
    pub cpus: u32,
    /// `None`: legacy BIOS (SeaBIOS), as the builds service boots.
    pub firmware: Option<Firmware>,
    pub accel: Accel,
    pub serial: Serial,
}

/// QEMU option values separate sub-options with commas; a comma inside a
/// value (a file name) is written twice.
fn escape_commas(value: &OsStr) -> OsString {
    let mut out = Vec::with_capacity(value.len());
    for &b in value.as_bytes() {
        out.push(b);
        if b == b',' {
            out.push(b',');
        }
    }
    OsString::from_vec(out)
}

fn joined(prefix: &str, path: &OsStr, suffix: &str) -> OsString {
    let mut s = OsString::from(prefix);
    s.push(escape_commas(path));
    s.push(suffix);
    s
}

/// The argument vector, program name first.
pub fn command_line(cfg: &QemuConfig) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &str| args.push(OsString::from(a));
    push(QEMU);
    push("-m");
    push(&cfg.memory_mib.to_string());
    push("-smp");
    push(&format!("cpus={}", cfg.cpus));
    push("-net");
    push("nic,model=virtio");
    push("-net");
    push(&format!("user,hostfwd=tcp:127.0.0.1:{}-:22", cfg.port));
    push("-display");
    push("none");
    push("-device");
    push("virtio-rng-pci");
    push("-device");
    push("virtio-balloon");
    args.push("-drive".into());
    args.push(joined(
        "file=",
        cfg.image.as_os_str(),
        &format!(
            ",media=disk,snapshot=on,if=virtio,format={}",
            cfg.format.qemu_name()
        ),
    ));
    match &cfg.firmware {
        None => {}
        Some(Firmware::Split { code, vars }) => {
            args.push("-drive".into());
            args.push(joined(
                "if=pflash,format=raw,readonly=on,file=",
                code.as_os_str(),
                "",
            ));
            args.push("-drive".into());
            args.push(joined(
                "if=pflash,format=raw,snapshot=on,file=",
                vars.as_os_str(),
                "",
            ));
        }
        Some(Firmware::Unified(path)) => {
            args.push("-bios".into());
            args.push(path.clone().into_os_string());
        }
    }
    match cfg.accel {
        Accel::Kvm => {
            args.extend(["-accel", "kvm", "-cpu", "host"].map(OsString::from));
        }
        Accel::Tcg => args.extend(["-accel", "tcg"].map(OsString::from)),
    }
    match cfg.serial {
        Serial::Terminal => args.extend(["-serial", "mon:stdio"].map(OsString::from)),
        Serial::Captured => {
            args.extend(["-serial", "stdio", "-monitor", "none"].map(OsString::from))
        }
    }
    args
}

/// One argument as POSIX sh reads it back: bare when it has only safe
/// characters, else in single quotes.
pub fn shell_quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b));
    if safe {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The whole command as one shell line.
pub fn shell_line(args: &[OsString]) -> String {
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_in_file_names_are_doubled_and_odd_names_quoted() {
        let cfg = QemuConfig {
            image: PathBuf::from("/tmp/a,b c.qcow2"),
            format: DiskFormat::Qcow2,
            port: 2222,
            memory_mib: 4096,
            cpus: 2,
            firmware: None,
            accel: Accel::Tcg,
            serial: Serial::Captured,
        };
        let line = shell_line(&command_line(&cfg));
        assert!(
            line.contains(
                "-drive 'file=/tmp/a,,b c.qcow2,media=disk,snapshot=on,if=virtio,format=qcow2'"
            ),
            "{line}"
        );
        assert_eq!(shell_quote(OsStr::new("it's")), "'it'\\''s'");
    }
}
