//! NetBSD's `pwd_mkdb` (`usr.sbin/pwd_mkdb/pwd_mkdb.c`, versioned databases
//! since 2009) for NetBSD 10: a `VERSION` record (1: 64-bit times), and per
//! entry the keys `'1'+name`, `'2'+line number`, `'3'+uid`, numbers in the
//! database's byte order, all mapping to
//! `name\0 passwd\0 uid:u32 gid:u32 change:i64 class\0 gecos\0 dir\0
//! shell\0 expire:i64 flags:u32` (`putdbents`), read back by libc's
//! `_pw_getkey` natively — so the byte order must be the target's.

use super::{KEYBYNAME, KEYBYNUM, KEYBYUID, check_entry, push_str, pwd_mkdb_params};
use crate::accounts::{Accounts, AccountsError, ByteOrder, MASTER_PASSWD_NAME, User};
use crate::db185::hash::HashWriter;

/// The version `pwd_mkdb` writes for a new root (`getversion` returns 1
/// when there is no database yet under `-d`; `-V 1`).
pub const DB_VERSION: u32 = 1;
/// The `VERSION` record's key: `"VERSION"` with its NUL.
pub const VERSION_KEY: &[u8] = b"VERSION\0";
/// `LOGIN_NAME_MAX` (17, with the NUL) checked by `pw_scan`.
pub const MAX_NAME: usize = 16;
/// `_PASSWORD_NOCHG` in `<pwd.h>`: empty change field.
pub const PASSWORD_NOCHG: u32 = 0x04;
/// `_PASSWORD_NOEXP` in `<pwd.h>`: empty expire field.
pub const PASSWORD_NOEXP: u32 = 0x08;

/// The record `putdbents` stores for `u`, with `passwd` in the password
/// field (`*` in the public database).
pub fn record(u: &User, passwd: &str, order: ByteOrder) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + u.gecos.len());
    push_str(&mut b, &u.name);
    push_str(&mut b, passwd);
    b.extend_from_slice(&order.u32_bytes(u.uid));
    b.extend_from_slice(&order.u32_bytes(u.gid));
    b.extend_from_slice(&order.u64_bytes(u.change.unwrap_or(0) as u64));
    push_str(&mut b, &u.class);
    push_str(&mut b, &u.gecos);
    push_str(&mut b, &u.home);
    push_str(&mut b, &u.shell);
    b.extend_from_slice(&order.u64_bytes(u.expire.unwrap_or(0) as u64));
    let mut flags = 0;
    if u.change.is_none() {
        flags |= PASSWORD_NOCHG;
    }
    if u.expire.is_none() {
        flags |= PASSWORD_NOEXP;
    }
    b.extend_from_slice(&order.u32_bytes(flags));
    b
}

/// `(pwd.db, spwd.db)` for `acc`, pages and numbers in `order` (`-L`/`-B`;
/// amd64 is little-endian).
pub fn pwd_dbs(acc: &Accounts, order: ByteOrder) -> Result<(Vec<u8>, Vec<u8>), AccountsError> {
    if let Some(line) = acc.first_non_entry_line() {
        return Err(AccountsError::Unsupported {
            file: MASTER_PASSWD_NAME,
            line,
            msg: "NetBSD's pwd_mkdb accepts no comment or blank lines; remove it".into(),
        });
    }
    let mut public = HashWriter::new(pwd_mkdb_params(order))?;
    let mut secure = HashWriter::new(pwd_mkdb_params(order))?;
    for w in [&mut public, &mut secure] {
        w.insert(VERSION_KEY, &order.u32_bytes(DB_VERSION))?;
    }
    for (line, u) in acc.users_with_lines() {
        check_entry(line, u, MAX_NAME, "NetBSD (LOGIN_NAME_MAX)")?;
        let num = u32::try_from(line).map_err(|_| AccountsError::Unsupported {
            file: MASTER_PASSWD_NAME,
            line,
            msg: "too many lines".into(),
        })?;
        for (w, pw) in [(&mut public, "*"), (&mut secure, u.password.as_str())] {
            let rec = record(u, pw, order);
            // R_NOOVERWRITE: the first entry of a name or uid wins.
            w.insert_new(&[&[KEYBYNAME][..], u.name.as_bytes()].concat(), &rec)?;
            w.insert_new(&[&[KEYBYNUM][..], &order.u32_bytes(num)].concat(), &rec)?;
            w.insert_new(&[&[KEYBYUID][..], &order.u32_bytes(u.uid)].concat(), &rec)?;
        }
    }
    Ok((public.finish()?, secure.finish()?))
}

/// Decode a version 1 record (as libc's `_pw_getkey` does) into the user
/// and its `pw_scan` flags.
pub fn decode_record(data: &[u8], order: ByteOrder) -> Result<(User, u32), AccountsError> {
    let mut f = super::Fields::new(data);
    let (name, password) = (f.str()?, f.str()?);
    let uid = order.read_u32(f.bytes()?);
    let gid = order.read_u32(f.bytes()?);
    let change = order.read_u64(f.bytes()?) as i64;
    let (class, gecos, home, shell) = (f.str()?, f.str()?, f.str()?, f.str()?);
    let expire = order.read_u64(f.bytes()?) as i64;
    let flags = order.read_u32(f.bytes()?);
    f.end()?;
    let user = User {
        name,
        password,
        uid,
        gid,
        class,
        change: (flags & PASSWORD_NOCHG == 0).then_some(change),
        expire: (flags & PASSWORD_NOEXP == 0).then_some(expire),
        gecos,
        home,
        shell,
    };
    Ok((user, flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_decode_to_the_user_they_encode() {
        let mut u = User::new("build", 1000, 100, "Build user", "/home/build", "/bin/sh");
        u.password = "$6$x$y".into();
        u.change = None;
        u.expire = Some(-5);
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let rec = record(&u, &u.password, order);
            assert_eq!(
                decode_record(&rec, order).unwrap(),
                (u.clone(), PASSWORD_NOCHG)
            );
            assert!(decode_record(&rec[..rec.len() - 1], order).is_err());
            assert!(decode_record(&[rec.clone(), vec![0]].concat(), order).is_err());
        }
    }
}
