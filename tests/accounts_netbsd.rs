//! NetBSD pwd.db / spwd.db checked with Debian's libdb1 `dbopen(3)`: every
//! user found by name, uid and position, fields decoded by hand here and
//! compared with the master.passwd text.

mod accounts_common;

use accounts_common::{libdb1_dump, libdb1_get};
use mkimage::accounts::{Accounts, ByteOrder, User, netbsd};
use std::path::Path;

const MASTER: &str = "\
root:$2a$10$abcdefghijklmnopqrstuv:0:0::0:0:Charlie &:/root:/bin/sh
toor:*:0:0::0:0:Bourne-again Superuser:/root:/bin/sh
daemon:*:1:1::0:0:The devil himself:/:/sbin/nologin
operator:*:2:5::0:0:System &:/usr/guest/operator:/sbin/nologin
sshd:*:16:16::0:0:& pseudo-user:/var/chroot/sshd:/sbin/nologin
nobody:*:32767:39::0:0:Unprivileged user:/nonexistent:/sbin/nologin
";
const GROUP: &str = "wheel:*:0:root\noperator:*:5:root\nusers:*:100:\n";

/// A record decoded the way libc's `_pw_getkey` reads a version 1 record.
#[derive(Debug, PartialEq)]
struct Decoded {
    fields: Vec<String>, // name, passwd, class, gecos, dir, shell
    uid: u32,
    gid: u32,
    change: i64,
    expire: i64,
    flags: u32,
}

fn decode(d: &[u8], order: ByteOrder) -> Decoded {
    let mut p = 0;
    let mut s = || {
        let end = p + d[p..].iter().position(|&c| c == 0).unwrap();
        let v = String::from_utf8(d[p..end].to_vec()).unwrap();
        p = end + 1;
        (v, p)
    };
    let (name, _) = s();
    let (passwd, at) = s();
    let u32_at = |at: usize| {
        let b: [u8; 4] = d[at..at + 4].try_into().unwrap();
        if order == ByteOrder::Little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let i64_at = |at: usize| {
        let b: [u8; 8] = d[at..at + 8].try_into().unwrap();
        if order == ByteOrder::Little {
            i64::from_le_bytes(b)
        } else {
            i64::from_be_bytes(b)
        }
    };
    let (uid, gid, change) = (u32_at(at), u32_at(at + 4), i64_at(at + 8));
    let mut p2 = at + 16;
    let mut s2 = || {
        let end = p2 + d[p2..].iter().position(|&c| c == 0).unwrap();
        let v = String::from_utf8(d[p2..end].to_vec()).unwrap();
        p2 = end + 1;
        v
    };
    let (class, gecos, dir, shell) = (s2(), s2(), s2(), s2());
    let expire = i64_at(p2);
    let flags = u32_at(p2 + 8);
    assert_eq!(p2 + 12, d.len(), "record has no trailing bytes");
    Decoded {
        fields: vec![name, passwd, class, gecos, dir, shell],
        uid,
        gid,
        change,
        expire,
        flags,
    }
}

fn num(v: u32, order: ByteOrder) -> [u8; 4] {
    if order == ByteOrder::Little {
        v.to_le_bytes()
    } else {
        v.to_be_bytes()
    }
}

/// Look every master.passwd line up in both files with libdb1 and compare.
fn check_with_libdb1(master: &str, pwd: &Path, spwd: &Path, order: ByteOrder) {
    let lines: Vec<&str> = master.lines().collect();
    let mut keys = vec![b"VERSION\0".to_vec()];
    for (i, l) in lines.iter().enumerate() {
        let f: Vec<&str> = l.split(':').collect();
        let uid: u32 = f[2].parse().unwrap();
        keys.push([b"1", f[0].as_bytes()].concat());
        keys.push([&b"2"[..], &num(i as u32 + 1, order)].concat());
        keys.push([&b"3"[..], &num(uid, order)].concat());
    }
    keys.push([&b"2"[..], &num(lines.len() as u32 + 1, order)].concat());
    for (path, secure) in [(pwd, false), (spwd, true)] {
        let got = libdb1_get(path, &keys);
        assert_eq!(
            got[0].as_deref(),
            Some(&num(1, order)[..]),
            "VERSION record is 1"
        );
        assert_eq!(
            got.last().unwrap(),
            &None,
            "no entry after the last position"
        );
        for (i, l) in lines.iter().enumerate() {
            let f: Vec<&str> = l.split(':').collect();
            let by_name = decode(got[1 + 3 * i].as_ref().expect("found by name"), order);
            let by_num = decode(got[2 + 3 * i].as_ref().expect("found by position"), order);
            let by_uid = decode(got[3 + 3 * i].as_ref().expect("found by uid"), order);
            assert_eq!(by_name, by_num);
            let want_pw = if secure { f[1] } else { "*" };
            assert_eq!(
                by_name.fields,
                vec![f[0], want_pw, f[4], f[7], f[8], f[9]],
                "fields of line {}",
                i + 1
            );
            assert_eq!(by_name.uid.to_string(), f[2]);
            assert_eq!(by_name.gid.to_string(), f[3]);
            assert_eq!(by_name.change.to_string(), f[5]);
            assert_eq!(by_name.expire.to_string(), f[6]);
            assert_eq!(by_name.flags, 0);
            // The first entry with a uid owns its by-uid key (R_NOOVERWRITE).
            let first = lines
                .iter()
                .find(|m| m.split(':').nth(2) == Some(f[2]))
                .unwrap();
            assert_eq!(by_uid.fields[0], first.split(':').next().unwrap());
        }
        let count = libdb1_dump(path).len();
        assert_eq!(
            count,
            1 + 2 * lines.len() + distinct_uids(master),
            "seq(3) sees every key"
        );
    }
}

fn distinct_uids(master: &str) -> usize {
    let mut u: Vec<&str> = master
        .lines()
        .map(|l| l.split(':').nth(2).unwrap())
        .collect();
    u.sort();
    u.dedup();
    u.len()
}

fn write_dbs(
    acc: &Accounts,
    order: ByteOrder,
) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (pwd, spwd) = netbsd::pwd_dbs(acc, order).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = (dir.path().join("pwd.db"), dir.path().join("spwd.db"));
    std::fs::write(&p, pwd).unwrap();
    std::fs::write(&s, spwd).unwrap();
    (dir, p, s)
}

#[test]
fn build_user_is_found_by_name_uid_and_position_in_both_databases() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    let mut build = User::new("build", 1000, 100, "Build user", "/home/build", "/bin/sh");
    build.password = "$2a$10$0123456789abcdefghijkl".into();
    acc.add_user(build).unwrap();
    acc.add_member("wheel", "build").unwrap();
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let (_dir, p, s) = write_dbs(&acc, order);
        check_with_libdb1(&acc.master_passwd(), &p, &s, order);
    }
    assert!(acc.group().contains("wheel:*:0:root,build\n"));
}

#[test]
fn two_thousand_users_with_long_gecos_in_both_byte_orders() {
    let mut master = String::from(MASTER);
    for i in 0..2000u32 {
        // Names up to NetBSD's 16 bytes; GECOS up to ~1,800 bytes so that
        // records crowd pages and chains need overflow pages.
        let name = format!("u{i:04}{}", "x".repeat((i % 12) as usize));
        let gecos = "G".repeat(20 + (i as usize * 37) % 1800);
        master.push_str(&format!(
            "{name}:$6$s{i}$h:{}:100::0:0:{gecos}:/home/{name}:/bin/sh\n",
            2000 + i
        ));
    }
    let acc = Accounts::parse(&master, GROUP).unwrap();
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let (_dir, p, s) = write_dbs(&acc, order);
        let f = mkimage::db185::hash::HashFile::parse(std::fs::read(&p).unwrap()).unwrap();
        assert!(
            f.header().spares[f.header().ovfl_point as usize] > 100,
            "overflow pages used"
        );
        assert!(f.header().max_bucket >= 255);
        check_with_libdb1(&master, &p, &s, order);
    }
}

#[test]
fn empty_change_and_expire_fields_set_the_nochg_and_noexp_flags() {
    let acc = Accounts::parse("root:*:0:0::::Charlie &:/root:/bin/sh\n", GROUP).unwrap();
    let (pwd, _) = netbsd::pwd_dbs(&acc, ByteOrder::Little).unwrap();
    let f = mkimage::db185::hash::HashFile::parse(pwd).unwrap();
    let rec = decode(&f.get(b"1root").unwrap().unwrap(), ByteOrder::Little);
    assert_eq!(rec.flags, 0x04 | 0x08);
}

#[test]
fn names_longer_than_16_bytes_and_comment_lines_are_refused() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    acc.add_user(User::new(
        "a_name_of_17bytes",
        1001,
        100,
        "",
        "/",
        "/sbin/nologin",
    ))
    .unwrap();
    let err = netbsd::pwd_dbs(&acc, ByteOrder::Little)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("master.passwd line 7") && err.contains("16"),
        "{err}"
    );
    let acc = Accounts::parse(&format!("# comment\n{MASTER}"), GROUP).unwrap();
    let err = netbsd::pwd_dbs(&acc, ByteOrder::Little)
        .unwrap_err()
        .to_string();
    assert!(err.contains("master.passwd line 1"), "{err}");
}

#[test]
fn same_accounts_give_the_same_database_bytes() {
    let acc = Accounts::parse(MASTER, GROUP).unwrap();
    assert_eq!(
        netbsd::pwd_dbs(&acc, ByteOrder::Little).unwrap(),
        netbsd::pwd_dbs(&acc, ByteOrder::Little).unwrap()
    );
}

#[test]
fn account_files_come_with_the_modes_pwd_mkdb_leaves() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    acc.add_user(User::new(
        "build",
        1000,
        100,
        "Build user",
        "/home/build",
        "/bin/sh",
    ))
    .unwrap();
    let files = mkimage::accounts::account_files(&acc, netbsd::pwd_dbs, ByteOrder::Little).unwrap();
    let got: Vec<(&str, u32)> = files.iter().map(|(f, _)| (f.path, f.mode)).collect();
    assert_eq!(
        got,
        vec![
            ("etc/master.passwd", 0o600),
            ("etc/passwd", 0o644),
            ("etc/group", 0o644),
            ("etc/pwd.db", 0o644),
            ("etc/spwd.db", 0o600),
        ]
    );
    assert!(files.iter().all(|(f, _)| f.uid == 0 && f.gid == 0));
    assert_eq!(files[0].1, acc.master_passwd().into_bytes());
    let (pwd, spwd) = netbsd::pwd_dbs(&acc, ByteOrder::Little).unwrap();
    assert_eq!(files[3].1, pwd);
    assert_eq!(files[4].1, spwd);
}

#[test]
fn db_dump185_lists_every_key_of_the_netbsd_database() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    acc.add_user(User::new(
        "build",
        1000,
        100,
        "Build user",
        "/home/build",
        "/bin/sh",
    ))
    .unwrap();
    let (_dir, p, _s) = write_dbs(&acc, ByteOrder::Little);
    let out = std::process::Command::new("db_dump185")
        .arg("-p")
        .arg(&p)
        .output()
        .expect("db_dump185 (libdb1-compat) is needed: run scripts/setup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("type=hash") && text.contains("db_lorder=1234"),
        "{text}"
    );
    assert!(text.contains("HEADER=END"));
    // Printable keys are printed as they are; the by-name key of build:
    assert!(text.lines().any(|l| l.trim() == "1build"), "{text}");
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "HEADER=END")
        .skip(1)
        .filter(|l| *l != "DATA=END")
        .collect();
    // VERSION + 7 names + 7 positions + 6 distinct uids (toor shares 0).
    assert_eq!(body.len(), 2 * (1 + 7 + 7 + 6));
}
