//! User accounts without `pwd_mkdb`: `master.passwd`, `passwd` and `group`
//! as shipped in an image, edited in place (comments, blank lines, order and
//! untouched lines kept byte for byte), and the `pwd.db`/`spwd.db` hash
//! databases each OS's libc reads ([`netbsd`], [`freebsd`] encoders).
//!
//! OS-agnostic data lives here; the per-OS record layouts live in the
//! encoders, the hash file format in [`crate::db185::hash`].

mod group;
mod passwd;
mod pwd_db;

pub use group::Group;
pub use passwd::User;
pub use pwd_db::{Encoder, LINE_MAX, account_files, freebsd, netbsd, pwd_mkdb_params};

pub use crate::db185::hash::ByteOrder;
use crate::db185::hash::HashError;

/// Where, with which mode and owner, `pwd_mkdb` leaves a file (root:wheel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// Path relative to the root of the image.
    pub path: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// `/etc/master.passwd`: `pwd_mkdb` `fchmod`s it to `S_IRUSR|S_IWUSR`.
pub const MASTER_PASSWD: FileSpec = FileSpec {
    path: "etc/master.passwd",
    mode: 0o600,
    uid: 0,
    gid: 0,
};
/// `/etc/spwd.db`: `PERM_SECURE` (`S_IRUSR|S_IWUSR`).
pub const SPWD_DB: FileSpec = FileSpec {
    path: "etc/spwd.db",
    mode: 0o600,
    uid: 0,
    gid: 0,
};
/// `/etc/pwd.db`: `PERM_INSECURE` (`S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH`).
pub const PWD_DB: FileSpec = FileSpec {
    path: "etc/pwd.db",
    mode: 0o644,
    uid: 0,
    gid: 0,
};
/// `/etc/passwd`: written with `PERM_INSECURE` by `pwd_mkdb -p`.
pub const PASSWD: FileSpec = FileSpec {
    path: "etc/passwd",
    mode: 0o644,
    uid: 0,
    gid: 0,
};
/// `/etc/group`: as the `etc` set ships it.
pub const GROUP: FileSpec = FileSpec {
    path: "etc/group",
    mode: 0o644,
    uid: 0,
    gid: 0,
};

/// `master.passwd` as named in messages.
pub const MASTER_PASSWD_NAME: &str = "master.passwd";
/// `group` as named in messages.
pub const GROUP_NAME: &str = "group";

/// What went wrong, naming the file and line where there is one.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{file} line {line}: {msg}")]
    Syntax {
        file: &'static str,
        line: usize,
        msg: String,
    },
    #[error(
        "{file} line {line}: {what} `{value}` is already used by `{owner}`; choose another {what}"
    )]
    Duplicate {
        file: &'static str,
        line: usize,
        what: &'static str,
        value: String,
        owner: String,
    },
    #[error("{file} line {line}: {what} `{value}` already appears on line {first}")]
    Repeated {
        file: &'static str,
        line: usize,
        first: usize,
        what: &'static str,
        value: String,
    },
    #[error("invalid {what}: {msg}")]
    Invalid { what: &'static str, msg: String },
    #[error("no user `{0}` in master.passwd")]
    NoSuchUser(String),
    #[error("no group `{0}` in group")]
    NoSuchGroup(String),
    #[error("{file} line {line}: {msg}")]
    Unsupported {
        file: &'static str,
        line: usize,
        msg: String,
    },
    #[error("writing the password database: {0}")]
    Database(#[from] HashError),
}

type Result<T> = std::result::Result<T, AccountsError>;

/// A line of a text file: kept verbatim, or an entry with its current text.
#[derive(Clone, Debug)]
enum Line<T> {
    Other(String),
    Entry { text: String, value: T },
}

/// A text file of entries, comments and blank lines.
#[derive(Clone, Debug)]
struct TextFile<T> {
    lines: Vec<Line<T>>,
    final_newline: bool,
}

impl<T> TextFile<T> {
    fn parse(
        file: &'static str,
        text: &str,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Self> {
        let final_newline = text.is_empty() || text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = Vec::new();
        if !text.is_empty() {
            for (i, l) in body.split('\n').enumerate() {
                let t = l.trim_start_matches([' ', '\t']);
                if t.is_empty() || t.starts_with('#') {
                    lines.push(Line::Other(l.to_string()));
                    continue;
                }
                let value = parse(l).map_err(|msg| AccountsError::Syntax {
                    file,
                    line: i + 1,
                    msg,
                })?;
                lines.push(Line::Entry {
                    text: l.to_string(),
                    value,
                });
            }
        }
        Ok(TextFile {
            lines,
            final_newline,
        })
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (i, l) in self.lines.iter().enumerate() {
            out.push_str(match l {
                Line::Other(t) | Line::Entry { text: t, .. } => t,
            });
            if i + 1 < self.lines.len() || self.final_newline {
                out.push('\n');
            }
        }
        out
    }

    /// Entries with their 1-based line numbers.
    fn entries(&self) -> impl Iterator<Item = (usize, &T)> {
        self.lines.iter().enumerate().filter_map(|(i, l)| match l {
            Line::Entry { value, .. } => Some((i + 1, value)),
            Line::Other(_) => None,
        })
    }

    fn find(&self, pred: impl Fn(&T) -> bool) -> Option<(usize, &T)> {
        self.entries().find(|(_, v)| pred(v))
    }

    fn replace(&mut self, line: usize, value: T, text: String) {
        self.lines[line - 1] = Line::Entry { text, value };
    }

    fn push(&mut self, value: T, text: String) {
        self.lines.push(Line::Entry { text, value });
        self.final_newline = true;
    }
}

/// The account files of one image.
#[derive(Clone, Debug)]
pub struct Accounts {
    master: TextFile<User>,
    group: TextFile<Group>,
}

impl Accounts {
    /// Parse `master.passwd` and `group`. Two entries with the same name are
    /// an error; shared ids are accepted (`toor` shares uid 0 with `root`).
    pub fn parse(master_passwd: &str, group: &str) -> Result<Self> {
        let master = TextFile::parse(MASTER_PASSWD_NAME, master_passwd, User::parse_master)?;
        let group = TextFile::parse(GROUP_NAME, group, Group::parse)?;
        let mut seen = std::collections::BTreeMap::new();
        for (line, u) in master.entries() {
            if let Some(first) = seen.insert(u.name.clone(), line) {
                return Err(AccountsError::Repeated {
                    file: MASTER_PASSWD_NAME,
                    line,
                    first,
                    what: "user name",
                    value: u.name.clone(),
                });
            }
        }
        let mut seen = std::collections::BTreeMap::new();
        for (line, g) in group.entries() {
            if let Some(first) = seen.insert(g.name.clone(), line) {
                return Err(AccountsError::Repeated {
                    file: GROUP_NAME,
                    line,
                    first,
                    what: "group name",
                    value: g.name.clone(),
                });
            }
        }
        Ok(Accounts { master, group })
    }

    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.master.entries().map(|(_, u)| u)
    }

    /// Users with their line numbers in `master.passwd` (1-based).
    pub fn users_with_lines(&self) -> impl Iterator<Item = (usize, &User)> {
        self.master.entries()
    }

    /// Whether `master.passwd` has comment or blank lines (NetBSD's
    /// `pwd_mkdb` refuses them), and the first such line.
    pub fn first_non_entry_line(&self) -> Option<usize> {
        self.master
            .lines
            .iter()
            .position(|l| matches!(l, Line::Other(_)))
            .map(|i| i + 1)
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.group.entries().map(|(_, g)| g)
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.master.find(|u| u.name == name).map(|(_, u)| u)
    }

    pub fn find_group(&self, name: &str) -> Option<&Group> {
        self.group.find(|g| g.name == name).map(|(_, g)| g)
    }

    pub fn uid_of(&self, name: &str) -> Option<u32> {
        self.user(name).map(|u| u.uid)
    }

    pub fn gid_of(&self, name: &str) -> Option<u32> {
        self.find_group(name).map(|g| g.gid)
    }

    /// Append a new user; its name and uid must be unused.
    pub fn add_user(&mut self, user: User) -> Result<()> {
        user.check()
            .map_err(|msg| AccountsError::Invalid { what: "user", msg })?;
        if let Some((line, u)) = self.master.find(|u| u.name == user.name) {
            return Err(dup_user(line, "user name", &user.name, u));
        }
        self.check_uid_free(&user)?;
        let text = user.master_line();
        self.master.push(user, text);
        Ok(())
    }

    /// Replace the entry of an existing user (same name), in place; a
    /// changed uid must not belong to another user.
    pub fn update_user(&mut self, user: User) -> Result<()> {
        user.check()
            .map_err(|msg| AccountsError::Invalid { what: "user", msg })?;
        let (line, old_uid) = match self.master.find(|u| u.name == user.name) {
            Some((line, old)) => (line, old.uid),
            None => return Err(AccountsError::NoSuchUser(user.name)),
        };
        if user.uid != old_uid {
            self.check_uid_free(&user)?;
        }
        let text = user.master_line();
        self.master.replace(line, user, text);
        Ok(())
    }

    fn check_uid_free(&self, user: &User) -> Result<()> {
        match self
            .master
            .find(|u| u.uid == user.uid && u.name != user.name)
        {
            Some((line, u)) => Err(dup_user(line, "uid", &user.uid.to_string(), u)),
            None => Ok(()),
        }
    }

    /// Append a new group; its name and gid must be unused.
    pub fn add_group(&mut self, group: Group) -> Result<()> {
        group
            .check()
            .map_err(|msg| AccountsError::Invalid { what: "group", msg })?;
        if let Some((line, g)) = self.group.find(|g| g.name == group.name) {
            return Err(dup_group(line, "group name", &group.name, g));
        }
        if let Some((line, g)) = self.group.find(|g| g.gid == group.gid) {
            return Err(dup_group(line, "gid", &group.gid.to_string(), g));
        }
        let text = group.line();
        self.group.push(group, text);
        Ok(())
    }

    /// Add `user` (who must exist) to `group`'s member list; nothing changes
    /// if it is already a member.
    pub fn add_member(&mut self, group: &str, user: &str) -> Result<()> {
        if self.user(user).is_none() {
            return Err(AccountsError::NoSuchUser(user.into()));
        }
        let (line, g) = self
            .group
            .find(|g| g.name == group)
            .ok_or_else(|| AccountsError::NoSuchGroup(group.into()))?;
        if g.members.iter().any(|m| m == user) {
            return Ok(());
        }
        let mut g = g.clone();
        g.members.push(user.into());
        let text = g.line();
        self.group.replace(line, g, text);
        Ok(())
    }

    /// The edited `master.passwd`.
    pub fn master_passwd(&self) -> String {
        self.master.render()
    }

    /// `passwd` as `pwd_mkdb -p` derives it: one public line per entry,
    /// comment and blank lines copied.
    pub fn passwd(&self) -> String {
        let mut out = String::new();
        for (i, l) in self.master.lines.iter().enumerate() {
            match l {
                Line::Other(t) => out.push_str(t),
                Line::Entry { value, .. } => out.push_str(&value.passwd_line()),
            }
            if i + 1 < self.master.lines.len() || self.master.final_newline {
                out.push('\n');
            }
        }
        out
    }

    /// The edited `group`.
    pub fn group(&self) -> String {
        self.group.render()
    }
}

fn dup_user(line: usize, what: &'static str, value: &str, owner: &User) -> AccountsError {
    AccountsError::Duplicate {
        file: MASTER_PASSWD_NAME,
        line,
        what,
        value: value.into(),
        owner: owner.name.clone(),
    }
}

fn dup_group(line: usize, what: &'static str, value: &str, owner: &Group) -> AccountsError {
    AccountsError::Duplicate {
        file: GROUP_NAME,
        line,
        what,
        value: value.into(),
        owner: owner.name.clone(),
    }
}
