//! The builds service's `functions` file, as its runner sources it: what
//! every OS shares (the header, `boot`, `sanity_check`) around the part
//! each OS supplies (`install`, `add_repository`). The runner's `control`
//! script provides `_boot`, `cpu_opts`, `guest_ssh`, `cmd_boot`,
//! `_wait_boot` and `cmd_cleanup`; these functions run on the host and act
//! on the guest over SSH. POSIX sh only.

use anyhow::{Result, bail};

const HEAD: &str = r#"#!/bin/sh
# Builds-service functions for a @OS@ image written by mkimage.
# Sourced by the runner's control script (which defines _boot, cpu_opts,
# guest_ssh, cmd_boot, _wait_boot and cmd_cleanup).
poweroff_cmd="sudo poweroff"
default_arch=@DEFAULT_ARCH@

boot() {
	case "$arch" in
	amd64)
		qemu=qemu-system-x86_64
		_boot $(cpu_opts x86_64)
		;;
	*)
		echo "Unsupported architecture $arch" >&2
		exit 1
		;;
	esac
}
"#;

const SANITY_CHECK: &str = r#"sanity_check() {
	echo "Booting..."
	cmd_boot "$default_arch" 8022 qemu &
	trap 'cmd_cleanup 8022' EXIT
	_wait_boot 8022
	echo "Testing sudo..."
	guest_ssh -p 8022 build@localhost sudo ls -a
	echo "Testing networking..."
	guest_ssh -p 8022 build@localhost curl https://example.org
	echo "Testing @PKG_TOOL@..."
	install 8022 htop
	echo "Testing git..."
	guest_ssh -p 8022 build@localhost git --version
	echo "Everything works!"
	guest_ssh -p 8022 build@localhost $poweroff_cmd || true
}
"#;

/// The whole file for `os` (its display name) with default architecture
/// `arch`: the shared parts around `package_functions` (the OS's
/// `install` and `add_repository`), `pkg_tool` naming its package tool in
/// the sanity check's messages.
pub fn assemble(os: &str, arch: &str, pkg_tool: &str, package_functions: &str) -> Result<String> {
    if arch.is_empty() || !arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        bail!("architecture name {arch:?} must be letters, digits or _");
    }
    let mut out = HEAD.replace("@OS@", os).replace("@DEFAULT_ARCH@", arch);
    out.push_str(package_functions);
    out.push_str(&SANITY_CHECK.replace("@PKG_TOOL@", pkg_tool));
    Ok(out)
}
