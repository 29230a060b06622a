//! FreeBSD's `pwd_mkdb` (`usr.sbin/pwd_mkdb/pwd_mkdb.c`): a version record
//! `"\xffVERSION"` = 4, then per entry (numbered from 1, comments and blank
//! lines skipped) version-4 keys `_PW_VERSIONED(x, 4)` with every number in
//! network byte order, and legacy version-3 keys (`'1'`, `'2'`, `'3'`) with
//! numbers in the database's byte order. Records:
//! `name\0 passwd\0 uid gid change class\0 gecos\0 dir\0 shell\0 expire
//! fields`, all numbers 32 bits.

use super::{KEYBYNAME, KEYBYNUM, KEYBYUID, check_entry, push_str, pwd_mkdb_params};
use crate::accounts::{Accounts, AccountsError, ByteOrder, MASTER_PASSWD_NAME, User};
use crate::db185::hash::HashWriter;

/// `_PWD_VERSION_KEY` in `<pwd.h>` (stored without a NUL).
pub const VERSION_KEY: &[u8] = b"\xffVERSION";
/// `_PWD_CURRENT_VERSION`.
pub const CURRENT_VERSION: u8 = 4;
/// `LEGACY_VERSION` in `pwd_mkdb.c`.
pub const LEGACY_VERSION: u8 = 3;
/// `MAXLOGNAME` (33, with the NUL).
pub const MAX_NAME: usize = 32;

/// `_PW_VERSIONED(x, v)`: `(x & 0xCF) | (v << 4)`.
pub fn versioned(key: u8, version: u8) -> u8 {
    (key & 0xcf) | (version << 4)
}

/// `pw_fields` as `__pw_scan` sets it (`_PWF_NAME` = bit 0 … `_PWF_EXPIRE`
/// = bit 9) for a `master.passwd` entry.
pub fn fields(u: &User) -> u32 {
    let mut f = 0;
    let name = u.name.as_bytes();
    if !name.is_empty() && (name[0] != b'+' || name.len() == 1) {
        f |= 1 << 0;
    }
    let bits = [
        (!u.password.is_empty(), 1),
        (true, 2), // uid present (required)
        (true, 3), // gid present
        (u.change.is_some(), 4),
        (!u.class.is_empty(), 5),
        (!u.gecos.is_empty(), 6),
        (!u.home.is_empty(), 7),
        (!u.shell.is_empty(), 8),
        (u.expire.is_some(), 9),
    ];
    for (set, bit) in bits {
        if set {
            f |= 1 << bit;
        }
    }
    f
}

/// The record for `u` with `passwd`, numbers in `order` (network order for
/// version 4, the database's order for version 3).
pub fn record(u: &User, passwd: &str, order: ByteOrder) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + u.gecos.len());
    push_str(&mut b, &u.name);
    push_str(&mut b, passwd);
    b.extend_from_slice(&order.u32_bytes(u.uid));
    b.extend_from_slice(&order.u32_bytes(u.gid));
    b.extend_from_slice(&order.u32_bytes(u.change.unwrap_or(0) as u32));
    push_str(&mut b, &u.class);
    push_str(&mut b, &u.gecos);
    push_str(&mut b, &u.home);
    push_str(&mut b, &u.shell);
    b.extend_from_slice(&order.u32_bytes(u.expire.unwrap_or(0) as u32));
    b.extend_from_slice(&order.u32_bytes(fields(u)));
    b
}

/// `(pwd.db, spwd.db)` for `acc`; `order` is the hash file's byte order
/// (FreeBSD's default is the host's: little-endian on amd64).
pub fn pwd_dbs(acc: &Accounts, order: ByteOrder) -> Result<(Vec<u8>, Vec<u8>), AccountsError> {
    let mut public = HashWriter::new(pwd_mkdb_params(order))?;
    let mut secure = HashWriter::new(pwd_mkdb_params(order))?;
    for w in [&mut public, &mut secure] {
        w.insert(VERSION_KEY, &[CURRENT_VERSION])?;
    }
    for (cnt, (line, u)) in acc.users_with_lines().enumerate() {
        check_entry(line, u, MAX_NAME, "FreeBSD (MAXLOGNAME)")?;
        let cnt = u32::try_from(cnt + 1).map_err(|_| AccountsError::Unsupported {
            file: MASTER_PASSWD_NAME,
            line,
            msg: "too many entries".into(),
        })?;
        for (w, pw) in [(&mut public, "*"), (&mut secure, u.password.as_str())] {
            for (version, num_order) in [(CURRENT_VERSION, ByteOrder::Big), (LEGACY_VERSION, order)]
            {
                let rec = record(u, pw, num_order);
                let key = |k: u8, rest: &[u8]| [&[versioned(k, version)][..], rest].concat();
                w.insert_new(&key(KEYBYNAME, u.name.as_bytes()), &rec)?;
                w.insert_new(&key(KEYBYNUM, &num_order.u32_bytes(cnt)), &rec)?;
                w.insert_new(&key(KEYBYUID, &num_order.u32_bytes(u.uid)), &rec)?;
            }
        }
    }
    Ok((public.finish()?, secure.finish()?))
}

/// Decode a record; `order` is network order (big-endian) for version 4
/// keys, the database's order for version 3 ones. Returns the user and
/// its `pw_fields`.
pub fn decode_record(data: &[u8], order: ByteOrder) -> Result<(User, u32), AccountsError> {
    let mut f = super::Fields::new(data);
    let (name, password) = (f.str()?, f.str()?);
    let uid = order.read_u32(f.bytes()?);
    let gid = order.read_u32(f.bytes()?);
    let change = order.read_u32(f.bytes()?);
    let (class, gecos, home, shell) = (f.str()?, f.str()?, f.str()?, f.str()?);
    let expire = order.read_u32(f.bytes()?);
    let fields = order.read_u32(f.bytes()?);
    f.end()?;
    let user = User {
        name,
        password,
        uid,
        gid,
        class,
        change: (fields & 1 << 4 != 0).then_some(i64::from(change as i32)),
        expire: (fields & 1 << 9 != 0).then_some(i64::from(expire as i32)),
        gecos,
        home,
        shell,
    };
    Ok((user, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_keys_and_records_decode() {
        assert_eq!(versioned(b'1', 4), b'A');
        assert_eq!(versioned(b'3', 3), b'3');
        let u = User::new("build", 1000, 100, "Build user", "/home/build", "/bin/sh");
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let rec = record(&u, "*", order);
            let (d, fields) = decode_record(&rec, order).unwrap();
            assert_eq!(d, u);
            assert_eq!(fields, fields_of_build());
        }
    }

    fn fields_of_build() -> u32 {
        // name passwd uid gid change gecos dir shell expire; no class.
        (1 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9) as u32
    }
}
