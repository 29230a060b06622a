//! Directory blocks (sys/ufs/ufs/dir.h): `struct direct` entries packed
//! into 512-byte chunks (`DIRBLKSIZ`); an entry never crosses a chunk and
//! the last one of a chunk absorbs its slack.

use super::bytes::*;

/// `DIRBLKSIZ`.
pub const DIRBLKSIZ: usize = 512;
/// `UFS_MAXNAMLEN`.
pub const MAXNAMLEN: usize = 255;

/// `DT_*` values.
pub const DT_DIR: u8 = 4;

/// `DIRSIZ` for a name of `namlen` bytes.
pub fn dirsiz(namlen: usize) -> usize {
    8 + ((namlen + 1 + 3) & !3)
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u32,
    pub dtype: u8,
    pub name: Vec<u8>,
}

/// Packs entries into directory chunks.
pub struct DirPacker {
    pub data: Vec<u8>,
    /// Offset of the last entry in the current chunk.
    last: usize,
    used: usize,
}

impl Default for DirPacker {
    fn default() -> Self {
        Self::new()
    }
}

impl DirPacker {
    pub fn new() -> DirPacker {
        DirPacker {
            data: Vec::new(),
            last: 0,
            used: DIRBLKSIZ,
        }
    }

    pub fn push(&mut self, ino: u32, dtype: u8, name: &[u8]) {
        let need = dirsiz(name.len());
        if self.used + need > DIRBLKSIZ {
            self.close_chunk();
            self.data.resize(self.data.len() + DIRBLKSIZ, 0);
            self.used = 0;
        }
        let chunk = self.data.len() - DIRBLKSIZ;
        let off = chunk + self.used;
        put_u32(&mut self.data, off, ino);
        put_u16(&mut self.data, off + 4, need as u16);
        self.data[off + 6] = dtype;
        self.data[off + 7] = name.len() as u8;
        self.data[off + 8..off + 8 + name.len()].copy_from_slice(name);
        self.last = off;
        self.used += need;
    }

    fn close_chunk(&mut self) {
        if self.data.is_empty() {
            return;
        }
        let chunk_end = self.data.len();
        let reclen = chunk_end - self.last;
        put_u16(&mut self.data, self.last + 4, reclen as u16);
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.close_chunk();
        self.data
    }
}

/// A problem in a directory chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirProblem {
    pub offset: usize,
    pub what: String,
}

/// Parse directory data; entries with `ino == 0` are skipped. Returns the
/// entries and the problems found (parsing of a chunk stops at its first
/// problem).
pub fn parse(data: &[u8]) -> (Vec<DirEntry>, Vec<DirProblem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (ci, chunk) in data.chunks(DIRBLKSIZ).enumerate() {
        let base = ci * DIRBLKSIZ;
        if chunk.len() != DIRBLKSIZ {
            problems.push(DirProblem {
                offset: base,
                what: "directory size is not a multiple of 512".into(),
            });
            break;
        }
        let mut off = 0;
        while off < DIRBLKSIZ {
            let ino = get_u32(chunk, off);
            let reclen = get_u16(chunk, off + 4) as usize;
            let dtype = chunk.get(off + 6).copied().unwrap_or(0);
            let namlen = chunk.get(off + 7).copied().unwrap_or(0) as usize;
            let bad = |what: &str| DirProblem {
                offset: base + off,
                what: what.to_string(),
            };
            if reclen < 8 || !reclen.is_multiple_of(4) || off + reclen > DIRBLKSIZ {
                problems.push(bad(&format!("bad record length {reclen}")));
                break;
            }
            if ino != 0 {
                if dirsiz(namlen) > reclen {
                    problems.push(bad(&format!(
                        "name length {namlen} does not fit record length {reclen}"
                    )));
                    break;
                }
                let name = &chunk[off + 8..off + 8 + namlen];
                if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
                    problems.push(bad("bad name"));
                    break;
                }
                if chunk.get(off + 8 + namlen).copied() != Some(0) {
                    problems.push(bad("name is not NUL-terminated"));
                    break;
                }
                out.push(DirEntry {
                    ino,
                    dtype,
                    name: name.to_vec(),
                });
            }
            off += reclen;
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_never_cross_a_512_byte_chunk_and_the_last_absorbs_the_slack() {
        let mut p = DirPacker::new();
        p.push(2, DT_DIR, b".");
        p.push(2, DT_DIR, b"..");
        let names: Vec<Vec<u8>> = (0..100)
            .map(|i| format!("name-{i:03}-{}", "x".repeat(i % 40)).into_bytes())
            .collect();
        for (i, n) in names.iter().enumerate() {
            p.push(10 + i as u32, 8, n);
        }
        let data = p.finish();
        assert_eq!(data.len() % DIRBLKSIZ, 0);
        let (entries, problems) = parse(&data);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries.len(), 102);
        assert_eq!(entries[2].name, names[0]);
        // Walking each chunk by record length lands exactly on its end.
        for chunk in data.chunks(DIRBLKSIZ) {
            let mut off = 0;
            while off < DIRBLKSIZ {
                off += get_u16(chunk, off + 4) as usize;
            }
            assert_eq!(off, DIRBLKSIZ);
        }
        assert_eq!(dirsiz(255), 8 + 256);
        assert_eq!(dirsiz(1), 12);
    }
}
