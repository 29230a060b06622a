//! One set's contents before it is archived: a tree of directories, files,
//! symlinks and hard links with modes and owners, and the order NetBSD's
//! build writes them in (`mtree -C -S` order, which `pax -M` follows):
//! `.` first, then in every directory its non-directories sorted by name,
//! then its subdirectories sorted by name, each followed by its contents.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Result, bail};

use super::accounts::{Owner, root};
use super::content::ContentKind;

/// Where a regular file's bytes come from.
#[derive(Debug, Clone)]
pub enum Data {
    /// Fixed bytes (configuration files, boot stand-ins).
    Bytes(Arc<Vec<u8>>),
    /// Generated on demand from a seed (bulk content; see `content`).
    Generated {
        kind: ContentKind,
        size: u64,
        seed: [u8; 32],
    },
}

impl Data {
    pub fn size(&self) -> u64 {
        match self {
            Data::Bytes(b) => b.len() as u64,
            Data::Generated { size, .. } => *size,
        }
    }
}

/// What a node is.
#[derive(Debug, Clone)]
pub enum NodeKind {
    Dir,
    File(Data),
    Symlink(String),
    /// Another name for the file at this (normalised) path.
    HardLink(String),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub mode: u16,
    pub owner: Owner,
}

/// A set under construction, keyed by normalised path (`bin/sh`; the root
/// is `""`).
#[derive(Debug, Clone)]
pub struct SetTree {
    nodes: BTreeMap<String, Node>,
}

impl Default for SetTree {
    fn default() -> Self {
        Self::new()
    }
}

impl SetTree {
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            String::new(),
            Node {
                kind: NodeKind::Dir,
                mode: 0o755,
                owner: root(),
            },
        );
        SetTree { nodes }
    }

    /// Add (or replace the mode/owner of) a directory.
    pub fn dir(&mut self, path: &str, mode: u16, owner: Owner) -> Result<()> {
        self.parents(path)?;
        if let Some(n) = self.nodes.get(path)
            && !matches!(n.kind, NodeKind::Dir)
        {
            bail!("{path} is already a non-directory");
        }
        self.nodes.insert(
            path.to_string(),
            Node {
                kind: NodeKind::Dir,
                mode,
                owner,
            },
        );
        Ok(())
    }

    pub fn file(&mut self, path: &str, mode: u16, owner: Owner, data: Data) -> Result<()> {
        self.leaf(
            path,
            Node {
                kind: NodeKind::File(data),
                mode,
                owner,
            },
        )
    }

    pub fn bytes(&mut self, path: &str, mode: u16, data: impl Into<Vec<u8>>) -> Result<()> {
        self.file(path, mode, root(), Data::Bytes(Arc::new(data.into())))
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> Result<()> {
        self.leaf(
            path,
            Node {
                kind: NodeKind::Symlink(target.to_string()),
                mode: 0o755,
                owner: root(),
            },
        )
    }

    /// `path` becomes another name of the regular file `target`.
    pub fn hardlink(&mut self, path: &str, target: &str) -> Result<()> {
        let Some(t) = self.nodes.get(target) else {
            bail!("hard link {path}: no {target}")
        };
        let NodeKind::File(_) = t.kind else {
            bail!("hard link {path}: {target} is not a file")
        };
        let node = Node {
            kind: NodeKind::HardLink(target.to_string()),
            mode: t.mode,
            owner: t.owner.clone(),
        };
        self.leaf(path, node)
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    fn leaf(&mut self, path: &str, node: Node) -> Result<()> {
        if path.is_empty() || path.starts_with('/') || path.ends_with('/') || path.contains("//") {
            bail!("bad set path {path:?}");
        }
        self.parents(path)?;
        if self.nodes.contains_key(path) {
            bail!("{path} added twice");
        }
        self.nodes.insert(path.to_string(), node);
        Ok(())
    }

    fn parents(&mut self, path: &str) -> Result<()> {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            let dir = &path[..end + i];
            match self.nodes.get(dir) {
                Some(Node {
                    kind: NodeKind::Dir,
                    ..
                }) => {}
                Some(_) => bail!("{dir} is not a directory (adding {path})"),
                None => {
                    self.nodes.insert(
                        dir.to_string(),
                        Node {
                            kind: NodeKind::Dir,
                            mode: 0o755,
                            owner: root(),
                        },
                    );
                }
            }
            end += i + 1;
        }
        Ok(())
    }

    /// Paths in archive order (see the module comment).
    pub fn ordered(&self) -> Vec<(&str, &Node)> {
        // children of each directory
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for path in self.nodes.keys() {
            if path.is_empty() {
                continue;
            }
            let parent = path.rfind('/').map_or("", |i| &path[..i]);
            children.entry(parent).or_default().push(path.as_str());
        }
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack = vec![""];
        while let Some(dir) = stack.pop() {
            if let Some(node) = self.nodes.get(dir) {
                out.push((dir, node));
            }
            let Some(kids) = children.get(dir) else {
                continue;
            };
            let name = |p: &str| p.rsplit('/').next().unwrap_or(p).as_bytes().to_vec();
            let mut files: Vec<&str> = Vec::new();
            let mut dirs: Vec<&str> = Vec::new();
            for k in kids {
                match self.nodes.get(*k).map(|n| &n.kind) {
                    Some(NodeKind::Dir) => dirs.push(k),
                    _ => files.push(k),
                }
            }
            files.sort_by_key(|p| name(p));
            dirs.sort_by_key(|p| name(p));
            for f in files {
                if let Some(node) = self.nodes.get(f) {
                    out.push((f, node));
                }
            }
            // depth first: push in reverse so the first directory comes next
            stack.extend(dirs.into_iter().rev());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_mtree_s_order_files_before_subdirectories() {
        let mut t = SetTree::new();
        t.bytes("usr/bin/b", 0o555, "b").unwrap();
        t.bytes("usr/a", 0o444, "a").unwrap();
        t.bytes("bin/[", 0o555, "[").unwrap();
        t.bytes("bin/Z", 0o555, "Z").unwrap();
        t.symlink("zlink", "usr").unwrap();
        t.bytes("netbsd", 0o444, "k").unwrap();
        let order: Vec<&str> = t.ordered().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            order,
            [
                "",
                "netbsd",
                "zlink",
                "bin",
                "bin/Z",
                "bin/[",
                "usr",
                "usr/a",
                "usr/bin",
                "usr/bin/b"
            ]
        );
    }

    #[test]
    fn refuses_duplicates_and_files_used_as_directories() {
        let mut t = SetTree::new();
        t.bytes("bin/sh", 0o555, "x").unwrap();
        assert!(t.bytes("bin/sh", 0o555, "y").is_err());
        assert!(t.bytes("bin/sh/x", 0o555, "y").is_err());
        assert!(t.dir("bin/sh", 0o755, root()).is_err());
        assert!(t.hardlink("bin/test", "bin/none").is_err());
        assert!(t.bytes("/abs", 0o444, "").is_err());
    }
}
