//! `pwd.db` and `spwd.db`: the keys and records each OS's `pwd_mkdb`
//! stores for every `master.passwd` entry, in a DB 1.85 hash file with
//! `pwd_mkdb`'s parameters (bsize 4096, ffactor 32, nelem 256). The public
//! database carries `*` for every password, the secure one the hashes.

pub mod freebsd;
pub mod netbsd;

use super::{
    Accounts, AccountsError, ByteOrder, FileSpec, GROUP, MASTER_PASSWD, MASTER_PASSWD_NAME, PASSWD,
    PWD_DB, SPWD_DB, User,
};
use crate::db185::hash::HashParams;

/// `openinfo` in `pwd_mkdb.c`: bsize 4096, ffactor 32, nelem 256.
pub fn pwd_mkdb_params(order: ByteOrder) -> HashParams {
    HashParams::new(4096, 32, 256, order)
}

/// A `(pwd.db, spwd.db)` encoder: [`netbsd::pwd_dbs`] or [`freebsd::pwd_dbs`].
pub type Encoder = fn(&Accounts, ByteOrder) -> Result<(Vec<u8>, Vec<u8>), AccountsError>;

/// Everything `pwd_mkdb -p` leaves in `/etc` plus `group`: each file's
/// place, mode and owner with its contents, in a fixed order
/// (master.passwd, passwd, group, pwd.db, spwd.db).
pub fn account_files(
    acc: &Accounts,
    encoder: Encoder,
    order: ByteOrder,
) -> Result<Vec<(FileSpec, Vec<u8>)>, AccountsError> {
    let (pwd, spwd) = encoder(acc, order)?;
    Ok(vec![
        (MASTER_PASSWD, acc.master_passwd().into_bytes()),
        (PASSWD, acc.passwd().into_bytes()),
        (GROUP, acc.group().into_bytes()),
        (PWD_DB, pwd),
        (SPWD_DB, spwd),
    ])
}

/// `LINE_MAX`: `pwd_mkdb` reads lines into a buffer of this size, so a line
/// (without its newline) may be at most `LINE_MAX - 2` bytes.
pub const LINE_MAX: usize = 2048;

/// `_PW_KEYBYNAME`, `_PW_KEYBYNUM`, `_PW_KEYBYUID` in `<pwd.h>`.
pub const KEYBYNAME: u8 = b'1';
pub const KEYBYNUM: u8 = b'2';
pub const KEYBYUID: u8 = b'3';

fn push_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
}

fn check_entry(line: usize, u: &User, max_name: usize, os: &str) -> Result<(), AccountsError> {
    let unsupported = |msg: String| AccountsError::Unsupported {
        file: MASTER_PASSWD_NAME,
        line,
        msg,
    };
    if u.name.len() > max_name {
        return Err(unsupported(format!(
            "user name `{}` is {} bytes; {os} allows at most {max_name}",
            u.name,
            u.name.len()
        )));
    }
    let len = u.master_line().len();
    if len > LINE_MAX - 2 {
        return Err(unsupported(format!(
            "entry of `{}` is {len} bytes; pwd_mkdb reads at most {} (LINE_MAX)",
            u.name,
            LINE_MAX - 2
        )));
    }
    Ok(())
}

/// Reads a record field by field; every step checked.
struct Fields<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(data: &'a [u8]) -> Self {
        Fields { data, at: 0 }
    }

    fn str(&mut self) -> Result<String, AccountsError> {
        let rest = self.data.get(self.at..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or_else(|| bad("a string has no NUL"))?;
        let s = std::str::from_utf8(&rest[..end]).map_err(|_| bad("a string is not UTF-8"))?;
        self.at += end + 1;
        Ok(s.to_string())
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], AccountsError> {
        let b = self
            .data
            .get(self.at..self.at + N)
            .ok_or_else(|| bad("the record is cut short"))?;
        self.at += N;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    fn end(&self) -> Result<(), AccountsError> {
        if self.at == self.data.len() {
            Ok(())
        } else {
            Err(bad("the record has trailing bytes"))
        }
    }
}

fn bad(msg: &str) -> AccountsError {
    AccountsError::Invalid {
        what: "password database record",
        msg: msg.into(),
    }
}
