//! NetBSD's stock accounts (`etc/master.passwd` and `etc/group` of the
//! source tree): the single table from which the synthetic `etc` set's
//! account files are written and from which every archive member gets its
//! owner by name and by id.

use anyhow::{Result, anyhow};

/// One line of NetBSD's stock `master.passwd`.
struct User {
    name: &'static str,
    /// Empty for root (the set ships root without a password), `*` else.
    password: &'static str,
    uid: u32,
    gid: u32,
    gecos: &'static str,
    home: &'static str,
    shell: &'static str,
}

const fn user(
    name: &'static str,
    uid: u32,
    gid: u32,
    gecos: &'static str,
    home: &'static str,
    shell: &'static str,
) -> User {
    User {
        name,
        password: "*",
        uid,
        gid,
        gecos,
        home,
        shell,
    }
}

const NOLOGIN: &str = "/sbin/nologin";
const PSEUDO: &str = "& pseudo-user";

const USERS: &[User] = &[
    User {
        name: "root",
        password: "",
        uid: 0,
        gid: 0,
        gecos: "Charlie &",
        home: "/root",
        shell: "/bin/sh",
    },
    user("toor", 0, 0, "Bourne-again Superuser", "/root", "/bin/sh"),
    user("daemon", 1, 1, "The devil himself", "/", NOLOGIN),
    user("operator", 2, 5, "System &", "/usr/guest/operator", NOLOGIN),
    user("bin", 3, 7, "Binaries Commands and Source", "/", NOLOGIN),
    user("games", 7, 13, PSEUDO, "/usr/games", NOLOGIN),
    user("postfix", 12, 12, PSEUDO, "/var/spool/postfix", NOLOGIN),
    user("named", 14, 14, PSEUDO, "/var/chroot/named", NOLOGIN),
    user("ntpd", 15, 15, PSEUDO, "/var/chroot/ntpd", NOLOGIN),
    user("sshd", 16, 16, PSEUDO, "/var/chroot/sshd", NOLOGIN),
    user("_pflogd", 18, 18, PSEUDO, "/var/chroot/pflogd", NOLOGIN),
    user("_rwhod", 19, 19, PSEUDO, "/var/rwho", NOLOGIN),
    user("_proxy", 21, 21, "Proxy Services", "/nonexistent", NOLOGIN),
    user("_timedc", 22, 22, PSEUDO, "/nonexistent", NOLOGIN),
    user("_sdpd", 23, 23, PSEUDO, "/nonexistent", NOLOGIN),
    user("_httpd", 24, 24, PSEUDO, "/var/www", NOLOGIN),
    user("_mdnsd", 25, 25, PSEUDO, "/nonexistent", NOLOGIN),
    user("_tests", 26, 26, PSEUDO, "/nonexistent", NOLOGIN),
    user("_tcpdump", 27, 27, PSEUDO, "/var/chroot/tcpdump", NOLOGIN),
    user("_tss", 28, 28, PSEUDO, "/var/tpm", NOLOGIN),
    user("_rtadvd", 30, 30, PSEUDO, "/var/chroot/rtadvd", NOLOGIN),
    user("_unbound", 32, 32, PSEUDO, "/var/chroot/unbound", NOLOGIN),
    user("_nsd", 33, 33, PSEUDO, "/var/chroot/nsd", NOLOGIN),
    user("uucp", 66, 1, "UNIX-to-UNIX Copy", "/nonexistent", NOLOGIN),
    user(
        "nobody",
        32767,
        39,
        "Unprivileged user",
        "/nonexistent",
        NOLOGIN,
    ),
];

/// NetBSD's stock `group`: name, gid, members.
const GROUPS: &[(&str, u32, &str)] = &[
    ("wheel", 0, "root"),
    ("daemon", 1, "daemon"),
    ("kmem", 2, "root"),
    ("sys", 3, "root"),
    ("tty", 4, "root"),
    ("operator", 5, "root"),
    ("mail", 6, ""),
    ("bin", 7, ""),
    ("wsrc", 9, ""),
    ("maildrop", 11, ""),
    ("postfix", 12, ""),
    ("games", 13, ""),
    ("named", 14, ""),
    ("ntpd", 15, ""),
    ("sshd", 16, ""),
    ("_pflogd", 18, ""),
    ("_rwhod", 19, ""),
    ("staff", 20, "root"),
    ("_proxy", 21, ""),
    ("_timedc", 22, ""),
    ("_sdpd", 23, ""),
    ("_httpd", 24, ""),
    ("_mdnsd", 25, ""),
    ("_tests", 26, ""),
    ("_tcpdump", 27, ""),
    ("_tss", 28, ""),
    ("_gpio", 29, ""),
    ("_rtadvd", 30, ""),
    ("guest", 31, "root"),
    ("_unbound", 32, ""),
    ("_nsd", 33, ""),
    ("nvmm", 34, "root"),
    ("nobody", 39, ""),
    ("utmp", 45, ""),
    ("authpf", 72, ""),
    ("users", 100, ""),
    ("dialer", 117, ""),
    ("nogroup", 32766, ""),
];

/// An archive member's owner, by name and by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub uname: &'static str,
    pub uid: u32,
    pub gname: &'static str,
    pub gid: u32,
}

/// The owner `uname:gname` with NetBSD's stock ids.
pub fn owner(uname: &str, gname: &str) -> Result<Owner> {
    let u = USERS
        .iter()
        .find(|u| u.name == uname)
        .ok_or_else(|| anyhow!("user {uname} is not in NetBSD's stock master.passwd"))?;
    let g = GROUPS
        .iter()
        .find(|g| g.0 == gname)
        .ok_or_else(|| anyhow!("group {gname} is not in NetBSD's stock group file"))?;
    Ok(Owner {
        uname: u.name,
        uid: u.uid,
        gname: g.0,
        gid: g.1,
    })
}

/// root:wheel (0:0).
pub fn root() -> Owner {
    Owner {
        uname: "root",
        uid: 0,
        gname: "wheel",
        gid: 0,
    }
}

/// `/etc/master.passwd`: `name:password:uid:gid:class:change:expire:gecos:home:shell`.
pub fn master_passwd() -> String {
    USERS
        .iter()
        .map(|u| {
            format!(
                "{}:{}:{}:{}::0:0:{}:{}:{}\n",
                u.name, u.password, u.uid, u.gid, u.gecos, u.home, u.shell
            )
        })
        .collect()
}

/// `/etc/passwd`: the public copy, passwords replaced by `*`.
pub fn passwd() -> String {
    USERS
        .iter()
        .map(|u| {
            format!(
                "{}:*:{}:{}:{}:{}:{}\n",
                u.name, u.uid, u.gid, u.gecos, u.home, u.shell
            )
        })
        .collect()
}

/// `/etc/group`.
pub fn group() -> String {
    GROUPS
        .iter()
        .map(|(n, gid, members)| format!("{n}:*:{gid}:{members}\n"))
        .collect()
}
