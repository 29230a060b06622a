//! The Info `dir` index, written natively for `# INFO:` lines the way
//! `install-info --info-dir=DIR FILE` would: each info file's
//! `INFO-DIR-SECTION` / `START-INFO-DIR-ENTRY` … `END-INFO-DIR-ENTRY`
//! entries are added to the menu of `DIR/dir`, created from texinfo's
//! template when absent.

use std::collections::BTreeMap;

/// The `dir` entries one info file declares: (section, entry lines).
pub fn dir_entries(info: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut sections: Vec<String> = Vec::new();
    let mut in_entry = false;
    let mut entry: Vec<String> = Vec::new();
    for line in info.lines() {
        if let Some(sec) = line.strip_prefix("INFO-DIR-SECTION ") {
            if !in_entry {
                sections.push(sec.trim().to_string());
            }
        } else if line.starts_with("START-INFO-DIR-ENTRY") {
            in_entry = true;
            entry.clear();
        } else if line.starts_with("END-INFO-DIR-ENTRY") {
            if in_entry && !entry.is_empty() {
                let secs = if sections.is_empty() {
                    vec!["Miscellaneous".to_string()]
                } else {
                    std::mem::take(&mut sections)
                };
                for s in secs {
                    out.push((s, entry.clone()));
                }
            }
            in_entry = false;
        } else if in_entry {
            entry.push(line.to_string());
        }
    }
    out
}

/// One menu section: its title and its entries (sort key → lines).
type Section = (String, BTreeMap<String, Vec<String>>);

/// The `dir` files being built, keyed by absolute info directory.
#[derive(Debug, Default, Clone)]
pub struct InfoDirs {
    /// infodir → sections in first-seen order.
    dirs: BTreeMap<String, Vec<Section>>,
}

impl InfoDirs {
    /// Register an info file's entries in `infodir`.
    pub fn add(&mut self, infodir: &str, info_text: &str) {
        let sections = self.dirs.entry(infodir.to_string()).or_default();
        for (sec, lines) in dir_entries(info_text) {
            let key = lines
                .first()
                .map(|l| l.trim_start_matches("* ").to_lowercase())
                .unwrap_or_default();
            let idx = match sections.iter().position(|(s, _)| *s == sec) {
                Some(i) => i,
                None => {
                    sections.push((sec, BTreeMap::new()));
                    sections.len() - 1
                }
            };
            sections[idx].1.insert(key, lines);
        }
    }

    /// Each `(infodir, dir file text)`.
    pub fn render(&self) -> Vec<(String, String)> {
        self.dirs
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(dir, sections)| {
                let mut t = String::from(
                    "This is the file .../info/dir, which contains the\n\
                     topmost node of the Info hierarchy, called (dir)Top.\n\
                     The first time you invoke Info you start off looking at this node.\n\
                     \x1f\n\
                     File: dir,\tNode: Top\tThis is the top of the INFO tree\n\n\
                     \x20 This (the Directory node) gives a menu of major topics.\n\
                     \x20 Typing \"q\" exits, \"H\" lists all Info commands, \"d\" returns here,\n\
                     \x20 \"h\" gives a primer for first-timers,\n\
                     \x20 \"mEmacs<Return>\" visits the Emacs manual, etc.\n\n\
                     \x20 In Emacs, you can click mouse button 2 on a menu item or cross reference\n\
                     \x20 to select it.\n\n\
                     * Menu:\n",
                );
                for (sec, entries) in sections {
                    t.push('\n');
                    t.push_str(sec);
                    t.push('\n');
                    for lines in entries.values() {
                        for l in lines {
                            t.push_str(l);
                            t.push('\n');
                        }
                    }
                }
                (dir.clone(), t)
            })
            .collect()
    }
}
