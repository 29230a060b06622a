//! NetBSD configuration files for the builds service, checked line by line.

use std::process::Command;

use mkimage::os::netbsd::config::{
    Console, NetbsdConfig, Network, RNDSAVE_SIZE, boot_cfg, entropy_file, fstab, gitconfig,
    ifconfig_file, login_conf, rc_conf, resolv_conf, sshd_config, sysctl_conf, ttys,
};

fn cfg() -> NetbsdConfig {
    NetbsdConfig::builds_service()
}

fn dhcp() -> NetbsdConfig {
    NetbsdConfig {
        network: Network::Dhcp {
            iface: "vioif0".into(),
        },
        ..cfg()
    }
}

/// Uncommented, non-empty lines.
fn active(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect()
}

/// A release rc.conf in NetBSD's shape: sources the defaults, then
/// `rc_configured=NO`, then room for local settings.
const SET_RC_CONF: &str = "#\t$NetBSD$\n#\n# see rc.conf(5)\n\
if [ -r /etc/defaults/rc.conf ]; then\n\t. /etc/defaults/rc.conf\nfi\n\n\
# If this is not set to YES, the system will drop into single-user mode.\n#\n\
rc_configured=NO\n\n# Add local overrides below.\n#\nwscons=YES\n";

#[test]
fn fstab_mounts_root_by_gpt_label_with_logging() {
    let text = fstab(&cfg()).unwrap();
    let lines: Vec<Vec<&str>> = active(&text)
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["NAME=netbsd-root", "/", "ffs", "rw,log", "1", "1"]
    );
    assert!(lines.contains(&vec!["kernfs", "/kern", "kernfs", "rw"]));
    assert!(lines.contains(&vec!["procfs", "/proc", "procfs", "rw"]));
    assert!(lines.contains(&vec!["ptyfs", "/dev/pts", "ptyfs", "rw"]));
    assert!(lines.contains(&vec!["tmpfs", "/var/shm", "tmpfs", "rw,-m1777,-sram%25"]));
    assert_eq!(lines.len(), 5, "no swap line");
    let bad = NetbsdConfig {
        root_label: "my root".into(),
        ..cfg()
    };
    assert!(fstab(&bad).is_err());
}

#[test]
fn rc_conf_flips_rc_configured_and_keeps_the_release_lines() {
    let text = rc_conf(SET_RC_CONF, &cfg()).unwrap();
    assert!(!text.contains("rc_configured=NO"));
    // Every original line is still there, in order, except the flipped one.
    let original: Vec<&str> = SET_RC_CONF.lines().collect();
    let new: Vec<&str> = text.lines().collect();
    for (i, line) in original.iter().enumerate() {
        let expect = if *line == "rc_configured=NO" {
            "rc_configured=YES"
        } else {
            line
        };
        assert_eq!(new[i], expect, "line {}", i + 1);
    }
    let added = &new[original.len()..];
    let joined = added.join("\n");
    let settings = active(&joined);
    assert_eq!(
        settings,
        [
            "hostname=build",
            "defaultroute=10.0.2.2",
            "no_swap=YES",
            "sshd=YES",
            "ntpd=YES",
            "postfix=NO",
            "rc_configured=YES",
        ]
    );
}

#[test]
fn rc_conf_for_dhcp_runs_dhcpcd_and_has_no_default_route() {
    let text = rc_conf(SET_RC_CONF, &dhcp()).unwrap();
    let lines = active(&text);
    assert!(lines.contains(&"dhcpcd=YES"));
    assert!(lines.contains(&"dhcpcd_flags=\"-q4 vioif0\""));
    assert!(!lines.iter().any(|l| l.starts_with("defaultroute")));
    assert_eq!(ifconfig_file(&dhcp()).unwrap(), None);
}

#[test]
fn rc_conf_quotes_values_and_refuses_shell_expansions() {
    let mut c = cfg();
    c.rc_conf = vec![("sshd_flags".into(), "-o LogLevel=ERROR".into())];
    let text = rc_conf(SET_RC_CONF, &c).unwrap();
    assert!(
        text.lines()
            .any(|l| l == "sshd_flags=\"-o LogLevel=ERROR\"")
    );
    // rc_configured=YES stays the last word.
    assert_eq!(active(&text).last(), Some(&"rc_configured=YES"));
    c.rc_conf = vec![("x".into(), "$(reboot)".into())];
    assert!(rc_conf(SET_RC_CONF, &c).is_err());
    c.rc_conf = vec![("bad name".into(), "YES".into())];
    assert!(rc_conf(SET_RC_CONF, &c).is_err());
}

#[test]
fn rc_conf_parses_with_sh() {
    let text = rc_conf(SET_RC_CONF, &cfg()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rc.conf");
    std::fs::write(&path, &text).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            ". {}; echo \"$hostname $defaultroute $rc_configured\"",
            path.display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "build 10.0.2.2 YES"
    );
}

#[test]
fn static_interface_file_and_resolver() {
    let (path, text) = ifconfig_file(&cfg()).unwrap().unwrap();
    assert_eq!(path, "etc/ifconfig.vioif0");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["up", "inet 10.0.2.15/24"]
    );
    let mut c = cfg();
    c.nameservers = vec!["9.9.9.9".into(), "1.1.1.1".into()];
    assert_eq!(
        resolv_conf(&c).unwrap(),
        "nameserver 9.9.9.9\nnameserver 1.1.1.1\n"
    );
    c.nameservers = vec!["1.1.1.1; reboot".into()];
    assert!(resolv_conf(&c).is_err());
}

#[test]
fn boot_cfg_has_serial_console_first_menu_and_timeout() {
    let text = boot_cfg(&cfg());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "consdev=com0,115200");
    assert_eq!(
        lines[1],
        "menu=Boot normally:rndseed /var/db/entropy-file;boot"
    );
    assert!(lines.contains(&"default=1"));
    assert!(lines.contains(&"timeout=0"));
    let pc = NetbsdConfig {
        console: Console::Pc,
        boot_timeout: 5,
        ..cfg()
    };
    let text = boot_cfg(&pc);
    assert!(text.starts_with("consdev=pc\n"));
    assert!(text.lines().any(|l| l == "timeout=5"));
}

const SET_TTYS: &str = "#\n# name\tgetty\t\t\t\ttype\tstatus\t\tcomments\n#\n\
console\t\"/usr/libexec/getty Pc\"\t\tvt100\toff secure\n\
constty\t\"/usr/libexec/getty Pc\"\t\tvt100\ton secure\n\
ttyE0\t\"/usr/libexec/getty Pc\"\t\twsvt25\toff secure\n\
tty00\t\"/usr/libexec/getty std.9600\"\tunknown off secure\n";

#[test]
fn ttys_runs_a_getty_on_the_serial_console_only_once() {
    let text = ttys(SET_TTYS, Console::Com0 { speed: 115200 }).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), SET_TTYS.lines().count());
    let fields = |name: &str| -> Vec<String> {
        let l = lines.iter().find(|l| l.starts_with(name)).unwrap();
        let (_, rest) = l.split_once('"').unwrap();
        let (getty, rest) = rest.split_once('"').unwrap();
        let mut v = vec![getty.to_string()];
        v.extend(rest.split_whitespace().map(str::to_string));
        v
    };
    assert_eq!(
        fields("console"),
        ["/usr/libexec/getty std.115200", "vt100", "on", "secure"]
    );
    assert_eq!(
        fields("constty"),
        ["/usr/libexec/getty Pc", "vt100", "off", "secure"]
    );
    assert_eq!(
        fields("ttyE0"),
        ["/usr/libexec/getty Pc", "wsvt25", "off", "secure"]
    );
    assert_eq!(
        fields("tty00"),
        ["/usr/libexec/getty std.9600", "unknown", "off", "secure"]
    );
    // Comments are kept.
    assert_eq!(lines[1], SET_TTYS.lines().nth(1).unwrap());
    // With the PC console the release file is used as it is.
    assert_eq!(ttys(SET_TTYS, Console::Pc).unwrap(), SET_TTYS);
    // A speed gettytab has no entry for is refused.
    assert!(ttys(SET_TTYS, Console::Com0 { speed: 230400 }).is_err());
    // A file without a console line gets one.
    let text = ttys(
        "ttyE0\t\"/usr/libexec/getty Pc\"\twsvt25\ton secure\n",
        Console::Com0 { speed: 9600 },
    )
    .unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("console\t\"/usr/libexec/getty std.9600\""))
    );
}

#[test]
fn sshd_config_replaces_use_pam_and_allows_empty_passwords() {
    let set = "#PermitEmptyPasswords no\nUsePrivilegeSeparation sandbox\nUsePam yes\n\
Subsystem\tsftp\t/usr/libexec/sftp-server\n\n#Match User anoncvs\n#\tX11Forwarding no\n";
    let text = sshd_config(set);
    let lines = active(&text);
    assert!(lines.contains(&"UsePam no"));
    assert!(!lines.iter().any(|l| l.eq_ignore_ascii_case("usepam yes")));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("PermitEmptyPasswords"))
            .count(),
        1
    );
    assert!(lines.contains(&"PermitEmptyPasswords yes"));
    assert!(text.contains("#PermitEmptyPasswords no"), "comments kept");
    assert!(lines.contains(&"UsePrivilegeSeparation sandbox"));
    // UsePam replaced in place: still before Subsystem.
    let pos = |s: &str| lines.iter().position(|l| *l == s).unwrap();
    assert!(pos("UsePam no") < pos("Subsystem\tsftp\t/usr/libexec/sftp-server"));
}

#[test]
fn sshd_config_settings_go_before_a_match_block() {
    let set = "UsePAM yes\nPermitEmptyPasswords no\nMatch User git\n\tPermitEmptyPasswords no\n\tUsePam yes\n";
    let text = sshd_config(set);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "UsePam no", "replaced in place");
    assert_eq!(lines[1], "PermitEmptyPasswords yes");
    let m = lines.iter().position(|l| l.starts_with("Match")).unwrap();
    assert_eq!(
        &lines[m..],
        [
            "Match User git",
            "\tPermitEmptyPasswords no",
            "\tUsePam yes"
        ]
    );
    // "Keyword=value" is the same keyword.
    let text = sshd_config("UsePAM=yes\n");
    assert_eq!(active(&text), ["UsePam no", "PermitEmptyPasswords yes"]);
    // Without either keyword the lines are added before Match.
    let text = sshd_config("Port 22\nMatch User x\n\tX11Forwarding no\n");
    let lines: Vec<&str> = text.lines().collect();
    let m = lines.iter().position(|l| l.starts_with("Match")).unwrap();
    assert!(lines[..m].contains(&"PermitEmptyPasswords yes"));
    assert!(lines[..m].contains(&"UsePam no"));
}

#[test]
fn login_conf_default_class_path_includes_pkgsrc() {
    // NetBSD ships every class commented out: a default class is added.
    let set = "# Sample login.conf\n#default:\\\n#\t:path=/usr/bin /bin:\\\n#\t:umask=022:\n";
    let text = login_conf(set);
    assert!(text.starts_with(set));
    let lines = active(&text);
    assert_eq!(lines[0], "default:\\");
    assert!(lines[1].starts_with("\t:path=/usr/bin /bin /usr/sbin /sbin"));
    assert!(lines[1].contains(" /usr/pkg/bin /usr/pkg/sbin"));
    assert!(lines.last().unwrap().ends_with(':'));

    // An existing default class keeps its path and gains the pkgsrc dirs.
    let set = "default:\\\n\t:path=/usr/bin /bin /usr/local/bin:\\\n\t:umask=022:\n";
    let text = login_conf(set);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "default:\\",
            "\t:path=/usr/bin /bin /usr/local/bin /usr/pkg/bin /usr/pkg/sbin:\\",
            "\t:umask=022:"
        ]
    );
    // Already there: unchanged.
    assert_eq!(login_conf(&text), text);

    // A default class without a path gains one.
    let text = login_conf("default:\\\n\t:umask=022:\nstaff:\\\n\t:ignorenologin:\n");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "default:\\");
    assert!(lines[1].starts_with("\t:path=") && lines[1].ends_with(":\\"));
    assert_eq!(lines[2], "\t:umask=022:");
    assert_eq!(lines[3], "staff:\\");
}

#[test]
fn sysctl_conf_turns_off_duplicate_address_detection() {
    let text = sysctl_conf("# sysctl.conf\nkern.foo=1");
    assert_eq!(
        active(&text),
        [
            "kern.foo=1",
            "net.inet.ip.dad_count=0",
            "net.inet6.ip6.dad_count=0"
        ]
    );
}

#[test]
fn gitconfig_is_read_back_by_git() {
    let text = gitconfig("builds.sr.ht", "builds@sr.ht").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".gitconfig");
    std::fs::write(&path, text).unwrap();
    let get = |key: &str| {
        let out = Command::new("git")
            .args(["config", "-f"])
            .arg(&path)
            .arg(key)
            .output()
            .expect("git is needed for this test (scripts/setup)");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(get("user.name"), "builds.sr.ht");
    assert_eq!(get("user.email"), "builds@sr.ht");
    assert!(gitconfig("a\"b", "x@y").is_err());
}

#[test]
fn entropy_file_is_an_rndsave_t_with_a_sha1_digest() {
    let data: [u8; 512] = std::array::from_fn(|i| (i * 7 + 3) as u8);
    let file = entropy_file(&data, 4096);
    assert_eq!(file.len(), RNDSAVE_SIZE);
    assert_eq!(file.len(), 536);
    assert_eq!(file[0..4], 4096u32.to_le_bytes());
    assert_eq!(file[4..516], data);
    // The digest covers the entropy count and the data: check it with
    // the system's sha1sum.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("covered");
    std::fs::write(&path, &file[..516]).unwrap();
    let out = Command::new("sha1sum")
        .arg(&path)
        .output()
        .expect("sha1sum (coreutils) is needed");
    let hex_sum = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(hex::encode(&file[516..]), hex_sum);
    // The estimate is capped at 8 bits per byte.
    assert_eq!(entropy_file(&data, u32::MAX)[0..4], 4096u32.to_le_bytes());
}
