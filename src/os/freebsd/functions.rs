//! The `functions` file the builds service keeps beside each FreeBSD image
//! (`<images>/freebsd/<release>/<arch>/functions`). The runner's `control`
//! script sources it; the shared parts are in [`crate::os::functions`],
//! this file holds the package tool's `install` and `add_repository`.

use anyhow::Result;

/// Where `pkg` reads extra repository definitions inside the guest
/// (`REPOS_DIR` defaults to `/etc/pkg/` and `/usr/local/etc/pkg/repos/`).
pub const PKG_REPOS_DIR: &str = "/usr/local/etc/pkg/repos";

/// The package part of the file: `install` and `add_repository`.
const PACKAGE_FUNCTIONS: &str = r#"
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

"#;

/// The `functions` file for images whose default architecture is `arch`
/// (e.g. `amd64`).
pub fn functions_file(arch: &str) -> Result<String> {
    crate::os::functions::assemble(
        "FreeBSD",
        arch,
        "pkg",
        &PACKAGE_FUNCTIONS.replace("@REPOS_DIR@", PKG_REPOS_DIR),
    )
}
