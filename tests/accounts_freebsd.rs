//! FreeBSD pwd.db / spwd.db checked with Debian's libdb1 `dbopen(3)`:
//! version-4 keys and records in network byte order, legacy version-3 ones
//! in the file's byte order, positions counting entries only.

mod accounts_common;

use accounts_common::{libdb1_dump, libdb1_get};
use mkimage::accounts::{Accounts, ByteOrder, User, freebsd};

const MASTER: &str = "\
# $FreeBSD$
#
root:$6$salt$hash:0:0::0:0:Charlie &:/root:/bin/sh
toor:*:0:0::0:0:Bourne-again Superuser:/root:
daemon:*:1:1::0:0:Owner of many system processes:/root:/usr/sbin/nologin

nobody:*:65534:65534::0:0:Unprivileged user:/nonexistent:/usr/sbin/nologin
";
const GROUP: &str = "# $FreeBSD$\n#\nwheel:*:0:root\nnogroup:*:65533:\n";

fn be(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn ord(v: u32, order: ByteOrder) -> [u8; 4] {
    if order == ByteOrder::Little {
        v.to_le_bytes()
    } else {
        v.to_be_bytes()
    }
}

/// Decode name, passwd, uid, gid, change, class, gecos, dir, shell, expire,
/// fields with numbers read by `num`.
fn decode(d: &[u8], num: impl Fn([u8; 4]) -> u32) -> (Vec<String>, Vec<u32>) {
    let mut p = 0;
    let mut strs = Vec::new();
    let mut nums = Vec::new();
    let take_str = |p: &mut usize| {
        let end = *p + d[*p..].iter().position(|&c| c == 0).unwrap();
        let s = String::from_utf8(d[*p..end].to_vec()).unwrap();
        *p = end + 1;
        s
    };
    strs.push(take_str(&mut p));
    strs.push(take_str(&mut p));
    for _ in 0..3 {
        nums.push(num(d[p..p + 4].try_into().unwrap()));
        p += 4;
    }
    for _ in 0..4 {
        strs.push(take_str(&mut p));
    }
    for _ in 0..2 {
        nums.push(num(d[p..p + 4].try_into().unwrap()));
        p += 4;
    }
    assert_eq!(p, d.len());
    (strs, nums)
}

fn check(master: &str, order: ByteOrder) {
    let acc = Accounts::parse(master, GROUP).unwrap();
    let (pwd, spwd) = freebsd::pwd_dbs(&acc, order).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<&str> = master
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .collect();
    for (bytes, secure) in [(pwd, false), (spwd, true)] {
        let path = dir.path().join("db");
        std::fs::write(&path, &bytes).unwrap();
        let mut keys = vec![b"\xffVERSION".to_vec()];
        for (i, l) in entries.iter().enumerate() {
            let f: Vec<&str> = l.split(':').collect();
            let uid: u32 = f[2].parse().unwrap();
            let n = i as u32 + 1;
            // _PW_VERSIONED('1', 4) = 'A', ('2', 4) = 'B', ('3', 4) = 'C'.
            keys.push([b"A", f[0].as_bytes()].concat());
            keys.push([&b"B"[..], &be(n)].concat());
            keys.push([&b"C"[..], &be(uid)].concat());
            keys.push([b"1", f[0].as_bytes()].concat());
            keys.push([&b"2"[..], &ord(n, order)].concat());
            keys.push([&b"3"[..], &ord(uid, order)].concat());
        }
        let got = libdb1_get(&path, &keys);
        assert_eq!(got[0].as_deref(), Some(&[4u8][..]));
        for (i, l) in entries.iter().enumerate() {
            let f: Vec<&str> = l.split(':').collect();
            let pw = if secure { f[1] } else { "*" };
            for (j, v4) in [(0, true), (1, true), (3, false), (4, false)] {
                let d = got[1 + 6 * i + j].as_ref().expect("key found");
                let (s, n) = if v4 {
                    decode(d, u32::from_be_bytes)
                } else if order == ByteOrder::Little {
                    decode(d, u32::from_le_bytes)
                } else {
                    decode(d, u32::from_be_bytes)
                };
                assert_eq!(s, vec![f[0], pw, f[4], f[7], f[8], f[9]]);
                assert_eq!(n[0].to_string(), f[2]);
                assert_eq!(n[1].to_string(), f[3]);
                assert_eq!(n[2].to_string(), f[5]);
                assert_eq!(n[3].to_string(), f[6]);
                // _PWF_* bits: name, passwd if set, uid, gid, change,
                // gecos, dir, shell if set, expire; never class here.
                let mut want = 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 9;
                for (cond, bit) in [
                    (!f[1].is_empty(), 1),
                    (!f[7].is_empty(), 6),
                    (!f[8].is_empty(), 7),
                    (!f[9].is_empty(), 8),
                ] {
                    if cond {
                        want |= 1 << bit;
                    }
                }
                assert_eq!(n[4], want, "pw_fields of {}", f[0]);
            }
            for j in [2, 5] {
                assert!(got[1 + 6 * i + j].is_some(), "uid key of {}", f[0]);
            }
        }
        let mut uids: Vec<&str> = entries
            .iter()
            .map(|l| l.split(':').nth(2).unwrap())
            .collect();
        uids.sort();
        uids.dedup();
        assert_eq!(
            libdb1_dump(&path).len(),
            1 + 2 * (2 * entries.len() + uids.len())
        );
    }
}

#[test]
fn versioned_and_legacy_keys_are_found_by_libdb1_in_both_byte_orders() {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        check(MASTER, order);
    }
}

#[test]
fn two_thousand_users_with_32_byte_names_and_long_gecos() {
    let mut master = String::from(MASTER);
    for i in 0..2000u32 {
        let name = format!("user{i:04}{}", "n".repeat((i % 25) as usize));
        assert!(name.len() <= 32);
        let gecos = format!("{},Room {i},,", "Full Name ".repeat((i % 120) as usize));
        master.push_str(&format!(
            "{name}:$6$x$y{i}:{}:100::0:0:{gecos}:/home/{name}:/bin/sh\n",
            3000 + i
        ));
    }
    check(&master, ByteOrder::Little);
}

#[test]
fn names_longer_than_32_bytes_are_refused() {
    let mut acc = Accounts::parse(MASTER, GROUP).unwrap();
    let long = "n".repeat(33);
    acc.add_user(User::new(&long, 1001, 0, "", "/", "/bin/sh"))
        .unwrap();
    let err = freebsd::pwd_dbs(&acc, ByteOrder::Little)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("master.passwd line 8") && err.contains("32"),
        "{err}"
    );
}
