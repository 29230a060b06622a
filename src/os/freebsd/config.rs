//! FreeBSD system configuration for a builds-service image: `/etc/rc.conf`
//! (a new file: the release ships only `/etc/defaults/rc.conf`),
//! `/boot/loader.conf`, `/etc/fstab`, `/etc/resolv.conf`, `/etc/ttys`,
//! `/etc/ssh/sshd_config`, the sudoers drop-in and the entropy files the
//! loader and `rc.d/random` read, each a pure function of a
//! [`FreebsdConfig`] and, for files the release ships, of its text
//! (edited, never replaced).

use std::fmt::Write as _;

use anyhow::{Result, bail};

pub use crate::os::common::{Network, gitconfig};
use crate::os::common::{check_rc_name, check_rc_value, check_word};
use crate::os::sshd::edit_sshd_config;

/// Where the loader and the kernel put the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// The video console only (`vidconsole`).
    Video,
    /// The first serial port only (`comconsole`, ttyu0).
    Serial { speed: u32 },
    /// Both, serial first (`comconsole,vidconsole`, `boot_multicons`).
    Dual { speed: u32 },
}

impl Console {
    fn speed(self) -> Option<u32> {
        match self {
            Console::Video => None,
            Console::Serial { speed } | Console::Dual { speed } => Some(speed),
        }
    }
}

/// The system settings the generators need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreebsdConfig {
    pub hostname: String,
    pub network: Network,
    pub nameservers: Vec<String>,
    pub console: Console,
    /// Seconds the loader waits before booting (`autoboot_delay`); 0 boots
    /// at once.
    pub autoboot_delay: u32,
    /// GPT label of the root partition (`/dev/gpt/<label>` in fstab).
    pub root_label: String,
    /// GPT label of the swap partition, when there is one.
    pub swap_label: Option<String>,
    /// Services switched on (`<name>_enable="YES"`) or off, in order.
    pub services: Vec<(String, bool)>,
    /// Further rc.conf settings, written as `name="value"` in order.
    pub rc_conf: Vec<(String, String)>,
}

impl FreebsdConfig {
    /// The builds-service defaults: hostname `build`, static QEMU user
    /// networking on `vtnet0`, serial console at 115200, no loader wait,
    /// root labelled `rootfs`, no swap; sshd and ntpd on, every sendmail
    /// part off, no crash dumps.
    pub fn builds_service() -> Self {
        FreebsdConfig {
            hostname: "build".into(),
            network: Network::Static {
                iface: "vtnet0".into(),
                addr: "10.0.2.15".into(),
                prefix: 24,
                gateway: "10.0.2.2".into(),
            },
            nameservers: vec!["10.0.2.3".into()],
            console: Console::Serial { speed: 115200 },
            autoboot_delay: 0,
            root_label: "rootfs".into(),
            swap_label: None,
            services: vec![
                ("sshd".into(), true),
                ("ntpd".into(), true),
                ("sendmail".into(), false),
                ("sendmail_submit".into(), false),
                ("sendmail_outbound".into(), false),
                ("sendmail_msp_queue".into(), false),
            ],
            rc_conf: vec![("dumpdev".into(), "NO".into())],
        }
    }
}

impl FreebsdConfig {
    /// The settings a recipe asks for: `[network]` (interface default
    /// `vtnet0`), `[boot]` (`com0` → serial console at `speed`, `pc` →
    /// video; `timeout` → `autoboot_delay`), `[disk]` root label and swap
    /// (labelled `swapfs`), and `[rc-conf]` written as given (name order).
    pub fn from_recipe(r: &crate::recipe::Recipe) -> Result<Self> {
        let iface = r
            .network
            .interface
            .clone()
            .unwrap_or_else(|| "vtnet0".to_string());
        let network = match r.network.mode {
            crate::recipe::NetworkMode::Static => {
                let (addr, prefix) = r.network.address_and_prefix()?;
                Network::Static {
                    iface,
                    addr: addr.to_string(),
                    prefix,
                    gateway: r.network.gateway.clone(),
                }
            }
            crate::recipe::NetworkMode::Dhcp => Network::Dhcp { iface },
        };
        let console = match r.boot.console {
            crate::recipe::Console::Com0 => Console::Serial {
                speed: r.boot.speed,
            },
            crate::recipe::Console::Pc => Console::Video,
        };
        Ok(FreebsdConfig {
            hostname: r.network.hostname.clone(),
            network,
            nameservers: r.network.nameservers.clone(),
            console,
            autoboot_delay: r.boot.timeout,
            root_label: r.disk.root_label.clone(),
            swap_label: r.disk.swap.map(|_| super::boot::SWAP_LABEL.to_string()),
            services: Vec::new(),
            rc_conf: r
                .rc_conf
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}

/// `/etc/rc.conf`: hostname, network (`ifconfig_<if>="inet A/P"` and
/// `defaultrouter`, or `SYNCDHCP` so that the address is there before
/// sshd starts), `<service>_enable` lines, then the extra settings. No
/// `growfs_enable`: under `snapshot=on` it would run on every job.
pub fn rc_conf(cfg: &FreebsdConfig) -> Result<String> {
    check_word("hostname", &cfg.hostname)?;
    let mut settings: Vec<(String, String)> = vec![("hostname".into(), cfg.hostname.clone())];
    match &cfg.network {
        Network::Static {
            iface,
            addr,
            prefix,
            gateway,
        } => {
            check_word("interface", iface)?;
            check_word("address", addr)?;
            check_word("gateway", gateway)?;
            if *prefix > 32 {
                bail!("IPv4 prefix length {prefix} is larger than 32");
            }
            settings.push((format!("ifconfig_{iface}"), format!("inet {addr}/{prefix}")));
            settings.push(("defaultrouter".into(), gateway.clone()));
        }
        Network::Dhcp { iface } => {
            check_word("interface", iface)?;
            settings.push((format!("ifconfig_{iface}"), "SYNCDHCP".into()));
        }
    }
    for (name, on) in &cfg.services {
        let value = if *on { "YES" } else { "NO" };
        settings.push((format!("{name}_enable"), value.into()));
    }
    settings.extend(cfg.rc_conf.iter().cloned());
    let mut out = String::from("# Generated by mkimage for the builds service.\n");
    for (name, value) in &settings {
        check_rc_name(name)?;
        check_rc_value(name, value)?;
        let _ = writeln!(out, "{name}=\"{value}\"");
    }
    Ok(out)
}

/// `/boot/loader.conf`: no wait, the console, and its speed.
pub fn loader_conf(cfg: &FreebsdConfig) -> String {
    let mut out = String::from("# Generated by mkimage.\n");
    let _ = writeln!(out, "autoboot_delay=\"{}\"", cfg.autoboot_delay);
    match cfg.console {
        Console::Video => out.push_str("console=\"vidconsole\"\n"),
        Console::Serial { .. } => {
            out.push_str("boot_serial=\"YES\"\n");
            out.push_str("console=\"comconsole\"\n");
        }
        Console::Dual { .. } => {
            out.push_str("boot_multicons=\"YES\"\n");
            out.push_str("boot_serial=\"YES\"\n");
            out.push_str("console=\"comconsole,vidconsole\"\n");
        }
    }
    if let Some(speed) = cfg.console.speed() {
        let _ = writeln!(out, "comconsole_speed=\"{speed}\"");
    }
    out
}

/// `/etc/fstab`: the root by GPT label (`/dev/gpt/<label>`, as the
/// release's VM images do), `noatime`, checked first; swap by label when
/// there is a swap partition.
pub fn fstab(cfg: &FreebsdConfig) -> Result<String> {
    check_word("root label", &cfg.root_label)?;
    let mut out = format!(
        "# Device\t\tMountpoint\tFStype\tOptions\t\tDump\tPass#\n\
         /dev/gpt/{}\t/\t\tufs\trw,noatime\t1\t1\n",
        cfg.root_label
    );
    if let Some(swap) = &cfg.swap_label {
        check_word("swap label", swap)?;
        let _ = writeln!(out, "/dev/gpt/{swap}\tnone\t\tswap\tsw\t\t0\t0");
    }
    Ok(out)
}

/// `/etc/resolv.conf`.
pub fn resolv_conf(cfg: &FreebsdConfig) -> Result<String> {
    let mut out = String::new();
    for ns in &cfg.nameservers {
        check_word("name server", ns)?;
        let _ = writeln!(out, "nameserver {ns}");
    }
    Ok(out)
}

/// `/etc/ttys`: with a serial console the `ttyu0` getty is switched from
/// `onifconsole` (or `off`) to `on`, keeping its command, terminal type
/// and flags; a missing `ttyu0` line is added. With the video console the
/// release's file is returned unchanged.
pub fn ttys(set_ttys: &str, console: Console) -> String {
    if console == Console::Video {
        return set_ttys.to_string();
    }
    let mut out = String::with_capacity(set_ttys.len() + 64);
    let mut found = false;
    for line in set_ttys.lines() {
        if line.split_whitespace().next() == Some("ttyu0") {
            out.push_str(&switch_status_on(line));
            found = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !found {
        out.push_str("ttyu0\t\"/usr/libexec/getty 3wire\"\tvt100\ton secure\n");
    }
    out
}

/// The status word (`on`, `off`, `onifconsole`, `onifexists`) after the
/// quoted command and the terminal type becomes `on`.
fn switch_status_on(line: &str) -> String {
    let start = line.rfind('"').map_or(0, |i| i + 1);
    let (head, tail) = line.split_at(start);
    let mut out = String::from(head);
    let mut word = String::new();
    let mut replaced = false;
    let mut flush = |word: &mut String, out: &mut String| {
        if !replaced && matches!(word.as_str(), "on" | "off" | "onifconsole" | "onifexists") {
            out.push_str("on");
            replaced = true;
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in tail.chars() {
        if c == ' ' || c == '\t' {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The sshd settings for empty-password logins: FreeBSD's sshd defaults
/// `PasswordAuthentication` to no and authenticates through PAM, whose
/// `pam_unix` refuses empty passwords; without PAM, sshd's own password
/// check accepts an empty one when `PermitEmptyPasswords` is yes. `UseDNS
/// no` spares every login a reverse lookup of the QEMU gateway.
pub const SSHD_SETTINGS: [(&str, &str); 4] = [
    ("PasswordAuthentication", "yes"),
    ("PermitEmptyPasswords", "yes"),
    ("UsePAM", "no"),
    ("UseDNS", "no"),
];

/// `/etc/ssh/sshd_config` with [`SSHD_SETTINGS`] (commented defaults stay).
pub fn sshd_config(set_text: &str) -> String {
    edit_sshd_config(set_text, &SSHD_SETTINGS)
}

/// Where sudo (from packages, prefix `/usr/local`) reads drop-ins; its
/// stock sudoers ends in `@includedir /usr/local/etc/sudoers.d`.
pub const SUDOERS_DROP_IN: &str = "usr/local/etc/sudoers.d/wheel";
/// visudo's mode for sudoers files.
pub const SUDOERS_MODE: u16 = 0o440;

/// The sudoers drop-in: members of `group` run anything without a password.
pub fn sudoers_drop_in(group: &str) -> Result<String> {
    check_word("sudo group", group)?;
    Ok(format!("%{group} ALL=(ALL) NOPASSWD: ALL\n"))
}

/// Seed the loader reads early (`entropy_cache_name` in
/// /boot/defaults/loader.conf) and hands to the kernel.
pub const ENTROPY_BOOT_FILE: &str = "boot/entropy";
/// Seed `rc.d/random` feeds to `/dev/random` (`entropy_file` in
/// /etc/defaults/rc.conf).
pub const ENTROPY_FILE: &str = "entropy";
/// Both files are `0600 root:wheel`, as `save-entropy` writes them.
pub const ENTROPY_MODE: u16 = 0o600;
/// Their size: 4096 bytes (`entropy_save_sz` in /etc/defaults/rc.conf,
/// what `rc.d/random` writes with `dd bs=4096 count=1`).
pub const ENTROPY_SIZE: usize = 4096;

/// An entropy file's contents: exactly [`ENTROPY_SIZE`] caller-supplied
/// random bytes (the files are raw bytes, no header).
pub fn entropy_file(random: &[u8]) -> Result<Vec<u8>> {
    if random.len() != ENTROPY_SIZE {
        bail!(
            "an entropy file takes {ENTROPY_SIZE} random bytes, {} given",
            random.len()
        );
    }
    Ok(random.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_become_on_and_nothing_else_changes() {
        assert_eq!(
            switch_status_on("ttyu0\t\"/usr/libexec/getty 3wire\"\tvt100\tonifconsole secure"),
            "ttyu0\t\"/usr/libexec/getty 3wire\"\tvt100\ton secure"
        );
        assert_eq!(
            switch_status_on("ttyu0 \"/usr/libexec/getty on\" vt100 off secure"),
            "ttyu0 \"/usr/libexec/getty on\" vt100 on secure"
        );
    }
}
