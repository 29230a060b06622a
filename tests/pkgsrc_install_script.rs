//! Reading the data lines and free-form parts of `+INSTALL` scripts laid
//! out the way `mk/pkginstall` assembles them.

use mkimage::pkgsrc::install_script::{AccountRequest, parse};

const SCRIPT: &str = "#!/bin/sh
#
# $NetBSD: header,v 1.2 2006/07/19 22:26:26 jlam Exp $

SELF=\"$0\"
PKGNAME=\"$1\"
STAGE=\"$2\"
shift 2
PREFIX=\"/usr/pkg\"

# USER: tor:tor:1234:Tor daemon:/var/chroot/tor:/sbin/nologin
# USER: tor:tor:1234:Tor daemon:/var/chroot/tor:/sbin/nologin
# USER: nogroup
# GROUP: tor:1234
# DIR: /var/chroot/tor mo 0700 tor tor
# DIR: share/tor m
# FILE: /usr/pkg/etc/tor/torrc c share/examples/tor/torrc.sample 0644
# PERMS: bin/tor-helper 4555 root wheel
# SHELL: bin/zsh
# SHELL: bin/zsh
# INFO: /usr/pkg/info/tor.info /usr/pkg/info

# $NetBSD: usergroupfuncs,v 1.1 2006/05/21 23:50:15 jlam Exp $
adduser() { useradd \"$1\"; }

# $NetBSD: usergroup,v 1.2 2006/07/19 22:26:26 jlam Exp $
case \"${STAGE},$1\" in
UNPACK,|UNPACK,+USERGROUP)
	: body
	;;
esac

# $NetBSD: info-files,v 1.10 2009/02/02 12:35:01 joerg Exp $
case \"${STAGE},$1\" in
UNPACK,|UNPACK,+INFO_FILES)
	: body
	;;
esac

# $NetBSD: INSTALL,v 1.3 2020/01/01 00:00:00 pkgsrc Exp $
case ${STAGE} in
PRE-INSTALL)
	${CHMOD} 700 /var/chroot/tor
	;;
esac

# $NetBSD: install,v 1.3 2014/12/30 15:13:20 wiz Exp $
case ${STAGE} in
PRE-INSTALL)
	${SH} ${SELF} ${PKGNAME} UNPACK
	;;
esac

# $NetBSD: footer,v 1.1 2006/05/21 23:50:15 jlam Exp $
exit 0
";

#[test]
fn data_lines_are_read_in_pkgsrc_formats() {
    let s = parse(SCRIPT);
    assert_eq!(
        s.accounts,
        [
            AccountRequest::User {
                name: "tor".into(),
                group: "tor".into(),
                uid: Some(1234),
                descr: "Tor daemon".into(),
                home: "/var/chroot/tor".into(),
                shell: "/sbin/nologin".into(),
            },
            AccountRequest::Group {
                name: "tor".into(),
                gid: Some(1234)
            },
        ],
        "duplicates collapse; a USER line without a group is skipped like +USERGROUP does"
    );
    assert_eq!(s.dirs.len(), 2);
    assert_eq!(
        (
            s.dirs[0].flags.as_str(),
            s.dirs[0].mode.as_deref(),
            s.dirs[0].user.as_deref(),
            s.dirs[0].group.as_deref()
        ),
        ("mo", Some("0700"), Some("tor"), Some("tor"))
    );
    assert_eq!(
        (s.dirs[1].path.as_str(), s.dirs[1].mode.as_deref()),
        ("share/tor", None)
    );
    assert_eq!(s.files[0].example, "share/examples/tor/torrc.sample");
    assert_eq!(
        (s.files[0].mode.as_deref(), s.files[0].user.as_deref()),
        (Some("0644"), None)
    );
    assert_eq!(s.perms[0].mode.as_deref(), Some("4555"));
    assert_eq!(s.shells, ["bin/zsh"]);
    assert_eq!(s.infos.len(), 1);
    assert_eq!(
        (s.infos[0].file.as_str(), s.infos[0].infodir.as_deref()),
        ("/usr/pkg/info/tor.info", Some("/usr/pkg/info"))
    );
    assert!(s.header.contains("STAGE=\"$2\""));
}

#[test]
fn only_parts_that_cannot_be_replayed_are_deferred() {
    let s = parse(SCRIPT);
    let parts: Vec<(&str, &str)> = s
        .deferred
        .iter()
        .map(|d| (d.template.as_str(), d.stage.as_str()))
        .collect();
    // info-files is carried out natively from the # INFO: lines.
    assert_eq!(parts, [("INSTALL", "PRE-INSTALL")]);
    assert!(s.deferred[0].command.is_empty());
    assert!(s.deferred[0].lines.iter().any(|l| l.contains("CHMOD} 700")));
}

#[test]
fn script_with_only_standard_templates_defers_nothing() {
    let plain: String = SCRIPT
        .split("# $NetBSD: info-files")
        .next()
        .map(|head| {
            format!("{head}# $NetBSD: footer,v 1.1 2006/05/21 23:50:15 jlam Exp $\nexit 0\n")
        })
        .unwrap();
    assert!(parse(&plain).deferred.is_empty());
}
