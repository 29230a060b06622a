//! The `functions` file the builds service keeps beside each NetBSD image
//! (`<images>/netbsd/<release>/<arch>/functions`). The runner's `control`
//! script sources it; the shared parts are in [`crate::os::functions`],
//! this file holds the package tool's `install` and `add_repository`.

use anyhow::Result;

/// The pkgin repository list inside the guest.
pub const PKGIN_REPOSITORIES_CONF: &str = "/usr/pkg/etc/pkgin/repositories.conf";

/// The package part of the file: `install` and `add_repository`.
const PACKAGE_FUNCTIONS: &str = r#"
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

"#;

/// The `functions` file for images whose default architecture is `arch`
/// (e.g. `amd64`).
pub fn functions_file(arch: &str) -> Result<String> {
    crate::os::functions::assemble(
        "NetBSD",
        arch,
        "pkgin",
        &PACKAGE_FUNCTIONS.replace("@REPOS_CONF@", PKGIN_REPOSITORIES_CONF),
    )
}
