//! The first-boot fallback for install steps that cannot be carried out
//! at build time: `/var/db/mkimage/deferred` (one `<package> <stage>
//! <script>` line each), the scripts in `/var/db/mkimage/deferred.d/`, and
//! `/etc/rc.d/mkimage_deferred`, which runs each listed step once.

use super::install::DeferredItem;

/// The files to write for `items`: (absolute path, mode, contents).
pub fn files(items: &[DeferredItem]) -> Vec<(String, u16, String)> {
    let mut out = Vec::new();
    let mut list = String::from(
        "# Package install steps mkimage could not carry out at build time.\n\
         # /etc/rc.d/mkimage_deferred runs each once at first boot:\n\
         # <package> <stage> <script>\n",
    );
    for (i, item) in items.iter().enumerate() {
        let script_path = format!(
            "/var/db/mkimage/deferred.d/{:03}-{}.sh",
            i + 1,
            item.package
        );
        let body = if item.part.command.is_empty() {
            let header = if item.header.trim().is_empty() {
                "#!/bin/sh\nPKGNAME=\"$1\"\nSTAGE=\"$2\"\nshift 2".to_string()
            } else {
                item.header.clone()
            };
            format!(
                "{header}\n# {} section of +INSTALL\n{}\n",
                item.part.template,
                item.part.lines.join("\n")
            )
        } else {
            format!(
                "#!/bin/sh\nPKGNAME=\"$1\"\nSTAGE=\"$2\"\nPKG_METADATA_DIR=\"$(pwd)\"\nexport PKGNAME PKG_METADATA_DIR\n{}\n",
                item.part.command
            )
        };
        list.push_str(&format!(
            "{} {} {script_path}\n",
            item.package, item.part.stage
        ));
        out.push((script_path, 0o555, body));
    }
    out.push(("/var/db/mkimage/deferred".to_string(), 0o644, list));
    out.push((
        "/etc/rc.d/mkimage_deferred".to_string(),
        0o555,
        RC_SCRIPT.to_string(),
    ));
    out
}

/// First-boot fallback: runs each deferred step once, then renames the list
/// so it never runs again. No rcvar: it does nothing when the list is gone.
const RC_SCRIPT: &str = r#"#!/bin/sh
#
# PROVIDE: mkimage_deferred
# REQUIRE: DAEMON
# BEFORE: LOGIN
#
# Written by mkimage: package install steps that could not be carried
# out when the image was built, run once at first boot.

$_rc_subr_loaded . /etc/rc.subr

name="mkimage_deferred"
start_cmd="mkimage_deferred_start"
stop_cmd=":"

mkimage_deferred_start()
{
	list=/var/db/mkimage/deferred
	[ -f "$list" ] || return 0
	grep -v '^#' "$list" | while read pkg stage script; do
		[ -n "$script" ] || continue
		echo "mkimage: running deferred $stage step of $pkg"
		(cd "/usr/pkg/pkgdb/$pkg" && PKG_METADATA_DIR="/usr/pkg/pkgdb/$pkg" \
			PKG_PREFIX=/usr/pkg PKG_DBDIR=/usr/pkg/pkgdb \
			sh "$script" "$pkg" "$stage") ||
			echo "mkimage: deferred $stage step of $pkg failed"
	done
	mv "$list" "$list.done"
}

load_rc_config $name
run_rc_command "$1"
"#;
