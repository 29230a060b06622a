//! `./etc/mtree/set.<name>`: the mtree specification every NetBSD set
//! installs about itself. NetBSD's `distrib/sets/maketars` writes it with
//! `mtree -C -S -k all -R time,md5,sha1,sha384,sha512,rmd160,cksum` from
//! the build's metalog, so each line is a full path followed by
//! `type= uname= gname= mode= link= size= sha256=` in that order
//! (`usr.sbin/mtree/spec.c`, `dump_nodes`); paths are encoded with
//! `strsvis(VIS_OCTAL)` plus the glob characters. The line for the
//! specification file itself carries no size or digest (it cannot).

use crate::entry::EntryKind;

use super::SetMember;

/// Encode a path or link target the way mtree prints it: every byte
/// outside printable ASCII, and space, tab, newline, `\`, `#`, `*`, `?`,
/// `[`, as a backslash and three octal digits.
pub fn vis(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if (0x21..0x7f).contains(&b) && !b" \t\n\\#*?[".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

/// The path as it appears in the archive and the spec: `.` for the root,
/// `./bin/sh` for `bin/sh`.
pub fn dot_path(path: &str) -> String {
    if path.is_empty() {
        ".".to_string()
    } else {
        format!("./{path}")
    }
}

/// Render the specification of `members` (already in archive order);
/// `self_path` is the normalised path of the specification file.
pub fn render(members: &[SetMember], self_path: &str) -> String {
    let mut out = String::new();
    for m in members {
        out.push_str(&vis(&dot_path(&m.path)));
        let ty = match m.kind {
            EntryKind::Dir => "dir",
            EntryKind::Symlink(_) => "link",
            _ => "file",
        };
        out.push_str(&format!(
            " type={ty} uname={} gname={} mode=0{:o}",
            m.uname, m.gname, m.mode
        ));
        if let EntryKind::Symlink(target) = &m.kind {
            out.push_str(&format!(" link={}", vis(target)));
        }
        if m.path != self_path
            && let Some(sha) = &m.sha256
        {
            out.push_str(&format!(" size={} sha256={sha}", m.size));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vis_encodes_glob_characters_spaces_and_non_ascii_as_octal() {
        assert_eq!(vis("./bin/["), "./bin/\\133");
        assert_eq!(vis("a b#c*?"), "a\\040b\\043c\\052\\077");
        assert_eq!(vis("é"), "\\303\\251");
        assert_eq!(vis("./usr/bin/c++"), "./usr/bin/c++");
    }

    #[test]
    fn spec_line_has_keywords_in_mtree_order_and_none_for_itself() {
        let m = |path: &str, kind, sha: Option<&str>| SetMember {
            path: path.into(),
            kind,
            mode: 0o4555,
            uname: "root".into(),
            gname: "wheel".into(),
            uid: 0,
            gid: 0,
            size: 3,
            sha256: sha.map(String::from),
        };
        let text = render(
            &[
                m("usr/bin/su", EntryKind::File, Some("ab")),
                m("lib/l", EntryKind::Symlink("t x".into()), None),
                m("etc/mtree/set.base", EntryKind::File, Some("cd")),
            ],
            "etc/mtree/set.base",
        );
        assert_eq!(
            text,
            "./usr/bin/su type=file uname=root gname=wheel mode=04555 size=3 sha256=ab\n\
             ./lib/l type=link uname=root gname=wheel mode=04555 link=t\\040x\n\
             ./etc/mtree/set.base type=file uname=root gname=wheel mode=04555\n"
        );
    }
}
