//! FreeBSD's stock accounts and the `/etc` text files of a synthetic
//! `base.txz`: `master.passwd` and `group` as FreeBSD 14 ships them (the
//! table every archive member takes its owner from), `/etc/defaults/rc.conf`
//! (no `/etc/rc.conf`: the installer writes that), an `sshd_config` with
//! the defaults commented out, `ttys` with `ttyu0` `onifconsole`,
//! `login.conf`, `shells` and the `BSD.*.dist` mtree specs.

use anyhow::{Result, anyhow};

use super::accounts::Owner;

const NOLOGIN: &str = "/usr/sbin/nologin";

/// FreeBSD 14's `etc/master.passwd`: name, uid, gid, gecos, home, shell.
const USERS: &[(&str, u32, u32, &str, &str, &str)] = &[
    ("root", 0, 0, "Charlie &", "/root", "/bin/sh"),
    ("toor", 0, 0, "Bourne-again Superuser", "/root", ""),
    (
        "daemon",
        1,
        1,
        "Owner of many system processes",
        "/root",
        NOLOGIN,
    ),
    ("operator", 2, 5, "System &", "/", NOLOGIN),
    ("bin", 3, 7, "Binaries Commands and Source", "/", NOLOGIN),
    ("tty", 4, 65533, "Tty Sandbox", "/", NOLOGIN),
    ("kmem", 5, 65533, "KMem Sandbox", "/", NOLOGIN),
    ("games", 7, 13, "Games pseudo-user", "/", NOLOGIN),
    ("news", 8, 8, "News Subsystem", "/", NOLOGIN),
    ("man", 9, 9, "Mister Man Pages", "/usr/share/man", NOLOGIN),
    ("sshd", 22, 22, "Secure Shell Daemon", "/var/empty", NOLOGIN),
    (
        "smmsp",
        25,
        25,
        "Sendmail Submission User",
        "/var/spool/clientmqueue",
        NOLOGIN,
    ),
    (
        "mailnull",
        26,
        26,
        "Sendmail Default User",
        "/var/spool/mqueue",
        NOLOGIN,
    ),
    ("bind", 53, 53, "Bind Sandbox", "/", NOLOGIN),
    (
        "unbound",
        59,
        59,
        "Unbound DNS Resolver",
        "/var/unbound",
        NOLOGIN,
    ),
    (
        "proxy",
        62,
        62,
        "Packet Filter pseudo-user",
        "/nonexistent",
        NOLOGIN,
    ),
    (
        "_pflogd",
        64,
        64,
        "pflogd privsep user",
        "/var/empty",
        NOLOGIN,
    ),
    ("_dhcp", 65, 65, "dhcp programs", "/var/empty", NOLOGIN),
    (
        "uucp",
        66,
        66,
        "UUCP pseudo-user",
        "/var/spool/uucppublic",
        "/usr/local/libexec/uucp/uucico",
    ),
    ("pop", 68, 6, "Post Office Owner", "/nonexistent", NOLOGIN),
    (
        "auditdistd",
        78,
        77,
        "Auditdistd unprivileged user",
        "/var/empty",
        NOLOGIN,
    ),
    (
        "www",
        80,
        80,
        "World Wide Web Owner",
        "/nonexistent",
        NOLOGIN,
    ),
    ("ntpd", 123, 123, "NTP Daemon", "/var/db/ntp", NOLOGIN),
    (
        "_ypldap",
        160,
        160,
        "YP LDAP unprivileged user",
        "/var/empty",
        NOLOGIN,
    ),
    (
        "hast",
        845,
        845,
        "HAST unprivileged user",
        "/var/empty",
        NOLOGIN,
    ),
    (
        "tests",
        977,
        977,
        "Unprivileged user for tests",
        "/nonexistent",
        NOLOGIN,
    ),
    (
        "nobody",
        65534,
        65534,
        "Unprivileged user",
        "/nonexistent",
        NOLOGIN,
    ),
];

/// FreeBSD 14's `etc/group`: name, gid, members.
const GROUPS: &[(&str, u32, &str)] = &[
    ("wheel", 0, "root"),
    ("daemon", 1, ""),
    ("kmem", 2, ""),
    ("sys", 3, ""),
    ("tty", 4, ""),
    ("operator", 5, "root"),
    ("mail", 6, ""),
    ("bin", 7, ""),
    ("news", 8, ""),
    ("man", 9, ""),
    ("games", 13, ""),
    ("ftp", 14, ""),
    ("staff", 20, ""),
    ("sshd", 22, ""),
    ("smmsp", 25, ""),
    ("mailnull", 26, ""),
    ("guest", 31, ""),
    ("video", 44, ""),
    ("realtime", 47, ""),
    ("bind", 53, ""),
    ("unbound", 59, ""),
    ("proxy", 62, ""),
    ("authpf", 63, ""),
    ("_pflogd", 64, ""),
    ("_dhcp", 65, ""),
    ("uucp", 66, ""),
    ("dialer", 68, ""),
    ("network", 69, ""),
    ("audit", 77, ""),
    ("www", 80, ""),
    ("u2f", 116, ""),
    ("ntpd", 123, ""),
    ("_ypldap", 160, ""),
    ("hast", 845, ""),
    ("tests", 977, ""),
    ("nogroup", 65533, ""),
    ("nobody", 65534, ""),
];

/// The owner `uname:gname` with FreeBSD's stock ids.
pub fn owner(uname: &str, gname: &str) -> Result<Owner> {
    let u = USERS
        .iter()
        .find(|u| u.0 == uname)
        .ok_or_else(|| anyhow!("user {uname} is not in FreeBSD's stock master.passwd"))?;
    let g = GROUPS
        .iter()
        .find(|g| g.0 == gname)
        .ok_or_else(|| anyhow!("group {gname} is not in FreeBSD's stock group file"))?;
    Ok(Owner {
        uname: u.0,
        uid: u.1,
        gname: g.0,
        gid: g.1,
    })
}

/// `/etc/master.passwd` (root without a password, as the release ships it).
pub fn master_passwd() -> String {
    let mut out = String::from("#\n");
    for (name, uid, gid, gecos, home, shell) in USERS {
        let pw = if *name == "root" { "" } else { "*" };
        out.push_str(&format!(
            "{name}:{pw}:{uid}:{gid}::0:0:{gecos}:{home}:{shell}\n"
        ));
    }
    out
}

/// `/etc/passwd`: the public copy.
pub fn passwd() -> String {
    let mut out = String::from("#\n");
    for (name, uid, gid, gecos, home, shell) in USERS {
        out.push_str(&format!("{name}:*:{uid}:{gid}:{gecos}:{home}:{shell}\n"));
    }
    out
}

/// `/etc/group`.
pub fn group() -> String {
    let mut out = String::from("#\n");
    for (name, gid, members) in GROUPS {
        out.push_str(&format!("{name}:*:{gid}:{members}\n"));
    }
    out
}

/// An excerpt of `/etc/defaults/rc.conf` with the settings the builds
/// service cares about at their release defaults.
pub const DEFAULTS_RC_CONF: &str = r#"#!/bin/sh

# This is rc.conf - a file full of useful variables that you can set
# to change the default startup behavior of your system.  You should
# not edit this file!  Put any overrides into one of the
# ${rc_conf_files} instead and you will be able to update these defaults
# later without spamming your local configuration information.

##############################################################
###  Important initial Boot-time options  ####################
##############################################################

rc_debug="NO"		# Set to YES to enable debugging output from rc.d
rc_info="NO"		# Enables display of informational messages at boot.
rc_startmsgs="YES" 	# Show "Starting foo:" messages at boot
growfs_enable="NO"	# Set to YES to enable growfs(8) at boot
fsck_y_enable="NO"	# Set to YES to do fsck -y if the initial preen fails.
background_fsck="YES"	# Attempt to run fsck in the background where possible.
dumpdev="AUTO"		# Device to crashdump to (device name, AUTO, or NO).
hostname=""		# Set this!
ifconfig_lo0="inet 127.0.0.1" # default loopback device configuration.
defaultrouter="NO"	# Set to default gateway (or NO).
sshd_enable="NO"	# Enable sshd
ntpd_enable="NO"	# Run ntpd Network Time Protocol (or NO).
sendmail_enable="NO"	# Run the sendmail inbound daemon (YES/NO).
entropy_boot_file="/boot/entropy"	# Set to NO to disable very early
entropy_file="/entropy"	# Set to NO to disable late (used when going multi-user)
rc_conf_files="/etc/rc.conf /etc/rc.conf.local"
"#;

/// `/etc/ssh/sshd_config` as OpenSSH ships it in FreeBSD: defaults
/// commented out.
pub const SSHD_CONFIG: &str = "#\t$OpenBSD: sshd_config,v 1.104 2021/07/02 05:11:21 dtucker Exp $

# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

# The strategy used for options in the default sshd_config shipped with
# OpenSSH is to specify options with their default value where
# possible, but leave them commented.  Uncommented options override the
# default value.

#Port 22
#AddressFamily any
#ListenAddress 0.0.0.0

#HostKey /etc/ssh/ssh_host_rsa_key
#HostKey /etc/ssh/ssh_host_ecdsa_key
#HostKey /etc/ssh/ssh_host_ed25519_key

# Authentication:

#LoginGraceTime 2m
#PermitRootLogin no
#StrictModes yes
#MaxAuthTries 6
#MaxSessions 10

#PubkeyAuthentication yes

# To disable tunneled clear text passwords, change to \"no\" here!
#PasswordAuthentication no
#PermitEmptyPasswords no

# Change to \"no\" to disable keyboard-interactive authentication.
#KbdInteractiveAuthentication yes

# Set this to 'no' to disable PAM authentication, account processing,
# and session processing.
#UsePAM yes

#UseDNS yes

# override default of no subsystems
Subsystem\tsftp\t/usr/libexec/sftp-server

# Example of overriding settings on a per-user basis
#Match User anoncvs
#\tX11Forwarding no
#\tAllowTcpForwarding no
#\tPermitTTY no
#\tForceCommand cvs server
";

/// `/etc/ttys` of FreeBSD/amd64: virtual terminals, and serial gettys
/// that run only when the port is the console (`onifconsole`).
pub const TTYS: &str = "#
# ttys\tTerminal initialization information.
#
# name\tgetty\t\t\t\ttype\tstatus\t\tcomments
#
# If console is marked \"insecure\", then init will ask for the root password
# when going to single-user mode.
console\tnone\t\t\t\tunknown\toff secure
#
ttyv0\t\"/usr/libexec/getty Pc\"\t\txterm\tonifexists secure
# Virtual terminals
ttyv1\t\"/usr/libexec/getty Pc\"\t\txterm\tonifexists secure
ttyv2\t\"/usr/libexec/getty Pc\"\t\txterm\tonifexists secure
ttyv8\t\"/usr/local/bin/xdm -nodaemon\"\txterm\toff secure
# Serial terminals
# The 'dialup' keyword identifies dialin lines to login, fingerd etc.
ttyu0\t\"/usr/libexec/getty 3wire\"\tvt100\tonifconsole secure
ttyu1\t\"/usr/libexec/getty 3wire\"\tvt100\tonifconsole secure
ttyu2\t\"/usr/libexec/getty 3wire\"\tvt100\tonifconsole secure
ttyu3\t\"/usr/libexec/getty 3wire\"\tvt100\tonifconsole secure
# Dumb console
dcons\t\"/usr/libexec/getty std.9600\"\tvt100\toff secure
# Xen Virtual console
xc0\t\"/usr/libexec/getty Pc\"\t\txterm\tonifconsole secure
";

/// An excerpt of `/etc/login.conf` (the `default` class).
pub const LOGIN_CONF: &str = "# login.conf - login class capabilities database.
#
default:\\
\t:passwd_format=sha512:\\
\t:copyright=/etc/COPYRIGHT:\\
\t:welcome=/var/run/motd:\\
\t:setenv=BLOCKSIZE=K:\\
\t:mail=/var/mail/$:\\
\t:path=/sbin /bin /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin ~/bin:\\
\t:nologin=/var/run/nologin:\\
\t:cputime=unlimited:\\
\t:datasize=unlimited:\\
\t:umask=022:\\
\t:charset=UTF-8:\\
\t:lang=C.UTF-8:

standard:\\
\t:tc=default:
xuser:\\
\t:tc=default:
daemon:\\
\t:path=/sbin /bin /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin:\\
\t:mail@:\\
\t:memorylocked=128M:\\
\t:tc=default:
";

/// `/etc/shells`.
pub const SHELLS: &str = "# List of acceptable shells for chpass(1).
# Ftpd will not allow users to connect who are not using
# one of these shells.

/bin/sh
/bin/csh
/bin/tcsh
";

/// `/boot/defaults/loader.conf` (excerpt).
pub const DEFAULTS_LOADER_CONF: &str =
    "# This is loader.conf - a file full of useful variables that you can
# set to change the default startup behavior of your system. You should
# not edit this file! Put any overrides into one of the
# loader_conf_files instead and you will be able to update these
# defaults later without spamming your local configuration information.

kernel=\"kernel\"
bootfile=\"kernel\"
kernel_options=\"\"
loader_conf_files=\"/boot/device.hints /boot/loader.conf /boot/loader.conf.local\"
entropy_cache_load=\"YES\"
entropy_cache_name=\"/boot/entropy\"
autoboot_delay=\"10\"
#console=\"vidconsole\"
#comconsole_speed=\"9600\"
";

/// `/etc/mtree/BSD.<name>.dist` (the head of each).
pub fn mtree_dist(name: &str) -> String {
    let dirs: &[&str] = match name {
        "root" => &[
            "bin", "boot", "dev", "etc", "lib", "libexec", "mnt", "root", "sbin", "tmp",
        ],
        "usr" => &["bin", "include", "lib", "libexec", "sbin", "share"],
        _ => &["db", "empty", "log", "run", "tmp"],
    };
    let mut out = String::from(
        "#\n# Please see the file src/etc/mtree/README before making changes to this file.\n#\n\n/set type=dir uname=root gname=wheel mode=0755 tags=package=runtime\n.\n",
    );
    for d in dirs {
        out.push_str(&format!("    {d}\n    ..\n"));
    }
    out.push_str("..\n");
    out
}
