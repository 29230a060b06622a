//! Configuration files that make the installed packages usable at once:
//! `/etc/pkg_install.conf` (PKG_DBDIR), pkgin's `repositories.conf`, and a
//! sudoers drop-in giving group wheel password-less sudo.

use crate::entry::{Entry, EntrySink, Timestamp, add_bytes};
use anyhow::Result;

/// `/etc/pkg_install.conf`: the tools must use `/usr/pkg/pkgdb` (they fall
/// back to `/var/db/pkg` otherwise, which mkimage never creates).
pub fn pkg_install_conf() -> String {
    format!("PKG_DBDIR={}\n", super::PKG_DBDIR)
}

/// pkgin's `repositories.conf`: one repository URL a line (pkgin expands
/// `$arch` and `$osrelease` itself, so a template may be passed as is).
pub fn repositories_conf(url: &str) -> String {
    format!(
        "# Written by mkimage. pkgin(1) reads one repository URL a line;\n\
         # $arch and $osrelease are expanded by pkgin.\n\
         {url}\n"
    )
}

/// Expand a repository URL template the way pkgin does: `$arch` is the
/// package MACHINE_ARCH (`x86_64`), `$osrelease` the OS release (`10.1`);
/// `${arch}`/`${osrelease}` are accepted too.
pub fn expand_repo_url(template: &str, machine_arch: &str, osrelease: &str) -> String {
    template
        .replace("${arch}", machine_arch)
        .replace("${osrelease}", osrelease)
        .replace("$arch", machine_arch)
        .replace("$osrelease", osrelease)
}

/// Path of pkgin's repositories.conf (absolute).
pub const REPOSITORIES_CONF: &str = "/usr/pkg/etc/pkgin/repositories.conf";
/// sudo reads drop-ins from `@includedir /usr/pkg/etc/sudoers.d` in
/// pkgsrc's default sudoers.
pub const SUDOERS_DROPIN: &str = "/usr/pkg/etc/sudoers.d/wheel";
/// The drop-in's one rule.
pub const SUDOERS_WHEEL_RULE: &str = "%wheel ALL=(ALL) NOPASSWD: ALL\n";

/// Standalone variant of [`super::install::Installer::set_pkgin_repository`]
/// and [`super::install::Installer::set_sudo_wheel`] (prefer those: they
/// run after the packages and create missing parents). Writes pkgin's
/// repositories.conf (when `repo_url` is given) and the
/// sudoers drop-in (when `sudo_wheel`); `/etc/pkg_install.conf` is written
/// by [`super::install::Installer::finish`]. Parent directories
/// are the caller's (the installer creates `usr/pkg/etc` when packages put
/// files there); `usr/pkg/etc/sudoers.d` and `usr/pkg/etc/pkgin` are made
/// here.
pub fn write_conf(
    sink: &mut dyn EntrySink,
    repo_url: Option<&str>,
    sudo_wheel: bool,
    time: Timestamp,
) -> Result<()> {
    if let Some(url) = repo_url {
        sink.add(
            &Entry::dir("usr/pkg/etc/pkgin", 0o755, time),
            &mut std::io::empty(),
        )?;
        add_bytes(
            sink,
            Entry::file(super::entry_path(REPOSITORIES_CONF)?, 0o644, 0, time),
            repositories_conf(url).as_bytes(),
        )?;
    }
    if sudo_wheel {
        sink.add(
            &Entry::dir("usr/pkg/etc/sudoers.d", 0o755, time),
            &mut std::io::empty(),
        )?;
        add_bytes(
            sink,
            Entry::file(super::entry_path(SUDOERS_DROPIN)?, 0o440, 0, time),
            SUDOERS_WHEEL_RULE.as_bytes(),
        )?;
    }
    Ok(())
}
