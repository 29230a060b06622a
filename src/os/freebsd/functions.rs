//! The `functions` file the builds service keeps beside each FreeBSD image
//! (`<images>/freebsd/<release>/<arch>/functions`). The runner's `control`
//! script sources it and provides `_boot`, `cpu_opts`, `guest_ssh`,
//! `cmd_boot`, `_wait_boot` and `cmd_cleanup`; these functions run on the
//! host and act on the guest over SSH. POSIX sh only.

use anyhow::{Result, bail};

/// Where `pkg` reads extra repository definitions inside the guest
/// (`REPOS_DIR` defaults to `/etc/pkg/` and `/usr/local/etc/pkg/repos/`).
pub const PKG_REPOS_DIR: &str = "/usr/local/etc/pkg/repos";

const TEMPLATE: &str = r#"#!/bin/sh
# Builds-service functions for a FreeBSD image written by mkimage.
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

# install PORT PACKAGE...: binary packages with pkg (bootstrapped without
# a question if it is missing).
install() {
	port=$1
	shift
	[ $# -gt 0 ] || return 0
	guest_ssh -p "$port" build@localhost -- \
		sudo env ASSUME_ALWAYS_YES=yes pkg install -y "$@"
}

# add_repository PORT NAME URL: one more pkg repository, as a file in
# @REPOS_DIR@/NAME.conf, then refresh the catalogues.
add_repository() {
	port=$1
	name=$2
	src=$3
	case "$name" in
	''|*[!A-Za-z0-9_-]*)
		echo "add_repository: repository name must be letters, digits, _ or -: $name" >&2
		return 1
		;;
	esac
	case "$src" in
	''|*'"'*|*"'"*|*'\'*)
		echo "add_repository: no URL, or quotes or backslashes in it: $src" >&2
		return 1
		;;
	esac
	guest_ssh -p "$port" build@localhost -- \
		"sudo mkdir -p @REPOS_DIR@ && printf '%s: { url: \"%s\", enabled: yes }\n' '$name' '$src' | sudo tee @REPOS_DIR@/$name.conf >/dev/null"
	guest_ssh -p "$port" build@localhost -- \
		sudo env ASSUME_ALWAYS_YES=yes pkg update -f
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
	echo "Testing pkg..."
	install 8022 htop
	echo "Testing git..."
	guest_ssh -p 8022 build@localhost git --version
	echo "Everything works!"
	guest_ssh -p 8022 build@localhost $poweroff_cmd || true
}
"#;

/// The `functions` file for images whose default architecture is `arch`.
pub fn functions_file(arch: &str) -> Result<String> {
    if arch.is_empty() || !arch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        bail!("architecture name {arch:?} must be letters, digits or _");
    }
    Ok(TEMPLATE
        .replace("@DEFAULT_ARCH@", arch)
        .replace("@REPOS_DIR@", PKG_REPOS_DIR))
}
