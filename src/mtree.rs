//! mtree(5) specifications: parsing the "full path" form that `mtree -C`
//! writes (one line per object, `./path keyword=value ...`), with `/set`
//! and `/unset` defaults, `#` comments, `\` line continuations and vis(3)
//! escapes in names. Used to check an image against the specs its release
//! sets install (e.g. `etc/mtree/set.base`).

use std::collections::BTreeMap;

/// One object of a spec: its normalised path (no leading `./`, root = "")
/// and its keywords (defaults from `/set` already applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecEntry {
    pub path: String,
    pub keywords: BTreeMap<String, String>,
    /// Line of the spec the entry came from (1-based).
    pub line: usize,
}

impl SpecEntry {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keywords.get(key).map(String::as_str)
    }
}

/// A malformed spec line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct SpecError {
    pub line: usize,
    pub what: String,
}

/// Parse a full-path spec. Relative ("tree") specs, whose entries are
/// names without `/` nested by `..` lines, are refused with an error.
pub fn parse(text: &str) -> Result<Vec<SpecEntry>, SpecError> {
    let mut defaults: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut pending_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        if pending.is_empty() {
            pending_line = lineno;
        }
        if let Some(stripped) = raw.strip_suffix('\\') {
            pending.push_str(stripped);
            pending.push(' ');
            continue;
        }
        pending.push_str(raw);
        let line = std::mem::take(&mut pending);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_ascii_whitespace();
        let Some(first) = words.next() else { continue };
        match first {
            "/set" => {
                for w in words {
                    let (k, v) = keyword(w, pending_line)?;
                    defaults.insert(k, v);
                }
            }
            "/unset" => {
                for w in words {
                    if w == "all" {
                        defaults.clear();
                    } else {
                        defaults.remove(w);
                    }
                }
            }
            ".." => {
                return Err(SpecError {
                    line: pending_line,
                    what: "a relative (tree) spec; only full-path specs (mtree -C) are read".into(),
                });
            }
            name => {
                let name = unvis(name).ok_or_else(|| SpecError {
                    line: pending_line,
                    what: format!("bad escape in name `{name}`"),
                })?;
                let path = normalise(&name).ok_or_else(|| SpecError {
                    line: pending_line,
                    what: format!("`{name}` is not a path below `.`"),
                })?;
                let mut keywords = defaults.clone();
                for w in words {
                    let (k, v) = keyword(w, pending_line)?;
                    keywords.insert(k, v);
                }
                out.push(SpecEntry {
                    path,
                    keywords,
                    line: pending_line,
                });
            }
        }
    }
    Ok(out)
}

fn keyword(word: &str, line: usize) -> Result<(String, String), SpecError> {
    match word.split_once('=') {
        Some((k, v)) if !k.is_empty() => {
            let v = if k == "link" {
                unvis(v).ok_or_else(|| SpecError {
                    line,
                    what: format!("bad escape in link target `{v}`"),
                })?
            } else {
                v.to_string()
            };
            Ok((k.to_string(), v))
        }
        // Keywords without a value (e.g. `optional`, `ignore`, `nochange`).
        None if !word.is_empty() => Ok((word.to_string(), String::new())),
        _ => Err(SpecError {
            line,
            what: format!("malformed keyword `{word}`"),
        }),
    }
}

/// `.` → "", `./a/b` → "a/b"; anything else (absolute, `..`) → None.
fn normalise(name: &str) -> Option<String> {
    if name == "." {
        return Some(String::new());
    }
    let rest = name.strip_prefix("./")?;
    let mut parts = Vec::new();
    for c in rest.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Decode vis(3) escapes as mtree writes them: `\ooo` octal, `\\`,
/// `\s` (space), `\t`, `\n`, `\r`, `\b`, `\a`, `\v`, `\f`, `\E`, `\0`,
/// `\M-c`, `\M^c`, `\^c`, `\$`, `\#`.
pub fn unvis(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = *b.get(i)?;
        match c {
            b'0'..=b'7' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + u32::from(b[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push(u8::try_from(v).ok()?);
                continue;
            }
            b'\\' => out.push(b'\\'),
            b's' => out.push(b' '),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'a' => out.push(7),
            b'v' => out.push(11),
            b'f' => out.push(12),
            b'E' => out.push(27),
            b'$' | b'#' | b'*' | b'?' | b'[' | b' ' => out.push(c),
            b'^' => {
                let d = *b.get(i + 1)?;
                out.push(if d == b'?' { 127 } else { d & 0x1f });
                i += 1;
            }
            b'M' => {
                let kind = *b.get(i + 1)?;
                let d = *b.get(i + 2)?;
                match kind {
                    b'-' => out.push(d | 0x80),
                    b'^' => out.push(if d == b'?' { 0xff } else { (d & 0x1f) | 0x80 }),
                    _ => return None,
                }
                i += 2;
            }
            _ => return None,
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Parse an octal mode keyword (`mode=0555`).
pub fn parse_mode(v: &str) -> Option<u16> {
    u16::from_str_radix(v, 8).ok().filter(|m| *m <= 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_path_spec_with_defaults_continuations_and_escapes() {
        let spec = "#\t   fullpath\n\
/set uname=root gname=wheel\n\
. type=dir mode=0755\n\
./bin type=dir mode=0755\n\
./bin/cat type=file mode=0555 size=123 \\\n    sha256=ab\n\
./usr/share/a\\040b type=link link=x\\040y\n\
/unset gname\n\
./tmp type=dir mode=01777 optional\n";
        let e = parse(spec).unwrap();
        assert_eq!(e.len(), 5);
        assert_eq!(e[0].path, "");
        assert_eq!(e[2].path, "bin/cat");
        assert_eq!(e[2].get("sha256"), Some("ab"));
        assert_eq!(e[2].get("uname"), Some("root"));
        assert_eq!(e[2].line, 5);
        assert_eq!(e[3].path, "usr/share/a b");
        assert_eq!(e[3].get("link"), Some("x y"));
        assert_eq!(e[4].get("gname"), None);
        assert_eq!(e[4].get("optional"), Some(""));
        assert_eq!(parse_mode("01777"), Some(0o1777));
    }

    #[test]
    fn tree_specs_and_escapes_out_of_the_root_are_refused() {
        assert!(parse("bin type=dir\n..\n").is_err());
        assert_eq!(parse("./a/../../b type=file\n").unwrap_err().line, 1);
        assert!(parse("/abs type=file\n").is_err());
        assert!(unvis("bad\\").is_none());
        assert_eq!(unvis("\\M-a").map(|s| s.into_bytes()), None); // not UTF-8
        assert_eq!(unvis("a\\sb\\\\c").as_deref(), Some("a b\\c"));
    }
}
