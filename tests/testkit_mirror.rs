//! The synthetic NetBSD mirror: layout, checksums (checked with
//! `sha512sum`/`md5sum`), archives (checked with `xz -t` and GNU tar), each
//! set's own mtree spec against the archive, stand-in boot files, the
//! `etc` set, and determinism.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mkimage::entry::EntryKind;
use mkimage::testkit::mirror::{
    EXAMPLES, MirrorSize, NETBSD_SETS, NetbsdMirror, NetbsdMirrorOptions, SetMember,
    generate_netbsd,
};
use sha2::{Digest, Sha256};

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn generate(name: &str, seed: u64) -> NetbsdMirror {
    generate_netbsd(
        &tmp(name),
        &NetbsdMirrorOptions::new(MirrorSize::Tiny, seed),
    )
    .expect("generate the tiny mirror")
}

/// The tiny mirror with seed 1, generated once for all tests of this file.
fn mirror() -> &'static NetbsdMirror {
    static M: OnceLock<NetbsdMirror> = OnceLock::new();
    M.get_or_init(|| generate("testkit-mirror-seed1", 1))
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed for this test ({e}); run scripts/setup"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// (member, data) in archive order, read with the tar crate.
struct Member {
    path: String,
    kind: char,
    link: Option<String>,
    mode: u32,
    uid: u64,
    gid: u64,
    uname: String,
    gname: String,
    data: Vec<u8>,
}

fn read_set(path: &Path) -> Vec<Member> {
    let file = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(liblzma::read::XzDecoder::new(file));
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let path = String::from_utf8(e.path_bytes().into_owned()).unwrap();
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).unwrap());
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push(Member {
            path,
            kind: h.entry_type().as_byte() as char,
            link,
            mode: h.mode().unwrap(),
            uid: h.uid().unwrap(),
            gid: h.gid().unwrap(),
            uname: h.username().unwrap().unwrap().to_string(),
            gname: h.groupname().unwrap().unwrap().to_string(),
            data,
        });
    }
    out
}

/// The members of a set of the shared mirror, read once.
fn members_of(set: &str) -> &'static [Member] {
    static READ: OnceLock<BTreeMap<String, Vec<Member>>> = OnceLock::new();
    let all = READ.get_or_init(|| {
        mirror()
            .sets
            .iter()
            .map(|s| (s.name.clone(), read_set(&s.path)))
            .collect()
    });
    &all[set]
}

fn dot(path: &str) -> String {
    if path.is_empty() {
        ".".into()
    } else {
        format!("./{path}")
    }
}

#[test]
fn mirror_has_the_real_layout_and_set_names() {
    let m = mirror();
    assert!(
        m.sets_dir
            .ends_with("pub/NetBSD/NetBSD-10.1/amd64/binary/sets")
    );
    assert!(m.sets_dir.starts_with(&m.root));
    assert_eq!(
        m.mirror_dir().join("NetBSD-10.1/amd64/binary/sets"),
        m.sets_dir
    );
    assert_eq!(m.set_names(), NETBSD_SETS.to_vec());
    let mut names: Vec<String> = std::fs::read_dir(&m.sets_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = NETBSD_SETS.iter().map(|s| format!("{s}.tar.xz")).collect();
    expected.extend(["MD5".to_string(), "SHA512".to_string()]);
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn checksum_files_match_sha512sum_and_md5sum_in_cksum_format() {
    let m = mirror();
    for (file, tool_name, tag) in [("SHA512", "sha512sum", "SHA512"), ("MD5", "md5sum", "MD5")] {
        let text = std::fs::read_to_string(m.sets_dir.join(file)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), NETBSD_SETS.len(), "{file}: one line per set");
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted, "{file} is sorted by file name");
        for line in lines {
            // SHA512 (base.tar.xz) = <hex>
            let rest = line.strip_prefix(&format!("{tag} (")).expect(line);
            let (name, hex) = rest.split_once(") = ").expect(line);
            let real = tool(tool_name, &[m.sets_dir.join(name).to_str().unwrap()]);
            let real_hex = real.split_whitespace().next().unwrap();
            assert_eq!(
                hex, real_hex,
                "{file} line for {name} disagrees with {tool_name}"
            );
            let set = m.sets.iter().find(|s| s.file_name == name).expect(name);
            assert_eq!(if tag == "MD5" { &set.md5 } else { &set.sha512 }, real_hex);
        }
    }
}

#[test]
fn every_set_passes_xz_t() {
    for set in &mirror().sets {
        tool("xz", &["-t", set.path.to_str().unwrap()]);
    }
}

#[test]
fn gnu_tar_lists_pax_long_names_hard_links_long_symlinks_setuid_and_owners() {
    let base = &mirror().set("base").unwrap().path;
    let listing = tool("tar", &["-tvJf", base.to_str().unwrap()]);
    let line_for = |path: &str| -> &str {
        listing
            .lines()
            .find(|l| l.ends_with(&format!(" {path}")) || l.contains(&format!(" {path} ")))
            .unwrap_or_else(|| panic!("{path} not in GNU tar's listing:\n{listing}"))
    };
    assert!(line_for("./bin/test").contains("./bin/test link to ./bin/["));
    // the name archived first (halt) is the file; the others link to it
    assert!(line_for("./sbin/reboot").contains("./sbin/reboot link to ./sbin/halt"));
    assert!(line_for("./usr/share/zoneinfo/Etc/UTC").contains("link to ./usr/share/zoneinfo/UTC"));
    let su = line_for("./usr/bin/su");
    assert!(su.starts_with("-r-sr-xr-x root/wheel "), "{su}");
    let wall = line_for("./usr/bin/wall");
    assert!(wall.starts_with("-r-xr-sr-x root/tty "), "{wall}");
    let shutdown = line_for("./sbin/shutdown");
    assert!(
        shutdown.starts_with("-r-sr-xr-- root/operator "),
        "{shutdown}"
    );
    assert!(line_for("./tmp").starts_with("drwxrwxrwt root/wheel "));
    for len in [119usize, 120, 121] {
        let target = mkimage::testkit::mirror::target_of_len(len);
        assert_eq!(target.len(), len);
        let l = line_for(&format!("./{EXAMPLES}/link-{len}"));
        assert!(
            l.starts_with('l') && l.ends_with(&format!(" -> {target}")),
            "{l}"
        );
    }
    let long_name = format!("./{EXAMPLES}/{}", "long-file-name-".repeat(10));
    assert!(long_name.len() > 100 && long_name.rsplit('/').next().unwrap().len() > 100);
    assert!(line_for(&long_name).starts_with("-r--r--r-- root/wheel"));
    assert!(
        line_for(&format!("./{EXAMPLES}/zz-hard-link-to-the-long-name"))
            .contains(&format!("link to {long_name}"))
    );
    // ids as well as names
    let numeric = tool("tar", &["-tvJf", base.to_str().unwrap(), "--numeric-owner"]);
    assert!(
        numeric
            .lines()
            .any(|l| l.ends_with(" ./sbin/shutdown") && l.contains(" 0/5 ")),
        "operator is gid 5"
    );
    assert!(
        numeric
            .lines()
            .any(|l| l.ends_with(" ./var/games") && l.contains(" 0/13 ")),
        "games is gid 13"
    );
    let etc = &mirror().set("etc").unwrap().path;
    let numeric = tool("tar", &["-tvJf", etc.to_str().unwrap(), "--numeric-owner"]);
    assert!(
        numeric
            .lines()
            .any(|l| l.ends_with(" ./var/chroot/ntpd") && l.contains(" 15/15 ")),
        "ntpd is 15:15"
    );
    let named = tool("tar", &["-tvJf", etc.to_str().unwrap()]);
    assert!(
        named
            .lines()
            .any(|l| l.ends_with(" ./var/chroot/ntpd") && l.contains(" ntpd/ntpd "))
    );
    // no devices or fifos: MAKEDEV makes /dev
    for set in &mirror().sets {
        let l = tool("tar", &["-tvJf", set.path.to_str().unwrap()]);
        assert!(
            l.lines()
                .all(|l| !matches!(l.as_bytes()[0], b'c' | b'b' | b'p')),
            "{}",
            set.name
        );
    }
}

#[test]
fn long_names_use_pax_headers_and_ustar_prefix() {
    let base = &mirror().set("base").unwrap().path;
    let raw = {
        let mut d = liblzma::read::XzDecoder::new(std::fs::File::open(base).unwrap());
        let mut v = Vec::new();
        d.read_to_end(&mut v).unwrap();
        v
    };
    // ustar headers whose prefix field is used (byte 345), other than pax headers
    let prefixed = raw
        .chunks(512)
        .filter(|b| b.len() == 512 && &b[257..263] == b"ustar\0" && b[156] != b'x' && b[345] != 0)
        .count();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.matches(" path=./").count() >= 1,
        "a pax path record for the name over 100 bytes"
    );
    assert_eq!(
        text.matches(" linkpath=../../misc/").count(),
        3,
        "pax linkpath records for the 119/120/121-byte targets"
    );
    assert_eq!(
        text.matches(" linkpath=./usr/share/examples/").count(),
        1,
        "a hard link to the long name"
    );
    assert!(
        prefixed >= 1,
        "a path over 100 bytes split into ustar prefix and name"
    );
    assert_eq!(raw.len() % 10240, 0, "padded to pax's 10240-byte records");
}

/// One line of an mtree spec: path and keywords, both unvis'd.
fn parse_mtree(text: &str) -> Vec<(String, BTreeMap<String, String>)> {
    fn unvis(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\'
                && i + 4 <= b.len()
                && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
            {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 4]).unwrap(), 8).unwrap(),
                );
                i += 4;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split(' ');
            let path = unvis(words.next().unwrap());
            let kv = words
                .map(|w| {
                    let (k, v) = w.split_once('=').expect(w);
                    (k.to_string(), unvis(v))
                })
                .collect();
            (path, kv)
        })
        .collect()
}

#[test]
fn every_set_holds_its_own_mtree_spec_matching_the_archive_exactly() {
    for set in &mirror().sets {
        let members = members_of(&set.name);
        let spec_path = format!("./etc/mtree/set.{}", set.name);
        let spec = members
            .iter()
            .find(|m| m.path == spec_path)
            .unwrap_or_else(|| panic!("{spec_path} missing"));
        assert_eq!(spec.mode, 0o444);
        let spec = parse_mtree(std::str::from_utf8(&spec.data).unwrap());
        assert_eq!(
            spec.len(),
            members.len(),
            "{}: one spec line per archive member",
            set.name
        );
        let by_path: BTreeMap<&str, &Member> =
            members.iter().map(|m| (m.path.as_str(), m)).collect();
        for ((path, kv), m) in spec.iter().zip(members) {
            assert_eq!(
                path, &m.path,
                "{}: spec and archive in the same order",
                set.name
            );
            let ty = match m.kind {
                '5' => "dir",
                '2' => "link",
                '0' | '1' => "file",
                k => panic!("{}: unexpected member type {k:?} for {path}", set.name),
            };
            assert_eq!(kv["type"], ty, "{path}");
            assert_eq!(kv["mode"], format!("0{:o}", m.mode), "{path}");
            assert_eq!(kv["uname"], m.uname, "{path}");
            assert_eq!(kv["gname"], m.gname, "{path}");
            if ty == "link" {
                assert_eq!(kv.get("link"), m.link.as_ref(), "{path}");
            }
            if ty == "file" && *path != spec_path {
                // a hard link's data is its first name's
                let data = match m.kind {
                    '1' => &by_path[m.link.as_deref().unwrap()].data,
                    _ => &m.data,
                };
                assert_eq!(kv["size"], data.len().to_string(), "{path}");
                assert_eq!(kv["sha256"], hex::encode(Sha256::digest(data)), "{path}");
            }
        }
    }
}

#[test]
fn directories_come_before_their_contents_and_paths_are_dot_relative() {
    for set in &mirror().sets {
        let members = members_of(&set.name);
        assert_eq!(members[0].path, ".", "{}: the root first", set.name);
        let mut seen = std::collections::BTreeSet::new();
        for m in members {
            assert!(m.path == "." || m.path.starts_with("./"), "{}", m.path);
            if let Some((parent, _)) = m.path.rsplit_once('/') {
                assert!(
                    seen.contains(parent),
                    "{}: {} before its directory",
                    set.name,
                    m.path
                );
            }
            seen.insert(m.path.clone());
        }
    }
}

#[test]
fn returned_members_describe_the_archives() {
    for set in &mirror().sets {
        let members = members_of(&set.name);
        assert_eq!(members.len(), set.members.len(), "{}", set.name);
        for (a, want) in members.iter().zip(&set.members) {
            let SetMember {
                path,
                kind,
                mode,
                uname,
                gname,
                uid,
                gid,
                size,
                sha256,
            } = want;
            assert_eq!(a.path, dot(path));
            assert_eq!(
                (a.mode, &a.uname, &a.gname, a.uid, a.gid),
                (
                    u32::from(*mode),
                    uname,
                    gname,
                    u64::from(*uid),
                    u64::from(*gid)
                ),
                "{path}"
            );
            match kind {
                EntryKind::File => {
                    assert_eq!(a.kind, '0', "{path}");
                    assert_eq!(want.entry().size, a.data.len() as u64, "{path}");
                    assert_eq!(a.data.len() as u64, *size, "{path}");
                    assert_eq!(
                        sha256.as_deref(),
                        Some(hex::encode(Sha256::digest(&a.data)).as_str()),
                        "{path}"
                    );
                }
                EntryKind::Dir => assert_eq!(a.kind, '5', "{path}"),
                EntryKind::Symlink(t) => assert_eq!(
                    (a.kind, a.link.as_deref()),
                    ('2', Some(t.as_str())),
                    "{path}"
                ),
                EntryKind::HardLink(t) => {
                    assert_eq!((a.kind, a.link.clone()), ('1', Some(dot(t))), "{path}")
                }
                other => panic!("{path}: unexpected kind {other:?}"),
            }
        }
    }
}

#[test]
fn tiny_mirror_has_a_few_hundred_entries_and_a_few_megabytes() {
    let m = mirror();
    let entries: usize = m.sets.iter().map(|s| s.members.len()).sum();
    let bytes: u64 = m
        .sets
        .iter()
        .map(|s| std::fs::metadata(&s.path).unwrap().len())
        .sum();
    assert!((150..=1000).contains(&entries), "{entries} entries");
    assert!(bytes < 8 << 20, "{bytes} bytes");
}

fn base_file(name: &str) -> Vec<u8> {
    members_of("base")
        .iter()
        .find(|m| m.path == name)
        .unwrap_or_else(|| panic!("{name}"))
        .data
        .clone()
}

#[test]
fn bootxx_stand_in_has_a_jump_the_magic_at_1028_and_sane_boot_params() {
    let b = base_file("./usr/mdec/bootxx_ffsv2");
    assert_eq!(b.len(), 8192);
    assert_eq!((b[0], b[2]), (0xeb, 0x90), "EB xx 90");
    let word = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(word(1028), 0x7886_b6d1, "X86_BOOT_MAGIC_1");
    // struct x86_boot_params: 5 x u32, password[16], keymap[64], consaddr
    assert_eq!(
        word(1032),
        104,
        "bp_length = sizeof(struct x86_boot_params)"
    );
    assert_eq!(word(1032 + 12), 0, "bp_consdev pc");
    assert!(
        b[1032 + 20..1032 + 104].iter().all(|&x| x == 0),
        "no password, keymap or console address"
    );
}

#[test]
fn gptmbr_is_440_bytes_and_boot_files_are_present() {
    assert_eq!(base_file("./usr/mdec/gptmbr.bin").len(), 440);
    let boot = base_file("./usr/mdec/boot");
    assert!((90_000..=110_000).contains(&boot.len()));
    let efi = base_file("./usr/mdec/bootx64.efi");
    assert_eq!(&efi[..2], b"MZ", "a PE image from grub-mkstandalone");
    assert!(base_file("./dev/MAKEDEV").starts_with(b"#!/bin/sh"));
    let kern = members_of("kern-GENERIC");
    assert!(
        kern.iter()
            .any(|m| m.path == "./netbsd" && m.data.starts_with(b"\x7fELF"))
    );
}

#[test]
fn etc_set_has_stock_accounts_unconfigured_rc_conf_and_no_databases() {
    let etc = members_of("etc");
    let file = |p: &str| -> String {
        String::from_utf8(
            etc.iter()
                .find(|m| m.path == p)
                .unwrap_or_else(|| panic!("{p}"))
                .data
                .clone(),
        )
        .unwrap()
    };
    let mp = file("./etc/master.passwd");
    assert!(
        mp.lines().next().unwrap().starts_with("root::0:0:"),
        "root without a password"
    );
    assert!(
        mp.contains("\noperator:*:2:5:")
            && mp.contains("\nsshd:*:16:16:")
            && mp.contains("\nnobody:*:32767:39:")
    );
    assert!(
        file("./etc/group").starts_with("wheel:*:0:root\n")
            && file("./etc/group").contains("\nusers:*:100:\n")
    );
    let rc = file("./etc/rc.conf");
    assert!(
        rc.contains("if [ -r /etc/defaults/rc.conf ]; then") && rc.contains("\nrc_configured=NO\n")
    );
    assert!(file("./etc/ssh/sshd_config").contains("\nUsePam yes\n"));
    let ttys = file("./etc/ttys");
    for t in ["console", "constty", "ttyE0", "tty00", "tty03"] {
        assert!(
            ttys.lines().any(|l| l.starts_with(&format!("{t}\t"))),
            "{t}"
        );
    }
    assert!(file("./etc/login.conf").contains("default:\\\n\t:path="));
    for absent in ["./etc/fstab", "./etc/pwd.db", "./etc/spwd.db"] {
        assert!(
            etc.iter().all(|m| m.path != absent),
            "{absent} must not be in the etc set"
        );
    }
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let a = mirror();
    let b = generate("testkit-mirror-seed1-again", 1);
    let c = generate("testkit-mirror-seed2", 2);
    for name in ["SHA512", "MD5"] {
        assert_eq!(
            std::fs::read(a.sets_dir.join(name)).unwrap(),
            std::fs::read(b.sets_dir.join(name)).unwrap()
        );
    }
    for ((sa, sb), sc) in a.sets.iter().zip(&b.sets).zip(&c.sets) {
        assert_eq!(
            std::fs::read(&sa.path).unwrap(),
            std::fs::read(&sb.path).unwrap(),
            "{}",
            sa.name
        );
        if sa.name != "etc" {
            // etc holds only fixed text; every other set has generated content
            assert_ne!(
                sa.sha512, sc.sha512,
                "{} must differ with another seed",
                sa.name
            );
        }
    }
}

#[test]
fn cli_writes_the_same_mirror_as_the_library() {
    let dir = tmp("testkit-mirror-cli");
    let out = Command::new(env!("CARGO_BIN_EXE_mkimage-testkit"))
        .args(["-q", "mirror", "netbsd", "--size", "tiny", "--seed", "1"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sets = dir.join("pub/NetBSD/NetBSD-10.1/amd64/binary/sets");
    // another process, same seed: same bytes (GRUB stand-in included)
    assert_eq!(
        std::fs::read(sets.join("SHA512")).unwrap(),
        std::fs::read(mirror().sets_dir.join("SHA512")).unwrap()
    );
}

#[test]
fn realistic_mirror_holds_about_a_gigabyte_in_about_60000_files() {
    let plan =
        mkimage::testkit::mirror::plan_netbsd(&NetbsdMirrorOptions::new(MirrorSize::Realistic, 1))
            .unwrap();
    let files: Vec<&SetMember> = plan
        .iter()
        .flat_map(|(_, m)| m)
        .filter(|m| matches!(m.kind, EntryKind::File))
        .collect();
    let bytes: u64 = files.iter().map(|m| m.size).sum();
    assert!(
        (50_000..=70_000).contains(&files.len()),
        "{} files",
        files.len()
    );
    assert!((800 << 20..=1300 << 20).contains(&bytes), "{bytes} bytes");
    eprintln!("realistic plan: {} files, {bytes} bytes", files.len());
    // a mix: mostly small files, a few MB-sized ones
    let small = files.iter().filter(|m| m.size < 16 << 10).count();
    let big = files.iter().filter(|m| m.size >= 1 << 20).count();
    assert!(small * 10 > files.len() * 7, "{small} small files");
    assert!((20..=1000).contains(&big), "{big} files of 1 MB or more");
}

/// Files and bytes of file data in a realistic plan at `scale`.
fn realistic_plan_totals(scale: f64) -> (usize, u64) {
    let mut opts = NetbsdMirrorOptions::new(MirrorSize::Realistic, 1);
    opts.scale = scale;
    let plan = mkimage::testkit::mirror::plan_netbsd(&opts).unwrap();
    let files: Vec<&SetMember> = plan
        .iter()
        .flat_map(|(_, m)| m)
        .filter(|m| matches!(m.kind, EntryKind::File))
        .collect();
    (files.len(), files.iter().map(|m| m.size).sum())
}

#[test]
fn scaled_realistic_mirror_grows_and_shrinks_with_the_scale() {
    let (files1, bytes1) = realistic_plan_totals(1.0);
    let (files_half, bytes_half) = realistic_plan_totals(0.5);
    let (files2, bytes2) = realistic_plan_totals(2.0);
    eprintln!(
        "scale 0.5: {files_half} files, {bytes_half} bytes; 1: {files1}, {bytes1}; 2: {files2}, {bytes2}"
    );
    // the bulk files dominate the count, so it follows the scale closely
    assert!(
        files_half * 100 > files1 * 45 && files_half * 100 < files1 * 55,
        "{files_half} files at 0.5 against {files1}"
    );
    assert!(
        files2 * 100 > files1 * 195 && files2 * 100 < files1 * 205,
        "{files2} files at 2 against {files1}"
    );
    // the data follows it too, less closely (the fixed core stays)
    assert!(
        bytes_half < bytes1 * 7 / 10,
        "{bytes_half} against {bytes1}"
    );
    assert!(bytes2 > bytes1 * 17 / 10, "{bytes2} against {bytes1}");
    // 1.0 is the default
    assert_eq!(
        NetbsdMirrorOptions::new(MirrorSize::Realistic, 1).scale,
        1.0
    );
}

#[test]
fn a_scale_of_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = NetbsdMirrorOptions::new(MirrorSize::Realistic, 1);
    opts.scale = 0.0;
    let err = mkimage::testkit::mirror::generate_netbsd(dir.path(), &opts).unwrap_err();
    assert!(format!("{err:#}").contains("scale"), "{err:#}");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn grub_stand_in_runs_the_default_script_unless_told_otherwise() {
    let efi = base_file("./usr/mdec/bootx64.efi");
    for line in [
        "echo MKIMAGE-STANDIN-BOOT",
        "cat (hd0,gpt2)/etc/rc.conf",
        "echo MKIMAGE-STANDIN-END",
        "halt",
    ] {
        assert!(
            contains(&efi, line.as_bytes()),
            "{line} in the embedded grub.cfg"
        );
    }
    let mut opts = NetbsdMirrorOptions::new(MirrorSize::Tiny, 1);
    opts.grub_cfg = "echo CUSTOM-SCRIPT-FOR-A-TEST\nhalt\n".into();
    let custom = generate_netbsd(&tmp("testkit-mirror-custom-grub"), &opts).unwrap();
    let base = read_set(&custom.set("base").unwrap().path);
    let efi = &base
        .iter()
        .find(|m| m.path == "./usr/mdec/bootx64.efi")
        .unwrap()
        .data;
    assert_eq!(&efi[..2], b"MZ");
    assert!(contains(efi, b"echo CUSTOM-SCRIPT-FOR-A-TEST"));
    assert!(!contains(efi, b"MKIMAGE-STANDIN-BOOT"));
}

#[test]
fn release_or_machine_that_could_escape_the_mirror_is_refused() {
    let mut opts = NetbsdMirrorOptions::new(MirrorSize::Tiny, 1);
    opts.release = "../10.1".into();
    let err = generate_netbsd(&tmp("testkit-mirror-bad"), &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("release \"../10.1\""), "{err}");
    let mut opts = NetbsdMirrorOptions::new(MirrorSize::Tiny, 1);
    opts.machine = "amd64/x".into();
    assert!(generate_netbsd(&tmp("testkit-mirror-bad"), &opts).is_err());
}

#[test]
fn rc_configured_is_only_in_etc_rc_conf() {
    let etc = members_of("etc");
    let text = |p: &str| {
        String::from_utf8(etc.iter().find(|m| m.path == p).unwrap().data.clone()).unwrap()
    };
    assert!(
        text("./etc/defaults/rc.conf")
            .lines()
            .all(|l| !l.starts_with("rc_configured"))
    );
    assert_eq!(
        text("./etc/rc.conf")
            .lines()
            .filter(|l| l.starts_with("rc_configured="))
            .count(),
        1
    );
}

#[test]
fn mtree_spec_lines_read_like_netbsds() {
    let base = members_of("base");
    let spec = &base
        .iter()
        .find(|m| m.path == "./etc/mtree/set.base")
        .unwrap()
        .data;
    let spec = std::str::from_utf8(spec).unwrap();
    let lines: Vec<&str> = spec.lines().collect();
    assert_eq!(lines[0], ". type=dir uname=root gname=wheel mode=0755");
    let line = |prefix: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?}"))
    };
    assert!(
        line("./bin/\\133 ")
            .starts_with("./bin/\\133 type=file uname=root gname=wheel mode=0555 size=")
    );
    assert!(
        line("./usr/bin/su ")
            .starts_with("./usr/bin/su type=file uname=root gname=wheel mode=04555 size=")
    );
    assert_eq!(
        line("./tmp "),
        "./tmp type=dir uname=root gname=wheel mode=01777"
    );
    assert_eq!(
        line("./lib/libc.so.12 "),
        "./lib/libc.so.12 type=link uname=root gname=wheel mode=0755 link=libc.so.12.220"
    );
    assert!(line(&format!("./{EXAMPLES}/name\\040with\\040spaces ")).contains(" size=36 sha256="));
    assert_eq!(
        line("./etc/mtree/set.base "),
        "./etc/mtree/set.base type=file uname=root gname=wheel mode=0444"
    );
    let sha = line("./bin/cat ").rsplit_once("sha256=").unwrap().1;
    assert_eq!(sha.len(), 64);
}
