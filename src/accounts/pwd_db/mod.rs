//! `pwd.db` and `spwd.db`: the keys and records each OS's `pwd_mkdb`
//! stores for every `master.passwd` entry, in a DB 1.85 hash file with
//! `pwd_mkdb`'s parameters (bsize 4096, ffactor 32, nelem 256). The public
//! database carries `*` for every password, the secure one the hashes.

pub mod freebsd;
pub mod netbsd;

use super::{AccountsError, MASTER_PASSWD_NAME, User};

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
