//! `master.passwd` entries (10 fields:
//! `name:passwd:uid:gid:class:change:expire:gecos:home:shell`) and the public
//! `passwd` line derived from each (7 fields, password `*`), as
//! `pwd_mkdb -p` writes it.

/// One account. `change`/`expire` are `None` when the field is empty (which
/// NetBSD's `pw_scan` records as `_PASSWORD_NOCHG`/`_PASSWORD_NOEXP`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// The password hash (`*` locked, empty for no password).
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    /// Login class.
    pub class: String,
    pub change: Option<i64>,
    pub expire: Option<i64>,
    pub gecos: String,
    pub home: String,
    pub shell: String,
}

impl User {
    /// A locked account (`*`), no class, change and expire 0 — the shape of
    /// the entries NetBSD and FreeBSD ship.
    pub fn new(name: &str, uid: u32, gid: u32, gecos: &str, home: &str, shell: &str) -> Self {
        User {
            name: name.into(),
            password: "*".into(),
            uid,
            gid,
            class: String::new(),
            change: Some(0),
            expire: Some(0),
            gecos: gecos.into(),
            home: home.into(),
            shell: shell.into(),
        }
    }

    /// Parse one `master.passwd` line; the error says what is wrong.
    pub fn parse_master(line: &str) -> Result<Self, String> {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() != 10 {
            return Err(format!(
                "expected 10 fields separated by `:`, found {}",
                f.len()
            ));
        }
        if f[0].is_empty() {
            return Err("empty user name".into());
        }
        Ok(User {
            name: f[0].into(),
            password: f[1].into(),
            uid: parse_id(f[2], "uid")?,
            gid: parse_id(f[3], "gid")?,
            class: f[4].into(),
            change: parse_time(f[5], "change")?,
            expire: parse_time(f[6], "expire")?,
            gecos: f[7].into(),
            home: f[8].into(),
            shell: f[9].into(),
        })
    }

    /// The `master.passwd` line (no newline).
    pub fn master_line(&self) -> String {
        let t = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        format!(
            "{}:{}:{}:{}:{}:{}:{}:{}:{}:{}",
            self.name,
            self.password,
            self.uid,
            self.gid,
            self.class,
            t(self.change),
            t(self.expire),
            self.gecos,
            self.home,
            self.shell
        )
    }

    /// The public `passwd` line (`pwd_mkdb -p`: `%s:*:%d:%d:%s:%s:%s`).
    pub fn passwd_line(&self) -> String {
        format!(
            "{}:*:{}:{}:{}:{}:{}",
            self.name, self.uid, self.gid, self.gecos, self.home, self.shell
        )
    }

    /// Fields that cannot be stored: separators, newlines, NULs, a name
    /// that `pw_scan` would take for a NIS (`+`/`-`) line.
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("empty user name".into());
        }
        if self.name.starts_with(['+', '-']) {
            return Err(format!(
                "user name `{}` starts with `+` or `-` (NIS syntax)",
                self.name
            ));
        }
        for (what, v) in [
            ("name", &self.name),
            ("password", &self.password),
            ("class", &self.class),
            ("gecos", &self.gecos),
            ("home", &self.home),
            ("shell", &self.shell),
        ] {
            if v.contains([':', '\n', '\r', '\0']) {
                return Err(format!("{what} {v:?} contains `:`, a newline or NUL"));
            }
        }
        Ok(())
    }
}

/// A decimal id (`pw_scan`: unsigned, at most `UID_MAX`).
pub(crate) fn parse_id(s: &str, what: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} `{s}` is not a decimal number"));
    }
    s.parse::<u32>()
        .map_err(|_| format!("{what} `{s}` is out of range"))
}

fn parse_time(s: &str, what: &str) -> Result<Option<i64>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} time `{s}` is not a decimal number"));
    }
    s.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("{what} time `{s}` is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_line_round_trips() {
        for line in [
            "root:$6$salt$hash:0:0::0:0:Charlie &:/root:/bin/sh",
            "nobody:*:32767:39::0:0:Unprivileged user:/nonexistent:/sbin/nologin",
            "x::5:5:staff:::gecos, with, commas:/home/x:",
        ] {
            assert_eq!(User::parse_master(line).unwrap().master_line(), line);
        }
        assert!(User::parse_master("a:b:c").is_err());
        assert!(User::parse_master("a:*:x:0::0:0:::").is_err());
    }
}
