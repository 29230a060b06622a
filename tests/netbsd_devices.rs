//! /dev as `MAKEDEV all` makes it on NetBSD/amd64, checked against the
//! numbers in NetBSD's sources: majors.amd64 1.36 (`cons char 0`, `ctty
//! char 1`, `mem char 2`, `wd char 3 block 0`, `log char 7`, `com char 8`,
//! `sd char 13 block 4`, `cd char 15 block 6`, `filedesc char 22`, `bpf
//! char 23`, `md char 24 block 17`, `tun char 40`, `vnd char 41 block 14`,
//! `rnd char 46`, `wsdisplay char 47`, `ld char 69 block 19`, `clockctl
//! char 79`, `ksyms char 85`), sys/conf/majors 1.93 (`ptm char 165`,
//! `drvctl char 167`, `dk char 168 block 168`, `tap char 169`) and the
//! minors, modes and groups of MAKEDEV.tmpl 1.234; ids from etc/group.

use std::collections::BTreeSet;

use mkimage::entry::{Entry, EntryKind, Timestamp};
use mkimage::os::netbsd::devices::{
    DevNode, NodeKind, dev_entries, expand, makedev_all, netbsd_gid, netbsd_uid,
};

fn all() -> Vec<DevNode> {
    makedev_all().unwrap()
}

fn node(nodes: &[DevNode], name: &str) -> DevNode {
    nodes
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("/dev/{name} missing"))
        .clone()
}

fn chr(major: u32, minor: u32) -> NodeKind {
    NodeKind::Char { major, minor }
}

fn blk(major: u32, minor: u32) -> NodeKind {
    NodeKind::Block { major, minor }
}

fn check(nodes: &[DevNode], name: &str, kind: NodeKind, mode: u16, owner: &str, group: &str) {
    let n = node(nodes, name);
    assert_eq!(n.kind, kind, "/dev/{name} numbers");
    assert_eq!(n.mode, mode, "/dev/{name} mode {:o}", n.mode);
    assert_eq!(n.owner, owner, "/dev/{name} owner");
    assert_eq!(n.group, group, "/dev/{name} group");
}

#[test]
fn console_is_char_0_0_and_the_std_devices_match_makedev() {
    let d = all();
    check(&d, "console", chr(0, 0), 0o600, "root", "wheel");
    check(&d, "constty", chr(0, 1), 0o600, "root", "wheel");
    check(&d, "mem", chr(2, 0), 0o640, "root", "kmem");
    check(&d, "kmem", chr(2, 1), 0o640, "root", "kmem");
    check(&d, "null", chr(2, 2), 0o666, "root", "wheel");
    check(&d, "full", chr(2, 11), 0o666, "root", "wheel");
    check(&d, "zero", chr(2, 12), 0o666, "root", "wheel");
    check(&d, "drum", chr(4, 0), 0o640, "root", "kmem");
    check(&d, "klog", chr(7, 0), 0o600, "root", "wheel");
    check(&d, "ksyms", chr(85, 0), 0o440, "root", "kmem");
    check(&d, "random", chr(46, 0), 0o444, "root", "wheel");
    check(&d, "urandom", chr(46, 1), 0o644, "root", "wheel");
    check(&d, "tty", chr(1, 0), 0o666, "root", "wheel");
    check(&d, "stdin", chr(22, 0), 0o666, "root", "wheel");
    check(&d, "stdout", chr(22, 1), 0o666, "root", "wheel");
    check(&d, "stderr", chr(22, 2), 0o666, "root", "wheel");
}

#[test]
fn fd_directory_holds_64_descriptors_and_ptyfs_has_its_mount_point() {
    let d = all();
    check(&d, "fd", NodeKind::Dir, 0o755, "root", "wheel");
    for n in 0..64 {
        check(&d, &format!("fd/{n}"), chr(22, n), 0o666, "root", "wheel");
    }
    assert!(!d.iter().any(|n| n.name == "fd/64"));
    check(&d, "pts", NodeKind::Dir, 0o755, "root", "wheel");
    check(&d, "ptmx", chr(165, 0), 0o666, "root", "wheel");
    check(&d, "ptm", chr(165, 1), 0o666, "root", "wheel");
}

#[test]
fn virtio_disks_have_sixteen_partitions_and_raw_d() {
    let d = all();
    for unit in 0..4u32 {
        let base = unit * 16;
        check(
            &d,
            &format!("ld{unit}"),
            blk(19, base + 3),
            0o640,
            "root",
            "operator",
        );
        check(
            &d,
            &format!("rld{unit}"),
            chr(69, base + 3),
            0o640,
            "root",
            "operator",
        );
        for (p, letter) in ('a'..='p').enumerate() {
            let p = p as u32;
            check(
                &d,
                &format!("ld{unit}{letter}"),
                blk(19, base + p),
                0o640,
                "root",
                "operator",
            );
            check(
                &d,
                &format!("rld{unit}{letter}"),
                chr(69, base + p),
                0o640,
                "root",
                "operator",
            );
        }
    }
    assert!(!d.iter().any(|n| n.name == "ld4a"));
    check(&d, "wd0a", blk(0, 0), 0o640, "root", "operator");
    check(&d, "rwd0d", chr(3, 3), 0o640, "root", "operator");
    check(&d, "wd7p", blk(0, 7 * 16 + 15), 0o640, "root", "operator");
    check(&d, "sd1a", blk(4, 16), 0o640, "root", "operator");
    check(&d, "rsd7d", chr(13, 7 * 16 + 3), 0o640, "root", "operator");
    check(&d, "vnd3", blk(14, 3 * 16 + 3), 0o640, "root", "operator");
}

#[test]
fn wedges_cd_and_md_have_their_nodes() {
    let d = all();
    for unit in 0..32 {
        check(
            &d,
            &format!("dk{unit}"),
            blk(168, unit),
            0o640,
            "root",
            "operator",
        );
        check(
            &d,
            &format!("rdk{unit}"),
            chr(168, unit),
            0o640,
            "root",
            "operator",
        );
    }
    assert!(!d.iter().any(|n| n.name == "dk32"));
    // makedisk_minimal: whole disk, a and d only.
    check(&d, "cd0", blk(6, 3), 0o640, "root", "operator");
    check(&d, "cd1a", blk(6, 16), 0o640, "root", "operator");
    check(&d, "rcd0d", chr(15, 3), 0o640, "root", "operator");
    assert!(!d.iter().any(|n| n.name == "cd0b"));
    check(&d, "md0a", blk(17, 0), 0o640, "root", "operator");
    check(&d, "rmd1d", chr(24, 19), 0o640, "root", "operator");
}

#[test]
fn serial_ports_are_owned_by_uucp_with_dialout_minors() {
    let d = all();
    for unit in 0..4 {
        check(
            &d,
            &format!("tty0{unit}"),
            chr(8, unit),
            0o600,
            "uucp",
            "wheel",
        );
        check(
            &d,
            &format!("dty0{unit}"),
            chr(8, unit + 524288),
            0o600,
            "uucp",
            "wheel",
        );
    }
}

#[test]
fn wscons_screens_and_input_devices() {
    let d = all();
    check(&d, "ttyE0", chr(47, 0), 0o600, "root", "wheel");
    check(&d, "ttyE7", chr(47, 7), 0o600, "root", "wheel");
    check(&d, "ttyF1", chr(47, 257), 0o600, "root", "wheel");
    check(&d, "ttyEcfg", chr(47, 255), 0o600, "root", "wheel");
    check(&d, "ttyHstat", chr(47, 1022), 0o600, "root", "wheel");
    check(&d, "wskbd0", chr(48, 0), 0o600, "root", "wheel");
    check(&d, "wsmouse3", chr(49, 3), 0o600, "root", "wheel");
    check(&d, "wsmouse", chr(65, 0), 0o600, "root", "wheel");
    check(&d, "wskbd", chr(65, 1), 0o600, "root", "wheel");
    check(&d, "wsmuxctl2", chr(65, 130), 0o200, "root", "wheel");
}

#[test]
fn pseudo_devices_match_makedev() {
    let d = all();
    check(&d, "bpf", chr(23, 0), 0o600, "root", "wheel");
    check(
        &d,
        "bpf0",
        NodeKind::Symlink("bpf".into()),
        0o700,
        "root",
        "wheel",
    );
    check(&d, "tun3", chr(40, 3), 0o600, "root", "wheel");
    check(&d, "tap", chr(169, 0xfffff), 0o600, "root", "wheel");
    check(&d, "tap0", chr(169, 0), 0o600, "root", "wheel");
    check(&d, "clockctl", chr(79, 0), 0o660, "root", "ntpd");
    check(&d, "drvctl", chr(167, 0), 0o644, "root", "wheel");
    check(&d, "pci0", chr(83, 0), 0o640, "root", "wheel");
    check(&d, "pci11", chr(83, 11), 0o640, "root", "wheel");
    check(&d, "crypto", chr(160, 0), 0o666, "root", "wheel");
    check(&d, "npf", chr(198, 0), 0o600, "root", "wheel");
    check(
        &d,
        "audio",
        NodeKind::Symlink("audio0".into()),
        0o700,
        "root",
        "wheel",
    );
    check(&d, "audio0", chr(42, 128), 0o666, "root", "wheel");
    check(&d, "mixer1", chr(42, 17), 0o666, "root", "wheel");
    check(
        &d,
        "puffs",
        NodeKind::Symlink("putter".into()),
        0o700,
        "root",
        "wheel",
    );
    check(&d, "fss0", blk(163, 0), 0o660, "root", "operator");
    check(&d, "cgd7", blk(20, 7 * 16 + 3), 0o640, "root", "operator");
    check(&d, "raid7a", blk(18, 7 * 16), 0o640, "root", "operator");
    check(&d, "ccd3", blk(16, 3 * 16 + 3), 0o640, "root", "operator");
    check(&d, "power", chr(67, 2), 0o640, "root", "wheel");
    check(
        &d,
        "pad",
        NodeKind::Symlink("pad0".into()),
        0o700,
        "root",
        "wheel",
    );
    check(&d, "pad3", chr(189, 3), 0o444, "root", "wheel");
    check(&d, "bio", chr(181, 0), 0o600, "root", "wheel");
    check(&d, "cfs0", chr(60, 0), 0o600, "root", "wheel");
}

#[test]
fn nvme_namespaces_and_xen_disks() {
    let d = all();
    // nvme: major 341 (sys/conf/majors), minor unit * 65536 + nsid.
    check(&d, "nvme0", chr(341, 0), 0o600, "root", "wheel");
    check(&d, "nvme1ns1", chr(341, 65537), 0o600, "root", "wheel");
    check(
        &d,
        "nvme3ns4",
        chr(341, 3 * 65536 + 4),
        0o600,
        "root",
        "wheel",
    );
    // xbd: char 142 block 142 (majors.amd64), 16 partitions.
    check(&d, "xbd1a", blk(142, 16), 0o640, "root", "operator");
    check(&d, "rxbd0d", chr(142, 3), 0o640, "root", "operator");
    check(&d, "xenevt", chr(141, 0), 0o600, "root", "wheel");
    check(&d, "xsd_kva", chr(141, 1), 0o600, "root", "wheel");
    check(&d, "xencons", chr(143, 0), 0o600, "root", "wheel");
    assert!(expand("nvme0nsx").is_err());
}

#[test]
fn every_name_is_created_once_and_directories_come_before_their_contents() {
    let d = all();
    let mut seen = BTreeSet::new();
    for n in &d {
        assert!(seen.insert(n.name.clone()), "/dev/{} twice", n.name);
        if let Some((dir, _)) = n.name.rsplit_once('/') {
            assert!(seen.contains(dir), "/dev/{} before its directory", n.name);
        }
    }
    // A typical NetBSD/amd64 /dev has well over a thousand nodes.
    assert!(d.len() > 1000, "{} nodes", d.len());
    assert!(
        !d.iter().any(|n| n.name == "MAKEDEV"),
        "MAKEDEV comes from the etc set"
    );
}

#[test]
fn unknown_targets_are_errors() {
    assert!(expand("frobnicator0").is_err());
    assert!(expand("std").is_ok());
}

#[test]
fn entries_live_under_dev_with_numeric_owners_and_the_given_time() {
    let t = Timestamp::from_secs(1_700_000_000);
    let entries: Vec<Entry> = dev_entries(t, &netbsd_uid, &netbsd_gid).unwrap();
    let console = entries.iter().find(|e| e.path == "dev/console").unwrap();
    assert_eq!(console.kind, EntryKind::CharDevice { major: 0, minor: 0 });
    assert_eq!((console.uid, console.gid, console.mode), (0, 0, 0o600));
    assert_eq!(console.mtime, t);
    let kmem = entries.iter().find(|e| e.path == "dev/kmem").unwrap();
    assert_eq!(kmem.gid, 2, "kmem group is gid 2 in etc/group");
    let tty00 = entries.iter().find(|e| e.path == "dev/tty00").unwrap();
    assert_eq!(tty00.uid, 66, "uucp is uid 66 in etc/master.passwd");
    let disk = entries.iter().find(|e| e.path == "dev/rld0d").unwrap();
    assert_eq!(disk.gid, 5, "operator is gid 5");
    let pts = entries.iter().find(|e| e.path == "dev/pts").unwrap();
    assert_eq!(pts.kind, EntryKind::Dir);
    assert!(
        entries
            .iter()
            .all(|e| e.path.starts_with("dev/") && e.size == 0)
    );
    // An unknown group is an error that names the node.
    let err = dev_entries(t, &netbsd_uid, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/dev/"), "{err}");
}
