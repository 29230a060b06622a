//! The configuration files of a FreeBSD builds-service image gathered in
//! one list (path, mode, owner, bytes), ready for an
//! [`crate::entry::EntrySink`], so that the build adds them after the sets
//! and packages in one step. Each file's text comes from
//! [`super::config`].

use anyhow::Result;

use super::config::{
    ENTROPY_BOOT_FILE, ENTROPY_FILE, ENTROPY_MODE, FreebsdConfig, SUDOERS_DROP_IN, SUDOERS_MODE,
    entropy_file, fstab, loader_conf, rc_conf, resolv_conf, sshd_config, sudoers_drop_in, ttys,
};
use crate::entry::{Entry, EntrySink, Timestamp, add_bytes};

/// Texts of the release that are edited rather than replaced.
#[derive(Debug, Clone, Default)]
pub struct ReleaseTexts {
    /// `/etc/ssh/sshd_config` from base.txz.
    pub sshd_config: String,
    /// `/etc/ttys` from base.txz.
    pub ttys: String,
}

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to the image root, like [`Entry::path`].
    pub path: String,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub data: Vec<u8>,
}

fn root_file(path: &str, mode: u16, data: impl Into<Vec<u8>>) -> GeneratedFile {
    GeneratedFile {
        path: path.to_string(),
        mode,
        uid: 0,
        gid: 0,
        data: data.into(),
    }
}

/// Every configuration file of the image, root:wheel: `etc/rc.conf`,
/// `boot/loader.conf`, `etc/fstab`, `etc/resolv.conf`, `etc/ttys`,
/// `etc/ssh/sshd_config`, the sudoers drop-in for `sudo_group`, and the two
/// entropy files from `entropy_boot` and `entropy_late` (4096 random bytes
/// each).
pub fn system_files(
    cfg: &FreebsdConfig,
    release: &ReleaseTexts,
    sudo_group: &str,
    entropy_boot: &[u8],
    entropy_late: &[u8],
) -> Result<Vec<GeneratedFile>> {
    Ok(vec![
        root_file("etc/rc.conf", 0o644, rc_conf(cfg)?),
        root_file("boot/loader.conf", 0o644, loader_conf(cfg)),
        root_file("etc/fstab", 0o644, fstab(cfg)?),
        root_file("etc/resolv.conf", 0o644, resolv_conf(cfg)?),
        root_file("etc/ttys", 0o644, ttys(&release.ttys, cfg.console)),
        root_file(
            "etc/ssh/sshd_config",
            0o644,
            sshd_config(&release.sshd_config),
        ),
        root_file(SUDOERS_DROP_IN, SUDOERS_MODE, sudoers_drop_in(sudo_group)?),
        root_file(ENTROPY_BOOT_FILE, ENTROPY_MODE, entropy_file(entropy_boot)?),
        root_file(ENTROPY_FILE, ENTROPY_MODE, entropy_file(entropy_late)?),
    ])
}

/// Hand `files` to `sink` with modification time `time`.
pub fn add_files(sink: &mut dyn EntrySink, files: &[GeneratedFile], time: Timestamp) -> Result<()> {
    for f in files {
        let entry =
            Entry::file(f.path.clone(), f.mode, f.data.len() as u64, time).owned(f.uid, f.gid);
        add_bytes(sink, entry, &f.data)?;
    }
    Ok(())
}
