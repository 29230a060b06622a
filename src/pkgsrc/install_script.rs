//! The machine-readable data lines of a pkgsrc `+INSTALL` script
//! (`mk/pkginstall/`: `# USER:`, `# GROUP:`, `# DIR:`, `# FILE:`,
//! `# PERMS:`, `# SHELL:`) and the parts of the script that cannot be
//! replayed natively (a package's own shell, or helpers such as
//! `+FONTS` that need target binaries).

/// Home directory for a `# USER:` line that names none (`PKG_USER_HOME`
/// in pkgsrc's `mk/defaults/mk.conf`).
pub const DEFAULT_USER_HOME: &str = "/nonexistent";
/// Login shell for a `# USER:` line that names none (`PKG_USER_SHELL`).
pub const DEFAULT_USER_SHELL: &str = "/sbin/nologin";

/// A user or group a package needs (`# USER:` / `# GROUP:`), to be added
/// to the image's accounts before the package's files are owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRequest {
    /// `# USER: user:group[:[uid][:[descr][:[home][:shell]]]]`; empty
    /// `home`/`shell` mean [`DEFAULT_USER_HOME`]/[`DEFAULT_USER_SHELL`], a
    /// missing uid means "next free", like `useradd` in `usergroupfuncs`.
    User {
        name: String,
        group: String,
        uid: Option<u32>,
        descr: String,
        home: String,
        shell: String,
    },
    /// `# GROUP: group[:gid]`
    Group { name: String, gid: Option<u32> },
}

/// `# DIR: path flags [mode [user [group]]]` (flags: `m` make, `o` owned,
/// `f` ignore PKG_CONFIG). Note the order: mode first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirLine {
    pub path: String,
    pub flags: String,
    pub mode: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// `# FILE: path flags example [mode [user [group]]]` (flags: `c` copy,
/// `f` ignore PKG_CONFIG, `r` rc.d script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLine {
    pub path: String,
    pub flags: String,
    pub example: String,
    pub mode: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// `# PERMS: path [mode [user [group]]]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermsLine {
    pub path: String,
    pub mode: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// `# INFO: file [infodir]`: an info file to register in the `dir` index
/// of `infodir` (default: the file's directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoLine {
    pub file: String,
    pub infodir: Option<String>,
}

/// A part of `+INSTALL` that mkimage cannot carry out at build time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredPart {
    /// The template it came from (`$NetBSD: <name>,v` line), or `INSTALL`.
    pub template: String,
    /// `PRE-INSTALL`, `POST-INSTALL`, or `UNPACK` for helper scripts.
    pub stage: String,
    /// Shell run at first boot in the package's pkgdb directory; empty
    /// means "run the script header followed by `lines` with this stage".
    pub command: String,
    /// The script lines, for the build report.
    pub lines: Vec<String>,
}

/// Everything read from one `+INSTALL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallScript {
    pub accounts: Vec<AccountRequest>,
    pub dirs: Vec<DirLine>,
    pub files: Vec<FileLine>,
    pub perms: Vec<PermsLine>,
    /// `# SHELL:` paths as written (relative to the prefix unless absolute).
    pub shells: Vec<String>,
    pub infos: Vec<InfoLine>,
    /// The script's header section (variable set-up), needed to run a
    /// deferred part on its own.
    pub header: String,
    pub deferred: Vec<DeferredPart>,
}

/// Templates whose work is done natively from the data lines (or that only
/// define functions or variables).
const REPLAYED: &[&str] = &[
    "header",
    "usergroup",
    "usergroupfuncs",
    "usergroup-check",
    "files",
    "dirs",
    "perms",
    "shell",
    "install",
    "install-post",
    "footer",
    "deinstall",
    "deinstall-pre",
    // ldconfig: not used for ELF on NetBSD.
    "shlibs",
    // The `dir` index is written natively from the `# INFO:` lines.
    "info-files",
];

/// Helper templates that need target binaries, and how to run them later.
/// The command runs in the package's pkgdb directory with `PKGNAME` and
/// `PKG_METADATA_DIR` set: it unpacks the helper from `+INSTALL` and runs it.
const HELPERS: &[(&str, &str)] = &[
    (
        "fonts",
        "sh ./+INSTALL \"$PKGNAME\" UNPACK +FONTS && ./+FONTS \"$PKG_METADATA_DIR\"",
    ),
    (
        "icon-themes",
        "sh ./+INSTALL \"$PKGNAME\" UNPACK +ICON_THEMES && ./+ICON_THEMES ADD \"$PKG_METADATA_DIR\"",
    ),
];

fn opt(field: Option<&str>) -> Option<String> {
    field.filter(|s| !s.is_empty()).map(str::to_string)
}

/// Parse one `+INSTALL` script. Malformed data lines are skipped the way
/// the shell helpers skip them (an empty name).
pub fn parse(text: &str) -> InstallScript {
    let mut s = InstallScript::default();
    let mut seen_accounts = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# USER: ") {
            let f: Vec<&str> = rest.split(':').collect();
            let (Some(name), Some(group)) = (opt(f.first().copied()), opt(f.get(1).copied()))
            else {
                continue;
            };
            let req = AccountRequest::User {
                name,
                group,
                uid: f.get(2).and_then(|u| u.parse().ok()),
                descr: f.get(3).unwrap_or(&"").to_string(),
                home: f.get(4).unwrap_or(&"").to_string(),
                shell: f.get(5).unwrap_or(&"").to_string(),
            };
            if seen_accounts.insert(format!("{req:?}")) {
                s.accounts.push(req);
            }
        } else if let Some(rest) = line.strip_prefix("# GROUP: ") {
            let f: Vec<&str> = rest.split(':').collect();
            let Some(name) = opt(f.first().copied()) else {
                continue;
            };
            let req = AccountRequest::Group {
                name,
                gid: f.get(1).and_then(|g| g.parse().ok()),
            };
            if seen_accounts.insert(format!("{req:?}")) {
                s.accounts.push(req);
            }
        } else if let Some(rest) = line.strip_prefix("# DIR: ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let Some(path) = opt(f.first().copied()) else {
                continue;
            };
            s.dirs.push(DirLine {
                path,
                flags: f.get(1).unwrap_or(&"").to_string(),
                mode: opt(f.get(2).copied()),
                user: opt(f.get(3).copied()),
                group: opt(f.get(4).copied()),
            });
        } else if let Some(rest) = line.strip_prefix("# FILE: ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let (Some(path), Some(example)) = (opt(f.first().copied()), opt(f.get(2).copied()))
            else {
                continue;
            };
            s.files.push(FileLine {
                path,
                flags: f.get(1).unwrap_or(&"").to_string(),
                example,
                mode: opt(f.get(3).copied()),
                user: opt(f.get(4).copied()),
                group: opt(f.get(5).copied()),
            });
        } else if let Some(rest) = line.strip_prefix("# PERMS: ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let Some(path) = opt(f.first().copied()) else {
                continue;
            };
            s.perms.push(PermsLine {
                path,
                mode: opt(f.get(1).copied()),
                user: opt(f.get(2).copied()),
                group: opt(f.get(3).copied()),
            });
        } else if let Some(rest) = line.strip_prefix("# INFO: ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let Some(file) = opt(f.first().copied()) else {
                continue;
            };
            let info = InfoLine {
                file,
                infodir: opt(f.get(1).copied()),
            };
            if !s.infos.contains(&info) {
                s.infos.push(info);
            }
        } else if let Some(rest) = line.strip_prefix("# SHELL: ") {
            let sh = rest.trim();
            if !sh.is_empty() && !s.shells.iter().any(|x| x == sh) {
                s.shells.push(sh.to_string());
            }
        }
    }
    split_sections(text, &mut s);
    s
}

/// The template name of a `# $NetBSD: name,v ...` line.
fn template_of(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("# $NetBSD: ")?;
    let name = rest.split(",v").next()?;
    Some(name.trim())
}

fn is_replayed(name: &str) -> bool {
    REPLAYED.contains(&name) || name.starts_with("usergroupfuncs")
}

/// Lines that do nothing: blank, comments, the shebang.
fn is_inert(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn split_sections(text: &str, s: &mut InstallScript) {
    // (template, lines); text before the first marker belongs to the header.
    let mut sections: Vec<(String, Vec<&str>)> = vec![("header".to_string(), Vec::new())];
    for line in text.lines() {
        if let Some(name) = template_of(line) {
            // The header template's own marker comes after the shebang.
            let first = sections.len() == 1 && sections[0].1.iter().all(|l| is_inert(l));
            if first && name == "header" {
                sections[0].1.push(line);
                continue;
            }
            sections.push((name.to_string(), vec![line]));
        } else if let Some(last) = sections.last_mut() {
            last.1.push(line);
        }
    }
    for (name, lines) in sections {
        if name == "header" {
            s.header = lines.join("\n");
            continue;
        }
        if is_replayed(&name) || lines.iter().all(|l| is_inert(l)) {
            continue;
        }
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if let Some((_, cmd)) = HELPERS.iter().find(|(h, _)| *h == name) {
            s.deferred.push(DeferredPart {
                template: name.clone(),
                stage: "POST-INSTALL".to_string(),
                command: cmd.to_string(),
                lines,
            });
            continue;
        }
        let has = |stage: &str| lines.iter().any(|l| l.contains(&format!("{stage})")));
        let stage = if has("PRE-INSTALL") && !has("POST-INSTALL") {
            "PRE-INSTALL"
        } else {
            "POST-INSTALL"
        };
        s.deferred.push(DeferredPart {
            template: name,
            stage: stage.to_string(),
            command: String::new(),
            lines,
        });
    }
}
