//! The `functions` file the builds service keeps beside each NetBSD image
//! (`<images>/netbsd/<release>/<arch>/functions`). The runner's `control`
//! script sources it and provides `_boot`, `cpu_opts`, `guest_ssh`,
//! `cmd_boot`, `_wait_boot` and `cmd_cleanup`; these functions run on the
//! host and act on the guest over SSH. POSIX sh only.

use anyhow::{Result, bail};

/// The pkgin repository list inside the guest.
pub const PKGIN_REPOSITORIES_CONF: &str = "/usr/pkg/etc/pkgin/repositories.conf";

const TEMPLATE: &str = r#"#!/bin/sh
# Builds-service functions for a NetBSD image written by mkimage.
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

# install PORT PACKAGE...: binary packages with pkgin.
install() {
	port=$1
	shift
	[ $# -gt 0 ] || return 0
	guest_ssh -p "$port" build@localhost -- sudo pkgin -y update
	guest_ssh -p "$port" build@localhost -- sudo pkgin -y install "$@"
}

# add_repository PORT NAME URL: one more pkgin repository (a URL as
# pkgin's repositories.conf writes it), then refresh the catalogue.
add_repository() {
	port=$1
	name=$2
	src=$3
	case "$name$src" in
	*"'"*|*'\'*)
		echo "add_repository: quotes and backslashes are not allowed: $name $src" >&2
		return 1
		;;
	esac
	if [ -z "$src" ]; then
		echo "add_repository: no URL given for $name" >&2
		return 1
	fi
	guest_ssh -p "$port" build@localhost -- \
		"printf '%s\n' '# $name' '$src' | sudo tee -a @REPOS_CONF@ >/dev/null"
	guest_ssh -p "$port" build@localhost -- sudo pkgin -y update
}

sanity_check() {
	echo "Booting..."
	cmd_boot "$default_arch" 8022 qemu &
	trap 'cmd_cleanup 8022' EXIT
	_wait_boot 8022
	echo "Testing sudo..."
	guest_ssh -p 8022 build@localhost sudo ls -a
	echo "Testing networking..."
	guest_ssh -p 8022 build@localhost curl https://example.org
	echo "Testing pkgin..."
	install 8022 htop
	echo "Testing git..."
	guest_ssh -p 8022 build@localhost git --version
	echo "Everything works!"
	guest_ssh -p 8022 build@localhost $poweroff_cmd || true
}
"#;

/// The `functions` file for images whose default architecture is `arch`
/// (e.g. `amd64`).
pub fn functions_file(arch: &str) -> Result<String> {
    if arch.is_empty() || !arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        bail!("architecture name {arch:?} must be letters, digits or _");
    }
    Ok(TEMPLATE
        .replace("@DEFAULT_ARCH@", arch)
        .replace("@REPOS_CONF@", PKGIN_REPOSITORIES_CONF))
}
