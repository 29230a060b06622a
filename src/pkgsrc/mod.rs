//! pkgsrc binary packages installed at image build time, the way `pkg_add`
//! would install them, but into an [`crate::entry::EntrySink`] instead of
//! a running system: repository index (`pkg_summary`) and dependency
//! resolution, package archives, `+INSTALL` data lines carried out
//! natively, the pkgdb (`/usr/pkg/pkgdb`, `pkgdb.byfile.db`) and the
//! configuration files pkgin and sudo need.
//!
//! Flow for one image (the caller owns fetching and the accounts files):
//! 1. [`summary::decode_summary`] + [`summary::parse_summary`], then
//!    [`resolve::resolve`] with the package list ([`summary::parse_pkg_list`]);
//! 2. [`install::install_packages`] with an [`install::Installer`] (told
//!    which paths the sets already hold, [`install::Installer::mark_existing`]),
//!    a function opening each package file, and the image's accounts
//!    ([`install::Accounts`]): per package it checks FILE_SIZE/FILE_CKSUM,
//!    reads the metadata ([`install::Installer::prepare`]), adds the users
//!    and groups the package asks for, installs the payload and pkgdb
//!    directory, and finally writes `+REQUIRED_BY`, `pkgdb.byfile.db`, the
//!    Info `dir` index, deferred first-boot steps and `/etc/pkg_install.conf`;
//! 3. the caller appends [`install::FinishReport::shells`] to `/etc/shells`
//!    ([`install::add_shells`]) and writes [`conf::write_conf`]
//!    (pkgin's repositories.conf, the sudoers drop-in).

pub mod archive;
pub mod check;
pub mod conf;
mod contents;
mod deferred;
pub mod infodir;
pub mod install;
pub mod install_script;
pub mod pkgdb;
pub mod resolve;
pub mod summary;

/// Where pkgsrc packages for NetBSD live (`LOCALBASE`).
pub const PREFIX: &str = "/usr/pkg";
/// The package database on NetBSD 10 (`PKG_DBDIR`), absolute.
pub const PKG_DBDIR: &str = "/usr/pkg/pkgdb";

/// The platform packages must have been built for (`+BUILD_INFO`'s OPSYS,
/// MACHINE_ARCH, OS_VERSION), e.g. NetBSD / x86_64 / 10.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub opsys: String,
    pub machine_arch: String,
    pub os_version: String,
    /// The image's pkg_install version (`PKGTOOLS_VERSION`, e.g. 20211115),
    /// when known: packages built with a newer one are refused, as
    /// `pkg_add` does.
    pub pkgtools_version: Option<u32>,
}

impl Target {
    pub fn new(opsys: &str, machine_arch: &str, os_version: &str) -> Self {
        Target {
            opsys: opsys.to_string(),
            machine_arch: machine_arch.to_string(),
            os_version: os_version.to_string(),
            pkgtools_version: None,
        }
    }

    /// The same target with the image's pkg_install version.
    pub fn with_pkgtools_version(mut self, version: u32) -> Self {
        self.pkgtools_version = Some(version);
        self
    }
}

/// Turn an absolute path of the target (`/usr/pkg/bin/sudo`) into the
/// normalised [`crate::entry::Entry::path`] form (`usr/pkg/bin/sudo`),
/// refusing `..`, `.` and empty components.
pub fn entry_path(abs: &str) -> anyhow::Result<String> {
    let mut parts = Vec::new();
    for c in abs.split('/') {
        match c {
            "" | "." => continue,
            ".." => {
                anyhow::bail!("path {abs:?} contains '..'; refusing to install outside the prefix")
            }
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}
