//! Deterministic file contents for the synthetic mirror: text (manual
//! pages, configuration), code (headers, sources) and binary (programs,
//! libraries), each pseudo-random from a seed but built from a small
//! vocabulary so that xz compresses it about as well as a real set
//! (roughly 3–4×), not trivially and not at all.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// What a generated file looks like inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// Prose-like lines of words (manual pages, documentation).
    Text,
    /// C-like lines: identifiers, keywords, punctuation, numbers.
    Code,
    /// Machine-code-like bytes: a skewed byte alphabet, embedded strings,
    /// zero padding and some incompressible runs.
    Binary,
}

/// A 32-byte seed for one file, derived from the mirror seed, the set and
/// the path so that adding a file never changes another file's bytes.
pub fn file_seed(mirror_seed: u64, set: &str, path: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"mkimage-testkit-file\0");
    h.update(mirror_seed.to_le_bytes());
    h.update(set.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    let digest = h.finalize();
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&digest);
    seed
}

/// The word list every generated file draws from; one per mirror seed so
/// that different seeds give different content everywhere.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    words: Vec<Vec<u8>>,
}

const KEYWORDS: &[&str] = &[
    "int", "char", "void", "struct", "return", "if", "else", "for", "while", "static", "const",
    "unsigned", "size_t", "uint32_t", "NULL", "sizeof", "break", "case", "switch", "the", "of",
    "and", "to", "a", "in", "is", "file", "system", "NetBSD", "option",
];

const SYLLABLES: &[&str] = &[
    "ba", "ce", "di", "fo", "gu", "ha", "ke", "li", "mo", "nu", "pa", "re", "si", "to", "vu", "xa",
    "ze", "str", "ctl", "buf", "dev", "proc", "vnode", "mount", "sock", "addr", "len", "err",
    "init", "free", "alloc", "lock", "cfg", "io", "net", "fs", "_", "_",
];

impl Vocabulary {
    /// 2048 words: C keywords and English glue words first (the most
    /// frequent), then identifiers made of syllables.
    pub fn new(mirror_seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(mirror_seed ^ 0x766f_6361_6275_6c61);
        let mut words: Vec<Vec<u8>> = KEYWORDS.iter().map(|w| w.as_bytes().to_vec()).collect();
        while words.len() < 2048 {
            let n = 1 + (rng.next_u32() % 4) as usize;
            let mut w = Vec::new();
            for _ in 0..n {
                let s = SYLLABLES[(rng.next_u32() as usize) % SYLLABLES.len()];
                w.extend_from_slice(s.as_bytes());
            }
            words.push(w);
        }
        Vocabulary { words }
    }

    /// A word, skewed towards the front of the list (roughly Zipf-like).
    pub fn word(&self, r: u32) -> &[u8] {
        let a = (r & 0xffff) as usize;
        let b = (r >> 16) as usize;
        let i = (a * b) >> 21; // product of two uniforms: small indices dominate
        &self.words[i % self.words.len()]
    }
}

/// Fill `out` with exactly `size` bytes of `kind` content from `seed`.
pub fn generate(
    vocab: &Vocabulary,
    kind: ContentKind,
    size: usize,
    seed: [u8; 32],
    out: &mut Vec<u8>,
) {
    out.clear();
    out.reserve(size);
    let mut rng = ChaCha8Rng::from_seed(seed);
    match kind {
        ContentKind::Text => text(vocab, size, &mut rng, out),
        ContentKind::Code => code(vocab, size, &mut rng, out),
        ContentKind::Binary => binary(vocab, size, &mut rng, out),
    }
    out.truncate(size);
}

fn text(vocab: &Vocabulary, size: usize, rng: &mut ChaCha8Rng, out: &mut Vec<u8>) {
    let mut col = 0usize;
    while out.len() < size {
        let r = rng.next_u32();
        let w = vocab.word(r);
        out.extend_from_slice(w);
        col += w.len() + 1;
        let p = rng.next_u32() % 64;
        if p == 0 {
            out.extend_from_slice(b".\n.Pp\n");
            col = 0;
        } else if p < 3 {
            out.push(b',');
            out.push(b' ');
        } else if p == 3 {
            // a number: digits carry more entropy than words
            let n = rng.next_u32() % 100_000;
            out.extend_from_slice(format!(" {n} ").as_bytes());
        } else if col > 66 {
            out.push(b'\n');
            col = 0;
        } else {
            out.push(b' ');
        }
    }
}

const PUNCT: &[&[u8]] = &[
    b"(", b")", b";\n", b", ", b" = ", b"->", b".", b" {\n", b"}\n", b"[", b"]", b" * ", b" + ",
    b" == ", b"\t", b"\t\t", b" ", b" ", b" ", b"\n",
];

fn code(vocab: &Vocabulary, size: usize, rng: &mut ChaCha8Rng, out: &mut Vec<u8>) {
    while out.len() < size {
        let r = rng.next_u32();
        if r & 0xf == 0 && out.len() > 64 {
            // a repeated fragment (idioms, copied lines): 10..73 bytes from
            // up to 16 KiB back
            let len = 10 + ((r >> 4) & 0x3f) as usize;
            let back = 1 + ((r >> 10) as usize % out.len().min(16 << 10));
            let from = out.len() - back;
            for k in 0..len.min(back) {
                out.push(out[from + k]);
            }
        }
        out.extend_from_slice(vocab.word(r));
        let p = rng.next_u32();
        out.extend_from_slice(PUNCT[(p as usize) % PUNCT.len()]);
        if (p >> 24) < 6 {
            out.extend_from_slice(format!("0x{:x}", rng.next_u32() & 0xfffff).as_bytes());
            out.extend_from_slice(b", ");
        }
    }
}

fn binary(vocab: &Vocabulary, size: usize, rng: &mut ChaCha8Rng, out: &mut Vec<u8>) {
    // A per-file "instruction set": 512 short byte sequences; code is a
    // skewed choice among them with the odd random immediate.
    let mut table: Vec<Vec<u8>> = Vec::with_capacity(512);
    for _ in 0..512 {
        let r = rng.next_u32();
        let mut insn = vec![0u8; 2 + (r % 7) as usize];
        rng.fill_bytes(&mut insn);
        table.push(insn);
    }
    while out.len() < size {
        let r = rng.next_u32();
        let len = 64 + (r >> 20) as usize; // 64..4159 bytes per segment
        match r % 16 {
            // machine code
            0..=10 => {
                let end = out.len() + len;
                while out.len() < end {
                    let x = rng.next_u32();
                    if x & 0xf == 0 && out.len() > 64 {
                        // a repeated idiom (prologue, call sequence): copy
                        // 8..71 bytes from up to 32 KiB back
                        let len = 8 + ((x >> 4) & 0x3f) as usize;
                        let back = 1 + ((x >> 9) as usize % out.len().min(32 << 10));
                        let from = out.len() - back;
                        for k in 0..len.min(back) {
                            out.push(out[from + k]);
                        }
                        continue;
                    }
                    let i = ((x & 0xffff) as usize * ((x >> 16) & 0xffff) as usize) >> 23;
                    out.extend_from_slice(&table[i % table.len()]);
                    if x & 0x7f == 0 {
                        out.extend_from_slice(&(rng.next_u32() & 0xffff).to_le_bytes());
                    }
                }
            }
            // string table
            11..=13 => {
                let end = out.len() + len;
                while out.len() < end {
                    out.extend_from_slice(vocab.word(rng.next_u32()));
                    out.push(0);
                }
            }
            // padding
            14 => out.resize(out.len() + len / 4, 0),
            // hashes, compressed data: incompressible
            _ => {
                let start = out.len();
                out.resize(start + len / 16, 0);
                rng.fill_bytes(&mut out[start..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_bytes_and_exact_size() {
        let v = Vocabulary::new(7);
        for kind in [ContentKind::Text, ContentKind::Code, ContentKind::Binary] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            generate(&v, kind, 12345, file_seed(7, "base", "bin/sh"), &mut a);
            generate(&v, kind, 12345, file_seed(7, "base", "bin/sh"), &mut b);
            assert_eq!(a.len(), 12345);
            assert_eq!(a, b);
            generate(&v, kind, 12345, file_seed(7, "base", "bin/ls"), &mut b);
            assert_ne!(a, b);
        }
    }

    /// Not a check: prints the xz ratio of each kind
    /// (`cargo test ratios -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn ratios() {
        use std::io::Write;
        let v = Vocabulary::new(3);
        for kind in [ContentKind::Text, ContentKind::Code, ContentKind::Binary] {
            let mut a = Vec::new();
            generate(&v, kind, 1 << 20, file_seed(3, "x", "y"), &mut a);
            for preset in [1, 6] {
                let t = std::time::Instant::now();
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), preset);
                e.write_all(&a).unwrap();
                let c = e.finish().unwrap();
                println!(
                    "{kind:?} preset {preset}: {:.2}x in {:?}",
                    a.len() as f64 / c.len() as f64,
                    t.elapsed()
                );
            }
        }
    }
}
